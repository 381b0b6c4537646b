// RUN: kiln-opt %s --kiln-layer-norm-to-runtime -canonicalize -split-input-file | FileCheck %s

// A bufferized kiln.layer_norm_rows fills the function's
// kiln_layer_norm_desc (15 words; kiln_abi.h) and calls
// kiln_rt_layer_norm(ctx, desc). Words: 0 m, 1 n, 2 x, 3 x's row stride,
// 4 y, 5 y's row stride, 6 scale, 7 bias, 8 epsilon (the double of the
// f32 1e-12, as bits), 9-10 the batch, 11-14 the batch strides of x and y.
// x [?, 128, 384]: the batch is (1, ?), the stride of its `?` a sample.
// CHECK: func.func private @kiln_rt_layer_norm(index, index)
// CHECK-LABEL: func.func @bert
// CHECK-SAME: %[[CTX:[^:]*]]: index {kiln.runtime_context}
// CHECK-DAG: %[[EPS:.*]] = arith.constant 4427486594215182336 : index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[C384:.*]] = arith.constant 384 : index
// CHECK-DAG: %[[SAMPLE:.*]] = arith.constant 49152 : index
// CHECK: %[[DESC:.*]] = memref.alloca() : memref<15xindex>
// CHECK: %[[X:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: %[[Y:.*]] = memref.extract_aligned_pointer_as_index %arg3
// CHECK: %[[BATCH:.*]] = memref.dim %arg0, %[[C0]]
// CHECK: %[[G:.*]] = memref.extract_aligned_pointer_as_index %arg1
// CHECK: %[[B:.*]] = memref.extract_aligned_pointer_as_index %arg2
// CHECK: memref.store %[[C128]], %[[DESC]][%[[C0]]]
// CHECK: memref.store %[[C384]], %[[DESC]][%[[C1]]]
// CHECK: memref.store %[[X]], %[[DESC]]
// CHECK: memref.store %[[C384]], %[[DESC]]
// CHECK: memref.store %[[Y]], %[[DESC]]
// CHECK: memref.store %[[C384]], %[[DESC]]
// CHECK: memref.store %[[G]], %[[DESC]]
// CHECK: memref.store %[[B]], %[[DESC]]
// CHECK: memref.store %[[EPS]], %[[DESC]]
// CHECK: memref.store %[[C1]], %[[DESC]]
// CHECK: memref.store %[[BATCH]], %[[DESC]]
// CHECK: memref.store %[[C0]], %[[DESC]]
// CHECK: memref.store %[[SAMPLE]], %[[DESC]]
// CHECK: memref.store %[[C0]], %[[DESC]]
// CHECK: memref.store %[[SAMPLE]], %[[DESC]]
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[DESC]]
// CHECK: call @kiln_rt_layer_norm(%[[CTX]], %[[ADDRESS]]) : (index, index) -> ()
// CHECK-NOT: kiln.layer_norm_rows
func.func @bert(%x: memref<?x128x384xf32>, %g: memref<384xf32>, %b: memref<384xf32>,
                %out: memref<?x128x384xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.layer_norm_rows %x, %g bias(%b : memref<384xf32>) into %out {epsilon = 1.0e-12 : f32}
    : memref<?x128x384xf32>, memref<384xf32>, memref<?x128x384xf32>
  return
}

// -----

// Rows 1536 floats apart in x (a view of every other row of its buffer);
// no bias (word 7 stays 0).
// CHECK-LABEL: func.func @strided_no_bias
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1536:.*]] = arith.constant 1536 : index
// CHECK-DAG: %[[C768:.*]] = arith.constant 768 : index
// CHECK: %[[DESC:.*]] = memref.alloca() : memref<15xindex>
// CHECK: memref.store %[[C1536]], %[[DESC]][%{{.*}}]
// CHECK: memref.store %[[C768]], %[[DESC]][%{{.*}}]
// CHECK: call @kiln_rt_layer_norm
func.func @strided_no_bias(%x: memref<4x768xf32, strided<[1536, 1]>>, %g: memref<768xf32>,
                           %out: memref<4x768xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.layer_norm_rows %x, %g into %out {epsilon = 1.0e-5 : f32}
    : memref<4x768xf32, strided<[1536, 1]>>, memref<768xf32>, memref<4x768xf32>
  return
}
