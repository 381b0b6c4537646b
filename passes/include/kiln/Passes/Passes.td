//===- Passes.td - Kiln passes --------------------------------*- tablegen -*-===//
//
// Every Kiln pass is declared here and lives in its own file under
// passes/lib/<group>/, with lit tests in test/passes/<name>/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_TD
#define KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnInferShapes : Pass<"kiln-infer-shapes", "::mlir::func::FuncOp"> {
  let summary = "Refine result types of kiln ops from their operands, in program order";
  let description = [{
    Re-runs each kiln op's result type inference in program order and writes
    the refined types back, then updates the function's result types. Run it
    after folding has turned computed shapes into constants (or after input
    dims were specialised) so that `?` dims become static downstream.

    Before:
    ```mlir
    %s = kiln.constant dense<[2, 4]> : tensor<2xi64>
    %0 = kiln.reshape %x, %s : (tensor<8xf32>, tensor<2xi64>) -> tensor<?x?xf32>
    ```
    After:
    ```mlir
    %0 = kiln.reshape %x, %s : (tensor<8xf32>, tensor<2xi64>) -> tensor<2x4xf32>
    ```
    An op whose operands contradict it (say a reshape whose element count no
    longer matches) is reported at its location and the pass fails.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnLowerToLinalg : Pass<"kiln-lower-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lower kiln ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Every kiln op becomes upstream ops on tensors: elementwise ops and
    reductions become `linalg.generic` (broadcasting through indexing maps),
    matmul/gemm become contractions, conv becomes `linalg.conv_2d_nchw_fchw`,
    shape computations become `tensor.dim`/`tensor.from_elements` arithmetic
    evaluated at run time, and data movement becomes `tensor` ops or index
    arithmetic in a `linalg.generic`. The result is ready for one-shot
    bufferization.

    Before:
    ```mlir
    %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<2x3xf32>
    %0 = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d1),
                                          (d0, d1) -> (d0, d1)], ...}
        ins(%a, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %s = arith.addf %x, %y : f32
        linalg.yield %s : f32
    } -> tensor<2x3xf32>
    ```
    A dynamic (`?`) dim is assumed to match the other operand's dim rather
    than broadcast from 1 at run time; an op the lowering does not handle yet
    is reported at its location and the pass fails.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def KilnStridedCopyToLinalg : Pass<"kiln-strided-copy-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into linalg.copy";
  let description = [{
    The LLVM lowering of `memref.copy` uses `memcpy` when both buffers are
    contiguous and otherwise calls `memrefCopy` from MLIR's C runner
    utilities, which a compiled Kiln model cannot link: the runtime carries
    nothing of MLIR. This pass rewrites every copy that is not between two
    contiguous buffers into `linalg.copy`, which later becomes loops (and
    vector code) inside the model itself. Contiguous copies are left for the
    `memcpy` lowering.

    Before:
    ```mlir
    memref.copy %view, %buffer : memref<4x2xf32, strided<[8, 1]>> to memref<4x2xf32>
    ```
    After:
    ```mlir
    linalg.copy ins(%view : memref<4x2xf32, strided<[8, 1]>>) outs(%buffer : memref<4x2xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // KILN_PASSES_TD
