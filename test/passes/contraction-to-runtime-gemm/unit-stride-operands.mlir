// RUN: kiln-opt %s --kiln-contraction-to-runtime-gemm=unit-stride-operands=true -split-input-file | FileCheck %s

// The GPU path (cuBLASLt) takes an operand only with a unit stride along one
// of its two GEMM dims. A row-major A and a column-major (transposed) B
// qualify: a kiln.fgemm.
#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @transposed_b
// CHECK: kiln.fgemm
// CHECK-NOT: linalg.generic
func.func @transposed_b(%a: memref<8x32xf32>, %b: memref<64x32xf32>, %c: memref<8x64xf32>,
                        %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x32xf32>, memref<64x32xf32>) outs(%c : memref<8x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A read through a view with strides (64, 2) along both of its GEMM dims:
// no unit stride, so the contraction stays loops (the default, for the CPU
// runtime, would make it a kiln.fgemm with those strides).
#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @strided_a
// CHECK-NOT: kiln.fgemm
// CHECK: linalg.generic
func.func @strided_a(%a: memref<8x32xf32, strided<[64, 2]>>, %b: memref<32x64xf32>,
                     %c: memref<8x64xf32>, %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x32xf32, strided<[64, 2]>>, memref<32x64xf32>) outs(%c : memref<8x64xf32>) {
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

// On the GPU path kiln-gpu-device-buffers has made memref.copy a linalg
// copy: a zero init copied that way is known zero too, so the GEMM
// overwrites and the copy goes (the shared zero fill stays: another copy
// reads it).
// CHECK-LABEL: func.func @zeros_through_a_linalg_copy
// CHECK: linalg.fill
// CHECK-NOT: linalg.generic
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {indexing_maps
// CHECK-NOT: accumulate
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg4 : memref<4x4xf32>) outs(%arg5 : memref<4x4xf32>)
func.func @zeros_through_a_linalg_copy(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>,
                                       %out: memref<4x4xf32>, %zeros: memref<4x4xf32>,
                                       %other: memref<4x4xf32>, %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%zeros : memref<4x4xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%zeros : memref<4x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%zeros : memref<4x4xf32>) outs(%other : memref<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// A linalg copy of something not known zero: the GEMM accumulates onto it,
// and the copy stays.
// CHECK-LABEL: func.func @copy_of_data
// CHECK: linalg.generic
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {accumulate
func.func @copy_of_data(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>,
                        %data: memref<4x4xf32>, %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%data : memref<4x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
