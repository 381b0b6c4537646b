//===- ContractionToRuntimeGemm.cpp - fp32 contractions to the runtime ----===//
//
// A bufferized fp32 contraction (the linalg.generic that kiln.matmul and
// kiln.gemm lower to) becomes calls of the runtime's packed, multi-threaded
// GEMM (kiln_runtime_context::sgemm in runtime/include/kiln/kiln_abi.h).
// Code generated from loops cannot match tuned micro-kernels, and the
// runtime owns the session's threads.
//
// Loops are classified by where their index appears: in A and B (batch), in
// A only (m-like), in B only (n-like), in neither (broadcast batch). One
// m-like and one n-like loop (the innermost in C) go to the GEMM; every
// other parallel loop becomes an scf.for around the call, which moves the
// three base addresses by that loop's strides (0 where an operand does not
// use it). Transposed and broadcast operands are strides, never copies.
// The two innermost of those loops go into the call itself (the runtime
// runs a batch of GEMMs in parallel, e.g. attention's heads), any others
// loop around it.
//
// B read through (n floordiv W, k, n mod W) was prepacked by
// kiln-pack-gemm-weights into the micro-kernels' panels: the call says so
// (b_panel = W). An elementwise consumer that kiln-prepare-gemm-epilogues
// marked (kiln.gemm_epilogue) and that directly follows, in place on C,
// becomes the call's epilogue (bias, activation, residual).
//
//===----------------------------------------------------------------------===//

#include "Bf16Contractions.h"
#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/GemmEpilogue.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
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
using mlir::kiln::lowering::isMultiplyAccumulate;
using mlir::kiln::lowering::kRuntimeContextAttr;
using mlir::kiln::lowering::runtimeContextArgument;

namespace {

constexpr StringLiteral kGemmFunction = "kiln_rt_gemm";

/// Field numbers of kiln_gemm_desc (kiln_abi.h), an array of 64-bit words.
enum DescField : int64_t {
  kM, kN, kK, kA, kARowStride, kAColStride, kB, kBRowStride, kBColStride, kBPanel, kC, kLdc,
  kAccumulate, kBias, kActivation, kResidual, kResidualRowStride, kBatch0, kBatch1,
  kBatchStrideA0, kBatchStrideA1, kBatchStrideB0, kBatchStrideB1, kBatchStrideC0,
  kBatchStrideC1, kBatchStrideResidual0, kBatchStrideResidual1, kBType, kNumDescFields
};
constexpr int64_t kDescTypeBf16 = 16; // KILN_DTYPE_BFLOAT16

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

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Which loops of a contraction become the GEMM's m, n and k; the rest
/// loop around the call.
struct GemmPlan {
  OperandAccess a, b, c;
  unsigned k;
  std::optional<unsigned> m, n;
  bool bf16B = false;  // B prepacked as bf16 pairs (Bf16Contractions.h)
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
/// runtime GEMM can take.
std::optional<GemmPlan> planContraction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  std::optional<kiln::lowering::Bf16PackedB> bf16 = kiln::lowering::bf16PackedBOf(op);
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !(type.getElementType().isF32() || (bf16 && v == op.getDpsInputs()[1])))
      return std::nullopt;
  }
  if (!bf16 && !isMultiplyAccumulate(op))
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

  GemmPlan plan{*a, *b, *c, *k, std::nullopt, std::nullopt, bf16.has_value(), bPanel};
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

/// A buffer as the call sees it: the byte address of its first element and,
/// per loop, how many elements that loop moves it (0 when it does not).
struct CallOperand {
  Value address;
  SmallVector<Value> strides;
};

CallOperand callOperand(OpBuilder &b, Location loc, const OperandAccess &access) {
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, access.buffer);
  Value pointer = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, access.buffer);
  Value offset = arith::MulIOp::create(b, loc, meta.getOffset(),
                                       indexConstant(b, loc, sizeof(float)));
  CallOperand result{arith::AddIOp::create(b, loc, pointer, offset), {}};
  Value zero = indexConstant(b, loc, 0);
  for (int64_t dim : access.dimOfLoop)
    result.strides.push_back(dim == -1 ? zero : meta.getStrides()[dim]);
  return result;
}

/// The next op in the block that may touch memory: pure ops in between
/// (constants, dims, get_global) do not matter.
Operation *nextEffectfulOp(Operation *op) {
  // A run-time check writes only the run's status, no buffer.
  for (op = op->getNextNode(); op; op = op->getNextNode())
    if (!isMemoryEffectFree(op) && !isa<kiln::RuntimeCheckOp>(op))
      return op;
  return nullptr;
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
  if (depth > 2 || !isMemoryEffectFree(def) || def->getNumRegions() != 0)
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
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(nextEffectfulOp(contraction));
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

/// The op that last wrote `buffer` before `point`, if that is its only
/// writer before `point` (and every use is in point's block); nullptr
/// otherwise. `reads` tells whether anything read it in between. Reads are
/// copies from it and linalg inputs; any other use counts as a write.
Operation *onlyWriterBefore(Value buffer, Operation *point, bool &reads) {
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
    if (writer)
      return nullptr;
    writer = user;
  }
  // A read counts only if it comes after the write.
  reads = writer && llvm::any_of(readers, [&](Operation *r) { return writer->isBeforeInBlock(r); });
  return writer;
}

/// Whether `buffer` holds zeros at `point` because a zero fill, or a copy
/// of a buffer that held zeros then, is its only write before it. CSE merges
/// the zero inits of several matmuls, and bufferization then fills one
/// buffer and copies it into each output. Sets `redundant` to that write
/// when nothing reads the buffer between it and `point`.
bool holdsZerosAt(Value buffer, Operation *point, Operation *&redundant, int depth = 0) {
  bool reads;
  Operation *writer = onlyWriterBefore(buffer, point, reads);
  redundant = nullptr;
  bool zero = false;
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(writer))
    zero = fill.hasPureBufferSemantics() && fill.getDpsInits()[0] == buffer &&
           matchPattern(fill.getDpsInputs()[0], m_AnyZeroFloat());
  else if (auto copy = dyn_cast_or_null<memref::CopyOp>(writer); copy && depth == 0)
    zero = copy.getTarget() == buffer && copy.getSource().getType() == buffer.getType() &&
           [&] {
             Operation *ignored;
             return holdsZerosAt(copy.getSource(), copy, ignored, depth + 1);
           }();
  if (zero && !reads)
    redundant = writer;
  return zero;
}

/// Replaces `op` (and the epilogue's op) by the loops and the call of `plan`,
/// filling the kiln_gemm_desc at `descriptor` (memref<28xindex>: index is
/// 64 bits on every target Kiln compiles for, as the ABI's words are).
void emitGemmCall(RewriterBase &rewriter, linalg::GenericOp op, const GemmPlan &plan,
                  const std::optional<Epilogue> &epilogue, Value runtimeContext,
                  Value descriptor) {
  Location loc = op.getLoc();
  // C known to be zero becomes accumulate = 0, and the fill (or copy of a
  // zero buffer) that made it so goes unless something else reads it.
  Operation *zeroInit = nullptr;
  bool overwrite = holdsZerosAt(plan.c.buffer, op, zeroInit);
  if (zeroInit)
    rewriter.eraseOp(zeroInit);
  rewriter.setInsertionPoint(op);
  SmallVector<Range> ranges = cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(rewriter, loc);
  Value zero = indexConstant(rewriter, loc, 0), one = indexConstant(rewriter, loc, 1);
  Value bytes = indexConstant(rewriter, loc, sizeof(float));
  SmallVector<Value> sizes;
  for (Range &range : ranges)
    sizes.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, range.size));
  auto size = [&](std::optional<unsigned> loop) { return loop ? sizes[*loop] : one; };
  CallOperand a = callOperand(rewriter, loc, plan.a), b = callOperand(rewriter, loc, plan.b),
              c = callOperand(rewriter, loc, plan.c);
  std::optional<CallOperand> bias, residual;
  if (epilogue)
    for (Operation *view : epilogue->hoisted)
      rewriter.moveOpBefore(view, op);
  if (epilogue && epilogue->bias)
    bias = callOperand(rewriter, loc, *epilogue->bias);
  if (epilogue && epilogue->residual)
    residual = callOperand(rewriter, loc, *epilogue->residual);
  auto stride = [&](const CallOperand &o, std::optional<unsigned> loop) {
    return loop ? o.strides[*loop] : zero;
  };

  // Parallel loops other than m and n: the two innermost are the call's
  // batch, the others loop around it.
  SmallVector<unsigned> batchLoops;
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop)
    if (loop != plan.k && loop != plan.m && loop != plan.n)
      batchLoops.push_back(loop);
  size_t numOuter = batchLoops.size() > 2 ? batchLoops.size() - 2 : 0;
  Value addressA = a.address, addressB = b.address, addressC = c.address;
  Value addressResidual = residual ? residual->address : zero;
  for (unsigned loop : ArrayRef(batchLoops).take_front(numOuter)) {
    auto forOp = scf::ForOp::create(rewriter, loc, zero, size(loop), one);
    rewriter.setInsertionPointToStart(forOp.getBody());
    Value iv = forOp.getInductionVar();
    auto advance = [&](Value address, const CallOperand &o) -> Value {
      if (o.strides[loop] == zero)
        return address; // a loop this operand does not use (or broadcasts)
      Value elements = arith::MulIOp::create(rewriter, loc, iv, o.strides[loop]);
      return arith::AddIOp::create(rewriter, loc, address,
                                   arith::MulIOp::create(rewriter, loc, elements, bytes));
    };
    addressA = advance(addressA, a);
    addressB = advance(addressB, b);
    addressC = advance(addressC, c);
    if (residual)
      addressResidual = advance(addressResidual, *residual);
  }
  SmallVector<std::optional<unsigned>, 2> batch;
  for (unsigned loop : ArrayRef(batchLoops).drop_front(numOuter))
    batch.push_back(loop);
  batch.resize(2, std::nullopt);

  SmallVector<Value> fields(kNumDescFields, zero);
  fields[kM] = size(plan.m);
  fields[kN] = size(plan.n);
  fields[kK] = size(plan.k);
  fields[kA] = addressA;
  fields[kARowStride] = stride(a, plan.m);
  fields[kAColStride] = stride(a, plan.k);
  fields[kB] = addressB;
  if (!plan.bPanel) {
    fields[kBRowStride] = stride(b, plan.k);
    fields[kBColStride] = stride(b, plan.n);
  }
  fields[kBPanel] = indexConstant(rewriter, loc, plan.bPanel);
  if (plan.bf16B)
    fields[kBType] = indexConstant(rewriter, loc, kDescTypeBf16);
  fields[kC] = addressC;
  fields[kLdc] = plan.m ? stride(c, plan.m) : one;
  fields[kAccumulate] = overwrite ? zero : one;
  if (bias)
    fields[kBias] = bias->address;
  if (epilogue)
    fields[kActivation] = indexConstant(rewriter, loc, epilogue->activation);
  if (residual) {
    fields[kResidual] = addressResidual;
    fields[kResidualRowStride] = stride(*residual, plan.m);
  }
  for (unsigned i = 0; i < 2; ++i) {
    fields[kBatch0 + i] = size(batch[i]);
    fields[kBatchStrideA0 + i] = stride(a, batch[i]);
    fields[kBatchStrideB0 + i] = stride(b, batch[i]);
    fields[kBatchStrideC0 + i] = stride(c, batch[i]);
    if (residual)
      fields[kBatchStrideResidual0 + i] = stride(*residual, batch[i]);
  }
  for (auto [i, value] : llvm::enumerate(fields))
    memref::StoreOp::create(rewriter, loc, value, descriptor, indexConstant(rewriter, loc, i));
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(rewriter, loc, descriptor);
  func::CallOp::create(rewriter, loc, kGemmFunction, TypeRange{},
                       ValueRange{runtimeContext, address});
  if (epilogue)
    rewriter.eraseOp(epilogue->op);
  rewriter.eraseOp(op);
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
    bool called = false, failed = false;
    module.walk([&](func::FuncOp func) {
      Value context = runtimeContextArgument(func);
      Value descriptor;
      // Planned before any rewrite: a call erases its epilogue's op.
      SmallVector<std::pair<linalg::GenericOp, GemmPlan>> contractions;
      func.walk([&](linalg::GenericOp op) {
        if (std::optional<GemmPlan> plan = planContraction(op))
          if (!unitStrideOperands || hasUnitStrideOperands(*plan))
            contractions.emplace_back(op, *plan);
      });
      for (auto &[op, plan] : contractions) {
        if (!context) {
          op.emitError("an fp32 contraction needs the runtime's GEMM, but function '")
              << func.getSymName() << "' has no '" << kRuntimeContextAttr << "' argument";
          failed = true;
          return WalkResult::interrupt();
        }
        if (!descriptor) {
          // One descriptor per function: calls run one after another.
          rewriter.setInsertionPointToStart(&func.getBody().front());
          descriptor = memref::AllocaOp::create(
              rewriter, func.getLoc(),
              MemRefType::get({kNumDescFields}, rewriter.getIndexType()));
        }
        emitGemmCall(rewriter, op, plan, epilogueOf(op, plan), context, descriptor);
        called = true;
      }
      return WalkResult::advance();
    });
    if (failed)
      return signalPassFailure();
    if (called)
      kiln::lowering::declareDescriptorCall(module, kGemmFunction);
  }
};
} // namespace
