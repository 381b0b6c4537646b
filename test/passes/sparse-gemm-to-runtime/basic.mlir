// RUN: kiln-opt %s --kiln-sparse-gemm-to-runtime | FileCheck %s

// A bufferized kiln.sparse_gemm fills the function's kiln_sparse_gemm_desc
// (24 words; kiln_abi.h) and calls kiln_rt_sparse_gemm(ctx, desc). Words:
// 0 m, 1 n, 2 k, 3 a, 4-5 a's strides, 6 b (the blob), 7 c, 8 ldc,
// 9 accumulate, 10 bias, 11 activation, 12 residual, 13 its row stride,
// 14-15 the batch (1 x 1), 16-23 the batch strides (0).
// CHECK: func.func private @kiln_rt_sparse_gemm(index, index)
// CHECK-LABEL: func.func @linear
// CHECK-SAME: %[[CTX:[^:]*]]: index {kiln.runtime_context}
// CHECK: %[[DESC:.*]] = memref.alloca() : memref<24xindex>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[M:.*]] = memref.dim %arg0, %{{.*}} : memref<?x2xf32>
// CHECK-DAG: %[[N:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[K:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[GELU:.*]] = arith.constant 2 : index
// CHECK: memref.store %[[M]], %[[DESC]][%{{.*}}] : memref<24xindex>
// CHECK: memref.store %[[N]], %[[DESC]]
// CHECK: memref.store %[[K]], %[[DESC]]
// CHECK-COUNT-6: memref.store
// CHECK: memref.store %[[C0]], %[[DESC]]
// CHECK: memref.store %{{.*}}, %[[DESC]]
// CHECK: memref.store %[[GELU]], %[[DESC]]
// CHECK-COUNT-2: memref.store
// CHECK: memref.store %[[C1]], %[[DESC]]
// CHECK: memref.store %[[C1]], %[[DESC]]
// CHECK-COUNT-8: memref.store %[[C0]], %[[DESC]]
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[DESC]]
// CHECK: call @kiln_rt_sparse_gemm(%[[CTX]], %[[ADDRESS]]) : (index, index) -> ()
// CHECK-NOT: kiln.sparse_gemm
func.func @linear(%a: memref<?x2xf32>, %b: memref<224xi8>, %bias: memref<3xf32>,
                  %r: memref<?x3xf32>, %out: memref<?x3xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.sparse_gemm %a, %b bias(%bias : memref<3xf32>) residual(%r : memref<?x3xf32>) into %out
    {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64,
     activation = #kiln.gemm_activation<gelu_tanh>}
    : memref<?x2xf32>, memref<224xi8>, memref<?x3xf32>
  return
}
