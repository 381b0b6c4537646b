// RUN: kiln-opt %s --kiln-gpu-map-parallel-loops --canonicalize -split-input-file | FileCheck %s

// A 4x300 nest: 1200 iterations, linearized, 5 blocks of 256 threads, the
// inner dim fastest (the remainder), a bounds check for the last block.
// CHECK-LABEL: func.func @nest
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C300:.*]] = arith.constant 300 : index
// CHECK-DAG: %[[C1200:.*]] = arith.constant 1200 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C5]], %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]], %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %[[C256]]
// CHECK: %[[ID:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ID]], %[[C1200]]
// CHECK: scf.if %[[IN]]
// CHECK: %[[J:.*]] = arith.remui %[[ID]], %[[C300]]
// CHECK: %[[I:.*]] = arith.divui %[[ID]], %[[C300]]
// CHECK: memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @nest(%a: memref<4x300xf32>, %b: memref<4x300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c300 = arith.constant 300 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c300) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<4x300xf32>
    memref.store %x, %b[%i, %j] : memref<4x300xf32>
    scf.reduce
  }
  return
}

// -----

// A small nest gets one block of whole warps (20 iterations: 32 threads);
// a lower bound and step move the induction variable. (With one block the
// block id folds away: the id is the thread id.)
// CHECK-LABEL: func.func @small_strided
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}}) threads(%[[ID:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c32,
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ID]], %c20
// CHECK: %[[SCALED:.*]] = arith.muli %[[ID]], %c2
// CHECK: %[[IV:.*]] = arith.addi %[[SCALED]], %c3
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[IV]]]
func.func @small_strided(%b: memref<64xf32>) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c43 = arith.constant 43 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c3) to (%c43) step (%c2) {
    memref.store %zero, %b[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// A full reduction (a top-level scf.for) runs on one thread; host-side ops
// (the alloc, the runtime call) stay on the host.
// CHECK-LABEL: func.func @full_reduction
// CHECK: memref.alloc
// CHECK: call @kiln_rt_gpu_copy
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK-NEXT: scf.for
// CHECK: gpu.terminator
func.func private @kiln_rt_gpu_copy(index, index, index, index, index)
func.func @full_reduction(%a: memref<8xf32>, %ctx: index) -> memref<f32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %out = memref.alloc() : memref<f32>
  call @kiln_rt_gpu_copy(%ctx, %c0, %c0, %c0, %c0) : (index, index, index, index, index) -> ()
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %a[%i] : memref<8xf32>
    %acc = memref.load %out[] : memref<f32>
    %s = arith.addf %x, %acc : f32
    memref.store %s, %out[] : memref<f32>
  }
  return %out : memref<f32>
}

// -----

// A 0-d check's flag over symbolic dims: the host's comparison of a size,
// amid the one-thread group (store, load, or, store), moves before the
// group, which stays one launch and takes the comparison's result.
// CHECK-LABEL: func.func @check_on_dims
// CHECK: %[[BAD:.*]] = arith.cmpi sle, %arg1, %{{.*}} : index
// CHECK: gpu.launch
// CHECK:   memref.store %false, %arg0[]
// CHECK:   %[[SEEN:.*]] = memref.load %arg0[]
// CHECK:   %[[ANY:.*]] = arith.ori %[[SEEN]], %[[BAD]]
// CHECK:   memref.store %[[ANY]], %arg0[]
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @check_on_dims(%flag: memref<i1>, %n: index) {
  %false = arith.constant false
  %c0 = arith.constant 0 : index
  memref.store %false, %flag[] : memref<i1>
  %seen = memref.load %flag[] : memref<i1>
  %bad = arith.cmpi sle, %n, %c0 : index
  %any = arith.ori %seen, %bad : i1
  memref.store %any, %flag[] : memref<i1>
  return
}

// -----

// An output's host buffer returned through a cast (canonicalization made
// a static size of its symbolic-shape alloc static) is an output like the
// others, not a buffer left out of device memory.
// CHECK-LABEL: func.func @output_through_cast
// CHECK: memref.alloc(%{{.*}}) : memref<?x4xf32>
// CHECK: return
func.func private @kiln_rt_gpu_copy(index, index, index, index, index)
func.func @output_through_cast(%n: index, %ctx: index) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %host = memref.alloc(%n) : memref<?x4xf32>
  %cast = memref.cast %host : memref<?x4xf32> to memref<?x?xf32>
  call @kiln_rt_gpu_copy(%ctx, %c0, %c0, %c0, %c0) : (index, index, index, index, index) -> ()
  return %cast : memref<?x?xf32>
}
