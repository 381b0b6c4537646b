//===- KilnAttrs.td - kiln dialect attributes ----------------*- tablegen -*-===//
//
// Attributes that carry information from one pass to another. They are
// dialect attributes, parsed and verified like ops, so a pass never reads a
// hand-written dictionary it has to trust.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_ATTRS_TD
#define KILN_DIALECT_KILN_ATTRS_TD

include "kiln/Dialect/Kiln/KilnBase.td"
include "mlir/IR/EnumAttr.td"

// The values are those of enum kiln_gemm_activation in kiln_abi.h
// (compiler/lib/ModelAbi.cpp checks that they agree).
def Kiln_GemmActivation : I64EnumAttr<"GemmActivation",
    "the activation of a runtime GEMM's epilogue", [
      I64EnumAttrCase<"None", 0, "none">,
      I64EnumAttrCase<"GeluErf", 1, "gelu_erf">,
      I64EnumAttrCase<"GeluTanh", 2, "gelu_tanh">,
      I64EnumAttrCase<"Relu", 3, "relu">]> {
  let cppNamespace = "::mlir::kiln";
  let genSpecializedAttr = 0;
}

def Kiln_GemmActivationAttr : EnumAttr<Kiln_Dialect, Kiln_GemmActivation, "gemm_activation"> {
  let assemblyFormat = "`<` $value `>`";
}

def Kiln_GemmEpilogueAttr : AttrDef<Kiln_Dialect, "GemmEpilogue"> {
  let mnemonic = "gemm_epilogue";
  let summary = "Marks an elementwise op as the epilogue of the GEMM it consumes";
  let description = [{
    `kiln-prepare-gemm-epilogues` (on tensors) puts this attribute, named
    `kiln.gemm_epilogue`, on the elementwise `linalg.generic` that consumes a
    contraction and computes `act(x + bias) + residual`, after making it
    write in place into the contraction's result. After bufferization
    `kiln-contraction-to-runtime-gemm` folds the marked op into the
    `kiln.fgemm` it makes, so the output is written once, while in cache.

    `gemm`, `bias` and `residual` are operand numbers of the marked op: the
    contraction's result, the bias (a vector along the output's innermost
    dim) and the residual (the output's shape); -1 where there is none.
    The dialect verifies them against the op it is on.

    ```mlir
    linalg.generic {...} ins(%c, %bias : ...) outs(%c : ...)
        attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1,
                                                          residual = -1, activation = gelu_erf>}
    ```
  }];
  let parameters = (ins "int64_t":$gemm, "int64_t":$bias, "int64_t":$residual,
                        "::mlir::kiln::GemmActivation":$activation);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // KILN_DIALECT_KILN_ATTRS_TD
