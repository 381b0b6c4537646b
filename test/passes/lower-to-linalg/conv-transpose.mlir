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

// Symbolic input channels and bias length are the ones the weight implies
// ([C, M / group, k]: 2 channels, 2 x 2 = 4 filters): checked when the model
// runs, then cast to them.
// CHECK-LABEL: func.func @conv_transpose_symbolic_sizes
// CHECK: %[[C:.*]] = tensor.dim %arg0, %c1 : tensor<1x?x5xf32>
// CHECK: %[[BADC:.*]] = arith.cmpi ne, %[[C]], %c2 : index
// CHECK: kiln.runtime_check %[[BADC]], "a ConvTranspose: the input's channels (dim 1) are not 2 at run time, as the weight implies"
// CHECK: tensor.cast %arg0 : tensor<1x?x5xf32> to tensor<1x2x5xf32>
// CHECK: %[[B:.*]] = tensor.dim %arg2, %c0 : tensor<?xf32>
// CHECK: %[[BADB:.*]] = arith.cmpi ne, %[[B]], %c4 : index
// CHECK: kiln.runtime_check %[[BADB]], "a ConvTranspose: the bias's length is not 4 at run time, as the weight implies"
// CHECK: tensor.cast %arg2 : tensor<?xf32> to tensor<4xf32>
// CHECK: linalg.generic
func.func @conv_transpose_symbolic_sizes(%x: tensor<1x?x5xf32>, %w: tensor<2x2x3xf32>, %b: tensor<?xf32>,
                                         %ctx: index {kiln.runtime_context}) -> tensor<1x4x7xf32> {
  %0 = kiln.conv_transpose %x, %w, %b {dilations = array<i64: 1>, group = 2 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>, output_padding = array<i64: 0>} : (tensor<1x?x5xf32>, tensor<2x2x3xf32>, tensor<?xf32>) -> tensor<1x4x7xf32>
  return %0 : tensor<1x4x7xf32>
}
