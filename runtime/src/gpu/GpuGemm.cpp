//===- GpuGemm.cpp - kiln_gemm_desc on the GPU through cuBLASLt -----------===//

#include "GpuGemm.h"

#include <algorithm>
#include <cstdio>

using namespace kiln;
using namespace kiln::cublaslt;

namespace {

/// A logical R x C matrix whose element (r, c) is at r * rowStride + c *
/// colStride, as cuBLASLt stores it (column-major) and the op that turns
/// the stored matrix into the logical one.
struct Stored {
  int32_t op;
  uint64_t rows, cols;
  int64_t ld;
};

bool store(int64_t rows, int64_t cols, int64_t rowStride, int64_t colStride, Stored &out) {
  if (rowStride == 1 || rows == 1) {
    int64_t ld = cols == 1 ? std::max<int64_t>(rows, 1) : colStride;
    if (ld < rows)
      return false;
    out = {OP_N, uint64_t(rows), uint64_t(cols), ld};
    return true;
  }
  if (colStride == 1 || cols == 1) {
    int64_t ld = rows == 1 ? std::max<int64_t>(cols, 1) : rowStride;
    if (ld < cols)
      return false;
    out = {OP_T, uint64_t(cols), uint64_t(rows), ld};
    return true;
  }
  return false;
}

/// The largest power of two (at most 256) dividing every value: the
/// alignment cuBLASLt may assume of a matrix's addresses.
uint32_t alignment(std::initializer_list<uint64_t> values) {
  uint64_t bits = 256;
  for (uint64_t v : values)
    bits |= v;
  return uint32_t(bits & (~bits + 1));
}

/// The compute type of an fp32 GEMM in a model of `precision`: the tensor
/// cores round its inputs as the precision says.
int computeTypeOf(int precision) {
  switch (precision) {
  case KILN_GPU_PRECISION_TF32: return COMPUTE_32F_FAST_TF32;
  case KILN_GPU_PRECISION_FP16: return COMPUTE_32F_FAST_16F;
  case KILN_GPU_PRECISION_BF16: return COMPUTE_32F_FAST_16BF;
  default: return COMPUTE_32F;
  }
}

/// A storage type of kiln_gemm_desc (0 reads as FLOAT32) as cuBLASLt's
/// data type; -1 for one the GPU does not store.
int dataTypeOf(int64_t storage) {
  switch (storage) {
  case 0:
  case KILN_DTYPE_FLOAT32: return CUDA_R_32F;
  case KILN_DTYPE_FLOAT16: return CUDA_R_16F;
  case KILN_DTYPE_BFLOAT16: return CUDA_R_16BF;
  default: return -1;
  }
}

int64_t elementBytes(int dataType) { return dataType == CUDA_R_32F ? 4 : 2; }

/// The precision a model must have for 16-bit A and B of `dataType`.
int precisionOf(int dataType) {
  return dataType == CUDA_R_16F ? KILN_GPU_PRECISION_FP16 : KILN_GPU_PRECISION_BF16;
}

const char *nameOfPrecision(int precision) {
  switch (precision) {
  case KILN_GPU_PRECISION_TF32: return "tf32";
  case KILN_GPU_PRECISION_FP16: return "fp16";
  case KILN_GPU_PRECISION_BF16: return "bf16";
  default: return "fp32";
  }
}

} // namespace

/// A GEMM's cuBLASLt types: A's and B's (cuBLAS's B and A), C's and D's,
/// and the compute type.
struct GpuGemm::Types {
  int ab = CUDA_R_32F, cd = CUDA_R_32F, compute = COMPUTE_32F;
};

struct GpuGemm::Plan {
  const Library &library;
  MatmulDesc desc = nullptr;
  Layout a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  Algo algo{};
  explicit Plan(const Library &library) : library(library) {}
  ~Plan() {
    for (Layout layout : {a, b, c, d})
      if (layout)
        library.layoutDestroy(layout);
    if (desc)
      library.descDestroy(desc);
  }
};

GpuGemm::GpuGemm(const Library &library, Handle handle, void *workspace, size_t workspaceBytes,
                 int precision)
    : library(library), handle(handle), workspace(workspace), workspaceBytes(workspaceBytes),
      precision(precision) {}

GpuGemm::~GpuGemm() {
  plans.clear();
  if (handle)
    library.destroy(handle);
}

std::string GpuGemm::typesOf(const kiln_gemm_desc &g, Types &out) const {
  const int a = dataTypeOf(g.a_type), b = dataTypeOf(g.b_type), c = dataTypeOf(g.c_type);
  if (a < 0 || c < 0)
    return "a GEMM with a_type " + std::to_string(g.a_type) + " and c_type " +
           std::to_string(g.c_type) + ": the GPU stores FLOAT32, FLOAT16 or BFLOAT16";
  if (b != a)
    return "a GEMM with a_type " + std::to_string(g.a_type) + " and b_type " +
           std::to_string(g.b_type) + ": A and B must have one type on the GPU";
  // cuBLASLt's combinations: fp32 A and B give an fp32 C; 16-bit ones
  // their own type or fp32.
  if (c != CUDA_R_32F && c != a)
    return "a GEMM with a_type " + std::to_string(g.a_type) + " and c_type " +
           std::to_string(g.c_type) + ": C must be fp32 or of A's type on the GPU";
  out = {a, c, computeTypeOf(precision)};
  if (a == CUDA_R_32F)
    return "";
  // 16-bit inputs: their products are exact, summed in fp32. Only a model
  // compiled for that precision stores them (kiln_abi.h).
  if (precision != precisionOf(a))
    return "a GEMM with a_type " + std::to_string(g.a_type) + " (" +
           nameOfPrecision(precisionOf(a)) + " storage) in a model of " +
           nameOfPrecision(precision) + " precision: 16-bit operands need --precision " +
           nameOfPrecision(precisionOf(a));
  out.compute = COMPUTE_32F;
  return "";
}

std::string GpuGemm::planFor(const kiln_gemm_desc &g, const Types &types, int64_t batchCount,
                             const int64_t strides[4], const Plan *&out) {
  // cuBLAS's A is B^T (n x k), its B is A^T (k x m), D is C^T (n x m).
  Stored a, b;
  if (!store(g.n, g.k, g.b_cs, g.b_rs, a) || !store(g.k, g.m, g.a_cs, g.a_rs, b))
    return "a GEMM operand layout cuBLASLt cannot read (A strides " + std::to_string(g.a_rs) +
           ", " + std::to_string(g.a_cs) + "; B strides " + std::to_string(g.b_rs) + ", " +
           std::to_string(g.b_cs) + ")";
  if (g.ldc < g.n && g.m > 1)
    return "a GEMM output with ldc " + std::to_string(g.ldc) + " < n " + std::to_string(g.n);
  int64_t ldc = g.m > 1 ? g.ldc : std::max<int64_t>(g.n, 1);
  bool hasResidual = g.residual != nullptr;
  int64_t ldr = hasResidual ? (g.m > 1 ? g.residual_rs : std::max<int64_t>(g.n, 1)) : ldc;
  uint32_t epilogue = EPILOGUE_DEFAULT;
  if (g.activation == KILN_GEMM_ACT_RELU)
    epilogue = EPILOGUE_RELU;
  else if (g.activation == KILN_GEMM_ACT_GELU_TANH)
    epilogue = EPILOGUE_GELU;
  else if (g.activation != KILN_GEMM_ACT_NONE)
    return "GEMM epilogue activation " + std::to_string(g.activation) +
           " is not supported on the GPU";
  if (g.bias)
    epilogue |= EPILOGUE_BIAS;
  if (hasResidual && (g.activation != KILN_GEMM_ACT_NONE || g.accumulate))
    return "a GEMM residual with an activation or accumulation is not supported on the GPU";

  auto address = [](const void *p) { return uint64_t(reinterpret_cast<uintptr_t>(p)); };
  const void *cIn = hasResidual ? static_cast<const void *>(g.residual) : g.c;
  // Leading dims and batch strides count elements of each operand's type.
  const uint64_t ab = uint64_t(elementBytes(types.ab)), cd = uint64_t(elementBytes(types.cd));
  uint32_t alignA = alignment({address(g.b), uint64_t(a.ld) * ab, uint64_t(strides[1]) * ab});
  uint32_t alignB = alignment({address(g.a), uint64_t(b.ld) * ab, uint64_t(strides[0]) * ab});
  uint32_t alignC = alignment({address(cIn), uint64_t(ldr) * cd, uint64_t(strides[3]) * cd});
  uint32_t alignD = alignment({address(g.c), uint64_t(ldc) * cd, uint64_t(strides[2]) * cd});
  char key[512];
  std::snprintf(key, sizeof key, "%lld %lld %lld|%d %lld %d %lld|%lld %lld|%lld|%lld %lld %lld %lld"
                "|%u %d %d|%u %u %u %u|%d %d",
                (long long)g.m, (long long)g.n, (long long)g.k, a.op, (long long)a.ld, b.op,
                (long long)b.ld, (long long)ldc, (long long)ldr, (long long)batchCount,
                (long long)strides[0], (long long)strides[1], (long long)strides[2],
                (long long)strides[3], epilogue, int(g.accumulate != 0), int(hasResidual),
                alignA, alignB, alignC, alignD, types.ab, types.cd);
  std::unique_ptr<Plan> &slot = plans[key];
  if (slot) {
    out = slot.get();
    return "";
  }
  auto plan = std::make_unique<Plan>(library);
  auto fail = [&](const char *what, Status status) {
    plans.erase(key);
    return std::string(what) + ": " + statusText(library, status);
  };
  if (Status s = library.descCreate(&plan->desc, types.compute, CUDA_R_32F); s != SUCCESS)
    return fail("cublasLtMatmulDescCreate", s);
  library.descSetAttribute(plan->desc, DESC_TRANSA, &a.op, sizeof a.op);
  library.descSetAttribute(plan->desc, DESC_TRANSB, &b.op, sizeof b.op);
  library.descSetAttribute(plan->desc, DESC_EPILOGUE, &epilogue, sizeof epilogue);
  // The bias (DESC_BIAS_POINTER) has D's type, cuBLASLt's default: c_type.
  struct LayoutSpec {
    Layout *layout;
    int type;
    uint64_t rows, cols;
    int64_t ld, batchStride;
  } specs[] = {{&plan->a, types.ab, a.rows, a.cols, a.ld, strides[1]},
               {&plan->b, types.ab, b.rows, b.cols, b.ld, strides[0]},
               {&plan->c, types.cd, uint64_t(g.n), uint64_t(g.m), ldr,
                hasResidual ? strides[3] : strides[2]},
               {&plan->d, types.cd, uint64_t(g.n), uint64_t(g.m), ldc, strides[2]}};
  for (const LayoutSpec &spec : specs) {
    if (Status s = library.layoutCreate(spec.layout, spec.type, spec.rows, spec.cols, spec.ld);
        s != SUCCESS)
      return fail("cublasLtMatrixLayoutCreate", s);
    if (batchCount > 1) {
      int32_t count = int32_t(batchCount);
      library.layoutSetAttribute(*spec.layout, LAYOUT_BATCH_COUNT, &count, sizeof count);
      library.layoutSetAttribute(*spec.layout, LAYOUT_STRIDED_BATCH_OFFSET, &spec.batchStride,
                                 sizeof spec.batchStride);
    }
  }
  Preference preference = nullptr;
  if (Status s = library.preferenceCreate(&preference); s != SUCCESS)
    return fail("cublasLtMatmulPreferenceCreate", s);
  uint64_t maxWorkspace = workspaceBytes;
  library.preferenceSetAttribute(preference, PREF_MAX_WORKSPACE_BYTES, &maxWorkspace,
                                 sizeof maxWorkspace);
  library.preferenceSetAttribute(preference, PREF_MIN_ALIGNMENT_A_BYTES, &alignA, sizeof alignA);
  library.preferenceSetAttribute(preference, PREF_MIN_ALIGNMENT_B_BYTES, &alignB, sizeof alignB);
  library.preferenceSetAttribute(preference, PREF_MIN_ALIGNMENT_C_BYTES, &alignC, sizeof alignC);
  library.preferenceSetAttribute(preference, PREF_MIN_ALIGNMENT_D_BYTES, &alignD, sizeof alignD);
  HeuristicResult result{};
  int returned = 0;
  Status s = library.algoGetHeuristic(handle, plan->desc, plan->a, plan->b, plan->c, plan->d,
                                      preference, 1, &result, &returned);
  library.preferenceDestroy(preference);
  if (s != SUCCESS || returned == 0)
    return fail("no cuBLASLt algorithm for this GEMM", s == SUCCESS ? result.state : s);
  plan->algo = result.algo;
  out = plan.get();
  slot = std::move(plan);
  return "";
}

std::string GpuGemm::run(const kiln_gemm_desc &g, Stream stream) {
  if (g.m <= 0 || g.n <= 0)
    return "";
  if (g.b_panel != 0)
    return "a prepacked (CPU panel) GEMM operand reached the GPU";
  // Two batch dims fold into one strided batch when the outer stride is
  // the inner one times its count for every operand. Otherwise cuBLASLt
  // batches one of them (each operand has its own stride for it) and the
  // other loops here, the shorter one: attention's products at batch 32
  // and 12 heads are 12 calls of 32 matrices, not 32 of 12.
  const int64_t *sa = g.batch_stride_a, *sb = g.batch_stride_b, *sc = g.batch_stride_c,
                *sr = g.batch_stride_residual;
  const int64_t counts[2] = {std::max<int64_t>(g.batch[0], 1), std::max<int64_t>(g.batch[1], 1)};
  int batched = counts[1] > 1 && counts[1] >= counts[0] ? 1 : 0, looped = 1 - batched;
  int64_t batchCount = counts[batched], loops = counts[looped];
  if (counts[0] > 1 && counts[1] > 1 && sa[0] == counts[1] * sa[1] &&
      sb[0] == counts[1] * sb[1] && sc[0] == counts[1] * sc[1] && sr[0] == counts[1] * sr[1]) {
    batched = 1;
    batchCount = counts[0] * counts[1];
    loops = 1;
  }
  int64_t strides[4] = {sa[batched], sb[batched], sc[batched], sr[batched]};
  Types types;
  if (std::string problem = typesOf(g, types); !problem.empty())
    return problem;
  const Plan *plan = nullptr;
  if (std::string problem = planFor(g, types, batchCount, strides, plan); !problem.empty())
    return problem;
  if (g.k == 0 && !g.accumulate && !g.bias && !g.residual)
    return "an empty-sum GEMM (k = 0) is not supported on the GPU";
  float alpha = 1.0f, beta = (g.accumulate || g.residual) ? 1.0f : 0.0f;
  if (g.bias)
    library.descSetAttribute(plan->desc, DESC_BIAS_POINTER, &g.bias, sizeof g.bias);
  // The looped batch dim moves each operand by elements of its own type.
  const int64_t ab = elementBytes(types.ab), cd = elementBytes(types.cd);
  for (int64_t o = 0; o < loops; ++o) {
    const char *a = reinterpret_cast<const char *>(g.a) + o * sa[looped] * ab,
               *b = reinterpret_cast<const char *>(g.b) + o * sb[looped] * ab;
    char *c = reinterpret_cast<char *>(g.c) + o * sc[looped] * cd;
    const char *cIn =
        g.residual ? reinterpret_cast<const char *>(g.residual) + o * sr[looped] * cd : c;
    Status s = library.matmul(handle, plan->desc, &alpha, b, plan->a, a, plan->b, &beta, cIn,
                              plan->c, c, plan->d, &plan->algo, workspace, workspaceBytes,
                              stream);
    if (s != SUCCESS)
      return "cublasLtMatmul (m " + std::to_string(g.m) + ", n " + std::to_string(g.n) +
             ", k " + std::to_string(g.k) + "): " + statusText(library, s);
  }
  return "";
}
