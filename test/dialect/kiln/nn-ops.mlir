// RUN: kiln-opt %s -split-input-file | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of the ops of KilnNNOps.td (pad, batch_norm, the pools, resize, grid_sample,
// quantize/dequantize), as ops.mlir does for the others: defaults are elided
// when they hold their default; GENERIC checks they are materialised.

// CHECK-LABEL: func.func @pad
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[V:.*]]: tensor<f32>)
// CHECK: %[[A:.*]] = kiln.pad %[[X]], %[[V]] {pads = array<i64: 0, 2, 0, 1>} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x7xf32>
// CHECK: %[[B:.*]] = kiln.pad %[[X]] {mode = "reflect", pads = array<i64: 1, 1, 1, 1>} : (tensor<3x4xf32>) -> tensor<5x6xf32>
// CHECK: %[[C:.*]] = kiln.pad %[[X]] {pads = array<i64: -1, 0, 0, -2>} : (tensor<3x4xf32>) -> tensor<2x2xf32>
// CHECK: return %[[A]], %[[B]], %[[C]]
// GENERIC-LABEL: sym_name = "pad"
// GENERIC: "kiln.pad"(%{{.*}}, %{{.*}}) <{mode = "constant", pads = array<i64: 0, 2, 0, 1>}>
func.func @pad(%x: tensor<3x4xf32>, %v: tensor<f32>) -> (tensor<3x7xf32>, tensor<5x6xf32>, tensor<2x2xf32>) {
  %0 = kiln.pad %x, %v {pads = array<i64: 0, 2, 0, 1>} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x7xf32>
  %1 = kiln.pad %x {pads = array<i64: 1, 1, 1, 1>, mode = "reflect"} : (tensor<3x4xf32>) -> tensor<5x6xf32>
  %2 = kiln.pad %x {pads = array<i64: -1, 0, 0, -2>} : (tensor<3x4xf32>) -> tensor<2x2xf32>
  return %0, %1, %2 : tensor<3x7xf32>, tensor<5x6xf32>, tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @batch_norm
// CHECK: kiln.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x8x8xf32>
// CHECK: kiln.batch_norm {{.*}} {epsilon = 1.000000e-03 : f32}
// GENERIC-LABEL: sym_name = "batch_norm"
// GENERIC: "kiln.batch_norm"({{.*}}) <{epsilon = 9.99999974E-6 : f32}>
func.func @batch_norm(%x: tensor<?x3x8x8xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>,
                      %v: tensor<3xf32>) -> (tensor<?x3x8x8xf32>, tensor<?x3x8x8xf32>) {
  %0 = kiln.batch_norm %x, %s, %b, %m, %v : (tensor<?x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x8x8xf32>
  %1 = kiln.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-3 : f32} : (tensor<?x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x8x8xf32>
  return %0, %1 : tensor<?x3x8x8xf32>, tensor<?x3x8x8xf32>
}

// -----

// CHECK-LABEL: func.func @pools
// CHECK: kiln.max_pool %{{.*}} {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x32x32xui8>) -> tensor<1x3x16x16xui8>
// CHECK: kiln.average_pool %{{.*}} {ceil_mode = true, count_include_pad = true, dilations = array<i64: 1>, kernel_shape = array<i64: 2>, pads = array<i64: 0, 0>, strides = array<i64: 2>} : (tensor<?x3x5xf32>) -> tensor<?x3x3xf32>
// GENERIC-LABEL: sym_name = "pools"
// GENERIC: "kiln.max_pool"(%{{.*}}) <{ceil_mode = false, dilations
// GENERIC: "kiln.average_pool"(%{{.*}}) <{ceil_mode = true, count_include_pad = true
func.func @pools(%x: tensor<1x3x32x32xui8>, %y: tensor<?x3x5xf32>) -> (tensor<1x3x16x16xui8>, tensor<?x3x3xf32>) {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>,
         pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x32x32xui8>) -> tensor<1x3x16x16xui8>
  %1 = kiln.average_pool %y {kernel_shape = array<i64: 2>, strides = array<i64: 2>,
         pads = array<i64: 0, 0>, dilations = array<i64: 1>, ceil_mode = true, count_include_pad = true}
       : (tensor<?x3x5xf32>) -> tensor<?x3x3xf32>
  return %0, %1 : tensor<1x3x16x16xui8>, tensor<?x3x3xf32>
}

// -----

// p defaults to 2.
// CHECK-LABEL: func.func @lp_pool
// CHECK: %[[A:.*]] = kiln.lp_pool %{{.*}} {dilations = array<i64: 1>, kernel_shape = array<i64: 2>, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x3x5xf32>) -> tensor<1x3x4xf32>
// CHECK: kiln.lp_pool %{{.*}} {{{.*}}p = 3 : i64{{.*}}}
// GENERIC-LABEL: sym_name = "lp_pool"
// GENERIC: "kiln.lp_pool"(%{{.*}}) <{ceil_mode = false, {{.*}}p = 2 : i64
func.func @lp_pool(%x: tensor<1x3x5xf32>) -> (tensor<1x3x4xf32>, tensor<1x3x4xf32>) {
  %0 = kiln.lp_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>,
         dilations = array<i64: 1>} : (tensor<1x3x5xf32>) -> tensor<1x3x4xf32>
  %1 = kiln.lp_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>,
         dilations = array<i64: 1>, p = 3 : i64} : (tensor<1x3x5xf32>) -> tensor<1x3x4xf32>
  return %0, %1 : tensor<1x3x4xf32>, tensor<1x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @resize
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>, %[[S:.*]]: tensor<4xf32>, %[[R:.*]]: tensor<8xf32>)
// CHECK: kiln.resize %[[X]], %[[S]] {mode = "linear"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
// CHECK: kiln.resize %[[X]], %[[S]] {sizes = array<i64: 1, 3, 16, 16>} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<1x3x16x16xf32>
// CHECK: kiln.resize %[[X]], %[[S]], %[[R]] {coordinate_transformation_mode = "tf_crop_and_resize", extrapolation_value = 1.000000e+01 : f64, mode = "cubic"}
// GENERIC-LABEL: sym_name = "resize"
// GENERIC: "kiln.resize"(%{{.*}}, %{{.*}}) <{antialias = false, coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "linear", nearest_mode = "round_prefer_floor"}>
func.func @resize(%x: tensor<1x3x8x8xf32>, %s: tensor<4xf32>, %roi: tensor<8xf32>)
    -> (tensor<?x?x?x?xf32>, tensor<1x3x16x16xf32>, tensor<?x?x?x?xf32>) {
  %0 = kiln.resize %x, %s {mode = "linear"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  %1 = kiln.resize %x, %s {sizes = array<i64: 1, 3, 16, 16>} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<1x3x16x16xf32>
  %2 = kiln.resize %x, %s, %roi {mode = "cubic", coordinate_transformation_mode = "tf_crop_and_resize",
         extrapolation_value = 10.0 : f64} : (tensor<1x3x8x8xf32>, tensor<4xf32>, tensor<8xf32>) -> tensor<?x?x?x?xf32>
  return %0, %1, %2 : tensor<?x?x?x?xf32>, tensor<1x3x16x16xf32>, tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @grid_sample
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>, %[[G:.*]]: tensor<1x4x5x2xf32>, %[[V:.*]]: tensor<?x2x4x4x4xf16>, %[[VG:.*]]: tensor<?x2x3x1x3xf16>)
// CHECK: kiln.grid_sample %[[X]], %[[G]] : (tensor<1x3x8x8xf32>, tensor<1x4x5x2xf32>) -> tensor<1x3x4x5xf32>
// CHECK: kiln.grid_sample %[[V]], %[[VG]] {align_corners = true, mode = "cubic", padding_mode = "reflection"} : (tensor<?x2x4x4x4xf16>, tensor<?x2x3x1x3xf16>) -> tensor<?x2x2x3x1xf16>
// GENERIC-LABEL: sym_name = "grid_sample"
// GENERIC: "kiln.grid_sample"(%{{.*}}, %{{.*}}) <{align_corners = false, mode = "linear", padding_mode = "zeros"}>
func.func @grid_sample(%x: tensor<1x3x8x8xf32>, %g: tensor<1x4x5x2xf32>, %v: tensor<?x2x4x4x4xf16>,
                       %vg: tensor<?x2x3x1x3xf16>) -> (tensor<1x3x4x5xf32>, tensor<?x2x2x3x1xf16>) {
  %0 = kiln.grid_sample %x, %g : (tensor<1x3x8x8xf32>, tensor<1x4x5x2xf32>) -> tensor<1x3x4x5xf32>
  %1 = kiln.grid_sample %v, %vg {mode = "cubic", padding_mode = "reflection", align_corners = true}
       : (tensor<?x2x4x4x4xf16>, tensor<?x2x3x1x3xf16>) -> tensor<?x2x2x3x1xf16>
  return %0, %1 : tensor<1x3x4x5xf32>, tensor<?x2x2x3x1xf16>
}

// -----

// CHECK-LABEL: func.func @quantization
// CHECK: %[[D:.*]] = kiln.dequantize_linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x3x4xui8>, tensor<3xf32>, tensor<3xui8>) -> tensor<1x3x4xf32>
// CHECK: %[[B:.*]] = kiln.dequantize_linear %{{.*}}, %{{.*}} {axis = 2 : i64, block_size = 2 : i64} : (tensor<1x3x4xi8>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
// CHECK: %[[Q:.*]] = kiln.quantize_linear %[[D]], %{{.*}}, %{{.*}} {to = i8} : (tensor<1x3x4xf32>, tensor<f32>, tensor<i8>) -> tensor<1x3x4xi8>
// CHECK: %[[U:.*]] = kiln.quantize_linear %[[B]], %{{.*}} {to = ui16} : (tensor<1x3x4xf32>, tensor<f32>) -> tensor<1x3x4xui16>
// CHECK: kiln.dequantize_linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4xi32>, tensor<1xf32>, tensor<i32>) -> tensor<4xf32>
// GENERIC-LABEL: sym_name = "quantization"
// GENERIC: "kiln.dequantize_linear"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = 1 : i64, block_size = 0 : i64}>
func.func @quantization(%q: tensor<1x3x4xui8>, %s: tensor<3xf32>, %zp: tensor<3xui8>, %b: tensor<1x3x4xi8>,
                        %bs: tensor<1x3x2xf32>, %t: tensor<f32>, %tz: tensor<i8>)
    -> (tensor<1x3x4xi8>, tensor<1x3x4xui16>) {
  %0 = kiln.dequantize_linear %q, %s, %zp : (tensor<1x3x4xui8>, tensor<3xf32>, tensor<3xui8>) -> tensor<1x3x4xf32>
  %1 = kiln.dequantize_linear %b, %bs {axis = 2 : i64, block_size = 2 : i64} : (tensor<1x3x4xi8>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %2 = kiln.quantize_linear %0, %t, %tz {to = i8} : (tensor<1x3x4xf32>, tensor<f32>, tensor<i8>) -> tensor<1x3x4xi8>
  %3 = kiln.quantize_linear %1, %t {to = ui16} : (tensor<1x3x4xf32>, tensor<f32>) -> tensor<1x3x4xui16>
  // Per tensor with one value each, of different ranks (onnxruntime's QDQ
  // int32 bias: a [1] scale, a scalar zero point).
  %bias = kiln.constant dense<[1, -2, 3, 4]> : tensor<4xi32>
  %bias_scale = kiln.constant dense<0.5> : tensor<1xf32>
  %bias_zero = kiln.constant dense<0> : tensor<i32>
  %4 = kiln.dequantize_linear %bias, %bias_scale, %bias_zero : (tensor<4xi32>, tensor<1xf32>, tensor<i32>) -> tensor<4xf32>
  return %2, %3 : tensor<1x3x4xi8>, tensor<1x3x4xui16>
}
