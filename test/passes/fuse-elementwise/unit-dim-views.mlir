// RUN: kiln-opt %s --kiln-fuse-elementwise --canonicalize --cse | FileCheck %s

// Views between a gather and its reader that only drop and add dims of 1
// (TorchScript's BERT mask: Gather -> [B, 1, 1, S, 1], Reshape to [-1],
// Reshape to [B, 1, 1, S]) are seen through: the reader reads the gather's
// result directly, and the gather fuses into it.

#g5 = affine_map<(a, b, c, d, e) -> (a, b, c, d, e)>
#id4 = affine_map<(a, b, c, d) -> (a, b, c, d)>
#mask = affine_map<(a, b, c, d) -> (a, 0, 0, d)>
#q = affine_map<(a, b, c, d) -> (0, 0, c, 0)>
#idx = affine_map<(a, b, c, d, e) -> (a, b, c, d)>

// Symbolic B and S: the second view is a tensor.reshape to the run-time
// sizes, which are the gather's own dims.
// CHECK-LABEL: func.func @symbolic_mask
// CHECK-NOT: tensor.reshape
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[M:.*]] = linalg.generic
// CHECK: tensor.extract %arg0
// CHECK: arith.andi
// CHECK-NOT: linalg.generic
// CHECK: return %[[M]]
func.func @symbolic_mask(%flat: tensor<?x1xi1>, %q: tensor<1x1x?x1xi1>, %b: index, %s: index) -> tensor<?x1x?x?xi1> {
  %c1 = arith.constant 1 : index
  %e = tensor.empty(%b, %s) : tensor<?x1x1x?x1xi1>
  %g = linalg.generic {indexing_maps = [#g5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<?x1x1x?x1xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 3 : index
    %row = arith.muli %i, %s : index
    %at = arith.addi %j, %row : index
    %c0 = arith.constant 0 : index
    %v = tensor.extract %flat[%at, %c0] : tensor<?x1xi1>
    linalg.yield %v : i1
  } -> tensor<?x1x1x?x1xi1>
  %all = tensor.collapse_shape %g [[0, 1, 2, 3, 4]] : tensor<?x1x1x?x1xi1> into tensor<?xi1>
  %shape = tensor.from_elements %b, %c1, %c1, %s : tensor<4xindex>
  %m = tensor.reshape %all(%shape) : (tensor<?xi1>, tensor<4xindex>) -> tensor<?x1x1x?xi1>
  %e2 = tensor.empty(%b, %s, %s) : tensor<?x1x?x?xi1>
  %r = linalg.generic {indexing_maps = [#mask, #q, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%m, %q : tensor<?x1x1x?xi1>, tensor<1x1x?x1xi1>) outs(%e2 : tensor<?x1x?x?xi1>) {
  ^bb0(%x: i1, %y: i1, %o: i1):
    %a = arith.andi %x, %y : i1
    linalg.yield %a : i1
  } -> tensor<?x1x?x?xi1>
  return %r : tensor<?x1x?x?xi1>
}

// Fixed shapes: the views are a collapse_shape to [32] and an
// expand_shape to [2, 1, 1, 16] (each regroups 2 and 16); the gather reads
// a constant index tensor (b * 16 + s).
// CHECK-LABEL: func.func @fixed_mask
// CHECK-NOT: tensor.expand_shape
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %arg1 : tensor<2x1x1x16xi64>, tensor<1x1x16x1xi1>)
// CHECK: arith.index_cast
// CHECK: tensor.extract %arg0
// CHECK: arith.andi
// CHECK-NOT: linalg.generic
// CHECK: return %[[M]]
func.func @fixed_mask(%flat: tensor<32x1xi1>, %q: tensor<1x1x16x1xi1>) -> tensor<2x1x16x16xi1> {
  %ids = arith.constant dense<[[[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]]], [[[16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]]]]> : tensor<2x1x1x16xi64>
  %e = tensor.empty() : tensor<2x1x1x16x1xi1>
  %g = linalg.generic {indexing_maps = [#idx, #g5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%ids : tensor<2x1x1x16xi64>) outs(%e : tensor<2x1x1x16x1xi1>) {
  ^bb0(%id: i64, %o: i1):
    %at = arith.index_cast %id : i64 to index
    %c0 = arith.constant 0 : index
    %v = tensor.extract %flat[%at, %c0] : tensor<32x1xi1>
    linalg.yield %v : i1
  } -> tensor<2x1x1x16x1xi1>
  %all = tensor.collapse_shape %g [[0, 1, 2, 3, 4]] : tensor<2x1x1x16x1xi1> into tensor<32xi1>
  %m = tensor.expand_shape %all [[0, 1, 2, 3]] output_shape [2, 1, 1, 16] : tensor<32xi1> into tensor<2x1x1x16xi1>
  %e2 = tensor.empty() : tensor<2x1x16x16xi1>
  %r = linalg.generic {indexing_maps = [#mask, #q, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%m, %q : tensor<2x1x1x16xi1>, tensor<1x1x16x1xi1>) outs(%e2 : tensor<2x1x16x16xi1>) {
  ^bb0(%x: i1, %y: i1, %o: i1):
    %a = arith.andi %x, %y : i1
    linalg.yield %a : i1
  } -> tensor<2x1x16x16xi1>
  return %r : tensor<2x1x16x16xi1>
}

// A reshape whose sizes are not the source's dims other than 1 (rows and
// columns swapped) regroups data: it stays.
// CHECK-LABEL: func.func @not_the_same_dims
// CHECK: tensor.reshape
func.func @not_the_same_dims(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = tensor.dim %x, %c0 : tensor<?x?xf32>
  %c = tensor.dim %x, %c1 : tensor<?x?xf32>
  %all = tensor.collapse_shape %x [[0, 1]] : tensor<?x?xf32> into tensor<?xf32>
  %shape = tensor.from_elements %c, %r : tensor<2xindex>
  %y = tensor.reshape %all(%shape) : (tensor<?xf32>, tensor<2xindex>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// A producer that reads a tensor other than a constant (here an argument)
// is not read through the views: it stays a loop nest of its own.
// CHECK-LABEL: func.func @reads_an_argument
// CHECK: linalg.generic
// CHECK: tensor.collapse_shape
// CHECK: linalg.generic
func.func @reads_an_argument(%x: tensor<4x1xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4x1xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x1xf32>) outs(%e : tensor<4x1xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<4x1xf32>
  %c = tensor.collapse_shape %g [[0, 1]] : tensor<4x1xf32> into tensor<4xf32>
  %e2 = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%c : tensor<4xf32>) outs(%e2 : tensor<4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %m = arith.mulf %v, %v : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// A view that alone gives a loop its size (a reduction over one element
// whose other operand, a 1x1 weight, was folded into the body: a 1x1 Conv
// of one channel) is not read through: the loop would have no operand to
// size it (the GPU path's canonicalization order met it).
// CHECK-LABEL: func.func @view_sizes_a_loop
// CHECK: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%{{.*}} : tensor<1xf32>)
func.func @view_sizes_a_loop() -> tensor<1xf32> {
  %w = arith.constant 0.5 : f32
  %x = arith.constant dense<2.0> : tensor<1x1xf32>
  %e = tensor.empty() : tensor<1x1xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<1x1xf32>) outs(%e : tensor<1x1xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<1x1xf32>
  %c = tensor.collapse_shape %g [[0, 1]] : tensor<1x1xf32> into tensor<1xf32>
  %z = arith.constant dense<0.0> : tensor<1xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, k) -> (k)>, affine_map<(i, k) -> (i)>], iterator_types = ["parallel", "reduction"]}
      ins(%c : tensor<1xf32>) outs(%z : tensor<1xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %p = arith.mulf %v, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1xf32>
  return %r : tensor<1xf32>
}
