// RUN: kiln-opt %s --kiln-prune-magnitude=sparsity=0.5 -split-input-file | FileCheck %s --check-prefix=UNSTRUCTURED
// RUN: kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 block-n=2" -split-input-file | FileCheck %s --check-prefix=ROW
// RUN: kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 block-k=2" -split-input-file | FileCheck %s --check-prefix=COLUMN
// RUN: kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 scope=global" -split-input-file | FileCheck %s --check-prefix=GLOBAL
// RUN: kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 scope=global keep-dense=small" -split-input-file | FileCheck %s --check-prefix=KEEP
// RUN: kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 exclude=proj,small" -split-input-file | FileCheck %s --check-prefix=EXCLUDE
// RUN: kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 exclude=MatMul" -split-input-file | FileCheck %s --check-prefix=EXCLUDE
// RUN: kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 report=true" -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A MatMul's 2 x 4 weight (K x N). Squares: 1, 4, 9, 0.25 / 16, 0.01, 36,
// 49; half of 8 is 4 values: at or below the 4th smallest square (4).
// UNSTRUCTURED-LABEL: func.func @matmul
// UNSTRUCTURED: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 3.000000e+00, 0.000000e+00], [4.000000e+00, 0.000000e+00, 6.000000e+00, -7.000000e+00]]>
// 1x2 blocks (one row of K, two columns of N): 5, 9.25 / 16.01, 85; the
// first row goes.
// ROW-LABEL: func.func @matmul
// ROW: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [4.000000e+00, -1.000000e-01, 6.000000e+00, -7.000000e+00]]>
// 2x1 blocks (two rows of K, one column): 17, 4.01, 45, 49.25; the first
// two columns go.
// COLUMN-LABEL: func.func @matmul
// COLUMN: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 3.000000e+00, 5.000000e-01], [0.000000e+00, 0.000000e+00, 6.000000e+00, -7.000000e+00]]>
// EXCLUDE-LABEL: func.func @matmul
// EXCLUDE: arith.constant dense<{{\[\[}}1.000000e+00, -2.000000e+00, 3.000000e+00, 5.000000e-01], [4.000000e+00, -1.000000e-01, 6.000000e+00, -7.000000e+00]]>
// REPORT: remark: loc("proj"("MatMul")): pruned to sparsity 0.5000 (4 of 2 x 4 zero, per-layer 1x1 blocks)
// REPORT: remark: pruned 1 weights (per-layer 1x1 blocks): sparsity 0.5000 (4 of 8 values zero)
func.func @matmul(%a: tensor<?x2xf32>, %c: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = arith.constant dense<[[1.0, -2.0, 3.0, 0.5], [4.0, -0.1, 6.0, -7.0]]> : tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<2x4xf32>) outs(%c : tensor<?x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32> loc(#proj)
  return %r : tensor<?x4xf32>
}
#proj = loc("proj"("MatMul"))

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Gemm's transB weight is N x K in memory: the same weight as @matmul,
// transposed, is pruned the same, so 1x2 blocks run down its columns.
// UNSTRUCTURED-LABEL: func.func @gemm_trans_b
// UNSTRUCTURED: arith.constant dense<{{\[\[}}0.000000e+00, 4.000000e+00], [0.000000e+00, 0.000000e+00], [3.000000e+00, 6.000000e+00], [0.000000e+00, -7.000000e+00]]>
// ROW-LABEL: func.func @gemm_trans_b
// ROW: arith.constant dense<{{\[\[}}0.000000e+00, 4.000000e+00], [0.000000e+00, -1.000000e-01], [0.000000e+00, 6.000000e+00], [0.000000e+00, -7.000000e+00]]>
// COLUMN-LABEL: func.func @gemm_trans_b
// COLUMN: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00], [3.000000e+00, 6.000000e+00], [5.000000e-01, -7.000000e+00]]>
func.func @gemm_trans_b(%a: tensor<?x2xf32>, %c: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = arith.constant dense<[[1.0, 4.0], [-2.0, -0.1], [3.0, 6.0], [0.5, -7.0]]> : tensor<4x2xf32>
  %r = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<4x2xf32>) outs(%c : tensor<?x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32> loc(#fc)
  return %r : tensor<?x4xf32>
}
#fc = loc("fc"("Gemm"))

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Partial blocks: 1x2 blocks over N = 3 are (1, 2) and (3), scored over
// the values they have: 5, 9 / 25, 36. Half of 4 blocks: 5 and 9 go.
// ROW-LABEL: func.func @partial_blocks
// ROW: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00], [5.000000e+00, 0.000000e+00, 6.000000e+00]]>
func.func @partial_blocks(%a: tensor<?x2xf32>, %c: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [5.0, 0.0, 6.0]]> : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<2x3xf32>) outs(%c : tensor<?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32> loc(#proj)
  return %r : tensor<?x3xf32>
}
#proj = loc("proj"("MatMul"))

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Two layers. Per layer, each loses half its values; with one global
// threshold (the 6th smallest of 12 squares, 0.25) the small layer loses
// all of them and the large one only -0.1 and 0.5. keep-dense keeps the
// small layer but prunes the large one against the same threshold.
// UNSTRUCTURED-LABEL: func.func @two_layers
// UNSTRUCTURED-DAG: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 3.000000e+00, 0.000000e+00], [4.000000e+00, 0.000000e+00, 6.000000e+00, -7.000000e+00]]>
// UNSTRUCTURED-DAG: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00], [3.000000e-02, 4.000000e-02]]>
// GLOBAL-LABEL: func.func @two_layers
// GLOBAL-DAG: arith.constant dense<{{\[\[}}1.000000e+00, -2.000000e+00, 3.000000e+00, 0.000000e+00], [4.000000e+00, 0.000000e+00, 6.000000e+00, -7.000000e+00]]>
// GLOBAL-DAG: arith.constant dense<0.000000e+00> : tensor<2x2xf32>
// KEEP-LABEL: func.func @two_layers
// KEEP-DAG: arith.constant dense<{{\[\[}}1.000000e+00, -2.000000e+00, 3.000000e+00, 0.000000e+00], [4.000000e+00, 0.000000e+00, 6.000000e+00, -7.000000e+00]]>
// KEEP-DAG: arith.constant dense<{{\[\[}}0.00999999977, 2.000000e-02], [3.000000e-02, 4.000000e-02]]>
// EXCLUDE-LABEL: func.func @two_layers
// EXCLUDE-NOT: 0.000000e+00
// EXCLUDE: return
// REPORT: remark: loc("proj"("MatMul")): pruned to sparsity 0.5000 (4 of 2 x 4 zero, per-layer 1x1 blocks)
// REPORT: remark: loc("small"("MatMul")): pruned to sparsity 0.5000 (2 of 2 x 2 zero, per-layer 1x1 blocks)
// REPORT: remark: pruned 2 weights (per-layer 1x1 blocks): sparsity 0.5000 (6 of 12 values zero)
func.func @two_layers(%a: tensor<?x2xf32>, %c: tensor<?x4xf32>, %d: tensor<?x2xf32>) -> (tensor<?x4xf32>, tensor<?x2xf32>) {
  %w = arith.constant dense<[[1.0, -2.0, 3.0, 0.5], [4.0, -0.1, 6.0, -7.0]]> : tensor<2x4xf32>
  %v = arith.constant dense<[[0.01, 0.02], [0.03, 0.04]]> : tensor<2x2xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<2x4xf32>) outs(%c : tensor<?x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32> loc(#proj)
  %q = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %v : tensor<?x2xf32>, tensor<2x2xf32>) outs(%d : tensor<?x2xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x2xf32> loc(#small)
  return %r, %q : tensor<?x4xf32>, tensor<?x2xf32>
}
#proj = loc("proj"("MatMul"))
#small = loc("small"("MatMul"))

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Only what the ONNX model calls MatMul or Gemm is pruned: a Conv lowered
// to a contraction (its filters as a matrix) keeps its weight.
// UNSTRUCTURED-LABEL: func.func @not_a_linear_layer
// UNSTRUCTURED: arith.constant dense<{{\[\[}}1.000000e+00, -2.000000e+00, 3.000000e+00, 5.000000e-01], [4.000000e+00, -1.000000e-01, 6.000000e+00, -7.000000e+00]]>
func.func @not_a_linear_layer(%a: tensor<?x2xf32>, %c: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = arith.constant dense<[[1.0, -2.0, 3.0, 0.5], [4.0, -0.1, 6.0, -7.0]]> : tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<2x4xf32>) outs(%c : tensor<?x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32> loc(#conv)
  return %r : tensor<?x4xf32>
}
#conv = loc("conv"("Conv"))
