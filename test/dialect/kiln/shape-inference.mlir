// RUN: kiln-opt %s --kiln-infer-shapes -split-input-file | FileCheck %s

// Result type inference of every kiln op, checked through --kiln-infer-shapes:
// each case writes its results with `?` dims (types the inferred ones refine)
// and checks the static types the pass derives, following ONNX semantics.

//===----------------------------------------------------------------------===//
// Broadcasting
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @broadcast_static
// CHECK-SAME: -> tensor<2x3x4xf32>
// CHECK: kiln.add %{{.*}}, %{{.*}} : (tensor<2x1x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
func.func @broadcast_static(%a: tensor<2x1x4xf32>, %b: tensor<3x1xf32>) -> tensor<?x?x?xf32> {
  %0 = kiln.add %a, %b : (tensor<2x1x4xf32>, tensor<3x1xf32>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

// A 0-D operand takes the other operand's shape.
// CHECK-LABEL: func.func @broadcast_0d
// CHECK-SAME: -> tensor<5x6xi64>
// CHECK: kiln.mul %{{.*}}, %{{.*}} : (tensor<i64>, tensor<5x6xi64>) -> tensor<5x6xi64>
func.func @broadcast_0d(%a: tensor<i64>, %b: tensor<5x6xi64>) -> tensor<?x?xi64> {
  %0 = kiln.mul %a, %b : (tensor<i64>, tensor<5x6xi64>) -> tensor<?x?xi64>
  return %0 : tensor<?x?xi64>
}

// -----

// `?` against 1 stays `?` (it may be anything), `?` against a static dim
// other than 1 is that dim (the only value that broadcasts), `?` against `?`
// stays `?`.
// CHECK-LABEL: func.func @broadcast_dynamic
// CHECK: kiln.sub %{{.*}}, %{{.*}} : (tensor<?x1xf32>, tensor<1x5xf32>) -> tensor<?x5xf32>
// CHECK: kiln.sub %{{.*}}, %{{.*}} : (tensor<?x?x7xf32>, tensor<3x1x?xf32>) -> tensor<3x?x7xf32>
// CHECK: kiln.sub %{{.*}}, %{{.*}} : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
func.func @broadcast_dynamic(%a: tensor<?x1xf32>, %b: tensor<1x5xf32>, %c: tensor<?x?x7xf32>,
                             %d: tensor<3x1x?xf32>, %e: tensor<?xf32>)
    -> (tensor<?x?xf32>, tensor<?x?x?xf32>, tensor<?xf32>) {
  %0 = kiln.sub %a, %b : (tensor<?x1xf32>, tensor<1x5xf32>) -> tensor<?x?xf32>
  %1 = kiln.sub %c, %d : (tensor<?x?x7xf32>, tensor<3x1x?xf32>) -> tensor<?x?x?xf32>
  %2 = kiln.sub %e, %e : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
  return %0, %1, %2 : tensor<?x?xf32>, tensor<?x?x?xf32>, tensor<?xf32>
}

// -----

// Comparisons broadcast the same way and produce i1.
// CHECK-LABEL: func.func @broadcast_predicate
// CHECK-SAME: -> tensor<4x3xi1>
// CHECK: kiln.less %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xi1>
func.func @broadcast_predicate(%a: tensor<4x1xf32>, %b: tensor<3xf32>) -> tensor<?x?xi1> {
  %0 = kiln.less %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<?x?xi1>
  return %0 : tensor<?x?xi1>
}

// -----

// where broadcasts condition, x and y together.
// CHECK-LABEL: func.func @where
// CHECK-SAME: -> tensor<2x3x8x8xf32>
// CHECK: kiln.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<2x3x1x8xf32>) -> tensor<2x3x8x8xf32>
func.func @where(%c: tensor<1x1x8x8xi1>, %x: tensor<f32>, %y: tensor<2x3x1x8xf32>) -> tensor<?x?x?x?xf32> {
  %0 = kiln.where %c, %x, %y : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<2x3x1x8xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

// Refinement flows through elementwise unary ops into the function's type.
// CHECK-LABEL: func.func @unary_chain
// CHECK-SAME: -> tensor<2x3xi64>
// CHECK: %[[A:.*]] = kiln.add %{{.*}}, %{{.*}} : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK: %[[E:.*]] = kiln.exp %[[A]] : tensor<2x3xf32>
// CHECK: %[[G:.*]] = kiln.gelu %[[E]] {approximate = "tanh"} : tensor<2x3xf32>
// CHECK: %[[C:.*]] = kiln.cast %[[G]] : tensor<2x3xf32> to i64
// CHECK: return %[[C]] : tensor<2x3xi64>
func.func @unary_chain(%a: tensor<2x1xf32>, %b: tensor<3xf32>) -> tensor<?x?xi64> {
  %0 = kiln.add %a, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<?x?xf32>
  %1 = kiln.exp %0 : tensor<?x?xf32>
  %2 = kiln.gelu %1 {approximate = "tanh"} : tensor<?x?xf32>
  %3 = kiln.cast %2 : tensor<?x?xf32> to i64
  return %3 : tensor<?x?xi64>
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @matmul_2d
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
func.func @matmul_2d(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<?x?xf32> {
  %0 = kiln.matmul %a, %b : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// numpy 1-D promotion: a 1-D lhs is a row vector, a 1-D rhs a column vector,
// and the promoted dim is dropped again; vector . vector is 0-D.
// CHECK-LABEL: func.func @matmul_vectors
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<2x4x5xf32>) -> tensor<2x5xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<4x5xf32>) -> tensor<5xf32>
func.func @matmul_vectors(%v: tensor<4xf32>, %b: tensor<2x4x5xf32>, %a: tensor<2x3x4xf32>, %m: tensor<4x5xf32>)
    -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<f32>, tensor<?xf32>) {
  %0 = kiln.matmul %v, %b : (tensor<4xf32>, tensor<2x4x5xf32>) -> tensor<?x?xf32>
  %1 = kiln.matmul %a, %v : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<?x?xf32>
  %2 = kiln.matmul %v, %v : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  %3 = kiln.matmul %v, %m : (tensor<4xf32>, tensor<4x5xf32>) -> tensor<?xf32>
  return %0, %1, %2, %3 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<f32>, tensor<?xf32>
}

// -----

// Batch dims broadcast numpy-style; a missing batch dim counts as 1 and `?`
// against a static batch dim takes that dim.
// CHECK-LABEL: func.func @matmul_batch_broadcast
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<?x12x8x64xf32>, tensor<1x12x64x8xf32>) -> tensor<?x12x8x8xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<?x3x?xf32>, tensor<7x?x2xf32>) -> tensor<7x3x2xf32>
func.func @matmul_batch_broadcast(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>,
                                  %q: tensor<?x12x8x64xf32>, %k: tensor<1x12x64x8xf32>,
                                  %x: tensor<?x3x?xf32>, %y: tensor<7x?x2xf32>)
    -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?xf32>) {
  %0 = kiln.matmul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<?x?x?x?xf32>
  %1 = kiln.matmul %q, %k : (tensor<?x12x8x64xf32>, tensor<1x12x64x8xf32>) -> tensor<?x?x?x?xf32>
  %2 = kiln.matmul %x, %y : (tensor<?x3x?xf32>, tensor<7x?x2xf32>) -> tensor<?x?x?xf32>
  return %0, %1, %2 : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// Gemm: A is MxK (KxM with transA), B is KxN (NxK with transB).
// CHECK-LABEL: func.func @gemm_trans
// CHECK: kiln.gemm %{{.*}}, %{{.*}} : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
// CHECK: kiln.gemm %{{.*}}, %{{.*}} {transA = true} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
// CHECK: kiln.gemm %{{.*}}, %{{.*}}, %{{.*}} {transB = true} : (tensor<3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<3x5xf32>
// CHECK: kiln.gemm %{{.*}}, %{{.*}}, %{{.*}} {transA = true, transB = true} : (tensor<4x3xf32>, tensor<5x4xf32>, tensor<3x1xf32>) -> tensor<3x5xf32>
func.func @gemm_trans(%a: tensor<3x4xf32>, %at: tensor<4x3xf32>, %b: tensor<4x5xf32>, %bt: tensor<5x4xf32>,
                      %c: tensor<5xf32>, %c2: tensor<3x1xf32>)
    -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %0 = kiln.gemm %a, %b : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<?x?xf32>
  %1 = kiln.gemm %at, %b {transA = true} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<?x?xf32>
  %2 = kiln.gemm %a, %bt, %c {transB = true} : (tensor<3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<?x?xf32>
  %3 = kiln.gemm %at, %bt, %c2 {transA = true, transB = true}
       : (tensor<4x3xf32>, tensor<5x4xf32>, tensor<3x1xf32>) -> tensor<?x?xf32>
  return %0, %1, %2, %3 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// out = floor((in + pad_begin + pad_end - dilation * (k - 1) - 1) / stride) + 1;
// the batch dim and the output channels come from the input and the weight.
// CHECK-LABEL: func.func @conv_sizes
// CHECK: kiln.conv {{.*}} -> tensor<?x768x14x14xf32>
// CHECK: kiln.conv {{.*}} -> tensor<1x16x32x32xf32>
// CHECK: kiln.conv {{.*}} -> tensor<1x16x6x8xf32>
// CHECK: kiln.conv {{.*}} -> tensor<1x16x3x4xf32>
// CHECK: kiln.conv {{.*}} -> tensor<2x6x?x1xf32>
func.func @conv_sizes(%patch: tensor<?x3x224x224xf32>, %wp: tensor<768x3x16x16xf32>,
                      %x: tensor<1x8x32x32xf32>, %w3: tensor<16x8x3x3xf32>,
                      %y: tensor<1x8x10x10xf32>, %z: tensor<1x8x7x8xf32>,
                      %g: tensor<2x6x?x5xf32>, %wg: tensor<6x2x3x5xf32>)
    -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) {
  // 16x16 patches, stride 16: 224 / 16 = 14.
  %0 = kiln.conv %patch, %wp {strides = array<i64: 16, 16>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>) -> tensor<?x?x?x?xf32>
  // 3x3 "same" padding.
  %1 = kiln.conv %x, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
       : (tensor<1x8x32x32xf32>, tensor<16x8x3x3xf32>) -> tensor<?x?x?x?xf32>
  // Dilation 2 in H (10 - 4 - 1 + 1 = 6), dilation 1 with no pads in W (10 - 3 + 1 = 8).
  %2 = kiln.conv %y, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 1>}
       : (tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>) -> tensor<?x?x?x?xf32>
  // Stride 2 with asymmetric pads: H (7 + 1 + 0 - 3) / 2 + 1 = 3, W (8 + 0 + 1 - 3) / 2 + 1 = 4.
  %3 = kiln.conv %z, %w3 {strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 0, 1>, dilations = array<i64: 1, 1>}
       : (tensor<1x8x7x8xf32>, tensor<16x8x3x3xf32>) -> tensor<?x?x?x?xf32>
  // Grouped, a dynamic spatial dim stays dynamic.
  %4 = kiln.conv %g, %wg {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 3 : i64}
       : (tensor<2x6x?x5xf32>, tensor<6x2x3x5xf32>) -> tensor<?x?x?x?xf32>
  return %0, %1, %2, %3, %4 : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @conv_1d_3d
// CHECK: kiln.conv {{.*}} -> tensor<1x4x5xf32>
// CHECK: kiln.conv {{.*}} -> tensor<1x4x2x3x4xf32>
func.func @conv_1d_3d(%x: tensor<1x2x9xf32>, %w: tensor<4x2x3xf32>,
                      %v: tensor<1x2x4x6x8xf32>, %wv: tensor<4x2x3x3x3xf32>)
    -> (tensor<?x?x?xf32>, tensor<?x?x?x?x?xf32>) {
  // Stride 2, pads 1 and 1: (9 + 2 - 3) / 2 + 1 = 5.
  %0 = kiln.conv %x, %w {strides = array<i64: 2>, pads = array<i64: 1, 1>, dilations = array<i64: 1>}
       : (tensor<1x2x9xf32>, tensor<4x2x3xf32>) -> tensor<?x?x?xf32>
  // D: (4 - 3) / 1 + 1 = 2; H: (6 + 1 + 0 - 3) / 2 + 1 = 3; W: (8 + 0 + 1 - 3) / 2 + 1 = 4.
  %1 = kiln.conv %v, %wv {strides = array<i64: 1, 2, 2>, pads = array<i64: 0, 1, 0, 0, 0, 1>, dilations = array<i64: 1, 1, 1>}
       : (tensor<1x2x4x6x8xf32>, tensor<4x2x3x3x3xf32>) -> tensor<?x?x?x?x?xf32>
  return %0, %1 : tensor<?x?x?xf32>, tensor<?x?x?x?x?xf32>
}

//===----------------------------------------------------------------------===//
// Reductions and normalisations
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @reductions
// CHECK: kiln.reduce_sum %{{.*}} axes = [1] : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
// CHECK: kiln.reduce_mean %{{.*}} axes = [0, 2] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
// CHECK: kiln.reduce_max %{{.*}} axes = [0, 1, 2] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
// CHECK: kiln.reduce_min %{{.*}} axes = [0, 1, 2] : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>
// CHECK: kiln.reduce_prod %{{.*}} axes = [2] {keepdims = false} : (tensor<?x?x4xi64>) -> tensor<?x?xi64>
func.func @reductions(%x: tensor<2x3x4xf32>, %y: tensor<?x?x4xi64>)
    -> (tensor<?x?x?xf32>, tensor<?xf32>, tensor<f32>, tensor<?x?x?xf32>, tensor<?x?xi64>) {
  %0 = kiln.reduce_sum %x axes = [1] : (tensor<2x3x4xf32>) -> tensor<?x?x?xf32>
  %1 = kiln.reduce_mean %x axes = [0, 2] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<?xf32>
  %2 = kiln.reduce_max %x axes = [0, 1, 2] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  %3 = kiln.reduce_min %x axes = [0, 1, 2] : (tensor<2x3x4xf32>) -> tensor<?x?x?xf32>
  %4 = kiln.reduce_prod %y axes = [2] {keepdims = false} : (tensor<?x?x4xi64>) -> tensor<?x?xi64>
  return %0, %1, %2, %3, %4 : tensor<?x?x?xf32>, tensor<?xf32>, tensor<f32>, tensor<?x?x?xf32>, tensor<?x?xi64>
}

// -----

// argmax yields i64 indices whatever the input's element type.
// CHECK-LABEL: func.func @argmax
// CHECK: kiln.argmax %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x1x4xi64>
// CHECK: kiln.argmax %{{.*}} {axis = 2 : i64, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
func.func @argmax(%x: tensor<2x3x4xf32>) -> (tensor<?x?x?xi64>, tensor<?x?xi64>) {
  %0 = kiln.argmax %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<?x?x?xi64>
  %1 = kiln.argmax %x {axis = 2 : i64, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<?x?xi64>
  return %0, %1 : tensor<?x?x?xi64>, tensor<?x?xi64>
}

// -----

// argmin yields i64 like argmax; is_nan and is_inf yield i1.
// CHECK-LABEL: func.func @argmin_float_tests
// CHECK: kiln.argmin %{{.*}} {axis = 0 : i64, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3x4xi64>
// CHECK: kiln.is_nan %{{.*}} : (tensor<2x3x4xf32>) -> tensor<2x3x4xi1>
// CHECK: kiln.is_inf %{{.*}} : (tensor<2x3x4xf32>) -> tensor<2x3x4xi1>
func.func @argmin_float_tests(%x: tensor<2x3x4xf32>) -> (tensor<?x?xi64>, tensor<?x?x?xi1>, tensor<?x?x?xi1>) {
  %0 = kiln.argmin %x {axis = 0 : i64, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<?x?xi64>
  %1 = kiln.is_nan %x : (tensor<2x3x4xf32>) -> tensor<?x?x?xi1>
  %2 = kiln.is_inf %x : (tensor<2x3x4xf32>) -> tensor<?x?x?xi1>
  return %0, %1, %2 : tensor<?x?xi64>, tensor<?x?x?xi1>, tensor<?x?x?xi1>
}

// -----

// gather_elements has the indices' shape and the data's element type.
// CHECK-LABEL: func.func @gather_elements
// CHECK: kiln.gather_elements %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<3x4xi64>, tensor<2x4xi32>) -> tensor<2x4xi64>
func.func @gather_elements(%d: tensor<3x4xi64>, %i: tensor<2x4xi32>) -> tensor<?x?xi64> {
  %0 = kiln.gather_elements %d, %i {axis = 0 : i64} : (tensor<3x4xi64>, tensor<2x4xi32>) -> tensor<?x?xi64>
  return %0 : tensor<?x?xi64>
}

// -----

// softmax and layer_norm keep the input's type.
// CHECK-LABEL: func.func @normalisations
// CHECK-SAME: -> (tensor<2x8x768xf32>, tensor<2x8x768xf32>)
// CHECK: kiln.softmax %{{.*}} {axis = 2 : i64} : (tensor<2x8x768xf32>) -> tensor<2x8x768xf32>
// CHECK: kiln.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<2x8x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<2x8x768xf32>
func.func @normalisations(%x: tensor<2x8x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>)
    -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>) {
  %0 = kiln.softmax %x {axis = 2 : i64} : (tensor<2x8x768xf32>) -> tensor<?x?x?xf32>
  %1 = kiln.layer_norm %x, %g, %b {axis = 2 : i64} : (tensor<2x8x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x?xf32>
  return %0, %1 : tensor<?x?x?xf32>, tensor<?x?x?xf32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

// The indices' shape replaces the gathered dim; 0-D indices drop it.
// CHECK-LABEL: func.func @gather
// CHECK: kiln.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<2x?xi64>) -> tensor<2x?x768xf32>
// CHECK: kiln.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<5x4x3xf32>, tensor<2x?xi64>) -> tensor<5x2x?x3xf32>
// CHECK: kiln.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<3xi64>, tensor<i32>) -> tensor<i64>
func.func @gather(%t: tensor<30522x768xf32>, %ids: tensor<2x?xi64>, %x: tensor<5x4x3xf32>,
                  %s: tensor<3xi64>, %i: tensor<i32>)
    -> (tensor<?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<i64>) {
  %0 = kiln.gather %t, %ids {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<2x?xi64>) -> tensor<?x?x?xf32>
  %1 = kiln.gather %x, %ids {axis = 1 : i64} : (tensor<5x4x3xf32>, tensor<2x?xi64>) -> tensor<?x?x?x?xf32>
  %2 = kiln.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<i32>) -> tensor<i64>
  return %0, %1, %2 : tensor<?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<i64>
}

// -----

// gather_nd: indices.shape[:-1] ++ data.shape[batch_dims + m:], where m is
// the index tuple length (the last dim of indices).
// CHECK-LABEL: func.func @gather_nd
// CHECK: kiln.gather_nd %{{.*}}, %{{.*}} : (tensor<5x6x7xf32>, tensor<3x2xi64>) -> tensor<3x7xf32>
// CHECK: kiln.gather_nd %{{.*}}, %{{.*}} : (tensor<5x6x7xf32>, tensor<2x?x3xi64>) -> tensor<2x?xf32>
// CHECK: kiln.gather_nd %{{.*}}, %{{.*}} {batch_dims = 1 : i64} : (tensor<5x6x7xf32>, tensor<5x4x1xi64>) -> tensor<5x4x7xf32>
func.func @gather_nd(%d: tensor<5x6x7xf32>, %i: tensor<3x2xi64>, %j: tensor<2x?x3xi64>, %k: tensor<5x4x1xi64>)
    -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?x?xf32>) {
  %0 = kiln.gather_nd %d, %i : (tensor<5x6x7xf32>, tensor<3x2xi64>) -> tensor<?x?xf32>
  %1 = kiln.gather_nd %d, %j : (tensor<5x6x7xf32>, tensor<2x?x3xi64>) -> tensor<?x?xf32>
  %2 = kiln.gather_nd %d, %k {batch_dims = 1 : i64} : (tensor<5x6x7xf32>, tensor<5x4x1xi64>) -> tensor<?x?x?xf32>
  return %0, %1, %2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?x?xf32>
}

// -----

// 0 copies the input's dim at that position, -1 takes what is left.
// CHECK-LABEL: func.func @reshape_constant
// CHECK: kiln.reshape {{.*}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
// CHECK: kiln.reshape {{.*}} : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<24xf32>
// CHECK: kiln.reshape {{.*}} : (tensor<2x3x4xf32>, tensor<4xi64>) -> tensor<2x3x2x2xf32>
// CHECK: kiln.reshape {{.*}} : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<4x3x2xf32>
func.func @reshape_constant(%x: tensor<2x3x4xf32>)
    -> (tensor<?x?xf32>, tensor<?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?xf32>) {
  %s0 = kiln.constant dense<[0, -1]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s0 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s1 = kiln.constant dense<-1> : tensor<1xi64>
  %1 = kiln.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?xf32>
  %s2 = kiln.constant dense<[0, 0, -1, 2]> : tensor<4xi64>
  %2 = kiln.reshape %x, %s2 : (tensor<2x3x4xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  %s3 = kiln.constant dense<[4, 0, 2]> : tensor<3xi64>
  %3 = kiln.reshape %x, %s3 : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %0, %1, %2, %3 : tensor<?x?xf32>, tensor<?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// A dynamic input dim: 0 copies the `?`, -1 cannot be resolved.
// CHECK-LABEL: func.func @reshape_dynamic
// CHECK: kiln.reshape {{.*}} : (tensor<?x8x768xf32>, tensor<4xi64>) -> tensor<?x8x12x64xf32>
// CHECK: kiln.reshape {{.*}} : (tensor<?x8x768xf32>, tensor<2xi64>) -> tensor<?x768xf32>
func.func @reshape_dynamic(%x: tensor<?x8x768xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?xf32>) {
  %s0 = kiln.constant dense<[0, 0, 12, 64]> : tensor<4xi64>
  %0 = kiln.reshape %x, %s0 : (tensor<?x8x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  %s1 = kiln.constant dense<[-1, 768]> : tensor<2xi64>
  %1 = kiln.reshape %x, %s1 : (tensor<?x8x768xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0, %1 : tensor<?x?x?x?xf32>, tensor<?x?xf32>
}

// -----

// With allowzero a 0 is a zero-sized dim, not a copy.
// CHECK-LABEL: func.func @reshape_allowzero
// CHECK: kiln.reshape {{.*}} {allowzero = true} : (tensor<0x3xf32>, tensor<3xi64>) -> tensor<3x0x1xf32>
func.func @reshape_allowzero(%x: tensor<0x3xf32>) -> tensor<?x?x?xf32> {
  %s = kiln.constant dense<[3, 0, 1]> : tensor<3xi64>
  %0 = kiln.reshape %x, %s {allowzero = true} : (tensor<0x3xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

// The target shape is read through concat / unsqueeze / gather-free shape
// subgraphs: shape(x)[0:2] ++ [12, 64].
// CHECK-LABEL: func.func @reshape_partial_shape
// CHECK: kiln.reshape {{.*}} -> tensor<?x8x12x64xf32>
func.func @reshape_partial_shape(%x: tensor<?x8x768xf32>, %n: tensor<i64>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
  %c = kiln.constant dense<[12, 64]> : tensor<2xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<?x8x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

// -----

// A computed element (an unsqueezed run-time scalar) stays `?`; the constant
// parts of the shape still give static dims.
// CHECK-LABEL: func.func @reshape_runtime_element
// CHECK: kiln.reshape {{.*}} -> tensor<?x12x64xf32>
func.func @reshape_runtime_element(%x: tensor<?x768xf32>, %n: tensor<i64>) -> tensor<?x?x?xf32> {
  %u = kiln.unsqueeze %n {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %c = kiln.constant dense<[12, 64]> : tensor<2xi64>
  %t = kiln.concat %u, %c {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %r = kiln.reshape %x, %t : (tensor<?x768xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK: kiln.transpose %{{.*}} {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x8x12x64xf32>) -> tensor<?x12x8x64xf32>
// CHECK: kiln.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
func.func @transpose(%x: tensor<?x8x12x64xf32>, %y: tensor<2x3x4xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?x?xf32>) {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x8x12x64xf32>) -> tensor<?x?x?x?xf32>
  %1 = kiln.transpose %y {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<?x?x?xf32>
  return %0, %1 : tensor<?x?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// Positive steps: starts/ends count from the back when negative and are
// clamped to [0, dim]; ends = INT64_MAX means "to the end".
// CHECK-LABEL: func.func @slice_positive_steps
// CHECK: kiln.slice {{.*}} -> tensor<3xf32>
// CHECK: kiln.slice {{.*}} -> tensor<10xf32>
// CHECK: kiln.slice {{.*}} -> tensor<0xf32>
// CHECK: kiln.slice {{.*}} -> tensor<4xf32>
// CHECK: kiln.slice {{.*}} -> tensor<2xf32>
// CHECK: kiln.slice {{.*}} -> tensor<0xf32>
func.func @slice_positive_steps(%x: tensor<10xf32>)
    -> (tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) {
  %axes = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  // x[-3:] = 7, 8, 9
  %m3 = kiln.constant dense<-3> : tensor<1xi64>
  %0 = kiln.slice %x, %m3, %max, %axes, %one : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // x[-100:100] is all of x.
  %m100 = kiln.constant dense<-100> : tensor<1xi64>
  %p100 = kiln.constant dense<100> : tensor<1xi64>
  %1 = kiln.slice %x, %m100, %p100, %axes, %one : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // x[20:30] is empty.
  %p20 = kiln.constant dense<20> : tensor<1xi64>
  %p30 = kiln.constant dense<30> : tensor<1xi64>
  %2 = kiln.slice %x, %p20, %p30, %axes, %one : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // x[0::3] = 0, 3, 6, 9
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %three = kiln.constant dense<3> : tensor<1xi64>
  %3 = kiln.slice %x, %zero, %max, %axes, %three : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // x[1:-1:5] = 1, 6 (i32 parameters)
  %s = kiln.constant dense<1> : tensor<1xi32>
  %e = kiln.constant dense<-1> : tensor<1xi32>
  %a = kiln.constant dense<0> : tensor<1xi32>
  %t = kiln.constant dense<5> : tensor<1xi32>
  %4 = kiln.slice %x, %s, %e, %a, %t : (tensor<10xf32>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<?xf32>
  // x[7:3] is empty.
  %p7 = kiln.constant dense<7> : tensor<1xi64>
  %5 = kiln.slice %x, %p7, %three, %axes, %one : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>
}

// -----

// Negative steps: starts are clamped to [0, dim - 1], ends to [-1, dim - 1]
// after adding dim to negative values; an end below -dim means "through
// index 0".
// CHECK-LABEL: func.func @slice_negative_steps
// CHECK: kiln.slice {{.*}} -> tensor<10xf32>
// CHECK: kiln.slice {{.*}} -> tensor<4xf32>
// CHECK: kiln.slice {{.*}} -> tensor<10xf32>
// CHECK: kiln.slice {{.*}} -> tensor<0xf32>
// CHECK: kiln.slice {{.*}} -> tensor<5xf32>
func.func @slice_negative_steps(%x: tensor<10xf32>)
    -> (tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) {
  %axes = kiln.constant dense<0> : tensor<1xi64>
  %m1 = kiln.constant dense<-1> : tensor<1xi64>
  %min = kiln.constant dense<-9223372036854775808> : tensor<1xi64>
  // x[::-1] (start -1, end INT64_MIN) is all of x reversed.
  %0 = kiln.slice %x, %m1, %min, %axes, %m1 : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // x[8:1:-2] = 8, 6, 4, 2
  %p8 = kiln.constant dense<8> : tensor<1xi64>
  %p1 = kiln.constant dense<1> : tensor<1xi64>
  %m2 = kiln.constant dense<-2> : tensor<1xi64>
  %1 = kiln.slice %x, %p8, %p1, %axes, %m2 : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // start 100 clamps to 9, end -11 (= -1 after adding dim) keeps index 0.
  %p100 = kiln.constant dense<100> : tensor<1xi64>
  %m11 = kiln.constant dense<-11> : tensor<1xi64>
  %2 = kiln.slice %x, %p100, %m11, %axes, %m1 : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // start 5, end -1 (= 9): 5 is not above 9, empty.
  %p5 = kiln.constant dense<5> : tensor<1xi64>
  %3 = kiln.slice %x, %p5, %m1, %axes, %m1 : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  // x[-1:-10:-2] = 9, 7, 5, 3, 1
  %m10 = kiln.constant dense<-10> : tensor<1xi64>
  %4 = kiln.slice %x, %m1, %m10, %axes, %m2 : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0, %1, %2, %3, %4 : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>
}

// -----

// Several axes (one negative); unsliced dims keep their size, `?` dims
// stay `?`, and non-constant bounds leave the sliced dims `?`.
// CHECK-LABEL: func.func @slice_axes
// CHECK: kiln.slice {{.*}} -> tensor<2x6x?xf32>
// CHECK: kiln.slice {{.*}} -> tensor<?x6x?xf32>
// CHECK: kiln.slice {{.*}} -> tensor<?x?x?xf32>
func.func @slice_axes(%x: tensor<4x6x?xf32>, %dyn: tensor<2xi64>)
    -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>) {
  %starts = kiln.constant dense<[1, 0]> : tensor<2xi64>
  %ends = kiln.constant dense<[3, 5]> : tensor<2xi64>
  %axes = kiln.constant dense<[0, -1]> : tensor<2xi64>
  %steps = kiln.constant dense<1> : tensor<2xi64>
  %0 = kiln.slice %x, %starts, %ends, %axes, %steps : (tensor<4x6x?xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?x?xf32>
  // Known axes, run-time ends.
  %1 = kiln.slice %x, %starts, %dyn, %axes, %steps : (tensor<4x6x?xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?x?xf32>
  // Run-time axes: any dim may be sliced.
  %2 = kiln.slice %x, %starts, %ends, %dyn, %steps : (tensor<4x6x?xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?x?xf32>
  return %0, %1, %2 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// The concat dim adds up; the other dims take whichever input knows them.
// CHECK-LABEL: func.func @concat
// CHECK: kiln.concat {{.*}} {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<3xi64>) -> tensor<6xi64>
// CHECK: kiln.concat {{.*}} {axis = 1 : i64} : (tensor<?x2xf32>, tensor<3x5xf32>) -> tensor<3x7xf32>
// CHECK: kiln.concat {{.*}} {axis = 1 : i64} : (tensor<?x2xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
func.func @concat(%a: tensor<2xi64>, %b: tensor<1xi64>, %c: tensor<3xi64>,
                  %x: tensor<?x2xf32>, %y: tensor<3x5xf32>, %z: tensor<?x?xf32>)
    -> (tensor<?xi64>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %0 = kiln.concat %a, %b, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<3xi64>) -> tensor<?xi64>
  %1 = kiln.concat %x, %y {axis = 1 : i64} : (tensor<?x2xf32>, tensor<3x5xf32>) -> tensor<?x?xf32>
  %2 = kiln.concat %x, %z {axis = 1 : i64} : (tensor<?x2xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0, %1, %2 : tensor<?xi64>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @split
// CHECK-SAME: -> (tensor<1x8x768xf32>, tensor<1x8x768xf32>, tensor<1x8x768xf32>, tensor<2x?xf32>, tensor<4x?xf32>)
// CHECK: kiln.split {{.*}} : (tensor<1x8x2304xf32>) -> (tensor<1x8x768xf32>, tensor<1x8x768xf32>, tensor<1x8x768xf32>)
// CHECK: kiln.split {{.*}} : (tensor<6x?xf32>) -> (tensor<2x?xf32>, tensor<4x?xf32>)
func.func @split(%x: tensor<1x8x2304xf32>, %y: tensor<6x?xf32>)
    -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %0:3 = kiln.split %x {axis = 2 : i64, sizes = array<i64: 768, 768, 768>}
         : (tensor<1x8x2304xf32>) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>)
  %1:2 = kiln.split %y {axis = 0 : i64, sizes = array<i64: 2, 4>} : (tensor<6x?xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>)
  return %0#0, %0#1, %0#2, %1#0, %1#1 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// Expand broadcasts both ways: a target dim of 1 keeps the input's dim, the
// target may have fewer dims than the input, and a run-time target element
// keeps a static input dim.
// CHECK-LABEL: func.func @expand
// CHECK: kiln.expand {{.*}} : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
// CHECK: kiln.expand {{.*}} : (tensor<1x1x8xf32>, tensor<3xi64>) -> tensor<4x1x8xf32>
// CHECK: kiln.expand {{.*}} : (tensor<2x5xf32>, tensor<1xi64>) -> tensor<2x5xf32>
// CHECK: kiln.expand {{.*}} : (tensor<?x5xf32>, tensor<2xi64>) -> tensor<3x5xf32>
// CHECK: kiln.expand {{.*}} : (tensor<1x5xf32>, tensor<2xi64>) -> tensor<?x5xf32>
func.func @expand(%a: tensor<3x1xf32>, %b: tensor<1x1x8xf32>, %c: tensor<2x5xf32>, %d: tensor<?x5xf32>,
                  %e: tensor<1x5xf32>, %n: tensor<1xi64>)
    -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %s0 = kiln.constant dense<[2, 1, 4]> : tensor<3xi64>
  %0 = kiln.expand %a, %s0 : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %s1 = kiln.constant dense<[4, 1, 1]> : tensor<3xi64>
  %1 = kiln.expand %b, %s1 : (tensor<1x1x8xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %s2 = kiln.constant dense<1> : tensor<1xi64>
  %2 = kiln.expand %c, %s2 : (tensor<2x5xf32>, tensor<1xi64>) -> tensor<?x?xf32>
  %s3 = kiln.constant dense<[3, 1]> : tensor<2xi64>
  %3 = kiln.expand %d, %s3 : (tensor<?x5xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %five = kiln.constant dense<5> : tensor<1xi64>
  %s4 = kiln.concat %n, %five {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %4 = kiln.expand %e, %s4 : (tensor<1x5xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0, %1, %2, %3, %4 : tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @tile
// CHECK: kiln.tile {{.*}} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x9xf32>
// CHECK: kiln.tile {{.*}} : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x0xf32>
// CHECK: kiln.tile {{.*}} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
func.func @tile(%x: tensor<2x3xf32>, %y: tensor<?x3xf32>, %r: tensor<2xi64>)
    -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %c = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %0 = kiln.tile %x, %c : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %z = kiln.constant dense<[5, 0]> : tensor<2xi64>
  %1 = kiln.tile %y, %z : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %2 = kiln.tile %x, %r : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0, %1, %2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// Unsqueeze axes are positions in the output; squeeze axes in the input.
// CHECK-LABEL: func.func @unsqueeze_squeeze
// CHECK: kiln.unsqueeze %{{.*}} {axes = array<i64: 0, 3>} : (tensor<3x4xf32>) -> tensor<1x3x4x1xf32>
// CHECK: kiln.unsqueeze %{{.*}} {axes = array<i64: 1, 2>} : (tensor<?x8xi64>) -> tensor<?x1x1x8xi64>
// CHECK: kiln.unsqueeze %{{.*}} {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
// CHECK: kiln.squeeze %{{.*}} {axes = array<i64: 0, 2>} : (tensor<1x3x1x4xf32>) -> tensor<3x4xf32>
// CHECK: kiln.squeeze %{{.*}} {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
func.func @unsqueeze_squeeze(%x: tensor<3x4xf32>, %y: tensor<?x8xi64>, %s: tensor<i64>,
                             %z: tensor<1x3x1x4xf32>, %o: tensor<1xi64>)
    -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xi64>, tensor<?xi64>, tensor<?x?xf32>, tensor<i64>) {
  %0 = kiln.unsqueeze %x {axes = array<i64: 0, 3>} : (tensor<3x4xf32>) -> tensor<?x?x?x?xf32>
  %1 = kiln.unsqueeze %y {axes = array<i64: 1, 2>} : (tensor<?x8xi64>) -> tensor<?x?x?x?xi64>
  %2 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<?xi64>
  %3 = kiln.squeeze %z {axes = array<i64: 0, 2>} : (tensor<1x3x1x4xf32>) -> tensor<?x?xf32>
  %4 = kiln.squeeze %o {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  return %0, %1, %2, %3, %4 : tensor<?x?x?x?xf32>, tensor<?x?x?x?xi64>, tensor<?xi64>, tensor<?x?xf32>, tensor<i64>
}

// -----

// trilu keeps the input's type.
// CHECK-LABEL: func.func @trilu
// CHECK: kiln.trilu {{.*}} : (tensor<2x8x8xf32>, tensor<i64>) -> tensor<2x8x8xf32>
func.func @trilu(%x: tensor<2x8x8xf32>, %k: tensor<i64>) -> tensor<?x?x?xf32> {
  %0 = kiln.trilu %x, %k : (tensor<2x8x8xf32>, tensor<i64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

//===----------------------------------------------------------------------===//
// Shape queries and generators
//===----------------------------------------------------------------------===//

// -----

// The result length is end - start, whatever the dims are.
// CHECK-LABEL: func.func @shape
// CHECK: kiln.shape %{{.*}} {end = 3 : i64, start = 0 : i64} : (tensor<?x8x768xf32>) -> tensor<3xi64>
// CHECK: kiln.shape %{{.*}} {end = 3 : i64, start = 1 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
// CHECK: kiln.shape %{{.*}} {end = 2 : i64, start = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<0xi64>
// CHECK: kiln.shape %{{.*}} {end = 0 : i64, start = 0 : i64} : (tensor<f32>) -> tensor<0xi64>
// CHECK: kiln.size %{{.*}} : (tensor<?x8x768xf32>) -> tensor<i64>
func.func @shape(%x: tensor<?x8x768xf32>, %s: tensor<f32>)
    -> (tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<i64>) {
  %0 = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<?x8x768xf32>) -> tensor<?xi64>
  %1 = kiln.shape %x {start = 1 : i64, end = 3 : i64} : (tensor<?x8x768xf32>) -> tensor<?xi64>
  %2 = kiln.shape %x {start = 2 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<?xi64>
  %3 = kiln.shape %s {start = 0 : i64, end = 0 : i64} : (tensor<f32>) -> tensor<?xi64>
  %4 = kiln.size %x : (tensor<?x8x768xf32>) -> tensor<i64>
  return %0, %1, %2, %3, %4 : tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<i64>
}

// -----

// Range length is max(0, ceil((limit - start) / delta)) once all three are
// constants; otherwise `?`.
// CHECK-LABEL: func.func @range
// CHECK: kiln.range {{.*}} -> tensor<4xi64>
// CHECK: kiln.range {{.*}} -> tensor<4xi64>
// CHECK: kiln.range {{.*}} -> tensor<0xi64>
// CHECK: kiln.range {{.*}} -> tensor<0xi64>
// CHECK: kiln.range {{.*}} -> tensor<1xi32>
// CHECK: kiln.range {{.*}} -> tensor<?xi64>
func.func @range(%n: tensor<i64>)
    -> (tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi32>, tensor<?xi64>) {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %c10 = kiln.constant dense<10> : tensor<i64>
  %c3 = kiln.constant dense<3> : tensor<i64>
  %cm3 = kiln.constant dense<-3> : tensor<i64>
  %cm1 = kiln.constant dense<-1> : tensor<i64>
  // 0, 3, 6, 9
  %0 = kiln.range %c0, %c10, %c3 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  // 10, 7, 4, 1
  %1 = kiln.range %c10, %c0, %cm3 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  // start == limit
  %2 = kiln.range %c3, %c3, %cm1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  // the wrong direction
  %3 = kiln.range %c0, %c10, %cm1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  // 1-element operands, i32: 5 (limit 6, delta 7)
  %s = kiln.constant dense<5> : tensor<1xi32>
  %l = kiln.constant dense<6> : tensor<1xi32>
  %d = kiln.constant dense<7> : tensor<1xi32>
  %4 = kiln.range %s, %l, %d : (tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<?xi32>
  // a run-time limit
  %5 = kiln.range %c0, %n, %c3 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0, %1, %2, %3, %4, %5 : tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi32>, tensor<?xi64>
}

// -----

// The element type comes from `value`; the shape from the shape operand, as
// far as it is known.
// CHECK-LABEL: func.func @constant_of_shape
// CHECK: kiln.constant_of_shape %{{.*}} {value = 0.000000e+00 : f32} : (tensor<2xi64>) -> tensor<2x3xf32>
// CHECK: kiln.constant_of_shape %{{.*}} {value = 1 : i64} : (tensor<3xi64>) -> tensor<?x8x4xi64>
// CHECK: kiln.constant_of_shape %{{.*}} {value = 0 : i64} : (tensor<0xi64>) -> tensor<i64>
// CHECK: kiln.constant_of_shape %{{.*}} {value = 0.000000e+00 : f16} : (tensor<2xi64>) -> tensor<?x?xf16>
func.func @constant_of_shape(%x: tensor<?x8x768xf32>, %r: tensor<2xi64>)
    -> (tensor<?x?xf32>, tensor<?x?x?xi64>, tensor<i64>, tensor<?x?xf16>) {
  %c = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %0 = kiln.constant_of_shape %c {value = 0.0 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
  %four = kiln.constant dense<4> : tensor<1xi64>
  %t = kiln.concat %s, %four {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %1 = kiln.constant_of_shape %t {value = 1 : i64} : (tensor<3xi64>) -> tensor<?x?x?xi64>
  %e = kiln.constant dense<> : tensor<0xi64>
  %2 = kiln.constant_of_shape %e {value = 0 : i64} : (tensor<0xi64>) -> tensor<i64>
  %3 = kiln.constant_of_shape %r {value = 0.0 : f16} : (tensor<2xi64>) -> tensor<?x?xf16>
  return %0, %1, %2, %3 : tensor<?x?xf32>, tensor<?x?x?xi64>, tensor<i64>, tensor<?x?xf16>
}

// -----

// A BERT-style attention reshape whose batch and length come from
// gather(shape(x), i): the pass reads shape values through shape, gathers
// at constant positions, unsqueeze and concat, so all four dims are static.
// CHECK-LABEL: func.func @attention_heads
// CHECK-SAME: -> tensor<2x12x8x64xf32>
// CHECK: %[[R:.*]] = kiln.reshape {{.*}} -> tensor<2x8x12x64xf32>
// CHECK: kiln.transpose %[[R]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x12x64xf32>) -> tensor<2x12x8x64xf32>
func.func @attention_heads(%x: tensor<2x8x768xf32>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<2x8x768xf32>) -> tensor<3xi64>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %b = kiln.gather %s, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %l = kiln.gather %s, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bu = kiln.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %lu = kiln.unsqueeze %l {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %h = kiln.constant dense<[12, 64]> : tensor<2xi64>
  %t = kiln.concat %bu, %lu, %h {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<2x8x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  %p = kiln.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %p : tensor<?x?x?x?xf32>
}
