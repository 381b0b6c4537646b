// RUN: kiln-opt %s --kiln-reassociate-reductions | FileCheck %s

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>

// The float ops of a reduction may be reordered (existing flags are kept);
// an all-parallel generic is left as it is.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<reassoc,nnan,contract> : f32
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// CHECK: arith.subf %{{.*}}, %{{.*}} : f32
func.func @sum_of_squares(%x: tensor<4x8xf32>, %init: tensor<4xf32>, %e: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4x8xf32>) {
  %s = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %sq = arith.mulf %a, %a fastmath<nnan> : f32
    %v = arith.addf %sq, %o : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %d = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.subf %a, %a : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  return %s, %d : tensor<4xf32>, tensor<4x8xf32>
}
