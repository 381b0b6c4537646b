// RUN: kiln-opt %s --kiln-gpu-map-parallel-loops="elements-per-thread=8" --canonicalize --cse -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-gpu-map-parallel-loops="elements-per-thread=8 min-threads=1000000" --canonicalize --cse -split-input-file | FileCheck %s --check-prefix=FEW

// 32x128x768 = 3145728 iterations, 8 a thread: the outermost dim splits
// into 8 parts of 4, 393216 threads in 1536 blocks. The thread's eight
// iterations are i, i + 4, ..., i + 28 with the same j and k: op by op,
// its eight loads first, the bias load once (cse: its index is the same),
// the eight stores last. (min-threads=1000000: 8 would leave too few
// threads, 3 is the most that divides 32x128x768 and a dim and leaves
// enough: it splits the inner dim, into 3 parts of 256.)
// CHECK-LABEL: func.func @bias_add
// CHECK-DAG: %[[C393216:.*]] = arith.constant 393216 : index
// CHECK-DAG: %[[C1536:.*]] = arith.constant 1536 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C1536]], %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// CHECK: %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %[[C393216]]
// CHECK-NEXT: scf.if %[[IN]]
// CHECK: %[[K:.*]] = arith.remui %{{.*}}, %c768
// CHECK: %[[REST:.*]] = arith.divui %{{.*}}, %c768
// CHECK: %[[J:.*]] = arith.remui %[[REST]], %c128
// CHECK: %[[I:.*]] = arith.divui %[[REST]], %c128
// CHECK: %[[I4:.*]] = arith.addi %[[I]], %c4
// CHECK: %[[I28:.*]] = arith.addi %[[I]], %c28
// CHECK: memref.load %{{.*}}[%[[I]], %[[J]], %[[K]]]
// CHECK: memref.load %{{.*}}[%[[I4]], %[[J]], %[[K]]]
// CHECK-COUNT-6: memref.load %arg0
// CHECK: memref.load %arg1[%[[K]]]
// CHECK-NOT: memref.load
// CHECK: arith.extf
// CHECK-NOT: memref.load
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]], %[[K]]]
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I4]], %[[J]], %[[K]]]
// CHECK-COUNT-5: memref.store
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I28]], %[[J]], %[[K]]]
// CHECK-NEXT: }
// CHECK-NEXT: gpu.terminator
// FEW-LABEL: func.func @bias_add
// FEW: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4096, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// FEW: arith.cmpi ult, %{{.*}}, %c1048576
// FEW: %[[K:.*]] = arith.remui %{{.*}}, %c256
// FEW: %[[K2:.*]] = arith.addi %[[K]], %c256
// FEW: %[[K3:.*]] = arith.addi %[[K]], %c512
// FEW-COUNT-3: memref.store
// FEW-NOT: memref.store
func.func @bias_add(%a: memref<32x128x768xf16>, %bias: memref<768xf32>, %b: memref<32x128x768xf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %c768 = arith.constant 768 : index
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c32, %c128, %c768) step (%c1, %c1, %c1) {
    %x = memref.load %a[%i, %j, %k] : memref<32x128x768xf16>
    %y = memref.load %bias[%k] : memref<768xf32>
    %e = arith.extf %x : f16 to f32
    %s = arith.addf %e, %y : f32
    %t = arith.truncf %s : f32 to f16
    memref.store %t, %b[%i, %j, %k] : memref<32x128x768xf16>
    scf.reduce
  }
  return
}

// -----

// A 1-d nest splits its only dim, into parts of a warp or more: 524288
// iterations, 8 parts of 65536, iteration id + 65536 c for copy c.
// CHECK-LABEL: func.func @flat
// CHECK: arith.cmpi ult, %[[ID:.*]], %c65536
// CHECK: %[[SECOND:.*]] = arith.addi %[[ID]], %c65536
// CHECK: memref.load %{{.*}}[%[[ID]]]
// CHECK-NEXT: memref.load %{{.*}}[%[[SECOND]]]
// CHECK-COUNT-6: memref.load
// CHECK-NEXT: math.exp
// FEW-LABEL: func.func @flat
// FEW: arith.cmpi ult, %{{.*}}, %c524288
// FEW-COUNT-1: memref.store
// FEW-NOT: memref.store
func.func @flat(%a: memref<524288xf32>, %b: memref<524288xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 524288 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %a[%i] : memref<524288xf32>
    %y = math.exp %x : f32
    memref.store %y, %b[%i] : memref<524288xf32>
    scf.reduce
  }
  return
}

// -----

// Too small (8 x 4096 / 2 would leave fewer than 65536 threads), a store
// before a load, a loop in the body, dynamic bounds: one iteration a
// thread, the body as it was.
// CHECK-LABEL: func.func @one_a_thread
// FEW-LABEL: func.func @one_a_thread
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %c32768
// CHECK-COUNT-1: memref.store
// CHECK-NOT: memref.store
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %c1048576
// CHECK: memref.store
// CHECK-NEXT: memref.load
// CHECK-NEXT: memref.store
// CHECK-NEXT: }
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %c1048576
// CHECK: scf.for
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK-COUNT-1: memref.store
// CHECK-NOT: memref.store
func.func @one_a_thread(%a: memref<1048576xf32>, %b: memref<1048576xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %small = arith.constant 32768 : index
  %big = arith.constant 1048576 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%small) step (%c1) {
    %x = memref.load %a[%i] : memref<1048576xf32>
    memref.store %x, %b[%i] : memref<1048576xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%big) step (%c1) {
    memref.store %zero, %b[%i] : memref<1048576xf32>
    %x = memref.load %a[%i] : memref<1048576xf32>
    memref.store %x, %b[%i] : memref<1048576xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%big) step (%c1) {
    %s = scf.for %k = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> f32 {
      %x = memref.load %a[%i] : memref<1048576xf32>
      %t = arith.addf %acc, %x : f32
      scf.yield %t : f32
    }
    memref.store %s, %b[%i] : memref<1048576xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %a[%i] : memref<1048576xf32>
    memref.store %x, %b[%i] : memref<1048576xf32>
    scf.reduce
  }
  return
}

// -----

// The innermost dim splits only into parts of 32 or more. 4099 x 48: 4099
// is prime, and 48 would split into parts of 6 (8), 16 (3) or 24 (2): a
// warp's threads on runs of 6 to 24 elements, 48 apart; one iteration a
// thread. 4099 x 512: 8 parts of 64 along the inner dim, copy c at
// j + 64 c.
// CHECK-LABEL: func.func @inner_dim
// CHECK: arith.cmpi ult, %{{.*}}, %c196752
// CHECK-COUNT-1: memref.store
// CHECK-NOT: memref.store
// CHECK: gpu.launch
// CHECK: arith.cmpi ult, %{{.*}}, %c262336
// CHECK: %[[J:.*]] = arith.remui %{{.*}}, %c64
// CHECK: %[[I:.*]] = arith.divui %{{.*}}, %c64
// CHECK: %[[J2:.*]] = arith.addi %[[J]], %c64
// CHECK: memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK-NEXT: memref.load %{{.*}}[%[[I]], %[[J2]]]
func.func @inner_dim(%a: memref<4099x48xf32>, %b: memref<4099x48xf32>,
                     %c: memref<4099x512xf32>, %d: memref<4099x512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c48 = arith.constant 48 : index
  %c512 = arith.constant 512 : index
  %c4099 = arith.constant 4099 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4099, %c48) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<4099x48xf32>
    memref.store %x, %b[%i, %j] : memref<4099x48xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4099, %c512) step (%c1, %c1) {
    %x = memref.load %c[%i, %j] : memref<4099x512xf32>
    memref.store %x, %d[%i, %j] : memref<4099x512xf32>
    scf.reduce
  }
  return
}
