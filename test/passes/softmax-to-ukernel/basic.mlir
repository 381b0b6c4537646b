// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-softmax-to-ukernel))' -split-input-file -mlir-print-debuginfo | FileCheck %s

// Attention: softmax(scores * 0.125 + mask) over the last axis is one
// kiln.softmax_rows reading the unscaled scores, the mask its addend; the
// mul and add are gone, and the op is named after the softmax first.
// CHECK-LABEL: func.func @attention
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x12x128x128xf32>
// CHECK: %[[P:.*]] = kiln.softmax_rows %arg0 addend(%arg1 : tensor<1x1x1x128xf32>) into %[[INIT]] {scale = 1.250000e-01 : f32}
// CHECK-SAME: loc(#[[LOC:loc[0-9]+]])
// CHECK-NOT: kiln.mul
// CHECK-NOT: kiln.add
// CHECK-NOT: kiln.softmax
// CHECK: return %[[P]]
// CHECK-DAG: #[[ADD:loc[0-9]+]] = loc("add")
// CHECK-DAG: #[[SOFTMAX:loc[0-9]+]] = loc("softmax")
// CHECK-DAG: #[[MUL:loc[0-9]+]] = loc("mul")
// CHECK: #[[LOC]] = loc(fused[#[[SOFTMAX]], #[[ADD]], #[[MUL]]])
func.func @attention(%s: tensor<1x12x128x128xf32>, %m: tensor<1x1x1x128xf32>) -> tensor<1x12x128x128xf32> {
  %c = kiln.constant dense<1.250000e-01> : tensor<f32>
  %x = kiln.mul %s, %c : (tensor<1x12x128x128xf32>, tensor<f32>) -> tensor<1x12x128x128xf32> loc("mul")
  %t = kiln.add %x, %m : (tensor<1x12x128x128xf32>, tensor<1x1x1x128xf32>) -> tensor<1x12x128x128xf32> loc("add")
  %p = kiln.softmax %t {axis = 3 : i64} : (tensor<1x12x128x128xf32>) -> tensor<1x12x128x128xf32> loc("softmax")
  return %p : tensor<1x12x128x128xf32>
}

// -----

// The mask first, the scale on the left; a division by a power of two is
// the scale 1/c. A plain softmax has scale 1 and no addend.
// CHECK-LABEL: func.func @mask_first_and_division
// CHECK: kiln.softmax_rows %arg0 addend(%arg1 : tensor<4x8xf32>) into %{{.*}} {scale = 2.500000e-01 : f32}
// CHECK-NOT: kiln.div
// CHECK-LABEL: func.func @plain
// CHECK: kiln.softmax_rows %arg0 into %{{.*}} : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
func.func @mask_first_and_division(%s: tensor<4x8xf32>, %m: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = kiln.constant dense<4.0> : tensor<1xf32>
  %x = kiln.div %s, %c : (tensor<4x8xf32>, tensor<1xf32>) -> tensor<4x8xf32>
  %t = kiln.add %m, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %p = kiln.softmax %t {axis = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}
func.func @plain(%s: tensor<8xf32>) -> tensor<8xf32> {
  %p = kiln.softmax %s {axis = 0 : i64} : (tensor<8xf32>) -> tensor<8xf32>
  return %p : tensor<8xf32>
}

// -----

// A division by 3 (1/3 is not exact) stays a division; the scores' other
// user keeps the add; a mul by a non-constant is not a scale.
// CHECK-LABEL: func.func @not_folded
// CHECK: %[[X:.*]] = kiln.div
// CHECK: kiln.softmax_rows %[[X]] into
// CHECK: %[[T:.*]] = kiln.add
// CHECK: kiln.softmax_rows %[[T]] into
// CHECK: %[[Y:.*]] = kiln.mul %arg0, %arg1
// CHECK: kiln.softmax_rows %[[Y]] into
func.func @not_folded(%s: tensor<4x8xf32>, %v: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %c = kiln.constant dense<3.0> : tensor<f32>
  %x = kiln.div %s, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %p = kiln.softmax %x {axis = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %t = kiln.add %s, %v : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %q = kiln.softmax %t {axis = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = kiln.mul %s, %v : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = kiln.softmax %y {axis = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %p, %q, %r, %t : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Left to the linalg lowering: another axis, log-softmax, f64, rank 5.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: kiln.softmax_rows
// CHECK-COUNT-4: kiln.softmax
func.func @kept(%a: tensor<4x8xf32>, %b: tensor<4x8xf64>, %c: tensor<1x2x3x4x5xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf64>, tensor<1x2x3x4x5xf32>) {
  %p = kiln.softmax %a {axis = 0 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %q = kiln.softmax %a {axis = 1 : i64, log = true} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = kiln.softmax %b {axis = 1 : i64} : (tensor<4x8xf64>) -> tensor<4x8xf64>
  %s = kiln.softmax %c {axis = 4 : i64} : (tensor<1x2x3x4x5xf32>) -> tensor<1x2x3x4x5xf32>
  return %p, %q, %r, %s : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf64>, tensor<1x2x3x4x5xf32>
}

// -----

// A mask dim only known at run time (`?` where the scores have 7) goes
// through the Add's run-time broadcast: copied out only if it is 1 then.
// CHECK-LABEL: func.func @dynamic_mask
// CHECK: %[[B:.*]] = scf.if
// CHECK: kiln.softmax_rows %arg0 addend(%[[B]] : tensor<?x7xf32>)
func.func @dynamic_mask(%s: tensor<5x7xf32>, %m: tensor<?x7xf32>) -> tensor<5x7xf32> {
  %t = kiln.add %s, %m : (tensor<5x7xf32>, tensor<?x7xf32>) -> tensor<5x7xf32>
  %p = kiln.softmax %t {axis = 1 : i64} : (tensor<5x7xf32>) -> tensor<5x7xf32>
  return %p : tensor<5x7xf32>
}

// -----

// An addend of zeros by construction goes: ViT's dynamo export adds
// where(expand(true), 0, -inf) at the scores' batch, its all-true mask.
// The mask's shape is still checked against the scores' as the Add's
// would be, its dims all that is read of it: once lowered, nothing
// computes it. A Where whose constant condition chooses the other operand
// (-inf) is an addend like any.
// CHECK-LABEL: func.func @zero_mask
// CHECK: %[[M:.*]] = kiln.where
// CHECK: tensor.dim %[[M]]
// CHECK: kiln.runtime_check {{.*}} "a Add: a dim of an input is 1 at run time
// CHECK: kiln.runtime_check {{.*}} "a Add: the inputs' shapes cannot be broadcast together
// CHECK: kiln.softmax_rows %arg0 into %{{.*}} : tensor<?x2x17x17xf32>
// CHECK-LABEL: func.func @minus_infinity_mask
// CHECK: %[[M:.*]] = kiln.where
// CHECK: kiln.softmax_rows %arg0 addend(%{{.*}} : tensor<?x1x17x17xf32>)
func.func @zero_mask(%s: tensor<?x2x17x17xf32>, %shape: tensor<4xi64>,
                     %ctx: index {kiln.runtime_context}) -> tensor<?x2x17x17xf32> {
  %true = kiln.constant dense<true> : tensor<1x1x17x1xi1>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %min = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %c = kiln.expand %true, %shape : (tensor<1x1x17x1xi1>, tensor<4xi64>) -> tensor<?x1x17x17xi1>
  %m = kiln.where %c, %zero, %min : (tensor<?x1x17x17xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x17x17xf32>
  %t = kiln.add %s, %m : (tensor<?x2x17x17xf32>, tensor<?x1x17x17xf32>) -> tensor<?x2x17x17xf32>
  %p = kiln.softmax %t {axis = 3 : i64} : (tensor<?x2x17x17xf32>) -> tensor<?x2x17x17xf32>
  return %p : tensor<?x2x17x17xf32>
}
func.func @minus_infinity_mask(%s: tensor<?x2x17x17xf32>, %shape: tensor<4xi64>,
                               %ctx: index {kiln.runtime_context}) -> tensor<?x2x17x17xf32> {
  %false = kiln.constant dense<false> : tensor<1x1x17x1xi1>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %min = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %c = kiln.expand %false, %shape : (tensor<1x1x17x1xi1>, tensor<4xi64>) -> tensor<?x1x17x17xi1>
  %m = kiln.where %c, %zero, %min : (tensor<?x1x17x17xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x17x17xf32>
  %t = kiln.add %s, %m : (tensor<?x2x17x17xf32>, tensor<?x1x17x17xf32>) -> tensor<?x2x17x17xf32>
  %p = kiln.softmax %t {axis = 3 : i64} : (tensor<?x2x17x17xf32>) -> tensor<?x2x17x17xf32>
  return %p : tensor<?x2x17x17xf32>
}
