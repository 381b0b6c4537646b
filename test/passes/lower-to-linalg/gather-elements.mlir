// RUN: kiln-opt %s --kiln-lower-to-linalg | FileCheck %s

// gather_elements: a generic over the indices; the body wraps a negative
// index by the axis dim, clamps it into the data and reads the data at the
// loop indices with the axis one replaced.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @gather_elements
// CHECK-SAME: (%[[D:.*]]: tensor<?x4xf32>, %[[I:.*]]: tensor<?x2xi32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[N:.*]] = tensor.dim %[[I]], %[[C0]] : tensor<?x2xi32>
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x2xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[I]] : tensor<?x2xi32>) outs(%[[E]] : tensor<?x2xf32>)
// CHECK: ^bb0(%[[RAW:.*]]: i32, %{{.*}}: f32):
// CHECK: %[[IDX:.*]] = arith.index_cast %[[RAW]] : i32 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[IDX]], %[[C0]] : index
// CHECK: %[[WRAP:.*]] = arith.addi %[[IDX]], %[[C4]] : index
// CHECK: %[[SEL:.*]] = arith.select %[[NEG]], %[[WRAP]], %[[IDX]] : index
// CHECK: %[[LO:.*]] = arith.maxsi %[[SEL]], %[[C0]] : index
// CHECK: %[[K:.*]] = arith.minsi %[[LO]], %[[C3]] : index
// CHECK: %[[ROW:.*]] = linalg.index 0 : index
// CHECK: %[[V:.*]] = tensor.extract %[[D]][%[[ROW]], %[[K]]] : tensor<?x4xf32>
// CHECK: linalg.yield %[[V]] : f32
func.func @gather_elements(%d: tensor<?x4xf32>, %i: tensor<?x2xi32>) -> tensor<?x2xf32> {
  %0 = kiln.gather_elements %d, %i {axis = 1 : i64} : (tensor<?x4xf32>, tensor<?x2xi32>) -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}
