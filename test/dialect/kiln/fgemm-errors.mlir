// RUN: kiln-opt %s -split-input-file -verify-diagnostics

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @map_count(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{needs one indexing map per operand (3), got 2}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b]} : memref<4x8xf32>, memref<8x3xf32>, memref<4x3xf32>
  return
}

// -----

#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @three_loops(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{the map of a must have the 5 loops (b0, b1, m, n, k) and one result per dim of 'memref<4x8xf32>'}}
  kiln.fgemm %a, %b into %c {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, #b, #c]}
      : memref<4x8xf32>, memref<8x3xf32>, memref<4x3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @sizes_disagree(%a: memref<4x8xf32>, %b: memref<7x3xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{loop k has size 8 in a but 7 in b}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c]} : memref<4x8xf32>, memref<7x3xf32>, memref<4x3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>

func.func @hidden_reduction(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %c: memref<3xf32>) {
  // expected-error @below {{init must use every loop a and b use but k}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, affine_map<(b0, b1, m, n, k) -> (n)>]}
      : memref<4x8xf32>, memref<8x3xf32>, memref<3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>

func.func @diagonal(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %c: memref<4x4xf32>) {
  // expected-error @below {{the map of init uses loop m twice}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, affine_map<(b0, b1, m, n, k) -> (m, m)>]}
      : memref<4x8xf32>, memref<8x3xf32>, memref<4x4xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @column_major_c(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %c: memref<4x3xf32, strided<[1, 4]>>) {
  // expected-error @below {{init must have a unit stride along n}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c]}
      : memref<4x8xf32>, memref<8x3xf32>, memref<4x3xf32, strided<[1, 4]>>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @packed_width(%a: memref<4x8xf32>, %b: memref<1x8x16xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{a prepacked b must be a static contiguous P x K x 32 buffer, got 'memref<1x8x16xf32>'}}
  kiln.fgemm %a, %b into %c
      {indexing_maps = [#a, affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k, n mod 32)>, #c]}
      : memref<4x8xf32>, memref<1x8x16xf32>, memref<4x3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @bias_per_row(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %bias: memref<4xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{bias must use loop n only, as its last dim}}
  kiln.fgemm %a, %b bias(%bias : memref<4xf32>) into %c
      {indexing_maps = [#a, #b, affine_map<(b0, b1, m, n, k) -> (m)>, #c]}
      : memref<4x8xf32>, memref<8x3xf32>, memref<4x3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @integer(%a: memref<4x8xi32>, %b: memref<8x3xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{a must hold f32 (or f16, bf16), got 'memref<4x8xi32>'}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c]} : memref<4x8xi32>, memref<8x3xf32>, memref<4x3xf32>
  return
}

// -----

#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @a_without_k(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{a and b must both use loop k}}
  kiln.fgemm %a, %b into %c {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (m, 0)>, #b, #c]}
      : memref<4x8xf32>, memref<8x3xf32>, memref<4x3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @bf16_b_pairs(%a: memref<4x5xf32>, %b: memref<1x2x32x2xbf16>, %c: memref<4x3xf32>) {
  // expected-error @below {{b has 2 pairs of rows of k, a has 5 rows}}
  kiln.fgemm %a, %b into %c
      {indexing_maps = [#a, affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>, #c]}
      : memref<4x5xf32>, memref<1x2x32x2xbf16>, memref<4x3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @bf16_b_f32(%a: memref<4x4xf32>, %b: memref<1x2x32x2xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{a bf16-prepacked b must be a static contiguous P x K2/2 x 32 x 2 bf16 buffer, got 'memref<1x2x32x2xf32>'}}
  kiln.fgemm %a, %b into %c
      {indexing_maps = [#a, affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>, #c]}
      : memref<4x4xf32>, memref<1x2x32x2xf32>, memref<4x3xf32>
  return
}

// -----

// bf16_inputs rounds a b read at run time: a prepacked fp32 panel is a
// weight (packed as bf16 by kiln-pack-gemm-weights-bf16, or kept fp32), and
// a bf16-prepacked one already means that arithmetic.
#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#packed = affine_map<(b0, b1, m, n, k) -> (n floordiv 16, k, n mod 16)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>
func.func @prepacked_fp32(%x: memref<?x8xf32>, %p: memref<1x8x16xf32>, %y: memref<?x16xf32>) {
  // expected-error @+1 {{bf16_inputs rounds a b read at run time}}
  kiln.fgemm %x, %p into %y {bf16_inputs, indexing_maps = [#a, #packed, #c]}
      : memref<?x8xf32>, memref<1x8x16xf32>, memref<?x16xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#pairs = affine_map<(b0, b1, m, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>
func.func @prepacked_bf16(%x: memref<?x3xf32>, %p: memref<1x2x32x2xbf16>, %y: memref<?x2xf32>) {
  // expected-error @+1 {{bf16_inputs is implied by a bf16-prepacked b}}
  kiln.fgemm %x, %p into %y {bf16_inputs, indexing_maps = [#a, #pairs, #c]}
      : memref<?x3xf32>, memref<1x2x32x2xbf16>, memref<?x2xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

// Half storage (the GPU's): a and b of one type.
func.func @mixed_inputs(%a: memref<4x8xf16>, %b: memref<8x3xf32>, %c: memref<4x3xf32>) {
  // expected-error @below {{b must hold 'f16' as a does, got 'memref<8x3xf32>'}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c]} : memref<4x8xf16>, memref<8x3xf32>, memref<4x3xf32>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

// A 16-bit result comes from operands of its type (cuBLASLt's rule).
func.func @half_result_of_f32(%a: memref<4x8xf32>, %b: memref<8x3xf32>, %c: memref<4x3xf16>) {
  // expected-error @below {{a 16-bit init needs a and b of its type, got a 'memref<4x8xf32>'}}
  kiln.fgemm %a, %b into %c {indexing_maps = [#a, #b, #c]} : memref<4x8xf32>, memref<8x3xf32>, memref<4x3xf16>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

// The epilogue's operands are read in init's type.
func.func @bias_type(%a: memref<4x8xbf16>, %b: memref<8x3xbf16>, %bias: memref<3xf32>, %c: memref<4x3xbf16>) {
  // expected-error @below {{bias must hold 'bf16' as init does, got 'memref<3xf32>'}}
  kiln.fgemm %a, %b bias(%bias : memref<3xf32>) into %c {indexing_maps = [#a, #b, affine_map<(b0, b1, m, n, k) -> (n)>, #c]}
      : memref<4x8xbf16>, memref<8x3xbf16>, memref<4x3xbf16>
  return
}

// -----

#a = affine_map<(b0, b1, m, n, k) -> (m, k)>
#b = affine_map<(b0, b1, m, n, k) -> (k, n)>
#c = affine_map<(b0, b1, m, n, k) -> (m, n)>

func.func @half_bf16_inputs(%a: memref<4x8xf16>, %b: memref<8x3xf16>, %c: memref<4x3xf32>) {
  // expected-error @below {{16-bit a and b are read at run time as they are: no prepacked b, no bf16_inputs}}
  kiln.fgemm %a, %b into %c {bf16_inputs, indexing_maps = [#a, #b, #c]} : memref<4x8xf16>, memref<8x3xf16>, memref<4x3xf32>
  return
}
