// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// kiln.fgemm round-trips: a plain GEMM, a prepacked B with a fused
// epilogue, and attention's batched product with a broadcast operand.

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @plain
// CHECK: kiln.fgemm %arg0, %arg1 into %arg2 {accumulate, indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}]} : memref<?x32xf32>, memref<32x64xf32>, memref<?x64xf32>
func.func @plain(%a: memref<?x32xf32>, %b: memref<32x64xf32>, %c: memref<?x64xf32>) {
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c], accumulate}
      : memref<?x32xf32>, memref<32x64xf32>, memref<?x64xf32>
  return
}

// CHECK-LABEL: func.func @epilogue
// CHECK: kiln.fgemm %arg0, %arg1 bias(%arg2 : memref<40xf32>) residual(%arg3 : memref<?x40xf32>) into %arg4 {activation = #kiln.gemm_activation<gelu_tanh>
func.func @epilogue(%a: memref<?x64xf32>, %b: memref<2x64x32xf32>, %bias: memref<40xf32>,
                    %r: memref<?x40xf32>, %c: memref<?x40xf32>) {
  kiln.fgemm %a, %b bias(%bias : memref<40xf32>) residual(%r : memref<?x40xf32>) into %c
      {indexing_maps = [#a, affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k, n mod 32)>,
                        affine_map<(b0, b1, m, n, k) -> (n)>, #c, #c],
       activation = #kiln.gemm_activation<gelu_tanh>}
      : memref<?x64xf32>, memref<2x64x32xf32>, memref<?x40xf32>
  return
}

// CHECK-LABEL: func.func @batched
// CHECK: kiln.fgemm
func.func @batched(%q: memref<2x4x8x16xf32>, %k: memref<1x4x16x8xf32>, %out: memref<2x4x8x8xf32>) {
  kiln.fgemm %q, %k into %out
      {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (b0, b1, m, k)>,
                        affine_map<(b0, b1, m, n, k) -> (0, b1, k, n)>,
                        affine_map<(b0, b1, m, n, k) -> (b0, b1, m, n)>]}
      : memref<2x4x8x16xf32>, memref<1x4x16x8xf32>, memref<2x4x8x8xf32>
  return
}

// -----

// A b prepacked as bf16 pairs (kiln-pack-gemm-weights-bf16): K = 3 in 2
// pairs.
// CHECK-LABEL: func.func @bf16_b
// CHECK: kiln.fgemm
func.func @bf16_b(%a: memref<?x3xf32>, %b: memref<1x2x32x2xbf16>, %c: memref<?x2xf32>) {
  kiln.fgemm %a, %b into %c
      {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (m, k)>,
                        affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>,
                        affine_map<(b0, b1, m, n, k) -> (m, n)>]}
      : memref<?x3xf32>, memref<1x2x32x2xbf16>, memref<?x2xf32>
  return
}
