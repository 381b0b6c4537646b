// RUN: kiln-opt %s --kiln-qgemm-to-runtime | FileCheck %s

// A bufferized kiln.qgemm fills the function's kiln_qgemm_desc (30 words;
// kiln_abi.h) and calls kiln_rt_qgemm(ctx, desc). Words: 0 m, 1 n, 2 k,
// 3 a, 4 a_type (1: f32, quantized per row at run time), 5-6 a's strides,
// 9 b, 10 b_scale, 11 c, 12 ldc, 14 bias, 15 activation, 16 residual,
// 17 its row stride, 18-19 the batch (1 x 1).
// CHECK: func.func private @kiln_rt_qgemm(index, index)
// CHECK-LABEL: func.func @linear
// CHECK-SAME: %[[CTX:[^:]*]]: index {kiln.runtime_context}
// CHECK: %[[DESC:.*]] = memref.alloca() : memref<30xindex>
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[M:.*]] = memref.dim %arg0, %{{.*}} : memref<?x2xf32>
// CHECK-DAG: %[[N:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[K:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[GELU:.*]] = arith.constant 1 : index
// CHECK: memref.store %[[M]], %[[DESC]][%{{.*}}] : memref<30xindex>
// CHECK: memref.store %[[N]], %[[DESC]]
// CHECK: memref.store %[[K]], %[[DESC]]
// CHECK-COUNT-27: memref.store
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[DESC]]
// CHECK: call @kiln_rt_qgemm(%[[CTX]], %[[ADDRESS]]) : (index, index) -> ()
// CHECK-NOT: kiln.qgemm
func.func @linear(%a: memref<?x2xf32>, %b: memref<128xi8>, %s: memref<3xf32>, %bias: memref<3xf32>,
                  %r: memref<?x3xf32>, %out: memref<?x3xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.qgemm %a, %b, %s bias(%bias : memref<3xf32>) residual(%r : memref<?x3xf32>) into %out
    {k = 2 : i64, n = 3 : i64, activation = 1 : i64}
    : memref<?x2xf32>, memref<128xi8>, memref<3xf32>, memref<?x3xf32>
  return
}
