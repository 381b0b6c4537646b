//===- ApproximateMath.cpp - Vectorizable polynomials for f32 math --------===//
//
// Left alone, math.exp/erf/tanh/log become calls of libm's scalar functions
// per element, which the loop vectorizer cannot widen; in BERT-base the erf
// of GELU and the exp of softmax then cost more than every op but the
// matmuls. MLIR's polynomial approximations are plain arith (and vectorize);
// their error is a few ulp of f32, far inside the 1e-4 Kiln holds models to
// against ONNX Runtime.
//
// Powers with small constant exponents (GPT-2's GELU has x^3) become
// multiplications (upstream's algebraic simplification): a libm powf per
// element made GPT-2's GELU cost 39 ms of its 220 at 128 tokens.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNAPPROXIMATEMATH
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {
struct ApproximateMathPass : mlir::kiln::impl::KilnApproximateMathBase<ApproximateMathPass> {
  using KilnApproximateMathBase::KilnApproximateMathBase;

  void runOnOperation() override {
    // The upstream predicate sees full op names ("math.erf").
    llvm::StringSet<> chosen;
    for (const std::string &op : ops)
      chosen.insert(StringRef(op).starts_with("math.") ? op : "math." + op);
    if (chosen.empty())
      for (StringRef op : {"math.exp", "math.erf", "math.tanh", "math.log"})
        chosen.insert(op);
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [&](StringRef mnemonic) { return chosen.contains(mnemonic); });
    populateMathAlgebraicSimplificationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
