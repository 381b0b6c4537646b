// RUN: kiln-opt %s --kiln-pack-sparse-gemm-weights -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-pack-sparse-gemm-weights=mode=always -split-input-file | FileCheck %s --check-prefix=ALWAYS
// RUN: kiln-opt %s --kiln-pack-sparse-gemm-weights=mode=off -split-input-file | FileCheck %s --check-prefix=OFF

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// An 8 x 8 weight with two nonzero 1x4 blocks (row 2, columns 4-7; row 5,
// column 1): 8 stored values of 64 at width 4, 5 at width 1, which costs
// more per value. Its blob (kiln_sparse_pack.h) is 64 bytes of header,
// the 3 block-column starts (0, 1, 2) in 64, the rows (5, 2) in 64 and
// 2 x 4 values: 224 bytes. The contraction's zero fill is replaced by a
// fresh init.
// CHECK-LABEL: func.func @blocks
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<sparse_gemm_weight_{{[0-9]+}}> : tensor<224xi8>
// CHECK: %[[Y:.*]] = kiln.sparse_gemm %arg0, %[[W]] into %{{.*}} {block_width = 4 : i64, k = 8 : i64, n = 8 : i64, stored_blocks = 2 : i64}
// CHECK-NOT: linalg.fill
// CHECK: return %[[Y]]
// OFF-LABEL: func.func @blocks
// OFF-NOT: kiln.sparse_gemm
// OFF: linalg.generic
func.func @blocks(%a: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x8xf32>
  %empty = tensor.empty(%m) : tensor<?x8xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x8xf32>, tensor<8x8xf32>) outs(%c : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}
// The blob, after the resource's alignment word (64): the header (k = 8,
// n = 8, W = 4, S = 2), the starts 0, 1, 2 (block column 0 holds the block
// of row 5, column 1 that of row 2), the rows 5 and 2, then the values
// 0 5 0 0 and 1 2 3 4.
// CHECK: sparse_gemm_weight_{{[0-9]+}}: "0x40000000080000000000000008000000000000000400000000000000020000000000000000{{0+}}0100000002000000{{0+}}0500000002000000{{0+}}A04000000000000000000000803F000000400000404000008040"

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Unstructured zeros, read transposed ((n, k): a Gemm with transB): three
// values in three different blocks of 1 x 4, so width 1 stores 3 values
// where width 4 would store 12: the blob is 64 + 64 (9 starts) + 64 + 12
// = 204 bytes.
// CHECK-LABEL: func.func @unstructured
// CHECK: kiln.sparse_gemm %arg0, %{{.*}} into %{{.*}} {block_width = 1 : i64, k = 8 : i64, n = 8 : i64, stored_blocks = 3 : i64} : tensor<?x8xf32>, tensor<204xi8>
func.func @unstructured(%a: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = arith.constant dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0]]> : tensor<8x8xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x8xf32>
  %empty = tensor.empty(%m) : tensor<?x8xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %r = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x8xf32>, tensor<8x8xf32>) outs(%c : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

#bmk = affine_map<(b, m, n, k) -> (b, m, k)>
#bkn = affine_map<(b, m, n, k) -> (k, n)>
#bmn = affine_map<(b, m, n, k) -> (b, m, n)>
#id = affine_map<(b, m, n) -> (b, m, n)>
#last = affine_map<(b, m, n) -> (n)>

// A dense weight stays dense unless the mode is `always`; then its marked
// epilogue (bias, GELU, residual) moves into the op and A and the residual
// are collapsed to rows, as for kiln.qgemm.
// CHECK-LABEL: func.func @dense_with_epilogue
// CHECK-NOT: kiln.sparse_gemm
// CHECK: linalg.generic
// ALWAYS-LABEL: func.func @dense_with_epilogue
// ALWAYS: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x2xf32> into tensor<?x2xf32>
// ALWAYS: %[[R:.*]] = tensor.collapse_shape %arg2 {{\[\[}}0, 1], [2]] : tensor<?x?x3xf32> into tensor<?x3xf32>
// ALWAYS: %[[Y:.*]] = kiln.sparse_gemm %[[A]], %{{.*}} bias(%arg1 : tensor<3xf32>) residual(%[[R]] : tensor<?x3xf32>) into %{{.*}} {activation = #kiln.gemm_activation<gelu_erf>, block_width = 4 : i64, k = 2 : i64, n = 3 : i64, stored_blocks = 2 : i64} : tensor<?x2xf32>, tensor<224xi8>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
// ALWAYS-NOT: linalg.generic
// ALWAYS: return %[[Y]]
func.func @dense_with_epilogue(%a: tensor<?x?x2xf32>, %bias: tensor<3xf32>, %res: tensor<?x?x3xf32>) -> tensor<?x?x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]]> : tensor<2x3xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %a, %c0 : tensor<?x?x2xf32>
  %m = tensor.dim %a, %c1 : tensor<?x?x2xf32>
  %empty = tensor.empty(%b, %m) : tensor<?x?x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %r = linalg.generic {indexing_maps = [#bmk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x?x2xf32>, tensor<2x3xf32>) outs(%c : tensor<?x?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x3xf32>
  %e = linalg.generic {indexing_maps = [#id, #last, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r, %bias, %res : tensor<?x?x3xf32>, tensor<3xf32>, tensor<?x?x3xf32>) outs(%r : tensor<?x?x3xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = gelu_erf>} {
  ^bb0(%x: f32, %y: f32, %z: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %t = arith.addf %s, %z : f32
    linalg.yield %t : f32
  } -> tensor<?x?x3xf32>
  return %e : tensor<?x?x3xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Not a layer with a constant weight (attention's products): never sparse.
// ALWAYS-LABEL: func.func @activation_times_activation
// ALWAYS-NOT: kiln.sparse_gemm
// ALWAYS: linalg.generic
func.func @activation_times_activation(%a: tensor<4x2xf32>, %w: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x3xf32>) -> tensor<4x3xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x2xf32>, tensor<2x3xf32>) outs(%c : tensor<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}
