//===- CheckAllocationSizes.cpp - Run-time checks on allocation sizes -----===//
//
// Sizes that come from the inputs (Range, Expand, ConstantOfShape) can be
// absurd; malloc() then returns null and the first store crashes the
// process. The checks this pass places end the run with a status instead
// (kiln_runtime_context::fail does not return on the model's thread).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCHECKALLOCATIONSIZES
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Whether the element count of `alloc` (static dims times its dynamic
/// sizes) exceeds kMaxTensorElements, computed so that nothing overflows:
/// each dynamic size is compared with the limit divided by the count so far.
Value exceedsElementLimit(OpBuilder &b, Location loc, memref::AllocOp alloc) {
  IndexMath m{b, loc};
  MemRefType type = alloc.getType();
  int64_t staticCount = 1;
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d))
      staticCount *= std::max<int64_t>(d, 1); // verified <= 2^40 at compile time
  Value count = m.c(staticCount), tooBig;
  for (Value size : alloc.getDynamicSizes()) {
    Value room = m.floorDiv(m.c(kMaxTensorElements), m.max(count, m.c(1)));
    Value over = m.cmp(arith::CmpIPredicate::sgt, size, room);
    tooBig = tooBig ? arith::OrIOp::create(b, loc, tooBig, over).getResult() : over;
    count = m.mul(count, m.max(size, m.c(1)));
  }
  return tooBig;
}

struct CheckAllocationSizesPass
    : mlir::kiln::impl::KilnCheckAllocationSizesBase<CheckAllocationSizesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (!runtimeContextArgument(func))
      return; // nothing to fail a run through
    SmallVector<memref::AllocOp> allocs;
    func.walk([&](memref::AllocOp alloc) {
      if (!alloc.getDynamicSizes().empty())
        allocs.push_back(alloc);
    });
    for (memref::AllocOp alloc : allocs) {
      Location loc = alloc.getLoc();
      std::string node = describeNode(loc, "tensor");
      OpBuilder b(alloc);
      emitRuntimeCheck(b, loc, exceedsElementLimit(b, loc, alloc),
                       node + ": a tensor of more than 2^40 elements at run time (its size "
                              "comes from the inputs); Kiln does not allocate tensors that large");
      // malloc(0) may return null: only a tensor with elements must get memory.
      if (llvm::is_contained(alloc.getType().getShape(), 0))
        continue;
      b.setInsertionPointAfter(alloc);
      IndexMath m{b, loc};
      Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, alloc);
      Value null = m.cmp(arith::CmpIPredicate::eq, address, m.c(0));
      for (Value size : alloc.getDynamicSizes())
        null = arith::AndIOp::create(b, loc, null,
                                     m.cmp(arith::CmpIPredicate::sgt, size, m.c(0)));
      emitRuntimeCheck(b, loc, null,
                       node + ": out of memory: its output, sized at run time, cannot be "
                              "allocated");
    }
  }
};

} // namespace
