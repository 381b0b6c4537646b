//===- Bf16Contractions.h - Contractions with a bf16-packed weight -*- C++ -*-===//
//
// Internal to passes/lib: the form in which kiln-pack-gemm-weights-bf16
// leaves a contraction whose constant weight it rounded to bf16, and which
// kiln-contraction-to-runtime-gemm then turns into a kiln.fgemm with that B
// (called with b_type KILN_DTYPE_BFLOAT16). One definition of the form for
// both:
//
//   B: ceil(N/W) x K2/2 x W x 2 bf16 (kiln_bf16_pack.h's layout, K2 = K
//      rounded up to even), read through (n floordiv W, k floordiv 2,
//      n mod W, k mod 2);
//   body: out + a * arith.extf(b).
//
// As loops it computes sum_p A(i, p) * bf16(W(p, j)) with A unrounded; the
// runtime call also rounds A (kiln_abi.h), the arithmetic `--quantize bf16`
// asks for.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_BF16CONTRACTIONS_H
#define KILN_PASSES_LOWERING_BF16CONTRACTIONS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir::kiln::lowering {

/// The indexing map of a bf16-packed B: (n floordiv W, k floordiv 2,
/// n mod W, k mod 2) over `numLoops` loops.
AffineMap bf16PanelMap(unsigned numLoops, unsigned kLoop, unsigned nLoop, int64_t panel,
                       MLIRContext *context);

/// Which loops a bf16-packed B is read by, and its panel width W.
struct Bf16PackedB {
  unsigned kLoop, nLoop;
  int64_t panel;
};

/// `op`'s B if `op` is in the form above (on tensors or buffers); nullopt
/// otherwise.
std::optional<Bf16PackedB> bf16PackedBOf(linalg::GenericOp op);

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_BF16CONTRACTIONS_H
