// RUN: kiln-opt %s --kiln-gpu-warp-reductions --canonicalize --cse -split-input-file | FileCheck %s

// A run-time check's "any index out of range" over symbolic ids (batch x
// sequence, a model compiled without --input-shape): the sizes are read on
// the host, one warp strides their product (the loop form: the count is
// unknown), each flattened index split into row and column by the host's
// sequence length. An identity layout's last dims are contiguous whatever
// their sizes.
// CHECK-LABEL: func.func @any_out_of_range
// CHECK-SAME: (%[[IDS:.*]]: memref<?x?xi64>, %[[FLAG:.*]]: memref<i1>)
// CHECK-DAG: %[[ROWS:.*]] = memref.dim %[[IDS]], %c0
// CHECK-DAG: %[[COLS:.*]] = memref.dim %[[IDS]], %c1
// CHECK: %[[COUNT:.*]] = arith.muli %[[ROWS]], %[[COLS]] : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}}) threads({{.*}}) in (%{{.*}} = %c32,
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %[[COUNT]] step %c32 iter_args(
// CHECK:   %[[COL:.*]] = arith.remui %[[K]], %[[COLS]] : index
// CHECK:   %[[ROW:.*]] = arith.divui %[[K]], %[[COLS]] : index
// CHECK:   memref.load %[[IDS]][%[[ROW]], %[[COL]]]
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[FLAG]][]
// CHECK-NOT: linalg.generic
#ids = affine_map<(i, j) -> (i, j)>
#flag = affine_map<(i, j) -> ()>
func.func @any_out_of_range(%ids: memref<?x?xi64>, %flag: memref<i1>) {
  %c100 = arith.constant 100 : i64
  linalg.generic {indexing_maps = [#ids, #flag], iterator_types = ["reduction", "reduction"]}
      ins(%ids : memref<?x?xi64>) outs(%flag : memref<i1>) {
  ^bb0(%id: i64, %any: i1):
    %bad = arith.cmpi uge, %id, %c100 : i64
    %or = arith.ori %any, %bad : i1
    linalg.yield %or : i1
  }
  return
}

// -----

// A sum over a symbolic row length for a symbolic number of rows: a warp
// per row, the host's counts in the launch and the loop.
// CHECK-LABEL: func.func @sum_rows
// CHECK-DAG: %[[ROWS:.*]] = memref.dim %arg0, %c0
// CHECK-DAG: %[[N:.*]] = memref.dim %arg0, %c1
// CHECK: arith.ceildivui %[[ROWS]], %c4
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %[[ROWS]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N]] step %c32
// CHECK-NOT: linalg.generic
#in = affine_map<(i, j) -> (i, j)>
#out = affine_map<(i, j) -> (i)>
func.func @sum_rows(%x: memref<?x?xf32>, %y: memref<?xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x?xf32>) outs(%y : memref<?xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %t = arith.addf %acc, %e : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// One output element over strided index components (GatherND's checks:
// component 0 of each (row, column) pair, stride 2), and a view whose
// reduced dims are contiguous past a dim of 1: a warp each. With one
// output, one warp beats one thread even where its reads do not coalesce.
// CHECK-LABEL: func.func @one_output
// CHECK-COUNT-2: gpu.launch
// CHECK-NOT: linalg.generic
#p5 = affine_map<(a, b, c, d, e) -> (a, b, c, d, e)>
#f5 = affine_map<(a, b, c, d, e) -> ()>
#p2 = affine_map<(a, b) -> (a, b)>
#f2 = affine_map<(a, b) -> ()>
func.func @one_output(%pairs: memref<?x1x1x?x1xi64, strided<[?, ?, ?, 2, 1]>>, %flag: memref<i1>,
                      %row: memref<1x?xi64, strided<[128, 1]>>, %flag2: memref<i1>) {
  %c7 = arith.constant 7 : i64
  linalg.generic {indexing_maps = [#p5, #f5], iterator_types = ["reduction", "reduction", "reduction", "reduction", "reduction"]}
      ins(%pairs : memref<?x1x1x?x1xi64, strided<[?, ?, ?, 2, 1]>>) outs(%flag : memref<i1>) {
  ^bb0(%id: i64, %any: i1):
    %bad = arith.cmpi uge, %id, %c7 : i64
    %or = arith.ori %any, %bad : i1
    linalg.yield %or : i1
  }
  linalg.generic {indexing_maps = [#p2, #f2], iterator_types = ["reduction", "reduction"]}
      ins(%row : memref<1x?xi64, strided<[128, 1]>>) outs(%flag2 : memref<i1>) {
  ^bb0(%id: i64, %any: i1):
    %bad = arith.cmpi uge, %id, %c7 : i64
    %or = arith.ori %any, %bad : i1
    linalg.yield %or : i1
  }
  return
}

// -----

// Reduced dims contiguous past a dim of 1 (a view into wider rows), with
// an output element per row: coalesced, so a warp per row.
// CHECK-LABEL: func.func @contiguous_past_one
// CHECK: gpu.launch
// CHECK: gpu.shuffle xor
// CHECK-NOT: linalg.generic
#v3 = affine_map<(i, j, k) -> (i, j, k)>
#r3 = affine_map<(i, j, k) -> (i)>
func.func @contiguous_past_one(%x: memref<4x1x?xf32, strided<[256, 256, 1]>>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [#v3, #r3], iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%x : memref<4x1x?xf32, strided<[256, 256, 1]>>) outs(%y : memref<4xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %t = arith.addf %acc, %e : f32
    linalg.yield %t : f32
  }
  return
}
