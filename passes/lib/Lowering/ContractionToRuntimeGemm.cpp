//===- ContractionToRuntimeGemm.cpp - fp32 contractions to kiln.fgemm -----===//
//
// A bufferized fp32 contraction (the linalg.generic that kiln.matmul and
// kiln.gemm lower to) becomes a kiln.fgemm, the runtime's packed,
// multi-threaded GEMM (lowered to its call by kiln-fgemm-to-runtime). Code
// generated from loops cannot match tuned micro-kernels, and the runtime
// owns the session's threads.
//
// Loops are classified by where their index appears: in A and B (batch), in
// A only (m-like), in B only (n-like), in neither (broadcast batch). One
// m-like and one n-like loop (the innermost in C) are the GEMM's m and n;
// of the other parallel loops the two innermost are the op's batch loops
// (the runtime runs a batch of GEMMs in parallel, e.g. attention's heads),
// and any others become scf.for loops around it, each taking a view of one
// iteration of the operands it moves. Transposed and broadcast operands are
// strides, never copies.
//
// B read through (n floordiv W, k, n mod W) was prepacked by
// kiln-pack-gemm-weights into the micro-kernels' panels; the op's map for B
// keeps that form. An elementwise consumer that kiln-prepare-gemm-epilogues
// marked (#kiln.gemm_epilogue) and that directly follows, in place on C,
// becomes the op's epilogue (bias, activation, residual).
//
//===----------------------------------------------------------------------===//

#include "Bf16Contractions.h"
#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCONTRACTIONTORUNTIMEGEMM
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using mlir::kiln::lowering::isMultiplyAccumulate;

namespace {

/// How one operand's address moves with each loop: per loop, the operand
/// dim it indexes, or -1 where the loop does not move it.
struct OperandAccess {
  Value buffer;
  SmallVector<int64_t> dimOfLoop;
};

std::optional<OperandAccess> accessOf(Value buffer, AffineMap map, unsigned numLoops) {
  OperandAccess access{buffer, SmallVector<int64_t>(numLoops, -1)};
  for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
    if (auto d = dyn_cast<AffineDimExpr>(expr)) {
      if (access.dimOfLoop[d.getPosition()] != -1)
        return std::nullopt; // a diagonal, not a contraction
      access.dimOfLoop[d.getPosition()] = dim;
      continue;
    }
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    if (!constant || constant.getValue() != 0)
      return std::nullopt; // only broadcasts (index 0) besides plain dims
  }
  return access;
}

/// Which loops of a contraction become the GEMM's m, n and k; the rest
/// loop around the call.
struct GemmPlan {
  OperandAccess a, b, c;
  unsigned k;
  std::optional<unsigned> m, n;
  int64_t bPanel = 0; // B prepacked in panels of this width (0: strided)
};

/// B as kiln-pack-gemm-weights leaves it: a contiguous ceil(N/W) x K x W
/// buffer read through (n floordiv W, k, n mod W). Its access then says
/// which loops are k (dim 1) and n (dim 2), and `panel` is W.
std::optional<OperandAccess> packedAccessOf(Value buffer, AffineMap map, unsigned numLoops,
                                            int64_t &panel) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  if (!type || type.getRank() != 3 || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      map.getNumResults() != 3)
    return std::nullopt;
  auto div = dyn_cast<AffineBinaryOpExpr>(map.getResult(0));
  auto k = dyn_cast<AffineDimExpr>(map.getResult(1));
  auto mod = dyn_cast<AffineBinaryOpExpr>(map.getResult(2));
  if (!div || !k || !mod || div.getKind() != AffineExprKind::FloorDiv ||
      mod.getKind() != AffineExprKind::Mod || div.getLHS() != mod.getLHS() ||
      div.getRHS() != mod.getRHS())
    return std::nullopt;
  auto n = dyn_cast<AffineDimExpr>(div.getLHS());
  auto width = dyn_cast<AffineConstantExpr>(div.getRHS());
  if (!n || !width || width.getValue() != type.getShape()[2] || n == k)
    return std::nullopt;
  panel = width.getValue();
  OperandAccess access{buffer, SmallVector<int64_t>(numLoops, -1)};
  access.dimOfLoop[k.getPosition()] = 1;
  access.dimOfLoop[n.getPosition()] = 2;
  return access;
}

/// The plan for an f32 `out += a * b` generic on buffers, if it is one the
/// runtime GEMM can take: a and b f32, or both f16 or both bf16 read through
/// arith.extf (kiln-gpu-half-storage), out f32.
std::optional<GemmPlan> planContraction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  // A bf16 B of kiln-pack-gemm-weights-bf16 (read through arith.extf).
  std::optional<kiln::lowering::Bf16PackedB> bf16 = kiln::lowering::bf16PackedBOf(op);
  // 16-bit A and B (the block arguments' types are the buffers').
  bool half = !bf16 && kiln::lowering::halfMultiplyAccumulateType(op);
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    bool input = v != op.getDpsInits()[0];
    if (!type || !(type.getElementType().isF32() || (bf16 && v == op.getDpsInputs()[1]) ||
                   (half && input)))
      return std::nullopt;
  }
  if (!bf16 && !half && !isMultiplyAccumulate(op))
    return std::nullopt;
  unsigned numLoops = op.getNumLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto a = accessOf(op.getDpsInputs()[0], maps[0], numLoops);
  int64_t bPanel = 0;
  auto b = accessOf(op.getDpsInputs()[1], maps[1], numLoops);
  if (!b)
    b = packedAccessOf(op.getDpsInputs()[1], maps[1], numLoops, bPanel);
  if (!b && bf16) { // k and n as for an fp32 panel: dims 1 and 2
    b = OperandAccess{op.getDpsInputs()[1], SmallVector<int64_t>(numLoops, -1)};
    b->dimOfLoop[bf16->kLoop] = 1;
    b->dimOfLoop[bf16->nLoop] = 2;
    bPanel = bf16->panel;
  }
  auto c = accessOf(op.getDpsInits()[0], maps[2], numLoops);
  if (!a || !b || !c)
    return std::nullopt;

  // One reduction loop (k), indexing both inputs; every parallel loop
  // indexes C.
  std::optional<unsigned> k;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned loop = 0; loop < numLoops; ++loop) {
    bool reduction = iterators[loop] == utils::IteratorType::reduction;
    if (reduction && (k || c->dimOfLoop[loop] != -1))
      return std::nullopt;
    if (reduction)
      k = loop;
    else if (c->dimOfLoop[loop] == -1)
      return std::nullopt;
  }
  if (!k || a->dimOfLoop[*k] == -1 || b->dimOfLoop[*k] == -1)
    return std::nullopt;

  GemmPlan plan{*a, *b, *c, *k, std::nullopt, std::nullopt, bPanel};
  for (unsigned loop = 0; loop < numLoops; ++loop) {
    if (loop == *k)
      continue;
    bool inA = a->dimOfLoop[loop] != -1, inB = b->dimOfLoop[loop] != -1;
    auto innermost = [&](std::optional<unsigned> &best) {
      if (!best || c->dimOfLoop[loop] > c->dimOfLoop[*best])
        best = loop;
    };
    if (inA && !inB)
      innermost(plan.m);
    else if (inB && !inA)
      innermost(plan.n);
  }
  // The kernel writes rows of C with unit column stride.
  if (plan.n) {
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(cast<MemRefType>(c->buffer.getType()).getStridesAndOffset(strides, offset)) ||
        strides[c->dimOfLoop[*plan.n]] != 1)
      return std::nullopt;
  }
  // Packed panels hold only k and n; the GEMM's n must be the packed n.
  if (bPanel && (!plan.n || plan.b.dimOfLoop[*plan.n] != 2))
    return std::nullopt;
  return plan;
}

/// The marked elementwise op that directly follows the contraction, reads
/// its output C in place, and can be the call's epilogue, with the
/// accesses of its bias (only the n loop moves it, unit stride) and
/// residual (C's shape, unit column stride).
struct Epilogue {
  linalg::GenericOp op;
  int64_t activation = 0;
  std::optional<OperandAccess> bias, residual;
  /// Ops between the contraction and `op` that define the bias or residual
  /// view, to move before the call (in this order).
  SmallVector<Operation *> hoisted;
};

/// Appends to `hoisted` what must move before `point` for `value` to be
/// defined there: nothing if it already is, else its defining op, which
/// lies after `point` in its block (the memref.collapse_shape of a residual
/// that reshape folding put beside its consumer), if that op has no side
/// effects and its own operands can be made available. False if not.
bool hoistToDefine(Value value, Operation *point, SmallVector<Operation *> &hoisted,
                   int depth = 0) {
  Operation *def = value.getDefiningOp();
  // A block argument or a value of an enclosing block dominates `point`
  // because it dominates the consumer that follows `point`.
  if (!def || def->getBlock() != point->getBlock() || def->isBeforeInBlock(point) ||
      llvm::is_contained(hoisted, def))
    return true;
  // An alloc may move up too (before the memory plan, the target of a
  // store conversion; with symbolic dims its sizes with it): its buffer
  // then only lives longer.
  bool alloc = isa<memref::AllocOp>(def);
  if (depth > 2 || !(isMemoryEffectFree(def) || alloc) || def->getNumRegions() != 0)
    return false;
  for (Value operand : def->getOperands())
    if (!hoistToDefine(operand, point, hoisted, depth + 1))
      return false;
  hoisted.push_back(def);
  return true;
}

/// Whether dim `dim` of `buffer` has a static unit stride.
bool hasUnitStride(Value buffer, int64_t dim) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(cast<MemRefType>(buffer.getType()).getStridesAndOffset(strides, offset)) &&
         strides[dim] == 1;
}

std::optional<Epilogue> epilogueOf(linalg::GenericOp contraction, const GemmPlan &plan) {
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(kiln::lowering::nextBufferAccess(contraction));
  if (!consumer || !plan.n)
    return std::nullopt;
  std::optional<kiln::lowering::EpilogueMarks> marks = kiln::lowering::epilogueMarksOf(consumer);
  if (!marks || !consumer.hasPureBufferSemantics() || consumer.getNumDpsInits() != 1 ||
      consumer.getDpsInits()[0] != plan.c.buffer ||
      consumer->getOperand(marks->gemm) != plan.c.buffer)
    return std::nullopt;
  int64_t gemm = marks->gemm, bias = marks->bias, residual = marks->residual;
  // The consumer's loops are C's dims (identity maps on C and on its init);
  // an operand's dim d moves with the contraction loop that indexes C's dim d.
  unsigned rank = cast<MemRefType>(plan.c.buffer.getType()).getRank();
  SmallVector<AffineMap> maps = consumer.getIndexingMapsArray();
  if (consumer.getNumLoops() != rank || consumer.getNumReductionLoops() != 0 ||
      !maps[gemm].isIdentity() || !maps.back().isIdentity())
    return std::nullopt;
  Epilogue epilogue{consumer, marks->activation, std::nullopt, std::nullopt};
  unsigned numLoops = plan.c.dimOfLoop.size();
  if (residual >= 0) {
    Value buffer = consumer->getOperand(residual);
    if (!maps[residual].isIdentity() || buffer == plan.c.buffer ||
        !hasUnitStride(buffer, plan.c.dimOfLoop[*plan.n]))
      return std::nullopt;
    if (!hoistToDefine(buffer, contraction, epilogue.hoisted))
      return std::nullopt;
    epilogue.residual = OperandAccess{buffer, plan.c.dimOfLoop};
  }
  if (bias >= 0) {
    Value buffer = consumer->getOperand(bias);
    AffineMap map = maps[bias];
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    int64_t biasDim = map.getNumResults() - 1;
    if (!last || last.getPosition() != unsigned(plan.c.dimOfLoop[*plan.n]) ||
        !hasUnitStride(buffer, biasDim) || !hoistToDefine(buffer, contraction, epilogue.hoisted))
      return std::nullopt;
    epilogue.bias = OperandAccess{buffer, SmallVector<int64_t>(numLoops, -1)};
    epilogue.bias->dimOfLoop[*plan.n] = biasDim;
  }
  return epilogue;
}

/// Whether the epilogue's bias and residual hold `type`: cuBLASLt reads
/// them in the type it stores C in.
bool epilogueHolds(const Epilogue &epilogue, Type type) {
  for (const std::optional<OperandAccess> &operand : {epilogue.bias, epilogue.residual})
    if (operand && cast<MemRefType>(operand->buffer.getType()).getElementType() != type)
      return false;
  return true;
}

/// A 16-bit copy of C that directly follows the GEMM (and its epilogue):
/// the truncation kiln-gpu-half-storage puts after a GEMM whose result it
/// stores in 16 bits. The GEMM can store its result so itself.
struct StoreConversion {
  linalg::GenericOp op;
  Value target;
  /// Ops between the contraction and `op` that define the target view, to
  /// move before the call.
  SmallVector<Operation *> hoisted;
};

std::optional<StoreConversion> storeConversionAfter(linalg::GenericOp contraction,
                                                    Operation *last, const GemmPlan &plan) {
  auto op = dyn_cast_or_null<linalg::GenericOp>(kiln::lowering::nextBufferAccess(last));
  if (!op || !plan.n || !kiln::lowering::isStoreConversion(op) ||
      op.getDpsInputs()[0] != plan.c.buffer)
    return std::nullopt;
  Value target = op.getDpsInits()[0];
  if (!hasUnitStride(target, plan.c.dimOfLoop[*plan.n]))
    return std::nullopt;
  // C is then never written: nothing but the GEMM, its epilogue, the copy
  // and the writes of its initial zeros may use it (no view of it either).
  auto writesBefore = [&](Operation *user) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    bool write = isa<linalg::FillOp, memref::CopyOp>(user) ||
                 (linalgOp && linalg::isaCopyOpInterface(linalgOp));
    return write && user->getBlock() == contraction->getBlock() &&
           user->isBeforeInBlock(contraction);
  };
  for (Operation *user : plan.c.buffer.getUsers())
    if (user != op && user != contraction && user != last && !isa<memref::DeallocOp>(user) &&
        !writesBefore(user))
      return std::nullopt;
  StoreConversion store{op, target, {}};
  if (!hoistToDefine(target, contraction, store.hoisted))
    return std::nullopt;
  return store;
}

/// The op that last wrote `buffer` before `point`: a linalg op with it as
/// an init or a copy into it (earlier writes do not matter: a zero fill or
/// a copy overwrites all of it, and the memory plan gives no other buffer
/// those bytes while this one is live). nullptr when a use is outside
/// point's block or could write it unseen (a view of it, its pointer
/// handed to a call). `reads` tells whether anything read it between that
/// write and `point`. Reads are copies from it and linalg inputs.
Operation *lastWriterBefore(Value buffer, Operation *point, bool &reads) {
  Operation *writer = nullptr;
  SmallVector<Operation *> readers;
  for (Operation *user : buffer.getUsers()) {
    if (user == point || isa<memref::DeallocOp>(user))
      continue;
    if (user->getBlock() != point->getBlock())
      return nullptr;
    if (!user->isBeforeInBlock(point))
      continue;
    auto copy = dyn_cast<memref::CopyOp>(user);
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    if ((copy && copy.getSource() == buffer && copy.getTarget() != buffer) ||
        (linalgOp && !llvm::is_contained(linalgOp.getDpsInits(), buffer))) {
      readers.push_back(user);
      continue;
    }
    if (!copy && !linalgOp)
      return nullptr;
    if (!writer || writer->isBeforeInBlock(user))
      writer = user;
  }
  // A read counts only if it comes after the write.
  reads = writer && llvm::any_of(readers, [&](Operation *r) { return writer->isBeforeInBlock(r); });
  return writer;
}

/// The buffer `op` copies into `target` whole: a memref.copy's source, or
/// the input of a linalg op that is a copy (the GPU path's form of
/// memref.copy, kiln-gpu-device-buffers); null otherwise.
Value copiedInto(Operation *op, Value target) {
  Value source;
  if (auto copy = dyn_cast_or_null<memref::CopyOp>(op); copy && copy.getTarget() == target)
    source = copy.getSource();
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (linalgOp && linalgOp.hasPureBufferSemantics() && linalg::isaCopyOpInterface(linalgOp) &&
      linalgOp.getDpsInits()[0] == target)
    source = linalgOp.getDpsInputs()[0];
  return source && source.getType() == target.getType() ? source : Value();
}

/// Whether `buffer` holds zeros at `point` because a zero fill, or a copy
/// of a buffer that held zeros then, is its last write before it. CSE merges
/// the zero inits of several matmuls, and bufferization then fills one
/// buffer and copies it into each output. Sets `redundant` to that write
/// when nothing reads the buffer between it and `point`.
bool holdsZerosAt(Value buffer, Operation *point, Operation *&redundant, int depth = 0) {
  bool reads;
  Operation *writer = lastWriterBefore(buffer, point, reads);
  redundant = nullptr;
  bool zero = false;
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(writer))
    zero = fill.hasPureBufferSemantics() && fill.getDpsInits()[0] == buffer &&
           matchPattern(fill.getDpsInputs()[0], m_AnyZeroFloat());
  else if (Value source = depth == 0 ? copiedInto(writer, buffer) : Value())
    zero = [&] {
      Operation *ignored;
      return holdsZerosAt(source, writer, ignored, depth + 1);
    }();
  if (zero && !reads)
    redundant = writer;
  return zero;
}

/// An operand of the kiln.fgemm being built: its buffer (a view of it
/// inside the loops around the op), which of its dims each contraction loop
/// indexes, and its map over the contraction's loops.
struct FGemmOperand {
  Value buffer;
  SmallVector<int64_t> dimOfLoop;
  AffineMap contractionMap;
};

FGemmOperand fgemmOperand(const OperandAccess &access, MLIRContext *context) {
  unsigned numLoops = access.dimOfLoop.size();
  int64_t rank = cast<MemRefType>(access.buffer.getType()).getRank();
  SmallVector<AffineExpr> results(rank, getAffineConstantExpr(0, context));
  for (auto [loop, dim] : llvm::enumerate(access.dimOfLoop))
    if (dim != -1)
      results[dim] = getAffineDimExpr(loop, context);
  return {access.buffer, access.dimOfLoop, AffineMap::get(numLoops, 0, results, context)};
}

/// Replaces `op` (and the epilogue's op) by a kiln.fgemm: m, n, k and the
/// two innermost other loops are the op's own, any further loops become
/// scf.for loops around it that take a one-element view of each operand
/// they move.
void emitFGemm(RewriterBase &rewriter, linalg::GenericOp op, const GemmPlan &plan,
               std::optional<Epilogue> epilogue, bool residualOverZeroOnly) {
  Location loc = op.getLoc();
  MLIRContext *context = op.getContext();
  // C known to be zero means no accumulation, and the fill (or copy of a
  // zero buffer) that made it so goes unless something else reads it.
  Operation *zeroInit = nullptr;
  bool overwrite = holdsZerosAt(plan.c.buffer, op, zeroInit);
  if (zeroInit)
    rewriter.eraseOp(zeroInit);
  // cuBLASLt reads a residual in C's place: onto a GEMM that accumulates,
  // the residual's add stays a loop after it.
  if (residualOverZeroOnly && !overwrite && epilogue && epilogue->residual)
    epilogue.reset();
  // A GEMM over zeros whose result is then copied to 16 bits stores it so
  // itself, when its epilogue reads that type too (cuBLASLt's C and D share
  // a type); otherwise the copy stays a kernel, and the epilogue moves in
  // only if it reads f32.
  std::optional<StoreConversion> store;
  if (overwrite)
    store = storeConversionAfter(op, epilogue ? epilogue->op.getOperation() : op.getOperation(),
                                 plan);
  // cuBLASLt stores 16 bits from 16-bit operands of that type only.
  Type aType = cast<MemRefType>(plan.a.buffer.getType()).getElementType();
  Type storedType = store ? cast<MemRefType>(store->target.getType()).getElementType() : Type();
  if (store && (storedType != aType || (epilogue && !epilogueHolds(*epilogue, storedType))))
    store.reset();
  if (!store && epilogue && !epilogueHolds(*epilogue, rewriter.getF32Type()))
    epilogue.reset();
  rewriter.setInsertionPoint(op);
  if (epilogue)
    for (Operation *view : epilogue->hoisted)
      rewriter.moveOpBefore(view, op);
  if (store)
    for (Operation *view : store->hoisted)
      rewriter.moveOpBefore(view, op);

  // Operands in the op's order: a, b, bias, residual, init.
  SmallVector<FGemmOperand> operands = {fgemmOperand(plan.a, context),
                                        fgemmOperand(plan.b, context)};
  if (plan.bPanel) // read through (n floordiv W, k, n mod W), or its bf16 form
    operands[1].contractionMap = op.getIndexingMapsArray()[1];
  std::optional<unsigned> biasIndex, residualIndex;
  if (epilogue && epilogue->bias) {
    biasIndex = operands.size();
    operands.push_back(fgemmOperand(*epilogue->bias, context));
  }
  if (epilogue && epilogue->residual) {
    residualIndex = operands.size();
    operands.push_back(fgemmOperand(*epilogue->residual, context));
  }
  operands.push_back(
      fgemmOperand(store ? OperandAccess{store->target, plan.c.dimOfLoop} : plan.c, context));

  // Parallel loops other than m and n: the two innermost are the op's
  // batch loops, the others loop around it.
  SmallVector<unsigned> batchLoops;
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop)
    if (loop != plan.k && loop != plan.m && loop != plan.n)
      batchLoops.push_back(loop);
  size_t numOuter = batchLoops.size() > 2 ? batchLoops.size() - 2 : 0;
  SmallVector<AffineExpr> loopExpr(op.getNumLoops(), getAffineConstantExpr(0, context));
  auto assign = [&](std::optional<unsigned> loop, FGemmOp::Loop to) {
    if (loop)
      loopExpr[*loop] = getAffineDimExpr(to, context);
  };
  assign(plan.m, FGemmOp::kM);
  assign(plan.n, FGemmOp::kN);
  assign(plan.k, FGemmOp::kK);
  ArrayRef<unsigned> innerBatch = ArrayRef(batchLoops).drop_front(numOuter);
  for (auto [i, loop] : llvm::enumerate(innerBatch))
    assign(loop, FGemmOp::Loop(FGemmOp::kBatch0 + i));

  SmallVector<Range> ranges =
      cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(rewriter, loc);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  for (unsigned loop : ArrayRef(batchLoops).take_front(numOuter)) {
    Value size = getValueOrCreateConstantIndexOp(rewriter, loc, ranges[loop].size);
    auto forOp = scf::ForOp::create(rewriter, loc, zero, size, one);
    rewriter.setInsertionPointToStart(forOp.getBody());
    // The view of one iteration keeps the rank: its dim of size 1 is read
    // at index 0, as the op's map says (the loop maps to 0).
    for (FGemmOperand &operand : operands) {
      if (operand.dimOfLoop[loop] == -1)
        continue;
      auto type = cast<MemRefType>(operand.buffer.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = memref::getMixedSizes(rewriter, loc, operand.buffer);
      SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
      offsets[operand.dimOfLoop[loop]] = forOp.getInductionVar();
      sizes[operand.dimOfLoop[loop]] = rewriter.getIndexAttr(1);
      operand.buffer =
          memref::SubViewOp::create(rewriter, loc, operand.buffer, offsets, sizes, strides);
    }
  }

  SmallVector<Attribute> maps;
  for (const FGemmOperand &operand : operands)
    maps.push_back(AffineMapAttr::get(operand.contractionMap.replaceDimsAndSymbols(
        loopExpr, {}, FGemmOp::kNumLoops, 0)));
  auto activation = GemmActivation(epilogue ? epilogue->activation : 0);
  FGemmOp::create(rewriter, loc, operands[0].buffer, operands[1].buffer,
                  biasIndex ? operands[*biasIndex].buffer : Value(),
                  residualIndex ? operands[*residualIndex].buffer : Value(),
                  operands.back().buffer, rewriter.getArrayAttr(maps),
                  /*accumulate=*/!overwrite, activation);
  if (store)
    rewriter.eraseOp(store->op);
  if (epilogue)
    rewriter.eraseOp(epilogue->op);
  rewriter.eraseOp(op);
  // C's f32 buffer, now only freed, goes: the memory plan would otherwise
  // keep a slot for it while the GEMM runs.
  if (auto alloc = plan.c.buffer.getDefiningOp<memref::AllocOp>();
      store && alloc && llvm::all_of(alloc->getUsers(), [](Operation *user) {
        return isa<memref::DeallocOp>(user);
      })) {
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      rewriter.eraseOp(user);
    rewriter.eraseOp(alloc);
  }
}

/// Whether A and B each have a unit stride along one of their GEMM dims
/// (a dim of the GEMM that an operand lacks has size 1: any stride will do).
bool hasUnitStrideOperands(const GemmPlan &plan) {
  auto unit = [](const OperandAccess &operand, std::optional<unsigned> loop) {
    if (!loop)
      return true;
    int64_t dim = operand.dimOfLoop[*loop];
    return dim == -1 || hasUnitStride(operand.buffer, dim);
  };
  return (unit(plan.a, plan.k) || unit(plan.a, plan.m)) &&
         (unit(plan.b, plan.k) || unit(plan.b, plan.n));
}

struct ContractionToRuntimeGemmPass
    : mlir::kiln::impl::KilnContractionToRuntimeGemmBase<ContractionToRuntimeGemmPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    module.walk([&](func::FuncOp func) {
      // Planned before any rewrite: an op erases its epilogue's op.
      SmallVector<std::pair<linalg::GenericOp, GemmPlan>> contractions;
      func.walk([&](linalg::GenericOp op) {
        if (std::optional<GemmPlan> plan = planContraction(op))
          if (!unitStrideOperands || hasUnitStrideOperands(*plan))
            contractions.emplace_back(op, *plan);
      });
      for (auto &[op, plan] : contractions)
        emitFGemm(rewriter, op, plan, epilogueOf(op, plan), residualOverZeroOnly);
    });
  }
};
} // namespace
