// RUN: kiln-opt %s --kiln-bf16-activation-products -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-bf16-activation-products=exclude=scores -split-input-file | FileCheck %s --check-prefix=NAME
// RUN: kiln-opt %s --kiln-bf16-activation-products=exclude=MatMul -split-input-file | FileCheck %s --check-prefix=OPTYPE

// Attention's QK^T: both operands computed at run time (here, arguments),
// K read transposed through its map. It takes bf16 inputs, unless its node
// (by name or op type) is excluded.
#qa = affine_map<(b0, b1, m, n, k) -> (b0, m, k)>
#kt = affine_map<(b0, b1, m, n, k) -> (b0, n, k)>
#s = affine_map<(b0, b1, m, n, k) -> (b0, m, n)>

// CHECK-LABEL: func.func @scores
// CHECK: kiln.fgemm %{{.*}}, %{{.*}} into %{{.*}} {bf16_inputs, indexing_maps
// NAME-LABEL: func.func @scores
// NAME-NOT: bf16_inputs
// OPTYPE-LABEL: func.func @scores
// OPTYPE-NOT: bf16_inputs
func.func @scores(%q: memref<12x128x64xf32>, %k: memref<12x128x64xf32>, %s: memref<12x128x128xf32>) {
  kiln.fgemm %q, %k into %s {indexing_maps = [#qa, #kt, #s]}
      : memref<12x128x64xf32>, memref<12x128x64xf32>, memref<12x128x128xf32> loc(#scores)
  return
}
#scores = loc("scores"("MatMul"))

// -----

// Weights are not its business: a prepacked b (kiln-pack-gemm-weights), and
// an fp32 b that is a view of a constant (a layer --quantize-exclude kept in
// fp32), stay fp32.
#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#packed = affine_map<(b0, b1, m, n, k) -> (n floordiv 16, k, n mod 16)>
#w = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>
memref.global "private" constant @weight : memref<8x16xf32> = dense<1.0>

// CHECK-LABEL: func.func @weights
// CHECK-NOT: bf16_inputs
// CHECK: return
func.func @weights(%x: memref<?x8xf32>, %p: memref<1x8x16xf32>, %y: memref<?x16xf32>) {
  kiln.fgemm %x, %p into %y {indexing_maps = [#a, #packed, #c]}
      : memref<?x8xf32>, memref<1x8x16xf32>, memref<?x16xf32>
  %g = memref.get_global @weight : memref<8x16xf32>
  %v = memref.subview %g[0, 0] [8, 16] [1, 1] : memref<8x16xf32> to memref<8x16xf32, strided<[16, 1]>>
  kiln.fgemm %x, %v into %y {indexing_maps = [#a, #w, #c]}
      : memref<?x8xf32>, memref<8x16xf32, strided<[16, 1]>>, memref<?x16xf32>
  return
}

// -----

// Attention's two products in one kiln.attention: bf16 inputs too, unless
// one of its MatMul nodes (by name, or the op type) is excluded.
// CHECK-LABEL: func.func @fused
// CHECK: kiln.attention {{.*}} {bf16_inputs}
// NAME-LABEL: func.func @fused
// NAME-NOT: bf16_inputs
// OPTYPE-LABEL: func.func @fused
// OPTYPE-NOT: bf16_inputs
func.func @fused(%q: memref<1x2x8x4xf32>, %kt: memref<1x2x4x8xf32>, %v: memref<1x2x8x4xf32>, %o: memref<1x2x8x4xf32>) {
  kiln.attention %q, %kt, %v into %o
      : memref<1x2x8x4xf32>, memref<1x2x4x8xf32>, memref<1x2x8x4xf32>, memref<1x2x8x4xf32> loc(#fused)
  return
}
#fused = loc(fused["scores"("MatMul"), "softmax"("Softmax"), "output"("MatMul")])
