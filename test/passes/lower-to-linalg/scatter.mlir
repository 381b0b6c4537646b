// RUN: kiln-opt %s --kiln-lower-to-linalg | FileCheck %s

// scatter_elements: the indices are checked (one reduction), the dims that
// must agree at run time are compared, and an scf.for nest over the updates
// carries the result, which starts as the data: each update reads its
// index, wraps and clamps it, combines with the element there and inserts.
// CHECK-LABEL: func.func @scatter_elements
// CHECK-SAME: (%[[D:.*]]: tensor<?x4xf32>, %[[I:.*]]: tensor<?x2xi64>, %[[U:.*]]: tensor<?x2xf32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[UN:.*]] = tensor.dim %[[U]], %[[C0]]
// CHECK: %[[IN:.*]] = tensor.dim %[[I]], %[[C0]]
// CHECK: %[[NE:.*]] = arith.cmpi ne, %[[UN]], %[[IN]] : index
// CHECK: %[[MIN:.*]] = arith.minsi %[[UN]], %[[IN]] : index
// CHECK: %[[DN:.*]] = tensor.dim %[[D]], %[[C0]]
// CHECK: %[[GT:.*]] = arith.cmpi sgt, %[[MIN]], %[[DN]] : index
// CHECK: %[[BAD:.*]] = arith.ori %[[NE]], %[[GT]] : i1
// CHECK: %[[ROWS:.*]] = arith.minsi %[[MIN]], %[[DN]] : index
// CHECK: kiln.runtime_check %{{.*}}, "a ScatterElements: indices element out of data bounds
// CHECK: kiln.runtime_check %[[BAD]], "a ScatterElements: the shapes of data, indices and updates do not agree"
// CHECK: %[[R:.*]] = scf.for %[[A:.*]] = %[[C0]] to %[[ROWS]] step %{{.*}} iter_args(%[[ACC0:.*]] = %[[D]]) -> (tensor<?x4xf32>)
// CHECK: scf.for %[[B:.*]] = %[[C0]] to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[ACC0]]) -> (tensor<?x4xf32>)
// CHECK: %[[RAW:.*]] = tensor.extract %[[I]][%[[A]], %[[B]]] : tensor<?x2xi64>
// CHECK: arith.index_cast %[[RAW]] : i64 to index
// CHECK: arith.addi %{{.*}}, %[[C4]] : index
// CHECK: %[[K:.*]] = arith.minsi %{{.*}}, %[[C3]] : index
// CHECK: %[[NEW:.*]] = tensor.extract %[[U]][%[[A]], %[[B]]] : tensor<?x2xf32>
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC]][%[[A]], %[[K]]] : tensor<?x4xf32>
// CHECK: %[[SUM:.*]] = arith.addf %[[OLD]], %[[NEW]] : f32
// CHECK: %[[INS:.*]] = tensor.insert %[[SUM]] into %[[ACC]][%[[A]], %[[K]]] : tensor<?x4xf32>
// CHECK: scf.yield %[[INS]]
// CHECK: return %[[R]]
func.func @scatter_elements(%d: tensor<?x4xf32>, %i: tensor<?x2xi64>, %u: tensor<?x2xf32>,
                            %ctx: index {kiln.runtime_context}) -> tensor<?x4xf32> {
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64, reduction = "add"} : (tensor<?x4xf32>, tensor<?x2xi64>, tensor<?x2xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// scatter_nd of unsigned slices with max: loops over the updates (tuple,
// then slice dim), the tuple's one component picks the row; unsigned
// elements combine as signless integers with maxui. Static shapes that
// agree leave no shape check.
// CHECK-LABEL: func.func @scatter_nd
// CHECK-SAME: (%[[D:.*]]: tensor<4x3xui8>, %[[I:.*]]: tensor<2x1xi32>, %[[U:.*]]: tensor<2x3xui8>)
// CHECK-NOT: kiln.runtime_check
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC0:.*]] = %[[D]]) -> (tensor<4x3xui8>)
// CHECK: scf.for %[[S:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[ACC0]]) -> (tensor<4x3xui8>)
// CHECK: tensor.extract %[[I]][%[[T]], %{{.*}}] : tensor<2x1xi32>
// CHECK: %[[ROW:.*]] = arith.minsi
// CHECK: %[[NEW:.*]] = tensor.extract %[[U]][%[[T]], %[[S]]] : tensor<2x3xui8>
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC]][%[[ROW]], %[[S]]] : tensor<4x3xui8>
// CHECK: %[[O:.*]] = builtin.unrealized_conversion_cast %[[OLD]] : ui8 to i8
// CHECK: %[[N:.*]] = builtin.unrealized_conversion_cast %[[NEW]] : ui8 to i8
// CHECK: %[[M:.*]] = arith.maxui %[[O]], %[[N]] : i8
// CHECK: %[[MU:.*]] = builtin.unrealized_conversion_cast %[[M]] : i8 to ui8
// CHECK: tensor.insert %[[MU]] into %[[ACC]][%[[ROW]], %[[S]]] : tensor<4x3xui8>
func.func @scatter_nd(%d: tensor<4x3xui8>, %i: tensor<2x1xi32>, %u: tensor<2x3xui8>) -> tensor<4x3xui8> {
  %0 = kiln.scatter_nd %d, %i, %u {reduction = "max"} : (tensor<4x3xui8>, tensor<2x1xi32>, tensor<2x3xui8>) -> tensor<4x3xui8>
  return %0 : tensor<4x3xui8>
}
