// RUN: kiln-opt %s --kiln-lower-to-linalg | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-to-linalg --kiln-fuse-elementwise | FileCheck %s --check-prefix=FUSED

// A constant unsigned zero point (ORT's quantized embeddings) is read as
// signless bits and converted as unsigned: upstream's elementwise fusion
// folds a splat operand into the body as an arith.constant, which must be
// signless (a ui8 one made the compile fail).
// CHECK-LABEL: func.func @dequantize_constant_zero_point
// CHECK: %[[Z:.*]] = arith.constant dense<-83> : tensor<i8>
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1, %[[Z]] : tensor<2x4xui8>, tensor<f32>, tensor<i8>)
// CHECK: ^bb0(%{{.*}}: ui8, %{{.*}}: f32, %[[ZB:.*]]: i8, %{{.*}}: f32):
// CHECK: arith.uitofp %[[ZB]] : i8 to f32
// FUSED-LABEL: func.func @dequantize_constant_zero_point
// FUSED: %[[ZF:.*]] = arith.constant 1.730000e+02 : f32
// FUSED: arith.uitofp
// FUSED: arith.subf %{{.*}}, %[[ZF]] : f32
func.func @dequantize_constant_zero_point(%q: tensor<2x4xui8>, %s: tensor<f32>) -> tensor<2x4xf32> {
  %z = kiln.constant dense<173> : tensor<ui8>
  %0 = kiln.dequantize_linear %q, %s, %z : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// The same for a constant unsigned input (onnxruntime's QDQ models
// dequantize uint8 scalars): read as signless bits, converted as unsigned;
// fused, it folds to the float 255 (unsigned, not -1).
// CHECK-LABEL: func.func @dequantize_constant_input
// CHECK: %[[Q:.*]] = arith.constant dense<-1> : tensor<i8>
// CHECK: linalg.generic {{.*}} ins(%[[Q]], %arg0 : tensor<i8>, tensor<f32>)
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// FUSED-LABEL: func.func @dequantize_constant_input
// FUSED-NOT: ui8
// FUSED: arith.constant 2.550000e+02 : f32
func.func @dequantize_constant_input(%s: tensor<f32>) -> tensor<f32> {
  %q = kiln.constant dense<255> : tensor<ui8>
  %0 = kiln.dequantize_linear %q, %s : (tensor<ui8>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
