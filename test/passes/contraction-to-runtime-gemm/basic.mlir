// RUN: kiln-opt %s --kiln-contraction-to-runtime-gemm --canonicalize --cse -split-input-file \
// RUN: | FileCheck %s

// (canonicalize folds the strides of static buffers to constants. Each call
// fills the kiln_gemm_desc words in order: 0 m, 1 n, 2 k, 3 a, 4 a_rs,
// 5 a_cs, 6 b, 7 b_rs, 8 b_cs, 9 b_panel, 10 c, 11 ldc, 12 accumulate,
// 13 bias, 14 activation, 15 residual, 16 residual_rs, 17-18 batch,
// 19-26 batch strides of a, b, c, residual.)

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A zero-filled matmul: one overwriting call (accumulate = 0), A row-major
// (strides 32, 1), B row-major (64, 1), ldc 64, a batch of 1 x 1.
// CHECK: func.func private @kiln_rt_gemm(index, index)
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: memref<?x32xf32>, %[[B:.*]]: memref<32x64xf32>, %[[C:.*]]: memref<?x64xf32>, %[[CTX:.*]]: index
// CHECK-NOT: linalg.fill
// CHECK: %[[D:.*]] = memref.alloca() : memref<28xindex>
// CHECK-DAG: %[[M:.*]] = memref.dim %[[A]], %c0
// CHECK-DAG: %[[PA:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK-DAG: %[[PB:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
// CHECK-DAG: %[[PC:.*]] = memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: memref.store %[[M]], %[[D]][%c0]
// CHECK-NEXT: memref.store %c64, %[[D]][%c1]
// CHECK-NEXT: memref.store %c32, %[[D]][%c2]
// CHECK-NEXT: memref.store %[[PA]], %[[D]][%c3]
// CHECK-NEXT: memref.store %c32, %[[D]][%c4]
// CHECK-NEXT: memref.store %c1, %[[D]][%c5]
// CHECK-NEXT: memref.store %[[PB]], %[[D]][%c6]
// CHECK-NEXT: memref.store %c64, %[[D]][%c7]
// CHECK-NEXT: memref.store %c1, %[[D]][%c8]
// CHECK-NEXT: memref.store %c0, %[[D]][%c9]
// CHECK-NEXT: memref.store %[[PC]], %[[D]][%c10]
// CHECK-NEXT: memref.store %c64, %[[D]][%c11]
// CHECK-NEXT: memref.store %c0, %[[D]][%c12]
// CHECK-NEXT: memref.store %c0, %[[D]][%c13]
// CHECK-NEXT: memref.store %c0, %[[D]][%c14]
// CHECK-NEXT: memref.store %c0, %[[D]][%c15]
// CHECK-NEXT: memref.store %c0, %[[D]][%c16]
// CHECK-NEXT: memref.store %c1, %[[D]][%c17]
// CHECK-NEXT: memref.store %c1, %[[D]][%c18]
// CHECK: %[[PD:.*]] = memref.extract_aligned_pointer_as_index %[[D]]
// CHECK-NEXT: call @kiln_rt_gemm(%[[CTX]], %[[PD]])
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
// CHECK: memref.store %c8, %[[D:.*]][%c0]
// CHECK-NEXT: memref.store %c24, %[[D]][%c1]
// CHECK-NEXT: memref.store %c16, %[[D]][%c2]
// CHECK: memref.store %c1, %[[D]][%c7]
// CHECK-NEXT: memref.store %c16, %[[D]][%c8]
// CHECK: memref.store %c24, %[[D]][%c11]
// CHECK-NEXT: memref.store %c1, %[[D]][%c12]
// CHECK: call @kiln_rt_gemm
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

// Attention's Q.K^T: batch and heads are the call's batch (2 x 4), which
// the runtime runs in parallel; the batch loop of a broadcast operand
// (index 0) does not move it (stride 0), no loop is left around the call.
// Batch strides are in elements.
// CHECK-LABEL: func.func @batched
// CHECK-NOT: scf.for
// CHECK: memref.store %c8, %[[D:.*]][%c0]
// CHECK-NEXT: memref.store %c8, %[[D]][%c1]
// CHECK-NEXT: memref.store %c16, %[[D]][%c2]
// CHECK: memref.store %c2, %[[D]][%c17]
// CHECK-NEXT: memref.store %c4, %[[D]][%c18]
// CHECK-NEXT: memref.store %c512, %[[D]][%c19]
// CHECK-NEXT: memref.store %c128, %[[D]][%c20]
// CHECK-NEXT: memref.store %c0, %[[D]][%c21]
// CHECK-NEXT: memref.store %c128, %[[D]][%c22]
// CHECK-NEXT: memref.store %c256, %[[D]][%c23]
// CHECK-NEXT: memref.store %c64, %[[D]][%c24]
// CHECK: call @kiln_rt_gemm
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

// Three batch loops: the outermost loops around the call and moves the
// addresses; the inner two go into the descriptor.
// CHECK-LABEL: func.func @three_batch_loops
// CHECK-DAG: %[[PX:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 step %c1
// CHECK:   %[[XI:.*]] = arith.muli %[[I]], %c1024
// CHECK:   %[[X:.*]] = arith.addi %[[PX]], %[[XI]]
// CHECK:   memref.store %[[X]], %[[D:.*]][%c3]
// CHECK:   memref.store %c2, %[[D]][%c17]
// CHECK-NEXT: memref.store %c4, %[[D]][%c18]
// CHECK:   call @kiln_rt_gemm
func.func @three_batch_loops(%x: memref<3x2x4x4x8xf32>, %y: memref<3x2x4x8x4xf32>,
                             %z: memref<3x2x4x4x4xf32>, %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [affine_map<(a, b, h, m, n, k) -> (a, b, h, m, k)>,
                                   affine_map<(a, b, h, m, n, k) -> (a, b, h, k, n)>,
                                   affine_map<(a, b, h, m, n, k) -> (a, b, h, m, n)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %y : memref<3x2x4x4x8xf32>, memref<3x2x4x8x4xf32>) outs(%z : memref<3x2x4x4x4xf32>) {
  ^bb0(%p0: f32, %p1: f32, %acc: f32):
    %p = arith.mulf %p0, %p1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// B prepacked by kiln-pack-gemm-weights (40 columns in 2 panels of 32):
// b_panel = 32 and no B strides.
// CHECK-LABEL: func.func @prepacked
// CHECK: memref.store %c40, %[[D:.*]][%c1]
// CHECK: memref.store %c0, %[[D]][%c7]
// CHECK-NEXT: memref.store %c0, %[[D]][%c8]
// CHECK-NEXT: memref.store %c32, %[[D]][%c9]
// CHECK: call @kiln_rt_gemm
// CHECK-NOT: linalg.generic
func.func @prepacked(%a: memref<?x64xf32>, %b: memref<2x64x32xf32>, %c: memref<?x40xf32>,
                     %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (n floordiv 32, k, n mod 32)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x64xf32>, memref<2x64x32xf32>) outs(%c : memref<?x40xf32>) {
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
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// A marked epilogue in place on C right after the contraction becomes the
// call's bias, activation (1: GELU erf) and residual (row stride 64).
// CHECK-LABEL: func.func @epilogue
// CHECK-SAME: (%{{.*}}: memref<?x32xf32>, %{{.*}}: memref<32x64xf32>, %[[C:.*]]: memref<?x64xf32>, %[[BIAS:.*]]: memref<64xf32>, %[[RES:.*]]: memref<?x64xf32>
// CHECK-DAG: %[[PBIAS:.*]] = memref.extract_aligned_pointer_as_index %[[BIAS]]
// CHECK-DAG: %[[PRES:.*]] = memref.extract_aligned_pointer_as_index %[[RES]]
// CHECK: memref.store %[[PBIAS]], %[[D:.*]][%c13]
// CHECK-NEXT: memref.store %c1, %[[D]][%c14]
// CHECK-NEXT: memref.store %[[PRES]], %[[D]][%c15]
// CHECK-NEXT: memref.store %c64, %[[D]][%c16]
// CHECK: call @kiln_rt_gemm
// CHECK-NOT: linalg.generic
func.func @epilogue(%a: memref<?x32xf32>, %b: memref<32x64xf32>, %c: memref<?x64xf32>,
                    %bias: memref<64xf32>, %res: memref<?x64xf32>, %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<?x64xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x32xf32>, memref<32x64xf32>) outs(%c : memref<?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias, %res : memref<?x64xf32>, memref<64xf32>, memref<?x64xf32>) outs(%c : memref<?x64xf32>)
      attrs = {kiln.gemm_epilogue = {activation = 1 : i64, bias = 1 : i64, gemm = 0 : i64, residual = 2 : i64}} {
  ^bb0(%x: f32, %bv: f32, %r: f32, %out: f32):
    %s = arith.addf %x, %bv : f32
    %half = arith.constant 0.5 : f32
    %rs2 = arith.constant 0.70710678 : f32
    %one = arith.constant 1.0 : f32
    %t = arith.mulf %s, %rs2 : f32
    %e = math.erf %t : f32
    %e1 = arith.addf %e, %one : f32
    %h = arith.mulf %s, %half : f32
    %g = arith.mulf %h, %e1 : f32
    %y = arith.addf %g, %r : f32
    linalg.yield %y : f32
  }
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// An epilogue op that writes elsewhere (not in place on C) stays a loop;
// and a copy of a zero-filled buffer into C (what bufferization makes of a
// zero init that CSE shared) is dropped: the call overwrites.
// CHECK-LABEL: func.func @not_an_epilogue
// CHECK: linalg.fill
// CHECK-NOT: memref.copy
// CHECK: memref.store %c0, %[[D:.*]][%c12]
// CHECK: call @kiln_rt_gemm
// CHECK: linalg.generic
func.func @not_an_epilogue(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>,
                           %out: memref<4x4xf32>, %zeros: memref<4x4xf32>, %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%zeros : memref<4x4xf32>)
  memref.copy %zeros, %c : memref<4x4xf32> to memref<4x4xf32>
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x4xf32>) outs(%out : memref<4x4xf32>)
      attrs = {kiln.gemm_epilogue = {activation = 0 : i64, bias = -1 : i64, gemm = 0 : i64, residual = -1 : i64}} {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
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
// CHECK-NOT: kiln_rt_gemm
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

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// The residual is a view made between the contraction and its epilogue
// (reshape folding collapses a [B, S, N] residual there): the view moves
// before the call, which reads it.
// CHECK-LABEL: func.func @residual_view_after_contraction
// CHECK-SAME: %[[RES:[^:]*]]: memref<?x?x64xf32>
// CHECK: %[[VIEW:.*]] = memref.collapse_shape %[[RES]] {{\[\[}}0, 1], [2]]
// CHECK: memref.extract_aligned_pointer_as_index %[[VIEW]]
// CHECK: call @kiln_rt_gemm
// CHECK-NOT: linalg.generic
func.func @residual_view_after_contraction(%a: memref<?x32xf32>, %b: memref<32x64xf32>, %c: memref<?x64xf32>,
                                           %res: memref<?x?x64xf32>, %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<?x64xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x32xf32>, memref<32x64xf32>) outs(%c : memref<?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %flat = memref.collapse_shape %res [[0, 1], [2]] : memref<?x?x64xf32> into memref<?x64xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %flat : memref<?x64xf32>, memref<?x64xf32>) outs(%c : memref<?x64xf32>)
      attrs = {kiln.gemm_epilogue = {activation = 0 : i64, bias = -1 : i64, gemm = 0 : i64, residual = 1 : i64}} {
  ^bb0(%x: f32, %r: f32, %out: f32):
    %y = arith.addf %x, %r : f32
    linalg.yield %y : f32
  }
  return
}
