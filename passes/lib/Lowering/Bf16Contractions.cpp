//===- Bf16Contractions.cpp - Contractions with a bf16-packed weight ------===//

#include "Bf16Contractions.h"
#include "LoweringUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::kiln;

AffineMap lowering::bf16PanelMap(unsigned numLoops, unsigned kLoop, unsigned nLoop,
                                 int64_t panel, MLIRContext *context) {
  AffineExpr n = getAffineDimExpr(nLoop, context), k = getAffineDimExpr(kLoop, context);
  return AffineMap::get(numLoops, 0, {n.floorDiv(panel), k.floorDiv(2), n % panel, k % 2},
                        context);
}

/// Whether the body is `out + a * extf(b)` with b a bf16 block argument.
static bool isMultiplyAccumulateOfBf16(linalg::GenericOp op) {
  std::optional<std::pair<Value, Value>> factors =
      lowering::accumulatedFactors(op, /*extraOps=*/1);
  Block &body = op.getRegion().front();
  if (!factors || !body.getArgument(1).getType().isBF16())
    return false;
  Value a = body.getArgument(0);
  Value b = factors->first == a ? factors->second : factors->second == a ? factors->first : Value();
  auto ext = b ? b.getDefiningOp<arith::ExtFOp>() : nullptr;
  return ext && ext.getIn() == body.getArgument(1);
}

std::optional<lowering::Bf16PackedB> lowering::bf16PackedBOf(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 || !isMultiplyAccumulateOfBf16(op))
    return std::nullopt;
  auto type = dyn_cast<ShapedType>(op.getDpsInputs()[1].getType());
  if (!type || type.getRank() != 4 || !type.hasStaticShape() || type.getDimSize(3) != 2)
    return std::nullopt;
  if (auto memref = dyn_cast<MemRefType>(type); memref && !memref.getLayout().isIdentity())
    return std::nullopt;
  AffineMap map = op.getIndexingMapsArray()[1];
  auto div = dyn_cast<AffineBinaryOpExpr>(map.getResult(0));
  auto n = div ? dyn_cast<AffineDimExpr>(div.getLHS()) : nullptr;
  auto kDiv = dyn_cast<AffineBinaryOpExpr>(map.getResult(1));
  auto k = kDiv ? dyn_cast<AffineDimExpr>(kDiv.getLHS()) : nullptr;
  const int64_t panel = type.getDimSize(2);
  if (!n || !k || n == k ||
      map != bf16PanelMap(op.getNumLoops(), k.getPosition(), n.getPosition(), panel,
                          op.getContext()))
    return std::nullopt;
  return Bf16PackedB{k.getPosition(), n.getPosition(), panel};
}
