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

int computeTypeOf(int precision) {
  switch (precision) {
  case KILN_GPU_PRECISION_TF32: return COMPUTE_32F_FAST_TF32;
  case KILN_GPU_PRECISION_FP16: return COMPUTE_32F_FAST_16F;
  case KILN_GPU_PRECISION_BF16: return COMPUTE_32F_FAST_16BF;
  default: return COMPUTE_32F;
  }
}

} // namespace

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
      computeType(computeTypeOf(precision)) {}

GpuGemm::~GpuGemm() {
  plans.clear();
  if (handle)
    library.destroy(handle);
}

std::string GpuGemm::planFor(const kiln_gemm_desc &g, int64_t batchCount,
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
  uint32_t alignA = alignment({address(g.b), uint64_t(a.ld) * 4, uint64_t(strides[1]) * 4});
  uint32_t alignB = alignment({address(g.a), uint64_t(b.ld) * 4, uint64_t(strides[0]) * 4});
  uint32_t alignC = alignment({address(cIn), uint64_t(ldr) * 4, uint64_t(strides[3]) * 4});
  uint32_t alignD = alignment({address(g.c), uint64_t(ldc) * 4, uint64_t(strides[2]) * 4});
  char key[512];
  std::snprintf(key, sizeof key, "%lld %lld %lld|%d %lld %d %lld|%lld %lld|%lld|%lld %lld %lld %lld"
                "|%u %d %d|%u %u %u %u",
                (long long)g.m, (long long)g.n, (long long)g.k, a.op, (long long)a.ld, b.op,
                (long long)b.ld, (long long)ldc, (long long)ldr, (long long)batchCount,
                (long long)strides[0], (long long)strides[1], (long long)strides[2],
                (long long)strides[3], epilogue, int(g.accumulate != 0), int(hasResidual),
                alignA, alignB, alignC, alignD);
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
  if (Status s = library.descCreate(&plan->desc, computeType, CUDA_R_32F); s != SUCCESS)
    return fail("cublasLtMatmulDescCreate", s);
  library.descSetAttribute(plan->desc, DESC_TRANSA, &a.op, sizeof a.op);
  library.descSetAttribute(plan->desc, DESC_TRANSB, &b.op, sizeof b.op);
  library.descSetAttribute(plan->desc, DESC_EPILOGUE, &epilogue, sizeof epilogue);
  struct LayoutSpec {
    Layout *layout;
    uint64_t rows, cols;
    int64_t ld, batchStride;
  } specs[] = {{&plan->a, a.rows, a.cols, a.ld, strides[1]},
               {&plan->b, b.rows, b.cols, b.ld, strides[0]},
               {&plan->c, uint64_t(g.n), uint64_t(g.m), ldr,
                hasResidual ? strides[3] : strides[2]},
               {&plan->d, uint64_t(g.n), uint64_t(g.m), ldc, strides[2]}};
  for (const LayoutSpec &spec : specs) {
    if (Status s = library.layoutCreate(spec.layout, CUDA_R_32F, spec.rows, spec.cols, spec.ld);
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
  const Plan *plan = nullptr;
  if (std::string problem = planFor(g, batchCount, strides, plan); !problem.empty())
    return problem;
  if (g.k == 0 && !g.accumulate && !g.bias && !g.residual)
    return "an empty-sum GEMM (k = 0) is not supported on the GPU";
  float alpha = 1.0f, beta = (g.accumulate || g.residual) ? 1.0f : 0.0f;
  if (g.bias)
    library.descSetAttribute(plan->desc, DESC_BIAS_POINTER, &g.bias, sizeof g.bias);
  for (int64_t o = 0; o < loops; ++o) {
    const float *a = g.a + o * sa[looped], *b = g.b + o * sb[looped];
    float *c = g.c + o * sc[looped];
    const float *cIn = g.residual ? g.residual + o * sr[looped] : c;
    Status s = library.matmul(handle, plan->desc, &alpha, b, plan->a, a, plan->b, &beta, cIn,
                              plan->c, c, plan->d, &plan->algo, workspace, workspaceBytes,
                              stream);
    if (s != SUCCESS)
      return "cublasLtMatmul (m " + std::to_string(g.m) + ", n " + std::to_string(g.n) +
             ", k " + std::to_string(g.k) + "): " + statusText(library, s);
  }
  return "";
}
