//===- FuzzLoad.cpp - libFuzzer target: the runtime's model-table check ---===//
//
// kiln_model_load dlopen()s a model library, calls its kiln_model_abi()
// accessor, and hands the table it returns, with the library's readable
// segments, to kiln::checkModelTable. This target fuzzes that check: each
// input is a table image (LoadImage.h) copied to a fixed address; the
// memory the check may read is exactly the input's bytes (the rest of the
// mapping is ASan-poisoned). The check must refuse any image whose table or
// what it points to is out of bounds or inconsistent, without reading
// outside the image, crashing, leaking or hanging; an image it accepts must
// give a model whose signature can be queried.
//
// Not covered: dlopen() of a mutated ELF file (constructors would run; no
// validation can precede them), the accessor call, and the model's code
// (run() is only checked to point into the library).
//
//===----------------------------------------------------------------------===//

#include "Internal.h"
#include "LoadImage.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

// From <sanitizer/asan_interface.h>, which Debian ships with libclang-rt-dev
// only; the fuzzer always runs under ASan.
extern "C" void __asan_poison_memory_region(void const volatile *addr, size_t size);
extern "C" void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define ASAN_POISON_MEMORY_REGION(addr, size) __asan_poison_memory_region((addr), (size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) __asan_unpoison_memory_region((addr), (size))

namespace {

char *imageMemory() {
  static char *base = [] {
    void *p = mmap(reinterpret_cast<void *>(kilnfuzz::kImageBase), kilnfuzz::kImageCapacity,
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
                   0);
    if (p != reinterpret_cast<void *>(kilnfuzz::kImageBase)) {
      std::perror("kiln-fuzz-load: cannot map the image at its fixed address");
      std::abort();
    }
    // Poisoned but for the current input's bytes, so any read outside them
    // is an ASan report even where the mapping goes on.
    ASAN_POISON_MEMORY_REGION(p, kilnfuzz::kImageCapacity);
    return static_cast<char *>(p);
  }();
  return base;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > kilnfuzz::kImageCapacity)
    return -1; // not added to the corpus
  char *base = imageMemory();
  ASAN_UNPOISON_MEMORY_REGION(base, size);
  if (size)
    std::memcpy(base, data, size);

  kiln::ModelMemory memory;
  memory.add(base, size);
  auto *model = new kiln_model;
  kiln_status_t status =
      kiln::checkModelTable(reinterpret_cast<const kiln_model_abi *>(base), memory,
                            "fuzz.so", *model);
  static const bool verbose = [] {
    const char *v = std::getenv("KILN_FUZZ_VERBOSE");
    return v && *v && *v != '0';
  }();
  if (verbose)
    std::fprintf(stderr, "kiln-fuzz-load: %s\n", status ? kiln_status_message(status) : "accepted");
  if (!status) {
    // What a caller sees of an accepted model; it must hold no pointer into
    // the image (the library) that it reads, as the next input overwrites it.
    ASAN_POISON_MEMORY_REGION(base, size);
    (void)kiln_model_producer(model);
    for (int input = 0; input < 2; ++input) {
      size_t count = input ? kiln_model_num_inputs(model) : kiln_model_num_outputs(model);
      for (size_t i = 0; i < count; ++i) {
        kiln_tensor_info info;
        kiln_status_t st = input ? kiln_model_input_info(model, i, &info)
                                 : kiln_model_output_info(model, i, &info);
        if (st) {
          std::fprintf(stderr, "kiln-fuzz-load: info of an accepted model failed: %s\n",
                       kiln_status_message(st));
          std::abort();
        }
        std::size_t length = std::strlen(info.name);
        for (int32_t d = 0; d < info.rank; ++d)
          length += std::strlen(info.dim_names[d]) + static_cast<size_t>(info.dims[d] & 1);
        if ((input ? kiln_model_find_input(model, info.name)
                   : kiln_model_find_output(model, info.name)) != static_cast<int64_t>(i)) {
          std::fprintf(stderr, "kiln-fuzz-load: '%s' is not found at its index\n", info.name);
          std::abort();
        }
        (void)length;
      }
    }
  }
  ASAN_POISON_MEMORY_REGION(base, size);
  kiln_status_free(status);
  kiln_model_release(model);
  return 0;
}
