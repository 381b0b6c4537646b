//===- PlanMemory.cpp - One scratch arena per run, reused by liveness -----===//
//
// After bufferization every intermediate tensor is a memref.alloc (a malloc
// per buffer per run, pages faulted in afresh for the large ones) freed at
// the end of the function. This pass places them in a few slots of scratch
// memory instead, borrowed from the runtime for the run
// (kiln_runtime_context::scratch: the session's arena, kept warm between
// runs):
//
//  * a buffer lives from its alloc to the last top-level op that uses it or
//    any view of it, or that checks a value loaded from it
//    (kiln.runtime_check: on the GPU path the check reads the flag from the
//    device where it stands, after kiln-lower-runtime-checks; CSE may have
//    left one load for several checks);
//  * buffers are given slots in program order, first fit among the slots
//    whose last occupant is dead, so slots are reused by liveness;
//  * a slot is as large as its largest occupant. With symbolic dims these
//    sizes are computed at run time, at the top of the function, from the
//    input dims (size computations are cloned there), where each slot is
//    requested from the runtime.
//
// Buffers the function returns (the runtime frees outputs), buffers whose
// size cannot be computed at entry, and allocs inside loops or branches keep
// their heap allocation (from the runtime: kiln-heap-allocations-to-runtime).
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "kiln/kiln_abi.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPLANMEMORY
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr StringLiteral kScratchFunction = "kiln_rt_scratch";
constexpr int64_t kAlignment = KILN_MEMORY_ALIGNMENT;

struct Buffer {
  memref::AllocOp alloc;
  int64_t first, last; // top-level positions
  int64_t slot = -1;
  Value bytes;         // at the function's entry
};

/// The op of `block` that holds `op` (itself, or an ancestor).
Operation *topLevelAncestor(Block &block, Operation *op) {
  while (op && op->getBlock() != &block)
    op = op->getParentOp();
  return op;
}

Value cloneToEntry(OpBuilder &b, Value value, Block &body, IRMapping &mapping);

/// Dim `dim` of `buffer`, computed at the entry: through the sizes of
/// allocs, views and expand_shapes and the groups of collapse_shapes back
/// to function arguments (whose buffers exist at entry); null where that
/// chain breaks.
Value dimAtEntry(OpBuilder &b, Value buffer, int64_t dim, Block &body, IRMapping &mapping) {
  auto type = cast<MemRefType>(buffer.getType());
  Location loc = buffer.getLoc();
  if (!type.isDynamicDim(dim))
    return arith::ConstantIndexOp::create(b, loc, type.getDimSize(dim));
  if (auto arg = dyn_cast<BlockArgument>(buffer))
    return arg.getOwner() == &body ? (Value)memref::DimOp::create(b, loc, buffer, dim) : nullptr;
  Operation *op = buffer.getDefiningOp();
  auto dynamicSize = [&](ValueRange sizes) -> Value {
    return cloneToEntry(b, sizes[type.getDynamicDimIndex(dim)], body, mapping);
  };
  if (auto alloc = dyn_cast<memref::AllocOp>(op))
    return dynamicSize(alloc.getDynamicSizes());
  if (auto view = dyn_cast<memref::ViewOp>(op))
    return dynamicSize(view.getSizes());
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(op)) {
    OpFoldResult size = expand.getMixedOutputShape()[dim];
    if (auto v = dyn_cast<Value>(size))
      return cloneToEntry(b, v, body, mapping);
    return arith::ConstantIndexOp::create(b, loc, *getConstantIntValue(size));
  }
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op)) {
    Value product = arith::ConstantIndexOp::create(b, loc, 1);
    SmallVector<ReassociationIndices> groups = collapse.getReassociationIndices();
    for (int64_t sourceDim : groups[dim]) {
      Value factor = dimAtEntry(b, collapse.getSrc(), sourceDim, body, mapping);
      if (!factor)
        return nullptr;
      product = arith::MulIOp::create(b, loc, product, factor);
    }
    return product;
  }
  return nullptr;
}

/// Clones the computation of `value` to the entry, if it only reads
/// function arguments and constants through side-effect-free, region-free
/// ops and dims of buffers dimAtEntry can trace; null otherwise.
Value cloneToEntry(OpBuilder &b, Value value, Block &body, IRMapping &mapping) {
  if (Value mapped = mapping.lookupOrNull(value))
    return mapped;
  if (auto arg = dyn_cast<BlockArgument>(value))
    return arg.getOwner() == &body ? value : nullptr;
  Operation *op = value.getDefiningOp();
  if (auto dimOp = dyn_cast<memref::DimOp>(op)) {
    std::optional<int64_t> index = dimOp.getConstantIndex();
    Value dim = index ? dimAtEntry(b, dimOp.getSource(), *index, body, mapping) : nullptr;
    if (dim)
      mapping.map(value, dim);
    return dim;
  }
  if (op->getBlock() != &body || op->getNumRegions() != 0 || !isMemoryEffectFree(op))
    return nullptr;
  for (Value operand : op->getOperands())
    if (!cloneToEntry(b, operand, body, mapping))
      return nullptr;
  Operation *clone = b.clone(*op, mapping);
  return clone->getResult(cast<OpResult>(value).getResultNumber());
}

/// alloc's size in bytes, rounded up to kAlignment, computed at the entry.
Value bytesAtEntry(OpBuilder &b, memref::AllocOp alloc, Block &body, IRMapping &mapping,
                   const DataLayout &layout) {
  Location loc = alloc.getLoc();
  Value bytes = mlir::kiln::lowering::allocationBytes(b, alloc, layout, [&](Value size) {
    return cloneToEntry(b, size, body, mapping);
  });
  if (!bytes)
    return nullptr;
  Value mask = arith::ConstantIndexOp::create(b, loc, kAlignment - 1);
  Value padded = arith::AddIOp::create(b, loc, bytes, mask);
  Value notMask = arith::ConstantIndexOp::create(b, loc, ~(kAlignment - 1));
  return arith::AndIOp::create(b, loc, padded, notMask);
}

/// The last top-level position of a kiln.runtime_check whose condition is
/// computed from `loaded` (a value loaded from a buffer), or -1.
int64_t lastCheckOf(Value loaded, Block &body,
                    const llvm::DenseMap<Operation *, int64_t> &position) {
  int64_t last = -1;
  SmallVector<Value> worklist{loaded};
  llvm::DenseSet<Value> seen{loaded};
  while (!worklist.empty()) {
    for (Operation *user : worklist.pop_back_val().getUsers()) {
      if (isa<kiln::RuntimeCheckOp>(user))
        if (Operation *top = topLevelAncestor(body, user))
          last = std::max(last, position.lookup(top));
      for (Value result : user->getResults())
        if (seen.insert(result).second)
          worklist.push_back(result);
    }
  }
  return last;
}

/// The last top-level position that uses `root` or a memref derived from
/// it, or checks a value loaded from them; none if a derived value leaves
/// the function or is stored.
std::optional<int64_t> lastUse(Value root, Block &body,
                               const llvm::DenseMap<Operation *, int64_t> &position) {
  int64_t last = position.lookup(root.getDefiningOp());
  SmallVector<Value> worklist{root};
  llvm::DenseSet<Value> seen{root};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp>(user))
        continue;
      if (isa<func::ReturnOp>(user))
        return std::nullopt;
      if (isa<memref::StoreOp>(user) && use.getOperandNumber() == 0)
        return std::nullopt; // the buffer itself stored somewhere
      Operation *top = topLevelAncestor(body, user);
      if (!top)
        return std::nullopt;
      last = std::max(last, position.lookup(top));
      if (isa<memref::LoadOp>(user))
        last = std::max(last, lastCheckOf(user->getResult(0), body, position));
      // Any memref an op derives from the buffer may alias it (views,
      // casts, reshapes, a yielded value of a loop).
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()) && seen.insert(result).second)
          worklist.push_back(result);
    }
  }
  return last;
}

/// Plans `func`'s buffers; whether an arena was made.
bool planFunction(func::FuncOp func) {
  Value context = mlir::kiln::lowering::runtimeContextArgument(func);
  if (!context || func.getBody().getBlocks().size() != 1)
    return false;
  Block &body = func.getBody().front();
  llvm::DenseMap<Operation *, int64_t> position;
  for (auto [i, op] : llvm::enumerate(body.getOperations()))
    position[&op] = i;

  DataLayout layout = DataLayout::closest(func);
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  IRMapping mapping;
  SmallVector<Buffer> buffers;
  for (Operation &op : body) {
    auto alloc = dyn_cast<memref::AllocOp>(op);
    if (!alloc || !alloc.getType().getLayout().isIdentity() ||
        !alloc.getType().getElementType().isIntOrIndexOrFloat() ||
        alloc.getAlignment().value_or(kAlignment) > kAlignment)
      continue;
    std::optional<int64_t> last = lastUse(alloc.getResult(), body, position);
    if (!last)
      continue;
    Value bytes = bytesAtEntry(b, alloc, body, mapping, layout);
    if (!bytes)
      continue;
    buffers.push_back({alloc, position[alloc], *last, -1, bytes});
  }
  if (buffers.empty())
    return false;

  // First fit, in program order, among slots whose occupant is dead.
  SmallVector<int64_t> slotFreeAfter;
  SmallVector<Value> slotBytes;
  Location loc = func.getLoc();
  for (Buffer &buffer : buffers) {
    for (auto [slot, freeAfter] : llvm::enumerate(slotFreeAfter)) {
      if (freeAfter < buffer.first) {
        buffer.slot = slot;
        break;
      }
    }
    if (buffer.slot == -1) {
      buffer.slot = slotFreeAfter.size();
      slotFreeAfter.push_back(0);
      slotBytes.push_back(buffer.bytes);
    } else {
      slotBytes[buffer.slot] =
          arith::MaxUIOp::create(b, loc, slotBytes[buffer.slot], buffer.bytes);
    }
    slotFreeAfter[buffer.slot] = buffer.last;
  }
  // One scratch call per slot, not one arena cut into views: LLVM then sees
  // each slot as its own object (the call is `noalias`, like malloc) and can
  // vectorize a loop that reads one slot and writes another, which it cannot
  // prove safe for two offsets into one base.
  auto slotType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> slotMemory;
  for (Value bytes : slotBytes)
    slotMemory.push_back(func::CallOp::create(b, loc, kScratchFunction, TypeRange{slotType},
                                              ValueRange{context, bytes})
                             .getResult(0));

  for (Buffer &buffer : buffers) {
    memref::AllocOp alloc = buffer.alloc;
    OpBuilder at(alloc);
    Value view = memref::ViewOp::create(at, alloc.getLoc(), alloc.getType(),
                                        slotMemory[buffer.slot], zero, alloc.getDynamicSizes());
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    alloc.getResult().replaceAllUsesWith(view);
    alloc.erase();
  }
  return true;
}

struct PlanMemoryPass : mlir::kiln::impl::KilnPlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    bool planned = false;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal())
        planned |= planFunction(func);
    if (planned)
      mlir::kiln::lowering::declareMemoryCall(getOperation(), kScratchFunction);
  }
};
} // namespace
