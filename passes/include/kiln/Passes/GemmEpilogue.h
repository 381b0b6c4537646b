//===- GemmEpilogue.h - How passes mark a GEMM's epilogue -------*- C++ -*-===//
//
// kiln-prepare-gemm-epilogues (on tensors) finds the elementwise op that
// consumes a contraction and computes act(x + bias) + residual, makes it
// write in place into the contraction's result and marks it; after
// bufferization kiln-contraction-to-runtime-gemm folds the marked op into
// the runtime GEMM call (kiln_gemm_desc in runtime/include/kiln/kiln_abi.h),
// so the output is written once, while it is in cache.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_GEMMEPILOGUE_H
#define KILN_PASSES_GEMMEPILOGUE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir::kiln {

/// On the consumer: a dictionary with the integer entries below.
constexpr llvm::StringLiteral kGemmEpilogueAttr = "kiln.gemm_epilogue";
/// Input operand numbers of the consumer: the contraction's result, the
/// bias (a vector along the output's innermost dim) and the residual (the
/// output's shape); -1 where there is none.
constexpr llvm::StringLiteral kEpilogueGemmOperand = "gemm";
constexpr llvm::StringLiteral kEpilogueBiasOperand = "bias";
constexpr llvm::StringLiteral kEpilogueResidualOperand = "residual";
/// One of GemmActivation.
constexpr llvm::StringLiteral kEpilogueActivation = "activation";

/// The values of enum kiln_gemm_activation (kiln_abi.h; ModelAbi.cpp
/// checks that they agree).
enum class GemmActivation : int64_t { None = 0, GeluErf = 1, GeluTanh = 2, Relu = 3 };

} // namespace mlir::kiln

#endif // KILN_PASSES_GEMMEPILOGUE_H
