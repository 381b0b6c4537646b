// RUN: kiln-opt %s --kiln-fold-integer-matmuls -split-input-file | FileCheck %s

// What kiln.qgemm does not compute exactly stays as it is (loops that
// compute ONNX's arithmetic). A weight zero point other than 0:
// CHECK-LABEL: func.func @weight_zero_point
// CHECK-NOT: kiln.qgemm
// CHECK: kiln.matmul
func.func @weight_zero_point(%x: tensor<4x2xui8>, %sa: tensor<f32>) -> tensor<4x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %wzp = kiln.constant dense<1> : tensor<i32>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xui8> to i32
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %b = kiln.sub %ww, %wzp : (tensor<2x3xi32>, tensor<i32>) -> tensor<2x3xi32>
  %p = kiln.matmul %xw, %b : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A scale per row of A (a 1-D sa broadcast down the rows), and a weight
// that is not a constant.
// CHECK-LABEL: func.func @per_row_scale
// CHECK-NOT: kiln.qgemm
// CHECK-LABEL: func.func @variable_weight
// CHECK-NOT: kiln.qgemm
func.func @per_row_scale(%x: tensor<4x2xui8>, %sa: tensor<4x1xf32>) -> tensor<4x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xui8> to i32
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %xw, %ww : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
func.func @variable_weight(%x: tensor<4x2xui8>, %w: tensor<2x3xi8>, %sa: tensor<f32>) -> tensor<4x3xf32> {
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xui8> to i32
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %xw, %ww : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A uint8 weight (quantize_dynamic with QUInt8 weights) whose values do
// not fit int8, and an int8 activation (MatMulInteger's A may be either).
// CHECK-LABEL: func.func @uint8_weight
// CHECK-NOT: kiln.qgemm
// CHECK-LABEL: func.func @int8_activation
// CHECK-NOT: kiln.qgemm
func.func @uint8_weight(%x: tensor<4x2xui8>, %sa: tensor<f32>) -> tensor<4x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, 200]]> : tensor<2x3xui8>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xui8> to i32
  %ww = kiln.cast %w : tensor<2x3xui8> to i32
  %p = kiln.matmul %xw, %ww : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
func.func @int8_activation(%x: tensor<4x2xi8>, %sa: tensor<f32>) -> tensor<4x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xi8> to i32
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %xw, %ww : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// The i32 product used on its own too: folding would compute it twice.
// CHECK-LABEL: func.func @product_used_twice
// CHECK-NOT: kiln.qgemm
func.func @product_used_twice(%x: tensor<4x2xui8>, %sa: tensor<f32>) -> (tensor<4x3xf32>, tensor<4x3xi32>) {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xui8> to i32
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %xw, %ww : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %y, %p : tensor<4x3xf32>, tensor<4x3xi32>
}

// -----

// QDQ: a weight zero point other than 0, scales along W's rows (axis 0:
// per k, which no column scale can carry), and a per-channel activation.
// CHECK-LABEL: func.func @qdq_weight_zero_point
// CHECK-NOT: kiln.qgemm
// CHECK-LABEL: func.func @qdq_row_scales
// CHECK-NOT: kiln.qgemm
// CHECK-LABEL: func.func @qdq_per_channel_activation
// CHECK-NOT: kiln.qgemm
func.func @qdq_weight_zero_point(%q: tensor<?x2xui8>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<0.02> : tensor<f32>
  %z = kiln.constant dense<128> : tensor<ui8>
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<0.5> : tensor<f32>
  %wzp = kiln.constant dense<2> : tensor<i8>
  %a = kiln.dequantize_linear %q, %s, %z : (tensor<?x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x2xf32>
  %b = kiln.dequantize_linear %w, %sw, %wzp : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  %y = kiln.matmul %a, %b : (tensor<?x2xf32>, tensor<2x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}
func.func @qdq_row_scales(%q: tensor<?x2xui8>) -> tensor<?x2xf32> {
  %s = kiln.constant dense<0.02> : tensor<f32>
  %w = kiln.constant dense<[[1, 2], [4, 5]]> : tensor<2x2xi8>
  %sw = kiln.constant dense<[1.0, 0.5]> : tensor<2xf32>
  %a = kiln.dequantize_linear %q, %s : (tensor<?x2xui8>, tensor<f32>) -> tensor<?x2xf32>
  %b = kiln.dequantize_linear %w, %sw {axis = 0 : i64} : (tensor<2x2xi8>, tensor<2xf32>) -> tensor<2x2xf32>
  %y = kiln.matmul %a, %b : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
func.func @qdq_per_channel_activation(%q: tensor<4x2xui8>) -> tensor<4x3xf32> {
  %s = kiln.constant dense<[0.02, 0.03]> : tensor<2xf32>
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<0.5> : tensor<f32>
  %a = kiln.dequantize_linear %q, %s : (tensor<4x2xui8>, tensor<2xf32>) -> tensor<4x2xf32>
  %b = kiln.dequantize_linear %w, %sw : (tensor<2x3xi8>, tensor<f32>) -> tensor<2x3xf32>
  %y = kiln.matmul %a, %b : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A weight zero point that broadcasts: a weight row [1, 3] minus zeros
// [2, 3] is a 2 x 3 weight, but no int8 matrix of the model's; and a zero
// point per row of A (MatMulInteger's 1-D a_zero_point, as a column).
// CHECK-LABEL: func.func @broadcasting_weight_zero_point
// CHECK-NOT: kiln.qgemm
// CHECK-LABEL: func.func @per_row_zero_point
// CHECK-NOT: kiln.qgemm
func.func @broadcasting_weight_zero_point(%x: tensor<4x2xui8>, %sa: tensor<f32>) -> tensor<4x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3]]> : tensor<1x3xi8>
  %wzp = kiln.constant dense<0> : tensor<2x3xi32>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xui8> to i32
  %ww = kiln.cast %w : tensor<1x3xi8> to i32
  %b = kiln.sub %ww, %wzp : (tensor<1x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %p = kiln.matmul %xw, %b : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
func.func @per_row_zero_point(%x: tensor<2x2xui8>, %za: tensor<2x1xui8>, %sa: tensor<f32>) -> tensor<2x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<2x2xui8> to i32
  %zw = kiln.cast %za : tensor<2x1xui8> to i32
  %a = kiln.sub %xw, %zw : (tensor<2x2xi32>, tensor<2x1xi32>) -> tensor<2x2xi32>
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %a, %ww : (tensor<2x2xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %f = kiln.cast %p : tensor<2x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A uint8 weight read from a resource as uint8: 200 does not fit int8.
// CHECK-LABEL: func.func @qdq_uint8_resource_weight
// CHECK-NOT: kiln.qgemm
func.func @qdq_uint8_resource_weight(%q: tensor<?x2xui8>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<0.02> : tensor<f32>
  %w = kiln.constant dense_resource<uint8_weight> : tensor<2x3xui8>
  %sw = kiln.constant dense<0.5> : tensor<f32>
  %a = kiln.dequantize_linear %q, %s : (tensor<?x2xui8>, tensor<f32>) -> tensor<?x2xf32>
  %b = kiln.dequantize_linear %w, %sw : (tensor<2x3xui8>, tensor<f32>) -> tensor<2x3xf32>
  %y = kiln.matmul %a, %b : (tensor<?x2xf32>, tensor<2x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

{-#
  dialect_resources: {
    builtin: {
      uint8_weight: "0x01000000010203C80506"
    }
  }
#-}

// -----

// A Gemm with alpha != 1 (or a transposed A) is not a plain Linear layer.
// CHECK-LABEL: func.func @qdq_gemm_alpha
// CHECK: kiln.gemm
// CHECK-NOT: kiln.qgemm
func.func @qdq_gemm_alpha(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<0.02> : tensor<f32>
  %z = kiln.constant dense<128> : tensor<ui8>
  %w = kiln.constant dense<[[1, 4], [2, 5], [3, -6]]> : tensor<3x2xi8>
  %sw = kiln.constant dense<0.5> : tensor<f32>
  %q = kiln.quantize_linear %x, %s, %z {to = ui8} : (tensor<?x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x2xui8>
  %a = kiln.dequantize_linear %q, %s, %z : (tensor<?x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x2xf32>
  %b = kiln.dequantize_linear %w, %sw : (tensor<3x2xi8>, tensor<f32>) -> tensor<3x2xf32>
  %y = kiln.gemm %a, %b {alpha = 2.0 : f32, transB = true} : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}
