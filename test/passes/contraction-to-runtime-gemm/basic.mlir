// RUN: kiln-opt %s --kiln-contraction-to-runtime-gemm --canonicalize --cse -split-input-file \
// RUN:   -mlir-print-local-scope | FileCheck %s

// kiln.fgemm's loops are (b0, b1, m, n, k) = (d0, d1, d2, d3, d4).

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A zero-filled matmul: one overwriting kiln.fgemm (no accumulate), the
// fill gone; the loops (m, n, k) are the op's (m, n, k).
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: memref<?x32xf32>, %[[B:.*]]: memref<32x64xf32>, %[[C:.*]]: memref<?x64xf32>
// CHECK-NOT: linalg.fill
// CHECK: kiln.fgemm %[[A]], %[[B]] into %[[C]] {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3)>]}
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

// B transposed (gemm transB): its map says so, it is not copied; without a
// fill the op accumulates.
// CHECK-LABEL: func.func @transposed_b
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {accumulate, indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3)>]}
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

// Attention's Q.K^T: batch and heads are the op's batch loops (b0, b1),
// which the runtime runs in parallel; the batch dim of a broadcast operand
// (index 0) stays 0. No loop is left around the op.
// CHECK-LABEL: func.func @batched
// CHECK-NOT: scf.for
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {accumulate, indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>]}
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

// Three batch loops: the outermost loops around the op, which reads a
// one-iteration view of each operand (index 0 of that dim); the inner two
// are the op's b0 and b1.
// CHECK-LABEL: func.func @three_batch_loops
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 step %c1
// CHECK-DAG: %[[X:.*]] = memref.subview %arg0[%[[I]], 0, 0, 0, 0] [1, 2, 4, 4, 8] [1, 1, 1, 1, 1]
// CHECK-DAG: %[[Y:.*]] = memref.subview %arg1[%[[I]], 0, 0, 0, 0] [1, 2, 4, 8, 4] [1, 1, 1, 1, 1]
// CHECK-DAG: %[[Z:.*]] = memref.subview %arg2[%[[I]], 0, 0, 0, 0] [1, 2, 4, 4, 4] [1, 1, 1, 1, 1]
// CHECK: kiln.fgemm %[[X]], %[[Y]] into %[[Z]] {accumulate, indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (0, d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (0, d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (0, d0, d1, d2, d3)>]}
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
// its map keeps the panel form.
// CHECK-LABEL: func.func @prepacked
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {accumulate, indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d3 floordiv 32, d4, d3 mod 32)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3)>]}
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
// op's bias (n only), activation and residual (C's map).
// CHECK-LABEL: func.func @epilogue
// CHECK-SAME: (%[[A:.*]]: memref<?x32xf32>, %[[B:.*]]: memref<32x64xf32>, %[[C:.*]]: memref<?x64xf32>, %[[BIAS:.*]]: memref<64xf32>, %[[RES:.*]]: memref<?x64xf32>
// CHECK: kiln.fgemm %[[A]], %[[B]] bias(%[[BIAS]] : memref<64xf32>) residual(%[[RES]] : memref<?x64xf32>) into %[[C]] {activation = #kiln.gemm_activation<gelu_erf>, indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3)>]}
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
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = gelu_erf>} {
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
// zero init that CSE shared) is dropped: the op overwrites.
// CHECK-LABEL: func.func @not_an_epilogue
// CHECK: linalg.fill
// CHECK-NOT: memref.copy
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {indexing_maps
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
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = -1, activation = none>} {
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
// CHECK-NOT: kiln.fgemm
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
// before the op, which reads it.
// CHECK-LABEL: func.func @residual_view_after_contraction
// CHECK-SAME: %[[RES:[^:]*]]: memref<?x?x64xf32>
// CHECK: %[[VIEW:.*]] = memref.collapse_shape %[[RES]] {{\[\[}}0, 1], [2]]
// CHECK: kiln.fgemm %arg0, %arg1 residual(%[[VIEW]] : memref<?x64xf32>) into %arg2
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
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = 1, activation = none>} {
  ^bb0(%x: f32, %r: f32, %out: f32):
    %y = arith.addf %x, %r : f32
    linalg.yield %y : f32
  }
  return
}
