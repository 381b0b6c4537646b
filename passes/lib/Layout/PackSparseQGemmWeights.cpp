//===- PackSparseQGemmWeights.cpp - Sparse int8 weights to kiln.sparse_qgemm ===//
//
// `--quantize int8` on a pruned model: the weights' pruned zeros quantize
// to exactly 0 (symmetric, no zero point), so a kiln.qgemm's packed int8
// weight is as sparse as the fp32 one was, and the dense int8 GEMM
// multiplies all its zeros. Here each constant packed weight of a
// kiln.qgemm is read back (kiln_qgemm_pack.h), its blocks of 1 x 4 and 1 x 1
// holding a nonzero value are counted, in groups of 4 rows per block column
// (kiln_sparse_qgemm_pack.h), and where the runtime's sparse int8 GEMM is
// estimated faster than the dense one (kiln_sparse_qgemm_cost, fitted on
// kiln-sparse-gemm-bench) the weight is stored as its groups, of the
// cheaper width, and the op becomes a kiln.sparse_qgemm with the same
// operands: the same result, bit for bit.
//
// The cost model's unit is the dense int8 GEMM's time per multiply-add, so
// the decision does not depend on M (both costs are linear in it).
//
//===----------------------------------------------------------------------===//

#include "GemmWeights.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"

#include "kiln/kiln_qgemm_pack.h"
#include "kiln/kiln_sparse_qgemm_pack.h"

#include <vector>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPACKSPARSEQGEMMWEIGHTS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The bytes of a constant i8 blob, if the compiler holds them.
std::optional<ArrayRef<char>> bytesOf(ElementsAttr value) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    return blob->getData();
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(value); dense && !dense.isSplat())
    return dense.getRawData();
  return std::nullopt;
}

/// The k x n int8 weight (row-major) inside a kiln_qgemm_pack.h blob.
std::vector<int8_t> unpack(ArrayRef<char> packed, int64_t k, int64_t n) {
  std::vector<int8_t> b(size_t(k * n));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j)
      b[size_t(p * n + j)] = int8_t(packed[size_t(kiln_qgemm_packed_offset(k, p, j))]);
  return b;
}

/// The sparse layout chosen for one weight.
struct SparseChoice {
  int64_t width, groups;
  double cost, denseCost; // in dense int8 multiply-adds per row of A
};

/// The cheaper of the two widths by kiln_sparse_qgemm_cost, and the dense
/// GEMM's cost.
SparseChoice chooseWidth(const std::vector<int8_t> &b, int64_t k, int64_t n) {
  SparseChoice best{0, 0, 0.0, double(k) * double(n)};
  for (int64_t width : {4, 1}) {
    int64_t stored, groups;
    kiln_sparse_qgemm_count(b.data(), n, 1, k, n, width, &stored, &groups);
    const double cost = kiln_sparse_qgemm_cost(1, width, groups);
    if (!best.width || cost < best.cost)
      best = {width, groups, cost, best.denseCost};
  }
  return best;
}

struct PackSparseQGemmWeightsPass
    : mlir::kiln::impl::KilnPackSparseQGemmWeightsBase<PackSparseQGemmWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (mode != "auto" && mode != "always" && mode != "off") {
      module.emitError("kiln-pack-sparse-qgemm-weights: mode must be auto, always or off, not '")
          << mode << "'";
      return signalPassFailure();
    }
    if (mode == "off")
      return;
    SmallVector<QGemmOp> ops;
    module.walk([&](QGemmOp op) {
      if (op.hasTensorSemantics() && op.getBPacked().getDefiningOp<arith::ConstantOp>())
        ops.push_back(op);
    });
    llvm::StringSet<> released;
    IRRewriter rewriter(&getContext());
    for (QGemmOp op : ops) {
      auto value =
          cast<ElementsAttr>(op.getBPacked().getDefiningOp<arith::ConstantOp>().getValue());
      std::optional<ArrayRef<char>> packed = bytesOf(value);
      if (!packed)
        continue;
      const int64_t k = op.getK(), n = op.getN();
      std::vector<int8_t> b = unpack(*packed, k, n);
      SparseChoice choice = chooseWidth(b, k, n);
      if (mode == "auto" && choice.cost >= choice.denseCost)
        continue;
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
        released.insert(resource.getRawHandle().getKey());
      rewrite(rewriter, op, b, choice);
    }
    layout::releaseUnusedWeights(module, released);
  }

  void rewrite(IRRewriter &rewriter, QGemmOp op, const std::vector<int8_t> &b,
               const SparseChoice &choice) {
    const int64_t k = op.getK(), n = op.getN();
    std::vector<char> blob(size_t(kiln_sparse_qgemm_packed_size(n, choice.width, choice.groups)));
    kiln_sparse_qgemm_pack_b(b.data(), n, 1, k, n, choice.width, blob.data());
    rewriter.setInsertionPoint(op);
    Location loc = op.getLoc();
    auto blobType = RankedTensorType::get({int64_t(blob.size())}, rewriter.getI8Type());
    std::string name = "sparse_qgemm_weight_" + std::to_string(counter++);
    // 64-byte aligned, so that the blob's parts (kiln_sparse_qgemm_pack.h) are.
    Value sparse = arith::ConstantOp::create(
        rewriter, loc,
        DenseResourceElementsAttr::get(blobType, name,
                                       HeapAsmResourceBlob::allocateAndCopyWithAlign(blob, 64)));
    rewriter.replaceOpWithNewOp<SparseQGemmOp>(
        op, op.getResult().getType(), op.getA(), sparse, op.getBScale(), op.getAScale(),
        op.getAZeroPoint(), op.getBias(), op.getResidual(), op.getInit(), k, n, choice.width,
        choice.groups, static_cast<GemmActivation>(op.getActivation()));
  }

  int64_t counter = 0;
};

} // namespace
