//===- PrepareGemmEpilogues.cpp - Elementwise consumers as GEMM epilogues -===//
//
// A Linear layer lowers to a contraction and an elementwise op after it:
// the bias, often an activation, sometimes the residual add. Run apart,
// the elementwise op reads the whole GEMM output back from memory. The
// runtime GEMM applies act(x + bias) + residual to each block of C while it
// is still in cache (kiln_gemm_desc), so this pass sets things up for
// kiln-contraction-to-runtime-gemm to fold the two: a consumer that
// computes act(x + bias) + residual for a supported act (none, GELU erf,
// GELU tanh, ReLU) is marked kiln.gemm_epilogue and writes in place into
// the contraction's result (its init becomes that result), so
// bufferization gives both one buffer. It runs before kiln-approximate-math,
// while erf and tanh are still themselves.
//
// What a payload computes is decided by evaluating it, in double, at
// sample points for x, bias and residual and comparing with each
// candidate: payloads are small scalar expressions of arith and math ops,
// and exporters write GELU in many algebraically equal forms (x * 0.5 *
// (1 + erf(x / sqrt 2)), x * (erf(x * 0.7071) + 1) * 0.5, Pow or Mul for
// x^3, ...), which a structural matcher would have to list one by one. A
// payload with any op the evaluator does not know is left alone.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Passes/GemmEpilogue.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPREPAREGEMMEPILOGUES
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using mlir::kiln::GemmActivation;

namespace {

bool isContraction(linalg::GenericOp op) {
  return op.getNumDpsInputs() == 2 && op.getNumDpsInits() == 1 &&
         op.getNumReductionLoops() == 1 && kiln::lowering::isMultiplyAccumulate(op) &&
         getElementTypeOrSelf(op.getResult(0).getType()).isF32();
}

/// Evaluates a payload in double for given values of its block arguments;
/// nullopt if it uses an op this does not model.
class PayloadEvaluator {
public:
  explicit PayloadEvaluator(Block &body) : body(body) {}

  std::optional<double> evaluate(ArrayRef<double> arguments) {
    llvm::DenseMap<Value, double> values;
    for (auto [arg, v] : llvm::zip(body.getArguments(), arguments))
      values[arg] = v;
    auto get = [&](Value v) -> std::optional<double> {
      if (auto it = values.find(v); it != values.end())
        return it->second;
      FloatAttr constant;
      if (auto op = v.getDefiningOp<arith::ConstantOp>())
        if ((constant = dyn_cast<FloatAttr>(op.getValue())))
          return constant.getValueAsDouble();
      return std::nullopt;
    };
    for (Operation &op : body.without_terminator()) {
      if (op.getNumResults() != 1)
        return std::nullopt;
      SmallVector<double, 2> in;
      for (Value operand : op.getOperands()) {
        std::optional<double> v = get(operand);
        if (!v)
          return std::nullopt;
        in.push_back(*v);
      }
      std::optional<double> out = apply(op, in);
      if (!out)
        return std::nullopt;
      values[op.getResult(0)] = *out;
    }
    return get(body.getTerminator()->getOperand(0));
  }

private:
  static std::optional<double> apply(Operation &op, ArrayRef<double> in) {
    return llvm::TypeSwitch<Operation *, std::optional<double>>(&op)
        .Case([&](arith::AddFOp) { return in[0] + in[1]; })
        .Case([&](arith::SubFOp) { return in[0] - in[1]; })
        .Case([&](arith::MulFOp) { return in[0] * in[1]; })
        .Case([&](arith::DivFOp) { return in[0] / in[1]; })
        .Case([&](arith::NegFOp) { return -in[0]; })
        .Case([&](arith::MaximumFOp) { return std::fmax(in[0], in[1]); })
        .Case([&](arith::MaxNumFOp) { return std::fmax(in[0], in[1]); })
        .Case([&](arith::MinimumFOp) { return std::fmin(in[0], in[1]); })
        .Case([&](arith::MinNumFOp) { return std::fmin(in[0], in[1]); })
        .Case([&](math::ErfOp) { return std::erf(in[0]); })
        .Case([&](math::TanhOp) { return std::tanh(in[0]); })
        .Case([&](math::ExpOp) { return std::exp(in[0]); })
        .Case([&](math::SqrtOp) { return std::sqrt(in[0]); })
        .Case([&](math::PowFOp) { return std::pow(in[0], in[1]); })
        .Case([&](math::FPowIOp) { return std::pow(in[0], in[1]); })
        .Default([](Operation *) { return std::nullopt; });
  }

  Block &body;
};

double activate(GemmActivation act, double x) {
  switch (act) {
  case GemmActivation::None:
    return x;
  case GemmActivation::GeluErf:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case GemmActivation::GeluTanh:
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case GemmActivation::Relu:
    return x > 0 ? x : 0.0;
  }
  return x;
}

/// The roles of a consumer's inputs, by operand number (-1: none).
struct EpilogueOperands {
  int64_t gemm = -1, bias = -1, residual = -1;
};

/// Which activation the payload applies, if it computes
/// act(x + bias) + residual for x, bias, residual in `operands`.
std::optional<GemmActivation> classify(linalg::GenericOp op, const EpilogueOperands &operands) {
  PayloadEvaluator evaluator(op.getRegion().front());
  // Both signs, around the activations' bends, and far out where GELU's
  // tails differ from ReLU's only by a little.
  const double xs[] = {-7.5, -3.1, -1.7, -0.9, -0.31, -0.05, 0.0, 0.04, 0.27, 0.8, 1.3, 2.2, 4.9};
  const double bs[] = {0.0, 0.37, -1.1};
  const double rs[] = {0.0, -0.6, 2.3};
  const GemmActivation candidates[] = {GemmActivation::None, GemmActivation::GeluErf,
                                       GemmActivation::GeluTanh, GemmActivation::Relu};
  unsigned numArgs = op.getRegion().front().getNumArguments();
  for (GemmActivation act : candidates) {
    bool matches = true;
    for (double x : xs) {
      for (double b : bs) {
        for (double r : rs) {
          SmallVector<double> args(numArgs, 0.0);
          args[operands.gemm] = x;
          if (operands.bias >= 0)
            args[operands.bias] = b;
          if (operands.residual >= 0)
            args[operands.residual] = r;
          std::optional<double> got = evaluator.evaluate(args);
          if (!got)
            return std::nullopt;
          double want = activate(act, x + (operands.bias >= 0 ? b : 0.0)) +
                        (operands.residual >= 0 ? r : 0.0);
          // fp32 constants in the payload (1.41421354 for sqrt 2) differ
          // from the exact ones by ~1e-8 relative.
          if (!(std::fabs(*got - want) <= 1e-6 * (1.0 + std::fabs(want))))
            matches = false;
        }
      }
    }
    if (matches)
      return act;
  }
  return std::nullopt;
}

/// The input roles of `consumer` if it is elementwise over the shape of the
/// contraction result `gemm` it reads, and every other input is a bias or
/// the residual.
std::optional<EpilogueOperands> epilogueOperands(linalg::GenericOp consumer, Value gemm) {
  if (consumer.getNumDpsInits() != 1 || consumer.getNumReductionLoops() != 0 ||
      consumer.getResult(0).getType() != gemm.getType() ||
      !consumer.getRegion().front().getArguments().back().use_empty())
    return std::nullopt;
  unsigned rank = cast<RankedTensorType>(gemm.getType()).getRank();
  if (consumer.getNumLoops() != rank || !consumer.getIndexingMapsArray().back().isIdentity())
    return std::nullopt;
  EpilogueOperands roles;
  for (OpOperand *input : consumer.getDpsInputOperands()) {
    AffineMap map = consumer.getMatchingIndexingMap(input);
    int64_t number = input->getOperandNumber();
    if (input->get() == gemm && map.isIdentity() && roles.gemm < 0) {
      roles.gemm = number;
      continue;
    }
    if (!getElementTypeOrSelf(input->get().getType()).isF32())
      return std::nullopt;
    if (map.isIdentity() && input->get().getType() == gemm.getType() && roles.residual < 0) {
      roles.residual = number;
      continue;
    }
    // A bias: indexed by the innermost loop alone (other results 0).
    bool bias = map.getNumResults() > 0 && roles.bias < 0;
    for (auto [i, expr] : llvm::enumerate(map.getResults())) {
      bool last = i + 1 == map.getNumResults();
      auto dim = dyn_cast<AffineDimExpr>(expr);
      auto zero = dyn_cast<AffineConstantExpr>(expr);
      if (last ? !(dim && dim.getPosition() == rank - 1) : !(zero && zero.getValue() == 0))
        bias = false;
    }
    if (!bias)
      return std::nullopt;
    roles.bias = number;
  }
  if (roles.gemm < 0)
    return std::nullopt;
  return roles;
}

struct PrepareGemmEpiloguesPass
    : mlir::kiln::impl::KilnPrepareGemmEpiloguesBase<PrepareGemmEpiloguesPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> contractions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.hasPureTensorSemantics() && isContraction(op))
        contractions.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : contractions)
      markEpilogue(rewriter, op);
  }

  void markEpilogue(IRRewriter &rewriter, linalg::GenericOp op) {
    Value result = op.getResult(0);
    // The one user that reads the data (tensor.dim only asks for a size).
    Operation *reader = nullptr;
    for (Operation *user : result.getUsers()) {
      if (isa<tensor::DimOp>(user))
        continue;
      if (reader)
        return;
      reader = user;
    }
    auto consumer = dyn_cast_or_null<linalg::GenericOp>(reader);
    if (!consumer || consumer->getBlock() != op->getBlock() || consumer->hasAttr(kiln::kGemmEpilogueAttr))
      return;
    std::optional<EpilogueOperands> roles = epilogueOperands(consumer, result);
    if (!roles)
      return;
    std::optional<GemmActivation> act = classify(consumer, *roles);
    if (!act)
      return;
    Builder b(&getContext());
    auto entry = [&](StringRef name, int64_t v) {
      return b.getNamedAttr(name, b.getI64IntegerAttr(v));
    };
    rewriter.modifyOpInPlace(consumer, [&] {
      consumer.getDpsInitsMutable()[0].set(result);
      consumer->setAttr(kiln::kGemmEpilogueAttr,
                        b.getDictionaryAttr({entry(kiln::kEpilogueActivation, int64_t(*act)),
                                             entry(kiln::kEpilogueBiasOperand, roles->bias),
                                             entry(kiln::kEpilogueGemmOperand, roles->gemm),
                                             entry(kiln::kEpilogueResidualOperand, roles->residual)}));
    });
  }
};

} // namespace
