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
// kiln_rt_alloc. On the GPU path (returned-only) only the host buffers the
// function returns are taken: its other allocs are device memory, and an
// alloc inside a loop may yet end up inside a kernel, allocated there.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Passes/Passes.h"
#include "kiln/kiln_abi.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "llvm/ADT/DenseSet.h"

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

/// Whether a memref.dealloc frees `alloc`'s buffer through any memref
/// derived from it.
bool isDeallocated(memref::AllocOp alloc) {
  SmallVector<Value> worklist{alloc.getResult()};
  llvm::DenseSet<Value> seen{alloc.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (isa<memref::DeallocOp>(user))
        return true;
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()) && seen.insert(result).second)
          worklist.push_back(result);
    }
  }
  return false;
}

/// The allocs of `func` to take from the runtime, with the deallocs to
/// become releases; none where the function's buffers cannot all be
/// runtime blocks.
void collectBuffers(func::FuncOp func, bool returnedOnly, SmallVector<memref::AllocOp> &allocs,
                    SmallVector<memref::DeallocOp> &deallocs) {
  if (returnedOnly) {
    // The buffers the function returns as they are, which nothing frees.
    Block &body = func.getBody().front();
    auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
    for (auto alloc : body.getOps<memref::AllocOp>())
      if (ret && isRoutable(alloc, func) &&
          llvm::is_contained(ret.getOperands(), alloc.getResult()) && !isDeallocated(alloc))
        allocs.push_back(alloc);
    return;
  }
  bool allRoutable = true;
  func.walk([&](Operation *op) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      allocs.push_back(alloc);
      allRoutable &= isRoutable(alloc, func);
    } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      deallocs.push_back(dealloc);
    }
  });
  if (!allRoutable) {
    allocs.clear();
    deallocs.clear();
  }
}

/// Rewrites `func`'s allocs and deallocs; whether it did.
bool routeFunction(func::FuncOp func, bool returnedOnly) {
  Value context = runtimeContextArgument(func);
  if (!context || func.getBody().getBlocks().size() != 1)
    return false;
  SmallVector<memref::AllocOp> allocs;
  SmallVector<memref::DeallocOp> deallocs;
  collectBuffers(func, returnedOnly, allocs, deallocs);
  if (allocs.empty())
    return false;

  DataLayout layout = DataLayout::closest(func);
  auto blockType = MemRefType::get({ShapedType::kDynamic}, IntegerType::get(func.getContext(), 8));
  for (memref::AllocOp alloc : allocs) {
    OpBuilder b(alloc);
    Location loc = alloc.getLoc();
    // Sizes in place. The element count fits: kiln-check-allocation-sizes
    // bounds dynamic sizes before this, the verifier static ones.
    Value bytes = allocationBytes(b, alloc, layout, [](Value size) { return size; });
    Value block = func::CallOp::create(b, loc, kAllocFunction, TypeRange{blockType},
                                       ValueRange{context, bytes})
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
  using KilnHeapAllocationsToRuntimeBase::KilnHeapAllocationsToRuntimeBase;

  void runOnOperation() override {
    bool routed = false;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal())
        routed |= routeFunction(func, returnedOnly);
    if (routed) {
      declareMemoryCall(getOperation(), kAllocFunction);
      if (!returnedOnly)
        declareDescriptorCall(getOperation(), kReleaseFunction);
    }
  }
};
} // namespace
