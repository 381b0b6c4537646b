// RUN: kiln-opt %s --kiln-prepare-gemm-epilogues -split-input-file | FileCheck %s

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// BERT's intermediate layer: bias then GELU in its erf form, exported as
// (x * (erf(x / 1.41421354) + 1)) * 0.5. The consumer now writes in place
// into the contraction's result and is marked activation 1 (GELU erf).
// CHECK-LABEL: func.func @bias_gelu_erf
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[MM]], %{{.*}} : tensor<?x8xf32>, tensor<8xf32>) outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_erf>
func.func @bias_gelu_erf(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
                         %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %sqrt2 = arith.constant 1.41421354 : f32
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %r = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %d = arith.divf %s, %sqrt2 : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %e, %one : f32
    %m = arith.mulf %s, %e1 : f32
    %g = arith.mulf %m, %half : f32
    linalg.yield %g : f32
  } -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (0, n)>

// GPT-2's GELU (tanh form, x^3 as powf), the bias read as a 1 x N row,
// and the residual after the activation: activation 2, residual operand 2.
// CHECK-LABEL: func.func @gelu_tanh_residual
// CHECK: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = gelu_tanh>
func.func @gelu_tanh_residual(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<1x8xf32>,
                              %res: tensor<?x8xf32>, %zero: tensor<?x8xf32>,
                              %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %three = arith.constant 3.0 : f32
  %c = arith.constant 0.044715 : f32
  %k = arith.constant 0.797884583 : f32
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %r = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias, %res : tensor<?x8xf32>, tensor<1x8xf32>, tensor<?x8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %rv: f32, %o: f32):
    %s = arith.addf %b, %x : f32
    %cube = math.powf %s, %three : f32
    %t0 = arith.mulf %cube, %c : f32
    %t1 = arith.addf %s, %t0 : f32
    %t2 = arith.mulf %t1, %k : f32
    %t = math.tanh %t2 : f32
    %t3 = arith.addf %t, %one : f32
    %h = arith.mulf %s, %half : f32
    %g = arith.mulf %h, %t3 : f32
    %y = arith.addf %g, %rv : f32
    linalg.yield %y : f32
  } -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// ReLU with no bias (activation 3), and a plain residual add (activation 0).
// CHECK-LABEL: func.func @relu_and_residual
// CHECK: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = -1, activation = relu>
// CHECK: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 1, bias = -1, residual = 0, activation = none>
func.func @relu_and_residual(%a: tensor<4x4xf32>, %w: tensor<4x4xf32>, %zero: tensor<4x4xf32>,
                             %res: tensor<4x4xf32>, %empty: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%zero : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %f0 = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<4x4xf32>) outs(%empty : tensor<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %f0 : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  %mm2 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%zero : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%res, %mm2 : tensor<4x4xf32>, tensor<4x4xf32>) outs(%empty : tensor<4x4xf32>) {
  ^bb0(%rv: f32, %x: f32, %o: f32):
    %s = arith.addf %rv, %x : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  return %r, %r2 : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// Not epilogues: a sigmoid (no such activation), a scale by 0.125 (not
// act(x + b) + r), and a contraction whose result has a second user.
// CHECK-LABEL: func.func @not_epilogues
// CHECK-NOT: kiln.gemm_epilogue
func.func @not_epilogues(%a: tensor<4x4xf32>, %w: tensor<4x4xf32>, %zero: tensor<4x4xf32>,
                         %empty: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%zero : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %one = arith.constant 1.0 : f32
  %sig = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<4x4xf32>) outs(%empty : tensor<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %s = arith.divf %one, %d : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %mm2 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%zero : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %eighth = arith.constant 0.125 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm2 : tensor<4x4xf32>) outs(%empty : tensor<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.mulf %x, %eighth : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %mm3 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%zero : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm3 : tensor<4x4xf32>) outs(%empty : tensor<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %one : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  return %sig, %scaled, %relu, %mm3 : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// A tensor.dim of the contraction's result only asks for its size: the one
// consumer that reads it is still the epilogue (ReLU here).
// CHECK-LABEL: func.func @size_query_is_not_a_reader
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: tensor.dim %[[MM]]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[MM]] : tensor<?x8xf32>) outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = -1, residual = -1, activation = relu>
func.func @size_query_is_not_a_reader(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %zero: tensor<?x8xf32>)
    -> (tensor<?x8xf32>, index) {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %c0 = arith.constant 0 : index
  %rows = tensor.dim %mm, %c0 : tensor<?x8xf32>
  %empty = tensor.empty(%rows) : tensor<?x8xf32>
  %z = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<?x8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %z : f32
    linalg.yield %m : f32
  } -> tensor<?x8xf32>
  return %r, %rows : tensor<?x8xf32>, index
}
