// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// Verifier and result type inference errors of the ops of KilnNNOps.td, as
// errors.mlir checks the others: a failed inference gives the reason, then
// "failed to infer returned types".

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

func.func @pad_mode(%x: tensor<3x4xf32>) -> tensor<5x6xf32> {
  // expected-error @+1 {{'kiln.pad' op mode must be constant, reflect, edge or wrap, got "symmetric"}}
  %0 = kiln.pad %x {pads = array<i64: 1, 1, 1, 1>, mode = "symmetric"} : (tensor<3x4xf32>) -> tensor<5x6xf32>
  return %0 : tensor<5x6xf32>
}

// -----

func.func @pad_count(%x: tensor<3x4xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{pad needs 4 pads for a rank-2 input, got 2}}
  // expected-error @+1 {{'kiln.pad' op failed to infer returned types}}
  %0 = kiln.pad %x {pads = array<i64: 1, 1>} : (tensor<3x4xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @pad_crops_too_much(%x: tensor<3x4xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{pads -2 and -2 remove more than the 3 elements of dim 0}}
  // expected-error @+1 {{'kiln.pad' op failed to infer returned types}}
  %0 = kiln.pad %x {pads = array<i64: -2, 0, -2, 0>} : (tensor<3x4xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @pad_value_type(%x: tensor<3x4xf32>, %v: tensor<f16>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'kiln.pad' op value must be a scalar of the input's element type, got 'tensor<f16>'}}
  %0 = kiln.pad %x, %v {pads = array<i64: 0, 0, 0, 1>} : (tensor<3x4xf32>, tensor<f16>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

func.func @pad_value_not_constant_mode(%x: tensor<3x4xf32>, %v: tensor<f32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'kiln.pad' op only constant mode takes a value}}
  %0 = kiln.pad %x, %v {pads = array<i64: 0, 0, 0, 1>, mode = "edge"} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Reflection never repeats the edge, so it can add at most dim - 1 elements.
func.func @pad_reflect_too_far(%x: tensor<3x4xf32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'kiln.pad' op reflect pads of dim 1 must be below its size 4}}
  %0 = kiln.pad %x {pads = array<i64: 0, 4, 0, 0>, mode = "reflect"} : (tensor<3x4xf32>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

func.func @pad_edge_of_empty(%x: tensor<0x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'kiln.pad' op cannot pad empty dim 0 in edge mode}}
  %0 = kiln.pad %x {pads = array<i64: 1, 0, 0, 0>, mode = "edge"} : (tensor<0x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

//===----------------------------------------------------------------------===//
// Batch normalisation
//===----------------------------------------------------------------------===//

// -----

func.func @batch_norm_channels(%x: tensor<2x3x4xf32>, %p: tensor<4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op parameters must be 1-D with one value per channel, got 'tensor<4xf32>'}}
  %0 = kiln.batch_norm %x, %p, %p, %p, %p : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @batch_norm_rank(%x: tensor<3xf32>, %p: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op input must have rank >= 2 (N, C, ...), got 'tensor<3xf32>'}}
  %0 = kiln.batch_norm %x, %p, %p, %p, %p : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// -----

func.func @pool_attribute_count(%x: tensor<1x3x8x8xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{pooling needs 2 kernel dims, strides and dilations and 4 pads}}
  // expected-error @+1 {{'kiln.max_pool' op failed to infer returned types}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1, 1>,
         pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @pool_negative_pads(%x: tensor<1x3x8x8xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+1 {{'kiln.average_pool' op pads must be non-negative}}
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>,
         pads = array<i64: -1, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @pool_zero_stride(%x: tensor<1x3x8x8xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+1 {{'kiln.max_pool' op kernel_shape, strides and dilations must be positive}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 0, 1>,
         pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @pool_window_too_large(%x: tensor<1x3x2x8xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{the window is larger than the padded input in dim 2}}
  // expected-error @+1 {{'kiln.max_pool' op failed to infer returned types}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>,
         pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x2x8xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @pool_rank(%x: tensor<3x8xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{pooling needs an input of rank >= 3 (N, C, spatial...)}}
  // expected-error @+1 {{'kiln.max_pool' op failed to infer returned types}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64>, strides = array<i64>,
         pads = array<i64>, dilations = array<i64>} : (tensor<3x8xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @lp_pool_p(%x: tensor<1x3x5xf32>) -> tensor<1x3x4xf32> {
  // expected-error @+1 {{'kiln.lp_pool' op attribute 'p' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
  %0 = kiln.lp_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>,
         dilations = array<i64: 1>, p = 0 : i64} : (tensor<1x3x5xf32>) -> tensor<1x3x4xf32>
  return %0 : tensor<1x3x4xf32>
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

// -----

func.func @resize_scales_length(%x: tensor<1x3x8x8xf32>, %s: tensor<2xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{resize needs a 1-D scales operand of 4 values, got 'tensor<2xf32>'}}
  // expected-error @+1 {{'kiln.resize' op failed to infer returned types}}
  %0 = kiln.resize %x, %s : (tensor<1x3x8x8xf32>, tensor<2xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_mode(%x: tensor<1x3x8x8xf32>, %s: tensor<4xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+1 {{'kiln.resize' op mode must be nearest, linear or cubic, got "area"}}
  %0 = kiln.resize %x, %s {mode = "area"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_transform(%x: tensor<1x3x8x8xf32>, %s: tensor<4xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+1 {{'kiln.resize' op unknown coordinate_transformation_mode "corners"}}
  %0 = kiln.resize %x, %s {coordinate_transformation_mode = "corners"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_crop_without_roi(%x: tensor<1x3x8x8xf32>, %s: tensor<4xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+1 {{'kiln.resize' op tf_crop_and_resize needs a roi}}
  %0 = kiln.resize %x, %s {coordinate_transformation_mode = "tf_crop_and_resize"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_roi_length(%x: tensor<1x3x8x8xf32>, %s: tensor<4xf32>, %r: tensor<4xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+1 {{'kiln.resize' op roi must be 1-D with 8 values, got 'tensor<4xf32>'}}
  %0 = kiln.resize %x, %s, %r {coordinate_transformation_mode = "tf_crop_and_resize"} : (tensor<1x3x8x8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_negative_scale(%x: tensor<4xf32>) -> tensor<?xf32> {
  %s = kiln.constant dense<[-2.0]> : tensor<1xf32>
  // expected-error @+1 {{'kiln.resize' op scales must be positive}}
  %0 = kiln.resize %x, %s : (tensor<4xf32>, tensor<1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @resize_antialias_nearest(%x: tensor<4xf32>, %s: tensor<1xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'kiln.resize' op antialias needs linear or cubic mode}}
  %0 = kiln.resize %x, %s {antialias = true} : (tensor<4xf32>, tensor<1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @resize_linear_integers(%x: tensor<4xi32>, %s: tensor<1xf32>) -> tensor<?xi32> {
  // expected-error @+1 {{'kiln.resize' op linear interpolation needs a float input}}
  %0 = kiln.resize %x, %s {mode = "linear"} : (tensor<4xi32>, tensor<1xf32>) -> tensor<?xi32>
  return %0 : tensor<?xi32>
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

// -----

func.func @dequantize_zero_point_type(%q: tensor<4xui8>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.dequantize_linear' op zero_point must have element type 'ui8', got 'tensor<i8>'}}
  %0 = kiln.dequantize_linear %q, %s, %z : (tensor<4xui8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Per axis, the zero point has the scale's shape.
func.func @dequantize_zero_point_shape(%q: tensor<2x3xi8>, %s: tensor<3xf32>, %z: tensor<1xi8>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.dequantize_linear' op zero_point 'tensor<1xi8>' and scale 'tensor<3xf32>' differ in shape}}
  %0 = kiln.dequantize_linear %q, %s, %z : (tensor<2x3xi8>, tensor<3xf32>, tensor<1xi8>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @dequantize_axis_scale(%q: tensor<2x3xi8>, %s: tensor<2xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.dequantize_linear' op a per-axis scale must be 1-D with one value per index of dim 1, got 'tensor<2xf32>'}}
  %0 = kiln.dequantize_linear %q, %s : (tensor<2x3xi8>, tensor<2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @dequantize_block_scale(%q: tensor<2x6xi8>, %s: tensor<2x2xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'kiln.dequantize_linear' op a blocked scale must have shape 'tensor<2x3xf32>', got 'tensor<2x2xf32>'}}
  %0 = kiln.dequantize_linear %q, %s {block_size = 2 : i64} : (tensor<2x6xi8>, tensor<2x2xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @quantize_to_float(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xui8> {
  // expected-error @+2 {{quantize_linear needs a signless or unsigned integer type, got 'f16'}}
  // expected-error @+1 {{'kiln.quantize_linear' op failed to infer returned types}}
  %0 = "kiln.quantize_linear"(%x, %s) {to = f16} : (tensor<4xf32>, tensor<f32>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

func.func @quantize_scale_type(%x: tensor<4xf32>, %s: tensor<f16>) -> tensor<4xui8> {
  // expected-error @+1 {{'kiln.quantize_linear' op scale must have the input's element type}}
  %0 = kiln.quantize_linear %x, %s {to = ui8} : (tensor<4xf32>, tensor<f16>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

//===----------------------------------------------------------------------===//
// GridSample
//===----------------------------------------------------------------------===//

func.func @grid_sample_mode(%x: tensor<1x1x4x4xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{'kiln.grid_sample' op mode must be nearest, linear or cubic, got "bilinear"}}
  %0 = kiln.grid_sample %x, %g {mode = "bilinear"} : (tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

func.func @grid_sample_padding(%x: tensor<1x1x4x4xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{'kiln.grid_sample' op padding_mode must be zeros, border or reflection, got "wrap"}}
  %0 = kiln.grid_sample %x, %g {padding_mode = "wrap"} : (tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

func.func @grid_sample_integer_linear(%x: tensor<1x1x4x4xi32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xi32> {
  // expected-error @+1 {{'kiln.grid_sample' op linear interpolation needs a float input}}
  %0 = kiln.grid_sample %x, %g : (tensor<1x1x4x4xi32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xi32>
  return %0 : tensor<1x1x2x2xi32>
}

// -----

func.func @grid_sample_rank(%x: tensor<4x4xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{grid_sample needs an input of rank >= 3 (N, C, spatial...), got 'tensor<4x4xf32>'}}
  // expected-error @+1 {{'kiln.grid_sample' op failed to infer returned types}}
  %0 = kiln.grid_sample %x, %g : (tensor<4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @grid_sample_grid_rank(%x: tensor<1x1x4x4xf32>, %g: tensor<1x2x2xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{grid_sample needs a grid of rank 4 for a rank-4 input, got 'tensor<1x2x2xf32>'}}
  // expected-error @+1 {{'kiln.grid_sample' op failed to infer returned types}}
  %0 = kiln.grid_sample %x, %g : (tensor<1x1x4x4xf32>, tensor<1x2x2xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @grid_sample_coordinates(%x: tensor<1x1x4x4xf32>, %g: tensor<1x2x2x3xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{the grid's last dim must be 2, got 3}}
  // expected-error @+1 {{'kiln.grid_sample' op failed to infer returned types}}
  %0 = kiln.grid_sample %x, %g : (tensor<1x1x4x4xf32>, tensor<1x2x2x3xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @grid_sample_batch(%x: tensor<2x1x4x4xf32>, %g: tensor<3x2x2x2xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{the input's batch 2 differs from the grid's 3}}
  // expected-error @+1 {{'kiln.grid_sample' op failed to infer returned types}}
  %0 = kiln.grid_sample %x, %g : (tensor<2x1x4x4xf32>, tensor<3x2x2x2xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}
