//===- KilnUkernelOps.cpp - Typed calls of runtime micro-kernels ----------===//
//
// Verifiers and memory effects of the ukernel ops (KilnUkernelOps.td). The
// sizes they check are the runtime's own: kiln_qgemm_pack.h is the one
// definition of the packed int8 layout, for the compiler and the runtime.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnOps.h"

#include "kiln/kiln_abi.h"
#include "kiln/kiln_qgemm_pack.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Whether `type` has rank `rank` and element type `element`.
bool isShaped(Type type, int64_t rank, Type element) {
  auto shaped = cast<ShapedType>(type);
  return shaped.hasRank() && shaped.getRank() == rank && shaped.getElementType() == element;
}

/// Whether `type` holds exactly one `element` (of any rank).
bool isOneValue(Type type, Type element) {
  auto shaped = cast<ShapedType>(type);
  return shaped.hasStaticShape() && shaped.getNumElements() == 1 &&
         shaped.getElementType() == element;
}

/// Whether a dim is `expected` (or not known until run time).
bool dimIs(Type type, int64_t dim, int64_t expected) {
  int64_t size = cast<ShapedType>(type).getDimSize(dim);
  return ShapedType::isDynamic(size) || size == expected;
}

} // namespace

LogicalResult QGemmOp::verify() {
  const int64_t k = getK(), n = getN();
  if (k > KILN_QGEMM_MAX_K)
    return emitOpError("k = ") << k << " is deeper than the runtime's exact int32 sums allow ("
                               << KILN_QGEMM_MAX_K << ")";
  Builder b(getContext());
  Type f32 = b.getF32Type(), i8 = b.getIntegerType(8),
       u8 = b.getIntegerType(8, /*isSigned=*/false);
  if ((!isShaped(getA().getType(), 2, f32) && !isShaped(getA().getType(), 2, u8)) ||
      !dimIs(getA().getType(), 1, k))
    return emitOpError("a must be an f32 or ui8 M x ")
           << k << " matrix, got " << getA().getType();
  // An f32 a gets its scale and zero point per row from its own range.
  bool prequantized = isShaped(getA().getType(), 2, u8);
  if (!prequantized && (getAScale() || getAZeroPoint()))
    return emitOpError("a_scale and a_zero_point need a ui8 a (an f32 a is quantized per row)");
  if (Value scale = getAScale(); scale && !isOneValue(scale.getType(), f32))
    return emitOpError("a_scale must be one f32 value, got ") << scale.getType();
  if (Value zeroPoint = getAZeroPoint(); zeroPoint && !isOneValue(zeroPoint.getType(), u8))
    return emitOpError("a_zero_point must be one ui8 value, got ") << zeroPoint.getType();
  auto packed = cast<ShapedType>(getBPacked().getType());
  int64_t bytes = kiln_qgemm_packed_size(k, n);
  if (!isShaped(packed, 1, i8) || packed.getDimSize(0) != bytes)
    return emitOpError("b_packed must hold the ")
           << bytes << " bytes of a packed " << k << " x " << n << " int8 B, got " << packed;
  if (!isShaped(getBScale().getType(), 1, f32) ||
      cast<ShapedType>(getBScale().getType()).getDimSize(0) != n)
    return emitOpError("b_scale must hold ") << n << " f32 scales, got " << getBScale().getType();
  auto init = cast<ShapedType>(getInit().getType());
  if (!init.hasRank() || init.getRank() < 2 || init.getElementType() != f32 ||
      !dimIs(init, init.getRank() - 1, n))
    return emitOpError("init must be f32 of rank 2 or more with ")
           << n << " columns, got " << init;
  if (auto buffer = dyn_cast<MemRefType>(init); buffer && !buffer.getLayout().isIdentity())
    return emitOpError("init must be a contiguous buffer (identity layout), got ") << init;
  int64_t m = cast<ShapedType>(getA().getType()).getDimSize(0);
  ArrayRef<int64_t> rows = init.getShape().drop_back();
  if (!ShapedType::isDynamic(m) && !ShapedType::isDynamicShape(rows) &&
      m != ShapedType::getNumElements(rows))
    return emitOpError("a has ") << m << " rows but init has " << ShapedType::getNumElements(rows);
  if (Value bias = getBias();
      bias && (!isShaped(bias.getType(), 1, f32) || !dimIs(bias.getType(), 0, n)))
    return emitOpError("bias must hold ") << n << " f32 values, got " << bias.getType();
  if (Value residual = getResidual())
    if (!isShaped(residual.getType(), 2, f32) || !dimIs(residual.getType(), 1, n) ||
        (!ShapedType::isDynamic(m) && !dimIs(residual.getType(), 0, m)))
      return emitOpError("residual must be an f32 M x ") << n << " matrix, got "
                                                          << residual.getType();
  // All tensors (one result of init's type) or all memrefs (no result).
  bool tensors = isa<RankedTensorType>(init);
  for (Value operand : getOperands())
    if (isa<RankedTensorType>(operand.getType()) != tensors)
      return emitOpError("operands must be all tensors or all memrefs");
  if (tensors != bool(getResult()) || (tensors && getResult().getType() != Type(init)))
    return emitOpError("has one result of init's type on tensors and none on memrefs");
  return success();
}

void QGemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  if (hasTensorSemantics())
    return;
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (&operand == &getInitMutable())
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}
