// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-lower-to-linalg,canonicalize,cse))' -split-input-file | FileCheck %s

// arange(S) >= 0 as the dynamo exports' mask writes it, unsqueezed to
// [1, 1, S, 1]: it holds everywhere, so it is a generic that yields true,
// of the Range's length (no Range generic, no compare).
// CHECK-LABEL: func.func @arange_at_least_zero
// CHECK-SAME: (%[[X:.*]]: tensor<2x?xf32>)
// CHECK-NOT: arith.cmpi
// CHECK: %[[S:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[E:.*]] = tensor.empty(%[[S]]) : tensor<1x1x?x1xi1>
// CHECK: %[[T:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<1x1x?x1xi1>)
// CHECK-NEXT: ^bb0(%{{.*}}: i1):
// CHECK-NEXT: linalg.yield %true : i1
// CHECK-NOT: arith.cmpi
// CHECK: return %[[T]]
func.func @arange_at_least_zero(%x: tensor<2x?xf32>) -> tensor<1x1x?x1xi1> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %shape = kiln.shape %x {start = 1 : i64, end = 2 : i64} : (tensor<2x?xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %shape {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %zero, %s, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %u = kiln.unsqueeze %r {axes = array<i64: 0, 1, 3>} : (tensor<?xi64>) -> tensor<1x1x?x1xi64>
  %ge = kiln.greater_equal %u, %zero : (tensor<1x1x?x1xi64>, tensor<i64>) -> tensor<1x1x?x1xi1>
  return %ge : tensor<1x1x?x1xi1>
}

// -----

// The constant on the left: -1 < arange(S) holds everywhere too.
// CHECK-LABEL: func.func @below_arange
// CHECK-NOT: arith.cmpi
// CHECK: linalg.yield %true : i1
func.func @below_arange(%x: tensor<?xf32>) -> tensor<?xi1> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %minus = kiln.constant dense<-1> : tensor<i64>
  %shape = kiln.shape %x {start = 0 : i64, end = 1 : i64} : (tensor<?xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %shape {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %zero, %s, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %lt = kiln.less %minus, %r : (tensor<i64>, tensor<?xi64>) -> tensor<?xi1>
  return %lt : tensor<?xi1>
}

// -----

// arange(S) >= 1 fails at 0 and arange(S) <= 0 past it: both stay compares.
// CHECK-LABEL: func.func @not_everywhere
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi sle
func.func @not_everywhere(%x: tensor<?xf32>) -> (tensor<?xi1>, tensor<?xi1>) {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %shape = kiln.shape %x {start = 0 : i64, end = 1 : i64} : (tensor<?xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %shape {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %zero, %s, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %ge = kiln.greater_equal %r, %one : (tensor<?xi64>, tensor<i64>) -> tensor<?xi1>
  %le = kiln.less_equal %r, %zero : (tensor<?xi64>, tensor<i64>) -> tensor<?xi1>
  return %ge, %le : tensor<?xi1>, tensor<?xi1>
}
