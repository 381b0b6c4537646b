//===- GpuUnpackDynamicMemRefs.cpp - Symbolic shapes into kernels ---------===//
//
// Kernels take memrefs as bare pointers, so a kernel knows a memref's
// shape, strides and offset only from its type. A launch that uses a
// memref of symbolic shape (or layout) instead gets its base buffer, a
// rank-0 memref (one pointer), and the symbolic parts as index values,
// and rebuilds the memref inside: outlining turns both into kernel
// parameters. Static memrefs, the usual case, pass unchanged.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUUNPACKDYNAMICMEMREFS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// Whether a kernel can take `type` as a bare pointer: static shape,
/// strides and offset.
bool passesAsBarePointer(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return type.hasStaticShape() && succeeded(type.getStridesAndOffset(strides, offset)) &&
         !ShapedType::isDynamic(offset) && llvm::none_of(strides, ShapedType::isDynamic);
}

/// Static entries of `shape` as attributes, symbolic ones as the matching
/// value of `values`.
SmallVector<OpFoldResult> mixed(OpBuilder &b, ArrayRef<int64_t> shape, ValueRange values) {
  SmallVector<OpFoldResult> result;
  for (auto [size, value] : llvm::zip_equal(shape, values))
    result.push_back(ShapedType::isDynamic(size) ? OpFoldResult(value)
                                                 : OpFoldResult(b.getIndexAttr(size)));
  return result;
}

LogicalResult unpack(gpu::LaunchOp launch, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return launch.emitError("a kernel uses a memref whose layout is not strided: ") << type;
  OpBuilder b(launch);
  Location loc = memref.getLoc();
  auto parts = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value rebuilt = memref::ReinterpretCastOp::create(
      b, loc, type, parts.getBaseBuffer(),
      ShapedType::isDynamic(offset) ? OpFoldResult(parts.getOffset())
                                    : OpFoldResult(b.getIndexAttr(offset)),
      mixed(b, type.getShape(), parts.getSizes()), mixed(b, strides, parts.getStrides()));
  memref.replaceUsesWithIf(rebuilt, [&](OpOperand &use) {
    return use.getOwner() != rebuilt.getDefiningOp() &&
           launch.getBody().isAncestor(use.getOwner()->getParentRegion());
  });
  return success();
}

struct GpuUnpackDynamicMemRefsPass
    : mlir::kiln::impl::KilnGpuUnpackDynamicMemRefsBase<GpuUnpackDynamicMemRefsPass> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp op) { launches.push_back(op); });
    for (gpu::LaunchOp launch : launches) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(launch.getBody(), captured);
      for (Value value : captured) {
        auto type = dyn_cast<MemRefType>(value.getType());
        if (type && !passesAsBarePointer(type) && failed(unpack(launch, value)))
          return signalPassFailure();
      }
    }
  }
};

} // namespace
