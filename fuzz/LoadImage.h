//===- LoadImage.h - The table images kiln-fuzz-load mutates ----*- C++ -*-===//
//
// An image is what a model library's table looks like in memory: a
// kiln_model_abi at offset 0, then the arrays and strings it points to,
// with every pointer an absolute address in an image loaded at kImageBase.
// kiln-fuzz-load copies each input to that address (a fixed mapping), so
// the seed's pointers are valid and mutated ones point anywhere.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FUZZ_LOADIMAGE_H
#define KILN_FUZZ_LOADIMAGE_H

#include <cstddef>
#include <cstdint>

namespace kilnfuzz {
// In x86-64 user space, clear of ASan's shadow and allocator regions.
constexpr uintptr_t kImageBase = 0x500000000000ull;
// The largest image; longer inputs are skipped.
constexpr size_t kImageCapacity = 1u << 20;
} // namespace kilnfuzz

#endif // KILN_FUZZ_LOADIMAGE_H
