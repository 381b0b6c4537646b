// RUN: kiln-opt %s --kiln-fold-output-transposes -split-input-file | FileCheck %s

#p = affine_map<(b, h, s, d, k) -> (b, h, s, k)>
#v = affine_map<(b, h, s, d, k) -> (b, h, k, d)>
#o = affine_map<(b, h, s, d, k) -> (b, h, s, d)>

// Attention's product with V, then the heads' merge transpose: the product
// writes [B, S, H, D] itself, from a zero fill of that shape; its maps on
// the inputs, its loops and its body are as they were.
// CHECK-DAG: #[[P:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[T:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>
// CHECK-LABEL: func.func @heads_merge
// CHECK-SAME: (%[[PROBS:.*]]: tensor<1x2x8x8xf32>, %[[VALUES:.*]]: tensor<1x2x8x4xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x8x2x4xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<1x8x2x4xf32>)
// CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[P]], #[[V]], #[[T]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[PROBS]], %[[VALUES]] : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%[[INIT]] : tensor<1x8x2x4xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: linalg.transpose
// CHECK: return %[[OUT]]
func.func @heads_merge(%probs: tensor<1x2x8x8xf32>, %values: tensor<1x2x8x4xf32>) -> tensor<1x8x2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x8x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %pv = linalg.generic {indexing_maps = [#p, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%probs, %values : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%init : tensor<1x2x8x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  } -> tensor<1x2x8x4xf32>
  %empty = tensor.empty() : tensor<1x8x2x4xf32>
  %t = linalg.transpose ins(%pv : tensor<1x2x8x4xf32>) outs(%empty : tensor<1x8x2x4xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<1x8x2x4xf32>
}

// -----

#id = affine_map<(i, j, k) -> (i, j, k)>

// Left alone: a permutation that moves the last dim (a GEMM's rows would
// no longer be contiguous), a result used besides the transpose, an init
// that is not a fill.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: linalg.transpose
func.func @left_alone(%x: tensor<2x3x4xf32>, %init: tensor<2x3x4xf32>)
    -> (tensor<4x3x2xf32>, tensor<3x2x4xf32>, tensor<2x3x4xf32>, tensor<3x2x4xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2x3x4xf32>
  %filled = linalg.fill ins(%one : f32) outs(%e : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x4xf32>) outs(%filled : tensor<2x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<2x3x4xf32>
  %e1 = tensor.empty() : tensor<4x3x2xf32>
  %t1 = linalg.transpose ins(%a : tensor<2x3x4xf32>) outs(%e1 : tensor<4x3x2xf32>) permutation = [2, 1, 0]
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x4xf32>) outs(%filled : tensor<2x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.mulf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<2x3x4xf32>
  %e2 = tensor.empty() : tensor<3x2x4xf32>
  %t2 = linalg.transpose ins(%b : tensor<2x3x4xf32>) outs(%e2 : tensor<3x2x4xf32>) permutation = [1, 0, 2]
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x4xf32>) outs(%init : tensor<2x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.subf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<2x3x4xf32>
  %e3 = tensor.empty() : tensor<3x2x4xf32>
  %t3 = linalg.transpose ins(%c : tensor<2x3x4xf32>) outs(%e3 : tensor<3x2x4xf32>) permutation = [1, 0, 2]
  return %t1, %t2, %b, %t3 : tensor<4x3x2xf32>, tensor<3x2x4xf32>, tensor<2x3x4xf32>, tensor<3x2x4xf32>
}

// -----

#in = affine_map<(i, j, l, k) -> (i, j, l, k)>
#sum = affine_map<(i, j, l, k) -> (i, j, l)>

// A reduction's output moves too (each element is still the sum of its own
// row), here from a fill of 2.0: the transposed init is filled the same.
// CHECK-DAG: #[[SUMT:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, d2)>
// CHECK-LABEL: func.func @reduction
// CHECK: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[TWO]] : f32) outs(%{{.*}} : tensor<3x2x5xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SUMT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[INIT]] : tensor<3x2x5xf32>)
// CHECK-NOT: linalg.transpose
func.func @reduction(%x: tensor<2x3x5x4xf32>) -> tensor<3x2x5xf32> {
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<2x3x5xf32>
  %init = linalg.fill ins(%two : f32) outs(%e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.generic {indexing_maps = [#in, #sum], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x : tensor<2x3x5x4xf32>) outs(%init : tensor<2x3x5xf32>) {
  ^bb0(%v: f32, %out: f32):
    %a = arith.addf %v, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x5xf32>
  %et = tensor.empty() : tensor<3x2x5xf32>
  %t = linalg.transpose ins(%s : tensor<2x3x5xf32>) outs(%et : tensor<3x2x5xf32>) permutation = [1, 0, 2]
  return %t : tensor<3x2x5xf32>
}
