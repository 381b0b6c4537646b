// RUN: kiln-opt %s --kiln-pack-gemm-weights-bf16=hardware-bf16=false -verify-diagnostics

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A target without AVX512_BF16 still gets bf16 weights, with a warning
// that the runtime's portable kernel will run them.
// expected-warning @+1 {{the target CPU has no AVX512_BF16: the 1 bf16 GEMMs run the runtime's portable bf16 kernel}}
module {
  func.func @one_gemm(%a: tensor<?x2xf32>, %c: tensor<?x2xf32>) -> tensor<?x2xf32> {
    %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
    %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %w : tensor<?x2xf32>, tensor<2x2xf32>) outs(%c : tensor<?x2xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    } -> tensor<?x2xf32>
    return %r : tensor<?x2xf32>
  }
}
