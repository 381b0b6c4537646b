//===- Symbols.cpp - Entry points of a dlopen()ed library -----------------===//

#include "Symbols.h"

#include <cstring>
#include <dlfcn.h>

namespace kiln::gpu {

bool resolveSymbols(void *library, const std::vector<SymbolSlot> &slots, const std::string &who,
                    const char *why, std::string &problem) {
  for (const SymbolSlot &slot : slots) {
    void *address = dlsym(library, slot.name);
    if (!address) {
      problem = who + " lacks " + slot.name + ": " + why;
      return false;
    }
    // POSIX guarantees a data pointer can hold a function's address; copy
    // the bytes rather than write through a type-punned pointer.
    std::memcpy(slot.functionPointer, &address, sizeof address);
  }
  return true;
}

} // namespace kiln::gpu
