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

#endif // KILN_PASSES_TD
