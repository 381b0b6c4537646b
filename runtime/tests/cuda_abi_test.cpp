//===- cuda_abi_test.cpp - The GPU layer's CUDA declarations vs CUDA's ----===//
//
// The runtime links nothing of CUDA: CudaDriver.h and CublasLt.h declare the
// entry points, constants and structs it uses, and the fake driver and fake
// cuBLASLt of the other tests take them as they are. A wrong constant or
// version suffix would only show on a GPU. So this test, built where the
// CUDA toolkit's headers are (no GPU, nothing linked), holds each
// declaration against cuda.h and cublasLt.h: every constant's value, the
// layout of cuBLASLt's heuristic result, every entry point's name as cuda.h
// maps the API to it (cuMemAlloc -> cuMemAlloc_v2), and each entry point's
// shape (parameter count, and each parameter's and the result's size).
//
//===----------------------------------------------------------------------===//

// Kiln's declarations first: cuda.h's version macros (#define cuMemAlloc
// cuMemAlloc_v2) would rename the Driver struct's members.
#include "gpu/CublasLt.h"
#include "gpu/CudaDriver.h"

#include <array>
#include <cstddef>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

/// A function's shape: its parameter count and the size of its result and
/// of each parameter (enough to catch a missing, extra, swapped or
/// wrongly sized parameter between two declarations with different types).
struct Shape {
  size_t arity = 0;
  std::array<size_t, 24> sizes{}; // result, then parameters
  bool operator==(const Shape &other) const {
    return arity == other.arity && sizes == other.sizes;
  }
};

template <class R, class... Args> Shape shapeOf(R (*)(Args...)) {
  static_assert(sizeof...(Args) < 24, "a larger Shape::sizes");
  Shape shape;
  shape.arity = sizeof...(Args);
  size_t sizes[] = {sizeof(R), sizeof(Args)...};
  std::memcpy(shape.sizes.data(), sizes, sizeof sizes);
  return shape;
}

/// One of Kiln's entry points: the member's name, its shape and where it
/// lives in its table (to find the name it is looked up by).
struct Ours {
  const char *member;
  Shape shape;
  size_t offset;
};

#define KILN_OURS(Table, member)                                                                 \
  Ours { #member, shapeOf(decltype(Table::member)()), offsetof(Table, member) }

const std::vector<Ours> kDriver = {
    KILN_OURS(kiln::cuda::Driver, cuInit),
    KILN_OURS(kiln::cuda::Driver, cuDriverGetVersion),
    KILN_OURS(kiln::cuda::Driver, cuDeviceGetCount),
    KILN_OURS(kiln::cuda::Driver, cuDeviceGet),
    KILN_OURS(kiln::cuda::Driver, cuDeviceGetName),
    KILN_OURS(kiln::cuda::Driver, cuDeviceGetAttribute),
    KILN_OURS(kiln::cuda::Driver, cuDevicePrimaryCtxRetain),
    KILN_OURS(kiln::cuda::Driver, cuDevicePrimaryCtxRelease),
    KILN_OURS(kiln::cuda::Driver, cuCtxSetCurrent),
    KILN_OURS(kiln::cuda::Driver, cuModuleLoadData),
    KILN_OURS(kiln::cuda::Driver, cuModuleUnload),
    KILN_OURS(kiln::cuda::Driver, cuModuleGetFunction),
    KILN_OURS(kiln::cuda::Driver, cuLaunchKernel),
    KILN_OURS(kiln::cuda::Driver, cuMemAlloc),
    KILN_OURS(kiln::cuda::Driver, cuMemFree),
    KILN_OURS(kiln::cuda::Driver, cuMemcpyHtoDAsync),
    KILN_OURS(kiln::cuda::Driver, cuMemcpyDtoHAsync),
    KILN_OURS(kiln::cuda::Driver, cuStreamCreate),
    KILN_OURS(kiln::cuda::Driver, cuStreamDestroy),
    KILN_OURS(kiln::cuda::Driver, cuStreamSynchronize),
    KILN_OURS(kiln::cuda::Driver, cuGetErrorName),
    KILN_OURS(kiln::cuda::Driver, cuGetErrorString),
    KILN_OURS(kiln::cuda::Driver, cuMemAllocHost),
    KILN_OURS(kiln::cuda::Driver, cuMemFreeHost),
    KILN_OURS(kiln::cuda::Driver, cuMemcpyDtoDAsync),
    KILN_OURS(kiln::cuda::Driver, cuMemcpyHtoD),
    KILN_OURS(kiln::cuda::Driver, cuMemcpyDtoH),
    KILN_OURS(kiln::cuda::Driver, cuPointerGetAttribute),
    KILN_OURS(kiln::cuda::Driver, cuEventCreate),
    KILN_OURS(kiln::cuda::Driver, cuEventDestroy),
    KILN_OURS(kiln::cuda::Driver, cuEventRecord),
    KILN_OURS(kiln::cuda::Driver, cuStreamWaitEvent),
    KILN_OURS(kiln::cuda::Driver, cuStreamBeginCapture),
    KILN_OURS(kiln::cuda::Driver, cuStreamEndCapture),
    KILN_OURS(kiln::cuda::Driver, cuGraphInstantiateWithFlags),
    KILN_OURS(kiln::cuda::Driver, cuGraphLaunch),
    KILN_OURS(kiln::cuda::Driver, cuGraphExecDestroy),
    KILN_OURS(kiln::cuda::Driver, cuGraphDestroy),
};

const std::vector<Ours> kCublasLt = {
    KILN_OURS(kiln::cublaslt::Library, create),
    KILN_OURS(kiln::cublaslt::Library, destroy),
    KILN_OURS(kiln::cublaslt::Library, statusString),
    KILN_OURS(kiln::cublaslt::Library, descCreate),
    KILN_OURS(kiln::cublaslt::Library, descDestroy),
    KILN_OURS(kiln::cublaslt::Library, descSetAttribute),
    KILN_OURS(kiln::cublaslt::Library, layoutCreate),
    KILN_OURS(kiln::cublaslt::Library, layoutDestroy),
    KILN_OURS(kiln::cublaslt::Library, layoutSetAttribute),
    KILN_OURS(kiln::cublaslt::Library, preferenceCreate),
    KILN_OURS(kiln::cublaslt::Library, preferenceDestroy),
    KILN_OURS(kiln::cublaslt::Library, preferenceSetAttribute),
    KILN_OURS(kiln::cublaslt::Library, algoGetHeuristic),
    KILN_OURS(kiln::cublaslt::Library, matmul),
};

/// The name the runtime looks `entry` up by, from its table of `slots`
/// over a table at `base`.
std::string lookedUpBy(const std::vector<kiln::gpu::SymbolSlot> &slots, const void *base,
                       const Ours &entry) {
  for (const kiln::gpu::SymbolSlot &slot : slots)
    if (slot.functionPointer == static_cast<const char *>(base) + entry.offset)
      return slot.name;
  return "(not looked up)";
}

const Ours &ours(const std::vector<Ours> &table, const char *member) {
  for (const Ours &entry : table)
    if (std::strcmp(entry.member, member) == 0)
      return entry;
  static const Ours none{"(none)", {}, 0};
  return none;
}

} // namespace

// --- CUDA's declarations from here on ---------------------------------------
#include <cublasLt.h>
#include <cuda.h>

#define KILN_STRINGIZE(x) #x
#define KILN_EXPANDED(x) KILN_STRINGIZE(x)

namespace {

/// An API function as cuda.h or cublasLt.h declares it: the name Kiln's
/// table calls it, the symbol it maps to, and its shape.
struct Theirs {
  const char *member;
  const char *symbol;
  Shape shape;
};

// `api` is cuda.h's name, which its macros may version; Kiln's member has
// the unversioned name.
#define KILN_DRIVER_API(api)                                                                     \
  Theirs { #api, KILN_EXPANDED(api), shapeOf(&api) }

TEST(CudaAbi, DriverEntryPointsAsCudaHDeclaresThem) {
  const Theirs theirs[] = {
      KILN_DRIVER_API(cuInit),
      KILN_DRIVER_API(cuDriverGetVersion),
      KILN_DRIVER_API(cuDeviceGetCount),
      KILN_DRIVER_API(cuDeviceGet),
      KILN_DRIVER_API(cuDeviceGetName),
      KILN_DRIVER_API(cuDeviceGetAttribute),
      KILN_DRIVER_API(cuDevicePrimaryCtxRetain),
      KILN_DRIVER_API(cuDevicePrimaryCtxRelease),
      KILN_DRIVER_API(cuCtxSetCurrent),
      KILN_DRIVER_API(cuModuleLoadData),
      KILN_DRIVER_API(cuModuleUnload),
      KILN_DRIVER_API(cuModuleGetFunction),
      KILN_DRIVER_API(cuLaunchKernel),
      KILN_DRIVER_API(cuMemAlloc),
      KILN_DRIVER_API(cuMemFree),
      KILN_DRIVER_API(cuMemcpyHtoDAsync),
      KILN_DRIVER_API(cuMemcpyDtoHAsync),
      KILN_DRIVER_API(cuStreamCreate),
      KILN_DRIVER_API(cuStreamDestroy),
      KILN_DRIVER_API(cuStreamSynchronize),
      KILN_DRIVER_API(cuGetErrorName),
      KILN_DRIVER_API(cuGetErrorString),
      KILN_DRIVER_API(cuMemAllocHost),
      KILN_DRIVER_API(cuMemFreeHost),
      KILN_DRIVER_API(cuMemcpyDtoDAsync),
      KILN_DRIVER_API(cuMemcpyHtoD),
      KILN_DRIVER_API(cuMemcpyDtoH),
      KILN_DRIVER_API(cuPointerGetAttribute),
      KILN_DRIVER_API(cuEventCreate),
      KILN_DRIVER_API(cuEventDestroy),
      KILN_DRIVER_API(cuEventRecord),
      KILN_DRIVER_API(cuStreamWaitEvent),
      KILN_DRIVER_API(cuStreamBeginCapture),
      KILN_DRIVER_API(cuStreamEndCapture),
      KILN_DRIVER_API(cuGraphInstantiateWithFlags),
      KILN_DRIVER_API(cuGraphLaunch),
      KILN_DRIVER_API(cuGraphExecDestroy),
      KILN_DRIVER_API(cuGraphDestroy),
  };
  kiln::cuda::Driver driver{};
  std::vector<kiln::gpu::SymbolSlot> slots = kiln::cuda::requiredEntryPoints(driver);
  std::vector<kiln::gpu::SymbolSlot> graphs = kiln::cuda::graphEntryPoints(driver);
  slots.insert(slots.end(), graphs.begin(), graphs.end());
  // Every entry point the runtime looks up is held against cuda.h here.
  EXPECT_EQ(slots.size(), kDriver.size());
  EXPECT_EQ(std::size(theirs), kDriver.size());
  for (const Theirs &api : theirs) {
    const Ours &entry = ours(kDriver, api.member);
    EXPECT_STREQ(entry.member, api.member);
    EXPECT_EQ(lookedUpBy(slots, &driver, entry), api.symbol) << api.member;
    EXPECT_TRUE(entry.shape == api.shape) << api.member << ": parameters differ from cuda.h's";
  }
}

#define KILN_CUBLASLT_API(member, api)                                                           \
  Theirs { #member, #api, shapeOf(&api) }

TEST(CudaAbi, CublasLtEntryPointsAsCublasLtHDeclaresThem) {
  const Theirs theirs[] = {
      KILN_CUBLASLT_API(create, cublasLtCreate),
      KILN_CUBLASLT_API(destroy, cublasLtDestroy),
      KILN_CUBLASLT_API(statusString, cublasLtGetStatusString),
      KILN_CUBLASLT_API(descCreate, cublasLtMatmulDescCreate),
      KILN_CUBLASLT_API(descDestroy, cublasLtMatmulDescDestroy),
      KILN_CUBLASLT_API(descSetAttribute, cublasLtMatmulDescSetAttribute),
      KILN_CUBLASLT_API(layoutCreate, cublasLtMatrixLayoutCreate),
      KILN_CUBLASLT_API(layoutDestroy, cublasLtMatrixLayoutDestroy),
      KILN_CUBLASLT_API(layoutSetAttribute, cublasLtMatrixLayoutSetAttribute),
      KILN_CUBLASLT_API(preferenceCreate, cublasLtMatmulPreferenceCreate),
      KILN_CUBLASLT_API(preferenceDestroy, cublasLtMatmulPreferenceDestroy),
      KILN_CUBLASLT_API(preferenceSetAttribute, cublasLtMatmulPreferenceSetAttribute),
      KILN_CUBLASLT_API(algoGetHeuristic, cublasLtMatmulAlgoGetHeuristic),
      KILN_CUBLASLT_API(matmul, cublasLtMatmul),
  };
  kiln::cublaslt::Library library{};
  std::vector<kiln::gpu::SymbolSlot> slots = kiln::cublaslt::entryPoints(library);
  EXPECT_EQ(slots.size(), kCublasLt.size());
  EXPECT_EQ(std::size(theirs), kCublasLt.size());
  for (const Theirs &api : theirs) {
    const Ours &entry = ours(kCublasLt, api.member);
    EXPECT_STREQ(entry.member, api.member);
    EXPECT_EQ(lookedUpBy(slots, &library, entry), api.symbol) << api.member;
    EXPECT_TRUE(entry.shape == api.shape)
        << api.member << ": parameters differ from cublasLt.h's " << api.symbol;
  }
}

TEST(CudaAbi, DriverConstantsAsCudaHDefinesThem) {
  namespace k = kiln::cuda;
  EXPECT_EQ(k::CUDA_SUCCESS, int(::CUDA_SUCCESS));
  EXPECT_EQ(k::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
            int(::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR));
  EXPECT_EQ(k::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
            int(::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
  EXPECT_EQ(k::CU_STREAM_NON_BLOCKING, unsigned(::CU_STREAM_NON_BLOCKING));
  EXPECT_EQ(k::CU_EVENT_DISABLE_TIMING, unsigned(::CU_EVENT_DISABLE_TIMING));
  EXPECT_EQ(static_cast<void *>(k::legacyStream()), static_cast<void *>(CU_STREAM_LEGACY));
  EXPECT_EQ(k::CU_POINTER_ATTRIBUTE_MEMORY_TYPE, int(::CU_POINTER_ATTRIBUTE_MEMORY_TYPE));
  EXPECT_EQ(k::CU_MEMORYTYPE_DEVICE, unsigned(::CU_MEMORYTYPE_DEVICE));
  EXPECT_EQ(k::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL,
            int(::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
  EXPECT_EQ(sizeof(k::CUdeviceptr), sizeof(::CUdeviceptr));
  EXPECT_EQ(sizeof(k::CUdevice), sizeof(::CUdevice));
  EXPECT_EQ(sizeof(k::CUresult), sizeof(::CUresult));
}

TEST(CudaAbi, CublasLtConstantsAndResultAsCublasLtHDefinesThem) {
  namespace k = kiln::cublaslt;
  EXPECT_EQ(k::SUCCESS, int(CUBLAS_STATUS_SUCCESS));
  EXPECT_EQ(k::CUDA_R_32F, int(::CUDA_R_32F));
  EXPECT_EQ(k::CUDA_R_16F, int(::CUDA_R_16F));
  EXPECT_EQ(k::CUDA_R_16BF, int(::CUDA_R_16BF));
  EXPECT_EQ(k::COMPUTE_32F, int(CUBLAS_COMPUTE_32F));
  EXPECT_EQ(k::COMPUTE_32F_FAST_16F, int(CUBLAS_COMPUTE_32F_FAST_16F));
  EXPECT_EQ(k::COMPUTE_32F_FAST_16BF, int(CUBLAS_COMPUTE_32F_FAST_16BF));
  EXPECT_EQ(k::COMPUTE_32F_FAST_TF32, int(CUBLAS_COMPUTE_32F_FAST_TF32));
  EXPECT_EQ(k::OP_N, int32_t(CUBLAS_OP_N));
  EXPECT_EQ(k::OP_T, int32_t(CUBLAS_OP_T));
  EXPECT_EQ(k::DESC_TRANSA, int(CUBLASLT_MATMUL_DESC_TRANSA));
  EXPECT_EQ(k::DESC_TRANSB, int(CUBLASLT_MATMUL_DESC_TRANSB));
  EXPECT_EQ(k::DESC_EPILOGUE, int(CUBLASLT_MATMUL_DESC_EPILOGUE));
  EXPECT_EQ(k::DESC_BIAS_POINTER, int(CUBLASLT_MATMUL_DESC_BIAS_POINTER));
  EXPECT_EQ(k::EPILOGUE_DEFAULT, uint32_t(CUBLASLT_EPILOGUE_DEFAULT));
  EXPECT_EQ(k::EPILOGUE_RELU, uint32_t(CUBLASLT_EPILOGUE_RELU));
  EXPECT_EQ(k::EPILOGUE_BIAS, uint32_t(CUBLASLT_EPILOGUE_BIAS));
  EXPECT_EQ(k::EPILOGUE_GELU, uint32_t(CUBLASLT_EPILOGUE_GELU));
  EXPECT_EQ(k::LAYOUT_BATCH_COUNT, int(CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT));
  EXPECT_EQ(k::LAYOUT_STRIDED_BATCH_OFFSET, int(CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET));
  EXPECT_EQ(k::PREF_MAX_WORKSPACE_BYTES, int(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES));
  EXPECT_EQ(k::PREF_MIN_ALIGNMENT_A_BYTES, int(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES));
  EXPECT_EQ(k::PREF_MIN_ALIGNMENT_B_BYTES, int(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES));
  EXPECT_EQ(k::PREF_MIN_ALIGNMENT_C_BYTES, int(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES));
  EXPECT_EQ(k::PREF_MIN_ALIGNMENT_D_BYTES, int(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES));
  // The heuristic's results are an array the library writes: same layout.
  EXPECT_EQ(sizeof(k::Algo), sizeof(cublasLtMatmulAlgo_t));
  EXPECT_EQ(sizeof(k::HeuristicResult), sizeof(cublasLtMatmulHeuristicResult_t));
  EXPECT_EQ(offsetof(k::HeuristicResult, workspaceSize),
            offsetof(cublasLtMatmulHeuristicResult_t, workspaceSize));
  EXPECT_EQ(offsetof(k::HeuristicResult, state), offsetof(cublasLtMatmulHeuristicResult_t, state));
  EXPECT_EQ(offsetof(k::HeuristicResult, wavesCount),
            offsetof(cublasLtMatmulHeuristicResult_t, wavesCount));
}

} // namespace
