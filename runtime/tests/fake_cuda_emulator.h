//===- fake_cuda_emulator.h - Emulated kernels for the fake driver -*- C++ -*-===//
//
// The fake CUDA driver's half of kiln/kiln_gpu_emulation.h: loading an
// image of kernels compiled for the CPU (`kiln compile --gpu-emulation`)
// and running a launch of one thread by thread.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FAKE_CUDA_EMULATOR_H
#define KILN_FAKE_CUDA_EMULATOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace fake_cuda {

struct EmulatedKernel {
  std::string name;
  void (*entry)(void **params) = nullptr;
  uint32_t numParams = 0;
  bool synchronizes = false;
};

/// Whether `image` (as cuModuleLoadData gets it) is an emulated kernels image.
bool isEmulatedImage(const void *image);

/// Loads an emulated kernels image: an opaque module handle, or null with
/// `error` set.
void *loadEmulatedModule(const void *image, std::string &error);
void unloadEmulatedModule(void *module);

/// The kernel `name` of an emulated module, or null.
const EmulatedKernel *findEmulatedKernel(void *module, const char *name);

/// Runs a launch of `kernel` over the grid, every thread of a block in
/// turn, switching between them where they shuffle or wait at a barrier.
/// Returns an empty string, or what went wrong (threads that cannot all
/// reach the same synchronization point, a shuffle reading an absent lane).
std::string runEmulatedKernel(const EmulatedKernel &kernel, const std::vector<int64_t> &words,
                              const unsigned grid[3], const unsigned block[3]);

} // namespace fake_cuda

#endif // KILN_FAKE_CUDA_EMULATOR_H
