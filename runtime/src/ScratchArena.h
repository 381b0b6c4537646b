//===- ScratchArena.h - A session's scratch memory for model runs -*- C++ -*-===//
//
// A compiled model asks for its intermediate buffers at the start of a run,
// one block per slot (kiln_runtime_context::scratch). The arena hands out
// consecutive pieces of one block that lives as long as the session, so after
// the first run no memory is allocated and its pages stay mapped. A run that
// needs more than the block gets separate blocks for the rest; the next run
// then starts with one block as large as that run needed.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_SCRATCHARENA_H
#define KILN_RUNTIME_SCRATCHARENA_H

#include <cstddef>
#include <vector>

namespace kiln {

class ScratchArena {
public:
  ScratchArena() = default;
  ~ScratchArena();
  ScratchArena(const ScratchArena &) = delete;
  ScratchArena &operator=(const ScratchArena &) = delete;

  /// Takes back everything handed out since the last beginRun.
  void beginRun();
  /// At least `bytes` bytes, 64-byte aligned, disjoint from every other
  /// piece of this run; null when memory is exhausted.
  void *allocate(size_t bytes);

private:
  char *block = nullptr;
  size_t capacity = 0, used = 0;
  size_t runTotal = 0;           // all bytes asked for in this run
  std::vector<void *> overflow;  // pieces that did not fit in `block`
};

} // namespace kiln

#endif // KILN_RUNTIME_SCRATCHARENA_H
