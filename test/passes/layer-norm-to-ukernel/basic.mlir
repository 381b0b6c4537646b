// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-layer-norm-to-ukernel))' -split-input-file -mlir-print-debuginfo | FileCheck %s

// BERT's layer norm over the hidden size: one kiln.layer_norm_rows into a
// fresh tensor of the input's shape (its `?` dims from the input), the
// epsilon kept, the location the layer norm's.
// CHECK-LABEL: func.func @bert
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[S:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[INIT:.*]] = tensor.empty(%[[B]], %[[S]]) : tensor<?x?x384xf32>
// CHECK: %[[Y:.*]] = kiln.layer_norm_rows %arg0, %arg1 bias(%arg2 : tensor<384xf32>) into %[[INIT]] {epsilon = 9.99999996E-13 : f32}
// CHECK-SAME: loc(#[[LOC:loc[0-9]+]])
// CHECK-NOT: kiln.layer_norm %
// CHECK: return %[[Y]]
// CHECK: #[[LOC]] = loc("ln")
func.func @bert(%x: tensor<?x?x384xf32>, %g: tensor<384xf32>, %b: tensor<384xf32>) -> tensor<?x?x384xf32> {
  %y = kiln.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-12 : f32}
         : (tensor<?x?x384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<?x?x384xf32> loc("ln")
  return %y : tensor<?x?x384xf32>
}

// -----

// Without a bias; rank 1.
// CHECK-LABEL: func.func @no_bias
// CHECK: kiln.layer_norm_rows %arg0, %arg1 into %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
func.func @no_bias(%x: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  %y = kiln.layer_norm %x, %g {axis = 0 : i64, epsilon = 1.0e-5 : f32}
         : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// What the runtime's rows do not cover keeps kiln.layer_norm (and the
// linalg lowering): more than the last axis, a scale that broadcasts (one
// value for the row), a last dim only known at run time (the runtime would read
// that many scale values unchecked), rank 5.
// CHECK-LABEL: func.func @not_rows
// CHECK-NOT: kiln.layer_norm_rows
// CHECK-COUNT-4: kiln.layer_norm %
func.func @not_rows(%x: tensor<2x4x8xf32>, %g2: tensor<4x8xf32>, %g: tensor<8xf32>, %g1: tensor<1xf32>,
                    %d: tensor<2x?xf32>, %gd: tensor<?xf32>, %x5: tensor<1x1x1x2x8xf32>)
    -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x?xf32>, tensor<1x1x1x2x8xf32>) {
  %a = kiln.layer_norm %x, %g2 {axis = 1 : i64} : (tensor<2x4x8xf32>, tensor<4x8xf32>) -> tensor<2x4x8xf32>
  %b = kiln.layer_norm %x, %g1 {axis = 2 : i64} : (tensor<2x4x8xf32>, tensor<1xf32>) -> tensor<2x4x8xf32>
  %c = kiln.layer_norm %d, %gd {axis = 1 : i64} : (tensor<2x?xf32>, tensor<?xf32>) -> tensor<2x?xf32>
  %e = kiln.layer_norm %x5, %g {axis = 4 : i64} : (tensor<1x1x1x2x8xf32>, tensor<8xf32>) -> tensor<1x1x1x2x8xf32>
  return %a, %b, %c, %e : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x?xf32>, tensor<1x1x1x2x8xf32>
}
