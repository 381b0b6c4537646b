// RUN: kiln-opt %s --kiln-softmax-to-runtime -canonicalize -split-input-file | FileCheck %s

// A bufferized kiln.softmax_rows fills the function's kiln_softmax_desc (18
// words; kiln_abi.h) and calls kiln_rt_softmax(ctx, desc). Words: 0 m,
// 1 n, 2 x, 3 x's row stride, 4 y, 5 y's row stride, 6 addend, 7-8 its row
// and column strides, 9 the scale (a double's bits), 10-11 the batch,
// 12-17 the batch strides of x, y and addend. The mask [?, 1, 1, 128]
// broadcasts over heads and rows (stride 0) and over the batch where its
// `?` is 1 at run time; a `?` that is neither 1 nor the scores' fails the run.
// CHECK: func.func private @kiln_rt_softmax(index, index)
// CHECK-LABEL: func.func @attention
// CHECK-SAME: %[[CTX:[^:]*]]: index {kiln.runtime_context}
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 4593671619917905920 : index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[MATRIX:.*]] = arith.constant 16384 : index
// CHECK-DAG: %[[SAMPLE:.*]] = arith.constant 196608 : index
// CHECK: %[[DESC:.*]] = memref.alloca() : memref<18xindex>
// CHECK: %[[X:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: %[[Y:.*]] = memref.extract_aligned_pointer_as_index %arg2
// CHECK: %[[BATCH:.*]] = memref.dim %arg0, %[[C0]]
// CHECK: %[[MASK:.*]] = memref.extract_aligned_pointer_as_index %arg1
// CHECK: %[[MASKBATCH:.*]] = memref.dim %arg1, %[[C0]]
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %[[MASKBATCH]], %[[C1]]
// CHECK: %[[MASKSTRIDE:.*]] = arith.select %[[ONE]], %[[C0]], %[[C128]]
// CHECK: kiln.runtime_check %{{.*}}, "a Softmax: the mask's shape does not broadcast to the scores'
// CHECK: memref.store %[[C128]], %[[DESC]][%[[C0]]]
// CHECK: memref.store %[[C128]], %[[DESC]][%[[C1]]]
// CHECK: memref.store %[[X]], %[[DESC]]
// CHECK: memref.store %[[C128]], %[[DESC]]
// CHECK: memref.store %[[Y]], %[[DESC]]
// CHECK: memref.store %[[C128]], %[[DESC]]
// CHECK: memref.store %[[MASK]], %[[DESC]]
// CHECK: memref.store %[[C0]], %[[DESC]]
// CHECK: memref.store %[[C1]], %[[DESC]]
// CHECK: memref.store %[[SCALE]], %[[DESC]]
// CHECK: memref.store %[[BATCH]], %[[DESC]]
// CHECK: memref.store %[[C12]], %[[DESC]]
// CHECK: memref.store %[[SAMPLE]], %[[DESC]]
// CHECK: memref.store %[[MATRIX]], %[[DESC]]
// CHECK: memref.store %[[SAMPLE]], %[[DESC]]
// CHECK: memref.store %[[MATRIX]], %[[DESC]]
// CHECK: memref.store %[[MASKSTRIDE]], %[[DESC]]
// CHECK: memref.store %[[C0]], %[[DESC]]
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[DESC]]
// CHECK: call @kiln_rt_softmax(%[[CTX]], %[[ADDRESS]]) : (index, index) -> ()
// CHECK-NOT: kiln.softmax_rows
func.func @attention(%s: memref<?x12x128x128xf32>, %m: memref<?x1x1x128xf32>,
                     %out: memref<?x12x128x128xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.softmax_rows %s addend(%m : memref<?x1x1x128xf32>) into %out {scale = 0.125 : f32}
    : memref<?x12x128x128xf32>, memref<?x12x128x128xf32>
  return
}

// -----

// One row of 5 (rank 1): m and the batch are 1, their strides 0; no addend
// (word 6 stays 0); scale 1.
// CHECK-LABEL: func.func @vector
// CHECK-DAG: %[[ONE:.*]] = arith.constant 4607182418800017408 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK: memref.store %c1, %{{.*}}[%c0]
// CHECK: memref.store %[[C5]], %{{.*}}[%c1]
// CHECK: memref.store %c0, %{{.*}}[%c6]
// CHECK: memref.store %[[ONE]], %{{.*}}[%c9]
// CHECK: memref.store %c1, %{{.*}}[%c10]
// CHECK: memref.store %c1, %{{.*}}[%c11]
// CHECK: call @kiln_rt_softmax
func.func @vector(%s: memref<5xf32>, %out: memref<5xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.softmax_rows %s into %out : memref<5xf32>, memref<5xf32>
  return
}
