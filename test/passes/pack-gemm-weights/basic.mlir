// RUN: kiln-opt %s --kiln-pack-gemm-weights=target=portable -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-pack-gemm-weights=target=avx2 -split-input-file | FileCheck %s --check-prefix=AVX2

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// B (K = 2, N = 3) becomes one panel of 2 x 8 (portable: nr = 8), k-major
// and zero padded, read through (n floordiv 8, k, n mod 8). The target's
// tile is recorded on the module.
// CHECK: #[[PACKED:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 8, d2, d1 mod 8)>
// CHECK: module attributes {kiln.gemm_tile = {mr = 4 : i64, nr = 8 : i64, target = "portable"}}
// CHECK-LABEL: func.func @row_major
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]]> : tensor<1x2x8xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[PACKED]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[W]] : tensor<?x2xf32>, tensor<1x2x8xf32>)
// CHECK-SAME: kiln.packed_rhs = 8 : i64
// AVX2: module attributes {kiln.gemm_tile = {mr = 6 : i64, nr = 16 : i64, target = "avx2"}}
// AVX2: tensor<1x2x16xf32>
func.func @row_major(%a: tensor<?x2xf32>, %c: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<2x3xf32>) outs(%c : tensor<?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  return %r : tensor<?x3xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A transposed weight, as a (n, k) map (Gemm transB) or as a
// linalg.transpose of the constant, packs to the same panels; the
// transpose and the original constant go away.
// CHECK-LABEL: func.func @transposed
// CHECK-NOT: linalg.transpose
// CHECK-NOT: tensor<3x2xf32>
// CHECK-COUNT-2: arith.constant dense<{{\[\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]]> : tensor<1x2x8xf32>
func.func @transposed(%a: tensor<?x2xf32>, %c: tensor<?x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %wt = arith.constant dense<[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]> : tensor<3x2xf32>
  %r0 = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %wt : tensor<?x2xf32>, tensor<3x2xf32>) outs(%c : tensor<?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  %empty = tensor.empty() : tensor<2x3xf32>
  %w = linalg.transpose ins(%wt : tensor<3x2xf32>) outs(%empty : tensor<2x3xf32>) permutation = [1, 0]
  %r1 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<2x3xf32>) outs(%c : tensor<?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  return %r0, %r1 : tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// Left alone: a B that is not a constant, a batched B (attention), and
// B in a loop that is not the output's innermost.
// CHECK-LABEL: func.func @not_packed
// CHECK-NOT: kiln.packed_rhs
// CHECK-NOT: floordiv
func.func @not_packed(%a: tensor<4x2xf32>, %b: tensor<2x3xf32>, %c: tensor<4x3xf32>,
                      %q: tensor<2x4x8xf32>, %o: tensor<2x4x4xf32>, %ct: tensor<3x4xf32>)
    -> (tensor<4x3xf32>, tensor<2x4x4xf32>, tensor<3x4xf32>) {
  %r0 = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>,
                                         affine_map<(m, n, k) -> (m, n)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x2xf32>, tensor<2x3xf32>) outs(%c : tensor<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  %k = arith.constant dense<1.0> : tensor<2x8x4xf32>
  %r1 = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, k, n)>,
                                         affine_map<(b, m, n, k) -> (b, m, n)>],
                        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%o : tensor<2x4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4x4xf32>
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %r2 = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>,
                                         affine_map<(m, n, k) -> (n, m)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x2xf32>, tensor<2x3xf32>) outs(%ct : tensor<3x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<3x4xf32>
  return %r0, %r1, %r2 : tensor<4x3xf32>, tensor<2x4x4xf32>, tensor<3x4xf32>
}

// -----

#pq = affine_map<(n, p, f, q) -> (n, p, q)>
#fq = affine_map<(n, p, f, q) -> (f, q)>
#pf = affine_map<(n, p, f, q) -> (n, p, f)>

// A convolution's filters [F = 3, C = 1, KH = 1, KW = 2], collapsed to the
// [F, C*KH*KW] matrix its im2col contraction reads through (n, k): packed
// like a transposed weight, from the 4-D constant, and the collapse and the
// original constant go away.
// CHECK: #[[CONV_PACKED:.*]] = affine_map<(d0, d1, d2, d3) -> (d2 floordiv 8, d3, d2 mod 8)>
// CHECK-LABEL: func.func @conv_filters
// CHECK-NOT: tensor.collapse_shape
// CHECK-NOT: tensor<3x1x1x2xf32>
// CHECK: arith.constant dense<{{\[\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]]> : tensor<1x2x8xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CONV_PACKED]], #{{.*}}]
// CHECK-SAME: kiln.packed_rhs = 8 : i64
func.func @conv_filters(%patches: tensor<?x4x2xf32>, %c: tensor<?x4x3xf32>) -> tensor<?x4x3xf32> {
  %filters = arith.constant dense<[[[[1.0, 4.0]]], [[[2.0, 5.0]]], [[[3.0, 6.0]]]]> : tensor<3x1x1x2xf32>
  %w = tensor.collapse_shape %filters [[0], [1, 2, 3]] : tensor<3x1x1x2xf32> into tensor<3x2xf32>
  %r = linalg.generic {indexing_maps = [#pq, #fq, #pf], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%patches, %w : tensor<?x4x2xf32>, tensor<3x2xf32>) outs(%c : tensor<?x4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x4x3xf32>
  return %r : tensor<?x4x3xf32>
}
