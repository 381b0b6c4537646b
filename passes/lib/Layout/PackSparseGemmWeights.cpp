//===- PackSparseGemmWeights.cpp - Sparse constant weights to kiln.sparse_gemm ===//
//
// A weight pruned before Kiln sees it (by magnitude, in 1x4 blocks or one
// value at a time) is still a dense tensor in the ONNX file, and the dense
// GEMM multiplies all its zeros. Here each constant GEMM weight's zeros are
// counted at compile time, in blocks of 1 x 4 and 1 x 1 (kiln_sparse_pack.h),
// and where the runtime's sparse GEMM is estimated faster than the dense
// one (kiln_sparse_cost, fitted on kiln-sparse-gemm-bench: dense stays the
// choice below the break-even sparsity) the weight is stored as its
// nonzero blocks, of the cheaper width, and the contraction becomes a
// kiln.sparse_gemm with its marked epilogue (bias, activation, residual)
// folded in, as kiln-quantize-contractions does for kiln.qgemm.
//
// The cost model's unit is the dense GEMM's time per multiply-add, so the
// decision does not depend on M (both costs are linear in it): a weight
// goes sparse when (stored values) x (cost per stored multiply-add of the
// width) < K x N.
//
//===----------------------------------------------------------------------===//

#include "GemmWeights.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"

#include "kiln/kiln_sparse_pack.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPACKSPARSEGEMMWEIGHTS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::layout;

namespace {

/// The sparse layout chosen for one weight.
struct SparseChoice {
  int64_t width, stored;
  double cost, denseCost; // in dense multiply-adds per row of A
};

/// The cheaper of the two widths for B by kiln_sparse_cost, and the
/// dense GEMM's cost.
SparseChoice chooseWidth(ArrayRef<float> data, const WeightView &v) {
  SparseChoice best{0, 0, 0.0, double(v.k) * double(v.n)};
  for (int64_t width : {4, 1}) {
    const int64_t stored =
        kiln_sparse_count_blocks(data.data(), v.kStride, v.nStride, v.k, v.n, width);
    const double cost = kiln_sparse_cost(1, width, stored);
    if (!best.width || cost < best.cost)
      best = {width, stored, cost, best.denseCost};
  }
  return best;
}

struct PackSparseGemmWeightsPass
    : mlir::kiln::impl::KilnPackSparseGemmWeightsBase<PackSparseGemmWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (mode != "auto" && mode != "always" && mode != "off") {
      module.emitError("kiln-pack-sparse-gemm-weights: mode must be auto, always or off, not '")
          << mode << "'";
      return signalPassFailure();
    }
    if (mode == "off")
      return;
    // Found before any rewrite: rewriting one erases its epilogue's op.
    SmallVector<std::pair<linalg::GenericOp, PackableWeight>> contractions;
    module.walk([&](linalg::GenericOp op) {
      std::optional<PackableWeight> weight = packableWeight(op);
      if (weight && hasRowMajorOperands(op, *weight) && isZeroFilled(op.getDpsInits()[0]))
        contractions.emplace_back(op, *weight);
    });
    llvm::StringSet<> released;
    IRRewriter rewriter(&getContext());
    for (auto &[op, weight] : contractions) {
      auto value = cast<ElementsAttr>(weight.constant.getValue());
      std::optional<ArrayRef<float>> data = floatsOf(value);
      if (!data)
        continue;
      WeightView view = viewOf(weightMatrixShape(op, weight), weight);
      SparseChoice choice = chooseWidth(*data, view);
      // The blob's 32-bit indices: every block count fits (k * n / w < 2^31).
      if (view.k * view.n >= (int64_t(1) << 31))
        continue;
      if (mode == "auto" && choice.cost >= choice.denseCost)
        continue;
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
        released.insert(resource.getRawHandle().getKey());
      rewrite(rewriter, op, *data, view, choice);
    }
    releaseUnusedWeights(module, released);
  }

  void rewrite(IRRewriter &rewriter, linalg::GenericOp op, ArrayRef<float> data,
               const WeightView &view, const SparseChoice &choice) {
    Location loc = op.getLoc();
    RowsUkernelOperands operands = rowsUkernelOperands(rewriter, op);
    std::vector<int8_t> blob(
        size_t(kiln_sparse_packed_size(view.n, choice.width, choice.stored)));
    kiln_sparse_pack_b(data.data(), view.kStride, view.nStride, view.k, view.n, choice.width,
                       blob.data());
    auto blobType = RankedTensorType::get({int64_t(blob.size())}, rewriter.getI8Type());
    std::string name = "sparse_gemm_weight_" + std::to_string(counter++);
    // 64-byte aligned, so that the blob's parts (kiln_sparse_pack.h) are.
    Value packed = arith::ConstantOp::create(
        rewriter, loc,
        DenseResourceElementsAttr::get(
            blobType, name,
            HeapAsmResourceBlob::allocateAndCopyWithAlign(
                ArrayRef<char>(reinterpret_cast<const char *>(blob.data()), blob.size()), 64)));
    Value result =
        SparseGemmOp::create(rewriter, loc, op.getResult(0).getType(), operands.a, packed,
                             operands.bias, operands.residual, operands.init, view.k, view.n,
                             choice.width, choice.stored,
                             static_cast<GemmActivation>(operands.activation))
            .getResult();
    replaceByRowsUkernel(rewriter, op, operands, result);
  }

  int64_t counter = 0;
};

} // namespace
