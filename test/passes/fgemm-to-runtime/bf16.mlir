// RUN: kiln-opt %s --kiln-fgemm-to-runtime --canonicalize --cse -split-input-file | FileCheck %s

// A b prepacked as bf16 pairs (kiln-pack-gemm-weights-bf16): passed like an
// fp32 panel (b_panel = 32, word 9; no strides, words 7 and 8), with k from
// a (3, word 2, not b's 2 pairs) and b_type bf16 (16, word 27).

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @bf16_weight
// CHECK-SAME: (%[[A:.*]]: memref<?x3xf32>, %[[B:.*]]: memref<1x2x32x2xbf16>
// CHECK: %[[D:.*]] = memref.alloca() : memref<30xindex>
// CHECK-DAG: %[[PB:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: memref.store %c3, %[[D]][%c2]
// CHECK: memref.store %[[PB]], %[[D]][%c6]
// CHECK-NEXT: memref.store %c0, %[[D]][%c7]
// CHECK-NEXT: memref.store %c0, %[[D]][%c8]
// CHECK-NEXT: memref.store %c32, %[[D]][%c9]
// CHECK: memref.store %c16, %[[D]][%c27]
// CHECK: call @kiln_rt_gemm
func.func @bf16_weight(%a: memref<?x3xf32>, %b: memref<1x2x32x2xbf16>, %c: memref<?x2xf32>,
                       %ctx: index {kiln.runtime_context}) {
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c]}
      : memref<?x3xf32>, memref<1x2x32x2xbf16>, memref<?x2xf32>
  return
}

// -----

// An fp32 b read at run time with bf16_inputs (attention's K^T): its
// strides as for fp32 (b_rs 1 and b_cs 4, words 7 and 8; b_panel 0) and
// b_type bf16.
#qa = affine_map<(b0, b1, m, n, k) -> (b0, m, k)>
#kt = affine_map<(b0, b1, m, n, k) -> (b0, n, k)>
#s = affine_map<(b0, b1, m, n, k) -> (b0, m, n)>

// CHECK-LABEL: func.func @bf16_inputs
// CHECK: %[[D:.*]] = memref.alloca() : memref<30xindex>
// CHECK: memref.store %c1, %[[D]][%c7]
// CHECK-NEXT: memref.store %c4, %[[D]][%c8]
// CHECK-NEXT: memref.store %c0, %[[D]][%c9]
// CHECK: memref.store %c16, %[[D]][%c27]
// CHECK: call @kiln_rt_gemm
func.func @bf16_inputs(%q: memref<2x8x4xf32>, %k: memref<2x8x4xf32>, %s: memref<2x8x8xf32>,
                       %ctx: index {kiln.runtime_context}) {
  kiln.fgemm %q, %k into %s {bf16_inputs, indexing_maps = [#qa, #kt, #s]}
      : memref<2x8x4xf32>, memref<2x8x4xf32>, memref<2x8x8xf32>
  return
}

// -----

// Half storage (the GPU path with --precision fp16): f16 a and b give
// a_type and b_type FLOAT16 (10; words 28 and 27), an f16 C, bias and
// residual c_type FLOAT16 (word 29). Strides count f16 elements.
#ha = affine_map<(b0, b1, m, n, k) -> (m, k)>
#hb = affine_map<(b0, b1, m, n, k) -> (k, n)>
#hbias = affine_map<(b0, b1, m, n, k) -> (n)>
#hc = affine_map<(b0, b1, m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @half_storage
// CHECK: %[[D:.*]] = memref.alloca() : memref<30xindex>
// CHECK: memref.store %c8, %[[D]][%c4]
// CHECK: memref.store %c10, %[[D]][%c27]
// CHECK-NEXT: memref.store %c10, %[[D]][%c28]
// CHECK-NEXT: memref.store %c10, %[[D]][%c29]
// CHECK: call @kiln_rt_gemm
func.func @half_storage(%a: memref<4x8xf16>, %b: memref<8x3xf16>, %bias: memref<3xf16>,
                        %c: memref<4x3xf16>, %ctx: index {kiln.runtime_context}) {
  kiln.fgemm %a, %b bias(%bias : memref<3xf16>) into %c {indexing_maps = [#ha, #hb, #hbias, #hc]}
      : memref<4x8xf16>, memref<8x3xf16>, memref<4x3xf16>
  return
}
