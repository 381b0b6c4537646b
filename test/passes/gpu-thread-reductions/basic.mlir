// RUN: kiln-opt %s --kiln-gpu-thread-reductions --canonicalize -split-input-file | FileCheck %s

// A MatMul whose output is zero-filled right before: the fill goes, each
// output element starts at its value in a register, and is stored once.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.0
// CHECK-NOT: linalg.fill
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}})
// CHECK: %[[SUM:.*]] = scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK-DAG: %[[A:.*]] = memref.load %arg0[%[[I]], %[[P]]]
// CHECK-DAG: %[[B:.*]] = memref.load %arg1[%[[P]], %[[J]]]
// CHECK: %[[M:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK: %[[NEXT:.*]] = arith.addf %[[ACC]], %[[M]] : f32
// CHECK: scf.yield %[[NEXT]] : f32
// CHECK: memref.store %[[SUM]], %arg2[%[[I]], %[[J]]]
// CHECK-NOT: linalg.generic
#a = affine_map<(i, j, p) -> (i, p)>
#b = affine_map<(i, j, p) -> (p, j)>
#c = affine_map<(i, j, p) -> (i, j)>
func.func @matmul(%a: memref<8x16xf32>, %b: memref<16x4xf32>, %c: memref<8x4xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<8x4xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x16xf32>, memref<16x4xf32>) outs(%c : memref<8x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A max over a middle axis with no fill before it: the element is loaded
// once before the loop. Two reduced dims nest in the generic's order
// around the body, with linalg.index as the loop values. A full reduction
// (no parallel dim) is the loops alone.
// CHECK-LABEL: func.func @others
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) =
// CHECK: %[[FIRST:.*]] = memref.load %arg1[%[[I]], %[[J]]]
// CHECK: scf.for %[[K:.*]] = {{.*}} iter_args(%{{.*}} = %[[FIRST]]) -> (f32)
// CHECK: memref.load %arg0[%[[I]], %[[K]], %[[J]]]
// CHECK: arith.maximumf
// CHECK: memref.store %{{.*}}, %arg1[%[[I]], %[[J]]]
// CHECK-NOT: scf.parallel
// CHECK: %[[T0:.*]] = memref.load %arg2[]
// CHECK: scf.for %[[R:.*]] = {{.*}} iter_args(%[[OUTER:.*]] = %[[T0]]) -> (i32)
// CHECK: scf.for %[[S:.*]] = {{.*}} iter_args(%[[INNER:.*]] = %[[OUTER]]) -> (i32)
// CHECK: arith.index_cast %[[R]]
// CHECK: arith.addi %[[INNER]]
// CHECK: memref.store %{{.*}}, %arg2[]
#x3 = affine_map<(i, k, j) -> (i, k, j)>
#o2 = affine_map<(i, k, j) -> (i, j)>
#all = affine_map<(r, s) -> (r, s)>
#none = affine_map<(r, s) -> ()>
func.func @others(%x: memref<2x5x4xf32>, %y: memref<2x4xf32>, %t: memref<i32>, %n: memref<3x6xi32>) {
  linalg.generic {indexing_maps = [#x3, #o2], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : memref<2x5x4xf32>) outs(%y : memref<2x4xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %m = arith.maximumf %acc, %e : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#all, #none], iterator_types = ["reduction", "reduction"]}
      ins(%n : memref<3x6xi32>) outs(%t : memref<i32>) {
  ^bb0(%e: i32, %acc: i32):
    %r = linalg.index 0 : index
    %ri = arith.index_cast %r : index to i32
    %w = arith.muli %e, %ri : i32
    %s = arith.addi %acc, %w : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// Left alone: an elementwise generic, and a reduction that reads its own
// output's buffer as an input.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: scf.
// CHECK-COUNT-2: linalg.generic
#in = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#first = affine_map<(i, j) -> (i, 0)>
func.func @left_alone(%x: memref<4x4xf32>, %z: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [#in, #in], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x4xf32>) outs(%z : memref<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [#in, #first], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x4xf32>) outs(%x : memref<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  }
  return
}
