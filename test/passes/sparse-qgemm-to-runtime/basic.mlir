// RUN: kiln-opt %s --kiln-sparse-qgemm-to-runtime | FileCheck %s

// A bufferized kiln.sparse_qgemm fills the function's kiln_qgemm_desc (30
// words, as kiln.qgemm; b the sparse blob) and calls
// kiln_rt_sparse_qgemm(ctx, desc). Words: 0 m, 1 n, 2 k, 3 a, 4 a_type (2:
// ui8, pre-quantized), 5-6 a's strides, 7 a_scale, 8 a_zero_point, 9 b,
// 10 b_scale, 11 c, 12 ldc, 13 accumulate, 14 bias, 15 activation (3:
// ReLU), 16-17 the residual (none: 0), 18-19 the batch (1 x 1), 20-29 the
// batch strides (0).
// CHECK: func.func private @kiln_rt_sparse_qgemm(index, index)
// CHECK-LABEL: func.func @prequantized
// CHECK-SAME: %[[CTX:[^:]*]]: index {kiln.runtime_context}
// CHECK: %[[DESC:.*]] = memref.alloca() : memref<30xindex>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[M:.*]] = memref.dim %arg0, %{{.*}} : memref<?x6xui8>
// CHECK-DAG: %[[N:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[K:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[U8:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[RELU:.*]] = arith.constant 3 : index
// CHECK: memref.store %[[M]], %[[DESC]][%{{.*}}] : memref<30xindex>
// CHECK: memref.store %[[N]], %[[DESC]]
// CHECK: memref.store %[[K]], %[[DESC]]
// CHECK: memref.store %{{.*}}, %[[DESC]]
// CHECK: memref.store %[[U8]], %[[DESC]]
// CHECK-COUNT-10: memref.store
// CHECK: memref.store %[[RELU]], %[[DESC]]
// CHECK-COUNT-2: memref.store %[[C0]], %[[DESC]]
// CHECK-COUNT-2: memref.store %[[C1]], %[[DESC]]
// CHECK-COUNT-10: memref.store %[[C0]], %[[DESC]]
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[DESC]]
// CHECK: call @kiln_rt_sparse_qgemm(%[[CTX]], %[[ADDRESS]]) : (index, index) -> ()
// CHECK-NOT: kiln.sparse_qgemm
func.func @prequantized(%a: memref<?x6xui8>, %b: memref<320xi8>, %s: memref<5xf32>,
                        %sa: memref<f32>, %za: memref<ui8>, %out: memref<?x5xf32>,
                        %ctx: index {kiln.runtime_context}) {
  kiln.sparse_qgemm %a, %b, %s a_scale(%sa : memref<f32>) a_zero_point(%za : memref<ui8>) into %out
    {k = 6 : i64, n = 5 : i64, block_width = 4 : i64, stored_groups = 2 : i64,
     activation = #kiln.gemm_activation<relu>}
    : memref<?x6xui8>, memref<320xi8>, memref<5xf32>, memref<?x5xf32>
  return
}
