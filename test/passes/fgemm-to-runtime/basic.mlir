// RUN: kiln-opt %s --kiln-fgemm-to-runtime --canonicalize --cse -split-input-file | FileCheck %s

// (canonicalize folds the strides of static buffers to constants. Each call
// fills the kiln_gemm_desc words in order: 0 m, 1 n, 2 k, 3 a, 4 a_rs,
// 5 a_cs, 6 b, 7 b_rs, 8 b_cs, 9 b_panel, 10 c, 11 ldc, 12 accumulate,
// 13 bias, 14 activation, 15 residual, 16 residual_rs, 17-18 batch,
// 19-26 batch strides of a, b, c, residual.)

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

// A plain GEMM that overwrites: m from A's dim, A row-major (strides 32, 1),
// B row-major (64, 1), ldc 64, a batch of 1 x 1.
// CHECK: func.func private @kiln_rt_gemm(index, index)
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: memref<?x32xf32>, %[[B:.*]]: memref<32x64xf32>, %[[C:.*]]: memref<?x64xf32>, %[[CTX:.*]]: index
// CHECK: %[[D:.*]] = memref.alloca() : memref<30xindex>
// CHECK-DAG: %[[M:.*]] = memref.dim %[[C]], %c0
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
// CHECK-NOT: kiln.fgemm
func.func @matmul(%a: memref<?x32xf32>, %b: memref<32x64xf32>, %c: memref<?x64xf32>,
                  %ctx: index {kiln.runtime_context}) {
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c]}
      : memref<?x32xf32>, memref<32x64xf32>, memref<?x64xf32>
  return
}

// -----

// B transposed: its k stride is its column stride, its n stride its row
// stride; accumulate = 1.
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
  kiln.fgemm %a, %b into %c
      {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (m, k)>,
                        affine_map<(b0, b1, m, n, k) -> (n, k)>,
                        affine_map<(b0, b1, m, n, k) -> (m, n)>], accumulate}
      : memref<8x16xf32>, memref<24x16xf32>, memref<8x24xf32>
  return
}

// -----

// A batch of 2 x 4 GEMMs; the broadcast dim of the second operand gives no
// stride. Batch strides are in elements.
// CHECK-LABEL: func.func @batched
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
  kiln.fgemm %q, %k into %out
      {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (b0, b1, m, k)>,
                        affine_map<(b0, b1, m, n, k) -> (0, b1, k, n)>,
                        affine_map<(b0, b1, m, n, k) -> (b0, b1, m, n)>], accumulate}
      : memref<2x4x8x16xf32>, memref<1x4x16x8xf32>, memref<2x4x8x8xf32>
  return
}

// -----

// B prepacked (40 columns in 2 panels of 32): b_panel = 32, no B strides,
// k from the panels' depth.
// CHECK-LABEL: func.func @prepacked
// CHECK: memref.store %c40, %[[D:.*]][%c1]
// CHECK-NEXT: memref.store %c64, %[[D]][%c2]
// CHECK: memref.store %c0, %[[D]][%c7]
// CHECK-NEXT: memref.store %c0, %[[D]][%c8]
// CHECK-NEXT: memref.store %c32, %[[D]][%c9]
// CHECK: call @kiln_rt_gemm
func.func @prepacked(%a: memref<?x64xf32>, %b: memref<2x64x32xf32>, %c: memref<?x40xf32>,
                     %ctx: index {kiln.runtime_context}) {
  kiln.fgemm %a, %b into %c
      {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (m, k)>,
                        affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k, n mod 32)>,
                        affine_map<(b0, b1, m, n, k) -> (m, n)>], accumulate}
      : memref<?x64xf32>, memref<2x64x32xf32>, memref<?x40xf32>
  return
}

// -----

// The epilogue: bias address, activation 1 (GELU erf), residual address and
// row stride 64.
// CHECK-LABEL: func.func @epilogue
// CHECK-SAME: %[[BIAS:[^:]*]]: memref<64xf32>, %[[RES:[^:]*]]: memref<?x64xf32>
// CHECK-DAG: %[[PBIAS:.*]] = memref.extract_aligned_pointer_as_index %[[BIAS]]
// CHECK-DAG: %[[PRES:.*]] = memref.extract_aligned_pointer_as_index %[[RES]]
// CHECK: memref.store %[[PBIAS]], %[[D:.*]][%c13]
// CHECK-NEXT: memref.store %c1, %[[D]][%c14]
// CHECK-NEXT: memref.store %[[PRES]], %[[D]][%c15]
// CHECK-NEXT: memref.store %c64, %[[D]][%c16]
// CHECK: call @kiln_rt_gemm
func.func @epilogue(%a: memref<?x32xf32>, %b: memref<32x64xf32>, %c: memref<?x64xf32>,
                    %bias: memref<64xf32>, %res: memref<?x64xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.fgemm %a, %b bias(%bias : memref<64xf32>) residual(%res : memref<?x64xf32>) into %c
      {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (m, k)>,
                        affine_map<(b0, b1, m, n, k) -> (k, n)>,
                        affine_map<(b0, b1, m, n, k) -> (n)>,
                        affine_map<(b0, b1, m, n, k) -> (m, n)>,
                        affine_map<(b0, b1, m, n, k) -> (m, n)>],
       activation = #kiln.gemm_activation<gelu_erf>}
      : memref<?x32xf32>, memref<32x64xf32>, memref<?x64xf32>
  return
}

// -----

// A vector times a matrix: no m loop, so m = 1, a_rs = 0 and ldc = 1.
// CHECK-LABEL: func.func @vector_matrix
// CHECK: memref.store %c1, %[[D:.*]][%c0]
// CHECK-NEXT: memref.store %c8, %[[D]][%c1]
// CHECK-NEXT: memref.store %c16, %[[D]][%c2]
// CHECK: memref.store %c0, %[[D]][%c4]
// CHECK-NEXT: memref.store %c1, %[[D]][%c5]
// CHECK: memref.store %c1, %[[D]][%c11]
// CHECK: call @kiln_rt_gemm
func.func @vector_matrix(%x: memref<16xf32>, %w: memref<16x8xf32>, %y: memref<8xf32>,
                         %ctx: index {kiln.runtime_context}) {
  kiln.fgemm %x, %w into %y
      {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (k)>,
                        affine_map<(b0, b1, m, n, k) -> (k, n)>,
                        affine_map<(b0, b1, m, n, k) -> (n)>]}
      : memref<16xf32>, memref<16x8xf32>, memref<8xf32>
  return
}
