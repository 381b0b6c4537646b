// RUN: kiln-opt %s --kiln-contraction-to-runtime-gemm --canonicalize --cse -split-input-file \
// RUN: | FileCheck %s

// (canonicalize folds the strides of static buffers to constants.)

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A zero-filled matmul: one overwriting call (accumulate = 0), A row-major
// (strides 32, 1), B row-major (64, 1), ldc 64.
// CHECK: func.func private @kiln_rt_sgemm(index, index, index, index, index, index, index, index, index, index, index, index, index)
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: memref<?x32xf32>, %[[B:.*]]: memref<32x64xf32>, %[[C:.*]]: memref<?x64xf32>, %[[CTX:.*]]: index
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[M:.*]] = memref.dim %[[A]], %c0
// CHECK-DAG: %[[PA:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK-DAG: %[[PB:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
// CHECK-DAG: %[[PC:.*]] = memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: call @kiln_rt_sgemm(%[[CTX]], %[[M]], %c64, %c32, %[[PA]], %c32, %c1, %[[PB]], %c64, %c1, %[[PC]], %c64, %c0)
// CHECK-NOT: linalg.generic
func.func @matmul(%a: memref<?x32xf32>, %b: memref<32x64xf32>, %c: memref<?x64xf32>,
                  %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<?x64xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x32xf32>, memref<32x64xf32>) outs(%c : memref<?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// B transposed (gemm transB): B's k stride is its column stride, its n
// stride its row stride; without a fill the call accumulates.
// CHECK-LABEL: func.func @transposed_b
// CHECK: call @kiln_rt_sgemm(%arg3, %c8, %c24, %c16, %{{.*}}, %c16, %c1, %{{.*}}, %c1, %c16, %{{.*}}, %c24, %c1)
func.func @transposed_b(%a: memref<8x16xf32>, %b: memref<24x16xf32>, %c: memref<8x24xf32>,
                        %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x16xf32>, memref<24x16xf32>) outs(%c : memref<8x24xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Attention's Q.K^T: batch and heads loop around the call; the batch loop
// of a broadcast operand (index 0) does not move it.
// CHECK-LABEL: func.func @batched
// CHECK-DAG: %[[PQ:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK-DAG: %[[PK:.*]] = memref.extract_aligned_pointer_as_index %arg1
// CHECK-DAG: %[[PO:.*]] = memref.extract_aligned_pointer_as_index %arg2
// CHECK: scf.for %[[I:.*]] = %c0 to %c2 step %c1
// CHECK:   %[[QI:.*]] = arith.muli %[[I]], %c2048
// CHECK:   %[[Q:.*]] = arith.addi %[[PQ]], %[[QI]]
// CHECK:   %[[OI:.*]] = arith.muli %[[I]], %c1024
// CHECK:   %[[O:.*]] = arith.addi %[[PO]], %[[OI]]
// CHECK:   scf.for %[[J:.*]] = %c0 to %c4 step %c1
// CHECK:     %[[HJ:.*]] = arith.muli %[[J]], %c512
// CHECK:     %[[QJ:.*]] = arith.addi %[[Q]], %[[HJ]]
// CHECK:     %[[KJ:.*]] = arith.addi %[[PK]], %[[HJ]]
// CHECK:     %[[OJ0:.*]] = arith.muli %[[J]], %c256
// CHECK:     %[[OJ:.*]] = arith.addi %[[O]], %[[OJ0]]
// CHECK:     call @kiln_rt_sgemm(%arg3, %c8, %c8, %c16, %[[QJ]], %c16, %c1, %[[KJ]], %c8, %c1, %[[OJ]], %c8, %c1)
func.func @batched(%q: memref<2x4x8x16xf32>, %k: memref<1x4x16x8xf32>, %out: memref<2x4x8x8xf32>,
                   %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [affine_map<(b, h, m, n, k) -> (b, h, m, k)>,
                                   affine_map<(b, h, m, n, k) -> (0, h, k, n)>,
                                   affine_map<(b, h, m, n, k) -> (b, h, m, n)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<2x4x8x16xf32>, memref<1x4x16x8xf32>) outs(%out : memref<2x4x8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Left alone: integer contractions, non-contiguous output rows, and
// elementwise generics.
// CHECK-LABEL: func.func @not_for_the_runtime
// CHECK-NOT: kiln_rt_sgemm
// CHECK-COUNT-2: linalg.generic
func.func @not_for_the_runtime(%a: memref<4x4xi32>, %b: memref<4x4xi32>, %c: memref<4x4xi32>,
                               %fa: memref<4x4xf32>, %fc: memref<4x4xf32, strided<[1, 4]>>,
                               %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x4xi32>, memref<4x4xi32>) outs(%c : memref<4x4xi32>) {
  ^bb0(%x: i32, %y: i32, %acc: i32):
    %p = arith.muli %x, %y : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  }
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%fa, %fa : memref<4x4xf32>, memref<4x4xf32>) outs(%fc : memref<4x4xf32, strided<[1, 4]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
