//===- ProfileSummary.h - Where a profiled session's time went --*- C++ -*-===//
#ifndef KILN_RUNTIME_TOOLS_PROFILESUMMARY_H
#define KILN_RUNTIME_TOOLS_PROFILESUMMARY_H

#include "kiln/kiln.h"

#include <cstdio>

namespace kiln::io {

/// Prints, for a session created with options.profile, the time per op type
/// (largest first, with its share) and the `topNodes` slowest nodes, summed
/// over all runs so far and divided by `runs`.
void printProfileSummary(std::FILE *out, const kiln_model_t *model,
                         const kiln_session_t *session, unsigned runs, unsigned topNodes = 10);

} // namespace kiln::io

#endif // KILN_RUNTIME_TOOLS_PROFILESUMMARY_H
