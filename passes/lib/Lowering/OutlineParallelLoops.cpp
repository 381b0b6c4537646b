//===- OutlineParallelLoops.cpp - Parallel loop nests into callable bodies -===//
//
// After the remaining linalg ops became loops (convert-linalg-to-parallel-
// loops), each outermost scf.parallel of a function with a
// kiln.runtime_context argument is outlined into a private function
//
//   func.func private @kiln_parallel_body_N(%lo, %hi, %ctx, %cost, captures...)
//
// that runs iterations [lo, hi) of the loop's whole iteration space, the
// dims linearised row-major into n = product of trip counts items. The
// body walks those items as rows (the outer dims, delinearised once per
// row) and an innermost loop over a clamped range of the last dim, so the
// innermost loop stays a plain unit-stride loop LLVM can vectorize. The
// loop becomes
//
//   func.call @kiln_parallel_body_N(%c0, %n, %ctx, %cost, captures...) {kiln.parallel}
//
// which is a correct serial call by itself; kiln-parallel-calls-to-runtime
// later turns it into kiln_rt_parallel_for on the session's threads. %cost
// is the rough number of operations per item (the body's ops, inner loops
// counted by their trip counts), computed at run time where trip counts are
// dynamic.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNOUTLINEPARALLELLOOPS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr StringLiteral kBodyPrefix = "kiln_parallel_body_";
constexpr StringLiteral kParallelCallAttr = kiln::KilnDialect::ParallelAttrHelper::getNameStr();
constexpr StringLiteral kParallelBodyAttr =
    kiln::KilnDialect::ParallelBodyAttrHelper::getNameStr();
/// Flat LLVM parameter indices (after memref descriptors are expanded) of
/// the pointers that no other parameter of the body aliases while written.
constexpr StringLiteral kNoAliasAttr =
    kiln::KilnDialect::ParallelNoaliasAttrHelper::getNameStr();

/// An index that is a compile-time constant where it can be, folded as it
/// is built.
class IndexBuilder {
public:
  IndexBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpFoldResult constant(int64_t v) { return b.getIndexAttr(v); }
  Value value(OpFoldResult v) { return getValueOrCreateConstantIndexOp(b, loc, v); }

  OpFoldResult mul(OpFoldResult x, OpFoldResult y) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cx && cy)
      return constant(*cx * *cy);
    if (cx == 1 || cy == 0)
      return y;
    if (cy == 1 || cx == 0)
      return x;
    return arith::MulIOp::create(b, loc, value(x), value(y)).getResult();
  }
  OpFoldResult add(OpFoldResult x, OpFoldResult y) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cx && cy)
      return constant(*cx + *cy);
    if (cx == 0)
      return y;
    if (cy == 0)
      return x;
    return arith::AddIOp::create(b, loc, value(x), value(y)).getResult();
  }
  OpFoldResult sub(OpFoldResult x, OpFoldResult y) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cx && cy)
      return constant(*cx - *cy);
    if (cy == 0)
      return x;
    return arith::SubIOp::create(b, loc, value(x), value(y)).getResult();
  }
  /// ceil(x / y) for x >= 0, y > 0.
  OpFoldResult ceilDiv(OpFoldResult x, OpFoldResult y) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cy == 1)
      return x;
    if (cx && cy)
      return constant((*cx + *cy - 1) / *cy);
    return arith::CeilDivUIOp::create(b, loc, value(x), value(y)).getResult();
  }
  /// The trip count of [lb, ub) step s (ub >= lb).
  OpFoldResult tripCount(Value lb, Value ub, Value step) {
    return ceilDiv(sub(fold(ub), fold(lb)), fold(step));
  }
  OpFoldResult fold(Value v) {
    if (auto c = getConstantIntValue(v))
      return constant(*c);
    return v;
  }

private:
  OpBuilder &b;
  Location loc;
};

/// Library math functions a loop body may call (what convert-math-to-funcs
/// and -to-libm would produce, should a body already hold such calls).
bool isMathFunction(StringRef name) {
  static const llvm::StringSet<> names = {
      "expf", "exp",  "logf", "log",  "erff", "erf",   "tanhf", "tanh", "sqrtf", "sqrt",
      "powf", "pow",  "sinf", "sin",  "cosf", "cos",   "tanf",  "tan",  "atanf", "atan",
      "fabsf", "fabs", "floorf", "floor", "ceilf", "ceil", "roundf", "round", "fmodf", "fmod",
      "atan2f", "atan2", "expm1f", "expm1", "log1pf", "log1p", "cbrtf", "cbrt", "erfcf", "erfc",
      "asinf", "asin", "acosf", "acos", "sinhf", "sinh", "coshf", "cosh", "asinhf", "asinh",
      "acoshf", "acosh", "atanhf", "atanh", "log2f", "log2", "log10f", "log10", "exp2f", "exp2",
      "truncf", "trunc", "rintf", "rint"};
  return names.contains(name);
}

/// Why the loop cannot run on other threads, or empty.
std::string unsafeForThreads(scf::ParallelOp loop) {
  if (loop.getNumResults() != 0)
    return "it reduces into results";
  std::string why;
  loop.getBody()->walk([&](Operation *op) {
    if (auto call = dyn_cast<CallOpInterface>(op)) {
      auto callee = dyn_cast_if_present<SymbolRefAttr>(call.getCallableForCallee());
      if (!callee || !isMathFunction(callee.getLeafReference().getValue())) {
        why = "its body calls a function";
        return WalkResult::interrupt();
      }
    }
    if (isa<memref::DeallocOp>(op)) {
      why = "its body frees memory";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return why;
}

/// Rough operations per run of `block`: one per op, loops times their trip
/// counts (a guess of 16 where a bound is computed inside `outlined`).
OpFoldResult costOf(IndexBuilder &ib, Block &block, Operation *outlined) {
  OpFoldResult total = ib.constant(0);
  int64_t plain = 0;
  auto trip = [&](Value lb, Value ub, Value step) -> OpFoldResult {
    for (Value v : {lb, ub, step})
      if (outlined->isAncestor(v.getParentRegion()->getParentOp()))
        return ib.constant(16);
    return ib.tripCount(lb, ub, step);
  };
  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::ConstantLike>() || op.hasTrait<OpTrait::IsTerminator>())
      continue;
    if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      OpFoldResult n = trip(forOp.getLowerBound(), forOp.getUpperBound(), forOp.getStep());
      total = ib.add(total, ib.mul(n, costOf(ib, *forOp.getBody(), outlined)));
      continue;
    }
    if (auto par = dyn_cast<scf::ParallelOp>(op)) {
      OpFoldResult n = ib.constant(1);
      for (auto [lb, ub, step] :
           llvm::zip(par.getLowerBound(), par.getUpperBound(), par.getStep()))
        n = ib.mul(n, trip(lb, ub, step));
      total = ib.add(total, ib.mul(n, costOf(ib, *par.getBody(), outlined)));
      continue;
    }
    ++plain;
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        total = ib.add(total, costOf(ib, inner, outlined));
  }
  return ib.add(total, ib.constant(plain));
}

/// The buffer a memref is a view of: the result of its allocation, a
/// global, or a function argument.
Value rootOf(Value memref) {
  while (Operation *def = memref.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def)) {
      memref = view.getViewSource();
      continue;
    }
    break;
  }
  return memref;
}

/// Whether the root is memory of its own, which nothing reaches but through
/// it: a runtime scratch slot, memref.alloc/alloca, a global.
bool isOwnAllocation(Value root) {
  Operation *def = root.getDefiningOp();
  if (!def)
    return false; // a function argument: the caller may pass one buffer twice
  if (isa<memref::AllocOp, memref::AllocaOp, memref::GetGlobalOp>(def))
    return true;
  if (auto call = dyn_cast<func::CallOp>(def))
    return call.getCallee() == "kiln_rt_scratch"; // fresh, noalias blocks
  return false;
}

/// Whether two roots certainly do not overlap: different allocations of
/// their own, or one of those and an argument (the caller's memory).
bool distinctMemory(Value x, Value y) {
  if (x == y)
    return false;
  auto gx = x.getDefiningOp<memref::GetGlobalOp>(), gy = y.getDefiningOp<memref::GetGlobalOp>();
  if (gx && gy)
    return gx.getName() != gy.getName();
  bool ownX = isOwnAllocation(x), ownY = isOwnAllocation(y);
  auto isArgument = [](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner()->isEntryBlock() &&
           isa<FunctionOpInterface>(arg.getOwner()->getParentOp());
  };
  bool argX = isArgument(x), argY = isArgument(y);
  return (ownX && (ownY || argY)) || (ownY && argX);
}

/// Per capture, whether it is a memref that no other capture aliases while
/// either is written in `body`.
SmallVector<bool> noAliasCaptures(ArrayRef<Value> captures, Block &body) {
  SmallVector<bool> result(captures.size(), false);
  DenseSet<Value> written;
  body.walk([&](Operation *op) {
    if (auto store = dyn_cast<memref::StoreOp>(op))
      written.insert(store.getMemRef());
    else if (!isa<memref::LoadOp>(op) && !isPure(op) && !op->hasTrait<OpTrait::IsTerminator>())
      for (Value v : op->getOperands())
        if (isa<MemRefType>(v.getType()))
          written.insert(v); // conservatively: any other memory op may write
  });
  // Writes through views made inside the body count for the captured buffer.
  auto isWritten = [&](Value capture) {
    for (Value v : written) {
      Value root = v;
      while (Operation *def = root.getDefiningOp()) {
        auto view = dyn_cast<ViewLikeOpInterface>(def);
        if (!view || root == capture)
          break;
        root = view.getViewSource();
      }
      if (root == capture)
        return true;
    }
    return false;
  };
  SmallVector<Value> roots;
  SmallVector<bool> writes;
  for (Value c : captures) {
    bool memref = isa<MemRefType>(c.getType());
    roots.push_back(memref ? rootOf(c) : Value());
    writes.push_back(memref && isWritten(c));
  }
  for (unsigned i = 0; i < captures.size(); ++i) {
    if (!roots[i])
      continue;
    bool ok = true;
    for (unsigned j = 0; j < captures.size() && ok; ++j) {
      if (i == j || !roots[j] || (!writes[i] && !writes[j]))
        continue;
      ok = distinctMemory(roots[i], roots[j]);
    }
    result[i] = ok;
  }
  return result;
}

/// The number of LLVM parameters a value of `type` becomes (a memref's
/// descriptor is expanded: two pointers, offset, sizes, strides).
unsigned flatWidth(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type))
    return 3 + 2 * memref.getRank();
  return 1;
}

struct OutlineParallelLoopsPass
    : mlir::kiln::impl::KilnOutlineParallelLoopsBase<OutlineParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    unsigned counter = 0;
    for (func::FuncOp func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      Value context = mlir::kiln::lowering::runtimeContextArgument(func);
      if (!context || func.isExternal())
        continue;
      SmallVector<scf::ParallelOp> loops;
      func.walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
        loops.push_back(loop);
        return WalkResult::skip(); // nested ones run inside the body
      });
      for (scf::ParallelOp loop : loops)
        outline(loop, func, context, symbols, counter);
    }
  }

  void outline(scf::ParallelOp loop, func::FuncOp parent, Value context, SymbolTable &symbols,
               unsigned &counter) {
    if (!unsafeForThreads(loop).empty())
      return;
    Location loc = loop.getLoc();
    MLIRContext *ctx = &getContext();
    OpBuilder b(loop);
    IndexBuilder ib(b, loc);
    Operation *before = loop->getPrevNode();
    unsigned rank = loop.getNumLoops();

    // The iteration space at the call site: trip counts, their product, the
    // cost per item.
    SmallVector<OpFoldResult> trips;
    for (unsigned d = 0; d < rank; ++d)
      trips.push_back(ib.tripCount(loop.getLowerBound()[d], loop.getUpperBound()[d],
                                   loop.getStep()[d]));
    OpFoldResult n = ib.constant(1);
    for (OpFoldResult t : trips)
      n = ib.mul(n, t);
    OpFoldResult cost = costOf(ib, *loop.getBody(), loop);
    auto staticN = getConstantIntValue(n), staticCost = getConstantIntValue(cost);
    if ((staticN && *staticN < 2) || (staticN && staticCost && *staticN * *staticCost < minWork)) {
      // Too little work: drop what was built for the estimate.
      while (loop->getPrevNode() != before) {
        Operation *op = loop->getPrevNode();
        if (!op->use_empty())
          break;
        op->erase();
      }
      return;
    }
    Value nValue = ib.value(n), costValue = ib.value(cost);

    // What the body needs from outside: values used in it, the bounds and
    // steps, the trip counts. Constants are cloned in instead.
    llvm::SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (unsigned d = 0; d < rank; ++d) {
      used.insert(loop.getLowerBound()[d]);
      used.insert(loop.getStep()[d]);
      // (The body divides by the trip counts of all but the first dim.)
      if (Value t = dyn_cast<Value>(trips[d]); t && d > 0)
        used.insert(t);
    }
    SmallVector<Value> captures;
    SmallVector<Operation *> cloned;
    for (Value v : used) {
      Operation *def = v.getDefiningOp();
      if (def && (def->hasTrait<OpTrait::ConstantLike>() || isa<memref::GetGlobalOp>(def)) &&
          def->getNumRegions() == 0) {
        cloned.push_back(def);
        continue;
      }
      if (v == context)
        continue;
      captures.push_back(v);
    }

    // The outlined function.
    SmallVector<Type> argTypes(4, b.getIndexType());
    for (Value v : captures)
      argTypes.push_back(v.getType());
    OpBuilder mb(ctx);
    mb.setInsertionPoint(parent);
    std::string name;
    do {
      name = (kBodyPrefix + Twine(counter++)).str();
    } while (symbols.lookup(name));
    auto body = func::FuncOp::create(mb, loc, name, mb.getFunctionType(argTypes, {}));
    body.setPrivate();
    symbols.insert(body);
    body->setAttr(kParallelBodyAttr, UnitAttr::get(ctx));
    // The noalias facts the call site knows (separate scratch slots), for
    // kiln-parallel-calls-to-runtime to put on the LLVM parameters.
    SmallVector<bool> noAlias = noAliasCaptures(captures, *loop.getBody());
    SmallVector<int64_t> noAliasParams;
    unsigned flat = 4;
    for (auto [v, distinct] : llvm::zip(captures, noAlias)) {
      if (distinct)
        noAliasParams.append({flat, flat + 1}); // allocated and aligned pointers
      flat += flatWidth(v.getType());
    }
    if (!noAliasParams.empty())
      body->setAttr(kNoAliasAttr, mb.getDenseI64ArrayAttr(noAliasParams));

    Block *entry = body.addEntryBlock();
    OpBuilder bb = OpBuilder::atBlockBegin(entry);
    IRMapping map;
    for (Operation *def : cloned)
      bb.clone(*def, map);
    for (auto [v, arg] : llvm::zip(captures, entry->getArguments().drop_front(4)))
      map.map(v, arg);
    map.map(context, entry->getArgument(2));
    Value lo = entry->getArgument(0), hi = entry->getArgument(1);
    IndexBuilder eb(bb, loc);
    auto inner = [&](OpFoldResult v) -> OpFoldResult {
      if (auto value = dyn_cast<Value>(v))
        return map.lookupOrDefault(value);
      return v;
    };
    SmallVector<OpFoldResult> tripsIn, lbs, steps;
    for (unsigned d = 0; d < rank; ++d) {
      tripsIn.push_back(inner(trips[d]));
      lbs.push_back(inner(ib.fold(loop.getLowerBound()[d])));
      steps.push_back(inner(ib.fold(loop.getStep()[d])));
    }
    Value zero = arith::ConstantIndexOp::create(bb, loc, 0);
    Value one = arith::ConstantIndexOp::create(bb, loc, 1);
    SmallVector<Value> ivs(rank);
    Value jLo = lo, jHi = hi;
    if (rank > 1) {
      // Rows: the items of the outer dims, each a run of the last dim.
      // (At least 1: with an empty last dim there are no items, and no row.)
      Value width = arith::MaxUIOp::create(bb, loc, eb.value(tripsIn.back()), one);
      Value rowLo = arith::DivUIOp::create(bb, loc, lo, width);
      Value rowHi = arith::CeilDivUIOp::create(bb, loc, hi, width);
      auto rows = scf::ForOp::create(bb, loc, rowLo, rowHi, one);
      bb.setInsertionPointToStart(rows.getBody());
      Value row = rows.getInductionVar();
      Value base = arith::MulIOp::create(bb, loc, row, width);
      jLo = arith::MaxSIOp::create(bb, loc, arith::SubIOp::create(bb, loc, lo, base), zero);
      jHi = arith::MinSIOp::create(bb, loc, arith::SubIOp::create(bb, loc, hi, base), width);
      Value rest = row;
      for (int d = rank - 2; d >= 0; --d) {
        Value index = rest;
        if (d > 0) {
          Value t = eb.value(tripsIn[d]);
          index = arith::RemUIOp::create(bb, loc, rest, t);
          rest = arith::DivUIOp::create(bb, loc, rest, t);
        }
        ivs[d] = eb.value(eb.add(lbs[d], eb.mul(index, steps[d])));
      }
    }
    auto columns = scf::ForOp::create(bb, loc, jLo, jHi, one);
    bb.setInsertionPointToStart(columns.getBody());
    ivs[rank - 1] =
        eb.value(eb.add(lbs[rank - 1], eb.mul(columns.getInductionVar(), steps[rank - 1])));
    for (unsigned d = 0; d < rank; ++d)
      map.map(loop.getInductionVars()[d], ivs[d]);
    for (Operation &op : loop.getBody()->without_terminator())
      bb.clone(op, map);
    bb.setInsertionPointToEnd(entry);
    func::ReturnOp::create(bb, loc);

    // The call, a serial run of all n items until made parallel.
    SmallVector<Value> args{arith::ConstantIndexOp::create(b, loc, 0), nValue, context,
                            costValue};
    args.append(captures);
    auto call = func::CallOp::create(b, loc, body, args);
    call->setAttr(kParallelCallAttr, UnitAttr::get(ctx));
    loop.erase();
  }
};
} // namespace
