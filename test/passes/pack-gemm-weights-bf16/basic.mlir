// RUN: kiln-opt %s --kiln-pack-gemm-weights-bf16 -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-pack-gemm-weights-bf16=exclude=MatMul -split-input-file | FileCheck %s --check-prefix=EXCLUDE
// RUN: kiln-opt %s --kiln-pack-gemm-weights-bf16=exclude=proj -split-input-file | FileCheck %s --check-prefix=EXCLUDE

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// B (K = 3, N = 2) becomes one panel of 32 columns, K rounded up to 4
// (2 pairs), each pair of steps of k side by side:
// [q][p/2][j][p%2] = bf16(B(p, j)), zero past K and N, stored flat and
// expanded to that view. The values round to
// nearest, ties to even: 1 + 2^-8 to 1, 1 + 3*2^-8 to 1 + 2^-6. (The data
// prints as little-endian hex: 0x3F80 is 1, 0x4040 3, 0x3F82 1 + 2^-6,
// 0x4080 4, 0x40A0 5, 0x40C0 6.) The body widens the bf16 weight;
// kiln-pack-gemm-weights will skip the op.
// CHECK: #[[PACKED:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 32, d2 floordiv 2, d1 mod 32, d2 mod 2)>
// CHECK-LABEL: func.func @row_major
// CHECK: %[[FLAT:.*]] = arith.constant dense<"0x803F4040823F8040{{(0000)+}}A0400000C0400000{{(0000)+}}"> : tensor<128xbf16>
// CHECK-NEXT: %[[W:.*]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1, 2, 3]] output_shape [1, 2, 32, 2] : tensor<128xbf16> into tensor<1x2x32x2xbf16>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[PACKED]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[W]] : tensor<?x3xf32>, tensor<1x2x32x2xbf16>)
// CHECK-SAME: kiln.packed_rhs = 32 : i64
// CHECK: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[WIDE:.*]] = arith.extf %[[Y]] : bf16 to f32
// CHECK-NEXT: arith.mulf %[[X]], %[[WIDE]] : f32
// EXCLUDE-LABEL: func.func @row_major
// EXCLUDE-NOT: bf16
func.func @row_major(%a: tensor<?x3xf32>, %c: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.00390625, 1.01171875], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x3xf32>, tensor<3x2xf32>) outs(%c : tensor<?x2xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x2xf32> loc(#proj)
  return %r : tensor<?x2xf32>
}
#proj = loc("proj"("MatMul"))

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A transposed weight (a (n, k) map, Gemm's transB) packs from its view:
// the same panel as the row-major one above, less the rounding.
// CHECK-LABEL: func.func @transposed
// EXCLUDE-LABEL: func.func @transposed
// CHECK: arith.constant dense<"0x803F404000408040{{(0000)+}}A0400000C0400000{{(0000)+}}"> : tensor<128xbf16>
func.func @transposed(%a: tensor<?x3xf32>, %c: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %wt = arith.constant dense<[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]> : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %wt : tensor<?x3xf32>, tensor<2x3xf32>) outs(%c : tensor<?x2xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}

// -----

#bmk = affine_map<(b, m, n, k) -> (b, m, k)>
#bkn = affine_map<(b, m, n, k) -> (b, k, n)>
#bmn = affine_map<(b, m, n, k) -> (b, m, n)>

// Both operands activations (attention's products): nothing to pack.
// CHECK-LABEL: func.func @activations
// CHECK-NOT: bf16
func.func @activations(%a: tensor<2x4x3xf32>, %b: tensor<2x3x5xf32>, %c: tensor<2x4x5xf32>) -> tensor<2x4x5xf32> {
  %r = linalg.generic {indexing_maps = [#bmk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<2x4x3xf32>, tensor<2x3x5xf32>) outs(%c : tensor<2x4x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4x5xf32>
  return %r : tensor<2x4x5xf32>
}
