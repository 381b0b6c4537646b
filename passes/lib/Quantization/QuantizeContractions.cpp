//===- QuantizeContractions.cpp - fp32 contractions to int8 GEMMs ---------===//
//
// `--quantize int8`: a Linear layer's contraction with a constant weight
// becomes a kiln.qgemm (dynamic per-row uint8 activations, per-column
// symmetric int8 weights, exact int32 sums; see KilnUkernelOps.td). The
// weight is quantized and packed here, once; its marked epilogue (bias,
// activation, residual) moves into the op. Everything else stays fp32.
// `--quantize int8-static` differs only in A: the module's
// kiln.activation_quantization gives each layer's calibrated per-tensor
// !quant.uniform type, which becomes the op's a_scale and a_zero_point.
//
// Per-column weight scales and per-row activation scales are what keeps
// accuracy on trained Transformers (a per-tensor activation scale is set by
// the few outlier rows): on all-MiniLM-L6-v2 per-tensor weights and
// activations, as ORT's quantize_dynamic does by default, give a mean
// cosine to fp32 of 0.96; see docs/quantization.md for the figures.
//
//===----------------------------------------------------------------------===//

#include "../Layout/GemmWeights.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"

#include "kiln/kiln_abi.h"
#include "kiln/kiln_qgemm_pack.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNQUANTIZECONTRACTIONS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::layout;

namespace {

/// A weight quantized to int8 with one scale per column, packed.
struct QuantizedWeight {
  std::vector<int8_t> packed; // kiln_qgemm_packed_size(k, n) bytes
  std::vector<float> scales;  // n
};

QuantizedWeight quantizeWeight(ArrayRef<float> data, const WeightView &v) {
  auto at = [&](int64_t p, int64_t j) { return data[size_t(p * v.kStride + j * v.nStride)]; };
  QuantizedWeight w{std::vector<int8_t>(size_t(kiln_qgemm_packed_size(v.k, v.n))),
                    std::vector<float>(size_t(v.n))};
  std::vector<int8_t> q(size_t(v.k * v.n)); // row-major K x N
  for (int64_t j = 0; j < v.n; ++j) {
    float amax = 0.0f;
    for (int64_t p = 0; p < v.k; ++p)
      amax = std::max(amax, std::fabs(at(p, j)));
    // An all-zero column quantizes to zeros with any scale.
    float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    w.scales[size_t(j)] = scale;
    for (int64_t p = 0; p < v.k; ++p) {
      float r = std::nearbyint(at(p, j) / scale); // half to even, as ONNX
      q[size_t(p * v.n + j)] = int8_t(std::clamp(r, -127.0f, 127.0f));
    }
  }
  kiln_qgemm_pack_b(q.data(), v.n, 1, v.k, v.n, w.packed.data());
  return w;
}

struct QuantizeContractionsPass
    : mlir::kiln::impl::KilnQuantizeContractionsBase<QuantizeContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringSet<> excluded;
    for (const std::string &name : exclude)
      excluded.insert(name);
    // The dialect verified its entries (uint8 over 0..255, f32 scales).
    activationTypes = getContext()
                          .getOrLoadDialect<KilnDialect>()
                          ->getActivationQuantizationAttrHelper()
                          .getAttr(module);
    // Found before any rewrite: quantizing one erases its epilogue's op.
    SmallVector<std::pair<linalg::GenericOp, PackableWeight>> contractions;
    module.walk([&](linalg::GenericOp op) {
      if (lowering::namesAnyNodeOf(op.getLoc(), excluded))
        return;
      std::optional<PackableWeight> weight = packableWeight(op);
      if (weight && hasRowMajorOperands(op, *weight) && isZeroFilled(op.getDpsInits()[0]))
        contractions.emplace_back(op, *weight);
    });
    llvm::StringSet<> released;
    IRRewriter rewriter(&getContext());
    for (auto &[op, weight] : contractions) {
      auto value = cast<ElementsAttr>(weight.constant.getValue());
      std::optional<ArrayRef<float>> data = floatsOf(value);
      WeightView view = viewOf(weightMatrixShape(op, weight), weight);
      if (!data || view.k > KILN_QGEMM_MAX_K)
        continue;
      quant::UniformQuantizedType activation;
      if (activationTypes) {
        std::optional<std::pair<StringRef, StringRef>> node = lowering::onnxNodeOf(op.getLoc());
        auto entry = node ? activationTypes.getAs<TypeAttr>(node->first) : nullptr;
        if (!entry) {
          op.emitError("kiln.activation_quantization has no calibrated type for this layer")
                  .attachNote()
              << "--quantize int8-static calibrates every layer it quantizes; keep this one in "
                 "fp32 with --quantize-exclude, or use --quantize int8";
          return signalPassFailure();
        }
        activation = cast<quant::UniformQuantizedType>(entry.getValue());
      }
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
        released.insert(resource.getRawHandle().getKey());
      quantize(rewriter, op, quantizeWeight(*data, view), view, activation);
      continue;
    }
    releaseUnusedWeights(module, released);
  }

  /// `aType`: A's static quantization, or null for per row.
  void quantize(IRRewriter &rewriter, linalg::GenericOp op, const QuantizedWeight &weight,
                const WeightView &view, quant::UniformQuantizedType aType) {
    Location loc = op.getLoc();
    RowsUkernelOperands operands = rowsUkernelOperands(rewriter, op);
    Builder &b = rewriter;
    auto blobType = RankedTensorType::get({int64_t(weight.packed.size())}, b.getI8Type());
    std::string name = "qgemm_weight_" + std::to_string(counter++);
    Value packed = arith::ConstantOp::create(
        rewriter, loc,
        DenseResourceElementsAttr::get(
            blobType, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef(weight.packed), 64)));
    Value scales = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({view.n}, b.getF32Type()),
                               ArrayRef(weight.scales)));
    Value aScale, aZeroPoint;
    if (aType) {
      aScale = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                 float(aType.getScale())));
      Type u8 = b.getIntegerType(8, /*isSigned=*/false);
      aZeroPoint = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(RankedTensorType::get({}, u8),
                                 APInt(8, uint64_t(aType.getZeroPoint()))));
    }
    Value result = QGemmOp::create(rewriter, loc, op.getResult(0).getType(), operands.a, packed,
                                   scales, aScale, aZeroPoint, operands.bias, operands.residual,
                                   operands.init, view.k, view.n, operands.activation)
                       .getResult();
    replaceByRowsUkernel(rewriter, op, operands, result);
  }

  int64_t counter = 0;
  DictionaryAttr activationTypes; // kiln.activation_quantization, if any
};

} // namespace
