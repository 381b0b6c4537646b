// RUN: kiln-opt %s --kiln-prepare-gemm-epilogues="cublas-epilogues=true" -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-prepare-gemm-epilogues -split-input-file | FileCheck %s --check-prefix=CPU
// RUN: kiln-opt %s --kiln-prepare-gemm-epilogues="cublas-epilogues=true gelu-erf-as-tanh=true" -split-input-file | FileCheck %s --check-prefix=TANH

// With cublas-epilogues only what cuBLASLt's epilogues compute is marked
// (the GPU path's GEMMs); the CPU's runtime GEMM applies all of these.

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// BERT's bias + GELU erf: cuBLASLt's GELU is the tanh form, so it stays a
// loop (bias and all).
// CHECK-LABEL: func.func @bias_gelu_erf
// CHECK-NOT: kiln.gemm_epilogue
// CPU-LABEL: func.func @bias_gelu_erf
// CPU: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_erf>
// With gelu-erf-as-tanh (--gpu-gelu=tanh) the payload becomes GELU's tanh
// form, which cuBLASLt's epilogue computes, and is marked so; the erf goes.
// TANH-LABEL: func.func @bias_gelu_erf
// TANH: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_tanh>
// TANH-NEXT: ^bb0(%[[X:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// TANH-NEXT: %[[S:.*]] = arith.addf %[[X]], %[[B]] : f32
// TANH-NEXT: %[[S2:.*]] = arith.mulf %[[S]], %[[S]] : f32
// TANH-NEXT: %[[S3:.*]] = arith.mulf %[[S2]], %[[S]] : f32
// TANH: %[[C:.*]] = arith.mulf %{{.*}}, %[[S3]] : f32
// TANH-NEXT: %[[IN:.*]] = arith.addf %[[S]], %[[C]] : f32
// TANH: %[[ARG:.*]] = arith.mulf %{{.*}}, %[[IN]] : f32
// TANH-NEXT: %[[T:.*]] = math.tanh %[[ARG]] : f32
// TANH: %[[H:.*]] = arith.mulf %{{.*}}, %[[S]] : f32
// TANH: %[[T1:.*]] = arith.addf %{{.*}}, %[[T]] : f32
// TANH-NEXT: %[[G:.*]] = arith.mulf %[[H]], %[[T1]] : f32
// TANH-NEXT: linalg.yield %[[G]] : f32
// TANH-NOT: math.erf
// TANH: return
func.func @bias_gelu_erf(%a: tensor<16x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
                         %empty: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<16x8xf32>) -> tensor<16x8xf32>
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<16x4xf32>, tensor<4x8xf32>) outs(%init : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  %sqrt2 = arith.constant 1.41421354 : f32
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %r = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<16x8xf32>, tensor<8xf32>) outs(%empty : tensor<16x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %d = arith.divf %s, %sqrt2 : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %e, %one : f32
    %m = arith.mulf %s, %e1 : f32
    %g = arith.mulf %m, %half : f32
    linalg.yield %g : f32
  } -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// A projection's bias and the residual after it, on a product over a zero
// fill: cuBLASLt adds the bias and takes the residual as its C.
// CHECK-LABEL: func.func @bias_residual
// CHECK: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = none>
func.func @bias_residual(%a: tensor<16x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
                         %res: tensor<16x8xf32>, %empty: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<16x8xf32>) -> tensor<16x8xf32>
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<16x4xf32>, tensor<4x8xf32>) outs(%init : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias, %res : tensor<16x8xf32>, tensor<8xf32>, tensor<16x8xf32>) outs(%empty : tensor<16x8xf32>) {
  ^bb0(%x: f32, %b: f32, %rv: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %t = arith.addf %s, %rv : f32
    linalg.yield %t : f32
  } -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// A residual onto a product that accumulates into something else than
// zeros: cuBLASLt's one C input cannot be both.
// CHECK-LABEL: func.func @residual_over_accumulation
// CHECK-NOT: kiln.gemm_epilogue
// CPU-LABEL: func.func @residual_over_accumulation
// CPU: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = 1, activation = none>
func.func @residual_over_accumulation(%a: tensor<16x4xf32>, %w: tensor<4x8xf32>, %c: tensor<16x8xf32>,
                                      %res: tensor<16x8xf32>, %empty: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<16x4xf32>, tensor<4x8xf32>) outs(%c : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %res : tensor<16x8xf32>, tensor<16x8xf32>) outs(%empty : tensor<16x8xf32>) {
  ^bb0(%x: f32, %rv: f32, %o: f32):
    %t = arith.addf %x, %rv : f32
    linalg.yield %t : f32
  } -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// ReLU then a residual: cuBLASLt applies one or the other, not both.
// CHECK-LABEL: func.func @relu_residual
// CHECK-NOT: kiln.gemm_epilogue
// CPU-LABEL: func.func @relu_residual
// CPU: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = relu>
func.func @relu_residual(%a: tensor<16x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
                         %res: tensor<16x8xf32>, %empty: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<16x8xf32>) -> tensor<16x8xf32>
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<16x4xf32>, tensor<4x8xf32>) outs(%init : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias, %res : tensor<16x8xf32>, tensor<8xf32>, tensor<16x8xf32>) outs(%empty : tensor<16x8xf32>) {
  ^bb0(%x: f32, %b: f32, %rv: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %s, %z : f32
    %t = arith.addf %m, %rv : f32
    linalg.yield %t : f32
  } -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// Bias + ReLU: cuBLASLt's RELU_BIAS.
// CHECK-LABEL: func.func @bias_relu
// CHECK: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = relu>
func.func @bias_relu(%a: tensor<16x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
                     %empty: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<16x8xf32>) -> tensor<16x8xf32>
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<16x4xf32>, tensor<4x8xf32>) outs(%init : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<16x8xf32>, tensor<8xf32>) outs(%empty : tensor<16x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %s, %z : f32
    linalg.yield %m : f32
  } -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}
