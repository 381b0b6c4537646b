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
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCONTRACTIONTORUNTIMEGEMM
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using mlir::kiln::lowering::kRuntimeContextAttr;
using mlir::kiln::lowering::runtimeContextArgument;

namespace {

constexpr StringLiteral kGemmFunction = "kiln_rt_sgemm";

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

/// Whether the payload is `out + a * b` in f32.
bool isMultiplyAccumulate(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || body.getOperations().size() != 3)
    return false;
  Value acc = body.getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getRhs() == acc ? add.getLhs() : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return false;
  Value a = body.getArgument(0), b = body.getArgument(1);
  return (mul.getLhs() == a && mul.getRhs() == b) || (mul.getLhs() == b && mul.getRhs() == a);
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
};

/// The plan for an f32 `out += a * b` generic on buffers, if it is one the
/// runtime GEMM can take.
std::optional<GemmPlan> planContraction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.getElementType().isF32())
      return std::nullopt;
  }
  if (!isMultiplyAccumulate(op))
    return std::nullopt;
  unsigned numLoops = op.getNumLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto a = accessOf(op.getDpsInputs()[0], maps[0], numLoops);
  auto b = accessOf(op.getDpsInputs()[1], maps[1], numLoops);
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

  GemmPlan plan{*a, *b, *c, *k, std::nullopt, std::nullopt};
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

/// Replaces `op` by the loops and the call of `plan`.
void emitGemmCall(RewriterBase &rewriter, linalg::GenericOp op, const GemmPlan &plan,
                  Value runtimeContext) {
  Location loc = op.getLoc();
  // A zero fill of C right before the contraction becomes accumulate = 0.
  bool overwrite = false;
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode())) {
    if (fill.hasPureBufferSemantics() && fill.getDpsInits()[0] == plan.c.buffer &&
        matchPattern(fill.getDpsInputs()[0], m_AnyZeroFloat())) {
      rewriter.eraseOp(fill);
      overwrite = true;
    }
  }
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
  auto stride = [&](CallOperand &o, std::optional<unsigned> loop) {
    return loop ? o.strides[*loop] : zero;
  };

  // Every parallel loop other than m and n loops around the call.
  Value addressA = a.address, addressB = b.address, addressC = c.address;
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop) {
    if (loop == plan.k || loop == plan.m || loop == plan.n)
      continue;
    auto forOp = scf::ForOp::create(rewriter, loc, zero, size(loop), one);
    rewriter.setInsertionPointToStart(forOp.getBody());
    Value iv = forOp.getInductionVar();
    auto advance = [&](Value address, CallOperand &o) -> Value {
      if (o.strides[loop] == zero)
        return address; // a loop this operand does not use (or broadcasts)
      Value elements = arith::MulIOp::create(rewriter, loc, iv, o.strides[loop]);
      return arith::AddIOp::create(rewriter, loc, address,
                                   arith::MulIOp::create(rewriter, loc, elements, bytes));
    };
    addressA = advance(addressA, a);
    addressB = advance(addressB, b);
    addressC = advance(addressC, c);
  }
  SmallVector<Value> args{runtimeContext, size(plan.m),    size(plan.n),
                          size(plan.k),   addressA,        stride(a, plan.m),
                          stride(a, plan.k), addressB,     stride(b, plan.k),
                          stride(b, plan.n), addressC,     plan.m ? stride(c, plan.m) : one,
                          overwrite ? zero : one};
  func::CallOp::create(rewriter, loc, kGemmFunction, TypeRange{}, args);
  rewriter.eraseOp(op);
}

/// Declares kiln_rt_sgemm(ctx, m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, c,
/// ldc, accumulate) with every parameter an index (addresses included).
void declareGemm(ModuleOp module) {
  if (module.lookupSymbol(kGemmFunction))
    return;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto type = b.getFunctionType(SmallVector<Type>(13, b.getIndexType()), {});
  auto decl = func::FuncOp::create(b, module.getLoc(), kGemmFunction, type);
  decl.setPrivate();
}

struct ContractionToRuntimeGemmPass
    : mlir::kiln::impl::KilnContractionToRuntimeGemmBase<ContractionToRuntimeGemmPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    bool called = false, failed = false;
    module.walk([&](func::FuncOp func) {
      Value context = runtimeContextArgument(func);
      SmallVector<linalg::GenericOp> contractions;
      func.walk([&](linalg::GenericOp op) { contractions.push_back(op); });
      for (linalg::GenericOp op : contractions) {
        std::optional<GemmPlan> plan = planContraction(op);
        if (!plan)
          continue;
        if (!context) {
          op.emitError("an fp32 contraction needs the runtime's GEMM, but function '")
              << func.getSymName() << "' has no '" << kRuntimeContextAttr << "' argument";
          failed = true;
          return WalkResult::interrupt();
        }
        emitGemmCall(rewriter, op, *plan, context);
        called = true;
      }
      return WalkResult::advance();
    });
    if (failed)
      return signalPassFailure();
    if (called)
      declareGemm(module);
  }
};
} // namespace
