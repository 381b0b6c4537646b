// RUN: kiln-opt %s --kiln-prune-n-m -split-input-file | FileCheck %s
// RUN: kiln-opt %s "--kiln-prune-n-m=n=1 m=3" -split-input-file | FileCheck %s --check-prefix=ONE-OF-THREE
// RUN: kiln-opt %s "--kiln-prune-n-m=exclude=proj" -split-input-file | FileCheck %s --check-prefix=EXCLUDE
// RUN: kiln-opt %s "--kiln-prune-n-m=report=true" -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A 5 x 2 weight (K x N). 2:4 groups run along K, one column at a time:
// column 0 is (1, -3, 2, 0.5 | 4): its group keeps -3 and 2, and the last
// group, one value, keeps it. Column 1 is (2, 2, -2, 1 | 7): three equal
// magnitudes, the earliest along K goes first.
// CHECK-LABEL: func.func @matmul
// CHECK: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00], [-3.000000e+00, 2.000000e+00], [2.000000e+00, -2.000000e+00], [0.000000e+00, 0.000000e+00], [4.000000e+00, 7.000000e+00]]>
// 1:3: groups (1, -3, 2 | 0.5, 4) and (2, 2, -2 | 1, 7).
// ONE-OF-THREE-LABEL: func.func @matmul
// ONE-OF-THREE: arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00], [-3.000000e+00, 0.000000e+00], [0.000000e+00, -2.000000e+00], [0.000000e+00, 0.000000e+00], [4.000000e+00, 7.000000e+00]]>
// EXCLUDE-LABEL: func.func @matmul
// EXCLUDE: arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [-3.000000e+00, 2.000000e+00], [2.000000e+00, -2.000000e+00], [5.000000e-01, 1.000000e+00], [4.000000e+00, 7.000000e+00]]>
// REPORT: remark: loc("proj"("MatMul")): pruned to sparsity 0.4000 (4 of 5 x 2 zero, 2:4)
// REPORT: remark: pruned 1 weights (2:4): sparsity 0.4000 (4 of 10 values zero)
func.func @matmul(%a: tensor<?x5xf32>, %c: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [-3.0, 2.0], [2.0, -2.0], [0.5, 1.0], [4.0, 7.0]]> : tensor<5x2xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x5xf32>, tensor<5x2xf32>) outs(%c : tensor<?x2xf32>) {
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

// Gemm's transB weight (N x K in memory): groups run along its rows.
// CHECK-LABEL: func.func @gemm_trans_b
// CHECK: arith.constant dense<{{\[\[}}0.000000e+00, -3.000000e+00, 2.000000e+00, 0.000000e+00], [0.000000e+00, 2.000000e+00, -2.000000e+00, 0.000000e+00]]>
func.func @gemm_trans_b(%a: tensor<?x4xf32>, %c: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -3.0, 2.0, 0.5], [2.0, 2.0, -2.0, 1.0]]> : tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<2x4xf32>) outs(%c : tensor<?x2xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x2xf32> loc(#fc)
  return %r : tensor<?x2xf32>
}
#fc = loc("fc"("Gemm"))
