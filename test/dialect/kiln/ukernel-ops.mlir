// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// kiln.qgemm on tensors (one result, rows kept in init's leading dims) and
// on memrefs (none). A packed 2 x 3 int8 B is kiln_qgemm_packed_size(2, 3)
// = 16 * 4 + 4 * 16 = 128 bytes.

// CHECK-LABEL: func.func @tensors
// CHECK: kiln.qgemm %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<3xf32>) residual(%{{.*}} : tensor<?x3xf32>) into %{{.*}} {activation = 1 : i64, k = 2 : i64, n = 3 : i64} : tensor<?x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
func.func @tensors(%a: tensor<?x2xf32>, %b: tensor<128xi8>, %s: tensor<3xf32>, %bias: tensor<3xf32>,
                   %r: tensor<?x3xf32>, %init: tensor<?x?x3xf32>) -> tensor<?x?x3xf32> {
  %y = kiln.qgemm %a, %b, %s bias(%bias : tensor<3xf32>) residual(%r : tensor<?x3xf32>) into %init
         {k = 2 : i64, n = 3 : i64, activation = 1 : i64}
         : tensor<?x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}

// CHECK-LABEL: func.func @memrefs
// CHECK: kiln.qgemm %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} {k = 2 : i64, n = 3 : i64} : memref<4x2xf32, strided<[8, 1]>>, memref<128xi8>, memref<3xf32>, memref<4x3xf32>
// CHECK-NOT: ->
func.func @memrefs(%a: memref<4x2xf32, strided<[8, 1]>>, %b: memref<128xi8>, %s: memref<3xf32>,
                   %init: memref<4x3xf32>) {
  kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
    : memref<4x2xf32, strided<[8, 1]>>, memref<128xi8>, memref<3xf32>, memref<4x3xf32>
  return
}

// A pre-quantized A: ui8, with its one scale and zero point.
// CHECK-LABEL: func.func @prequantized
// CHECK: kiln.qgemm %{{.*}}, %{{.*}}, %{{.*}} a_scale(%{{.*}} : tensor<f32>) a_zero_point(%{{.*}} : tensor<ui8>) bias(%{{.*}} : tensor<3xf32>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<?x2xui8>, tensor<128xi8>, tensor<3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
func.func @prequantized(%a: tensor<?x2xui8>, %b: tensor<128xi8>, %s: tensor<3xf32>, %sa: tensor<f32>,
                        %za: tensor<ui8>, %bias: tensor<3xf32>, %init: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %y = kiln.qgemm %a, %b, %s a_scale(%sa : tensor<f32>) a_zero_point(%za : tensor<ui8>)
         bias(%bias : tensor<3xf32>) into %init {k = 2 : i64, n = 3 : i64}
         : tensor<?x2xui8>, tensor<128xi8>, tensor<3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// A static (calibrated) f32 A: quantized with one given scale and zero point.
// CHECK-LABEL: func.func @static_f32_a
// CHECK: kiln.qgemm %{{.*}}, %{{.*}}, %{{.*}} a_scale(%{{.*}} : tensor<f32>) a_zero_point(%{{.*}} : tensor<ui8>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<?x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
func.func @static_f32_a(%a: tensor<?x2xf32>, %b: tensor<128xi8>, %s: tensor<3xf32>, %sa: tensor<f32>,
                        %za: tensor<ui8>, %init: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %y = kiln.qgemm %a, %b, %s a_scale(%sa : tensor<f32>) a_zero_point(%za : tensor<ui8>) into %init
         {k = 2 : i64, n = 3 : i64}
         : tensor<?x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// Both are optional (scale 1, zero point 0), and may be of any rank.
// CHECK-LABEL: func.func @prequantized_memrefs
// CHECK: kiln.qgemm %{{.*}}, %{{.*}}, %{{.*}} a_zero_point(%{{.*}} : memref<1xui8>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : memref<4x2xui8>, memref<128xi8>, memref<3xf32>, memref<4x3xf32>
func.func @prequantized_memrefs(%a: memref<4x2xui8>, %b: memref<128xi8>, %s: memref<3xf32>,
                                %za: memref<1xui8>, %init: memref<4x3xf32>) {
  kiln.qgemm %a, %b, %s a_zero_point(%za : memref<1xui8>) into %init {k = 2 : i64, n = 3 : i64}
    : memref<4x2xui8>, memref<128xi8>, memref<3xf32>, memref<4x3xf32>
  return
}

// kiln.sparse_gemm: a 2 x 3 B as 2 stored blocks of 1 x 4 is
// kiln_sparse_packed_size(3, 4, 2) = 64 (header) + 64 (starts) + 64 (rows)
// + 32 (values) = 224 bytes; as 2 blocks of 1 x 1, 64 + 64 + 64 + 8 = 200.
// CHECK-LABEL: func.func @sparse_tensors
// CHECK: kiln.sparse_gemm %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<3xf32>) residual(%{{.*}} : tensor<?x3xf32>) into %{{.*}} {activation = #kiln.gemm_activation<gelu_erf>, block_width = 4 : i64, k = 2 : i64, n = 3 : i64, stored_blocks = 2 : i64} : tensor<?x2xf32>, tensor<224xi8>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
func.func @sparse_tensors(%a: tensor<?x2xf32>, %b: tensor<224xi8>, %bias: tensor<3xf32>,
                          %r: tensor<?x3xf32>, %init: tensor<?x?x3xf32>) -> tensor<?x?x3xf32> {
  %y = kiln.sparse_gemm %a, %b bias(%bias : tensor<3xf32>) residual(%r : tensor<?x3xf32>) into %init
         {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64,
          activation = #kiln.gemm_activation<gelu_erf>}
         : tensor<?x2xf32>, tensor<224xi8>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}

// CHECK-LABEL: func.func @sparse_memrefs
// CHECK: kiln.sparse_gemm %{{.*}}, %{{.*}} into %{{.*}} {block_width = 1 : i64, k = 2 : i64, n = 3 : i64, stored_blocks = 2 : i64} : memref<4x2xf32, strided<[8, 1]>>, memref<200xi8>, memref<4x3xf32>
// CHECK-NOT: ->
func.func @sparse_memrefs(%a: memref<4x2xf32, strided<[8, 1]>>, %b: memref<200xi8>, %init: memref<4x3xf32>) {
  kiln.sparse_gemm %a, %b into %init {k = 2 : i64, n = 3 : i64, block_width = 1 : i64, stored_blocks = 2 : i64}
    : memref<4x2xf32, strided<[8, 1]>>, memref<200xi8>, memref<4x3xf32>
  return
}

// kiln.sparse_qgemm: a 2 x 3 int8 B as 1 group of 1 x 4 blocks is
// kiln_sparse_qgemm_packed_size(3, 4, 1) = 64 (header) + 64 (starts) + 64
// (rows) + 64 (weights) + 64 (column sums) = 320 bytes; as 2 groups of
// 1 x 1 blocks, also 320. The activation's scale and zero point, when
// static, are as for kiln.qgemm.
// CHECK-LABEL: func.func @sparse_qgemm_tensors
// CHECK: kiln.sparse_qgemm %{{.*}}, %{{.*}}, %{{.*}} a_scale(%{{.*}} : tensor<f32>) a_zero_point(%{{.*}} : tensor<ui8>) bias(%{{.*}} : tensor<3xf32>) into %{{.*}} {activation = #kiln.gemm_activation<relu>, block_width = 4 : i64, k = 2 : i64, n = 3 : i64, stored_groups = 1 : i64} : tensor<?x2xf32>, tensor<320xi8>, tensor<3xf32>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
func.func @sparse_qgemm_tensors(%a: tensor<?x2xf32>, %b: tensor<320xi8>, %s: tensor<3xf32>,
                                %sa: tensor<f32>, %za: tensor<ui8>, %bias: tensor<3xf32>,
                                %init: tensor<?x?x3xf32>) -> tensor<?x?x3xf32> {
  %y = kiln.sparse_qgemm %a, %b, %s a_scale(%sa : tensor<f32>) a_zero_point(%za : tensor<ui8>)
         bias(%bias : tensor<3xf32>) into %init
         {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 1 : i64,
          activation = #kiln.gemm_activation<relu>}
         : tensor<?x2xf32>, tensor<320xi8>, tensor<3xf32>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}

// CHECK-LABEL: func.func @sparse_qgemm_memrefs
// CHECK: kiln.sparse_qgemm %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} {block_width = 1 : i64, k = 2 : i64, n = 3 : i64, stored_groups = 2 : i64} : memref<4x2xui8>, memref<320xi8>, memref<3xf32>, memref<4x3xf32>
// CHECK-NOT: ->
func.func @sparse_qgemm_memrefs(%a: memref<4x2xui8>, %b: memref<320xi8>, %s: memref<3xf32>,
                                %init: memref<4x3xf32>) {
  kiln.sparse_qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, block_width = 1 : i64, stored_groups = 2 : i64}
    : memref<4x2xui8>, memref<320xi8>, memref<3xf32>, memref<4x3xf32>
  return
}

// kiln.layer_norm_rows on tensors (with a bias) and on buffers (rows of a
// strided x contiguous, no bias).
// CHECK-LABEL: func.func @layer_norm_rows
// CHECK: kiln.layer_norm_rows %arg0, %arg1 bias(%arg2 : tensor<384xf32>) into %arg3 {epsilon = 9.99999996E-13 : f32} : tensor<?x128x384xf32>, tensor<384xf32>, tensor<?x128x384xf32> -> tensor<?x128x384xf32>
// CHECK: kiln.layer_norm_rows %arg4, %arg5 into %arg6 {epsilon = 9.99999974E-6 : f32} : memref<4x8xf32, strided<[16, 1]>>, memref<8xf32>, memref<4x8xf32>
func.func @layer_norm_rows(%x: tensor<?x128x384xf32>, %g: tensor<384xf32>, %b: tensor<384xf32>,
                           %init: tensor<?x128x384xf32>, %xb: memref<4x8xf32, strided<[16, 1]>>,
                           %gb: memref<8xf32>, %out: memref<4x8xf32>) -> tensor<?x128x384xf32> {
  %y = kiln.layer_norm_rows %x, %g bias(%b : tensor<384xf32>) into %init {epsilon = 1.0e-12 : f32}
         : tensor<?x128x384xf32>, tensor<384xf32>, tensor<?x128x384xf32> -> tensor<?x128x384xf32>
  kiln.layer_norm_rows %xb, %gb into %out {epsilon = 1.0e-5 : f32}
    : memref<4x8xf32, strided<[16, 1]>>, memref<8xf32>, memref<4x8xf32>
  return %y : tensor<?x128x384xf32>
}

// kiln.softmax_rows on tensors and on buffers (a strided x whose rows are
// contiguous, a mask broadcast over heads and rows).
// CHECK-LABEL: func.func @softmax_rows
// CHECK: kiln.softmax_rows %arg0 addend(%arg1 : tensor<?x1x1x128xf32>) into %arg2 {scale = 1.250000e-01 : f32} : tensor<?x12x128x128xf32>, tensor<?x12x128x128xf32> -> tensor<?x12x128x128xf32>
// CHECK: kiln.softmax_rows %arg3 into %arg4 : memref<4x8xf32, strided<[16, 1]>>, memref<4x8xf32>
func.func @softmax_rows(%s: tensor<?x12x128x128xf32>, %m: tensor<?x1x1x128xf32>, %init: tensor<?x12x128x128xf32>,
                        %x: memref<4x8xf32, strided<[16, 1]>>, %out: memref<4x8xf32>) -> tensor<?x12x128x128xf32> {
  %p = kiln.softmax_rows %s addend(%m : tensor<?x1x1x128xf32>) into %init {scale = 0.125 : f32}
         : tensor<?x12x128x128xf32>, tensor<?x12x128x128xf32> -> tensor<?x12x128x128xf32>
  kiln.softmax_rows %x into %out : memref<4x8xf32, strided<[16, 1]>>, memref<4x8xf32>
  return %p : tensor<?x12x128x128xf32>
}

// kiln.attention on tensors (read through perms, heads-interleaved result)
// and on memrefs.
// CHECK-LABEL: func.func @attention
// CHECK: kiln.attention %arg0, %arg1, %arg2 addend(%arg3 : tensor<1x1x1x128xf32>) into %arg4 {bf16_inputs, kt_perm = array<i64: 0, 2, 3, 1>, q_perm = array<i64: 0, 2, 1, 3>, scale = 1.250000e-01 : f32, transposed_output, v_perm = array<i64: 0, 2, 1, 3>} : tensor<1x128x12x64xf32>, tensor<1x128x12x64xf32>, tensor<1x128x12x64xf32>, tensor<1x128x12x64xf32> -> tensor<1x128x12x64xf32>
// CHECK: kiln.attention %arg5, %arg6, %arg7 into %arg8 : memref<2x3x5x8xf32>, memref<2x3x8x6xf32>, memref<1x3x6x4xf32>, memref<2x3x5x4xf32>
func.func @attention(%q: tensor<1x128x12x64xf32>, %k: tensor<1x128x12x64xf32>, %v: tensor<1x128x12x64xf32>,
                     %m: tensor<1x1x1x128xf32>, %init: tensor<1x128x12x64xf32>,
                     %bq: memref<2x3x5x8xf32>, %bkt: memref<2x3x8x6xf32>, %bv: memref<1x3x6x4xf32>,
                     %bout: memref<2x3x5x4xf32>) -> tensor<1x128x12x64xf32> {
  %o = kiln.attention %q, %k, %v addend(%m : tensor<1x1x1x128xf32>) into %init
         {scale = 0.125 : f32, transposed_output, bf16_inputs, q_perm = array<i64: 0, 2, 1, 3>,
          kt_perm = array<i64: 0, 2, 3, 1>, v_perm = array<i64: 0, 2, 1, 3>}
         : tensor<1x128x12x64xf32>, tensor<1x128x12x64xf32>, tensor<1x128x12x64xf32>, tensor<1x128x12x64xf32> -> tensor<1x128x12x64xf32>
  kiln.attention %bq, %bkt, %bv into %bout
         : memref<2x3x5x8xf32>, memref<2x3x8x6xf32>, memref<1x3x6x4xf32>, memref<2x3x5x4xf32>
  return %o : tensor<1x128x12x64xf32>
}
