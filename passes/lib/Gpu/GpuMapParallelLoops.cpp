//===- GpuMapParallelLoops.cpp - Top-level loop nests as kernel launches --===//
//
// After convert-linalg-to-parallel-loops, each op of the model is a loop
// nest at the top of the function: an scf.parallel over its parallel dims
// with its reductions as scf.for inside. This pass runs each such nest as a
// gpu.launch, one iteration of the parallel dims per thread. The iteration
// space is linearized (innermost dim fastest) rather than mapped dim by dim
// onto the grid's x/y/z: neighbouring threads then touch neighbouring
// elements whatever the nest's rank, and no dim is capped by the grid's
// y/z limits. Upstream's gpu-map-parallel-loops instead maps the outermost
// parallel loop to blocks alone (one thread per block when it is the only
// level), which is why Kiln has its own.
//
// With elements-per-thread > 1 a thread of a large enough nest covers that
// many iterations, all their loads before their stores: a GPU hides memory
// latency with loads in flight, and at one 16-bit load a thread the threads
// an SM holds keep too few bytes in flight to reach the memory's bandwidth.
//
// Whatever else touches memory at the top level (a full reduction's scf.for,
// a lone load or store) runs as a one-thread kernel: the host cannot read
// device memory.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <numeric>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUMAPPARALLELLOOPS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr int64_t kWarpSize = 32;

/// Whether the host may run `op`: it only makes, views or names buffers,
/// computes scalars, or calls the runtime. Anything that reads or writes
/// buffer contents must run on the device.
bool runsOnHost(Operation *op) {
  if (isa<gpu::LaunchOp, func::CallOp, func::ReturnOp>(op))
    return true;
  // Loads and stores of host stack memory: a runtime call's descriptor.
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return load.getMemRef().getDefiningOp<memref::AllocaOp>() != nullptr;
  if (auto store = dyn_cast<memref::StoreOp>(op))
    return store.getMemRef().getDefiningOp<memref::AllocaOp>() != nullptr;
  if (isa<memref::CopyOp, memref::AtomicRMWOp>(op))
    return false;
  // A loop or branch of host work (runtime calls over a batch, a failed
  // check's call) stays on the host.
  if (isa<scf::ForOp, scf::IfOp>(op)) {
    bool host = true;
    op->walk([&](Operation *inner) {
      if (inner != op && !isa<scf::YieldOp>(inner) && !runsOnHost(inner))
        host = false;
    });
    return host;
  }
  if (op->getNumRegions() > 0)
    return false;
  // Allocs, views, casts, get_global, dim and pointer extraction do not
  // touch buffer contents; nor does anything without memory effects.
  return isa_and_nonnull<memref::MemRefDialect>(op->getDialect()) || isMemoryEffectFree(op);
}

/// A host alloc left in the function that is not an output: kernels would
/// be handed host memory. (kiln-plan-memory puts every other buffer in
/// device scratch; this one it could not.)
LogicalResult checkHostAllocs(func::FuncOp func) {
  // Returned as it is, or through a cast (canonicalization makes the static
  // sizes of an output's symbolic-shape alloc static, and casts back).
  auto returned = [](Value buffer) {
    return llvm::any_of(buffer.getUsers(), [](Operation *user) {
      if (auto cast = dyn_cast<memref::CastOp>(user))
        return llvm::any_of(cast->getUsers(), llvm::IsaPred<func::ReturnOp>);
      return isa<func::ReturnOp>(user);
    });
  };
  for (auto alloc : func.getBody().front().getOps<memref::AllocOp>())
    if (!returned(alloc.getResult()))
      return alloc.emitError("cannot place this buffer in device memory (")
             << alloc.getType() << "): its size is not known at the top of the function";
  return success();
}

struct Launch {
  gpu::LaunchOp op;
  OpBuilder body; // inside the launch, before its terminator
};

Launch createLaunch(OpBuilder &b, Location loc, Value blocks, Value threads) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);
  Block &block = launch.getBody().front();
  OpBuilder body = OpBuilder::atBlockEnd(&block);
  auto terminator = gpu::TerminatorOp::create(body, loc);
  body.setInsertionPoint(terminator);
  return {launch, body};
}

/// How a thread covers several iterations: `count` copies of the body,
/// dim `dim`'s range split into `count` parts of `part` iterations, copy j
/// at offset j * part in it.
struct Coarsening {
  int64_t count = 1;
  unsigned dim = 0;
  int64_t part = 0;
};

/// Whether copies of `body` may do all their reads before any copy writes:
/// straight-line ops whose only memory effects are memref.load and
/// memref.store, every store after every load. (Another iteration's
/// elements are another thread's when there is one thread per iteration,
/// so moving one copy's loads above another's stores orders nothing the
/// loop's semantics order.)
bool readsBeforeWrites(Block *body) {
  bool stored = false;
  for (Operation &op : body->without_terminator()) {
    if (op.getNumRegions() > 0)
      return false;
    if (isa<memref::StoreOp>(op))
      stored = true;
    else if (isa<memref::LoadOp>(op) ? stored : !isMemoryEffectFree(&op))
      return false;
  }
  return true;
}

/// The most iterations per thread (at most `maxCount`) that leave at least
/// `minThreads` threads, splitting the outermost dim whose trip count the
/// count divides (the innermost only into parts of a warp or more, so that
/// a warp's threads still touch neighbouring elements); one if none does
/// or the body's reads cannot all come first.
Coarsening chooseCoarsening(scf::ParallelOp loop, ArrayRef<int64_t> trips, int64_t total,
                            int64_t maxCount, int64_t minThreads) {
  if (!readsBeforeWrites(loop.getBody()))
    return {};
  for (int64_t count = maxCount; count > 1; --count) {
    if (total % count != 0 || total / count < minThreads)
      continue;
    for (unsigned d = 0; d < trips.size(); ++d) {
      bool innermost = d + 1 == trips.size();
      if (trips[d] % count == 0 && (!innermost || trips[d] / count >= kWarpSize))
        return {count, d, trips[d] / count};
    }
  }
  return {};
}

/// scf.parallel without reductions → a launch of one thread per iteration,
/// or per `coarsening.count` iterations: then the thread runs the body's
/// ops one by one, each for all its iterations, so that the loads of all
/// of them are in flight together instead of each waiting on memory in
/// turn (what keeps a memory-bound kernel near the memory's bandwidth).
/// Each copy's iterations are neighbouring threads' neighbouring elements.
void mapParallelLoop(scf::ParallelOp loop, int64_t blockSize, int64_t maxElementsPerThread,
                     int64_t minThreads) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  // Trip count of each dim, and their product.
  SmallVector<Value> trips;
  SmallVector<int64_t> staticTrips;
  Value total = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = arith::SubIOp::create(b, loc, ub, lb);
    Value trip = arith::CeilDivUIOp::create(b, loc, span, step);
    trips.push_back(trip);
    total = arith::MulIOp::create(b, loc, total, trip);
    std::optional<int64_t> l = getConstantIntValue(lb), u = getConstantIntValue(ub),
                           s = getConstantIntValue(step);
    if (l && u && s && *s > 0)
      staticTrips.push_back(std::max<int64_t>(0, (*u - *l + *s - 1) / *s));
  }
  std::optional<int64_t> staticTotal;
  if (staticTrips.size() == trips.size())
    staticTotal = std::accumulate(staticTrips.begin(), staticTrips.end(), int64_t(1),
                                  std::multiplies<int64_t>());
  Coarsening coarsening;
  if (staticTotal)
    coarsening =
        chooseCoarsening(loop, staticTrips, *staticTotal, maxElementsPerThread, minThreads);
  Value threadCount = total;
  if (coarsening.count > 1) {
    trips[coarsening.dim] = arith::ConstantIndexOp::create(b, loc, coarsening.part);
    threadCount = arith::ConstantIndexOp::create(b, loc, *staticTotal / coarsening.count);
  }
  // Small nests get one warp-rounded block instead of a mostly idle one.
  int64_t threadsPerBlock = blockSize;
  if (staticTotal)
    threadsPerBlock =
        std::clamp<int64_t>((*staticTotal / coarsening.count + kWarpSize - 1) / kWarpSize *
                                kWarpSize,
                            kWarpSize, blockSize);
  Value threads = arith::ConstantIndexOp::create(b, loc, threadsPerBlock);
  Value blocks = arith::CeilDivUIOp::create(b, loc, threadCount, threads);
  Launch launch = createLaunch(b, loc, blocks, threads);
  OpBuilder &k = launch.body;
  gpu::KernelDim3 blockIds = launch.op.getBlockIds(), threadIds = launch.op.getThreadIds();
  Value id = arith::AddIOp::create(
      k, loc, arith::MulIOp::create(k, loc, blockIds.x, threads), threadIds.x);
  Value inRange = arith::CmpIOp::create(k, loc, arith::CmpIPredicate::ult, id, threadCount);
  auto guard = scf::IfOp::create(k, loc, inRange, /*withElseRegion=*/false);
  OpBuilder inner = OpBuilder::atBlockBegin(guard.thenBlock());
  inner.setInsertionPoint(guard.thenBlock()->getTerminator());
  // Delinearize, innermost dim fastest.
  SmallVector<Value> indices(trips.size());
  Value rest = id;
  for (int64_t d = int64_t(trips.size()) - 1; d >= 0; --d) {
    indices[d] = d == 0 ? rest : arith::RemUIOp::create(inner, loc, rest, trips[d]);
    if (d > 0)
      rest = arith::DivUIOp::create(inner, loc, rest, trips[d]);
  }
  // Copy `copy`'s induction variables.
  auto mapCopy = [&](int64_t copy) {
    IRMapping mapping;
    for (auto [d, index] : llvm::enumerate(indices)) {
      Value at = index;
      if (copy > 0 && d == coarsening.dim)
        at = arith::AddIOp::create(
            inner, loc, index,
            arith::ConstantIndexOp::create(inner, loc, copy * coarsening.part));
      Value scaled = arith::MulIOp::create(inner, loc, at, loop.getStep()[d]);
      mapping.map(loop.getInductionVars()[d],
                  arith::AddIOp::create(inner, loc, loop.getLowerBound()[d], scaled));
    }
    return mapping;
  };
  // Op by op, each op for every copy: the copies' loads come first and
  // side by side, then each computation for every copy, then the stores.
  SmallVector<IRMapping> copies;
  for (int64_t copy = 0; copy < coarsening.count; ++copy)
    copies.push_back(mapCopy(copy));
  for (Operation &op : loop.getBody()->without_terminator())
    for (IRMapping &mapping : copies)
      inner.clone(op, mapping);
  loop.erase();
}

/// Any other ops that touch memory → a launch of one thread. `ops` are
/// consecutive, and only they use one another's results (a 0-d linalg op
/// becomes a load and a store).
void runOnOneThread(ArrayRef<Operation *> ops) {
  OpBuilder b(ops.front());
  Location loc = ops.front()->getLoc();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Launch launch = createLaunch(b, loc, one, one);
  for (Operation *op : ops)
    op->moveBefore(launch.body.getInsertionBlock(), launch.body.getInsertionPoint());
}

struct GpuMapParallelLoopsPass
    : mlir::kiln::impl::KilnGpuMapParallelLoopsBase<GpuMapParallelLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (blockSize < kWarpSize || blockSize > 1024 || blockSize % kWarpSize) {
      func.emitError("kiln-gpu-map-parallel-loops: block-size must be a multiple of 32 in "
                     "[32, 1024], not ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    if (elementsPerThread < 1 || minThreads < 1) {
      func.emitError("kiln-gpu-map-parallel-loops: elements-per-thread and min-threads must be "
                     "at least 1, not ")
          << static_cast<int64_t>(elementsPerThread) << " and " << static_cast<int64_t>(minThreads);
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError("the GPU path needs a function of one block");
      return signalPassFailure();
    }
    if (failed(checkHostAllocs(func)))
      return signalPassFailure();
    // Runs of consecutive device ops, each a loop nest to map or a group
    // for one thread.
    // Scalar arithmetic on a value read on the device runs there too.
    SmallVector<SmallVector<Operation *>> groups;
    llvm::SmallPtrSet<Operation *, 16> onDevice;
    Operation *previous = nullptr;
    for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
      bool usesDeviceValue = llvm::any_of(op.getOperands(), [&](Value v) {
        return v.getDefiningOp() && onDevice.contains(v.getDefiningOp());
      });
      bool followsDevice = usesDeviceValue && isMemoryEffectFree(&op) &&
                           !op.hasTrait<OpTrait::IsTerminator>() && !isa<func::CallOp>(op);
      if (runsOnHost(&op) && !followsDevice) {
        // Host arithmetic amid a one-thread group (a 0-d check's condition
        // on symbolic dims: store, load, sizes compared, or-ed in, store)
        // moves before the group, which stays one launch and takes the
        // result as a parameter; its operands are host values from before.
        if (previous && !isa<scf::ParallelOp>(previous) && isMemoryEffectFree(&op) &&
            op.getNumRegions() == 0 && !op.hasTrait<OpTrait::IsTerminator>()) {
          op.moveBefore(groups.back().front());
          continue;
        }
        previous = nullptr;
        continue;
      }
      onDevice.insert(&op);
      auto loop = dyn_cast<scf::ParallelOp>(op);
      bool mappable = loop && loop.getNumReductions() == 0;
      bool joinsPrevious = previous && !mappable && !isa<scf::ParallelOp>(previous) &&
                           previous->getNextNode() == &op;
      if (joinsPrevious)
        groups.back().push_back(&op);
      else
        groups.push_back({&op});
      previous = &op;
    }
    for (ArrayRef<Operation *> group : groups) {
      for (Operation *op : group)
        for (Operation *user : op->getUsers())
          if (!llvm::is_contained(group, func.getBody().front().findAncestorOpInBlock(*user))) {
            op->emitError("cannot run on the GPU: the host would need this op's results (")
                << op->getName() << ")";
            return signalPassFailure();
          }
      auto loop = dyn_cast<scf::ParallelOp>(group.front());
      if (group.size() == 1 && loop && loop.getNumReductions() == 0)
        mapParallelLoop(loop, blockSize, elementsPerThread, minThreads);
      else
        runOnOneThread(group);
    }
  }
};
} // namespace
