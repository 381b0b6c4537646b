//===- GemmWeights.h - Constant weights of contractions ---------*- C++ -*-===//
//
// Internal to passes/lib: finds the constant B of an f32 contraction on
// tensors, for the passes that re-lay it out at compile time
// (kiln-pack-gemm-weights: f32 panels; kiln-quantize-contractions: packed
// int8).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LAYOUT_GEMMWEIGHTS_H
#define KILN_PASSES_LAYOUT_GEMMWEIGHTS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSet.h"

#include <optional>

namespace mlir::kiln::layout {

/// A constant weight of a contraction: B's data and, per B dim, whether it
/// is the GEMM's k (else n).
struct PackableWeight {
  arith::ConstantOp constant;
  SmallVector<int64_t> perm; // B dim i is dim perm[i] of the constant
  unsigned kLoop, nLoop;
  bool kIsDim0; // of B as the contraction reads it
};

/// The f32 values of a constant, if the compiler holds them.
std::optional<ArrayRef<float>> floatsOf(ElementsAttr value);

/// The weight of `op` if it is an f32 contraction whose B is a constant
/// matrix (through one linalg.transpose and one collapse to 2-D at most)
/// indexed by exactly the reduction loop and one parallel loop that is the
/// innermost dim of the output (the kernel's n).
std::optional<PackableWeight> packableWeight(linalg::GenericOp op);

/// B as a K x N matrix inside the row-major constant it reads.
struct WeightView {
  int64_t k, n, kStride, nStride;
};

/// The view of `w` in its constant, whose 2-D (collapsed) shape is
/// `constantShape`.
WeightView viewOf(ArrayRef<int64_t> constantShape, const PackableWeight &w);

/// The 2-D shape of the constant behind B (before any transpose).
SmallVector<int64_t> weightMatrixShape(linalg::GenericOp op, const PackableWeight &w);

/// Whether `value` is a tensor filled with zeros.
bool isZeroFilled(Value value);

/// Whether A is read row-major as (batch..., m, k) and C written as
/// (batch..., m, n): every loop but n indexes A in loop order with k last,
/// every loop but k indexes C in loop order with n last. Then A collapses
/// to rows x K and C to rows x N, as kiln.qgemm and kiln.sparse_gemm take
/// them.
bool hasRowMajorOperands(linalg::GenericOp op, const PackableWeight &w);

/// The elementwise consumer of a contraction that kiln-prepare-gemm-epilogues
/// marked, as a row-major ukernel op's operands.
struct RowsEpilogue {
  linalg::GenericOp op;
  Value bias, residual;
  int64_t activation = 0; // kiln_gemm_activation
};

/// What a row-major ukernel op (kiln.qgemm, kiln.sparse_gemm) that
/// replaces contraction `op` takes, built where it goes: A as a matrix, the
/// marked epilogue's bias (one dim), residual (a matrix) and activation,
/// and a fresh init of C's shape (whose leading dims are the rows).
struct RowsUkernelOperands {
  std::optional<RowsEpilogue> epilogue;
  Value a, bias, residual, init;
  int64_t activation = 0;
  Value zeroInit; // the contraction's init
};

/// The operands above; leaves `rewriter` where the op goes.
RowsUkernelOperands rowsUkernelOperands(RewriterBase &rewriter, linalg::GenericOp op);

/// Replaces `op` (and its epilogue, if any) by `result`, the ukernel op's,
/// and erases the zero fill that only it used.
void replaceByRowsUkernel(RewriterBase &rewriter, linalg::GenericOp op,
                          const RowsUkernelOperands &operands, Value result);

/// Frees the data of the dense resources in `candidates` that no constant
/// uses any more, after erasing dead transposes, collapses and constants:
/// compiling BERT-size models must not hold every weight twice.
void releaseUnusedWeights(ModuleOp module, const llvm::StringSet<> &candidates);

} // namespace mlir::kiln::layout

#endif // KILN_PASSES_LAYOUT_GEMMWEIGHTS_H
