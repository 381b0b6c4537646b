// RUN: kiln-opt %s --kiln-gpu-warp-reductions --canonicalize --cse -split-input-file | FileCheck %s

// ReduceMean's sum over the last dim of a 6 x 40 buffer: a warp per output
// element (6 warps: 2 blocks of 4, the second guarded), each lane folding
// elements lane, lane + 32 from -0.0 (the sum's identity), the butterfly,
// then lane 0 adds the total to the output's initial value.
// CHECK-LABEL: func.func @sum_rows
// CHECK-SAME: (%[[X:.*]]: memref<6x40xf32>, %[[Y:.*]]: memref<6xf32>)
// CHECK-DAG: %[[NEG0:.*]] = arith.constant -0.000000e+00 : f32
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, {{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c128,
// CHECK: %[[LANE:.*]] = arith.remui %[[TX]], %c32
// CHECK: %[[ROW:.*]] = arith.addi
// CHECK: scf.if
// CHECK: %[[PART:.*]] = scf.for %[[K:.*]] = %[[LANE]] to %c40 step %c32 iter_args(%[[ACC:.*]] = %[[NEG0]]) -> (f32)
// CHECK:   %[[V:.*]] = memref.load %[[X]][%[[ROW]], %[[K]]]
// CHECK:   %[[S:.*]] = arith.addf %[[V]], %[[ACC]]
// CHECK:   scf.yield %[[S]]
// CHECK: gpu.shuffle xor %[[PART]], %c16_i32, %c32_i32
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK: %[[TOTAL:.*]] = arith.addf
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]], %c0
// CHECK: scf.if %[[FIRST]] {
// CHECK:   %[[INIT:.*]] = memref.load %[[Y]][%[[ROW]]]
// CHECK:   %[[OUT:.*]] = arith.addf %[[TOTAL]], %[[INIT]]
// CHECK:   memref.store %[[OUT]], %[[Y]][%[[ROW]]]
// CHECK-NOT: linalg.generic
#in = affine_map<(i, j) -> (i, j)>
#out = affine_map<(i, j) -> (i)>
func.func @sum_rows(%x: memref<6x40xf32>, %y: memref<6xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<6x40xf32>) outs(%y : memref<6xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A max over the last dim of a 3-D value, with a computed value (scaled,
// then the max): the body up to the combiner runs per element; the reduced
// dim is the loop's, the others the warp's output element; -inf starts each
// lane; the output element's initial value comes first in the final max,
// as in the body (max(acc, v)).
// CHECK-LABEL: func.func @max_last
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, {{.*}}) threads({{.*}}) in (%{{.*}} = %c128,
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c5 step %c32 iter_args(%[[ACC:.*]] = %[[NEGINF]])
// CHECK:   %[[V:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}, %[[K]]] : memref<2x4x5xf32>
// CHECK:   %[[SCALED:.*]] = arith.mulf %[[V]], %[[TWO]]
// CHECK:   arith.maximumf %[[ACC]], %[[SCALED]]
// CHECK: gpu.shuffle xor
// CHECK: scf.if
// CHECK:   %[[INIT:.*]] = memref.load %{{.*}} : memref<2x4xf32>
// CHECK:   arith.maximumf %[[INIT]], %{{.*}}
#x3 = affine_map<(i, j, k) -> (i, j, k)>
#o2 = affine_map<(i, j, k) -> (i, j)>
func.func @max_last(%x: memref<2x4x5xf32>, %y: memref<2x4xf32>) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#x3, #o2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<2x4x5xf32>) outs(%y : memref<2x4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.mulf %a, %two : f32
    %m = arith.maximumf %acc, %s : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A full reduction (no parallel dim): one warp; linalg.index of the
// reduced dim is the loop's index.
// CHECK-LABEL: func.func @weighted_total
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}}) threads({{.*}}) in (%{{.*}} = %c32,
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c100 step %c32
// CHECK:   arith.index_cast %[[K]]
#all = affine_map<(k) -> (k)>
#none = affine_map<(k) -> ()>
func.func @weighted_total(%x: memref<100xf32>, %y: memref<f32>) {
  linalg.generic {indexing_maps = [#all, #none], iterator_types = ["reduction"]}
      ins(%x : memref<100xf32>) outs(%y : memref<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %k = linalg.index 0 : index
    %ki = arith.index_cast %k : index to i32
    %kf = arith.sitofp %ki : i32 to f32
    %w = arith.mulf %a, %kf : f32
    %s = arith.addf %acc, %w : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Left to kiln-gpu-map-parallel-loops: a 64-bit integer sum (shuffles
// move up to 32 bits here), an accumulator read twice, two reduced dims
// that are not the input's last ones, an elementwise loop.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK-COUNT-4: linalg.generic
#in = affine_map<(i, j) -> (i, j)>
#out = affine_map<(i, j) -> (i)>
#x3 = affine_map<(i, k, j) -> (i, k, j)>
#o3 = affine_map<(i, k, j) -> (k)>
func.func @left_alone(%xi: memref<6x40xi64>, %yi: memref<6xi64>, %x: memref<6x40xf32>,
                      %y: memref<6xf32>, %x3: memref<2x5x4xf32>, %t: memref<5xf32>,
                      %z: memref<6x40xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%xi : memref<6x40xi64>) outs(%yi : memref<6xi64>) {
  ^bb0(%a: i64, %acc: i64):
    %s = arith.addi %a, %acc : i64
    linalg.yield %s : i64
  }
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<6x40xf32>) outs(%y : memref<6xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %p = arith.mulf %a, %acc : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x3, #o3], iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%x3 : memref<2x5x4xf32>) outs(%t : memref<5xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#in, #in], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<6x40xf32>) outs(%z : memref<6x40xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  }
  return
}

// -----

// A run-time check's "any index out of range" over all the ids (two
// reduced dims, flattened: the lanes stride 0..255, each split into its
// row and column), an i1 `ori` that starts at false and moves through the
// shuffles as an i32; and an i32 sum of each row. The fill of the flag
// right before its reduction is folded into it (lane 0 stores the total:
// `or false` folds, no load); the sums' buffer is loaded. 256 ids = 8 x 32:
// a lane's 8 ids are loaded first (straight-line code), then or-ed in
// order; the rows of 40 take a loop.
// CHECK-LABEL: func.func @integer_reductions
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch
// CHECK: %[[LANE:.*]] = arith.remui
// CHECK-DAG: %[[COLUMN:.*]] = arith.remui %[[LANE]], %[[C128]]
// CHECK-DAG: %[[ROW:.*]] = arith.divui %[[LANE]], %[[C128]]
// CHECK: memref.load %{{.*}}[%[[ROW]], %[[COLUMN]]] : memref<2x128xi64>
// CHECK-NOT: scf.for
// CHECK-COUNT-7: memref.load %{{.*}} : memref<2x128xi64>
// CHECK-COUNT-7: arith.ori
// CHECK: %[[WIDE:.*]] = arith.extui %{{.*}} : i1 to i32
// CHECK: %[[SHUFFLED:.*]], %{{.*}} = gpu.shuffle  xor %[[WIDE]], %{{.*}}, %{{.*}} : i32
// CHECK: arith.trunci %[[SHUFFLED]] : i32 to i1
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK: %[[TOTAL:.*]] = arith.ori
// CHECK-NOT: memref.load
// CHECK: memref.store %[[TOTAL]], %{{.*}}[] : memref<i1>
// CHECK: gpu.launch
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (i32)
// CHECK: arith.addi
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.load %{{.*}} : memref<6xi32>
// CHECK-NOT: linalg.generic
#ids = affine_map<(d0, d1) -> (d0, d1)>
#flag = affine_map<(d0, d1) -> ()>
#rows = affine_map<(d0, d1) -> (d0)>
func.func @integer_reductions(%ids: memref<2x128xi64>, %any: memref<i1>, %n: memref<6x40xi32>,
                              %sums: memref<6xi32>) {
  %c-512 = arith.constant -512 : i64
  %c512 = arith.constant 512 : i64
  %false = arith.constant false
  linalg.fill ins(%false : i1) outs(%any : memref<i1>)
  linalg.generic {indexing_maps = [#ids, #flag], iterator_types = ["reduction", "reduction"]}
      ins(%ids : memref<2x128xi64>) outs(%any : memref<i1>) {
  ^bb0(%in: i64, %out: i1):
    %low = arith.cmpi slt, %in, %c-512 : i64
    %high = arith.cmpi sge, %in, %c512 : i64
    %bad = arith.ori %low, %high : i1
    %acc = arith.ori %out, %bad : i1
    linalg.yield %acc : i1
  }
  linalg.generic {indexing_maps = [#ids, #rows], iterator_types = ["parallel", "reduction"]}
      ins(%n : memref<6x40xi32>) outs(%sums : memref<6xi32>) {
  ^bb0(%in: i32, %out: i32):
    %s = arith.addi %out, %in : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// Left to a thread per output element: reductions whose reduced dim is not
// contiguous in an input that has it (a warp's 32 reads would be 32
// transactions): a max over a middle axis, a MatMul (B's reduced dim is
// its rows), a sum over a column-strided view. A MatMul whose B is
// transposed (attention's Q K^T: the reduced dim contiguous in both) is
// taken.
// CHECK-LABEL: func.func @strided_reductions
// CHECK-COUNT-3: linalg.generic
// CHECK: gpu.launch
// CHECK-NOT: linalg.generic
#x3 = affine_map<(i, k, j) -> (i, k, j)>
#o2 = affine_map<(i, k, j) -> (i, j)>
#a = affine_map<(i, j, p) -> (i, p)>
#b = affine_map<(i, j, p) -> (p, j)>
#bt = affine_map<(i, j, p) -> (j, p)>
#c = affine_map<(i, j, p) -> (i, j)>
#in = affine_map<(i, j) -> (i, j)>
#out = affine_map<(i, j) -> (i)>
func.func @strided_reductions(%x: memref<2x5x4xf32>, %y: memref<2x4xf32>,
                              %a: memref<8x16xf32>, %b: memref<16x8xf32>, %c: memref<8x8xf32>,
                              %v: memref<6x40xf32, strided<[1, 6]>>, %s: memref<6xf32>,
                              %bt: memref<8x16xf32>, %d: memref<8x8xf32>) {
  linalg.generic {indexing_maps = [#x3, #o2], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : memref<2x5x4xf32>) outs(%y : memref<2x4xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %m = arith.maximumf %acc, %e : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x16xf32>, memref<16x8xf32>) outs(%c : memref<8x8xf32>) {
  ^bb0(%l: f32, %r: f32, %acc: f32):
    %p = arith.mulf %l, %r : f32
    %t = arith.addf %acc, %p : f32
    linalg.yield %t : f32
  }
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%v : memref<6x40xf32, strided<[1, 6]>>) outs(%s : memref<6xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %t = arith.addf %acc, %e : f32
    linalg.yield %t : f32
  }
  linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %bt : memref<8x16xf32>, memref<8x16xf32>) outs(%d : memref<8x8xf32>) {
  ^bb0(%l: f32, %r: f32, %acc: f32):
    %p = arith.mulf %l, %r : f32
    %t = arith.addf %acc, %p : f32
    linalg.yield %t : f32
  }
  return
}
