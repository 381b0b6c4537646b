// RUN: kiln-opt %s --kiln-fold-integer-matmuls -split-input-file | FileCheck %s

// onnxruntime's quantize_dynamic (QOperator), per-tensor weight scale, as
// the importer spells it: DynamicQuantizeLinear's ui8 x and its zero point
// widened to i32, the int8 weight widened minus its zero point (0), the
// i32 product to f32 times sa * sw, then the bias. It becomes one
// kiln.qgemm on the ui8 x (rows collapsed) with sa and za, the weight
// packed (kiln_qgemm_pack.h: a 4-byte group per column, k padded to 4,
// 16 columns, then the int32 column sums 5, 7 and -3) and sw for every
// column.
// CHECK-LABEL: func.func @qoperator
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x?x2xui8>, %[[ZA:[^:]*]]: tensor<ui8>, %[[SA:[^:]*]]: tensor<f32>, %[[BIAS:[^:]*]]: tensor<3xf32>
// CHECK-DAG: %[[W:.*]] = kiln.constant dense_resource<int8_weight_packed{{.*}}> : tensor<128xi8>
// CHECK-DAG: %[[SW:.*]] = kiln.constant dense<2.500000e-01> : tensor<3xf32>
// CHECK-DAG: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<?x?x2xui8> into tensor<?x2xui8>
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[X]], %c0
// CHECK-DAG: %[[S:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[INIT:.*]] = tensor.empty(%[[B]], %[[S]]) : tensor<?x?x3xf32>
// CHECK: %[[Y:.*]] = kiln.qgemm %[[ROWS]], %[[W]], %[[SW]] a_scale(%[[SA]] : tensor<f32>) a_zero_point(%[[ZA]] : tensor<ui8>) bias(%[[BIAS]] : tensor<3xf32>) into %[[INIT]] {k = 2 : i64, n = 3 : i64}
// CHECK-NOT: kiln.matmul
// CHECK-NOT: kiln.add
// CHECK: return %[[Y]]
// CHECK: int8_weight_packed{{.*}}: "0x{{[0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]}}010400000205000003FA0000{{0+}}0500000007000000FDFFFFFF{{0+}}"
func.func @qoperator(%x: tensor<?x?x2xui8>, %za: tensor<ui8>, %sa: tensor<f32>, %bias: tensor<3xf32>) -> tensor<?x?x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %wzp = kiln.constant dense<0> : tensor<i32>
  %sw = kiln.constant dense<0.25> : tensor<f32>
  %xw = kiln.cast %x : tensor<?x?x2xui8> to i32
  %zw = kiln.cast %za : tensor<ui8> to i32
  %a = kiln.sub %xw, %zw : (tensor<?x?x2xi32>, tensor<i32>) -> tensor<?x?x2xi32>
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %b = kiln.sub %ww, %wzp : (tensor<2x3xi32>, tensor<i32>) -> tensor<2x3xi32>
  %p = kiln.matmul %a, %b : (tensor<?x?x2xi32>, tensor<2x3xi32>) -> tensor<?x?x3xi32>
  %f = kiln.cast %p : tensor<?x?x3xi32> to f32
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %s : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %z = kiln.add %y, %bias : (tensor<?x?x3xf32>, tensor<3xf32>) -> tensor<?x?x3xf32>
  return %z : tensor<?x?x3xf32>
}

// -----

// Per-channel weight scales (quantize_dynamic(per_channel=True)), the
// operands of both muls the other way round, a constant activation zero
// point already folded to i32 and no bias.
// CHECK-LABEL: func.func @per_channel
// CHECK-DAG: %[[SW:.*]] = kiln.constant dense<[1.000000e+00, 5.000000e-01, 2.500000e-01]> : tensor<3xf32>
// CHECK-DAG: %[[ZA:.*]] = kiln.constant dense<7> : tensor<ui8>
// CHECK: %[[Y:.*]] = kiln.qgemm %arg0, %{{.*}}, %[[SW]] a_scale(%arg1 : tensor<1xf32>) a_zero_point(%[[ZA]] : tensor<ui8>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<?x2xui8>, tensor<128xi8>, tensor<3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: return %[[Y]]
func.func @per_channel(%x: tensor<?x2xui8>, %sa: tensor<1xf32>) -> tensor<?x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %wzp = kiln.constant dense<0> : tensor<3xi32>
  %zp = kiln.constant dense<7> : tensor<i32>
  %sw = kiln.constant dense<[1.0, 0.5, 0.25]> : tensor<3xf32>
  %xw = kiln.cast %x : tensor<?x2xui8> to i32
  %a = kiln.sub %xw, %zp : (tensor<?x2xi32>, tensor<i32>) -> tensor<?x2xi32>
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %b = kiln.sub %ww, %wzp : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %p = kiln.matmul %a, %b : (tensor<?x2xi32>, tensor<2x3xi32>) -> tensor<?x3xi32>
  %f = kiln.cast %p : tensor<?x3xi32> to f32
  %s = kiln.mul %sw, %sa : (tensor<3xf32>, tensor<1xf32>) -> tensor<3xf32>
  %y = kiln.mul %s, %f : (tensor<3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// No zero points at all, and sa * sw folded into one constant: scale 1
// and zero point 0 (the op's defaults).
// CHECK-LABEL: func.func @folded_scale
// CHECK: kiln.qgemm %arg0, %{{.*}}, %{{.*}} into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<4x2xui8>
func.func @folded_scale(%x: tensor<4x2xui8>) -> tensor<4x3xf32> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %s = kiln.constant dense<0.125> : tensor<f32>
  %xw = kiln.cast %x : tensor<4x2xui8> to i32
  %ww = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %xw, %ww : (tensor<4x2xi32>, tensor<2x3xi32>) -> tensor<4x3xi32>
  %f = kiln.cast %p : tensor<4x3xi32> to f32
  %y = kiln.mul %f, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// quantize_static (QDQ) with uint8 activations and per-channel weights
// (axis 1 of W, the columns): the ui8 x of the QuantizeLinear with the
// DequantizeLinear's scale and zero point.
// CHECK-LABEL: func.func @qdq_uint8
// CHECK: %[[Q:.*]] = kiln.quantize_linear %arg0
// CHECK: %[[Y:.*]] = kiln.qgemm %[[Q]], %{{.*}}, %{{.*}} a_scale(%{{.*}} : tensor<f32>) a_zero_point(%{{.*}} : tensor<ui8>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<?x2xui8>
// CHECK-NOT: kiln.dequantize_linear
// CHECK-NOT: kiln.matmul
// CHECK: return %[[Y]]
func.func @qdq_uint8(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<0.02> : tensor<f32>
  %z = kiln.constant dense<128> : tensor<ui8>
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<[1.0, 0.5, 0.25]> : tensor<3xf32>
  %wzp = kiln.constant dense<0> : tensor<3xi8>
  %q = kiln.quantize_linear %x, %s, %z {to = ui8} : (tensor<?x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x2xui8>
  %a = kiln.dequantize_linear %q, %s, %z : (tensor<?x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x2xf32>
  %b = kiln.dequantize_linear %w, %sw, %wzp : (tensor<2x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xf32>
  %y = kiln.matmul %a, %b : (tensor<?x2xf32>, tensor<2x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// A QDQ Gemm layer (BERT's pooler): W transposed (transB, N x K, its
// scales per row of it: axis 0), the bias as C. The weight is packed as
// its transpose, the bias joins the op.
// CHECK-LABEL: func.func @qdq_gemm
// CHECK: %[[Q:.*]] = kiln.quantize_linear %arg0
// CHECK: %[[Y:.*]] = kiln.qgemm %[[Q]], %{{.*}}, %{{.*}} a_scale(%{{.*}} : tensor<f32>) a_zero_point(%{{.*}} : tensor<ui8>) bias(%arg1 : tensor<3xf32>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<?x2xui8>
// CHECK-NOT: kiln.gemm
// CHECK: return %[[Y]]
func.func @qdq_gemm(%x: tensor<?x2xf32>, %bias: tensor<3xf32>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<0.02> : tensor<f32>
  %z = kiln.constant dense<128> : tensor<ui8>
  %w = kiln.constant dense<[[1, 4], [2, 5], [3, -6]]> : tensor<3x2xi8>
  %sw = kiln.constant dense<[1.0, 0.5, 0.25]> : tensor<3xf32>
  %q = kiln.quantize_linear %x, %s, %z {to = ui8} : (tensor<?x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x2xui8>
  %a = kiln.dequantize_linear %q, %s, %z : (tensor<?x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x2xf32>
  %b = kiln.dequantize_linear %w, %sw {axis = 0 : i64} : (tensor<3x2xi8>, tensor<3xf32>) -> tensor<3x2xf32>
  %y = kiln.gemm %a, %b, %bias {transB = true} : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// QDQ with int8 activations (quantize_static's default): x is quantized
// to ui8 instead, both zero points moved by 128 (-3 + 128 = 125), which
// keeps every A - za; the bias add joins the op.
// CHECK-LABEL: func.func @qdq_int8
// CHECK-DAG: %[[Z:.*]] = kiln.constant dense<125> : tensor<ui8>
// CHECK-DAG: %[[S:.*]] = kiln.constant dense<2.000000e-02> : tensor<f32>
// CHECK: %[[Q:.*]] = kiln.quantize_linear %arg0, %[[S]], %[[Z]] {to = ui8} : (tensor<?x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x2xui8>
// CHECK: %[[ZA:.*]] = kiln.constant dense<125> : tensor<ui8>
// CHECK: %[[Y:.*]] = kiln.qgemm %[[Q]], %{{.*}}, %{{.*}} a_scale(%[[S]] : tensor<f32>) a_zero_point(%[[ZA]] : tensor<ui8>) bias(%arg1 : tensor<3xf32>) into
// CHECK-NOT: kiln.quantize_linear
// CHECK: return %[[Y]]
func.func @qdq_int8(%x: tensor<?x2xf32>, %bias: tensor<3xf32>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<0.02> : tensor<f32>
  %z = kiln.constant dense<-3> : tensor<i8>
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sw = kiln.constant dense<0.5> : tensor<f32>
  %q = kiln.quantize_linear %x, %s, %z {to = i8} : (tensor<?x2xf32>, tensor<f32>, tensor<i8>) -> tensor<?x2xi8>
  %a = kiln.dequantize_linear %q, %s, %z : (tensor<?x2xi8>, tensor<f32>, tensor<i8>) -> tensor<?x2xf32>
  %b = kiln.dequantize_linear %w, %sw : (tensor<2x3xi8>, tensor<f32>) -> tensor<2x3xf32>
  %y = kiln.matmul %a, %b : (tensor<?x2xf32>, tensor<2x3xf32>) -> tensor<?x3xf32>
  %r = kiln.add %bias, %y : (tensor<3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %r : tensor<?x3xf32>
}

// -----

// QLinearMatMul (quantize_static's QOperator format) as the importer spells
// it: the i32 product to f64 times f64((sa * sw) / sy), quantized with scale
// 1 to y's zero point. It becomes the int8 GEMM with the multipliers as
// column scales (here 0.5 * [1, 2, 4] / 0.25 = [2, 4, 8]) and no a_scale,
// then QuantizeLinear with scale 1 in f32.
// CHECK-LABEL: func.func @qlinear_matmul
// CHECK: %[[M:.*]] = kiln.constant dense<[2.000000e+00, 4.000000e+00, 8.000000e+00]> : tensor<3xf32>
// CHECK: %[[S:.*]] = kiln.qgemm %arg0, %{{.*}}, %[[M]] a_zero_point(%arg1 : tensor<ui8>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<?x2xui8>, tensor<128xi8>, tensor<3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: %[[ONE:.*]] = kiln.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[Y:.*]] = kiln.quantize_linear %[[S]], %[[ONE]], %arg2 {axis = 0 : i64, to = ui8} : (tensor<?x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x3xui8>
// CHECK-NOT: kiln.matmul
// CHECK: return %[[Y]]
func.func @qlinear_matmul(%x: tensor<?x2xui8>, %za: tensor<ui8>, %zy: tensor<ui8>) -> tensor<?x3xui8> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %sa = kiln.constant dense<0.5> : tensor<f32>
  %sw = kiln.constant dense<[1.0, 2.0, 4.0]> : tensor<3xf32>
  %sy = kiln.constant dense<0.25> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f64>
  %xw = kiln.cast %x : tensor<?x2xui8> to i32
  %zw = kiln.cast %za : tensor<ui8> to i32
  %a = kiln.sub %xw, %zw : (tensor<?x2xi32>, tensor<i32>) -> tensor<?x2xi32>
  %b = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %a, %b : (tensor<?x2xi32>, tensor<2x3xi32>) -> tensor<?x3xi32>
  %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %m = kiln.div %s, %sy : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %pw = kiln.cast %p : tensor<?x3xi32> to f64
  %mw = kiln.cast %m : tensor<3xf32> to f64
  %scaled = kiln.mul %pw, %mw : (tensor<?x3xf64>, tensor<3xf64>) -> tensor<?x3xf64>
  %y = kiln.quantize_linear %scaled, %one, %zy {to = ui8, axis = 0 : i64} : (tensor<?x3xf64>, tensor<f64>, tensor<ui8>) -> tensor<?x3xui8>
  return %y : tensor<?x3xui8>
}

// -----

// The same with the scales folded to one f64 constant (what the importer
// leaves for per-tensor scales).
// CHECK-LABEL: func.func @qlinear_matmul_folded
// CHECK-DAG: %[[M:.*]] = kiln.constant dense<1.250000e-01> : tensor<3xf32>
// CHECK: kiln.qgemm %arg0, %{{.*}}, %[[M]] into
// CHECK: kiln.quantize_linear
func.func @qlinear_matmul_folded(%x: tensor<?x2xui8>, %zy: tensor<ui8>) -> tensor<?x3xui8> {
  %w = kiln.constant dense<[[1, 2, 3], [4, 5, -6]]> : tensor<2x3xi8>
  %m = kiln.constant dense<0.125> : tensor<f64>
  %one = kiln.constant dense<1.0> : tensor<f64>
  %xw = kiln.cast %x : tensor<?x2xui8> to i32
  %b = kiln.cast %w : tensor<2x3xi8> to i32
  %p = kiln.matmul %xw, %b : (tensor<?x2xi32>, tensor<2x3xi32>) -> tensor<?x3xi32>
  %pw = kiln.cast %p : tensor<?x3xi32> to f64
  %scaled = kiln.mul %pw, %m : (tensor<?x3xf64>, tensor<f64>) -> tensor<?x3xf64>
  %y = kiln.quantize_linear %scaled, %one, %zy {to = ui8, axis = 0 : i64} : (tensor<?x3xf64>, tensor<f64>, tensor<ui8>) -> tensor<?x3xui8>
  return %y : tensor<?x3xui8>
}
