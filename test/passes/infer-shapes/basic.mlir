// RUN: kiln-opt %s --kiln-infer-shapes -split-input-file | FileCheck %s

// A reshape whose shape operand is a constant gets a static result, and the
// refinement flows to its users and to the function's result type.
// CHECK-LABEL: func.func @refine_reshape
// CHECK-SAME: -> tensor<2x4xf32>
func.func @refine_reshape(%x: tensor<8xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[2, 4]> : tensor<2xi64>
  // CHECK: kiln.reshape %{{.*}} : (tensor<8xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  %0 = kiln.reshape %x, %s : (tensor<8xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: kiln.exp %{{.*}} : tensor<2x4xf32>
  %1 = kiln.exp %0 : tensor<?x?xf32>
  return %1 : tensor<?x?xf32>
}

// -----

// Known elements of a computed shape (concat of shape(x) and constants)
// become static dims; the dim read from a `?` stays `?`.
// CHECK-LABEL: func.func @partial_shape
// CHECK: kiln.reshape {{.*}} -> tensor<?x8x12x64xf32>
func.func @partial_shape(%x: tensor<?x8x768xf32>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
  %c = kiln.constant dense<[12, 64]> : tensor<2xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<?x8x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}
