// RUN: kiln-opt %s --kiln-expose-layer-inputs="nodes=fc2,fc1" -split-input-file -verify-diagnostics | FileCheck %s

// The named layers' A operands are returned after the graph's own outputs,
// in the order of `nodes`, named calibration:<node>; the graph is unchanged.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<?x8xf32> {kiln.output_name = "y"}, tensor<?x8xf32> {kiln.output_name = "calibration:fc2"}, tensor<?x4xf32> {kiln.output_name = "calibration:fc1"})
// CHECK: %[[H:.*]] = kiln.matmul %arg0, %{{.*}}
// CHECK: %[[Y:.*]] = kiln.gemm %[[H]], %{{.*}}
// CHECK: return %[[Y]], %[[H]], %arg0 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>
func.func @main(%x: tensor<?x4xf32> {kiln.input_name = "x"}) -> (tensor<?x8xf32> {kiln.output_name = "y"}) {
  %w1 = kiln.constant dense<1.0> : tensor<4x8xf32>
  %w2 = kiln.constant dense<2.0> : tensor<8x8xf32>
  %h = kiln.matmul %x, %w1 : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32> loc(#fc1)
  %y = kiln.gemm %h, %w2 : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32> loc(#fc2)
  return %y : tensor<?x8xf32>
}
#fc1 = loc("fc1"("MatMul"))
#fc2 = loc("fc2"("Gemm"))

// -----

// A name no MatMul or Gemm has is an error: that layer would go uncalibrated.
// expected-error @below {{kiln-expose-layer-inputs: no MatMul or Gemm node is named 'fc2'}}
module {
func.func @main(%x: tensor<?x4xf32>) -> tensor<?x8xf32> {
  %w1 = kiln.constant dense<1.0> : tensor<4x8xf32>
  %h = kiln.matmul %x, %w1 : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32> loc(#fc1)
  return %h : tensor<?x8xf32>
}
}
#fc1 = loc("fc1"("MatMul"))
