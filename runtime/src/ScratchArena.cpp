//===- ScratchArena.cpp - A session's scratch memory for model runs -------===//

#include "ScratchArena.h"
#include "kiln/kiln_abi.h"

#include <cstdlib>

using namespace kiln;

namespace {
constexpr size_t kAlignment = KILN_MEMORY_ALIGNMENT;
size_t roundUp(size_t bytes) { return (bytes + kAlignment - 1) & ~(kAlignment - 1); }
} // namespace

ScratchArena::~ScratchArena() {
  for (void *piece : overflow)
    std::free(piece);
  std::free(block);
}

void ScratchArena::beginRun() {
  if (!overflow.empty()) {
    // The last run outgrew the block: one block for all of it next time.
    for (void *piece : overflow)
      std::free(piece);
    overflow.clear();
    std::free(block);
    capacity = roundUp(runTotal);
    block = static_cast<char *>(std::aligned_alloc(kAlignment, capacity));
    if (!block)
      capacity = 0;
  }
  used = 0;
  runTotal = 0;
}

void *ScratchArena::allocate(size_t bytes) {
  bytes = roundUp(bytes > 0 ? bytes : 1);
  runTotal += bytes;
  if (block && capacity - used >= bytes) {
    void *piece = block + used;
    used += bytes;
    return piece;
  }
  void *piece = std::aligned_alloc(kAlignment, bytes);
  if (piece)
    overflow.push_back(piece);
  return piece;
}
