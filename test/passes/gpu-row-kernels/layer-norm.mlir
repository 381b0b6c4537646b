// RUN: kiln-opt %s --kiln-gpu-row-kernels --canonicalize --cse -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-gpu-row-kernels="warps-per-block=8" --canonicalize --cse -split-input-file | FileCheck %s --check-prefix=EIGHT

// BERT's layer norm at 3 tokens: one block of 3 warps, a row of 768 each.
// The runtime's arithmetic: the mean as the row's first value plus the mean
// of the differences from it, the variance from the deviations (a second
// pass), (x - mean) * (1 / sqrt(var + eps)) * scale + bias.
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
// CHECK: %[[PARTIAL:.*]] = scf.for %[[K:.*]] = %[[LANE]] to %c768 step %c32 iter_args(%[[S:.*]] = %[[ZERO]])
// CHECK:   %[[V:.*]] = memref.load %[[X]][%[[ROW]], %[[K]]]
// CHECK:   %[[D:.*]] = arith.subf %[[V]], %[[FIRST]]
// CHECK:   arith.addf %[[S]], %[[D]]
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK: %[[LAST:.*]], %{{.*}} = gpu.shuffle xor %[[S2:.*]], %c1_i32, %c32_i32
// CHECK: %[[SUM:.*]] = arith.addf %[[S2]], %[[LAST]]
// CHECK: %[[SHIFT:.*]] = arith.divf %[[SUM]], %[[N]]
// CHECK: %[[MEAN:.*]] = arith.addf %[[FIRST]], %[[SHIFT]]
// CHECK: %[[SQUARES:.*]] = scf.for %[[K2:.*]] = %[[LANE]] to %c768 step %c32
// CHECK:   %[[DEV:.*]] = arith.subf %{{.*}}, %[[MEAN]]
// CHECK:   arith.mulf %[[DEV]], %[[DEV]]
// CHECK: gpu.shuffle xor %[[SQUARES]], %c16_i32, %c32_i32
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK: %[[TOTAL:.*]] = arith.addf
// CHECK: %[[VAR:.*]] = arith.divf %[[TOTAL]], %[[N]]
// CHECK: %[[VE:.*]] = arith.addf %[[VAR]], %[[EPS]]
// CHECK: %[[SD:.*]] = math.sqrt %[[VE]]
// CHECK: %[[INV:.*]] = arith.divf %[[ONE]], %[[SD]]
// CHECK: scf.for %[[K3:.*]] = %[[LANE]] to %c768 step %c32 {
// CHECK:   %[[D3:.*]] = arith.subf %{{.*}}, %[[MEAN]]
// CHECK:   %[[GAMMA:.*]] = memref.load %[[G]][%[[K3]]]
// CHECK:   %[[N3:.*]] = arith.mulf %[[D3]], %[[INV]]
// CHECK:   %[[SCALED:.*]] = arith.mulf %[[N3]], %[[GAMMA]]
// CHECK:   %[[BETA:.*]] = memref.load %[[B]][%[[K3]]]
// CHECK:   %[[OUT:.*]] = arith.addf %[[SCALED]], %[[BETA]]
// CHECK:   memref.store %[[OUT]], %[[Y]][%[[ROW]], %[[K3]]]
// CHECK-NOT: kiln.layer_norm_rows
func.func @bert_layer_norm(%x: memref<3x768xf32>, %g: memref<768xf32>, %b: memref<768xf32>, %y: memref<3x768xf32>) {
  kiln.layer_norm_rows %x, %g bias(%b : memref<768xf32>) into %y {epsilon = 1.0e-12 : f32}
      : memref<3x768xf32>, memref<768xf32>, memref<3x768xf32>
  return
}

// -----

// No bias: the scaled value is stored. 2 x 9 rows: 5 blocks of 4 warps,
// the last guarded; or with warps-per-block=8, 3 blocks of 8.
// CHECK-LABEL: func.func @no_bias
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c5, {{.*}}) threads({{.*}}) in (%{{.*}} = %c128,
// CHECK: scf.if
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
