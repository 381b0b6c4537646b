//===- fake_cuda_stream.h - Work on the fake driver's stream ----*- C++ -*-===//
#ifndef KILN_FAKE_CUDA_STREAM_H
#define KILN_FAKE_CUDA_STREAM_H

#include <functional>

namespace fake_cuda {

/// Runs `work` now, or records it into the graph being captured (the fake
/// driver has one stream's worth of ordering: everything runs in order).
void enqueueWork(std::function<void()> work);

} // namespace fake_cuda

#endif // KILN_FAKE_CUDA_STREAM_H
