// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// dequantize_linear per axis: the scale and zero point follow dim `axis`;
// unsigned values convert with uitofp.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[AXIS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @dequantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[AXIS]], #[[AXIS]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: ^bb0(%[[Q:.*]]: ui8, %[[S:.*]]: f32, %[[Z:.*]]: ui8, %{{.*}}: f32):
// CHECK: %[[QS:.*]] = builtin.unrealized_conversion_cast %[[Q]] : ui8 to i8
// CHECK: %[[QF:.*]] = arith.uitofp %[[QS]] : i8 to f32
// CHECK: %[[ZS:.*]] = builtin.unrealized_conversion_cast %[[Z]] : ui8 to i8
// CHECK: %[[ZF:.*]] = arith.uitofp %[[ZS]] : i8 to f32
// CHECK: %[[D:.*]] = arith.subf %[[QF]], %[[ZF]] : f32
// CHECK: arith.mulf %[[D]], %[[S]] : f32
func.func @dequantize_per_axis(%q: tensor<2x4xui8>, %s: tensor<4xf32>, %z: tensor<4xui8>) -> tensor<2x4xf32> {
  %0 = kiln.dequantize_linear %q, %s, %z : (tensor<2x4xui8>, tensor<4xf32>, tensor<4xui8>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Blocked: dim `axis` of the scale is the index divided by the block size.
// CHECK-DAG: #[[BLOCK:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-LABEL: func.func @dequantize_blocked
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLOCK]], #{{.*}}]
// CHECK: arith.sitofp %{{.*}} : i8 to f32
func.func @dequantize_blocked(%b: tensor<2x4xi8>, %bs: tensor<2x2xf32>) -> tensor<2x4xf32> {
  %0 = kiln.dequantize_linear %b, %bs {block_size = 2 : i64} : (tensor<2x4xi8>, tensor<2x2xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// quantize_linear per tensor: x / scale rounded half to even, plus the zero
// point, clamped to the type's range; from f32 to 8 bits all in f32 (exact
// there), then converted through i32, which vectorizes.
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @quantize_per_tensor
// CHECK-DAG: %[[HI:.*]] = arith.constant 1.270000e+02 : f32
// CHECK-DAG: %[[LO:.*]] = arith.constant -1.280000e+02 : f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SCALAR]], #[[SCALAR]], #{{.*}}]
// CHECK: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[Z:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[DIV:.*]] = arith.divf %[[X]], %[[S]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[DIV]] : f32
// CHECK: %[[ZF:.*]] = arith.sitofp %[[Z]] : i8 to f32
// CHECK: %[[SUM:.*]] = arith.addf %[[R]], %[[ZF]] : f32
// CHECK: %[[MAX:.*]] = arith.maximumf %[[SUM]], %[[LO]] : f32
// CHECK: %[[MIN:.*]] = arith.minimumf %[[MAX]], %[[HI]] : f32
// CHECK: %[[I:.*]] = arith.fptosi %[[MIN]] : f32 to i32
// CHECK: %[[Q:.*]] = arith.trunci %[[I]] : i32 to i8
// CHECK: linalg.yield %[[Q]] : i8
func.func @quantize_per_tensor(%x: tensor<2x4xf32>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<2x4xi8> {
  %0 = kiln.quantize_linear %x, %s, %z {to = i8} : (tensor<2x4xf32>, tensor<f32>, tensor<i8>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

// To an unsigned type without a zero point: the range is [0, 65535].
// CHECK-LABEL: func.func @quantize_unsigned
// CHECK-DAG: %[[HI:.*]] = arith.constant 6.553500e+04 : f32
// CHECK: %[[I:.*]] = arith.fptosi %{{.*}} : f32 to i32
// CHECK: %[[Q:.*]] = arith.trunci %[[I]] : i32 to i16
// CHECK: %[[U:.*]] = builtin.unrealized_conversion_cast %[[Q]] : i16 to ui16
// CHECK: linalg.yield %[[U]] : ui16
func.func @quantize_unsigned(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xui16> {
  %0 = kiln.quantize_linear %x, %s {to = ui16} : (tensor<4xf32>, tensor<f32>) -> tensor<4xui16>
  return %0 : tensor<4xui16>
}

// -----

// To 32 bits (2^31 - 1 is 0x41DFFFFFFFC00000) f32 is not exact: the
// rounding and clamping are in f64, which holds every int32.
// CHECK-LABEL: func.func @quantize_wide
// CHECK-DAG: arith.constant 0x41DFFFFFFFC00000 : f64
// CHECK: %[[EXT:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK: math.roundeven %[[EXT]] : f64
// CHECK: %[[Q:.*]] = arith.fptosi %{{.*}} : f64 to i32
// CHECK: linalg.yield %[[Q]] : i32
func.func @quantize_wide(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi32> {
  %0 = kiln.quantize_linear %x, %s {to = i32} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// A quantize_linear read back by a dequantize_linear with the same scale and
// zero point (QDQ models' fake quantization) is one float body, without the
// conversions to and from the integer type: clamp(rint(x / s) + z) - z,
// times s. The quantize_linear stays for its other user.
// CHECK-LABEL: func.func @fake_quantize
// CHECK: %[[Q:.*]] = linalg.generic
// CHECK: arith.fptosi
// CHECK: } -> tensor<4x8xui8>
// CHECK: %[[D:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1, %arg2 : tensor<4x8xf32>, tensor<f32>, tensor<ui8>)
// CHECK: %[[DIV:.*]] = arith.divf
// CHECK: %[[R:.*]] = math.roundeven %[[DIV]]
// CHECK: %[[Z:.*]] = arith.uitofp
// CHECK: %[[SHIFTED:.*]] = arith.addf %[[R]], %[[Z]]
// CHECK: %[[LOW:.*]] = arith.maximumf %[[SHIFTED]]
// CHECK: %[[CLAMPED:.*]] = arith.minimumf %[[LOW]]
// CHECK-NOT: arith.fptosi
// CHECK: %[[CENTRED:.*]] = arith.subf %[[CLAMPED]]
// CHECK: %[[Y:.*]] = arith.mulf %[[CENTRED]], %in
// CHECK: linalg.yield %[[Y]] : f32
// CHECK: return %[[D]], %[[Q]]
func.func @fake_quantize(%x: tensor<4x8xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> (tensor<4x8xf32>, tensor<4x8xui8>) {
  %q = kiln.quantize_linear %x, %s, %z {to = ui8} : (tensor<4x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<4x8xui8>
  %d = kiln.dequantize_linear %q, %s, %z : (tensor<4x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<4x8xf32>
  return %d, %q : tensor<4x8xf32>, tensor<4x8xui8>
}

// -----

// Another scale reads other values: both ops are lowered on their own.
// CHECK-LABEL: func.func @requantize
// CHECK: arith.fptosi
// CHECK: } -> tensor<4x8xi8>
// CHECK: arith.sitofp
// CHECK: } -> tensor<4x8xf32>
func.func @requantize(%x: tensor<4x8xf32>, %s: tensor<f32>, %t: tensor<f32>) -> tensor<4x8xf32> {
  %q = kiln.quantize_linear %x, %s {to = i8} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xi8>
  %d = kiln.dequantize_linear %q, %t : (tensor<4x8xi8>, tensor<f32>) -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// -----

// Per axis over a `?` axis: the scale's (and zero point's) length is
// checked against the axis when the model runs.
// CHECK-LABEL: func.func @dequantize_dynamic_axis_checked
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c0 : tensor<?x3xi8>
// CHECK: %[[BAD:.*]] = arith.cmpi ne, %[[N]], %c2 : index
// CHECK: kiln.runtime_check %{{.*}}, "a DequantizeLinear: the scale's or zero point's shape does not fit the input at run time
// CHECK: linalg.generic
func.func @dequantize_dynamic_axis_checked(%x: tensor<?x3xi8>, %ctx: index {kiln.runtime_context})
    -> tensor<?x3xf32> {
  %s = kiln.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %z = kiln.constant dense<[1, -2]> : tensor<2xi8>
  %0 = kiln.dequantize_linear %x, %s, %z {axis = 0 : i64} : (tensor<?x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}
