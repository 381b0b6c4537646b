// RUN: kiln-opt %s --kiln-outline-parallel-loops -split-input-file | FileCheck %s

// A 2-d elementwise loop: n = rows * 768 items, 4 ops per item; the body
// walks rows and a clamped range of the last dim. %a (an argument) and
// %out (an allocation) cannot alias: their pointers are noalias.
// CHECK-LABEL: func.func private @kiln_parallel_body_0
// CHECK-SAME: (%[[LO:.*]]: index, %[[HI:.*]]: index, %{{.*}}: index, %{{.*}}: index, %[[A:.*]]: memref<?x768xf32>, %[[B:.*]]: memref<768xf32>, %[[OUT:.*]]: memref<?x768xf32>)
// CHECK-SAME: kiln.parallel_body
// CHECK-SAME: kiln.parallel_noalias = array<i64: 4, 5, 11, 12, 16, 17>
// CHECK-DAG: %[[C768:.*]] = arith.constant 768 : index
// CHECK: %[[W:.*]] = arith.maxui %[[C768]]
// CHECK: %[[RLO:.*]] = arith.divui %[[LO]], %[[W]]
// CHECK: %[[RHI:.*]] = arith.ceildivui %[[HI]], %[[W]]
// CHECK: scf.for %[[ROW:.*]] = %[[RLO]] to %[[RHI]]
// CHECK:   %[[BASE:.*]] = arith.muli %[[ROW]], %[[W]]
// CHECK:   %[[JLO:.*]] = arith.maxsi
// CHECK:   %[[JHI:.*]] = arith.minsi
// CHECK:   scf.for %[[J:.*]] = %[[JLO]] to %[[JHI]]
// CHECK:     memref.load %[[A]][%[[ROW]], %[[J]]]
// CHECK:     memref.load %[[B]][%[[J]]]
// CHECK:     arith.addf
// CHECK:     memref.store %{{.*}}, %[[OUT]][%[[ROW]], %[[J]]]
// CHECK-LABEL: func.func @add
// CHECK-SAME: %[[CTX:[^:]*]]: index {kiln.runtime_context}
// CHECK: %[[N:.*]] = arith.muli %{{.*}}, %c768
// CHECK: call @kiln_parallel_body_0(%{{.*}}, %[[N]], %[[CTX]], %c4, %arg0, %arg1, %{{.*}}) {kiln.parallel}
// CHECK-NOT: scf.parallel
func.func @add(%a: memref<?x768xf32>, %b: memref<768xf32>, %ctx: index {kiln.runtime_context}) -> memref<?x768xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c768 = arith.constant 768 : index
  %n = memref.dim %a, %c0 : memref<?x768xf32>
  %out = memref.alloc(%n) : memref<?x768xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c768) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<?x768xf32>
    %y = memref.load %b[%j] : memref<768xf32>
    %s = arith.addf %x, %y : f32
    memref.store %s, %out[%i, %j] : memref<?x768xf32>
    scf.reduce
  }
  return %out : memref<?x768xf32>
}

// -----

// A 1-d loop of row reductions: items [lo, hi) directly; the inner scf.for
// counts its 2 ops times its 512 trips, plus the store: cost 1025 per item.
// Both buffers are arguments, one written, so they may alias: no noalias.
// CHECK-LABEL: func.func private @kiln_parallel_body_0
// CHECK-NOT: kiln.parallel_noalias
// CHECK: scf.for %[[I:.*]] = %arg0 to %arg1
// CHECK:   scf.for %{{.*}} = %c0 to %c512
// CHECK-LABEL: func.func @rows
// CHECK: call @kiln_parallel_body_0(%{{.*}}, %c1536{{.*}}, %arg2, %c1025, %arg0, %arg1) {kiln.parallel}
func.func @rows(%x: memref<1536x512xf32>, %sum: memref<1536xf32>, %ctx: index {kiln.runtime_context}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c512 = arith.constant 512 : index
  %c1536 = arith.constant 1536 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c1536) step (%c1) {
    %r = scf.for %k = %c0 to %c512 step %c1 iter_args(%acc = %zero) -> f32 {
      %v = memref.load %x[%i, %k] : memref<1536x512xf32>
      %s = arith.addf %acc, %v : f32
      scf.yield %s : f32
    }
    memref.store %r, %sum[%i] : memref<1536xf32>
    scf.reduce
  }
  return
}

// -----

// Left alone: a loop too small to pay (static, 64 items of 1 op), a loop
// that calls the runtime, and any loop in a function without a runtime
// context.
// CHECK-NOT: kiln_parallel_body
// CHECK-LABEL: func.func @small
// CHECK: scf.parallel
// CHECK-LABEL: func.func @calls
// CHECK: scf.parallel
// CHECK-LABEL: func.func @no_context
// CHECK: scf.parallel
func.func private @kiln_rt_profile(index, index, index)
func.func @small(%out: memref<64xf32>, %ctx: index {kiln.runtime_context}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %out[%i] : memref<64xf32>
    scf.reduce
  }
  return
}
func.func @calls(%out: memref<?xf32>, %n: index, %ctx: index {kiln.runtime_context}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    func.call @kiln_rt_profile(%ctx, %i, %c0) : (index, index, index) -> ()
    scf.reduce
  }
  return
}
func.func @no_context(%out: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %zero, %out[%i] : memref<?xf32>
    scf.reduce
  }
  return
}
