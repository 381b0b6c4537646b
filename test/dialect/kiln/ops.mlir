// RUN: kiln-opt %s -split-input-file | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of every kiln op through the custom assembly format and through
// the generic form. Default-valued attributes are elided when they hold their
// default and printed otherwise; the GENERIC lines check that the defaults
// are materialised in the op's properties.

//===----------------------------------------------------------------------===//
// Constants and generators
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @constant_dense
// CHECK: %[[S:.*]] = kiln.constant dense<[1, 128, 12, 64]> : tensor<4xi64>
// CHECK: %[[Z:.*]] = kiln.constant dense<7> : tensor<i64>
// CHECK: %[[F:.*]] = kiln.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[B:.*]] = kiln.constant dense<[true, false]> : tensor<2xi1>
// CHECK: return %[[S]], %[[Z]], %[[F]], %[[B]]
func.func @constant_dense() -> (tensor<4xi64>, tensor<i64>, tensor<2x2xf32>, tensor<2xi1>) {
  %0 = kiln.constant dense<[1, 128, 12, 64]> : tensor<4xi64>
  %1 = kiln.constant dense<7> : tensor<i64>
  %2 = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %3 = kiln.constant dense<[true, false]> : tensor<2xi1>
  return %0, %1, %2, %3 : tensor<4xi64>, tensor<i64>, tensor<2x2xf32>, tensor<2xi1>
}

// -----

// Weights are resource blobs: the IR names them and the blob (a 4-byte
// alignment header, then little-endian data) rides along at the end.
// CHECK-LABEL: func.func @constant_resource
// CHECK: %[[W:.*]] = kiln.constant dense_resource<encoder_0_weight> : tensor<2x2xf32>
// CHECK: return %[[W]] : tensor<2x2xf32>
// CHECK: dialect_resources
// CHECK-NEXT: builtin
// CHECK-NEXT: encoder_0_weight: "0x040000000000803F000000400000404000008040"
func.func @constant_resource() -> tensor<2x2xf32> {
  %0 = kiln.constant dense_resource<encoder_0_weight> : tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      encoder_0_weight: "0x040000000000803F000000400000404000008040"
    }
  }
#-}

// -----

// CHECK-LABEL: func.func @constant_of_shape
// CHECK-SAME: (%[[S:.*]]: tensor<2xi64>, %[[E:.*]]: tensor<0xi64>)
// CHECK: %[[A:.*]] = kiln.constant_of_shape %[[S]] {value = 0.000000e+00 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
// CHECK: %[[B:.*]] = kiln.constant_of_shape %[[E]] {value = 1 : i64} : (tensor<0xi64>) -> tensor<i64>
// CHECK: return %[[A]], %[[B]]
func.func @constant_of_shape(%s: tensor<2xi64>, %e: tensor<0xi64>) -> (tensor<?x?xf32>, tensor<i64>) {
  %0 = kiln.constant_of_shape %s {value = 0.0 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
  %1 = kiln.constant_of_shape %e {value = 1 : i64} : (tensor<0xi64>) -> tensor<i64>
  return %0, %1 : tensor<?x?xf32>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @range
// CHECK-SAME: (%[[S:.*]]: tensor<i64>, %[[L:.*]]: tensor<i64>, %[[D:.*]]: tensor<i64>, %[[F:.*]]: tensor<1xf32>)
// CHECK: %[[A:.*]] = kiln.range %[[S]], %[[L]], %[[D]] : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
// CHECK: %[[B:.*]] = kiln.range %[[F]], %[[F]], %[[F]] : (tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<?xf32>
// CHECK: return %[[A]], %[[B]]
func.func @range(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>, %f: tensor<1xf32>) -> (tensor<?xi64>, tensor<?xf32>) {
  %0 = kiln.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %1 = kiln.range %f, %f, %f : (tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<?xf32>
  return %0, %1 : tensor<?xi64>, tensor<?xf32>
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @add
// CHECK-SAME: (%[[A:.*]]: tensor<?x128x768xf32>, %[[B:.*]]: tensor<768xf32>)
// CHECK: %[[R:.*]] = kiln.add %[[A]], %[[B]] : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
// CHECK: return %[[R]]
func.func @add(%a: tensor<?x128x768xf32>, %b: tensor<768xf32>) -> tensor<?x128x768xf32> {
  %0 = kiln.add %a, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  return %0 : tensor<?x128x768xf32>
}

// -----

// A 0-D operand broadcasts against anything.
// CHECK-LABEL: func.func @sub_scalar
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<f32>)
// CHECK: %[[R:.*]] = kiln.sub %[[A]], %[[B]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
// CHECK: return %[[R]]
func.func @sub_scalar(%a: tensor<4xf32>, %b: tensor<f32>) -> tensor<4xf32> {
  %0 = kiln.sub %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @mul_0d
// CHECK-SAME: (%[[A:.*]]: tensor<i64>, %[[B:.*]]: tensor<i64>)
// CHECK: %[[R:.*]] = kiln.mul %[[A]], %[[B]] : (tensor<i64>, tensor<i64>) -> tensor<i64>
// CHECK: return %[[R]] : tensor<i64>
func.func @mul_0d(%a: tensor<i64>, %b: tensor<i64>) -> tensor<i64> {
  %0 = kiln.mul %a, %b : (tensor<i64>, tensor<i64>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

// CHECK-LABEL: func.func @div
// CHECK-SAME: (%[[A:.*]]: tensor<2x?xi32>, %[[B:.*]]: tensor<1x3xi32>)
// CHECK: %[[R:.*]] = kiln.div %[[A]], %[[B]] : (tensor<2x?xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
func.func @div(%a: tensor<2x?xi32>, %b: tensor<1x3xi32>) -> tensor<2x3xi32> {
  %0 = kiln.div %a, %b : (tensor<2x?xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}

// -----

// `fmod = false` is the default and is elided.
// CHECK-LABEL: func.func @mod
// CHECK-SAME: (%[[A:.*]]: tensor<4xi64>, %[[B:.*]]: tensor<i64>)
// CHECK: %[[R0:.*]] = kiln.mod %[[A]], %[[B]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
// CHECK: %[[R1:.*]] = kiln.mod %[[A]], %[[B]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
// CHECK: %[[R2:.*]] = kiln.mod %[[A]], %[[B]] {fmod = true} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
// CHECK: return %[[R0]], %[[R1]], %[[R2]]
// GENERIC-LABEL: sym_name = "mod"
// GENERIC: "kiln.mod"(%{{.*}}, %{{.*}}) <{fmod = false}>
// GENERIC: "kiln.mod"(%{{.*}}, %{{.*}}) <{fmod = false}>
// GENERIC: "kiln.mod"(%{{.*}}, %{{.*}}) <{fmod = true}>
func.func @mod(%a: tensor<4xi64>, %b: tensor<i64>) -> (tensor<4xi64>, tensor<4xi64>, tensor<4xi64>) {
  %0 = kiln.mod %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  %1 = kiln.mod %a, %b {fmod = false} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  %2 = kiln.mod %a, %b {fmod = true} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  return %0, %1, %2 : tensor<4xi64>, tensor<4xi64>, tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @pow
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<f32>)
// CHECK: %[[R:.*]] = kiln.pow %[[A]], %[[B]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
func.func @pow(%a: tensor<4xf32>, %b: tensor<f32>) -> tensor<4xf32> {
  %0 = kiln.pow %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @max_min
// CHECK-SAME: (%[[A:.*]]: tensor<?x4xf16>, %[[B:.*]]: tensor<?x1xf16>)
// CHECK: %[[X:.*]] = kiln.max %[[A]], %[[B]] : (tensor<?x4xf16>, tensor<?x1xf16>) -> tensor<?x4xf16>
// CHECK: %[[N:.*]] = kiln.min %[[B]], %[[A]] : (tensor<?x1xf16>, tensor<?x4xf16>) -> tensor<?x4xf16>
// CHECK: return %[[X]], %[[N]]
func.func @max_min(%a: tensor<?x4xf16>, %b: tensor<?x1xf16>) -> (tensor<?x4xf16>, tensor<?x4xf16>) {
  %0 = kiln.max %a, %b : (tensor<?x4xf16>, tensor<?x1xf16>) -> tensor<?x4xf16>
  %1 = kiln.min %b, %a : (tensor<?x1xf16>, tensor<?x4xf16>) -> tensor<?x4xf16>
  return %0, %1 : tensor<?x4xf16>, tensor<?x4xf16>
}

//===----------------------------------------------------------------------===//
// Comparisons and logic
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @comparisons
// CHECK-SAME: (%[[A:.*]]: tensor<4xi64>, %[[B:.*]]: tensor<i64>)
// CHECK: %[[EQ:.*]] = kiln.equal %[[A]], %[[B]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
// CHECK: %[[LT:.*]] = kiln.less %[[A]], %[[B]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
// CHECK: %[[LE:.*]] = kiln.less_equal %[[A]], %[[B]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
// CHECK: %[[GT:.*]] = kiln.greater %[[A]], %[[B]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
// CHECK: %[[GE:.*]] = kiln.greater_equal %[[A]], %[[B]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
// CHECK: return %[[EQ]], %[[LT]], %[[LE]], %[[GT]], %[[GE]]
func.func @comparisons(%a: tensor<4xi64>, %b: tensor<i64>)
    -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %0 = kiln.equal %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  %1 = kiln.less %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  %2 = kiln.less_equal %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  %3 = kiln.greater %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  %4 = kiln.greater_equal %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  return %0, %1, %2, %3, %4 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @logic
// CHECK-SAME: (%[[A:.*]]: tensor<?x4xi1>, %[[B:.*]]: tensor<4xi1>)
// CHECK: %[[AND:.*]] = kiln.and %[[A]], %[[B]] : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
// CHECK: %[[OR:.*]] = kiln.or %[[A]], %[[B]] : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
// CHECK: %[[XOR:.*]] = kiln.xor %[[A]], %[[B]] : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
// CHECK: %[[NOT:.*]] = kiln.not %[[B]] : tensor<4xi1>
// CHECK: return %[[AND]], %[[OR]], %[[XOR]], %[[NOT]]
func.func @logic(%a: tensor<?x4xi1>, %b: tensor<4xi1>)
    -> (tensor<?x4xi1>, tensor<?x4xi1>, tensor<?x4xi1>, tensor<4xi1>) {
  %0 = kiln.and %a, %b : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
  %1 = kiln.or %a, %b : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
  %2 = kiln.xor %a, %b : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
  %3 = kiln.not %b : tensor<4xi1>
  return %0, %1, %2, %3 : tensor<?x4xi1>, tensor<?x4xi1>, tensor<?x4xi1>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @where
// CHECK-SAME: (%[[C:.*]]: tensor<1x1x8x8xi1>, %[[X:.*]]: tensor<f32>, %[[Y:.*]]: tensor<?x2x8x8xf32>)
// CHECK: %[[R:.*]] = kiln.where %[[C]], %[[X]], %[[Y]] : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32>
// CHECK: return %[[R]]
func.func @where(%c: tensor<1x1x8x8xi1>, %x: tensor<f32>, %y: tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32> {
  %0 = kiln.where %c, %x, %y : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32>
  return %0 : tensor<?x2x8x8xf32>
}

//===----------------------------------------------------------------------===//
// Unary math
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @unary_any
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xi32>)
// CHECK: %[[NEG:.*]] = kiln.neg %[[X]] : tensor<?x4xi32>
// CHECK: %[[ABS:.*]] = kiln.abs %[[NEG]] : tensor<?x4xi32>
// CHECK: %[[SIGN:.*]] = kiln.sign %[[ABS]] : tensor<?x4xi32>
// CHECK: %[[RELU:.*]] = kiln.relu %[[SIGN]] : tensor<?x4xi32>
// CHECK: return %[[RELU]] : tensor<?x4xi32>
func.func @unary_any(%x: tensor<?x4xi32>) -> tensor<?x4xi32> {
  %0 = kiln.neg %x : tensor<?x4xi32>
  %1 = kiln.abs %0 : tensor<?x4xi32>
  %2 = kiln.sign %1 : tensor<?x4xi32>
  %3 = kiln.relu %2 : tensor<?x4xi32>
  return %3 : tensor<?x4xi32>
}

// -----

// CHECK-LABEL: func.func @unary_float
// CHECK-SAME: (%[[X:.*]]: tensor<2x?xf32>)
// CHECK: %[[EXP:.*]] = kiln.exp %[[X]] : tensor<2x?xf32>
// CHECK: %[[LOG:.*]] = kiln.log %[[EXP]] : tensor<2x?xf32>
// CHECK: %[[SQRT:.*]] = kiln.sqrt %[[LOG]] : tensor<2x?xf32>
// CHECK: %[[RCP:.*]] = kiln.reciprocal %[[SQRT]] : tensor<2x?xf32>
// CHECK: %[[ERF:.*]] = kiln.erf %[[RCP]] : tensor<2x?xf32>
// CHECK: %[[TANH:.*]] = kiln.tanh %[[ERF]] : tensor<2x?xf32>
// CHECK: %[[SIG:.*]] = kiln.sigmoid %[[TANH]] : tensor<2x?xf32>
// CHECK: %[[SIN:.*]] = kiln.sin %[[SIG]] : tensor<2x?xf32>
// CHECK: %[[COS:.*]] = kiln.cos %[[SIN]] : tensor<2x?xf32>
// CHECK: %[[FLOOR:.*]] = kiln.floor %[[COS]] : tensor<2x?xf32>
// CHECK: %[[CEIL:.*]] = kiln.ceil %[[FLOOR]] : tensor<2x?xf32>
// CHECK: %[[ROUND:.*]] = kiln.round %[[CEIL]] : tensor<2x?xf32>
// CHECK: return %[[ROUND]] : tensor<2x?xf32>
func.func @unary_float(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  %0 = kiln.exp %x : tensor<2x?xf32>
  %1 = kiln.log %0 : tensor<2x?xf32>
  %2 = kiln.sqrt %1 : tensor<2x?xf32>
  %3 = kiln.reciprocal %2 : tensor<2x?xf32>
  %4 = kiln.erf %3 : tensor<2x?xf32>
  %5 = kiln.tanh %4 : tensor<2x?xf32>
  %6 = kiln.sigmoid %5 : tensor<2x?xf32>
  %7 = kiln.sin %6 : tensor<2x?xf32>
  %8 = kiln.cos %7 : tensor<2x?xf32>
  %9 = kiln.floor %8 : tensor<2x?xf32>
  %10 = kiln.ceil %9 : tensor<2x?xf32>
  %11 = kiln.round %10 : tensor<2x?xf32>
  return %11 : tensor<2x?xf32>
}

// -----

// A 0-D operand is a valid elementwise input.
// CHECK-LABEL: func.func @unary_0d
// CHECK-SAME: (%[[X:.*]]: tensor<bf16>)
// CHECK: %[[R:.*]] = kiln.exp %[[X]] : tensor<bf16>
// CHECK: return %[[R]] : tensor<bf16>
func.func @unary_0d(%x: tensor<bf16>) -> tensor<bf16> {
  %0 = kiln.exp %x : tensor<bf16>
  return %0 : tensor<bf16>
}

// -----

// alpha defaults to 0.01.
// CHECK-LABEL: func.func @leaky_relu
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[A:.*]] = kiln.leaky_relu %[[X]] : tensor<4xf32>
// CHECK: %[[B:.*]] = kiln.leaky_relu %[[A]] {alpha = 2.000000e-01 : f32} : tensor<4xf32>
// CHECK: return %[[B]]
// GENERIC-LABEL: sym_name = "leaky_relu"
// GENERIC: "kiln.leaky_relu"(%{{.*}}) <{alpha = 0.00999999977 : f32}>
// GENERIC: "kiln.leaky_relu"(%{{.*}}) <{alpha = 2.000000e-01 : f32}>
func.func @leaky_relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.leaky_relu %x : tensor<4xf32>
  %1 = kiln.leaky_relu %0 {alpha = 0.2 : f32} : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// approximate defaults to "none".
// CHECK-LABEL: func.func @gelu
// CHECK-SAME: (%[[X:.*]]: tensor<?x3072xf32>)
// CHECK: %[[A:.*]] = kiln.gelu %[[X]] : tensor<?x3072xf32>
// CHECK: %[[B:.*]] = kiln.gelu %[[A]] : tensor<?x3072xf32>
// CHECK: %[[C:.*]] = kiln.gelu %[[B]] {approximate = "tanh"} : tensor<?x3072xf32>
// CHECK: return %[[C]]
// GENERIC-LABEL: sym_name = "gelu"
// GENERIC: "kiln.gelu"(%{{.*}}) <{approximate = "none"}>
// GENERIC: "kiln.gelu"(%{{.*}}) <{approximate = "none"}>
// GENERIC: "kiln.gelu"(%{{.*}}) <{approximate = "tanh"}>
func.func @gelu(%x: tensor<?x3072xf32>) -> tensor<?x3072xf32> {
  %0 = kiln.gelu %x : tensor<?x3072xf32>
  %1 = kiln.gelu %0 {approximate = "none"} : tensor<?x3072xf32>
  %2 = kiln.gelu %1 {approximate = "tanh"} : tensor<?x3072xf32>
  return %2 : tensor<?x3072xf32>
}

// -----

// Either bound of clip is optional.
// CHECK-LABEL: func.func @clip
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[A:.*]] = kiln.clip %[[X]] {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<4xf32>
// CHECK: %[[B:.*]] = kiln.clip %[[A]] {max = 1.000000e+00 : f64} : tensor<4xf32>
// CHECK: %[[C:.*]] = kiln.clip %[[B]] {min = -1.000000e+00 : f64} : tensor<4xf32>
// CHECK: %[[D:.*]] = kiln.clip %[[C]] : tensor<4xf32>
// CHECK: return %[[D]]
func.func @clip(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.clip %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<4xf32>
  %1 = kiln.clip %0 {max = 1.0 : f64} : tensor<4xf32>
  %2 = kiln.clip %1 {min = -1.0 : f64} : tensor<4xf32>
  %3 = kiln.clip %2 : tensor<4xf32>
  return %3 : tensor<4xf32>
}

// -----

// The unary float ops without attributes.
// CHECK-LABEL: func.func @unary_math
// CHECK: %[[A:.*]] = kiln.tan %{{.*}} : tensor<4xf32>
// CHECK: %[[B:.*]] = kiln.asin %[[A]] : tensor<4xf32>
// CHECK: %[[C:.*]] = kiln.acos %[[B]]
// CHECK: %[[D:.*]] = kiln.atan %[[C]]
// CHECK: %[[E:.*]] = kiln.sinh %[[D]]
// CHECK: %[[F:.*]] = kiln.cosh %[[E]]
// CHECK: %[[G:.*]] = kiln.asinh %[[F]]
// CHECK: %[[H:.*]] = kiln.acosh %[[G]]
// CHECK: %[[I:.*]] = kiln.atanh %[[H]]
// CHECK: %[[J:.*]] = kiln.softsign %[[I]]
// CHECK: %[[K:.*]] = kiln.softplus %[[J]]
// CHECK: %[[L:.*]] = kiln.mish %[[K]]
// CHECK: %[[M:.*]] = kiln.hard_swish %[[L]] : tensor<4xf32>
// CHECK: return %[[M]]
func.func @unary_math(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.tan %x : tensor<4xf32>
  %1 = kiln.asin %0 : tensor<4xf32>
  %2 = kiln.acos %1 : tensor<4xf32>
  %3 = kiln.atan %2 : tensor<4xf32>
  %4 = kiln.sinh %3 : tensor<4xf32>
  %5 = kiln.cosh %4 : tensor<4xf32>
  %6 = kiln.asinh %5 : tensor<4xf32>
  %7 = kiln.acosh %6 : tensor<4xf32>
  %8 = kiln.atanh %7 : tensor<4xf32>
  %9 = kiln.softsign %8 : tensor<4xf32>
  %10 = kiln.softplus %9 : tensor<4xf32>
  %11 = kiln.mish %10 : tensor<4xf32>
  %12 = kiln.hard_swish %11 : tensor<4xf32>
  return %12 : tensor<4xf32>
}

// -----

// The activations with float attributes take ONNX's defaults.
// CHECK-LABEL: func.func @activations
// CHECK: %[[A:.*]] = kiln.hard_sigmoid %{{.*}} : tensor<4xf32>
// CHECK: %[[B:.*]] = kiln.hard_sigmoid %[[A]] {alpha = 1.000000e-01 : f32, beta = 2.500000e-01 : f32}
// CHECK: %[[C:.*]] = kiln.elu %[[B]] : tensor<4xf32>
// CHECK: %[[D:.*]] = kiln.elu %[[C]] {alpha = 5.000000e-01 : f32}
// CHECK: %[[E:.*]] = kiln.selu %[[D]] : tensor<4xf32>
// CHECK: %[[F:.*]] = kiln.selu %[[E]] {alpha = 2.000000e+00 : f32, gamma = 3.000000e+00 : f32}
// CHECK: %[[G:.*]] = kiln.thresholded_relu %[[F]] : tensor<4xf32>
// CHECK: %[[H:.*]] = kiln.thresholded_relu %[[G]] {alpha = 2.000000e+00 : f32}
// CHECK: return %[[H]]
// GENERIC-LABEL: sym_name = "activations"
// GENERIC: "kiln.hard_sigmoid"(%{{.*}}) <{alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32}>
// GENERIC: "kiln.elu"(%{{.*}}) <{alpha = 1.000000e+00 : f32}>
// GENERIC: "kiln.selu"(%{{.*}}) <{alpha = 1.67326319 : f32, gamma = 1.05070102 : f32}>
// GENERIC: "kiln.thresholded_relu"(%{{.*}}) <{alpha = 1.000000e+00 : f32}>
func.func @activations(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.hard_sigmoid %x : tensor<4xf32>
  %1 = kiln.hard_sigmoid %0 {alpha = 0.1 : f32, beta = 0.25 : f32} : tensor<4xf32>
  %2 = kiln.elu %1 : tensor<4xf32>
  %3 = kiln.elu %2 {alpha = 0.5 : f32} : tensor<4xf32>
  %4 = kiln.selu %3 : tensor<4xf32>
  %5 = kiln.selu %4 {alpha = 2.0 : f32, gamma = 3.0 : f32} : tensor<4xf32>
  %6 = kiln.thresholded_relu %5 : tensor<4xf32>
  %7 = kiln.thresholded_relu %6 {alpha = 2.0 : f32} : tensor<4xf32>
  return %7 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @float_tests
// CHECK: %[[N:.*]] = kiln.is_nan %[[X:.*]] : (tensor<?x4xf16>) -> tensor<?x4xi1>
// CHECK: %[[I:.*]] = kiln.is_inf %[[X]] : (tensor<?x4xf16>) -> tensor<?x4xi1>
// CHECK: %[[P:.*]] = kiln.is_inf %[[X]] {detect_negative = false} : (tensor<?x4xf16>) -> tensor<?x4xi1>
// CHECK: return %[[N]], %[[I]], %[[P]]
// GENERIC-LABEL: sym_name = "float_tests"
// GENERIC: "kiln.is_inf"(%{{.*}}) <{detect_negative = true, detect_positive = true}>
func.func @float_tests(%x: tensor<?x4xf16>) -> (tensor<?x4xi1>, tensor<?x4xi1>, tensor<?x4xi1>) {
  %0 = kiln.is_nan %x : (tensor<?x4xf16>) -> tensor<?x4xi1>
  %1 = kiln.is_inf %x : (tensor<?x4xf16>) -> tensor<?x4xi1>
  %2 = kiln.is_inf %x {detect_negative = false} : (tensor<?x4xf16>) -> tensor<?x4xi1>
  return %0, %1, %2 : tensor<?x4xi1>, tensor<?x4xi1>, tensor<?x4xi1>
}

// -----

// prelu broadcasts the slope to the input; the bitwise ops take signless
// and unsigned integers.
// CHECK-LABEL: func.func @prelu_bitwise
// CHECK: kiln.prelu %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
// CHECK: %[[A:.*]] = kiln.bitwise_and %[[U:.*]], %[[V:.*]] : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
// CHECK: %[[O:.*]] = kiln.bitwise_or %[[A]], %[[V]]
// CHECK: %[[X:.*]] = kiln.bitwise_xor %[[O]], %[[V]]
// CHECK: %[[N:.*]] = kiln.bitwise_not %[[X]] : tensor<4xui8>
func.func @prelu_bitwise(%x: tensor<2x3x4xf32>, %slope: tensor<3x1xf32>, %u: tensor<4xui8>,
                         %v: tensor<ui8>) -> (tensor<2x3x4xf32>, tensor<4xui8>) {
  %0 = kiln.prelu %x, %slope : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
  %1 = kiln.bitwise_and %u, %v : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  %2 = kiln.bitwise_or %1, %v : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  %3 = kiln.bitwise_xor %2, %v : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  %4 = kiln.bitwise_not %3 : tensor<4xui8>
  return %0, %4 : tensor<2x3x4xf32>, tensor<4xui8>
}

// -----

// CHECK-LABEL: func.func @cast
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xi64>)
// CHECK: %[[F:.*]] = kiln.cast %[[X]] : tensor<?x4xi64> to f32
// CHECK: %[[B:.*]] = kiln.cast %[[F]] : tensor<?x4xf32> to i1
// CHECK: return %[[F]], %[[B]] : tensor<?x4xf32>, tensor<?x4xi1>
// GENERIC-LABEL: sym_name = "cast"
// GENERIC: "kiln.cast"(%{{.*}}) <{to = f32}> : (tensor<?x4xi64>) -> tensor<?x4xf32>
func.func @cast(%x: tensor<?x4xi64>) -> (tensor<?x4xf32>, tensor<?x4xi1>) {
  %0 = kiln.cast %x : tensor<?x4xi64> to f32
  %1 = kiln.cast %0 : tensor<?x4xf32> to i1
  return %0, %1 : tensor<?x4xf32>, tensor<?x4xi1>
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<?x128x768xf32>, %[[B:.*]]: tensor<768x3072xf32>, %[[V:.*]]: tensor<768xf32>)
// CHECK: %[[R:.*]] = kiln.matmul %[[A]], %[[B]] : (tensor<?x128x768xf32>, tensor<768x3072xf32>) -> tensor<?x128x3072xf32>
// CHECK: %[[D:.*]] = kiln.matmul %[[V]], %[[V]] : (tensor<768xf32>, tensor<768xf32>) -> tensor<f32>
// CHECK: return %[[R]], %[[D]]
func.func @matmul(%a: tensor<?x128x768xf32>, %b: tensor<768x3072xf32>, %v: tensor<768xf32>)
    -> (tensor<?x128x3072xf32>, tensor<f32>) {
  %0 = kiln.matmul %a, %b : (tensor<?x128x768xf32>, tensor<768x3072xf32>) -> tensor<?x128x3072xf32>
  %1 = kiln.matmul %v, %v : (tensor<768xf32>, tensor<768xf32>) -> tensor<f32>
  return %0, %1 : tensor<?x128x3072xf32>, tensor<f32>
}

// -----

// Gemm without C; alpha, beta, transA and transB at their defaults are elided.
// CHECK-LABEL: func.func @gemm_no_c
// CHECK-SAME: (%[[A:.*]]: tensor<?x768xf32>, %[[B:.*]]: tensor<768x3072xf32>)
// CHECK: %[[R:.*]] = kiln.gemm %[[A]], %[[B]] : (tensor<?x768xf32>, tensor<768x3072xf32>) -> tensor<?x3072xf32>
// CHECK: %[[S:.*]] = kiln.gemm %[[A]], %[[B]] : (tensor<?x768xf32>, tensor<768x3072xf32>) -> tensor<?x3072xf32>
// CHECK: return %[[R]], %[[S]]
// GENERIC-LABEL: sym_name = "gemm_no_c"
// GENERIC: "kiln.gemm"(%{{[^,]*}}, %{{[^,]*}}) <{alpha = 1.000000e+00 : f32, beta = 1.000000e+00 : f32, transA = false, transB = false}> : (tensor<?x768xf32>, tensor<768x3072xf32>) -> tensor<?x3072xf32>
func.func @gemm_no_c(%a: tensor<?x768xf32>, %b: tensor<768x3072xf32>) -> (tensor<?x3072xf32>, tensor<?x3072xf32>) {
  %0 = kiln.gemm %a, %b : (tensor<?x768xf32>, tensor<768x3072xf32>) -> tensor<?x3072xf32>
  %1 = kiln.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = false}
       : (tensor<?x768xf32>, tensor<768x3072xf32>) -> tensor<?x3072xf32>
  return %0, %1 : tensor<?x3072xf32>, tensor<?x3072xf32>
}

// -----

// Gemm with C and non-default attributes.
// CHECK-LABEL: func.func @gemm_c
// CHECK-SAME: (%[[A:.*]]: tensor<?x768xf32>, %[[B:.*]]: tensor<3072x768xf32>, %[[C:.*]]: tensor<3072xf32>)
// CHECK: %[[R:.*]] = kiln.gemm %[[A]], %[[B]], %[[C]] {alpha = 5.000000e-01 : f32, beta = 2.000000e+00 : f32, transB = true} : (tensor<?x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<?x3072xf32>
// CHECK: return %[[R]]
// GENERIC-LABEL: sym_name = "gemm_c"
// GENERIC: "kiln.gemm"(%{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}) <{alpha = 5.000000e-01 : f32, beta = 2.000000e+00 : f32, transA = false, transB = true}>
func.func @gemm_c(%a: tensor<?x768xf32>, %b: tensor<3072x768xf32>, %c: tensor<3072xf32>) -> tensor<?x3072xf32> {
  %0 = kiln.gemm %a, %b, %c {alpha = 0.5 : f32, beta = 2.0 : f32, transB = true}
       : (tensor<?x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<?x3072xf32>
  return %0 : tensor<?x3072xf32>
}

// -----

// CHECK-LABEL: func.func @gemm_trans_a
// CHECK-SAME: (%[[A:.*]]: tensor<768x?xf32>, %[[B:.*]]: tensor<768x64xf32>, %[[C:.*]]: tensor<f32>)
// CHECK: %[[R:.*]] = kiln.gemm %[[A]], %[[B]], %[[C]] {transA = true} : (tensor<768x?xf32>, tensor<768x64xf32>, tensor<f32>) -> tensor<?x64xf32>
func.func @gemm_trans_a(%a: tensor<768x?xf32>, %b: tensor<768x64xf32>, %c: tensor<f32>) -> tensor<?x64xf32> {
  %0 = kiln.gemm %a, %b, %c {transA = true} : (tensor<768x?xf32>, tensor<768x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// Conv with bias; group = 1 is the default and is elided.
// CHECK-LABEL: func.func @conv_bias
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x224x224xf32>, %[[W:.*]]: tensor<768x3x16x16xf32>, %[[B:.*]]: tensor<768xf32>)
// CHECK: %[[R:.*]] = kiln.conv %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 16, 16>} : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>) -> tensor<?x768x14x14xf32>
// CHECK: return %[[R]]
// GENERIC-LABEL: sym_name = "conv_bias"
// GENERIC: "kiln.conv"(%{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}) <{dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 16, 16>}>
func.func @conv_bias(%x: tensor<?x3x224x224xf32>, %w: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) -> tensor<?x768x14x14xf32> {
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 16, 16>, pads = array<i64: 0, 0, 0, 0>,
         dilations = array<i64: 1, 1>, group = 1 : i64}
       : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>) -> tensor<?x768x14x14xf32>
  return %0 : tensor<?x768x14x14xf32>
}

// -----

// Conv without bias, 1-D, grouped (depthwise).
// CHECK-LABEL: func.func @conv_no_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x?xf32>, %[[W:.*]]: tensor<8x1x3xf32>)
// CHECK: %[[R:.*]] = kiln.conv %[[X]], %[[W]] {dilations = array<i64: 2>, group = 8 : i64, pads = array<i64: 2, 2>, strides = array<i64: 1>} : (tensor<1x8x?xf32>, tensor<8x1x3xf32>) -> tensor<1x8x?xf32>
func.func @conv_no_bias(%x: tensor<1x8x?xf32>, %w: tensor<8x1x3xf32>) -> tensor<1x8x?xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 2, 2>, dilations = array<i64: 2>, group = 8 : i64}
       : (tensor<1x8x?xf32>, tensor<8x1x3xf32>) -> tensor<1x8x?xf32>
  return %0 : tensor<1x8x?xf32>
}

//===----------------------------------------------------------------------===//
// Reductions and normalisations
//===----------------------------------------------------------------------===//

// -----

// keepdims = true is the default and is elided.
// CHECK-LABEL: func.func @reductions
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x4xf32>)
// CHECK: %[[SUM:.*]] = kiln.reduce_sum %[[X]] axes = [1] : (tensor<2x?x4xf32>) -> tensor<2x1x4xf32>
// CHECK: %[[MEAN:.*]] = kiln.reduce_mean %[[X]] axes = [2] : (tensor<2x?x4xf32>) -> tensor<2x?x1xf32>
// CHECK: %[[MAX:.*]] = kiln.reduce_max %[[X]] axes = [0, 2] {keepdims = false} : (tensor<2x?x4xf32>) -> tensor<?xf32>
// CHECK: %[[MIN:.*]] = kiln.reduce_min %[[X]] axes = [0, 1, 2] {keepdims = false} : (tensor<2x?x4xf32>) -> tensor<f32>
// CHECK: %[[PROD:.*]] = kiln.reduce_prod %[[X]] axes = [] : (tensor<2x?x4xf32>) -> tensor<2x?x4xf32>
// CHECK: return %[[SUM]], %[[MEAN]], %[[MAX]], %[[MIN]], %[[PROD]]
// GENERIC-LABEL: sym_name = "reductions"
// GENERIC: "kiln.reduce_sum"(%{{.*}}) <{axes = array<i64: 1>, keepdims = true}>
func.func @reductions(%x: tensor<2x?x4xf32>)
    -> (tensor<2x1x4xf32>, tensor<2x?x1xf32>, tensor<?xf32>, tensor<f32>, tensor<2x?x4xf32>) {
  %0 = kiln.reduce_sum %x axes = [1] : (tensor<2x?x4xf32>) -> tensor<2x1x4xf32>
  %1 = kiln.reduce_mean %x axes = [2] {keepdims = true} : (tensor<2x?x4xf32>) -> tensor<2x?x1xf32>
  %2 = kiln.reduce_max %x axes = [0, 2] {keepdims = false} : (tensor<2x?x4xf32>) -> tensor<?xf32>
  %3 = kiln.reduce_min %x axes = [0, 1, 2] {keepdims = false} : (tensor<2x?x4xf32>) -> tensor<f32>
  %4 = kiln.reduce_prod %x axes = [] : (tensor<2x?x4xf32>) -> tensor<2x?x4xf32>
  return %0, %1, %2, %3, %4 : tensor<2x1x4xf32>, tensor<2x?x1xf32>, tensor<?xf32>, tensor<f32>, tensor<2x?x4xf32>
}

// -----

// CHECK-LABEL: func.func @argmax
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK: %[[A:.*]] = kiln.argmax %[[X]] {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi64>
// CHECK: %[[B:.*]] = kiln.argmax %[[X]] {axis = 0 : i64, keepdims = false, select_last_index = true} : (tensor<2x3xf32>) -> tensor<3xi64>
// CHECK: return %[[A]], %[[B]]
// GENERIC-LABEL: sym_name = "argmax"
// GENERIC: "kiln.argmax"(%{{.*}}) <{axis = 1 : i64, keepdims = true, select_last_index = false}>
func.func @argmax(%x: tensor<2x3xf32>) -> (tensor<2x1xi64>, tensor<3xi64>) {
  %0 = kiln.argmax %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi64>
  %1 = kiln.argmax %x {axis = 0 : i64, keepdims = false, select_last_index = true} : (tensor<2x3xf32>) -> tensor<3xi64>
  return %0, %1 : tensor<2x1xi64>, tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @argmin_hardmax_cumsum
// CHECK: kiln.argmin %[[X:.*]] {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi64>
// CHECK: kiln.argmin %[[X]] {axis = 0 : i64, keepdims = false, select_last_index = true} : (tensor<2x3xf32>) -> tensor<3xi64>
// CHECK: kiln.hardmax %[[X]] {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: kiln.cumsum %[[X]] {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: kiln.cumsum %[[X]] {axis = 0 : i64, exclusive = true, reverse = true} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC-LABEL: sym_name = "argmin_hardmax_cumsum"
// GENERIC: "kiln.argmin"(%{{.*}}) <{axis = 1 : i64, keepdims = true, select_last_index = false}>
// GENERIC: "kiln.cumsum"(%{{.*}}) <{axis = 1 : i64, exclusive = false, reverse = false}>
func.func @argmin_hardmax_cumsum(%x: tensor<2x3xf32>)
    -> (tensor<2x1xi64>, tensor<3xi64>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = kiln.argmin %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi64>
  %1 = kiln.argmin %x {axis = 0 : i64, keepdims = false, select_last_index = true} : (tensor<2x3xf32>) -> tensor<3xi64>
  %2 = kiln.hardmax %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = kiln.cumsum %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = kiln.cumsum %x {axis = 0 : i64, exclusive = true, reverse = true} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<2x1xi64>, tensor<3xi64>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// epsilon defaults to 1e-5.
// CHECK-LABEL: func.func @rms_norm
// CHECK: kiln.rms_norm %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
// CHECK: kiln.rms_norm %{{.*}}, %{{.*}} {axis = 1 : i64, epsilon = 9.99999997E-7 : f32}
// GENERIC-LABEL: sym_name = "rms_norm"
// GENERIC: "kiln.rms_norm"(%{{.*}}, %{{.*}}) <{axis = 2 : i64, epsilon = 9.99999974E-6 : f32}>
func.func @rms_norm(%x: tensor<?x?x8xf32>, %g: tensor<8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  %0 = kiln.rms_norm %x, %g {axis = 2 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %1 = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %0, %1 : tensor<?x?x8xf32>, tensor<?x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<?x12x?x?xf32>)
// CHECK: %[[A:.*]] = kiln.softmax %[[X]] {axis = 3 : i64} : (tensor<?x12x?x?xf32>) -> tensor<?x12x?x?xf32>
// CHECK: %[[B:.*]] = kiln.softmax %[[A]] {axis = 1 : i64, log = true} : (tensor<?x12x?x?xf32>) -> tensor<?x12x?x?xf32>
// CHECK: return %[[B]]
func.func @softmax(%x: tensor<?x12x?x?xf32>) -> tensor<?x12x?x?xf32> {
  %0 = kiln.softmax %x {axis = 3 : i64} : (tensor<?x12x?x?xf32>) -> tensor<?x12x?x?xf32>
  %1 = kiln.softmax %0 {axis = 1 : i64, log = true} : (tensor<?x12x?x?xf32>) -> tensor<?x12x?x?xf32>
  return %1 : tensor<?x12x?x?xf32>
}

// -----

// layer_norm with a bias; epsilon printed because it is not the default.
// CHECK-LABEL: func.func @layer_norm_bias
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x768xf32>, %[[G:.*]]: tensor<768xf32>, %[[B:.*]]: tensor<768xf32>)
// CHECK: %[[R:.*]] = kiln.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<?x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
// CHECK: return %[[R]]
func.func @layer_norm_bias(%x: tensor<?x?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) -> tensor<?x?x768xf32> {
  %0 = kiln.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-12 : f32}
       : (tensor<?x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  return %0 : tensor<?x?x768xf32>
}

// -----

// layer_norm without a bias, over the last two dims; epsilon defaults to 1e-5.
// CHECK-LABEL: func.func @layer_norm_no_bias
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x16xf32>, %[[G:.*]]: tensor<8x16xf32>)
// CHECK: %[[R:.*]] = kiln.layer_norm %[[X]], %[[G]] {axis = 1 : i64} : (tensor<2x8x16xf32>, tensor<8x16xf32>) -> tensor<2x8x16xf32>
// CHECK: return %[[R]]
// GENERIC-LABEL: sym_name = "layer_norm_no_bias"
// GENERIC: "kiln.layer_norm"(%{{[^,]*}}, %{{[^,]*}}) <{axis = 1 : i64, epsilon = 9.99999974E-6 : f32}>
func.func @layer_norm_no_bias(%x: tensor<2x8x16xf32>, %g: tensor<8x16xf32>) -> tensor<2x8x16xf32> {
  %0 = kiln.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x8x16xf32>, tensor<8x16xf32>) -> tensor<2x8x16xf32>
  return %0 : tensor<2x8x16xf32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[T:.*]]: tensor<30522x768xf32>, %[[I:.*]]: tensor<?x?xi64>, %[[J:.*]]: tensor<i32>)
// CHECK: %[[A:.*]] = kiln.gather %[[T]], %[[I]] {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<?x?xi64>) -> tensor<?x?x768xf32>
// CHECK: %[[B:.*]] = kiln.gather %[[T]], %[[J]] {axis = 1 : i64} : (tensor<30522x768xf32>, tensor<i32>) -> tensor<30522xf32>
// CHECK: return %[[A]], %[[B]]
func.func @gather(%t: tensor<30522x768xf32>, %i: tensor<?x?xi64>, %j: tensor<i32>) -> (tensor<?x?x768xf32>, tensor<30522xf32>) {
  %0 = kiln.gather %t, %i {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<?x?xi64>) -> tensor<?x?x768xf32>
  %1 = kiln.gather %t, %j {axis = 1 : i64} : (tensor<30522x768xf32>, tensor<i32>) -> tensor<30522xf32>
  return %0, %1 : tensor<?x?x768xf32>, tensor<30522xf32>
}

// -----

// batch_dims = 0 is the default and is elided.
// CHECK-LABEL: func.func @gather_nd
// CHECK-SAME: (%[[D:.*]]: tensor<?x?xi1>, %[[I:.*]]: tensor<?x1x1x?x2xi64>, %[[E:.*]]: tensor<2x3x4xf32>, %[[J:.*]]: tensor<2x1xi32>)
// CHECK: %[[A:.*]] = kiln.gather_nd %[[D]], %[[I]] : (tensor<?x?xi1>, tensor<?x1x1x?x2xi64>) -> tensor<?x1x1x?xi1>
// CHECK: %[[B:.*]] = kiln.gather_nd %[[E]], %[[J]] {batch_dims = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x1xi32>) -> tensor<2x4xf32>
// CHECK: return %[[A]], %[[B]]
// GENERIC-LABEL: sym_name = "gather_nd"
// GENERIC: "kiln.gather_nd"(%{{[^,]*}}, %{{[^,]*}}) <{batch_dims = 0 : i64}>
func.func @gather_nd(%d: tensor<?x?xi1>, %i: tensor<?x1x1x?x2xi64>, %e: tensor<2x3x4xf32>, %j: tensor<2x1xi32>)
    -> (tensor<?x1x1x?xi1>, tensor<2x4xf32>) {
  %0 = kiln.gather_nd %d, %i {batch_dims = 0 : i64} : (tensor<?x?xi1>, tensor<?x1x1x?x2xi64>) -> tensor<?x1x1x?xi1>
  %1 = kiln.gather_nd %e, %j {batch_dims = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x1xi32>) -> tensor<2x4xf32>
  return %0, %1 : tensor<?x1x1x?xi1>, tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x768xf32>, %[[S:.*]]: tensor<4xi64>)
// CHECK: %[[A:.*]] = kiln.reshape %[[X]], %[[S]] : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x12x64xf32>
// CHECK: %[[B:.*]] = kiln.reshape %[[X]], %[[S]] {allowzero = true} : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
// CHECK: return %[[A]], %[[B]]
func.func @reshape(%x: tensor<?x?x768xf32>, %s: tensor<4xi64>) -> (tensor<?x?x12x64xf32>, tensor<?x?x?x?xf32>) {
  %0 = kiln.reshape %x, %s : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x12x64xf32>
  %1 = kiln.reshape %x, %s {allowzero = true} : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %0, %1 : tensor<?x?x12x64xf32>, tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x12x64xf32>)
// CHECK: %[[R:.*]] = kiln.transpose %[[X]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x12x64xf32>) -> tensor<1x12x?x64xf32>
// CHECK: return %[[R]]
func.func @transpose(%x: tensor<1x?x12x64xf32>) -> tensor<1x12x?x64xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x12x64xf32>) -> tensor<1x12x?x64xf32>
  return %0 : tensor<1x12x?x64xf32>
}

// -----

// CHECK-LABEL: func.func @slice
// CHECK-SAME: (%[[X:.*]]: tensor<1x512xi64>, %[[S:.*]]: tensor<1xi64>, %[[E:.*]]: tensor<1xi64>, %[[A:.*]]: tensor<1xi64>, %[[T:.*]]: tensor<1xi64>)
// CHECK: %[[R:.*]] = kiln.slice %[[X]], %[[S]], %[[E]], %[[A]], %[[T]] : (tensor<1x512xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xi64>
// CHECK: return %[[R]]
func.func @slice(%x: tensor<1x512xi64>, %s: tensor<1xi64>, %e: tensor<1xi64>, %a: tensor<1xi64>, %t: tensor<1xi64>) -> tensor<?x?xi64> {
  %0 = kiln.slice %x, %s, %e, %a, %t
       : (tensor<1x512xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xi64>
  return %0 : tensor<?x?xi64>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<2xi64>, %[[B:.*]]: tensor<?xi64>, %[[X:.*]]: tensor<?x4xf32>)
// CHECK: %[[R:.*]] = kiln.concat %[[A]], %[[B]], %[[A]] {axis = 0 : i64} : (tensor<2xi64>, tensor<?xi64>, tensor<2xi64>) -> tensor<?xi64>
// CHECK: %[[S:.*]] = kiln.concat %[[X]] {axis = 1 : i64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
// CHECK: return %[[R]], %[[S]]
func.func @concat(%a: tensor<2xi64>, %b: tensor<?xi64>, %x: tensor<?x4xf32>) -> (tensor<?xi64>, tensor<?x4xf32>) {
  %0 = kiln.concat %a, %b, %a {axis = 0 : i64} : (tensor<2xi64>, tensor<?xi64>, tensor<2xi64>) -> tensor<?xi64>
  %1 = kiln.concat %x {axis = 1 : i64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %0, %1 : tensor<?xi64>, tensor<?x4xf32>
}

// -----

// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x2304xf32>)
// CHECK: %[[R:.*]]:3 = kiln.split %[[X]] {axis = 2 : i64, sizes = array<i64: 768, 768, 768>} : (tensor<?x8x2304xf32>) -> (tensor<?x8x768xf32>, tensor<?x8x768xf32>, tensor<?x8x768xf32>)
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @split(%x: tensor<?x8x2304xf32>) -> (tensor<?x8x768xf32>, tensor<?x8x768xf32>, tensor<?x8x768xf32>) {
  %0:3 = kiln.split %x {axis = 2 : i64, sizes = array<i64: 768, 768, 768>}
         : (tensor<?x8x2304xf32>) -> (tensor<?x8x768xf32>, tensor<?x8x768xf32>, tensor<?x8x768xf32>)
  return %0#0, %0#1, %0#2 : tensor<?x8x768xf32>, tensor<?x8x768xf32>, tensor<?x8x768xf32>
}

// -----

// Uneven pieces along a dynamic dim, and a single piece.
// CHECK-LABEL: func.func @split_uneven
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xi64>)
// CHECK: %[[R:.*]]:2 = kiln.split %[[X]] {axis = 0 : i64, sizes = array<i64: 1, 5>} : (tensor<?x4xi64>) -> (tensor<1x4xi64>, tensor<5x4xi64>)
// CHECK: %[[S:.*]] = kiln.split %[[X]] {axis = 1 : i64, sizes = array<i64: 4>} : (tensor<?x4xi64>) -> tensor<?x4xi64>
// CHECK: return %[[R]]#0, %[[R]]#1, %[[S]]
func.func @split_uneven(%x: tensor<?x4xi64>) -> (tensor<1x4xi64>, tensor<5x4xi64>, tensor<?x4xi64>) {
  %0:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 1, 5>} : (tensor<?x4xi64>) -> (tensor<1x4xi64>, tensor<5x4xi64>)
  %1 = kiln.split %x {axis = 1 : i64, sizes = array<i64: 4>} : (tensor<?x4xi64>) -> tensor<?x4xi64>
  return %0#0, %0#1, %1 : tensor<1x4xi64>, tensor<5x4xi64>, tensor<?x4xi64>
}

// -----

// CHECK-LABEL: func.func @expand
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x8xf32>, %[[S:.*]]: tensor<3xi64>)
// CHECK: %[[R:.*]] = kiln.expand %[[X]], %[[S]] : (tensor<1x1x8xf32>, tensor<3xi64>) -> tensor<?x?x8xf32>
// CHECK: return %[[R]]
func.func @expand(%x: tensor<1x1x8xf32>, %s: tensor<3xi64>) -> tensor<?x?x8xf32> {
  %0 = kiln.expand %x, %s : (tensor<1x1x8xf32>, tensor<3xi64>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @tile
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[R:.*]]: tensor<2xi64>)
// CHECK: %[[T:.*]] = kiln.tile %[[X]], %[[R]] : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK: return %[[T]]
func.func @tile(%x: tensor<2x3xf32>, %r: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = kiln.tile %x, %r : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @unsqueeze_squeeze
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xi64>, %[[S:.*]]: tensor<i64>)
// CHECK: %[[U:.*]] = kiln.unsqueeze %[[X]] {axes = array<i64: 1, 2>} : (tensor<?x8xi64>) -> tensor<?x1x1x8xi64>
// CHECK: %[[Q:.*]] = kiln.squeeze %[[U]] {axes = array<i64: 1, 2>} : (tensor<?x1x1x8xi64>) -> tensor<?x8xi64>
// CHECK: %[[V:.*]] = kiln.unsqueeze %[[S]] {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
// CHECK: %[[W:.*]] = kiln.squeeze %[[V]] {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
// CHECK: return %[[Q]], %[[W]]
func.func @unsqueeze_squeeze(%x: tensor<?x8xi64>, %s: tensor<i64>) -> (tensor<?x8xi64>, tensor<i64>) {
  %0 = kiln.unsqueeze %x {axes = array<i64: 1, 2>} : (tensor<?x8xi64>) -> tensor<?x1x1x8xi64>
  %1 = kiln.squeeze %0 {axes = array<i64: 1, 2>} : (tensor<?x1x1x8xi64>) -> tensor<?x8xi64>
  %2 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %3 = kiln.squeeze %2 {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  return %1, %3 : tensor<?x8xi64>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @gather_elements
// CHECK: kiln.gather_elements %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
func.func @gather_elements(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>) -> tensor<3x2xf32> {
  %0 = kiln.gather_elements %d, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// upper = true is the default and is elided.
// CHECK-LABEL: func.func @trilu
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x8xf32>, %[[K:.*]]: tensor<i64>)
// CHECK: %[[U:.*]] = kiln.trilu %[[X]], %[[K]] : (tensor<?x8x8xf32>, tensor<i64>) -> tensor<?x8x8xf32>
// CHECK: %[[L:.*]] = kiln.trilu %[[U]], %[[K]] {upper = false} : (tensor<?x8x8xf32>, tensor<i64>) -> tensor<?x8x8xf32>
// CHECK: return %[[L]]
// GENERIC-LABEL: sym_name = "trilu"
// GENERIC: "kiln.trilu"(%{{[^,]*}}, %{{[^,]*}}) <{upper = true}>
// GENERIC: "kiln.trilu"(%{{[^,]*}}, %{{[^,]*}}) <{upper = false}>
func.func @trilu(%x: tensor<?x8x8xf32>, %k: tensor<i64>) -> tensor<?x8x8xf32> {
  %0 = kiln.trilu %x, %k {upper = true} : (tensor<?x8x8xf32>, tensor<i64>) -> tensor<?x8x8xf32>
  %1 = kiln.trilu %0, %k {upper = false} : (tensor<?x8x8xf32>, tensor<i64>) -> tensor<?x8x8xf32>
  return %1 : tensor<?x8x8xf32>
}

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @shape_size
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x768xf32>)
// CHECK: %[[S:.*]] = kiln.shape %[[X]] {end = 2 : i64, start = 0 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
// CHECK: %[[E:.*]] = kiln.shape %[[X]] {end = 1 : i64, start = 1 : i64} : (tensor<?x8x768xf32>) -> tensor<0xi64>
// CHECK: %[[N:.*]] = kiln.size %[[X]] : (tensor<?x8x768xf32>) -> tensor<i64>
// CHECK: return %[[S]], %[[E]], %[[N]]
func.func @shape_size(%x: tensor<?x8x768xf32>) -> (tensor<2xi64>, tensor<0xi64>, tensor<i64>) {
  %0 = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
  %1 = kiln.shape %x {start = 1 : i64, end = 1 : i64} : (tensor<?x8x768xf32>) -> tensor<0xi64>
  %2 = kiln.size %x : (tensor<?x8x768xf32>) -> tensor<i64>
  return %0, %1, %2 : tensor<2xi64>, tensor<0xi64>, tensor<i64>
}

// -----

// A result type may be more precise than the inferred one (a pass refined a
// `?`): it must round-trip unchanged.
// CHECK-LABEL: func.func @refined_result
// CHECK-SAME: (%[[X:.*]]: tensor<?x768xf32>, %[[S:.*]]: tensor<2xi64>)
// CHECK: %[[R:.*]] = kiln.reshape %[[X]], %[[S]] : (tensor<?x768xf32>, tensor<2xi64>) -> tensor<4x192xf32>
func.func @refined_result(%x: tensor<?x768xf32>, %s: tensor<2xi64>) -> tensor<4x192xf32> {
  %0 = kiln.reshape %x, %s : (tensor<?x768xf32>, tensor<2xi64>) -> tensor<4x192xf32>
  return %0 : tensor<4x192xf32>
}
