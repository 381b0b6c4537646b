//===- LoadSeed.cpp - A compiled model's table as a kiln-fuzz-load image --===//
//
//   kiln-fuzz-load-seed <model.so> <image>
//
// dlopen()s a model compiled by `kiln compile` (trusted: its constructors
// and accessor run), and writes its kiln_model_abi table, with the arrays
// and strings it points to, as an image for kiln-fuzz-load (LoadImage.h).
// run() becomes the image's own address (the check only looks at where it
// points) and a GPU model's kernel image is copied.
//
//===----------------------------------------------------------------------===//

#include "LoadImage.h"
#include "kiln/kiln_abi.h"

#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <vector>

namespace {

class Writer {
public:
  /// Room for `bytes` bytes at an `align`-aligned offset, zeroed.
  size_t alloc(size_t bytes, size_t align = 8) {
    size_t offset = (data.size() + align - 1) / align * align;
    data.resize(offset + bytes);
    return offset;
  }
  template <typename T> T *address(size_t offset) const {
    return reinterpret_cast<T *>(kilnfuzz::kImageBase + offset);
  }
  void put(size_t offset, const void *bytes, size_t size) {
    std::memcpy(data.data() + offset, bytes, size);
  }
  const char *string(const char *s) {
    if (!s)
      return nullptr;
    size_t size = std::strlen(s) + 1;
    size_t offset = alloc(size, 1);
    put(offset, s, size);
    return address<const char>(offset);
  }
  const kiln_abi_tensor *tensors(const kiln_abi_tensor *list, uint32_t count) {
    if (!list)
      return nullptr;
    size_t offset = alloc(count * sizeof(kiln_abi_tensor), alignof(kiln_abi_tensor));
    for (uint32_t i = 0; i < count; ++i) {
      kiln_abi_tensor t = list[i];
      t.name = string(list[i].name);
      if (list[i].dims) {
        size_t dims = alloc(t.rank * sizeof(int64_t));
        put(dims, list[i].dims, t.rank * sizeof(int64_t));
        t.dims = address<const int64_t>(dims);
      }
      if (list[i].dim_names) {
        std::vector<const char *> names;
        for (int32_t d = 0; d < t.rank; ++d)
          names.push_back(string(list[i].dim_names[d]));
        size_t table = alloc(t.rank * sizeof(const char *));
        put(table, names.data(), names.size() * sizeof(const char *));
        t.dim_names = address<const char *const>(table);
      }
      put(offset + i * sizeof(t), &t, sizeof(t));
    }
    return address<const kiln_abi_tensor>(offset);
  }

  std::vector<char> data;
};

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <model.so> <image>\n", argv[0]);
    return 2;
  }
  void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  auto accessor = reinterpret_cast<kiln_model_abi_fn>(dlsym(handle, KILN_MODEL_ABI_SYMBOL));
  const kiln_model_abi *abi = accessor ? accessor() : nullptr;
  if (!abi || abi->abi_version < KILN_ABI_VERSION_OLDEST || abi->abi_version > KILN_ABI_VERSION) {
    std::fprintf(stderr, "%s: not a model of Kiln ABI %u to %u\n", argv[1],
                 KILN_ABI_VERSION_OLDEST, KILN_ABI_VERSION);
    return 1;
  }
  Writer w;
  size_t root = w.alloc(sizeof(kiln_model_abi), alignof(kiln_model_abi));
  kiln_model_abi t = *abi;
  t.inputs = w.tensors(abi->inputs, abi->num_inputs);
  t.outputs = w.tensors(abi->outputs, abi->num_outputs);
  t.producer = w.string(abi->producer);
  t.run = reinterpret_cast<void (*)(void **)>(kilnfuzz::kImageBase + root);
  if (abi->regions) {
    size_t regions = w.alloc(abi->num_regions * sizeof(kiln_abi_region));
    for (uint32_t i = 0; i < abi->num_regions; ++i) {
      kiln_abi_region r = {w.string(abi->regions[i].name), w.string(abi->regions[i].op_type)};
      w.put(regions + i * sizeof(r), &r, sizeof(r));
    }
    t.regions = w.address<const kiln_abi_region>(regions);
  }
  t.pipeline = w.string(abi->pipeline);
  if (abi->gpu_image && abi->gpu_image_size) {
    size_t image = w.alloc(abi->gpu_image_size);
    w.put(image, abi->gpu_image, abi->gpu_image_size);
    t.gpu_image = w.address<const void>(image);
  }
  t.target_cpu = w.string(abi->target_cpu);
  t.target_features = w.string(abi->target_features);
  w.put(root, &t, sizeof(t));
  if (w.data.size() > kilnfuzz::kImageCapacity) {
    std::fprintf(stderr, "the image is %zu bytes, over kiln-fuzz-load's %zu\n", w.data.size(),
                 kilnfuzz::kImageCapacity);
    return 1;
  }
  FILE *out = std::fopen(argv[2], "wb");
  if (!out || std::fwrite(w.data.data(), 1, w.data.size(), out) != w.data.size() ||
      std::fclose(out) != 0) {
    std::perror(argv[2]);
    return 1;
  }
  return 0;
}
