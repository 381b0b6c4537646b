// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// cumsum: an extra reduction loop j over the axis; the body adds x[j] where
// the mode keeps it (here exclusive and reversed: j > i).
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @cumsum_reverse_exclusive
// CHECK-SAME: (%[[X:.*]]: tensor<?x5xi64>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x5xi64>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?x5xi64>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : i64) outs(%[[E]] : tensor<?x5xi64>)
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]] : tensor<?x5xi64>) outs(%[[INIT]] : tensor<?x5xi64>)
// CHECK: ^bb0(%[[V:.*]]: i64, %[[ACC:.*]]: i64):
// CHECK: %[[I:.*]] = linalg.index 1 : index
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: %[[SUM:.*]] = arith.addi %[[ACC]], %[[V]] : i64
// CHECK: %[[KEEP:.*]] = arith.cmpi sgt, %[[J]], %[[I]] : index
// CHECK: %[[NEXT:.*]] = arith.select %[[KEEP]], %[[SUM]], %[[ACC]] : i64
// CHECK: linalg.yield %[[NEXT]] : i64
func.func @cumsum_reverse_exclusive(%x: tensor<?x5xi64>) -> tensor<?x5xi64> {
  %0 = kiln.cumsum %x {axis = 1 : i64, exclusive = true, reverse = true} : (tensor<?x5xi64>) -> tensor<?x5xi64>
  return %0 : tensor<?x5xi64>
}

// -----

// The inclusive forward scan keeps j <= i.
// CHECK-LABEL: func.func @cumsum_forward
// CHECK: arith.addf
// CHECK: arith.cmpi sle, %{{.*}}, %{{.*}} : index
func.func @cumsum_forward(%x: tensor<5xf32>) -> tensor<5xf32> {
  %0 = kiln.cumsum %x {axis = 0 : i64} : (tensor<5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}
