// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-add-runtime-context,func.func(kiln-lower-to-linalg,canonicalize,cse))' -split-input-file | FileCheck %s

// TorchScript's flattened mask: the [B * S, 1] mask at b * S + s, the
// index an Add of arange(S) and arange(B) times S (a size off a shape).
// The generic computes it from its loop indices 0 and 3 (no index tensor,
// no Range generic), and the range check adds up the terms' extremes on
// the host (no reduction over the indices).
// CHECK-LABEL: func.func @main(%arg0: tensor<?x?xi1>
// CHECK-NOT: iterator_types = ["reduction"
// CHECK: kiln.runtime_check %{{.*}}, "a Gather: indices element out of data bounds
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(
// CHECK-NOT: tensor<1x1x1x?xi64>
// CHECK: %[[B:.*]] = linalg.index 0
// CHECK: %[[S:.*]] = linalg.index 3
// CHECK: %[[ROW:.*]] = arith.muli %{{.*}}, %[[B]] : index
// CHECK: arith.addi %[[S]], %[[ROW]] : index
// CHECK: tensor.extract %{{.*}} : tensor<?x1xi1>
// CHECK: return %[[G]]
func.func @main(%mask: tensor<?x?xi1>) -> tensor<?x1x1x?x1xi1> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %shape = kiln.shape %mask {start = 0 : i64, end = 2 : i64} : (tensor<?x?xi1>) -> tensor<2xi64>
  %b = kiln.gather %shape, %zero {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %s = kiln.gather %shape, %one {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %rb = kiln.range %zero, %b, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rs = kiln.range %zero, %s, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %ub = kiln.unsqueeze %rb {axes = array<i64: 1, 2, 3>} : (tensor<?xi64>) -> tensor<?x1x1x1xi64>
  %us = kiln.unsqueeze %rs {axes = array<i64: 0, 1, 2>} : (tensor<?xi64>) -> tensor<1x1x1x?xi64>
  %row = kiln.mul %ub, %s : (tensor<?x1x1x1xi64>, tensor<i64>) -> tensor<?x1x1x1xi64>
  %idx = kiln.add %us, %row : (tensor<1x1x1x?xi64>, tensor<?x1x1x1xi64>) -> tensor<?x1x1x?xi64>
  %flat_shape = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %flat = kiln.reshape %mask, %flat_shape : (tensor<?x?xi1>, tensor<2xi64>) -> tensor<?x1xi1>
  %g = kiln.gather %flat, %idx {axis = 0 : i64} : (tensor<?x1xi1>, tensor<?x1x1x?xi64>) -> tensor<?x1x1x?x1xi1>
  return %g : tensor<?x1x1x?x1xi1>
}

// -----

// A product of two grids is no affine grid: the indices are built and
// scanned for the range check as for any Gather.
// CHECK-LABEL: func.func @main(%arg0: tensor<16x4xf32>
// CHECK: iterator_types = ["reduction"
// CHECK: kiln.runtime_check %{{.*}}, "a Gather: indices element out of data bounds
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<?x?xi64>)
func.func @main(%table: tensor<16x4xf32>, %n: tensor<i64>) -> tensor<?x?x4xf32> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %r = kiln.range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %col = kiln.unsqueeze %r {axes = array<i64: 1>} : (tensor<?xi64>) -> tensor<?x1xi64>
  %rowv = kiln.unsqueeze %r {axes = array<i64: 0>} : (tensor<?xi64>) -> tensor<1x?xi64>
  %idx = kiln.mul %col, %rowv : (tensor<?x1xi64>, tensor<1x?xi64>) -> tensor<?x?xi64>
  %g = kiln.gather %table, %idx {axis = 0 : i64} : (tensor<16x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  return %g : tensor<?x?x4xf32>
}
