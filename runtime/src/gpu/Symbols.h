//===- Symbols.h - Entry points of a dlopen()ed library ---------*- C++ -*-===//
//
// The GPU layer links nothing of CUDA: the driver and cuBLASLt are opened
// at run time and their entry points looked up one by one.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_SYMBOLS_H
#define KILN_RUNTIME_GPU_SYMBOLS_H

#include <dlfcn.h>
#include <string>

namespace kiln::gpu {

/// Looks `name` up in `library` into `slot`; when it is missing, sets
/// `problem` to "<who> lacks <name>: <why>" and returns false.
template <typename Fn>
bool resolveSymbol(void *library, const char *name, Fn &slot, const std::string &who,
                   const char *why, std::string &problem) {
  void *symbol = dlsym(library, name);
  if (!symbol) {
    problem = who + " lacks " + name + ": " + why;
    return false;
  }
  slot = reinterpret_cast<Fn>(symbol);
  return true;
}

} // namespace kiln::gpu

#endif // KILN_RUNTIME_GPU_SYMBOLS_H
