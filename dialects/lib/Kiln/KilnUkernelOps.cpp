//===- KilnUkernelOps.cpp - Typed calls of runtime micro-kernels ----------===//
//
// Verifiers and memory effects of the ukernel ops (KilnUkernelOps.td). The
// sizes they check are the runtime's own: kiln_qgemm_pack.h (and the sparse
// packs) are the one definition of each layout, for the compiler and the
// runtime.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnOps.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/InterleavedRange.h"
#include "llvm/ADT/SmallBitVector.h"

#include "kiln/kiln_abi.h"
#include "kiln/kiln_qgemm_pack.h"
#include "kiln/kiln_sparse_pack.h"
#include "kiln/kiln_sparse_qgemm_pack.h"

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

/// All operands tensors (one result, of init's type) or all memrefs (no
/// result): a ukernel op before or after bufferization.
LogicalResult verifyTensorsOrBuffers(Operation *op, Value init, Value result) {
  bool tensors = isa<RankedTensorType>(init.getType());
  for (Value operand : op->getOperands())
    if (isa<RankedTensorType>(operand.getType()) != tensors)
      return op->emitOpError("operands must be all tensors or all memrefs");
  if (tensors != bool(result) || (tensors && result.getType() != init.getType()))
    return op->emitOpError("has one result of init's type on tensors and none on memrefs");
  return success();
}

/// The checks kiln.qgemm and kiln.sparse_gemm share, on their output and
/// epilogue: `init` f32 of rank 2 or more with n columns whose leading dims
/// are a's M rows (contiguous when a buffer), `bias` n floats, `residual`
/// M x n, and all operands tensors (one result of init's type) or all
/// memrefs (no result).
LogicalResult verifyRowsOutput(Operation *op, Value a, Value init, Value bias, Value residual,
                               Value result, int64_t n) {
  Type f32 = Float32Type::get(op->getContext());
  auto initType = cast<ShapedType>(init.getType());
  if (!initType.hasRank() || initType.getRank() < 2 || initType.getElementType() != f32 ||
      !dimIs(initType, initType.getRank() - 1, n))
    return op->emitOpError("init must be f32 of rank 2 or more with ")
           << n << " columns, got " << initType;
  if (auto buffer = dyn_cast<MemRefType>(initType); buffer && !buffer.getLayout().isIdentity())
    return op->emitOpError("init must be a contiguous buffer (identity layout), got ") << initType;
  int64_t m = cast<ShapedType>(a.getType()).getDimSize(0);
  ArrayRef<int64_t> rows = initType.getShape().drop_back();
  if (!ShapedType::isDynamic(m) && !ShapedType::isDynamicShape(rows) &&
      m != ShapedType::getNumElements(rows))
    return op->emitOpError("a has ")
           << m << " rows but init has " << ShapedType::getNumElements(rows);
  if (bias && (!isShaped(bias.getType(), 1, f32) || !dimIs(bias.getType(), 0, n)))
    return op->emitOpError("bias must hold ") << n << " f32 values, got " << bias.getType();
  if (residual)
    if (!isShaped(residual.getType(), 2, f32) || !dimIs(residual.getType(), 1, n) ||
        (!ShapedType::isDynamic(m) && !dimIs(residual.getType(), 0, m)))
      return op->emitOpError("residual must be an f32 M x ")
             << n << " matrix, got " << residual.getType();
  return verifyTensorsOrBuffers(op, init, result);
}

} // namespace

/// The checks kiln.qgemm and kiln.sparse_qgemm share on their A and its
/// quantization and on b_scale (the runtime reads both from one
/// kiln_qgemm_desc).
static LogicalResult verifyQuantizedOperands(Operation *op, Value a, Value aScale,
                                             Value aZeroPoint, Value bScale, int64_t k,
                                             int64_t n) {
  if (k > KILN_QGEMM_MAX_K)
    return op->emitOpError("k = ") << k << " is deeper than the runtime's exact int32 sums allow ("
                                   << KILN_QGEMM_MAX_K << ")";
  Builder b(op->getContext());
  Type f32 = b.getF32Type(), u8 = b.getIntegerType(8, /*isSigned=*/false);
  if ((!isShaped(a.getType(), 2, f32) && !isShaped(a.getType(), 2, u8)) ||
      !dimIs(a.getType(), 1, k))
    return op->emitOpError("a must be an f32 or ui8 M x ") << k << " matrix, got " << a.getType();
  // An f32 a gets its scale and zero point per row from its own range,
  // unless a calibrated (static) a_scale is given.
  bool prequantized = isShaped(a.getType(), 2, u8);
  if (!prequantized && aZeroPoint && !aScale)
    return op->emitOpError("an f32 a with an a_zero_point needs its a_scale too (without both it "
                           "is quantized per row)");
  if (aScale && !isOneValue(aScale.getType(), f32))
    return op->emitOpError("a_scale must be one f32 value, got ") << aScale.getType();
  if (aZeroPoint && !isOneValue(aZeroPoint.getType(), u8))
    return op->emitOpError("a_zero_point must be one ui8 value, got ") << aZeroPoint.getType();
  if (!isShaped(bScale.getType(), 1, f32) || cast<ShapedType>(bScale.getType()).getDimSize(0) != n)
    return op->emitOpError("b_scale must hold ") << n << " f32 scales, got " << bScale.getType();
  return success();
}

LogicalResult QGemmOp::verify() {
  const int64_t k = getK(), n = getN();
  if (failed(verifyQuantizedOperands(getOperation(), getA(), getAScale(), getAZeroPoint(),
                                     getBScale(), k, n)))
    return failure();
  auto packed = cast<ShapedType>(getBPacked().getType());
  int64_t bytes = kiln_qgemm_packed_size(k, n);
  if (!isShaped(packed, 1, IntegerType::get(getContext(), 8)) || packed.getDimSize(0) != bytes)
    return emitOpError("b_packed must hold the ")
           << bytes << " bytes of a packed " << k << " x " << n << " int8 B, got " << packed;
  return verifyRowsOutput(getOperation(), getA(), getInit(), getBias(), getResidual(), getResult(),
                          n);
}

LogicalResult SparseQGemmOp::verify() {
  const int64_t k = getK(), n = getN(), width = getBlockWidth(), groups = getStoredGroups();
  if (failed(verifyQuantizedOperands(getOperation(), getA(), getAScale(), getAZeroPoint(),
                                     getBScale(), k, n)))
    return failure();
  if (!kiln_sparse_width_ok(width))
    return emitOpError("block_width must be 1 or 4 (the runtime's kernels), got ") << width;
  // Each block column holds at most ceil(k / 4) groups.
  const int64_t most = kiln_sparse_block_columns(n, width) * ((k + 3) / 4);
  if (groups > most)
    return emitOpError("stored_groups = ") << groups << " is more than a " << k << " x " << n
                                           << " B has groups of 4 blocks of " << width << " ("
                                           << most << ")";
  auto packed = cast<ShapedType>(getBPacked().getType());
  int64_t bytes = kiln_sparse_qgemm_packed_size(n, width, groups);
  if (!isShaped(packed, 1, IntegerType::get(getContext(), 8)) || packed.getDimSize(0) != bytes)
    return emitOpError("b_packed must hold the ")
           << bytes << " bytes of " << groups << " groups of 1 x " << width << " blocks of a " << k
           << " x " << n << " int8 B, got " << packed;
  return verifyRowsOutput(getOperation(), getA(), getInit(), getBias(), getResidual(), getResult(),
                          n);
}

/// A ukernel op on buffers reads every operand but its init, which it writes.
static void ukernelEffects(
    Operation *op, OpOperand &init,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (&operand == &init)
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

LogicalResult SparseGemmOp::verify() {
  const int64_t k = getK(), n = getN(), width = getBlockWidth(), stored = getStoredBlocks();
  Builder b(getContext());
  Type f32 = b.getF32Type(), i8 = b.getIntegerType(8);
  if (!isShaped(getA().getType(), 2, f32) || !dimIs(getA().getType(), 1, k))
    return emitOpError("a must be an f32 M x ") << k << " matrix, got " << getA().getType();
  if (!kiln_sparse_width_ok(width))
    return emitOpError("block_width must be 1 or 4 (the runtime's kernels), got ") << width;
  if (stored > k * kiln_sparse_block_columns(n, width))
    return emitOpError("stored_blocks = ")
           << stored << " is more than a " << k << " x " << n << " B has blocks of " << width;
  auto packed = cast<ShapedType>(getBPacked().getType());
  int64_t bytes = kiln_sparse_packed_size(n, width, stored);
  if (!isShaped(packed, 1, i8) || packed.getDimSize(0) != bytes)
    return emitOpError("b_packed must hold the ")
           << bytes << " bytes of " << stored << " blocks of 1 x " << width << " of a " << k
           << " x " << n << " B, got " << packed;
  return verifyRowsOutput(getOperation(), getA(), getInit(), getBias(), getResidual(), getResult(),
                          n);
}

void SparseGemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  if (!hasTensorSemantics())
    ukernelEffects(getOperation(), getInitMutable(), effects);
}

void QGemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  if (!hasTensorSemantics())
    ukernelEffects(getOperation(), getInitMutable(), effects);
}

void SparseQGemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  if (!hasTensorSemantics())
    ukernelEffects(getOperation(), getInitMutable(), effects);
}

//===----------------------------------------------------------------------===//
// FGemmOp
//===----------------------------------------------------------------------===//

namespace {

/// Whether `map` reads a B prepacked as bf16 pairs: (n floordiv W,
/// k floordiv 2, n mod W, k mod 2).
bool isBf16PanelMap(AffineMap map) {
  if (map.getNumResults() != 4)
    return false;
  AffineExpr n = getAffineDimExpr(FGemmOp::kN, map.getContext());
  AffineExpr k = getAffineDimExpr(FGemmOp::kK, map.getContext());
  auto div = dyn_cast<AffineBinaryOpExpr>(map.getResult(0));
  auto width = div ? dyn_cast<AffineConstantExpr>(div.getRHS()) : nullptr;
  return width && width.getValue() > 0 &&
         map.getResults() == ArrayRef<AffineExpr>{n.floorDiv(width.getValue()), k.floorDiv(2),
                                                  n % width.getValue(), k % 2};
}

/// The panel width W if `map` reads a prepacked B, (n floordiv W, k,
/// n mod W), or its bf16 form (isBf16PanelMap); 0 otherwise.
int64_t panelWidthOf(AffineMap map) {
  if (isBf16PanelMap(map))
    return cast<AffineConstantExpr>(cast<AffineBinaryOpExpr>(map.getResult(0)).getRHS())
        .getValue();
  if (map.getNumResults() != 3)
    return 0;
  auto div = dyn_cast<AffineBinaryOpExpr>(map.getResult(0));
  auto k = dyn_cast<AffineDimExpr>(map.getResult(1));
  auto mod = dyn_cast<AffineBinaryOpExpr>(map.getResult(2));
  if (!div || !k || !mod || div.getKind() != AffineExprKind::FloorDiv ||
      mod.getKind() != AffineExprKind::Mod || div.getLHS() != mod.getLHS() ||
      div.getRHS() != mod.getRHS() || k.getPosition() != FGemmOp::kK)
    return 0;
  auto n = dyn_cast<AffineDimExpr>(div.getLHS());
  auto width = dyn_cast<AffineConstantExpr>(div.getRHS());
  if (!n || n.getPosition() != FGemmOp::kN || !width || width.getValue() <= 0)
    return 0;
  return width.getValue();
}

/// Whether dim `dim` of `type` has a static unit stride.
bool hasUnitStride(MemRefType type, int64_t dim) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) && strides[dim] == 1;
}

} // namespace

int64_t FGemmOp::getPanelWidth() { return panelWidthOf(getIndexingMap(1)); }

LogicalResult FGemmOp::verify() {
  static constexpr StringLiteral loopNames[] = {"b0", "b1", "m", "n", "k"};
  const unsigned numOperands = getNumOperands();
  if (getIndexingMaps().size() != numOperands)
    return emitOpError("needs one indexing map per operand (")
           << numOperands << "), got " << getIndexingMaps().size();
  const unsigned a = 0, b = 1, init = getInitOperandNumber();
  std::optional<unsigned> bias = getBiasOperandNumber(), residual = getResidualOperandNumber();
  auto name = [&](unsigned operand) -> StringRef {
    if (operand == a) return "a";
    if (operand == b) return "b";
    if (operand == bias) return "bias";
    if (operand == residual) return "residual";
    return "init";
  };
  auto typeOf = [&](unsigned operand) { return cast<MemRefType>(getOperand(operand).getType()); };
  auto usedLoops = [&](unsigned operand) {
    llvm::SmallBitVector used(kNumLoops);
    for (AffineExpr e : getIndexingMap(operand).getResults())
      if (auto d = dyn_cast<AffineDimExpr>(e))
        used.set(d.getPosition());
    return used;
  };
  const int64_t panel = getPanelWidth();
  // Each loop's size, from the first operand with a static dim for it.
  SmallVector<int64_t, kNumLoops> loopSize(kNumLoops, ShapedType::kDynamic);
  SmallVector<unsigned, kNumLoops> loopSizeFrom(kNumLoops);
  Type f32 = Float32Type::get(getContext());
  for (unsigned operand = 0; operand < numOperands; ++operand) {
    MemRefType type = typeOf(operand);
    AffineMap map = getIndexingMap(operand);
    if (map.getNumDims() != kNumLoops || map.getNumSymbols() != 0 ||
        map.getNumResults() != unsigned(type.getRank()))
      return emitOpError("the map of ") << name(operand) << " must have the 5 loops (b0, b1, m, n, k) "
                                        << "and one result per dim of " << type << ", got " << AffineMapAttr::get(map);
    if (operand == b && isBf16PanelMap(map)) {
      // kiln-pack-gemm-weights-bf16's panels (kiln_bf16_pack.h): B rounded
      // to bf16, pairs of k side by side; the runtime call then has b_type
      // bf16 (kiln-fgemm-to-runtime).
      if (getBf16Inputs())
        return emitOpError("bf16_inputs is implied by a bf16-prepacked b: drop it");
      if (!type.getElementType().isBF16() || !type.hasStaticShape() ||
          !type.getLayout().isIdentity() || type.getDimSize(2) != panel || type.getDimSize(3) != 2)
        return emitOpError("a bf16-prepacked b must be a static contiguous P x K2/2 x ")
               << panel << " x 2 bf16 buffer, got " << type;
      if (!ShapedType::isDynamic(loopSize[kK]) && (loopSize[kK] + 1) / 2 != type.getDimSize(1))
        return emitOpError("b has ") << type.getDimSize(1) << " pairs of rows of k, a has "
                                     << loopSize[kK] << " rows";
      continue;
    }
    // a and b hold f32, or both one 16-bit type (the GPU's half storage);
    // bias and residual hold init's type: f32, or f16 / bf16.
    Type expected = operand == b ? typeOf(a).getElementType()
                    : operand == bias || operand == residual ? typeOf(init).getElementType()
                                                             : Type();
    Type element = type.getElementType();
    if (!expected && !(element.isF32() || element.isF16() || element.isBF16()))
      return emitOpError() << name(operand) << " must hold f32 (or f16, bf16), got " << type;
    if (expected && element != expected)
      return emitOpError() << name(operand) << " must hold " << expected << " as "
                           << (operand == b ? "a" : "init") << " does, got " << type;
    if (operand == init && !element.isF32() && element != typeOf(a).getElementType())
      return emitOpError("a 16-bit init needs a and b of its type, got a ") << typeOf(a);
    if ((operand == a || operand == b) && element != f32 && (panel || getBf16Inputs()))
      return emitOpError("16-bit a and b are read at run time as they are: no prepacked b, no "
                         "bf16_inputs");
    if (operand == b && panel && getBf16Inputs())
      return emitOpError("bf16_inputs rounds a b read at run time; a prepacked b is packed "
                         "as bf16 (kiln-pack-gemm-weights-bf16) or stays fp32");
    if (operand == b && panel) {
      if (!type.hasStaticShape() || !type.getLayout().isIdentity() || type.getDimSize(2) != panel)
        return emitOpError("a prepacked b must be a static contiguous P x K x ")
               << panel << " buffer, got " << type;
      if (!ShapedType::isDynamic(loopSize[kK]) && loopSize[kK] != type.getDimSize(1))
        return emitOpError("b has ") << type.getDimSize(1) << " rows of k, a has " << loopSize[kK];
      continue;
    }
    llvm::SmallBitVector seen(kNumLoops);
    for (auto [dim, e] : llvm::enumerate(map.getResults())) {
      if (auto c = dyn_cast<AffineConstantExpr>(e); c && c.getValue() == 0)
        continue;
      auto d = dyn_cast<AffineDimExpr>(e);
      if (!d)
        return emitOpError("the map of ") << name(operand)
                                          << " may only hold loops and 0, got " << AffineMapAttr::get(map);
      unsigned loop = d.getPosition();
      if (seen.test(loop))
        return emitOpError("the map of ") << name(operand) << " uses loop " << loopNames[loop]
                                          << " twice: " << AffineMapAttr::get(map);
      seen.set(loop);
      int64_t size = type.getDimSize(dim);
      if (ShapedType::isDynamic(size))
        continue;
      if (!ShapedType::isDynamic(loopSize[loop]) && loopSize[loop] != size)
        return emitOpError("loop ") << loopNames[loop] << " has size " << loopSize[loop] << " in "
                                    << name(loopSizeFrom[loop]) << " but " << size << " in "
                                    << name(operand);
      loopSize[loop] = size;
      loopSizeFrom[loop] = operand;
    }
  }
  llvm::SmallBitVector usedByA = usedLoops(a), usedByInit = usedLoops(init);
  llvm::SmallBitVector usedByB(kNumLoops);
  if (panel)
    usedByB.set(kN), usedByB.set(kK);
  else
    usedByB = usedLoops(b);
  if (!usedByA.test(kK) || !usedByB.test(kK))
    return emitOpError("a and b must both use loop k");
  if (usedByA.test(kN) || usedByB.test(kM))
    return emitOpError("a must not use loop n, nor b loop m");
  if (usedByInit.test(kK))
    return emitOpError("init must not use loop k (the only reduction)");
  llvm::SmallBitVector inputs = usedByA | usedByB;
  inputs.reset(kK);
  if ((inputs & ~usedByInit).any())
    return emitOpError("init must use every loop a and b use but k");
  for (std::optional<unsigned> operand : {std::optional<unsigned>(init), bias, residual}) {
    if (!operand)
      continue;
    for (auto [dim, e] : llvm::enumerate(getIndexingMap(*operand).getResults())) {
      auto d = dyn_cast<AffineDimExpr>(e);
      if (d && d.getPosition() == kN && !hasUnitStride(typeOf(*operand), dim))
        return emitOpError() << name(*operand) << " must have a unit stride along n, got "
                             << typeOf(*operand);
    }
  }
  if (bias) {
    AffineMap map = getIndexingMap(*bias);
    auto last = map.getNumResults() ? dyn_cast<AffineDimExpr>(map.getResults().back()) : nullptr;
    if (usedLoops(*bias).count() != 1 || !last || last.getPosition() != kN)
      return emitOpError("bias must use loop n only, as its last dim, got ") << AffineMapAttr::get(map);
  }
  if (residual && (usedLoops(*residual) & ~usedByInit).any())
    return emitOpError("residual must not use a loop that init lacks");
  return success();
}

void FGemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    bool written = &operand == &getInitMutable();
    if (!written || getAccumulate())
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
    if (written)
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

//===----------------------------------------------------------------------===//
// SoftmaxRowsOp
//===----------------------------------------------------------------------===//

/// Whether a buffer's last dim is contiguous (stride 1, or a single
/// element); tensors always are.
bool SoftmaxRowsOp::hasContiguousRows(Type type) {
  auto buffer = dyn_cast<MemRefType>(type);
  if (!buffer || buffer.getRank() == 0 || buffer.getDimSize(buffer.getRank() - 1) == 1)
    return true;
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(buffer.getStridesAndOffset(strides, offset)) && strides.back() == 1;
}

/// Whether `type` holds a row op's values: f32, or f16 / bf16 (the GPU
/// path's half storage, kiln-gpu-half-storage: loaded and stored as such,
/// computed in f32; the CPU runtime takes f32 only).
static bool isRowElementType(Type type) { return type.isF32() || type.isF16() || type.isBF16(); }

/// What the runtime's row ops (softmax, layer norm) need of x and init: f32
/// (or 16-bit) of rank 1 to maxRank, x's rows contiguous, init of x's shape
/// and contiguous.
static LogicalResult verifyRowsOperands(Operation *op, Value x, Value init, int64_t maxRank) {
  auto xType = cast<ShapedType>(x.getType());
  auto initType = cast<ShapedType>(init.getType());
  if (!xType.hasRank() || xType.getRank() < 1 || xType.getRank() > maxRank ||
      !isRowElementType(xType.getElementType()))
    return op->emitOpError("x must be f32 (or f16, bf16) of rank 1 to ")
           << maxRank << ", got " << xType;
  if (!initType.hasRank() || initType.getRank() != xType.getRank() ||
      !isRowElementType(initType.getElementType()) ||
      failed(verifyCompatibleShape(initType.getShape(), xType.getShape())))
    return op->emitOpError("init must be f32 (or f16, bf16) of x's shape, got ") << initType;
  if (auto buffer = dyn_cast<MemRefType>(initType); buffer && !buffer.getLayout().isIdentity())
    return op->emitOpError("init must be a contiguous buffer (identity layout), got ")
           << initType;
  if (!SoftmaxRowsOp::hasContiguousRows(xType))
    return op->emitOpError("x's rows must be contiguous (stride 1 along the last dim), got ")
           << xType;
  return success();
}

LogicalResult SoftmaxRowsOp::verify() {
  if (failed(verifyRowsOperands(getOperation(), getX(), getInit(), kMaxRank)))
    return failure();
  auto xType = cast<ShapedType>(getX().getType());
  if (Value addend = getAddend()) {
    auto addendType = cast<ShapedType>(addend.getType());
    if (!addendType.hasRank() || addendType.getRank() > xType.getRank() ||
        !isRowElementType(addendType.getElementType()))
      return emitOpError("addend must be f32 (or f16, bf16) of rank at most x's, got ")
             << addendType;
    int64_t lead = xType.getRank() - addendType.getRank();
    for (int64_t j = 0; j < addendType.getRank(); ++j) {
      int64_t size = addendType.getDimSize(j), xSize = xType.getDimSize(lead + j);
      if (size != 1 && !ShapedType::isDynamic(size) && !ShapedType::isDynamic(xSize) &&
          size != xSize)
        return emitOpError("addend dim ")
               << j << " (" << size << ") is neither 1 nor x's (" << xSize << ")";
    }
    if (!hasContiguousRows(addend.getType()))
      return emitOpError("addend's rows must be contiguous or one value wide, got ")
             << addendType;
  }
  return verifyTensorsOrBuffers(getOperation(), getInit(), getResult());
}

void SoftmaxRowsOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  if (!hasTensorSemantics())
    ukernelEffects(getOperation(), getInitMutable(), effects);
}

//===----------------------------------------------------------------------===//
// LayerNormRowsOp
//===----------------------------------------------------------------------===//

LogicalResult LayerNormRowsOp::verify() {
  if (failed(verifyRowsOperands(getOperation(), getX(), getInit(), kMaxRank)))
    return failure();
  Type f32 = Float32Type::get(getContext());
  auto xType = cast<ShapedType>(getX().getType());
  const int64_t n = xType.getDimSize(xType.getRank() - 1);
  for (auto [name, value] : {std::pair<StringRef, Value>{"scale", getScale()}, {"bias", getBias()}}) {
    if (!value)
      continue;
    auto type = cast<ShapedType>(value.getType());
    if (!type.hasRank() || type.getRank() != 1 || type.getElementType() != f32 ||
        failed(verifyCompatibleShape({type.getDimSize(0)}, {n})))
      return emitOpError() << name << " must be 1-D f32 of x's last dim (" << n << "), got "
                           << type;
    if (auto buffer = dyn_cast<MemRefType>(type); buffer && !SoftmaxRowsOp::hasContiguousRows(buffer))
      return emitOpError() << name << " must be contiguous, got " << type;
  }
  return verifyTensorsOrBuffers(getOperation(), getInit(), getResult());
}

void LayerNormRowsOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  if (!hasTensorSemantics())
    ukernelEffects(getOperation(), getInitMutable(), effects);
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  // f32, or on the GPU (kiln-gpu-half-storage, kiln-gpu-attention-kernels)
  // f16 or bf16: each operand is read, and the result stored, in its own.
  for (auto [name, value] : {std::pair<StringRef, Value>{"q", getQ()}, {"kt", getKt()},
                             {"v", getV()}, {"init", getInit()}}) {
    auto type = cast<ShapedType>(value.getType());
    if (!type.hasRank() || type.getRank() != 4 || !isRowElementType(type.getElementType()))
      return emitOpError() << name << " must be f32 (or f16, bf16) of rank 4, got "
                           << value.getType();
  }
  if (auto buffer = dyn_cast<MemRefType>(getInit().getType()); buffer && !buffer.getLayout().isIdentity())
    return emitOpError("init must be a contiguous buffer (identity layout), got ") << buffer;
  for (auto [name, perm] : {std::pair<StringRef, std::optional<ArrayRef<int64_t>>>{"q_perm", getQPerm()},
                            {"kt_perm", getKtPerm()}, {"v_perm", getVPerm()}}) {
    if (!perm)
      continue;
    SmallVector<int64_t> sorted(perm->begin(), perm->end());
    llvm::sort(sorted);
    if (sorted != SmallVector<int64_t>{0, 1, 2, 3})
      return emitOpError() << name << " must be a permutation of [0, 4), got ["
                           << llvm::interleaved(*perm) << "]";
  }
  auto init = cast<ShapedType>(getInit().getType());
  // The operands' shapes as the op reads them (through their perms).
  auto logical = [&](Value operand, ArrayRef<int64_t> order) {
    SmallVector<int64_t, 4> shape;
    for (int64_t d = 0; d < 4; ++d)
      shape.push_back(cast<ShapedType>(operand.getType()).getDimSize(order[d]));
    return RankedTensorType::get(shape, Float32Type::get(getContext()));
  };
  auto q = logical(getQ(), qOrder()), kt = logical(getKt(), ktOrder()),
       v = logical(getV(), vOrder());
  auto compatible = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  // The result's B, H, Sq, Dv, wherever init holds them.
  SmallVector<int64_t, 4> out;
  for (int64_t d : outputDims())
    out.push_back(init.getDimSize(d));
  if (!compatible(q.getDimSize(3), kt.getDimSize(2)))
    return emitOpError("q's last dim (") << q.getDimSize(3) << ") is not kt's rows ("
                                         << kt.getDimSize(2) << ")";
  if (!compatible(kt.getDimSize(3), v.getDimSize(2)))
    return emitOpError("kt's last dim (") << kt.getDimSize(3) << ") is not v's rows ("
                                          << v.getDimSize(2) << ")";
  if (!compatible(q.getDimSize(2), out[2]) || !compatible(v.getDimSize(3), out[3]))
    return emitOpError("init ") << init << " does not hold q's rows by v's columns"
                                << (getTransposedOutput() ? " (heads interleaved)" : "");
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"q", q}, {"kt", kt}, {"v", v}})
    for (int64_t d = 0; d < 2; ++d)
      if (type.getDimSize(d) != 1 && !compatible(type.getDimSize(d), out[d]))
        return emitOpError() << name << "'s batch dim " << d << " (" << type.getDimSize(d)
                             << ") is neither 1 nor the result's (" << out[d] << ")";
  if (Value addend = getAddend()) {
    auto addendType = cast<ShapedType>(addend.getType());
    if (!addendType.hasRank() || addendType.getRank() > 4 ||
        !isRowElementType(addendType.getElementType()))
      return emitOpError("addend must be f32 (or f16, bf16) of rank at most 4, got ")
             << addendType;
    const int64_t scores[4] = {out[0], out[1], out[2], kt.getDimSize(3)};
    int64_t lead = 4 - addendType.getRank();
    for (int64_t j = 0; j < addendType.getRank(); ++j) {
      int64_t size = addendType.getDimSize(j);
      if (size != 1 && !compatible(size, scores[lead + j]))
        return emitOpError("addend dim ") << j << " (" << size
                                          << ") is neither 1 nor the scores' (" << scores[lead + j]
                                          << ")";
    }
    if (!SoftmaxRowsOp::hasContiguousRows(addendType))
      return emitOpError("addend's rows must be contiguous or one value wide, got ") << addendType;
  }
  return verifyTensorsOrBuffers(getOperation(), getInit(), getResult());
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  if (!hasTensorSemantics())
    ukernelEffects(getOperation(), getInitMutable(), effects);
}
