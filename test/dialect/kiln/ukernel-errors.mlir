// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @blob_size(%a: tensor<4x2xf32>, %b: tensor<100xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{b_packed must hold the 128 bytes of a packed 2 x 3 int8 B, got 'tensor<100xi8>'}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xf32>, tensor<100xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @depth(%a: tensor<4x5xf32>, %b: tensor<128xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{a must be an f32 or ui8 M x 2 matrix, got 'tensor<4x5xf32>'}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x5xf32>, tensor<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @scales(%a: tensor<4x2xf32>, %b: tensor<128xi8>, %s: tensor<4xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{b_scale must hold 3 f32 scales, got 'tensor<4xf32>'}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xf32>, tensor<128xi8>, tensor<4xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @rows(%a: tensor<4x2xf32>, %b: tensor<128xi8>, %s: tensor<3xf32>, %init: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  // expected-error @below {{a has 4 rows but init has 6}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<2x3x3xf32> -> tensor<2x3x3xf32>
  return %y : tensor<2x3x3xf32>
}

// -----

func.func @activation(%a: tensor<4x2xf32>, %b: tensor<128xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{attribute 'activation' failed to satisfy constraint}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, activation = 7 : i64}
         : tensor<4x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @mixed(%a: tensor<4x2xf32>, %b: memref<128xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{operands must be all tensors or all memrefs}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xf32>, memref<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @strided_init(%a: memref<4x2xf32>, %b: memref<128xi8>, %s: memref<3xf32>, %init: memref<4x3xf32, strided<[8, 1]>>) {
  // expected-error @below {{init must be a contiguous buffer (identity layout)}}
  kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
    : memref<4x2xf32>, memref<128xi8>, memref<3xf32>, memref<4x3xf32, strided<[8, 1]>>
  return
}

// -----

func.func @too_deep(%a: tensor<4x70000xf32>, %b: tensor<70016xi8>, %s: tensor<1xf32>, %init: tensor<4x1xf32>) -> tensor<4x1xf32> {
  // expected-error @below {{k = 70000 is deeper than the runtime's exact int32 sums allow (65536)}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 70000 : i64, n = 1 : i64}
         : tensor<4x70000xf32>, tensor<70016xi8>, tensor<1xf32>, tensor<4x1xf32> -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// A signed A is no activation the runtime takes.
func.func @signed_a(%a: tensor<4x2xi8>, %b: tensor<128xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{a must be an f32 or ui8 M x 2 matrix, got 'tensor<4x2xi8>'}}
  %y = kiln.qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xi8>, tensor<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// An f32 A's zero point comes with a static scale, or not at all.
func.func @zero_point_of_dynamic_a(%a: tensor<4x2xf32>, %b: tensor<128xi8>, %s: tensor<3xf32>, %za: tensor<ui8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{an f32 a with an a_zero_point needs its a_scale too (without both it is quantized per row)}}
  %y = kiln.qgemm %a, %b, %s a_zero_point(%za : tensor<ui8>) into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// One scale for the whole tensor: per-row scales are not this op's.
func.func @per_row_scale(%a: tensor<4x2xui8>, %b: tensor<128xi8>, %s: tensor<3xf32>, %sa: tensor<4xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{a_scale must be one f32 value, got 'tensor<4xf32>'}}
  %y = kiln.qgemm %a, %b, %s a_scale(%sa : tensor<4xf32>) into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xui8>, tensor<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @signed_zero_point(%a: tensor<4x2xui8>, %b: tensor<128xi8>, %s: tensor<3xf32>, %za: tensor<i8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{a_zero_point must be one ui8 value, got 'tensor<i8>'}}
  %y = kiln.qgemm %a, %b, %s a_zero_point(%za : tensor<i8>) into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xui8>, tensor<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @dynamic_scale(%a: tensor<4x2xui8>, %b: tensor<128xi8>, %s: tensor<3xf32>, %sa: tensor<?xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{a_scale must be one f32 value, got 'tensor<?xf32>'}}
  %y = kiln.qgemm %a, %b, %s a_scale(%sa : tensor<?xf32>) into %init {k = 2 : i64, n = 3 : i64}
         : tensor<4x2xui8>, tensor<128xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_blob_size(%a: tensor<4x2xf32>, %b: tensor<200xi8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{b_packed must hold the 224 bytes of 2 blocks of 1 x 4 of a 2 x 3 B, got 'tensor<200xi8>'}}
  %y = kiln.sparse_gemm %a, %b into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64}
         : tensor<4x2xf32>, tensor<200xi8>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_width(%a: tensor<4x2xf32>, %b: tensor<224xi8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{block_width must be 1 or 4 (the runtime's kernels), got 2}}
  %y = kiln.sparse_gemm %a, %b into %init {k = 2 : i64, n = 3 : i64, block_width = 2 : i64, stored_blocks = 2 : i64}
         : tensor<4x2xf32>, tensor<224xi8>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_too_many_blocks(%a: tensor<4x2xf32>, %b: tensor<224xi8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{stored_blocks = 3 is more than a 2 x 3 B has blocks of 4}}
  %y = kiln.sparse_gemm %a, %b into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 3 : i64}
         : tensor<4x2xf32>, tensor<224xi8>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_depth(%a: tensor<4x5xf32>, %b: tensor<224xi8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{a must be an f32 M x 2 matrix, got 'tensor<4x5xf32>'}}
  %y = kiln.sparse_gemm %a, %b into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64}
         : tensor<4x5xf32>, tensor<224xi8>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_residual(%a: tensor<4x2xf32>, %b: tensor<224xi8>, %r: tensor<4x5xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{residual must be an f32 M x 3 matrix, got 'tensor<4x5xf32>'}}
  %y = kiln.sparse_gemm %a, %b residual(%r : tensor<4x5xf32>) into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64}
         : tensor<4x2xf32>, tensor<224xi8>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_mixed(%a: tensor<4x2xf32>, %b: memref<224xi8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{operands must be all tensors or all memrefs}}
  %y = kiln.sparse_gemm %a, %b into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64}
         : tensor<4x2xf32>, memref<224xi8>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @softmax_rank(%x: tensor<1x2x3x4x5xf32>, %init: tensor<1x2x3x4x5xf32>) -> tensor<1x2x3x4x5xf32> {
  // expected-error @below {{x must be f32 (or f16, bf16) of rank 1 to 4, got 'tensor<1x2x3x4x5xf32>'}}
  %p = kiln.softmax_rows %x into %init : tensor<1x2x3x4x5xf32>, tensor<1x2x3x4x5xf32> -> tensor<1x2x3x4x5xf32>
  return %p : tensor<1x2x3x4x5xf32>
}

// -----

func.func @softmax_init(%x: tensor<4x8xf32>, %init: tensor<4x9xf32>) -> tensor<4x9xf32> {
  // expected-error @below {{init must be f32 (or f16, bf16) of x's shape, got 'tensor<4x9xf32>'}}
  %p = kiln.softmax_rows %x into %init : tensor<4x8xf32>, tensor<4x9xf32> -> tensor<4x9xf32>
  return %p : tensor<4x9xf32>
}

// -----

func.func @softmax_addend(%x: tensor<4x8xf32>, %a: tensor<3x8xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{addend dim 0 (3) is neither 1 nor x's (4)}}
  %p = kiln.softmax_rows %x addend(%a : tensor<3x8xf32>) into %init : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

// -----

func.func @softmax_addend_rank(%x: tensor<8xf32>, %a: tensor<1x8xf32>, %init: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{addend must be f32 (or f16, bf16) of rank at most x's, got 'tensor<1x8xf32>'}}
  %p = kiln.softmax_rows %x addend(%a : tensor<1x8xf32>) into %init : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return %p : tensor<8xf32>
}

// -----

func.func @softmax_strided_rows(%x: memref<4x8xf32, strided<[16, 2]>>, %out: memref<4x8xf32>) {
  // expected-error @below {{x's rows must be contiguous (stride 1 along the last dim), got 'memref<4x8xf32, strided<[16, 2]>>'}}
  kiln.softmax_rows %x into %out : memref<4x8xf32, strided<[16, 2]>>, memref<4x8xf32>
  return
}

// -----

func.func @softmax_init_layout(%x: memref<4x8xf32>, %out: memref<4x8xf32, strided<[16, 1]>>) {
  // expected-error @below {{init must be a contiguous buffer (identity layout), got 'memref<4x8xf32, strided<[16, 1]>>'}}
  kiln.softmax_rows %x into %out : memref<4x8xf32>, memref<4x8xf32, strided<[16, 1]>>
  return
}

// -----

func.func @softmax_result_on_buffers(%x: memref<4x8xf32>, %out: memref<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{has one result of init's type on tensors and none on memrefs}}
  %p = kiln.softmax_rows %x into %out : memref<4x8xf32>, memref<4x8xf32> -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

// -----

func.func @sparse_qgemm_blob_size(%a: tensor<4x2xf32>, %b: tensor<256xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{b_packed must hold the 320 bytes of 1 groups of 1 x 4 blocks of a 2 x 3 int8 B, got 'tensor<256xi8>'}}
  %y = kiln.sparse_qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 1 : i64}
         : tensor<4x2xf32>, tensor<256xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_qgemm_width(%a: tensor<4x2xf32>, %b: tensor<320xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{block_width must be 1 or 4 (the runtime's kernels), got 2}}
  %y = kiln.sparse_qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, block_width = 2 : i64, stored_groups = 1 : i64}
         : tensor<4x2xf32>, tensor<320xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_qgemm_too_many_groups(%a: tensor<4x2xf32>, %b: tensor<320xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{stored_groups = 2 is more than a 2 x 3 B has groups of 4 blocks of 4 (1)}}
  %y = kiln.sparse_qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 2 : i64}
         : tensor<4x2xf32>, tensor<320xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_qgemm_scales(%a: tensor<4x2xf32>, %b: tensor<320xi8>, %s: tensor<2xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{b_scale must hold 3 f32 scales, got 'tensor<2xf32>'}}
  %y = kiln.sparse_qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 1 : i64}
         : tensor<4x2xf32>, tensor<320xi8>, tensor<2xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_qgemm_zero_point(%a: tensor<4x2xf32>, %b: tensor<320xi8>, %s: tensor<3xf32>, %za: tensor<ui8>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{an f32 a with an a_zero_point needs its a_scale too}}
  %y = kiln.sparse_qgemm %a, %b, %s a_zero_point(%za : tensor<ui8>) into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 1 : i64}
         : tensor<4x2xf32>, tensor<320xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @sparse_qgemm_init(%a: tensor<4x2xf32>, %b: tensor<320xi8>, %s: tensor<3xf32>, %init: tensor<4x5xf32>) -> tensor<4x5xf32> {
  // expected-error @below {{init must be f32 of rank 2 or more with 3 columns, got 'tensor<4x5xf32>'}}
  %y = kiln.sparse_qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 1 : i64}
         : tensor<4x2xf32>, tensor<320xi8>, tensor<3xf32>, tensor<4x5xf32> -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

func.func @attention_rank(%q: tensor<2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{q must be f32 (or f16, bf16) of rank 4, got 'tensor<2x4x8xf32>'}}
  %o = kiln.attention %q, %kt, %v into %init
         : tensor<2x4x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_type(%q: tensor<1x2x4x8xf16>, %kt: tensor<1x2x8x4xf64>, %v: tensor<1x2x4x8xf16>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{kt must be f32 (or f16, bf16) of rank 4, got 'tensor<1x2x8x4xf64>'}}
  %o = kiln.attention %q, %kt, %v into %init
         : tensor<1x2x4x8xf16>, tensor<1x2x8x4xf64>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_addend_type(%q: tensor<1x2x4x8xf16>, %kt: tensor<1x2x8x4xf16>, %v: tensor<1x2x4x8xf16>, %mask: tensor<1x1x1x4xi8>, %init: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  // expected-error @below {{addend must be f32 (or f16, bf16) of rank at most 4, got 'tensor<1x1x1x4xi8>'}}
  %o = kiln.attention %q, %kt, %v addend(%mask : tensor<1x1x1x4xi8>) into %init
         : tensor<1x2x4x8xf16>, tensor<1x2x8x4xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16> -> tensor<1x2x4x8xf16>
  return %o : tensor<1x2x4x8xf16>
}

// -----

func.func @attention_inner(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x6x4xf32>, %v: tensor<1x2x4x8xf32>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{q's last dim (8) is not kt's rows (6)}}
  %o = kiln.attention %q, %kt, %v into %init
         : tensor<1x2x4x8xf32>, tensor<1x2x6x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_keys(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x5xf32>, %v: tensor<1x2x4x8xf32>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{kt's last dim (5) is not v's rows (4)}}
  %o = kiln.attention %q, %kt, %v into %init
         : tensor<1x2x4x8xf32>, tensor<1x2x8x5xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// With transposed_output the result is B x Sq x H x Dv: 1x2x4x8 is not.
func.func @attention_layout(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{init 'tensor<1x2x4x8xf32>' does not hold q's rows by v's columns (heads interleaved)}}
  %o = kiln.attention %q, %kt, %v into %init {transposed_output}
         : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_batch(%q: tensor<1x3x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{q's batch dim 1 (3) is neither 1 nor the result's (2)}}
  %o = kiln.attention %q, %kt, %v into %init
         : tensor<1x3x4x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_perm(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{q_perm must be a permutation of [0, 4), got [0, 1, 1, 3]}}
  %o = kiln.attention %q, %kt, %v into %init {q_perm = array<i64: 0, 1, 1, 3>}
         : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_mask(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %m: tensor<1x1x1x5xf32>, %init: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{addend dim 3 (5) is neither 1 nor the scores' (4)}}
  %o = kiln.attention %q, %kt, %v addend(%m : tensor<1x1x1x5xf32>) into %init
         : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_strided_init(%q: memref<1x2x4x8xf32>, %kt: memref<1x2x8x4xf32>, %v: memref<1x2x4x8xf32>, %init: memref<1x2x4x8xf32, strided<[128, 64, 16, 1]>>) {
  // expected-error @below {{init must be a contiguous buffer (identity layout)}}
  kiln.attention %q, %kt, %v into %init
         : memref<1x2x4x8xf32>, memref<1x2x8x4xf32>, memref<1x2x4x8xf32>, memref<1x2x4x8xf32, strided<[128, 64, 16, 1]>>
  return
}

// -----

func.func @layer_norm_rank(%x: tensor<1x2x3x4x5xf32>, %g: tensor<5xf32>, %init: tensor<1x2x3x4x5xf32>) -> tensor<1x2x3x4x5xf32> {
  // expected-error @below {{x must be f32 (or f16, bf16) of rank 1 to 4, got 'tensor<1x2x3x4x5xf32>'}}
  %y = kiln.layer_norm_rows %x, %g into %init {epsilon = 1.0e-5 : f32} : tensor<1x2x3x4x5xf32>, tensor<5xf32>, tensor<1x2x3x4x5xf32> -> tensor<1x2x3x4x5xf32>
  return %y : tensor<1x2x3x4x5xf32>
}

// -----

func.func @layer_norm_init(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %init: tensor<4x9xf32>) -> tensor<4x9xf32> {
  // expected-error @below {{init must be f32 (or f16, bf16) of x's shape, got 'tensor<4x9xf32>'}}
  %y = kiln.layer_norm_rows %x, %g into %init {epsilon = 1.0e-5 : f32} : tensor<4x8xf32>, tensor<8xf32>, tensor<4x9xf32> -> tensor<4x9xf32>
  return %y : tensor<4x9xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{scale must be 1-D f32 of x's last dim (8), got 'tensor<4x8xf32>'}}
  %y = kiln.layer_norm_rows %x, %g into %init {epsilon = 1.0e-5 : f32} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @layer_norm_bias(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<7xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{bias must be 1-D f32 of x's last dim (8), got 'tensor<7xf32>'}}
  %y = kiln.layer_norm_rows %x, %g bias(%b : tensor<7xf32>) into %init {epsilon = 1.0e-5 : f32} : tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @layer_norm_strided_scale(%x: memref<4x8xf32>, %g: memref<8xf32, strided<[2]>>, %out: memref<4x8xf32>) {
  // expected-error @below {{scale must be contiguous, got 'memref<8xf32, strided<[2]>>'}}
  kiln.layer_norm_rows %x, %g into %out {epsilon = 1.0e-5 : f32} : memref<4x8xf32>, memref<8xf32, strided<[2]>>, memref<4x8xf32>
  return
}

// -----

func.func @layer_norm_strided_rows(%x: memref<4x8xf32, strided<[16, 2]>>, %g: memref<8xf32>, %out: memref<4x8xf32>) {
  // expected-error @below {{x's rows must be contiguous (stride 1 along the last dim), got 'memref<4x8xf32, strided<[16, 2]>>'}}
  kiln.layer_norm_rows %x, %g into %out {epsilon = 1.0e-5 : f32} : memref<4x8xf32, strided<[16, 2]>>, memref<8xf32>, memref<4x8xf32>
  return
}
