//===- Symbols.h - Entry points of a dlopen()ed library ---------*- C++ -*-===//
//
// The GPU layer links nothing of CUDA: the driver and cuBLASLt are opened
// at run time and their entry points looked up from a table. The lookup is
// one out-of-line function, not a template per entry point's type: those
// instantiations were a sixth of the runtime library's size.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_SYMBOLS_H
#define KILN_RUNTIME_GPU_SYMBOLS_H

#include <string>
#include <vector>

namespace kiln::gpu {

/// One entry point to look up: its name and the function pointer to fill.
struct SymbolSlot {
  const char *name;
  void *functionPointer; // address of a function-pointer variable
};

template <typename Fn> SymbolSlot symbol(const char *name, Fn &functionPointer) {
  static_assert(sizeof(Fn) == sizeof(void *), "function pointers must be pointer-sized");
  return {name, &functionPointer};
}

/// Fills every slot from `library`. On the first missing name, sets `problem`
/// to "<who> lacks <name>: <why>" and returns false.
bool resolveSymbols(void *library, const std::vector<SymbolSlot> &slots, const std::string &who,
                    const char *why, std::string &problem);

} // namespace kiln::gpu

#endif // KILN_RUNTIME_GPU_SYMBOLS_H
