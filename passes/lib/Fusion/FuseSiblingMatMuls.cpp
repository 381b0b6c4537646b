//===- FuseSiblingMatMuls.cpp - One GEMM for Linear layers sharing an input ===//
//
// Attention's Q, K and V projections read the same activation: three GEMMs
// of N = d, or one of N = 3d whose output is sliced. One GEMM packs (or,
// with --quantize int8, quantizes) A once instead of three times, and its
// wider N gives every thread more panels of B to split: what the fused QKV
// projection of onnxruntime's Attention op does too. The sums are the same
// (each column of C still sums over the same K in the same order), so the
// outputs do not change.
//
//===----------------------------------------------------------------------===//

#include "LinearLayers.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSESIBLINGMATMULS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::graph;

namespace {

Value i64Vector(OpBuilder &b, Location loc, int64_t value) {
  return ConstantOp::create(
      b, loc, DenseElementsAttr::get(RankedTensorType::get({1}, b.getI64Type()), value));
}

struct FuseSiblingMatMulsPass
    : mlir::kiln::impl::KilnFuseSiblingMatMulsBase<FuseSiblingMatMulsPass> {
  using Base::Base;

  void runOnOperation() override {
    // The Linear layers of each input and depth, with a bias and without
    // (a bias left on a slice would no longer be the GEMM's epilogue), in
    // program order.
    // (Keyed by A and 2 * K + has-bias.)
    llvm::MapVector<std::pair<Value, int64_t>, SmallVector<Linear>> siblings;
    getOperation().walk([&](MatMulOp matmul) {
      if (std::optional<Linear> linear = linearOf(matmul))
        siblings[{matmul.getLhs(), 2 * linear->k + (linear->biasAdd ? 1 : 0)}].push_back(
            std::move(*linear));
    });
    for (auto &[key, layers] : siblings)
      if (layers.size() >= 2)
        fuse(key.first, layers);
  }

  void fuse(Value a, MutableArrayRef<Linear> layers) {
    const int64_t k = layers.front().k;
    int64_t n = 0;
    SmallVector<Location> locs;
    for (Linear &l : layers) {
      n += l.n;
      locs.push_back(l.matmul.getLoc());
    }
    // K x (N1 + N2 + ...), row by row; the biases end to end.
    std::vector<float> weight(size_t(k * n)), bias;
    for (int64_t p = 0, column = 0; p < k; ++p, column = 0)
      for (Linear &l : layers) {
        std::copy_n(l.weight.begin() + p * l.n, l.n, weight.begin() + p * n + column);
        column += l.n;
      }
    for (Linear &l : layers)
      bias.insert(bias.end(), l.bias.begin(), l.bias.end());

    // Before the first layer: `a` and the constants are defined there.
    OpBuilder b(layers.front().matmul);
    Location loc = FusedLoc::get(&getContext(), locs);
    std::string name = "fused_weight_" + std::to_string(counter++);
    Value w = floatConstant(b, loc, {k, n}, weight, name);
    auto aType = cast<RankedTensorType>(a.getType());
    SmallVector<int64_t> shape(aType.getShape());
    shape.back() = n;
    auto type = RankedTensorType::get(shape, b.getF32Type());
    // The fused location names every layer: the first is the node's name
    // (lowering::onnxNodeOf: the profile's, the accuracy report's and
    // calibration's), and --quantize-exclude of any of them keeps the whole
    // GEMM in fp32 (lowering::namesAnyNodeOf).
    Value y = MatMulOp::create(b, loc, type, a, w);
    if (layers.front().biasAdd)
      y = AddOp::create(b, layers.front().biasAdd.getLoc(), type, y,
                        floatConstant(b, loc, {n}, bias, name + "_bias"));
    Value axis = i64Vector(b, loc, int64_t(shape.size()) - 1), step = i64Vector(b, loc, 1);
    int64_t start = 0;
    for (Linear &l : layers) {
      Value output = l.output();
      Value slice = SliceOp::create(b, l.matmul.getLoc(), output.getType(), y,
                                    i64Vector(b, loc, start), i64Vector(b, loc, start + l.n), axis,
                                    step);
      output.replaceAllUsesWith(slice);
      start += l.n;
    }
    // Only now: the builder inserts before the first layer's matmul.
    for (Linear &l : layers) {
      if (l.biasAdd)
        l.biasAdd.erase();
      l.matmul.erase();
    }
  }

  int64_t counter = 0;
};

} // namespace
