// RUN: kiln-opt %s --kiln-infer-shapes -split-input-file | FileCheck %s

// Result type inference of the ops of KilnNNOps.td, as shape-inference.mlir
// checks the others: each case writes `?` dims and checks the types that
// --kiln-infer-shapes derives, following ONNX semantics.

// Pads add to each dim; negative pads crop; a `?` dim stays `?`.
// CHECK-LABEL: func.func @pad
// CHECK: kiln.pad %{{.*}} {pads = array<i64: 1, 0, 2, -1>} : (tensor<3x4xf32>) -> tensor<6x3xf32>
// CHECK: kiln.pad %{{.*}} {pads = array<i64: 1, 1, 1, 1>} : (tensor<?x4xf32>) -> tensor<?x6xf32>
func.func @pad(%x: tensor<3x4xf32>, %y: tensor<?x4xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  %0 = kiln.pad %x {pads = array<i64: 1, 0, 2, -1>} : (tensor<3x4xf32>) -> tensor<?x?xf32>
  %1 = kiln.pad %y {pads = array<i64: 1, 1, 1, 1>} : (tensor<?x4xf32>) -> tensor<?x?xf32>
  return %0, %1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// floor((in + pads - dilation * (kernel - 1) - 1) / stride) + 1 per spatial
// dim: 32 + 2 - 3 = 31, / 2 = 15, + 1 = 16; with dilation 2 the 5-wide
// window gives 14.
// CHECK-LABEL: func.func @pool_floor
// CHECK: kiln.max_pool {{.*}} : (tensor<?x3x32x32xf32>) -> tensor<?x3x16x14xf32>
func.func @pool_floor(%x: tensor<?x3x32x32xf32>) -> tensor<?x?x?x?xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>,
         pads = array<i64: 1, 0, 1, 0>, dilations = array<i64: 1, 2>} : (tensor<?x3x32x32xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

// ceil_mode rounds up (4 - 3 = 1, / 2 rounds up to 1, + 1 = 2) unless the
// last window would start in the end padding (3 + 1 + 2 - 2 = 4, / 2 = 2,
// + 1 = 3 windows, but the third starts at 2 * 2 = 4 >= 3 + 1: 2).
// CHECK-LABEL: func.func @pool_ceil
// CHECK: kiln.average_pool {{.*}} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
// CHECK: kiln.average_pool {{.*}} : (tensor<1x1x3xf32>) -> tensor<1x1x2xf32>
func.func @pool_ceil(%x: tensor<1x1x4x4xf32>, %y: tensor<1x1x3xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?x?xf32>) {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>,
         pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true}
       : (tensor<1x1x4x4xf32>) -> tensor<?x?x?x?xf32>
  %1 = kiln.average_pool %y {kernel_shape = array<i64: 2>, strides = array<i64: 2>,
         pads = array<i64: 1, 2>, dilations = array<i64: 1>, ceil_mode = true}
       : (tensor<1x1x3xf32>) -> tensor<?x?x?xf32>
  return %0, %1 : tensor<?x?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// Known scales give floor(dim * scale); sizes give the dims themselves;
// scales computed at run time leave `?`.
// CHECK-LABEL: func.func @resize
// CHECK: kiln.resize %{{.*}}, %{{.*}} : (tensor<1x3x5x4xf32>, tensor<4xf32>) -> tensor<1x3x3x10xf32>
// CHECK: kiln.resize %{{.*}}, %{{.*}} {sizes = array<i64: 1, 3, 7, 7>} : (tensor<1x3x5x4xf32>, tensor<4xf32>) -> tensor<1x3x7x7xf32>
// CHECK: kiln.resize %{{.*}}, %{{.*}} : (tensor<1x3x5x4xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
func.func @resize(%x: tensor<1x3x5x4xf32>, %s: tensor<4xf32>)
    -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) {
  %c = kiln.constant dense<[1.0, 1.0, 0.6, 2.5]> : tensor<4xf32>
  %0 = kiln.resize %x, %c : (tensor<1x3x5x4xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  %1 = kiln.resize %x, %s {sizes = array<i64: 1, 3, 7, 7>} : (tensor<1x3x5x4xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  %2 = kiln.resize %x, %s : (tensor<1x3x5x4xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return %0, %1, %2 : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>
}

// -----

// grid_sample is (N, C, the grid's spatial dims...): N from the input or,
// where it is `?`, from the grid.
// CHECK-LABEL: func.func @grid_sample
// CHECK: kiln.grid_sample %{{.*}}, %{{.*}} : (tensor<2x3x5x4xf32>, tensor<?x6x7x2xf32>) -> tensor<2x3x6x7xf32>
// CHECK: kiln.grid_sample %{{.*}}, %{{.*}} : (tensor<?x3x5x4x2xf32>, tensor<4x1x?x2x3xf32>) -> tensor<4x3x1x?x2xf32>
func.func @grid_sample(%x: tensor<2x3x5x4xf32>, %g: tensor<?x6x7x2xf32>, %v: tensor<?x3x5x4x2xf32>,
                       %vg: tensor<4x1x?x2x3xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?x?xf32>) {
  %0 = kiln.grid_sample %x, %g : (tensor<2x3x5x4xf32>, tensor<?x6x7x2xf32>) -> tensor<?x?x?x?xf32>
  %1 = kiln.grid_sample %v, %vg : (tensor<?x3x5x4x2xf32>, tensor<4x1x?x2x3xf32>) -> tensor<?x?x?x?x?xf32>
  return %0, %1 : tensor<?x?x?x?xf32>, tensor<?x?x?x?x?xf32>
}

// -----

// dequantize_linear yields the scale's element type, quantize_linear `to`.
// CHECK-LABEL: func.func @quantization
// CHECK: kiln.dequantize_linear %{{.*}}, %{{.*}} : (tensor<?x4xi8>, tensor<f16>) -> tensor<?x4xf16>
// CHECK: kiln.quantize_linear %{{.*}}, %{{.*}} {to = ui16} : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xui16>
func.func @quantization(%q: tensor<?x4xi8>, %s: tensor<f16>, %x: tensor<?x4xf32>, %t: tensor<f32>)
    -> (tensor<?x?xf16>, tensor<?x?xui16>) {
  %0 = kiln.dequantize_linear %q, %s : (tensor<?x4xi8>, tensor<f16>) -> tensor<?x?xf16>
  %1 = kiln.quantize_linear %x, %t {to = ui16} : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x?xui16>
  return %0, %1 : tensor<?x?xf16>, tensor<?x?xui16>
}
