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

// -----

// 1-D, ungrouped, static: the same GEMM over patches [n, o, c, k], whose
// window reads the input at o * 2 + k; the transposed product is already
// [n, f, o].
// CHECK-DAG: #[[WINDOW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 * 2 + d3)>
// CHECK-LABEL: func.func @one_dimensional
// CHECK: linalg.generic {indexing_maps = [#[[WINDOW]], #{{.*}}]
// CHECK-SAME: outs(%{{.*}} : tensor<?x4x8x3xf32>)
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : tensor<?x4x8x3xf32> into tensor<?x4x24xf32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : tensor<16x8x3xf32> into tensor<16x24xf32>
// CHECK: %[[Y:.*]] = linalg.transpose ins(%{{.*}} : tensor<?x4x16xf32>) outs(%{{.*}} : tensor<?x16x4xf32>) permutation = [0, 2, 1]
// CHECK: return %[[Y]]
func.func @one_dimensional(%x: tensor<?x8x9xf32>, %w: tensor<16x8x3xf32>) -> tensor<?x16x4xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 2>, pads = array<i64: 0, 0>,
         dilations = array<i64: 1>, group = 1 : i64}
       : (tensor<?x8x9xf32>, tensor<16x8x3xf32>) -> tensor<?x16x4xf32>
  return %0 : tensor<?x16x4xf32>
}

// -----

// Grouped, 2 output channels a group (too few for a GEMM a group): one
// generic over (n, g, m, oh, c, kh, kw, ow), the last output dim innermost,
// that reads input channel g * 3 + c and the weight split to [g, m, c, kh,
// kw], accumulating onto the bias split to [g, m]; the result [n, g, m,
// oh, ow] is collapsed to [n, 4, oh, ow].
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 3 + d4, d3 * 2 + d5, d7 * 2 + d6)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d4, d5, d6)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d7)>
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>
// CHECK-LABEL: func.func @grouped
// CHECK: %[[WG:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 2, 3, 2, 2] : tensor<4x3x2x2xf32> into tensor<2x2x3x2x2xf32>
// CHECK: %[[BG:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[BIAS]], #{{.*}}]
// CHECK-SAME: ins(%[[BG]] : tensor<2x2xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %[[WG]] : tensor<1x6x4x4xf32>, tensor<2x2x3x2x2xf32>) outs(%[[INIT]] : tensor<1x2x2x2x2xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.collapse_shape %[[Y]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x2x2x2xf32> into tensor<1x4x2x2xf32>
func.func @grouped(%x: tensor<1x6x4x4xf32>, %w: tensor<4x3x2x2xf32>, %b: tensor<4xf32>) -> tensor<1x4x2x2xf32> {
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>,
         dilations = array<i64: 1, 1>, group = 2 : i64}
       : (tensor<1x6x4x4xf32>, tensor<4x3x2x2xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Depthwise over a symbolic length, padded 1 and 1, dilation 2: the output
// length is (T + 2 - 5) / 1 + 1, after a check that the kernel (5 wide
// with its dilation) fits the padded input; i32 (ConvInteger) accumulates
// with muli and addi from a zero fill.
// CHECK-LABEL: func.func @depthwise_symbolic
// CHECK: %[[T:.*]] = tensor.dim %{{.*}}, %c2 : tensor<2x3x?xi32>
// CHECK: %[[SPAN:.*]] = arith.subi %{{.*}}, %c5 : index
// CHECK: %[[SHORT:.*]] = arith.cmpi slt, %[[SPAN]], %c0 : index
// CHECK: kiln.runtime_check %[[SHORT]], "node 'dw' (Conv): the kernel (5 wide with its dilation) is wider than the padded input in dim 2"
// CHECK: %[[FILL:.*]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<2x3x1x?xi32>)
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 1] high[0, 0, 1]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[PAD]], %{{.*}} : tensor<2x3x?xi32>, tensor<3x1x1x3xi32>) outs(%[[FILL]] : tensor<2x3x1x?xi32>)
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3]] : tensor<2x3x1x?xi32> into tensor<2x3x?xi32>
func.func @depthwise_symbolic(%x: tensor<2x3x?xi32>, %w: tensor<3x1x3xi32>, %ctx: index {kiln.runtime_context}) -> tensor<2x3x?xi32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 1, 1>,
         dilations = array<i64: 2>, group = 3 : i64}
       : (tensor<2x3x?xi32>, tensor<3x1x3xi32>) -> tensor<2x3x?xi32> loc("dw"("Conv"))
  return %0 : tensor<2x3x?xi32>
}

// -----

// Grouped with 8 output channels a group: a GEMM a group. Patches [n, g,
// o, c, k] read input channel g * 4 + c, collapse to [n, g, p, q]; the
// weight splits to [g, m, q]; the product's loops (n, g, p, m, q) have g
// in A and B (a batch of the runtime's GEMM); the bias adds per [g, m].
// CHECK-DAG: #[[WINDOW:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 4 + d3, d2 + d4)>
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d4)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[GROUP_BIAS:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-LABEL: func.func @grouped_gemm
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[WINDOW]], #{{.*}}]
// CHECK-SAME: outs(%{{.*}} : tensor<1x2x6x4x3xf32>)
// CHECK: %[[LHS:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x2x6x4x3xf32> into tensor<1x2x6x12xf32>
// CHECK: %[[WS:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3]] output_shape [2, 8, 4, 3] : tensor<16x4x3xf32> into tensor<2x8x4x3xf32>
// CHECK: %[[RHS:.*]] = tensor.collapse_shape %[[WS]] {{\[\[}}0], [1], [2, 3]] : tensor<2x8x4x3xf32> into tensor<2x8x12xf32>
// CHECK: %[[PROD:.*]] = linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[LHS]], %[[RHS]] : tensor<1x2x6x12xf32>, tensor<2x8x12xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[GROUP_BIAS]], #{{.*}}]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x2x6x8xf32>) outs(%{{.*}} : tensor<1x2x8x6xf32>) permutation = [0, 1, 3, 2]
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3]] : tensor<1x2x8x6xf32> into tensor<1x16x6xf32>
func.func @grouped_gemm(%x: tensor<1x8x8xf32>, %w: tensor<16x4x3xf32>, %b: tensor<16xf32>) -> tensor<1x16x6xf32> {
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 1>, pads = array<i64: 0, 0>,
         dilations = array<i64: 1>, group = 2 : i64}
       : (tensor<1x8x8xf32>, tensor<16x4x3xf32>, tensor<16xf32>) -> tensor<1x16x6xf32>
  return %0 : tensor<1x16x6xf32>
}

// -----

// Ungrouped over symbolic H and W: the output sizes are computed (after
// the kernel check), and the GEMM's rows stay [OH, OW] (a batch loop of the
// runtime's GEMM and its m): splitting one `?` dim into several is the
// memref.expand_shape that MLIR 22's expand-strided-metadata crashes on.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @symbolic_gemm
// CHECK: kiln.runtime_check %{{.*}}, "node 'c' (Conv): the kernel (3 wide with its dilation) is wider than the padded input in dim 2"
// CHECK: %[[OH:.*]] = arith.addi %{{.*}}, %c1 : index
// CHECK: kiln.runtime_check %{{.*}}, "node 'c' (Conv): the kernel (3 wide with its dilation) is wider than the padded input in dim 3"
// CHECK: %[[OW:.*]] = arith.addi %{{.*}}, %c1 : index
// CHECK: tensor.empty(%[[OH]], %[[OW]]) : tensor<1x?x?x2x3x3xf32>
// CHECK: %[[LHS:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2], [3, 4, 5]] : tensor<1x?x?x2x3x3xf32> into tensor<1x?x?x18xf32>
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[LHS]], %{{.*}} : tensor<1x?x?x18xf32>, tensor<4x18xf32>)
// CHECK: %[[Y:.*]] = linalg.transpose ins(%[[P]] : tensor<1x?x?x4xf32>) outs(%{{.*}} : tensor<1x4x?x?xf32>) permutation = [0, 3, 1, 2]
// CHECK-NOT: expand_shape
// CHECK: return %[[Y]]
func.func @symbolic_gemm(%x: tensor<1x2x?x?xf32>, %w: tensor<4x2x3x3xf32>, %ctx: index {kiln.runtime_context}) -> tensor<1x4x?x?xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
         dilations = array<i64: 1, 1>, group = 1 : i64}
       : (tensor<1x2x?x?xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x?x?xf32> loc("c"("Conv"))
  return %0 : tensor<1x4x?x?xf32>
}

// -----

// Symbolic input channels are the weight's (group x its dim 1 = 4 here),
// a symbolic bias length its filters (4): checked when the model runs, then
// the operands are cast to them and lowered as with static sizes.
// CHECK-LABEL: func.func @conv_symbolic_channels
// CHECK: %[[C:.*]] = tensor.dim %arg0, %c1 : tensor<1x?x5xf32>
// CHECK: %[[BAD:.*]] = arith.cmpi ne, %[[C]], %c4 : index
// CHECK: kiln.runtime_check %[[BAD]], "a Conv: the input's channels (dim 1) are not 4 at run time, as the weight implies"
// CHECK: tensor.cast %arg0 : tensor<1x?x5xf32> to tensor<1x4x5xf32>
// CHECK: %[[B:.*]] = tensor.dim %arg2, %c0 : tensor<?xf32>
// CHECK: %[[BADB:.*]] = arith.cmpi ne, %[[B]], %c4 : index
// CHECK: kiln.runtime_check %[[BADB]], "a Conv: the bias's length is not 4 at run time, as the weight implies"
// CHECK: tensor.cast %arg2 : tensor<?xf32> to tensor<4xf32>
// CHECK: linalg.generic
func.func @conv_symbolic_channels(%x: tensor<1x?x5xf32>, %w: tensor<4x2x3xf32>, %b: tensor<?xf32>,
                                  %ctx: index {kiln.runtime_context}) -> tensor<1x4x3xf32> {
  %0 = kiln.conv %x, %w, %b {dilations = array<i64: 1>, group = 2 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x?x5xf32>, tensor<4x2x3xf32>, tensor<?xf32>) -> tensor<1x4x3xf32>
  return %0 : tensor<1x4x3xf32>
}
