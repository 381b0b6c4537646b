// RUN: kiln-opt %s --kiln-gpu-row-kernels --canonicalize --cse -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-gpu-row-kernels="warps-per-block=8" --canonicalize --cse -split-input-file | FileCheck %s --check-prefix=EIGHT

// BERT's layer norm at 3 tokens: one block of 3 warps, a row of 768 each.
// The runtime's arithmetic: the mean as the row's first value plus the mean
// of the differences from it, the variance from the deviations (a second
// pass), (x - mean) * (1 / sqrt(var + eps)) * scale + bias. 768 = 24 x 32:
// each lane's 24 values (columns lane, lane + 32, ...) are loaded into
// registers once, all 24 loads first, and the three passes use them.
// CHECK-LABEL: func.func @bert_layer_norm
// CHECK-SAME: (%[[X:.*]]: memref<3x768xf32>, %[[G:.*]]: memref<768xf32>, %[[B:.*]]: memref<768xf32>, %[[Y:.*]]: memref<3x768xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999996E-13 : f32
// CHECK-DAG: %[[N:.*]] = arith.constant 7.680000e+02 : f32
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c96,
// CHECK: %[[ROW:.*]] = arith.divui %[[TX]], %c32
// CHECK: %[[LANE:.*]] = arith.remui %[[TX]], %c32
// CHECK: %[[FIRST:.*]] = memref.load %[[X]][%[[ROW]], %c0]
// CHECK: %[[C736:.*]] = arith.addi %[[LANE]], %c736
// CHECK: %[[X0:.*]] = memref.load %[[X]][%[[ROW]], %[[LANE]]]
// CHECK-COUNT-22: memref.load %[[X]][%[[ROW]], %{{.*}}]
// CHECK: %[[X23:.*]] = memref.load %[[X]][%[[ROW]], %[[C736]]]
// CHECK-NOT: scf.for
// CHECK: %[[D0:.*]] = arith.subf %[[X0]], %[[FIRST]]
// CHECK: arith.addf %[[D0]], %[[ZERO]]
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK: %[[LAST:.*]], %{{.*}} = gpu.shuffle xor %[[S2:.*]], %c1_i32, %c32_i32
// CHECK: %[[SUM:.*]] = arith.addf %[[S2]], %[[LAST]]
// CHECK: %[[SHIFT:.*]] = arith.divf %[[SUM]], %[[N]]
// CHECK: %[[MEAN:.*]] = arith.addf %[[FIRST]], %[[SHIFT]]
// CHECK: %[[DEV:.*]] = arith.subf %[[X0]], %[[MEAN]]
// CHECK: arith.mulf %[[DEV]], %[[DEV]]
// CHECK: gpu.shuffle xor %{{.*}}, %c16_i32, %c32_i32
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK: %[[TOTAL:.*]] = arith.addf
// CHECK: %[[VAR:.*]] = arith.divf %[[TOTAL]], %[[N]]
// CHECK: %[[VE:.*]] = arith.addf %[[VAR]], %[[EPS]]
// CHECK: %[[SD:.*]] = math.sqrt %[[VE]]
// CHECK: %[[INV:.*]] = arith.divf %[[ONE]], %[[SD]]
// The deviations are the variance pass's (x - mean, once).
// CHECK: %[[GAMMA:.*]] = memref.load %[[G]][%[[LANE]]]
// CHECK: %[[N3:.*]] = arith.mulf %[[DEV]], %[[INV]]
// CHECK: %[[SCALED:.*]] = arith.mulf %[[N3]], %[[GAMMA]]
// CHECK: %[[BETA:.*]] = memref.load %[[B]][%[[LANE]]]
// CHECK: %[[OUT:.*]] = arith.addf %[[SCALED]], %[[BETA]]
// CHECK: memref.store %[[OUT]], %[[Y]][%[[ROW]], %[[LANE]]]
// CHECK-COUNT-23: memref.store
// CHECK-NOT: memref.load %[[X]]
// CHECK-NOT: kiln.layer_norm_rows
func.func @bert_layer_norm(%x: memref<3x768xf32>, %g: memref<768xf32>, %b: memref<768xf32>, %y: memref<3x768xf32>) {
  kiln.layer_norm_rows %x, %g bias(%b : memref<768xf32>) into %y {epsilon = 1.0e-12 : f32}
      : memref<3x768xf32>, memref<768xf32>, memref<3x768xf32>
  return
}

// -----

// No bias: the scaled value is stored. 2 x 9 rows: 5 blocks of 4 warps,
// the last guarded; or with warps-per-block=8, 3 blocks of 8. Rows of 40
// do not split evenly over 32 lanes: a loop per pass, reading the row
// again each time.
// CHECK-LABEL: func.func @no_bias
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c5, {{.*}}) threads({{.*}}) in (%{{.*}} = %c128,
// CHECK: scf.if
// CHECK: scf.for
// EIGHT-LABEL: func.func @no_bias
// EIGHT: gpu.launch blocks({{.*}}) in (%{{.*}} = %c3, {{.*}}) threads({{.*}}) in (%{{.*}} = %c256,
// EIGHT: scf.if
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<40xf32>
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: %[[SCALED:.*]] = arith.mulf
// CHECK-NEXT: memref.store %[[SCALED]]
func.func @no_bias(%x: memref<2x9x40xf32>, %g: memref<40xf32>, %y: memref<2x9x40xf32>) {
  kiln.layer_norm_rows %x, %g into %y {epsilon = 1.0e-5 : f32}
      : memref<2x9x40xf32>, memref<40xf32>, memref<2x9x40xf32>
  return
}
