// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-add-runtime-context,func.func(kiln-lower-to-linalg,canonicalize,cse))' -split-input-file | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-lower-to-linalg,canonicalize,cse))' -split-input-file | FileCheck %s --check-prefix=NOCTX

// TorchScript's flattened mask: the [B * S, 1] mask at b * S + s, the
// index an Add of arange(S) and arange(B) times S (a size off a shape).
// The generic computes it from its loop indices 0 and 3 (no index tensor,
// no Range generic), and the range check adds up the terms' extremes on
// the host (no reduction over the indices), in 64 bits with each product
// and sum checked for overflow. The check's scalars are dims and
// constants, so it runs before the gather on the GPU path too, and every
// term is >= 0: the index is read as it is (no wrap, no clamp, no guard
// for an empty mask).
// CHECK-LABEL: func.func @main(%arg0: tensor<?x?xi1>
// CHECK-NOT: iterator_types = ["reduction"
// CHECK: arith.mulsi_extended
// CHECK: kiln.runtime_check %{{.*}}, "a Gather: indices element out of data bounds
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(
// CHECK-NOT: tensor<1x1x1x?xi64>
// CHECK: %[[B:.*]] = linalg.index 0
// CHECK: %[[S:.*]] = linalg.index 3
// CHECK: %[[ROW:.*]] = arith.muli %{{.*}}, %[[B]] : index
// CHECK: %[[I:.*]] = arith.addi %[[S]], %[[ROW]] : index
// CHECK-NEXT: %[[E:.*]] = tensor.extract %{{.*}}[%[[I]], %c0] : tensor<?x1xi1>
// CHECK-NEXT: linalg.yield %[[E]]
// CHECK: return %[[G]]
// Without a run-time context (kiln-opt without kiln-add-runtime-context)
// no check can fail the run: the gather clamps its indices.
// NOCTX-LABEL: func.func @main(%arg0: tensor<?x?xi1>
// NOCTX-NOT: kiln.runtime_check
// NOCTX: linalg.generic
// NOCTX: arith.maxsi
// NOCTX: arith.minsi
// NOCTX: tensor.extract
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

// -----

// The last four rows counted from the end (-1, -2, -3, -4: a Range of
// constants): checked on the host, so no clamp and no guard for an empty
// table; the indices are negative, so each is counted from the end.
// CHECK-LABEL: func.func @main(%arg0: tensor<?x4xf32>
// CHECK: kiln.runtime_check %{{.*}}, "a Gather: indices element out of data bounds
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[N:.*]] = arith.cmpi slt
// CHECK: %[[W:.*]] = arith.select %[[N]]
// CHECK-NOT: arith.maxsi
// CHECK-NOT: arith.minsi
// CHECK-NOT: scf.if
// CHECK: tensor.extract %arg0[%[[W]], %{{.*}}] : tensor<?x4xf32>
func.func @main(%table: tensor<?x4xf32>) -> tensor<4x4xf32> {
  %start = kiln.constant dense<-1> : tensor<i64>
  %limit = kiln.constant dense<-5> : tensor<i64>
  %r = kiln.range %start, %limit, %start : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %g = kiln.gather %table, %r {axis = 0 : i64} : (tensor<?x4xf32>, tensor<4xi64>) -> tensor<4x4xf32>
  return %g : tensor<4x4xf32>
}

// -----

// A grid whose start is a tensor's element (an input here; on the GPU path
// any computed tensor is in device memory, its check deferred until the
// run's kernels are done): the gather wraps and clamps every index, and
// reads nothing from an empty table, as for indices read from a tensor.
// CHECK-LABEL: func.func @main(%arg0: tensor<?x4xf32>
// CHECK: kiln.runtime_check %{{.*}}, "a Gather: indices element out of data bounds
// CHECK: linalg.generic
// CHECK: arith.select
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: scf.if
// CHECK: tensor.extract %arg0
func.func @main(%table: tensor<?x4xf32>, %start: tensor<i64>) -> tensor<3x4xf32> {
  %one = kiln.constant dense<1> : tensor<i64>
  %three = kiln.constant dense<3> : tensor<i64>
  %limit = kiln.add %start, %three : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %r = kiln.range %start, %limit, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<3xi64>
  %g = kiln.gather %table, %r {axis = 0 : i64} : (tensor<?x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  return %g : tensor<3x4xf32>
}

// -----

// Constant indices into a symbolic dim (BERT's pooler, `hidden[:, 0]`;
// here -2 and 1 over a `?` axis): the host compares their extremes with
// the dim, `-2 < -S or 1 >= S`, with no reduction reading the constant
// (on the GPU path that would be a kernel of its own).
// CHECK-LABEL: func.func @main(%arg0: tensor<4x?xf32>
// CHECK-NOT: iterator_types = ["reduction"
// CHECK-DAG: %[[M2:.*]] = arith.constant -2 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[S:.*]] = tensor.dim %arg0, %[[C1]]
// CHECK: %[[NEG:.*]] = arith.subi %{{.*}}, %[[S]] : index
// CHECK: %[[BELOW:.*]] = arith.cmpi sgt, %[[NEG]], %[[M2]] : index
// CHECK: %[[ABOVE:.*]] = arith.cmpi sle, %[[S]], %[[C1]] : index
// CHECK: %[[OUT:.*]] = arith.ori %[[BELOW]], %[[ABOVE]] : i1
// CHECK: kiln.runtime_check %[[OUT]], "a Gather: indices element out of data bounds
// NOCTX-LABEL: func.func @main(%arg0: tensor<4x?xf32>
// NOCTX-NOT: kiln.runtime_check
func.func @main(%x: tensor<4x?xf32>) -> tensor<4x3xf32> {
  %i = kiln.constant dense<[1, -2, 0]> : tensor<3xi64>
  %g = kiln.gather %x, %i {axis = 1 : i64} : (tensor<4x?xf32>, tensor<3xi64>) -> tensor<4x3xf32>
  return %g : tensor<4x3xf32>
}
