// RUN: kiln-opt %s --kiln-gpu-row-kernels --canonicalize --cse -split-input-file | FileCheck %s

// Attention's softmax: 2 x 4 x 16 rows of 16, a scale and a mask per batch
// index and key. 128 rows, 4 warps (rows) per block: 32 blocks of 128
// threads, no guard (the rows fill the blocks). Each pass strides the row
// by 32 from the lane; the maximum and the sum are combined across the
// warp by shuffles xor 16, 8, 4, 2, 1.
// CHECK-LABEL: func.func @attention_softmax
// CHECK-SAME: (%[[X:.*]]: memref<2x4x16x16xf32>, %[[MASK:.*]]: memref<2x1x1x16xf32>, %[[Y:.*]]: memref<2x4x16x16xf32>)
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C32]], %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C128]], %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK: %[[WARP:.*]] = arith.divui %[[TX]], %[[C32]]
// CHECK: %[[LANE:.*]] = arith.remui %[[TX]], %[[C32]]
// CHECK: %[[FIRST:.*]] = arith.muli %[[BX]], %c4
// CHECK: %[[ROW:.*]] = arith.addi %[[FIRST]], %[[WARP]]
// CHECK: %[[QUERY:.*]] = arith.remui %[[ROW]], %[[C16]]
// CHECK: %[[REST:.*]] = arith.divui %[[ROW]], %[[C16]]
// CHECK: %[[HEAD:.*]] = arith.remui %[[REST]], %c4
// CHECK: %[[BATCH:.*]] = arith.divui %[[REST]], %c4
// CHECK-NOT: scf.if
// CHECK: %[[MAX:.*]] = scf.for %[[K:.*]] = %[[LANE]] to %[[C16]] step %[[C32]] iter_args(%[[M:.*]] = %[[NEG_INF]]) -> (f32)
// CHECK:   %[[S:.*]] = memref.load %[[X]][%[[BATCH]], %[[HEAD]], %[[QUERY]], %[[K]]]
// CHECK:   %[[SCALED:.*]] = arith.mulf %[[S]], %[[SCALE]]
// CHECK:   %[[TERM:.*]] = memref.load %[[MASK]][%[[BATCH]], %c0, %c0, %[[K]]]
// CHECK:   %[[V:.*]] = arith.addf %[[SCALED]], %[[TERM]]
// CHECK:   arith.maximumf %[[M]], %[[V]]
// CHECK: %[[S16:.*]], %{{.*}} = gpu.shuffle xor %[[MAX]], %c16_i32, %c32_i32 : f32
// CHECK: %[[M16:.*]] = arith.maximumf %[[MAX]], %[[S16]]
// CHECK: gpu.shuffle xor %[[M16]], %c8_i32, %c32_i32
// CHECK: gpu.shuffle xor %{{.*}}, %c4_i32, %c32_i32
// CHECK: gpu.shuffle xor %{{.*}}, %c2_i32, %c32_i32
// CHECK: %[[S1:.*]], %{{.*}} = gpu.shuffle xor %[[M2:.*]], %c1_i32, %c32_i32
// CHECK: %[[ROWMAX:.*]] = arith.maximumf %[[M2]], %[[S1]]
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %[[LANE]] to %[[C16]] step %[[C32]] iter_args(%{{.*}} = %cst{{.*}}) -> (f32)
// CHECK:   arith.subf %{{.*}}, %[[ROWMAX]]
// CHECK:   math.exp
// CHECK: gpu.shuffle xor %[[SUM]], %c16_i32, %c32_i32
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK: %[[ROWSUM:.*]] = arith.addf
// CHECK: %[[INV:.*]] = arith.divf %{{.*}}, %[[ROWSUM]]
// CHECK: scf.for %[[K3:.*]] = %[[LANE]] to %[[C16]] step %[[C32]] {
// CHECK:   %[[E:.*]] = math.exp
// CHECK:   %[[P:.*]] = arith.mulf %[[E]], %[[INV]]
// CHECK:   memref.store %[[P]], %[[Y]][%[[BATCH]], %[[HEAD]], %[[QUERY]], %[[K3]]]
// CHECK: gpu.terminator
// CHECK-NOT: kiln.softmax_rows
func.func @attention_softmax(%x: memref<2x4x16x16xf32>, %mask: memref<2x1x1x16xf32>, %y: memref<2x4x16x16xf32>) {
  kiln.softmax_rows %x addend(%mask : memref<2x1x1x16xf32>) into %y {scale = 0.125 : f32}
      : memref<2x4x16x16xf32>, memref<2x4x16x16xf32>
  return
}

// -----

// 5 rows: two blocks of 4 warps, the second warp-guarded (a warp is in or
// out of range as a whole); scale 1 and no addend: x as it is. A mask of
// lower rank lines up from the right: [16] against [5, 16], by key.
// CHECK-LABEL: func.func @guarded
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, {{.*}}) threads({{.*}}) in (%{{.*}} = %c128,
// CHECK: %[[ROW:.*]] = arith.addi
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ROW]], %c5
// CHECK: scf.if %[[IN]]
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c16 step %c32
// CHECK-NEXT: %[[V:.*]] = memref.load %{{.*}}[%[[ROW]], %[[K]]]
// CHECK-NEXT: %[[T:.*]] = memref.load %{{.*}}[%[[K]]] : memref<16xf32>
// CHECK-NEXT: arith.addf %[[V]], %[[T]]
// CHECK-NEXT: arith.maximumf
// CHECK: gpu.shuffle
func.func @guarded(%x: memref<5x16xf32>, %mask: memref<16xf32>, %y: memref<5x16xf32>) {
  kiln.softmax_rows %x addend(%mask : memref<16xf32>) into %y : memref<5x16xf32>, memref<5x16xf32>
  return
}

// -----

// One row of 1000: one block of one warp, about 32 values a lane.
// CHECK-LABEL: func.func @one_row
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c32,
// CHECK-NOT: scf.if
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c1000 step %c32
// CHECK-NEXT: memref.load %{{.*}}[%[[K]]] : memref<1000xf32>
func.func @one_row(%x: memref<1000xf32>, %y: memref<1000xf32>) {
  kiln.softmax_rows %x into %y : memref<1000xf32>, memref<1000xf32>
  return
}

// -----

// No rows, or rows of no values: nothing to write, no kernel.
// CHECK-LABEL: func.func @empty
// CHECK-NOT: gpu.launch
// CHECK-NOT: kiln.softmax_rows
// CHECK: return
func.func @empty(%x: memref<0x8xf32>, %y: memref<0x8xf32>, %u: memref<4x0xf32>, %v: memref<4x0xf32>) {
  kiln.softmax_rows %x into %y : memref<0x8xf32>, memref<0x8xf32>
  kiln.softmax_rows %u into %v : memref<4x0xf32>, memref<4x0xf32>
  return
}

// -----

// Rows of 128 keys = 4 x 32: each lane's 4 values (scaled, masked) are
// computed once from loads issued together, and the max, the sum and the
// output all use them: 4 loads of x and of the mask, 4 exponentials (the
// sum's, reused by the output), no loop.
// CHECK-LABEL: func.func @keys_in_registers
// CHECK: gpu.launch
// CHECK-NOT: scf.for
// CHECK-COUNT-4: memref.load %arg0
// CHECK-NOT: memref.load %arg0
// CHECK-COUNT-4: math.exp
// CHECK-NOT: math.exp
// CHECK-COUNT-4: memref.store
// CHECK: return
func.func @keys_in_registers(%x: memref<2x8x128xf32>, %mask: memref<2x1x128xf32>, %y: memref<2x8x128xf32>) {
  kiln.softmax_rows %x addend(%mask : memref<2x1x128xf32>) into %y {scale = 0.125 : f32}
      : memref<2x8x128xf32>, memref<2x8x128xf32>
  return
}
