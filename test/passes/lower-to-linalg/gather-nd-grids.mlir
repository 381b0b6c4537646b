// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-add-runtime-context,func.func(kiln-lower-to-linalg,canonicalize,cse,canonicalize))' -split-input-file | FileCheck %s

// mask[arange(b), arange(s)] as the dynamo exports build it: the generic
// reads the mask at its loop indices 0 and 3 (start 0 + delta 1 times
// them); the grids are never built (no Range generic, no concat). Each
// grid is arange of the very mask dim it indexes, so every index is in
// range by construction: no check and no clamp (an Expand may still have
// broadcast a Range of one element: index 0 there).
// CHECK-LABEL: func.func @main
// CHECK-NOT: tensor<?xi64>
// CHECK-NOT: tensor.insert_slice
// CHECK-NOT: iterator_types = ["reduction"]
// CHECK-NOT: kiln.runtime_check
// CHECK: %[[G:.*]] = linalg.generic
// CHECK-NOT: tensor.extract %{{.*}} : tensor<?x1x1x?x2xi64>
// CHECK: %[[I0:.*]] = linalg.index 0
// CHECK: %[[I3:.*]] = linalg.index 3
// CHECK: %[[R:.*]] = arith.select %{{.*}}, %c0, %[[I0]] : index
// CHECK: %[[C:.*]] = arith.select %{{.*}}, %c0, %[[I3]] : index
// CHECK-NEXT: tensor.extract %arg0[%[[R]], %[[C]]]
// CHECK: return %[[G]]
func.func @main(%mask: tensor<?x?xi1>) -> tensor<?x1x1x?xi1> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %shape = kiln.shape %mask {start = 0 : i64, end = 2 : i64} : (tensor<?x?xi1>) -> tensor<2xi64>
  %b = kiln.gather %shape, %zero {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %s = kiln.gather %shape, %one {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %rb = kiln.range %zero, %b, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rs = kiln.range %zero, %s, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %ub = kiln.unsqueeze %rb {axes = array<i64: 1, 2, 3>} : (tensor<?xi64>) -> tensor<?x1x1x1xi64>
  %us = kiln.unsqueeze %rs {axes = array<i64: 0, 1, 2>} : (tensor<?xi64>) -> tensor<1x1x1x?xi64>
  %m = kiln.max %ub, %us : (tensor<?x1x1x1xi64>, tensor<1x1x1x?xi64>) -> tensor<?x1x1x?xi64>
  %t = kiln.shape %m {start = 0 : i64, end = 4 : i64} : (tensor<?x1x1x?xi64>) -> tensor<4xi64>
  %eb = kiln.expand %ub, %t : (tensor<?x1x1x1xi64>, tensor<4xi64>) -> tensor<?x1x1x?xi64>
  %es = kiln.expand %us, %t : (tensor<1x1x1x?xi64>, tensor<4xi64>) -> tensor<?x1x1x?xi64>
  %ib = kiln.unsqueeze %eb {axes = array<i64: 4>} : (tensor<?x1x1x?xi64>) -> tensor<?x1x1x?x1xi64>
  %is = kiln.unsqueeze %es {axes = array<i64: 4>} : (tensor<?x1x1x?xi64>) -> tensor<?x1x1x?x1xi64>
  %idx = kiln.concat %ib, %is {axis = 4 : i64} : (tensor<?x1x1x?x1xi64>, tensor<?x1x1x?x1xi64>) -> tensor<?x1x1x?x2xi64>
  %g = kiln.gather_nd %mask, %idx : (tensor<?x?xi1>, tensor<?x1x1x?x2xi64>) -> tensor<?x1x1x?xi1>
  return %g : tensor<?x1x1x?xi1>
}

// -----

// Indices that are no grid (an input, or a grid concatenated with one)
// are read from memory and scanned for the check, as before.
// CHECK-LABEL: func.func @main
// CHECK: iterator_types = ["reduction"
// CHECK: tensor.extract %{{.*}} : tensor<3x2xi64>
func.func @main(%data: tensor<4x5xf32>, %col: tensor<3x1xi64>) -> tensor<3xf32> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %three = kiln.constant dense<3> : tensor<i64>
  %r = kiln.range %zero, %three, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<3xi64>
  %u = kiln.unsqueeze %r {axes = array<i64: 1>} : (tensor<3xi64>) -> tensor<3x1xi64>
  %idx = kiln.concat %u, %col {axis = 1 : i64} : (tensor<3x1xi64>, tensor<3x1xi64>) -> tensor<3x2xi64>
  %g = kiln.gather_nd %data, %idx : (tensor<4x5xf32>, tensor<3x2xi64>) -> tensor<3xf32>
  return %g : tensor<3xf32>
}

// -----

// Rows arange(n) of a table, n another tensor's length: no index is built
// and none is clamped; the host checks n against the table's rows (dims
// only, so before the gather on the GPU path too) and, every index being
// >= 0, none is counted from the end.
// CHECK-LABEL: func.func @main
// CHECK-NOT: iterator_types = ["reduction"
// CHECK: kiln.runtime_check %{{.*}}, "a GatherND: indices element out of data bounds
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK-NEXT: tensor.extract %arg0[%[[I]], %[[J]]] : tensor<?x?xf32>
func.func @main(%table: tensor<?x?xf32>, %x: tensor<?xf32>) -> tensor<?x?xf32> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %shape = kiln.shape %x {start = 0 : i64, end = 1 : i64} : (tensor<?xf32>) -> tensor<1xi64>
  %n = kiln.gather %shape, %zero {axis = 0 : i64} : (tensor<1xi64>, tensor<i64>) -> tensor<i64>
  %r = kiln.range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %idx = kiln.unsqueeze %r {axes = array<i64: 1>} : (tensor<?xi64>) -> tensor<?x1xi64>
  %g = kiln.gather_nd %table, %idx : (tensor<?x?xf32>, tensor<?x1xi64>) -> tensor<?x?xf32>
  return %g : tensor<?x?xf32>
}
