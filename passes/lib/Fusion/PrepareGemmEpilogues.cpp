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
// What a payload computes is decided from its ops alone, never by running
// it. Exporters write GELU in many algebraically equal forms (x * 0.5 *
// (1 + erf(x / 1.41421354)), x * (erf(x * 0.70710677) + 1) * 0.5, Pow or
// Mul for x^3, operands of + and * in either order), so rather than list
// those forms one by one the payload's value is rewritten into a normal
// form: a polynomial whose variables are x, the bias, the residual and the
// payload's erf, tanh, max and select ops taken whole (opaque terms). Each
// candidate is a polynomial too (GELU erf: s/2 + s/2 * E + r for s = x +
// bias, E an erf of the payload), and an opaque term's own operands must
// normalise to what the candidate needs (E's argument to s / sqrt 2).
// Equal normal forms are equal functions of x, bias and residual (up to
// rounding) whatever the opaque terms' values, so a match is never a
// coincidence of the values tried. Constants must equal the exact ones
// within a few fp32 roundings, or be them rounded to float16 or bfloat16
// (a 16-bit model's constants, which the importer widens to f32: sqrt 2/pi
// is 0.7978516 in float16); the epilogue then computes with the exact ones,
// a change below that type's own rounding.
// Anything else (a min, as in ReLU6 = min(max(s, 0), 6); a select whose
// branches are not s and 0, as in LeakyReLU; exp; a wrong constant; the
// bias counted twice) matches no candidate, and the consumer stays a loop
// of its own, which is always correct. (Evaluating the payload at sample
// points, as this pass once did, took ReLU6 for ReLU: every sample was
// below 6.)
//
// A kiln.qgemm that is already there (a pre-quantized model's int8 MatMul,
// kiln-fold-integer-matmuls) is the runtime call itself: a consumer of the
// same kind moves into it here, as its activation, residual and (unless it
// has one) bias.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <map>

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

/// The roles of a consumer's inputs, by operand number (-1: none).
struct EpilogueOperands {
  int64_t gemm = -1, bias = -1, residual = -1;
};

/// A product of variables, by id, sorted; a variable repeats once per
/// power (x^3 * bias is {x, x, x, bias}). The empty monomial is 1.
using Monomial = SmallVector<unsigned, 4>;
/// A sum of monomials times their coefficients; no coefficient is 0.
using Polynomial = std::map<Monomial, double>;

/// Variable ids: the block arguments' roles, then the opaque terms.
enum : unsigned { kX = 0, kBias = 1, kResidual = 2, kFirstOpaque = 3 };
/// Bounds on the expansion, far above what an activation needs (GELU tanh
/// with a bias: 6 monomials of degree <= 3), so a payload cannot make it
/// blow up.
constexpr size_t kMaxMonomials = 64;
constexpr size_t kMaxDegree = 8;

Polynomial constant(double c) { return c == 0.0 ? Polynomial() : Polynomial{{Monomial(), c}}; }
Polynomial variable(unsigned id) { return Polynomial{{Monomial{id}, 1.0}}; }

/// p + scale * q.
Polynomial plus(Polynomial p, const Polynomial &q, double scale = 1.0) {
  for (const auto &[monomial, c] : q) {
    double sum = (p[monomial] += scale * c);
    if (sum == 0.0)
      p.erase(monomial);
  }
  return p;
}

Polynomial scaled(const Polynomial &p, double scale) { return plus(Polynomial(), p, scale); }

/// p * q, expanded; nullopt past the bounds.
std::optional<Polynomial> times(const Polynomial &p, const Polynomial &q) {
  Polynomial product;
  for (const auto &[pm, pc] : p) {
    for (const auto &[qm, qc] : q) {
      if (pm.size() + qm.size() > kMaxDegree)
        return std::nullopt;
      Monomial m(pm);
      m.append(qm.begin(), qm.end());
      llvm::sort(m);
      product[m] += pc * qc;
    }
  }
  if (product.size() > kMaxMonomials)
    return std::nullopt;
  return plus(Polynomial(), product); // drops the terms that cancelled
}

/// The value of a polynomial with no variables.
std::optional<double> constantValue(const Polynomial &p) {
  if (p.empty())
    return 0.0;
  if (p.size() == 1 && p.begin()->first.empty())
    return p.begin()->second;
  return std::nullopt;
}

/// Whether a and b are the same polynomial, coefficients equal within a
/// few fp32 roundings: a payload's constants are fp32 (1.41421354 for sqrt 2,
/// 6e-8 relative off), and normalising multiplies a few of them. GELU's
/// constants written to 4 digits (0.7071) or a wrong one (0.6) differ by far
/// more.
bool same(const Polynomial &a, const Polynomial &b) {
  if (a.size() != b.size())
    return false;
  for (const auto &[monomial, c] : a) {
    auto it = b.find(monomial);
    if (it == b.end() ||
        std::fabs(c - it->second) > 1e-6 * std::max(std::fabs(c), std::fabs(it->second)))
      return false;
  }
  return true;
}

/// Normalises values of a payload into polynomials over x, bias, residual
/// and opaque terms: erf, tanh, and the maximum and select ops that may be
/// a ReLU. What an opaque term computes is for the candidates to check.
class PayloadAlgebra {
public:
  PayloadAlgebra(Block &body, const EpilogueOperands &roles) {
    variables[body.getArgument(roles.gemm)] = kX;
    if (roles.bias >= 0)
      variables[body.getArgument(roles.bias)] = kBias;
    if (roles.residual >= 0)
      variables[body.getArgument(roles.residual)] = kResidual;
  }

  /// v as a polynomial; nullopt if it uses an op or value this does not
  /// model (so the payload is no epilogue).
  std::optional<Polynomial> expand(Value v) {
    if (auto it = expanded.find(v); it != expanded.end())
      return it->second;
    std::optional<Polynomial> p = expandUncached(v);
    expanded[v] = p;
    return p;
  }

  /// The opaque term with variable id kFirstOpaque + i.
  ArrayRef<Operation *> opaqueTerms() const { return opaque; }

private:
  std::optional<Polynomial> expandUncached(Value v) {
    if (auto it = variables.find(v); it != variables.end())
      return variable(it->second);
    Operation *op = v.getDefiningOp();
    if (!op)
      return std::nullopt; // the init, or an argument of some other block
    using Result = std::optional<Polynomial>;
    return llvm::TypeSwitch<Operation *, Result>(op)
        .Case([&](arith::ConstantOp c) -> Result {
          auto attr = dyn_cast<FloatAttr>(c.getValue());
          if (!attr || !std::isfinite(attr.getValueAsDouble()))
            return std::nullopt;
          return constant(attr.getValueAsDouble());
        })
        .Case<math::ErfOp, math::TanhOp, arith::MaximumFOp, arith::MaxNumFOp, arith::SelectOp>(
            [&](Operation *term) { return opaqueTerm(term); })
        .Case([&](arith::NegFOp neg) -> Result {
          Result a = expand(neg.getOperand());
          return a ? Result(scaled(*a, -1.0)) : std::nullopt;
        })
        .Case([&](arith::AddFOp) {
          return combine(op, [](auto &a, auto &b) { return plus(a, b); });
        })
        .Case([&](arith::SubFOp) {
          return combine(op, [](auto &a, auto &b) { return plus(a, b, -1.0); });
        })
        .Case([&](arith::MulFOp) { return combine(op, times); })
        .Case([&](arith::DivFOp) {
          // Only by a constant: a / c is a * (1 / c).
          return combine(op, [](auto &a, auto &b) -> Result {
            std::optional<double> c = constantValue(b);
            if (!c || *c == 0.0)
              return std::nullopt;
            return scaled(a, 1.0 / *c);
          });
        })
        // x^n for a small constant integer n (exporters write Pow(x, 3)).
        .Case<math::PowFOp, math::FPowIOp>([&](Operation *pow) -> Result {
          Result base = expand(pow->getOperand(0));
          std::optional<int64_t> n = smallExponent(pow->getOperand(1));
          if (!base || !n)
            return std::nullopt;
          Result power = constant(1.0);
          for (int64_t i = 0; i < *n && power; ++i)
            power = times(*power, *base);
          return power;
        })
        .Default([](Operation *) { return std::nullopt; });
  }

  /// f(a, b) for a binary op's operands as polynomials a and b.
  template <typename F> std::optional<Polynomial> combine(Operation *op, F f) {
    std::optional<Polynomial> a = expand(op->getOperand(0));
    std::optional<Polynomial> b = a ? expand(op->getOperand(1)) : std::nullopt;
    if (!b)
      return std::nullopt;
    return f(*a, *b);
  }

  std::optional<int64_t> smallExponent(Value v) {
    auto c = v.getDefiningOp<arith::ConstantOp>();
    if (!c)
      return std::nullopt;
    double n;
    if (auto f = dyn_cast<FloatAttr>(c.getValue()))
      n = f.getValueAsDouble();
    else if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      n = double(i.getValue().getSExtValue());
    else
      return std::nullopt;
    if (n < 1 || n > kMaxDegree || n != std::floor(n))
      return std::nullopt;
    return int64_t(n);
  }

  Polynomial opaqueTerm(Operation *op) {
    opaque.push_back(op);
    return variable(kFirstOpaque + opaque.size() - 1);
  }

  llvm::DenseMap<Value, unsigned> variables;
  llvm::DenseMap<Value, std::optional<Polynomial>> expanded;
  SmallVector<Operation *> opaque;
};

/// Whether cmpf `predicate` holds for lhs > rhs (+1) or for lhs < rhs (-1)
/// and not for the other order; 0 for any other predicate. Strict or not
/// does not matter where it is used (a ReLU's branches agree at 0); ordered
/// or not differ only on NaN, as maximumf and maxnumf do, and the runtime's
/// ReLU has its own rule there.
int direction(arith::CmpFPredicate predicate) {
  using P = arith::CmpFPredicate;
  switch (predicate) {
  case P::OGT: case P::OGE: case P::UGT: case P::UGE:
    return 1;
  case P::OLT: case P::OLE: case P::ULT: case P::ULE:
    return -1;
  default:
    return 0;
  }
}

/// Whether `op` computes max(s, 0): arith.maximumf or maxnumf of s and 0
/// (ONNX Relu, lowered), or a select of s and 0 on a comparison of s with
/// 0 that picks s where s > 0 (Where(x > 0, x, 0) in an exported graph).
bool isRelu(Operation *op, const Polynomial &s, PayloadAlgebra &algebra) {
  auto is = [&](Value v, const Polynomial &want) {
    std::optional<Polynomial> p = algebra.expand(v);
    return p && same(*p, want);
  };
  const Polynomial zero;
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op))
    return (is(op->getOperand(0), s) && is(op->getOperand(1), zero)) ||
           (is(op->getOperand(0), zero) && is(op->getOperand(1), s));
  auto select = dyn_cast<arith::SelectOp>(op);
  auto cmp = select ? select.getCondition().getDefiningOp<arith::CmpFOp>() : nullptr;
  if (!cmp)
    return false;
  // +1: the condition is s > 0; -1: s < 0.
  int sPositive = 0;
  if (is(cmp.getLhs(), s) && is(cmp.getRhs(), zero))
    sPositive = direction(cmp.getPredicate());
  else if (is(cmp.getLhs(), zero) && is(cmp.getRhs(), s))
    sPositive = -direction(cmp.getPredicate());
  Value positive = sPositive > 0 ? select.getTrueValue() : select.getFalseValue();
  Value negative = sPositive > 0 ? select.getFalseValue() : select.getTrueValue();
  return sPositive != 0 && is(positive, s) && is(negative, zero);
}

/// Which activation the payload applies, if it computes
/// act(x + bias) + residual for x, bias, residual in `operands`.
std::optional<GemmActivation> classify(linalg::GenericOp op, const EpilogueOperands &operands) {
  Block &body = op.getRegion().front();
  PayloadAlgebra algebra(body, operands);
  std::optional<Polynomial> result = algebra.expand(body.getTerminator()->getOperand(0));
  if (!result)
    return std::nullopt;
  // s, the activation's input, and the residual term.
  Polynomial s = variable(kX), r;
  if (operands.bias >= 0)
    s = plus(s, variable(kBias));
  if (operands.residual >= 0)
    r = variable(kResidual);
  if (same(*result, plus(s, r)))
    return GemmActivation::None;

  // GELU is s/2 * (1 + f(s)) for f = erf(s / sqrt 2) or
  // tanh(sqrt(2/pi) * (s + 0.044715 s^3)), f one of the opaque terms.
  auto isGelu = [&](unsigned f) {
    std::optional<Polynomial> gelu = times(scaled(s, 0.5), plus(constant(1.0), variable(f)));
    return gelu && same(*result, plus(*gelu, r));
  };
  auto argumentIs = [&](Operation *term, const Polynomial &want) {
    std::optional<Polynomial> p = algebra.expand(term->getOperand(0));
    return p && same(*p, want);
  };
  auto argumentIsAny = [&](Operation *term, ArrayRef<Polynomial> wants) {
    return llvm::any_of(wants, [&](const Polynomial &want) { return argumentIs(term, want); });
  };
  // (Degree 3 and at most 4 monomials: within times' bounds.) Each form
  // with the exact constants and with them as a float16 or bfloat16 model
  // has them; s / sqrt 2 also as s divided by sqrt 2 so rounded.
  Polynomial s3 = *times(*times(s, s), s);
  SmallVector<Polynomial> erfArguments, tanhArguments;
  for (const llvm::fltSemantics *type :
       {&APFloat::IEEEdouble(), &APFloat::IEEEhalf(), &APFloat::BFloat()}) {
    auto rounded = [&](double value) {
      APFloat f(value);
      bool lost;
      f.convert(*type, APFloat::rmNearestTiesToEven, &lost);
      return f.convertToDouble();
    };
    erfArguments.push_back(scaled(s, rounded(1.0 / std::sqrt(2.0))));
    erfArguments.push_back(scaled(s, 1.0 / rounded(std::sqrt(2.0))));
    tanhArguments.push_back(
        scaled(plus(s, s3, rounded(0.044715)), rounded(std::sqrt(2.0 / M_PI))));
  }

  // A copy: checking a term's operands may add terms (erf(tanh(x))).
  SmallVector<Operation *> terms(algebra.opaqueTerms());
  for (auto [i, term] : llvm::enumerate(terms)) {
    unsigned id = kFirstOpaque + i;
    if (isa<math::ErfOp>(term) && argumentIsAny(term, erfArguments) && isGelu(id))
      return GemmActivation::GeluErf;
    if (isa<math::TanhOp>(term) && argumentIsAny(term, tanhArguments) && isGelu(id))
      return GemmActivation::GeluTanh;
    if (same(*result, plus(variable(id), r)) && isRelu(term, s, algebra))
      return GemmActivation::Relu;
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

/// Whether cuBLASLt's epilogues compute it (the GPU path's GEMMs): a bias
/// with no activation, ReLU or GELU tanh (cuBLASLt has no erf GELU); or a
/// residual with no activation onto a product over a zero init (cuBLASLt's
/// C input is then the residual, and nothing else can accumulate).
bool cublasApplies(linalg::GenericOp contraction, const EpilogueOperands &roles,
                   GemmActivation activation) {
  if (activation == GemmActivation::GeluErf)
    return false;
  if (roles.residual < 0)
    return true;
  auto fill = contraction.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  return activation == GemmActivation::None && fill &&
         matchPattern(fill.getDpsInputs()[0], m_AnyZeroFloat());
}

/// Rewrites the payload of `consumer` (an erf GELU epilogue with `roles`,
/// no residual) to GELU's tanh form, s/2 * (1 + tanh(sqrt(2/pi) * (s +
/// 0.044715 s^3))) for s = x + bias: what cuBLASLt's GELU epilogue computes.
void rewriteGeluAsTanh(RewriterBase &rewriter, linalg::GenericOp consumer,
                       const EpilogueOperands &roles) {
  Block &old = consumer.getRegion().front();
  Block *body = rewriter.createBlock(&consumer.getRegion(), consumer.getRegion().end(),
                                     old.getArgumentTypes(),
                                     SmallVector<Location>(old.getNumArguments(), consumer.getLoc()));
  rewriter.setInsertionPointToStart(body);
  Location loc = consumer.getLoc();
  auto constant = [&](double v) {
    return arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(float(v)));
  };
  Value s = body->getArgument(roles.gemm);
  if (roles.bias >= 0)
    s = arith::AddFOp::create(rewriter, loc, s, body->getArgument(roles.bias));
  Value cube = arith::MulFOp::create(rewriter, loc, arith::MulFOp::create(rewriter, loc, s, s), s);
  Value inner = arith::AddFOp::create(
      rewriter, loc, s, arith::MulFOp::create(rewriter, loc, constant(0.044715), cube));
  Value t = math::TanhOp::create(
      rewriter, loc, arith::MulFOp::create(rewriter, loc, constant(std::sqrt(2.0 / M_PI)), inner));
  Value half = arith::MulFOp::create(rewriter, loc, constant(0.5), s);
  Value y = arith::MulFOp::create(rewriter, loc, half,
                                  arith::AddFOp::create(rewriter, loc, constant(1.0), t));
  linalg::YieldOp::create(rewriter, loc, y);
  rewriter.eraseBlock(&old);
}

struct PrepareGemmEpiloguesPass
    : mlir::kiln::impl::KilnPrepareGemmEpiloguesBase<PrepareGemmEpiloguesPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> contractions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.hasPureTensorSemantics() && isContraction(op))
        contractions.push_back(op);
    });
    SmallVector<kiln::QGemmOp> qgemms;
    getOperation().walk([&](kiln::QGemmOp op) {
      if (op.hasTensorSemantics() && !op.getResidual() && op.getActivation() == 0)
        qgemms.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : contractions)
      markEpilogue(rewriter, op);
    for (kiln::QGemmOp op : qgemms)
      foldIntoQGemm(rewriter, op);
  }

  kiln::KilnDialect::GemmEpilogueAttrHelper epilogueAttr() {
    return getContext().getOrLoadDialect<kiln::KilnDialect>()->getGemmEpilogueAttrHelper();
  }

  /// The consumer of `result` (of `op`) that computes a GEMM epilogue, and
  /// its input roles and activation.
  struct Consumer {
    linalg::GenericOp op;
    EpilogueOperands roles;
    GemmActivation activation;
    bool geluAsTanh = false; // an erf GELU to rewrite (gelu-erf-as-tanh)
  };
  std::optional<Consumer> epilogueConsumer(Operation *op, Value result) {
    // The one user that reads the data (tensor.dim only asks for a size).
    Operation *reader = nullptr;
    for (Operation *user : result.getUsers()) {
      if (isa<tensor::DimOp>(user))
        continue;
      if (reader)
        return std::nullopt;
      reader = user;
    }
    auto consumer = dyn_cast_or_null<linalg::GenericOp>(reader);
    if (!consumer || consumer->getBlock() != op->getBlock() || epilogueAttr().isAttrPresent(consumer))
      return std::nullopt;
    std::optional<EpilogueOperands> roles = epilogueOperands(consumer, result);
    if (!roles)
      return std::nullopt;
    std::optional<GemmActivation> act = classify(consumer, *roles);
    if (!act)
      return std::nullopt;
    auto contraction = dyn_cast<linalg::GenericOp>(op);
    bool geluAsTanh = cublasEpilogues && geluErfAsTanh && *act == GemmActivation::GeluErf &&
                      roles->residual < 0;
    if (geluAsTanh)
      act = GemmActivation::GeluTanh;
    if (cublasEpilogues && (!contraction || !cublasApplies(contraction, *roles, *act)))
      return std::nullopt;
    return Consumer{consumer, *roles, *act, geluAsTanh};
  }

  void markEpilogue(IRRewriter &rewriter, linalg::GenericOp op) {
    Value result = op.getResult(0);
    std::optional<Consumer> found = epilogueConsumer(op, result);
    if (!found)
      return;
    linalg::GenericOp consumer = found->op;
    const EpilogueOperands &roles = found->roles;
    if (found->geluAsTanh)
      rewriteGeluAsTanh(rewriter, consumer, roles);
    rewriter.modifyOpInPlace(consumer, [&] {
      consumer.getDpsInitsMutable()[0].set(result);
      epilogueAttr().setAttr(consumer,
                             kiln::GemmEpilogueAttr::get(&getContext(), roles.gemm, roles.bias,
                                                         roles.residual, found->activation));
    });
  }

  /// `value` of rank r >= 2 with its leading dims collapsed into rows.
  static Value asMatrix(OpBuilder &b, Location loc, Value value) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getRank() == 2)
      return value;
    ReassociationIndices rows = llvm::to_vector(llvm::seq<int64_t>(0, type.getRank() - 1));
    return tensor::CollapseShapeOp::create(
        b, loc, value, SmallVector<ReassociationIndices>{rows, {type.getRank() - 1}});
  }

  /// qgemm(...) then act(x + bias) + residual = one qgemm with that
  /// epilogue: the order kiln.qgemm applies it in. Not when both have a
  /// bias (two additions round twice).
  void foldIntoQGemm(IRRewriter &rewriter, kiln::QGemmOp op) {
    std::optional<Consumer> consumer = epilogueConsumer(op, op.getResult());
    if (!consumer || (consumer->roles.bias >= 0 && op.getBias()))
      return;
    Value bias = op.getBias(), residual;
    Location loc = consumer->op.getLoc();
    rewriter.setInsertionPoint(consumer->op);
    if (consumer->roles.bias >= 0) {
      // A vector along the output's last dim, possibly with leading 1s.
      bias = consumer->op->getOperand(consumer->roles.bias);
      auto type = cast<RankedTensorType>(bias.getType());
      if (type.getShape().back() != op.getN() ||
          llvm::any_of(type.getShape().drop_back(), [](int64_t d) { return d != 1; }))
        return;
      if (type.getRank() != 1)
        bias = tensor::CollapseShapeOp::create(
            rewriter, loc, bias,
            SmallVector<ReassociationIndices>{
                llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
    }
    if (consumer->roles.residual >= 0)
      residual = asMatrix(rewriter, loc, consumer->op->getOperand(consumer->roles.residual));
    auto folded = kiln::QGemmOp::create(
        rewriter, op.getLoc(), op.getResult().getType(), op.getA(), op.getBPacked(),
        op.getBScale(), op.getAScale(), op.getAZeroPoint(), bias, residual, op.getInit(),
        op.getK(), op.getN(), int64_t(consumer->activation));
    rewriter.replaceOp(consumer->op, folded.getResult());
    rewriter.eraseOp(op);
  }
};

} // namespace
