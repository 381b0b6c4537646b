// RUN: kiln-opt %s --kiln-prepare-gemm-epilogues -split-input-file | FileCheck %s

// Payloads that look like an activation the GEMM epilogue supports, or
// agree with one on small inputs, but compute something else: none is
// marked, so each stays a loop of its own. (ReLU6 and Clip(0, 20) agree with
// ReLU below 6 and 20: a matcher that evaluated payloads at small sample
// points once fused them as ReLU.)

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// ReLU6 = Clip(s, 0, 6): not ReLU, however ReLU-like below 6.
// CHECK-LABEL: func.func @relu6
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @relu6(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %f6 = arith.constant 6.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %lo = arith.maximumf %s, %f0 : f32
    %hi = arith.minimumf %lo, %f6 : f32
    linalg.yield %hi : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// Clip(s, 0, 20).
// CHECK-LABEL: func.func @clip_0_20
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @clip_0_20(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %f20 = arith.constant 20.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %lo = arith.maximumf %s, %f0 : f32
    %hi = arith.minimumf %lo, %f20 : f32
    linalg.yield %hi : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// Clip(s, -1, 1).
// CHECK-LABEL: func.func @clip_minus1_1
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @clip_minus1_1(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %m1 = arith.constant -1.0 : f32
  %p1 = arith.constant 1.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %lo = arith.maximumf %s, %m1 : f32
    %hi = arith.minimumf %lo, %p1 : f32
    linalg.yield %hi : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// max(s, 1) is no ReLU (the bound is not 0).
// CHECK-LABEL: func.func @max_with_one
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @max_with_one(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %p1 = arith.constant 1.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %m = arith.maximumf %s, %p1 : f32
    linalg.yield %m : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// LeakyReLU(0.1) as lowered: select(s < 0, 0.1 * s, s).
// CHECK-LABEL: func.func @leaky_relu
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @leaky_relu(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %alpha = arith.constant 0.1 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %neg = arith.cmpf olt, %s, %f0 : f32
    %sc = arith.mulf %s, %alpha : f32
    %m = arith.select %neg, %sc, %s : f32
    linalg.yield %m : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// select(s > 0, 0, s) = min(s, 0): a select of s and 0, the branches swapped.
// CHECK-LABEL: func.func @select_on_wrong_side
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @select_on_wrong_side(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %pos = arith.cmpf ogt, %s, %f0 : f32
    %m = arith.select %pos, %f0, %s : f32
    linalg.yield %m : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// ThresholdedReLU(alpha = 1): select(s > 1, s, 0).
// CHECK-LABEL: func.func @thresholded_relu
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @thresholded_relu(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %p1 = arith.constant 1.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %pos = arith.cmpf ogt, %s, %p1 : f32
    %m = arith.select %pos, %s, %f0 : f32
    linalg.yield %m : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// GELU erf's shape with erf(0.6 * s) instead of erf(0.70710677 * s).
// CHECK-LABEL: func.func @gelu_erf_wrong_scale
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @gelu_erf_wrong_scale(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %c1 = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %k = arith.constant 0.6 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %d = arith.mulf %s, %k : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %e, %c1 : f32
    %m = arith.mulf %s, %e1 : f32
    %g = arith.mulf %m, %half : f32
    linalg.yield %g : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// s * (1 + erf(s / sqrt 2)): twice GELU.
// CHECK-LABEL: func.func @gelu_erf_not_halved
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @gelu_erf_not_halved(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %c1 = arith.constant 1.0 : f32
  %k = arith.constant 0.70710677 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %d = arith.mulf %s, %k : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %e, %c1 : f32
    %m = arith.mulf %s, %e1 : f32
    linalg.yield %m : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// GELU tanh's shape with 0.05 s^3 instead of 0.044715 s^3.
// CHECK-LABEL: func.func @gelu_tanh_wrong_cubic
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @gelu_tanh_wrong_cubic(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %c1 = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %three = arith.constant 3.0 : f32
  %c = arith.constant 0.05 : f32
  %k = arith.constant 0.797884583 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %cube = math.powf %s, %three : f32
    %t0 = arith.mulf %cube, %c : f32
    %t1 = arith.addf %s, %t0 : f32
    %t2 = arith.mulf %t1, %k : f32
    %t = math.tanh %t2 : f32
    %t3 = arith.addf %t, %c1 : f32
    %h = arith.mulf %s, %half : f32
    %g = arith.mulf %h, %t3 : f32
    linalg.yield %g : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// GELU tanh with the bias left out of the tanh: 0.5 s (1 + tanh(k (x + c x^3))).
// CHECK-LABEL: func.func @gelu_tanh_of_x_only
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @gelu_tanh_of_x_only(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %c1 = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %three = arith.constant 3.0 : f32
  %c = arith.constant 0.044715 : f32
  %k = arith.constant 0.797884583 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %cube = math.powf %x, %three : f32
    %t0 = arith.mulf %cube, %c : f32
    %t1 = arith.addf %x, %t0 : f32
    %t2 = arith.mulf %t1, %k : f32
    %t = math.tanh %t2 : f32
    %t3 = arith.addf %t, %c1 : f32
    %h = arith.mulf %s, %half : f32
    %g = arith.mulf %h, %t3 : f32
    linalg.yield %g : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// x + b + b: the bias counted twice.
// CHECK-LABEL: func.func @bias_twice
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @bias_twice(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %y = arith.addf %s, %b : f32
    linalg.yield %y : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// max(x + b, 0) + b: the bias used twice, once after the activation.
// CHECK-LABEL: func.func @relu_then_bias_again
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @relu_then_bias_again(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %m = arith.maximumf %s, %f0 : f32
    %y = arith.addf %m, %b : f32
    linalg.yield %y : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// max(x, 0) + b: the bias after the activation, not before it.
// CHECK-LABEL: func.func @relu_before_bias
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @relu_before_bias(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %m = arith.maximumf %x, %f0 : f32
    %y = arith.addf %m, %b : f32
    linalg.yield %y : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// max(x + b, 0) + 2 r: a residual is added once.
// CHECK-LABEL: func.func @residual_scaled
// CHECK-NOT: kiln.gemm_epilogue
// CHECK: return
func.func @residual_scaled(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>, %res: tensor<?x8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %f0 = arith.constant 0.0 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias, %res : tensor<?x8xf32>, tensor<8xf32>, tensor<?x8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %r: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %m = arith.maximumf %s, %f0 : f32
    %r2 = arith.addf %r, %r : f32
    %y = arith.addf %m, %r2 : f32
    linalg.yield %y : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}
