// RUN: kiln-opt %s --kiln-lower-to-linalg | FileCheck %s

// conv_transpose with 2 groups, stride 2, a begin pad and an output
// padding: the weight (C, Mg, k) is split into (G, Cg, Mg, k) and the
// result built as (N, G, Mg, o) so that every loop is a dim of an operand;
// the bias fills the accumulator; the body reads the input element
// o + pad - k exactly stride times an in-range index away, else adds 0;
// the groups merge back into the channels at the end.
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d4, d2, d5)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @conv_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<?x4x3xf32>, %[[WT:.*]]: tensor<4x3x2xf32>, %[[B:.*]]: tensor<6xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[WG:.*]] = tensor.expand_shape %[[WT]] {{\[}}[0, 1], [2], [3]] output_shape [2, 2, 3, 2] : tensor<4x3x2xf32> into tensor<2x2x3x2xf32>
// CHECK: %[[BG:.*]] = tensor.expand_shape %[[B]] {{\[}}[0, 1]] output_shape [2, 3]
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[BIAS]], {{.*}}]{{.*}} ins(%[[BG]] : tensor<2x3xf32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[WG]] : tensor<2x2x3x2xf32>) outs(%[[INIT]] : tensor<?x2x3x6xf32>)
// CHECK: ^bb0(%[[WV:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK: %[[IN:.*]] = arith.floordivsi %[[T:.*]], %[[C2]] : index
// CHECK: %[[BACK:.*]] = arith.muli %[[IN]], %[[C2]] : index
// CHECK: arith.cmpi eq, %[[BACK]], %[[T]] : index
// CHECK: %[[XV:.*]] = tensor.extract %[[X]]
// CHECK: %[[P:.*]] = arith.mulf %[[XV]], %[[WV]] : f32
// CHECK: %[[TERM:.*]] = arith.select %{{.*}}, %[[P]], %[[ZERO]] : f32
// CHECK: arith.addf %[[ACC]], %[[TERM]] : f32
// CHECK: tensor.collapse_shape %[[R]] {{\[}}[0], [1, 2], [3]] : tensor<?x2x3x6xf32> into tensor<?x6x6xf32>
func.func @conv_transpose(%x: tensor<?x4x3xf32>, %w: tensor<4x3x2xf32>, %b: tensor<6xf32>) -> tensor<?x6x6xf32> {
  %0 = kiln.conv_transpose %x, %w, %b {strides = array<i64: 2>, pads = array<i64: 1, 0>, dilations = array<i64: 1>, output_padding = array<i64: 1>, group = 2 : i64} : (tensor<?x4x3xf32>, tensor<4x3x2xf32>, tensor<6xf32>) -> tensor<?x6x6xf32>
  return %0 : tensor<?x6x6xf32>
}
