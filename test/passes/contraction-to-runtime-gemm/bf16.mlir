// RUN: kiln-opt %s --kiln-contraction-to-runtime-gemm -split-input-file | FileCheck %s

// A weight packed as bf16 pairs by kiln-pack-gemm-weights-bf16 (read
// through arith.extf) becomes a kiln.fgemm that keeps B's map: prepacked
// as bf16 (kiln-fgemm-to-runtime then sets b_type).

#mk = affine_map<(m, n, k) -> (m, k)>
#bf16 = affine_map<(m, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>
#mn = affine_map<(m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @bf16_weight
// CHECK-NOT: linalg.generic
// CHECK: kiln.fgemm %{{.*}}, %{{.*}} into %{{.*}} {indexing_maps = [#{{.*}}, #[[B:.*]], #{{.*}}]} : memref<?x3xf32>, memref<1x2x32x2xbf16>, memref<?x2xf32>
func.func @bf16_weight(%a: memref<?x3xf32>, %b: memref<1x2x32x2xbf16>, %c: memref<?x2xf32>,
                       %ctx: index {kiln.runtime_context}) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<?x2xf32>)
  linalg.generic {indexing_maps = [#mk, #bf16, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x3xf32>, memref<1x2x32x2xbf16>) outs(%c : memref<?x2xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %w = arith.extf %y : bf16 to f32
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A bf16 B in any other layout is not the runtime's: the loops stay.
// CHECK-LABEL: func.func @bf16_strided
// CHECK-NOT: kiln.fgemm
// CHECK: linalg.generic
func.func @bf16_strided(%a: memref<?x3xf32>, %b: memref<3x2xbf16>, %c: memref<?x2xf32>,
                        %ctx: index {kiln.runtime_context}) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x3xf32>, memref<3x2xbf16>) outs(%c : memref<?x2xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %w = arith.extf %y : bf16 to f32
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
