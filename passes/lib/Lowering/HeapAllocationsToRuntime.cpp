//===- HeapAllocationsToRuntime.cpp - Heap buffers the runtime keeps track of -===//
//
// What kiln-plan-memory leaves as memref.alloc (the function's outputs,
// which the runtime hands to the caller; buffers whose size cannot be
// computed at the entry; allocs inside loops) would be malloc()ed by the
// generated code and freed before it returns. A run-time check that fails
// ends the run on the spot instead (kiln_fail_fn longjmp()s back into the
// runtime), past those frees: every failed run would leak what it had
// allocated so far, outputs included. Here those buffers come from the
// runtime (kiln_rt_alloc and kiln_rt_release, the context's `alloc` and
// `release`), which knows the run's live blocks and frees them when the run
// fails.
//
// All or nothing per function: a memref.dealloc frees whatever buffer its
// operand derives from (through views, casts and branches), so deallocs
// become kiln_rt_release only where every alloc of the function became a
// kiln_rt_alloc.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Passes/Passes.h"
#include "kiln/kiln_abi.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNHEAPALLOCATIONSTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln::lowering;

namespace {

constexpr StringLiteral kAllocFunction = "kiln_rt_alloc";
constexpr StringLiteral kReleaseFunction = "kiln_rt_release";
constexpr int64_t kBlockAlignment = KILN_MEMORY_ALIGNMENT;

/// Whether `alloc` can be a memref.view of a runtime block: a plain
/// row-major buffer of host memory, of scalars, at most 64-byte aligned,
/// from code that sees the function's context argument.
bool isRoutable(memref::AllocOp alloc, func::FuncOp func) {
  MemRefType type = alloc.getType();
  return type.getLayout().isIdentity() && !type.getMemorySpace() &&
         type.getElementType().isIntOrIndexOrFloat() &&
         alloc.getAlignment().value_or(kBlockAlignment) <= kBlockAlignment &&
         alloc->getParentWithTrait<OpTrait::IsIsolatedFromAbove>() == func.getOperation();
}

/// The byte size of `alloc`'s buffer, computed where it is allocated. The
/// element count fits: kiln-check-allocation-sizes bounds dynamic sizes
/// before this, the verifier static ones.
Value bytesOf(OpBuilder &b, memref::AllocOp alloc, const DataLayout &layout) {
  MemRefType type = alloc.getType();
  Location loc = alloc.getLoc();
  int64_t staticElements = 1;
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d))
      staticElements *= d;
  int64_t elementBytes = layout.getTypeSize(type.getElementType());
  Value bytes = arith::ConstantIndexOp::create(b, loc, staticElements * elementBytes);
  for (Value size : alloc.getDynamicSizes())
    bytes = arith::MulIOp::create(b, loc, bytes, size);
  return bytes;
}

/// Rewrites `func`'s allocs and deallocs; whether it did.
bool routeFunction(func::FuncOp func) {
  Value context = runtimeContextArgument(func);
  if (!context)
    return false;
  SmallVector<memref::AllocOp> allocs;
  SmallVector<memref::DeallocOp> deallocs;
  bool allRoutable = true;
  func.walk([&](Operation *op) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      allocs.push_back(alloc);
      allRoutable &= isRoutable(alloc, func);
    } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      deallocs.push_back(dealloc);
    }
  });
  if (allocs.empty() || !allRoutable)
    return false;

  DataLayout layout = DataLayout::closest(func);
  auto blockType = MemRefType::get({ShapedType::kDynamic}, IntegerType::get(func.getContext(), 8));
  for (memref::AllocOp alloc : allocs) {
    OpBuilder b(alloc);
    Location loc = alloc.getLoc();
    Value block = func::CallOp::create(b, loc, kAllocFunction, TypeRange{blockType},
                                       ValueRange{context, bytesOf(b, alloc, layout)})
                      .getResult(0);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    // The view's `allocated` and `aligned` pointers are both the block's:
    // what the runtime hands over as an output, and what a release names.
    Value view =
        memref::ViewOp::create(b, loc, alloc.getType(), block, zero, alloc.getDynamicSizes());
    alloc.getResult().replaceAllUsesWith(view);
    alloc.erase();
  }
  // Every buffer a dealloc frees is now a runtime block, whose first byte
  // its aligned pointer addresses (views of it, casts and subviews keep
  // that pointer; extract_strided_metadata's base buffer too).
  for (memref::DeallocOp dealloc : deallocs) {
    OpBuilder b(dealloc);
    Location loc = dealloc.getLoc();
    Value base = memref::ExtractStridedMetadataOp::create(b, loc, dealloc.getMemref())
                     .getBaseBuffer();
    Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, base);
    func::CallOp::create(b, loc, kReleaseFunction, TypeRange{}, ValueRange{context, address});
    dealloc.erase();
  }
  return true;
}

struct HeapAllocationsToRuntimePass
    : mlir::kiln::impl::KilnHeapAllocationsToRuntimeBase<HeapAllocationsToRuntimePass> {
  void runOnOperation() override {
    bool routed = false;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal())
        routed |= routeFunction(func);
    if (routed) {
      declareMemoryCall(getOperation(), kAllocFunction);
      declareDescriptorCall(getOperation(), kReleaseFunction);
    }
  }
};
} // namespace
