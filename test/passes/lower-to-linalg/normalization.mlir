// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// argmin is argmax's reduction with the comparison reversed: it starts at
// +inf and takes an element that is smaller (or the first).
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @argmin
// CHECK-DAG: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK: %[[V:.*]] = linalg.fill ins(%[[INF]] : f32)
// CHECK: %[[R:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK: ^bb0(%[[X:.*]]: f32, %[[BEST:.*]]: f32, %{{.*}}: i64):
// CHECK: arith.cmpf olt, %[[X]], %[[BEST]] : f32
// CHECK: return %[[R]]#1 : tensor<2xi64>
func.func @argmin(%x: tensor<2x3xf32>) -> tensor<2xi64> {
  %0 = kiln.argmin %x {axis = 1 : i64, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// hardmax: the argmax along the axis, then 1 where the index matches.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @hardmax
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ARG:.*]]:2 = linalg.generic
// CHECK: arith.cmpf ogt
// CHECK: linalg.generic {indexing_maps = [#[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[ARG]]#1 : tensor<2xi64>)
// CHECK: ^bb0(%[[BEST:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[I:.*]] = linalg.index 1 : index
// CHECK: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[HIT:.*]] = arith.cmpi eq, %[[I64]], %[[BEST]] : i64
// CHECK: arith.select %[[HIT]], %[[ONE]], %[[ZERO]] : f32
func.func @hardmax(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.hardmax %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// rms_norm: the sum of squares over the normalised dims, then
// x / sqrt(sum / count + eps) * scale.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rms_norm
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[COUNT:.*]] = arith.constant 8.000000e+00 : f32
// CHECK: %[[SUMSQ:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.mulf %[[E:.*]], %[[E]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %[[SUMSQ]], %{{.*}} :
// CHECK: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[G:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[MEAN:.*]] = arith.divf %[[S]], %[[COUNT]] : f32
// CHECK: %[[SHIFTED:.*]] = arith.addf %[[MEAN]], %[[EPS]] : f32
// CHECK: %[[ROOT:.*]] = math.sqrt %[[SHIFTED]] : f32
// CHECK: %[[N:.*]] = arith.divf %[[X]], %[[ROOT]] : f32
// CHECK: arith.mulf %[[N]], %[[G]] : f32
func.func @rms_norm(%x: tensor<2x8xf32>, %g: tensor<8xf32>) -> tensor<2x8xf32> {
  %0 = kiln.rms_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// batch_norm is one elementwise generic; the parameters are read per
// channel (dim 1).
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @batch_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x4xf32>, %[[S:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<3xf32>, %[[M:.*]]: tensor<3xf32>, %[[V:.*]]: tensor<3xf32>)
// CHECK-DAG: %[[EPS:.*]] = arith.constant 1.000000e-03 : f32
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3x4xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?x3x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[C]], #[[C]], #[[C]], #[[C]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]], %[[S]], %[[B]], %[[M]], %[[V]] :
// CHECK: ^bb0(%[[IX:.*]]: f32, %[[IS:.*]]: f32, %[[IB:.*]]: f32, %[[IM:.*]]: f32, %[[IV:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[CENTERED:.*]] = arith.subf %[[IX]], %[[IM]] : f32
// CHECK: %[[VE:.*]] = arith.addf %[[IV]], %[[EPS]] : f32
// CHECK: %[[ROOT:.*]] = math.sqrt %[[VE]] : f32
// CHECK: %[[N:.*]] = arith.divf %[[CENTERED]], %[[ROOT]] : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[N]], %[[IS]] : f32
// CHECK: arith.addf %[[SCALED]], %[[IB]] : f32
func.func @batch_norm(%x: tensor<?x3x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>,
                      %v: tensor<3xf32>) -> tensor<?x3x4xf32> {
  %0 = kiln.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-3 : f32} : (tensor<?x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x4xf32>
  return %0 : tensor<?x3x4xf32>
}

// -----

// An empty axis has no extremum: the run fails where the `?` axis is 0.
// CHECK-LABEL: func.func @argmax_dynamic_axis_checked
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c1 : tensor<2x?xf32>
// CHECK: %[[EMPTY:.*]] = arith.cmpi eq, %[[N]], %c0 : index
// CHECK: kiln.runtime_check %[[EMPTY]], "a ArgMax: the axis it reduces is empty"
// CHECK: linalg.generic
func.func @argmax_dynamic_axis_checked(%x: tensor<2x?xf32>, %ctx: index {kiln.runtime_context})
    -> tensor<2xi64> {
  %0 = kiln.argmax %x {axis = 1 : i64, keepdims = false} : (tensor<2x?xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}
