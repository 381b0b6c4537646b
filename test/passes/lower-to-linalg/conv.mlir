// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// ViT's patch embedding (kernel = stride = 16): patches [n, oh, ow, c, kh,
// kw] read the input at o * 16 + k, collapse to [n, 196, 768], meet the
// filters collapsed to [768 filters, 768] through (n, k), add the bias per
// column, and the [n, 196, 768] product is transposed and expanded to NCHW.
// CHECK-DAG: #[[WINDOW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 * 16 + d4, d2 * 16 + d5)>
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[COLUMN:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @patch_embedding
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x224x224xf32>, %[[W:.*]]: tensor<768x3x16x16xf32>, %[[B:.*]]: tensor<768xf32>)
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3x224x224xf32>
// CHECK: %[[PATCHES:.*]] = linalg.generic {indexing_maps = [#[[WINDOW]], #{{.*}}]
// CHECK-SAME: ins(%[[X]] : tensor<?x3x224x224xf32>) outs(%{{.*}} : tensor<?x14x14x3x16x16xf32>)
// CHECK: %[[A:.*]] = tensor.collapse_shape %[[PATCHES]] {{\[\[}}0], [1, 2], [3, 4, 5]] : tensor<?x14x14x3x16x16xf32> into tensor<?x196x768xf32>
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3]] : tensor<768x3x16x16xf32> into tensor<768x768xf32>
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[A]], %[[F]] : tensor<?x196x768xf32>, tensor<768x768xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[PB:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[COLUMN]], #{{.*}}]
// CHECK-SAME: ins(%[[P]], %[[B]] : tensor<?x196x768xf32>, tensor<768xf32>)
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[PB]] : tensor<?x196x768xf32>) outs(%{{.*}} : tensor<?x768x196xf32>) permutation = [0, 2, 1]
// CHECK: %[[Y:.*]] = tensor.expand_shape %[[T]] {{\[\[}}0], [1], [2, 3]] output_shape [%{{.*}}, 768, 14, 14] : tensor<?x768x196xf32> into tensor<?x768x14x14xf32>
// CHECK: return %[[Y]]
func.func @patch_embedding(%x: tensor<?x3x224x224xf32>, %w: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) -> tensor<?x768x14x14xf32> {
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 16, 16>, pads = array<i64: 0, 0, 0, 0>,
         dilations = array<i64: 1, 1>, group = 1 : i64}
       : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>) -> tensor<?x768x14x14xf32>
  return %0 : tensor<?x768x14x14xf32>
}

// -----

// Padding, strides and dilations go into the window map: the input is
// zero-padded first (H 5 + 1 + 1, W 6 + 0 + 2), then read at o * stride +
// k * dilation. Without a bias the product is transposed directly.
// CHECK-DAG: #[[WINDOW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 * 2 + d4 * 2, d2 + d5 * 3)>
// CHECK-LABEL: func.func @padded_strided_dilated
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 0] high[0, 0, 1, 2]
// CHECK: } : tensor<1x2x5x6xf32> to tensor<1x2x7x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[WINDOW]], #{{.*}}]
// CHECK-SAME: outs(%{{.*}} : tensor<1x2x2x2x3x3xf32>)
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x2x2x2x3x3xf32> into tensor<1x4x18xf32>
// CHECK: tensor.collapse_shape %{{.*}} : tensor<4x2x3x3xf32> into tensor<4x18xf32>
// CHECK: %[[P:.*]] = linalg.generic
// CHECK: } -> tensor<1x4x4xf32>
// CHECK-NOT: linalg.generic
// CHECK: linalg.transpose ins(%[[P]] : tensor<1x4x4xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [1, 4, 2, 2] : tensor<1x4x4xf32> into tensor<1x4x2x2xf32>
func.func @padded_strided_dilated(%x: tensor<1x2x5x6xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x2x2xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 2, 1>, pads = array<i64: 1, 0, 1, 2>,
         dilations = array<i64: 2, 3>, group = 1 : i64}
       : (tensor<1x2x5x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
