// RUN: kiln-opt %s --kiln-contraction-to-runtime-gemm="unit-stride-operands=true residual-over-zero-only=true" -split-input-file | FileCheck %s

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// kiln-gpu-half-storage's GEMM: f16 operands read through arith.extf, f32
// sums over zeros, the bias and residual epilogue, then a copy to f16. The
// GEMM stores f16 itself: the copy, the fill and the epilogue's loop go,
// and so does C (f32), never written. The target's alloc moves up (before
// the memory plan).
// CHECK-LABEL: func.func @stores_f16
// CHECK-NOT: memref.alloc() : memref<4x4xf32>
// CHECK: %[[D:.*]] = memref.alloc() : memref<4x4xf16>
// CHECK-NOT: linalg
// CHECK: kiln.fgemm %arg0, %arg1 bias(%arg2 : memref<4xf16>) residual(%arg3 : memref<4x4xf16>) into %[[D]] {indexing_maps
// CHECK-SAME: memref<4x8xf16>, memref<8x4xf16>, memref<4x4xf16>
// CHECK-NOT: accumulate
// CHECK-NOT: linalg
// CHECK: memref.copy %[[D]], %arg4
// CHECK-NOT: memref.dealloc %{{.*}} : memref<4x4xf32>
func.func @stores_f16(%a: memref<4x8xf16>, %b: memref<8x4xf16>, %bias: memref<4xf16>,
                      %r: memref<4x4xf16>, %out: memref<4x4xf16>, %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4x4xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x4xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf16>, memref<8x4xf16>) outs(%c : memref<4x4xf32>) {
  ^bb0(%p: f16, %q: f16, %acc: f32):
    %x = arith.extf %p : f16 to f32
    %y = arith.extf %q : f16 to f32
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias, %r : memref<4x4xf32>, memref<4xf16>, memref<4x4xf16>) outs(%c : memref<4x4xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = none>} {
  ^bb0(%v: f32, %bi: f16, %re: f16, %o: f32):
    %bx = arith.extf %bi : f16 to f32
    %rx = arith.extf %re : f16 to f32
    %s = arith.addf %v, %bx : f32
    %t = arith.addf %s, %rx : f32
    linalg.yield %t : f32
  }
  %d = memref.alloc() : memref<4x4xf16>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x4xf32>) outs(%d : memref<4x4xf16>) {
  ^bb0(%v: f32, %o: f16):
    %h = arith.truncf %v : f32 to f16
    linalg.yield %h : f16
  }
  memref.copy %d, %out : memref<4x4xf16> to memref<4x4xf16>
  memref.dealloc %c : memref<4x4xf32>
  memref.dealloc %d : memref<4x4xf16>
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// cuBLASLt reads the bias in the type it stores: an f32 bias keeps the
// GEMM's f32 result (the epilogue moves in) and the copy stays a loop.
// CHECK-LABEL: func.func @f32_bias
// CHECK: kiln.fgemm %arg0, %arg1 bias(%arg2 : memref<4xf32>) into %[[C:.*]] {indexing_maps
// CHECK-SAME: memref<4x8xf16>, memref<8x4xf16>, memref<4x4xf32>
// CHECK: linalg.generic {{.*}} ins(%[[C]] : memref<4x4xf32>) outs(%{{.*}} : memref<4x4xf16>)
// CHECK: arith.truncf
func.func @f32_bias(%a: memref<4x8xf16>, %b: memref<8x4xf16>, %bias: memref<4xf32>,
                    %d: memref<4x4xf16>, %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4x4xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x4xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf16>, memref<8x4xf16>) outs(%c : memref<4x4xf32>) {
  ^bb0(%p: f16, %q: f16, %acc: f32):
    %x = arith.extf %p : f16 to f32
    %y = arith.extf %q : f16 to f32
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<4x4xf32>, memref<4xf32>) outs(%c : memref<4x4xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = none>} {
  ^bb0(%v: f32, %bi: f32, %o: f32):
    %s = arith.addf %v, %bi : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x4xf32>) outs(%d : memref<4x4xf16>) {
  ^bb0(%v: f32, %o: f16):
    %h = arith.truncf %v : f32 to f16
    linalg.yield %h : f16
  }
  memref.dealloc %c : memref<4x4xf32>
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// 16-bit results come from 16-bit operands of that type only (fp32 A and
// B: cuBLASLt's FAST_16F stores fp32); and a C read after the copy must be
// written: both copies stay loops.
// CHECK-LABEL: func.func @kept_copies
// CHECK: kiln.fgemm %arg0, %arg1 into %[[C1:.*]] {indexing_maps
// CHECK-SAME: memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>
// CHECK: linalg.generic {{.*}} ins(%[[C1]] : memref<4x4xf32>) outs(%arg2 : memref<4x4xf16>)
// CHECK: kiln.fgemm %arg3, %arg4 into %[[C2:.*]] {indexing_maps
// CHECK-SAME: memref<4x8xf16>, memref<8x4xf16>, memref<4x4xf32>
// CHECK: linalg.generic {{.*}} ins(%[[C2]] : memref<4x4xf32>) outs(%arg5 : memref<4x4xf16>)
// CHECK: memref.copy %[[C2]], %arg6
func.func @kept_copies(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %d: memref<4x4xf16>,
                       %a2: memref<4x8xf16>, %b2: memref<8x4xf16>, %d2: memref<4x4xf16>,
                       %keep: memref<4x4xf32>, %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4x4xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x4xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x4xf32>) outs(%d : memref<4x4xf16>) {
  ^bb0(%v: f32, %o: f16):
    %h = arith.truncf %v : f32 to f16
    linalg.yield %h : f16
  }
  %c2 = memref.alloc() : memref<4x4xf32>
  linalg.fill ins(%zero : f32) outs(%c2 : memref<4x4xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a2, %b2 : memref<4x8xf16>, memref<8x4xf16>) outs(%c2 : memref<4x4xf32>) {
  ^bb0(%p: f16, %q: f16, %acc: f32):
    %x = arith.extf %p : f16 to f32
    %y = arith.extf %q : f16 to f32
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c2 : memref<4x4xf32>) outs(%d2 : memref<4x4xf16>) {
  ^bb0(%v: f32, %o: f16):
    %h = arith.truncf %v : f32 to f16
    linalg.yield %h : f16
  }
  memref.copy %c2, %keep : memref<4x4xf32> to memref<4x4xf32>
  memref.dealloc %c : memref<4x4xf32>
  memref.dealloc %c2 : memref<4x4xf32>
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// With a symbolic row count the 16-bit buffer's alloc takes its size from
// a memref.dim: both move before the GEMM, which stores into it as with
// static shapes (no f32 buffer, no truncating kernel).
// CHECK-LABEL: func.func @stores_f16_symbolic
// CHECK-NOT: memref.alloc(%{{.*}}) : memref<?x4xf32>
// CHECK: %[[D:.*]] = memref.alloc(%{{.*}}) : memref<?x4xf16>
// CHECK-NOT: linalg
// CHECK: kiln.fgemm %arg0, %arg1 into %[[D]] {indexing_maps
// CHECK-SAME: memref<?x8xf16>, memref<8x4xf16>, memref<?x4xf16>
// CHECK-NOT: linalg
// CHECK: memref.copy %[[D]], %arg2
func.func @stores_f16_symbolic(%a: memref<?x8xf16>, %b: memref<8x4xf16>, %out: memref<?x4xf16>,
                               %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = memref.dim %a, %c0 : memref<?x8xf16>
  %c = memref.alloc(%m) : memref<?x4xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x4xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x8xf16>, memref<8x4xf16>) outs(%c : memref<?x4xf32>) {
  ^bb0(%p: f16, %q: f16, %acc: f32):
    %x = arith.extf %p : f16 to f32
    %y = arith.extf %q : f16 to f32
    %mul = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %mul : f32
    linalg.yield %s : f32
  }
  %m2 = memref.dim %a, %c0 : memref<?x8xf16>
  %d = memref.alloc(%m2) : memref<?x4xf16>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<?x4xf32>) outs(%d : memref<?x4xf16>) {
  ^bb0(%v: f32, %o: f16):
    %h = arith.truncf %v : f32 to f16
    linalg.yield %h : f16
  }
  memref.copy %d, %out : memref<?x4xf16> to memref<?x4xf16>
  memref.dealloc %c : memref<?x4xf32>
  memref.dealloc %d : memref<?x4xf16>
  return
}
