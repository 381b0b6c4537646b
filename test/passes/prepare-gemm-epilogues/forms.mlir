// RUN: kiln-opt %s --kiln-prepare-gemm-epilogues -split-input-file | FileCheck %s

// Payloads are recognised by their ops, not by evaluating them: these are
// algebraically equal forms of act(x + bias) + residual that exporters and
// the lowering write, and each is marked with its activation (0 none,
// 1 GELU erf, 2 GELU tanh, 3 ReLU).

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// GELU erf as 0.5 * (s * (1 + erf(0.70710677 * s))), s = bias + x: the
// constants on the left of each product, the bias first in the sum.
// CHECK-LABEL: func.func @gelu_erf_constants_first
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_erf>
func.func @gelu_erf_constants_first(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
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
  %rsqrt2 = arith.constant 0.70710677 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %b, %x : f32
    %d = arith.mulf %rsqrt2, %s : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %c1, %e : f32
    %m = arith.mulf %s, %e1 : f32
    %g = arith.mulf %half, %m : f32
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

// GELU erf as (s * (erf(s / sqrt 2) + 1)) / 2, then the residual: / 2 is * 0.5.
// CHECK-LABEL: func.func @gelu_erf_halved_by_division
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = gelu_erf>
func.func @gelu_erf_halved_by_division(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>, %res: tensor<?x8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %c1 = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %sqrt2 = arith.constant 1.41421354 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias, %res : tensor<?x8xf32>, tensor<8xf32>, tensor<?x8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %r: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %d = arith.divf %s, %sqrt2 : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %e, %c1 : f32
    %m = arith.mulf %s, %e1 : f32
    %g = arith.divf %m, %two : f32
    %y = arith.addf %r, %g : f32
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

// GELU tanh with s^3 as s * (s * s) and the constants inside the body
// (as lowered from ONNX Gelu(approximate = tanh)).
// CHECK-LABEL: func.func @gelu_tanh_cube_as_products
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_tanh>
func.func @gelu_tanh_cube_as_products(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
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
    %k = arith.constant 0.797884583 : f32
    %c = arith.constant 0.044715 : f32
    %one = arith.constant 1.0 : f32
    %h = arith.constant 0.5 : f32
    %s = arith.addf %x, %b : f32
    %s2 = arith.mulf %s, %s : f32
    %s3 = arith.mulf %s, %s2 : f32
    %t0 = arith.mulf %c, %s3 : f32
    %t1 = arith.addf %s, %t0 : f32
    %t2 = arith.mulf %k, %t1 : f32
    %t = math.tanh %t2 : f32
    %t3 = arith.addf %one, %t : f32
    %hs = arith.mulf %h, %s : f32
    %g = arith.mulf %hs, %t3 : f32
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

// GELU tanh as s * (0.5 + 0.5 * tanh(s * (0.79788456 + 0.0356774081 * s^2))),
// s^2 as fpowi: the same polynomial once expanded.
// CHECK-LABEL: func.func @gelu_tanh_fpowi_factored
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_tanh>
func.func @gelu_tanh_fpowi_factored(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %half = arith.constant 0.5 : f32
  %two = arith.constant 2 : i32
  %k = arith.constant 0.797884583 : f32
  %kc = arith.constant 0.0356774081 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %s2 = math.fpowi %s, %two : f32, i32
    %t0 = arith.mulf %s2, %kc : f32
    %t1 = arith.addf %k, %t0 : f32
    %t2 = arith.mulf %s, %t1 : f32
    %t = math.tanh %t2 : f32
    %ht = arith.mulf %t, %half : f32
    %t3 = arith.addf %half, %ht : f32
    %g = arith.mulf %s, %t3 : f32
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

// ReLU as maxnumf(0, s).
// CHECK-LABEL: func.func @relu_maxnumf_zero_first
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = relu>
func.func @relu_maxnumf_zero_first(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
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
    %m = arith.maxnumf %f0, %s : f32
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

// ReLU as an exporter's Where(s > 0, s, 0), then the residual.
// CHECK-LABEL: func.func @relu_select_greater
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = relu>
func.func @relu_select_greater(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>, %res: tensor<?x8xf32>,
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
    %pos = arith.cmpf ogt, %s, %f0 : f32
    %m = arith.select %pos, %s, %f0 : f32
    %y = arith.addf %m, %r : f32
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

// ReLU as Where(0 > s, 0, s): the comparison's operands swapped too.
// CHECK-LABEL: func.func @relu_select_less_swapped
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = relu>
func.func @relu_select_less_swapped(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
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
    %s = arith.addf %b, %x : f32
    %neg = arith.cmpf ogt, %f0, %s : f32
    %m = arith.select %neg, %f0, %s : f32
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

// No activation: (r + x) + b adds the same terms as act(x + b) + r.
// CHECK-LABEL: func.func @bias_and_residual_any_order
// CHECK: %[[MM:.*]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[MM]] : tensor<?x8xf32>)
// CHECK-SAME: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = none>
func.func @bias_and_residual_any_order(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>, %res: tensor<?x8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %e = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias, %res : tensor<?x8xf32>, tensor<8xf32>, tensor<?x8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %r: f32, %o: f32):
    %t = arith.addf %r, %x : f32
    %y = arith.addf %t, %b : f32
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

// A float16 model's GELU tanh, widened to f32 by the importer: its
// constants are float16's (sqrt 2/pi = 0.7978515625, 0.044708251953125),
// 4e-5 and 2e-4 off the exact ones. Still GELU tanh; the epilogue uses the
// exact constants, a change below float16's own rounding.
// CHECK-LABEL: func.func @gelu_tanh_float16_constants
// CHECK: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_tanh>
func.func @gelu_tanh_float16_constants(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
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
    %k = arith.constant 0.7978515625 : f32
    %c = arith.constant 0.044708251953125 : f32
    %one = arith.constant 1.0 : f32
    %h = arith.constant 0.5 : f32
    %s = arith.addf %x, %b : f32
    %s2 = arith.mulf %s, %s : f32
    %s3 = arith.mulf %s, %s2 : f32
    %t0 = arith.mulf %c, %s3 : f32
    %t1 = arith.addf %s, %t0 : f32
    %t2 = arith.mulf %k, %t1 : f32
    %t = math.tanh %t2 : f32
    %t3 = arith.addf %one, %t : f32
    %hs = arith.mulf %h, %s : f32
    %g = arith.mulf %hs, %t3 : f32
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

// A bfloat16 model's GELU erf: s / sqrt 2 with sqrt 2 rounded to bfloat16
// (1.4140625). Still GELU erf.
// CHECK-LABEL: func.func @gelu_erf_bfloat16_sqrt2
// CHECK: kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1, activation = gelu_erf>
func.func @gelu_erf_bfloat16_sqrt2(%a: tensor<?x4xf32>, %w: tensor<4x8xf32>, %bias: tensor<8xf32>,
    %zero: tensor<?x8xf32>, %empty: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%zero : tensor<?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %c1 = arith.constant 1.0 : f32
  %h = arith.constant 0.5 : f32
  %sqrt2 = arith.constant 1.4140625 : f32
  %e = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %d = arith.divf %s, %sqrt2 : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %e, %c1 : f32
    %m = arith.mulf %s, %e1 : f32
    %g = arith.mulf %m, %h : f32
    linalg.yield %g : f32
  } -> tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}
