//===- GpuContiguousBatches.cpp - One strided batch per batched GEMM ------===//
//
// cuBLASLt runs a batch of GEMMs with one stride per operand. Attention's
// products have two batch dims (batch, heads) and read Q, K and V in place
// from the projections' output [batch, seq, heads, head_dim] and write their
// result heads-merged: there the batch stride is not the heads' stride
// times the heads, so the two dims do not fold into one stride and the
// runtime loops one cuBLASLt call per entry of the shorter dim (BERT-base
// at batch 32: 12 calls per product, 288 a run). Here such an operand gets
// a contiguous copy with the batch dims first (a transpose kernel; the
// result is copied back after the product), so that the product is one
// call of batch x heads matrices. It pays where the calls saved outweigh
// the copies' memory traffic: only where the runtime would make at least
// `min-calls` calls.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUCONTIGUOUSBATCHES
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The contraction's two batch loops (in loop order) and their counts.
struct Batches {
  unsigned outer, inner;
  int64_t outerCount, innerCount;
};

std::optional<Batches> batchesOf(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !(mlir::kiln::lowering::isMultiplyAccumulate(op) ||
        mlir::kiln::lowering::halfMultiplyAccumulateType(op)))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(cast<linalg::LinalgOp>(op.getOperation()));
  if (failed(dims) || dims->batch.size() != 2 || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1)
    return std::nullopt;
  if (!llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isProjectedPermutation(); }))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned outer = std::min(dims->batch[0], dims->batch[1]);
  unsigned inner = std::max(dims->batch[0], dims->batch[1]);
  if (ShapedType::isDynamic(ranges[outer]) || ShapedType::isDynamic(ranges[inner]))
    return std::nullopt;
  return Batches{outer, inner, ranges[outer], ranges[inner]};
}

/// For `operand`, the permutation of its dims that puts the two batch dims
/// first (outer, inner), the others after them in their order; empty when
/// its batch strides already fold into one (outer = inner * count).
SmallVector<int64_t> unfoldedOrder(linalg::GenericOp op, OpOperand &operand,
                                   const Batches &batches) {
  auto type = cast<MemRefType>(operand.get().getType());
  AffineMap map = op.getMatchingIndexingMap(&operand);
  MLIRContext *context = op.getContext();
  unsigned outer = *map.getResultPosition(getAffineDimExpr(batches.outer, context));
  unsigned inner = *map.getResultPosition(getAffineDimExpr(batches.inner, context));
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || !type.hasStaticShape())
    return {};
  if (!ShapedType::isDynamic(strides[outer]) && !ShapedType::isDynamic(strides[inner]) &&
      strides[outer] == batches.innerCount * strides[inner])
    return {};
  SmallVector<int64_t> order{outer, inner};
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d != outer && d != inner)
      order.push_back(d);
  return order;
}

/// The copy of `output` to 16 bits that follows `op` (kiln-gpu-half-
/// storage's, after a GEMM), if nothing else uses `output` after `op`.
linalg::GenericOp storeConversionOf(linalg::GenericOp op, Value output) {
  // Past the target's alloc and the input copies' deallocs.
  auto store = dyn_cast_or_null<linalg::GenericOp>(mlir::kiln::lowering::nextBufferAccess(op));
  if (!store || !mlir::kiln::lowering::isStoreConversion(store) ||
      store.getDpsInputs()[0] != output)
    return nullptr;
  for (Operation *user : output.getUsers())
    if (user != store && !isa<memref::DeallocOp>(user) &&
        (user->getBlock() != op->getBlock() || op->isBeforeInBlock(user)))
      return nullptr;
  return store;
}

/// Gives `operand` of `op` a contiguous buffer in `order` (a copy of it;
/// for the output, copied back after `op`), and `op` reads it through its
/// map permuted likewise. `fill` is the op right before `op` if a fill.
void giveContiguousCopy(linalg::GenericOp op, OpOperand &operand, ArrayRef<int64_t> order,
                        linalg::FillOp fill) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value original = operand.get();
  auto type = cast<MemRefType>(original.getType());
  SmallVector<int64_t> shape;
  for (int64_t d : order)
    shape.push_back(type.getDimSize(d));
  auto copyType = MemRefType::get(shape, type.getElementType());
  Value copy = memref::AllocOp::create(b, loc, copyType);
  bool output = op.isDpsInit(&operand);
  // The output's initial value: `fill`, right before the product, fills
  // the copy instead (the copy back overwrites the original whole); any
  // other is copied in.
  if (output && fill && fill.hasPureBufferSemantics() &&
      fill.getDpsInitOperand(0)->get() == original) {
    fill.getDpsInitOperand(0)->set(copy);
    fill->moveAfter(copy.getDefiningOp());
  } else if (!output || op.payloadUsesValueFromOperand(&operand)) {
    linalg::TransposeOp::create(b, loc, original, copy, order);
  }
  AffineMap map = op.getMatchingIndexingMap(&operand);
  SmallVector<AffineExpr> results;
  for (int64_t d : order)
    results.push_back(map.getResult(d));
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  maps[operand.getOperandNumber()] = AffineMap::get(map.getNumDims(), 0, results, op.getContext());
  op.setIndexingMapsAttr(b.getAffineMapArrayAttr(maps));
  operand.set(copy);
  b.setInsertionPointAfter(op);
  if (output) {
    SmallVector<int64_t> back(order.size());
    for (auto [i, d] : llvm::enumerate(order))
      back[d] = int64_t(i);
    if (linalg::GenericOp store = storeConversionOf(op, original)) {
      // The output is then only copied to 16 bits (half storage): convert
      // the contiguous copy instead, which the GEMM does as it stores, and
      // move the 16-bit result back (half the bytes of moving C back),
      // where the copy was (its target is allocated by then).
      b.setInsertionPoint(store);
      Value target = store.getDpsInits()[0];
      auto halfType =
          MemRefType::get(shape, cast<MemRefType>(target.getType()).getElementType());
      Value half = memref::AllocOp::create(b, loc, halfType);
      IRMapping mapping;
      mapping.map(original, copy);
      mapping.map(target, half);
      b.clone(*store, mapping);
      linalg::TransposeOp::create(b, loc, half, target, back);
      memref::DeallocOp::create(b, loc, half);
      memref::DeallocOp::create(b, loc, copy);
      store->erase(); // the builder's insertion point was before it
      return;
    }
    linalg::TransposeOp::create(b, loc, copy, original, back);
  }
  memref::DeallocOp::create(b, loc, copy);
}

struct GpuContiguousBatchesPass
    : mlir::kiln::impl::KilnGpuContiguousBatchesBase<GpuContiguousBatchesPass> {
  using Base::Base;
  void runOnOperation() override {
    if (getOperation().isExternal() || minCalls <= 0)
      return; // 0: never
    // Found before any rewrite, which may erase a copy after a product.
    SmallVector<std::pair<linalg::GenericOp, Batches>> products;
    for (Operation &op : getOperation().getBody().front())
      if (auto generic = dyn_cast<linalg::GenericOp>(op))
        if (std::optional<Batches> batches = batchesOf(generic))
          // The runtime loops over the shorter batch dim (GpuGemm::run).
          if (std::min(batches->outerCount, batches->innerCount) >= minCalls)
            products.emplace_back(generic, *batches);
    for (auto &[op, batches] : products) {
      SmallVector<std::pair<OpOperand *, SmallVector<int64_t>>> unfolded;
      for (OpOperand &operand : op->getOpOperands())
        if (SmallVector<int64_t> order = unfoldedOrder(op, operand, batches); !order.empty())
          unfolded.emplace_back(&operand, std::move(order));
      auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
      for (auto &[operand, order] : unfolded)
        giveContiguousCopy(op, *operand, order, fill);
    }
  }
};

} // namespace
