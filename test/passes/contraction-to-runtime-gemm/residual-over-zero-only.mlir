// RUN: kiln-opt %s --kiln-contraction-to-runtime-gemm="unit-stride-operands=true residual-over-zero-only=true" -split-input-file | FileCheck %s

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// C's buffer held another value first (the memory plan reuses slots): what
// counts is its last write before the product, the zero fill. The GEMM
// overwrites, the fill goes, and the residual joins it.
// CHECK-LABEL: func.func @reused_slot
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: linalg.fill
// CHECK: kiln.fgemm %arg0, %arg1 residual(%arg3 : memref<4x4xf32>) into %arg2 {indexing_maps
// CHECK-NOT: accumulate
// CHECK-NOT: linalg.generic
func.func @reused_slot(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>,
                       %r: memref<4x4xf32>, %x: memref<4x4xf32>, %y: memref<4x4xf32>,
                       %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x4xf32>) outs(%y : memref<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  linalg.fill ins(%zero : f32) outs(%c : memref<4x4xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %r : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = 1, activation = none>} {
  ^bb0(%v: f32, %w: f32, %o: f32):
    %s = arith.addf %v, %w : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// C holds data (not known zero): the GEMM accumulates onto it, and with
// residual-over-zero-only the residual's add stays a loop after it
// (cuBLASLt reads the residual in C's place: it cannot do both).
// CHECK-LABEL: func.func @accumulating
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {accumulate
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg2, %arg3 : memref<4x4xf32>, memref<4x4xf32>) outs(%arg2 : memref<4x4xf32>)
func.func @accumulating(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>,
                        %r: memref<4x4xf32>, %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %r : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = 1, activation = none>} {
  ^bb0(%v: f32, %w: f32, %o: f32):
    %s = arith.addf %v, %w : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// With symbolic dims a run-time reshape sits between the product and its
// epilogue: its element-count check, already lowered to a branch to
// kiln_rt_fail (the GPU pipeline lowers host checks before bufferization),
// and the stores of its target dims into a stack array. Neither touches a
// tensor's buffer, so the residual still joins the GEMM (where the product
// was).
// CHECK-LABEL: func.func @past_reshape_check
// CHECK: kiln.fgemm %arg0, %arg1 residual(%arg3 : memref<?x4xf32>) into %arg2 {indexing_maps
// CHECK: scf.if
// CHECK: call @kiln_rt_fail
// CHECK: memref.store %{{.*}}, %[[DIMS:.*]][
// CHECK-NOT: linalg.generic
// CHECK: memref.reshape %arg2(%[[DIMS]])
#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
func.func private @kiln_rt_fail(index, index)
func.func @past_reshape_check(%a: memref<?x8xf32>, %b: memref<8x4xf32>, %c: memref<?x4xf32>,
                              %r: memref<?x4xf32>, %bad: i1, %n: index, %msg: memref<8xi8>,
                              %ctx: index {kiln.runtime_context}) -> memref<?x?x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  linalg.fill ins(%zero : f32) outs(%c : memref<?x4xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x8xf32>, memref<8x4xf32>) outs(%c : memref<?x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  scf.if %bad {
    %ptr = memref.extract_aligned_pointer_as_index %msg : memref<8xi8> -> index
    func.call @kiln_rt_fail(%ctx, %ptr) : (index, index) -> ()
  }
  %dims = memref.alloca() : memref<3xindex>
  memref.store %n, %dims[%c0] : memref<3xindex>
  memref.store %n, %dims[%c1] : memref<3xindex>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %r : memref<?x4xf32>, memref<?x4xf32>) outs(%c : memref<?x4xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = 1, activation = none>} {
  ^bb0(%v: f32, %w: f32, %o: f32):
    %t = arith.addf %v, %w : f32
    linalg.yield %t : f32
  }
  %view = memref.reshape %c(%dims) : (memref<?x4xf32>, memref<3xindex>) -> memref<?x?x4xf32>
  return %view : memref<?x?x4xf32>
}
