// RUN: kiln-opt %s --kiln-fuse-elementwise --canonicalize --cse | FileCheck %s

// An index grid (a generic with no inputs: a Range's arange(S)) viewed
// through tensor.expand_shape is computed over the expanded shape, and
// then fuses into its reader like any elementwise producer. GPT-2's causal
// mask reads arange(S) as [1, 1, 1, S] and as [1, 1, S, 1]: one generic
// compares the two loop indices, and no arange of its own is left.

#g1 = affine_map<(i) -> (i)>
#col = affine_map<(a, b, c, d) -> (0, 0, 0, d)>
#row = affine_map<(a, b, c, d) -> (0, 0, c, 0)>
#id4 = affine_map<(a, b, c, d) -> (a, b, c, d)>

// CHECK-LABEL: func.func @causal_mask
// CHECK-SAME: (%[[N:[^:]*]]: index
// CHECK: %[[E:.*]] = tensor.empty(%[[N]], %[[N]]) : tensor<1x1x?x?xi1>
// CHECK: %[[M:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<1x1x?x?xi1>)
// CHECK-DAG: %[[C:.*]] = linalg.index 2 : index
// CHECK-DAG: %[[D:.*]] = linalg.index 3 : index
// CHECK-DAG: %[[CI:.*]] = arith.index_cast %[[C]] : index to i64
// CHECK-DAG: %[[DI:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: arith.cmpi sle, %[[DI]], %[[CI]] : i64
// CHECK-NOT: linalg.generic
// CHECK: return %[[M]]
func.func @causal_mask(%n: index) -> tensor<1x1x?x?xi1> {
  %e = tensor.empty(%n) : tensor<?xi64>
  %arange = linalg.generic {indexing_maps = [#g1], iterator_types = ["parallel"]} outs(%e : tensor<?xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %v = arith.index_cast %i : index to i64
    linalg.yield %v : i64
  } -> tensor<?xi64>
  %cols = tensor.expand_shape %arange [[0, 1, 2, 3]] output_shape [1, 1, 1, %n] : tensor<?xi64> into tensor<1x1x1x?xi64>
  %rows = tensor.expand_shape %arange [[0, 1, 2, 3]] output_shape [1, 1, %n, 1] : tensor<?xi64> into tensor<1x1x?x1xi64>
  %m0 = tensor.empty(%n, %n) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#col, #row, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%cols, %rows : tensor<1x1x1x?xi64>, tensor<1x1x?x1xi64>) outs(%m0 : tensor<1x1x?x?xi1>) {
  ^bb0(%k: i64, %q: i64, %o: i1):
    %le = arith.cmpi sle, %k, %q : i64
    linalg.yield %le : i1
  } -> tensor<1x1x?x?xi1>
  return %m : tensor<1x1x?x?xi1>
}

// A group of several dims of extent other than 1 linearizes them in
// row-major order: element (i, j) of [?, 4] is element i * 4 + j of the grid.
// CHECK-LABEL: func.func @linearized_group
// CHECK-SAME: (%[[N:[^:]*]]: index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x4xindex>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?x4xindex>)
// CHECK-DAG: %[[I:.*]] = linalg.index 0 : index
// CHECK-DAG: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[IM:.*]] = arith.muli %[[I]], %[[C4]] : index
// CHECK: %[[L:.*]] = arith.addi %[[IM]], %[[J]] : index
// CHECK: %[[V:.*]] = arith.muli %[[L]], %[[C3]] : index
// CHECK: linalg.yield %[[V]] : index
// CHECK-NOT: linalg.generic
func.func @linearized_group(%n: index, %n4: index) -> tensor<?x4xindex> {
  %c3 = arith.constant 3 : index
  %e = tensor.empty(%n4) : tensor<?xindex>
  %grid = linalg.generic {indexing_maps = [#g1], iterator_types = ["parallel"]} outs(%e : tensor<?xindex>) {
  ^bb0(%o: index):
    %i = linalg.index 0 : index
    %v = arith.muli %i, %c3 : index
    linalg.yield %v : index
  } -> tensor<?xindex>
  %x = tensor.expand_shape %grid [[0, 1]] output_shape [%n, 4] : tensor<?xindex> into tensor<?x4xindex>
  return %x : tensor<?x4xindex>
}

// A generic that reads an input is not a grid: its expand_shape stays.
// CHECK-LABEL: func.func @reads_an_input
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: tensor.expand_shape %[[G]]
func.func @reads_an_input(%a: tensor<?xi64>, %n: index) -> tensor<1x?xi64> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %a, %c0 : tensor<?xi64>
  %e = tensor.empty(%d) : tensor<?xi64>
  %g = linalg.generic {indexing_maps = [#g1, #g1], iterator_types = ["parallel"]} ins(%a : tensor<?xi64>) outs(%e : tensor<?xi64>) {
  ^bb0(%x: i64, %o: i64):
    %i = linalg.index 0 : index
    %v = arith.index_cast %i : index to i64
    %s = arith.addi %v, %x : i64
    linalg.yield %s : i64
  } -> tensor<?xi64>
  %x = tensor.expand_shape %g [[0, 1]] output_shape [1, %n] : tensor<?xi64> into tensor<1x?xi64>
  return %x : tensor<1x?xi64>
}

// A grid that reads its output argument (an accumulation into an init)
// is left alone.
// CHECK-LABEL: func.func @reads_its_init
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: tensor.expand_shape %[[G]]
func.func @reads_its_init(%init: tensor<?xi64>, %n: index) -> tensor<1x?xi64> {
  %g = linalg.generic {indexing_maps = [#g1], iterator_types = ["parallel"]} outs(%init : tensor<?xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %v = arith.index_cast %i : index to i64
    %s = arith.addi %v, %o : i64
    linalg.yield %s : i64
  } -> tensor<?xi64>
  %x = tensor.expand_shape %g [[0, 1]] output_shape [1, %n] : tensor<?xi64> into tensor<1x?xi64>
  return %x : tensor<1x?xi64>
}
