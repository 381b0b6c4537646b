// RUN: kiln-opt %s --kiln-lower-to-linalg | FileCheck %s

// bit_shift: logical shifts of the signless bits; a shift by the bit width
// or more gives 0.
// CHECK-LABEL: func.func @bit_shift
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i8
// CHECK-DAG: %[[W:.*]] = arith.constant 8 : i8
// CHECK: %[[S:.*]] = arith.shrui %[[A:.*]], %[[B:.*]] : i8
// CHECK: %[[FAR:.*]] = arith.cmpi uge, %[[B]], %[[W]] : i8
// CHECK: arith.select %[[FAR]], %[[ZERO]], %[[S]] : i8
// CHECK: arith.shli
func.func @bit_shift(%a: tensor<4xui8>, %b: tensor<ui8>) -> (tensor<4xui8>, tensor<4xui8>) {
  %0 = kiln.bit_shift %a, %b {left = false} : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  %1 = kiln.bit_shift %a, %b {left = true} : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  return %0, %1 : tensor<4xui8>, tensor<4xui8>
}
