// RUN: kiln-opt %s --kiln-fuse-elementwise --canonicalize | FileCheck %s

#id = affine_map<(i, j) -> (i, j)>
#col = affine_map<(i, j) -> (j)>
#col1 = affine_map<(i, j) -> (0, j)>
#id1 = affine_map<(i) -> (i)>

// A gather (index arithmetic and a load an element) read broadcast over
// the rows stays its own loop: fused, it would run once per row.
// CHECK-LABEL: func.func @costly_broadcast_stays
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: tensor.extract
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[G]] : tensor<8xf32>)
// CHECK-NOT: tensor.extract
// CHECK: return
func.func @costly_broadcast_stays(%idx: tensor<8xi64>, %table: tensor<100xf32>) -> tensor<4x8xf32> {
  %c0 = arith.constant 0 : index
  %c99 = arith.constant 99 : index
  %c100 = arith.constant 100 : index
  %e1 = tensor.empty() : tensor<8xf32>
  %g = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%idx : tensor<8xi64>) outs(%e1 : tensor<8xf32>) {
  ^bb0(%i: i64, %o: f32):
    %x = arith.index_cast %i : i64 to index
    %neg = arith.cmpi slt, %x, %c0 : index
    %w = arith.addi %x, %c100 : index
    %s = arith.select %neg, %w, %x : index
    %lo = arith.maxsi %s, %c0 : index
    %in = arith.minsi %lo, %c99 : index
    %v = tensor.extract %table[%in] : tensor<100xf32>
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g : tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// The same gather read element for element fuses.
// CHECK-LABEL: func.func @costly_same_shape_fuses
// CHECK: linalg.generic
// CHECK: tensor.extract
// CHECK: arith.negf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @costly_same_shape_fuses(%idx: tensor<8xi64>, %table: tensor<100xf32>) -> tensor<8xf32> {
  %c0 = arith.constant 0 : index
  %c99 = arith.constant 99 : index
  %c100 = arith.constant 100 : index
  %e1 = tensor.empty() : tensor<8xf32>
  %g = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%idx : tensor<8xi64>) outs(%e1 : tensor<8xf32>) {
  ^bb0(%i: i64, %o: f32):
    %x = arith.index_cast %i : i64 to index
    %neg = arith.cmpi slt, %x, %c0 : index
    %w = arith.addi %x, %c100 : index
    %s = arith.select %neg, %w, %x : index
    %lo = arith.maxsi %s, %c0 : index
    %in = arith.minsi %lo, %c99 : index
    %v = tensor.extract %table[%in] : tensor<100xf32>
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %r = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%g : tensor<8xf32>) outs(%e1 : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// A cheap producer (a cast) read broadcast still fuses, as does a costly
// one broadcast only over a loop of extent 1.
// CHECK-LABEL: func.func @cheap_broadcast_fuses
// CHECK: linalg.generic
// CHECK: arith.sitofp
// CHECK: arith.negf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @cheap_broadcast_fuses(%x: tensor<8xi64>) -> tensor<4x8xf32> {
  %e1 = tensor.empty() : tensor<8xf32>
  %f = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%x : tensor<8xi64>) outs(%e1 : tensor<8xf32>) {
  ^bb0(%i: i64, %o: f32):
    %v = arith.sitofp %i : i64 to f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%f : tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @costly_over_unit_loop_fuses
// CHECK: linalg.generic
// CHECK: tensor.extract
// CHECK: arith.negf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @costly_over_unit_loop_fuses(%idx: tensor<1x8xi64>, %table: tensor<100xf32>) -> tensor<1x8xf32> {
  %c0 = arith.constant 0 : index
  %c99 = arith.constant 99 : index
  %c100 = arith.constant 100 : index
  %e1 = tensor.empty() : tensor<1x8xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%idx : tensor<1x8xi64>) outs(%e1 : tensor<1x8xf32>) {
  ^bb0(%i: i64, %o: f32):
    %x = arith.index_cast %i : i64 to index
    %neg = arith.cmpi slt, %x, %c0 : index
    %w = arith.addi %x, %c100 : index
    %s = arith.select %neg, %w, %x : index
    %lo = arith.maxsi %s, %c0 : index
    %in = arith.minsi %lo, %c99 : index
    %v = tensor.extract %table[%in] : tensor<100xf32>
    linalg.yield %v : f32
  } -> tensor<1x8xf32>
  %r = linalg.generic {indexing_maps = [#col1, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g : tensor<1x8xf32>) outs(%e1 : tensor<1x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// A mask read at its own loop indices (a grid gather in range by
// construction: the linalg.index ops, which compute nothing, a select per
// index for a Range an Expand may have broadcast, one load) is cheap: it
// fuses into the consumer that reads it broadcast over the queries, as the
// mask's consumers in attention do.
// CHECK-LABEL: func.func @indexed_load_broadcast_fuses
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: tensor.extract
// CHECK-NEXT: arith.select {{.*}} : f32
// CHECK-NOT: linalg.generic
// CHECK: return
#b1s = affine_map<(b, q, s) -> (b, 0, s)>
#bqs = affine_map<(b, q, s) -> (b, q, s)>
func.func @indexed_load_broadcast_fuses(%mask: tensor<2x8xi1>, %flat_b: i1, %flat_s: i1)
    -> tensor<2x8x8xf32> {
  %c0 = arith.constant 0 : index
  %e1 = tensor.empty() : tensor<2x1x8xi1>
  %g = linalg.generic {indexing_maps = [#bqs], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%e1 : tensor<2x1x8xi1>) {
  ^bb0(%o: i1):
    %b = linalg.index 0 : index
    %s = linalg.index 2 : index
    %rb = arith.select %flat_b, %c0, %b : index
    %rs = arith.select %flat_s, %c0, %s : index
    %v = tensor.extract %mask[%rb, %rs] : tensor<2x8xi1>
    linalg.yield %v : i1
  } -> tensor<2x1x8xi1>
  %zero = arith.constant 0.0 : f32
  %min = arith.constant -1.0e9 : f32
  %e = tensor.empty() : tensor<2x8x8xf32>
  %r = linalg.generic {indexing_maps = [#b1s, #bqs], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g : tensor<2x1x8xi1>) outs(%e : tensor<2x8x8xf32>) {
  ^bb0(%m: i1, %o: f32):
    %a = arith.select %m, %zero, %min : f32
    linalg.yield %a : f32
  } -> tensor<2x8x8xf32>
  return %r : tensor<2x8x8xf32>
}
