// RUN: kiln-opt %s --kiln-plan-memory -split-input-file | FileCheck %s

// %a dies (last use: the second generic) before %c is allocated, so %c takes
// %a's slot; %b overlaps both and gets its own. Each slot is requested from
// the runtime at the top, its size computed there from the input's dim; the
// returned buffer keeps its malloc.
// CHECK: func.func private @kiln_rt_scratch(index, index) -> memref<?xi8>
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.*]]: memref<?x64xf32>, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: %[[N:.*]] = memref.dim %[[X]], %c0
// CHECK: %[[SLOT0:.*]] = call @kiln_rt_scratch(%[[CTX]], %{{.*}}) : (index, index) -> memref<?xi8>
// CHECK: %[[SLOT1:.*]] = call @kiln_rt_scratch(%[[CTX]], %{{.*}}) : (index, index) -> memref<?xi8>
// CHECK-NOT: call @kiln_rt_scratch
// CHECK: %[[A:.*]] = memref.view %[[SLOT0]][%[[ZERO:.*]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: %[[B:.*]] = memref.view %[[SLOT1]][%[[ZERO]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: %[[C:.*]] = memref.view %[[SLOT0]][%[[ZERO]]][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x64xf32>
// CHECK-NOT: memref.dealloc %[[A]]
// CHECK-NOT: memref.dealloc %[[B]]
// CHECK-NOT: memref.dealloc %[[C]]
// CHECK: return %[[OUT]]
#id = affine_map<(i, j) -> (i, j)>
func.func @chain(%x: memref<?x64xf32>, %ctx: index {kiln.runtime_context}) -> memref<?x64xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x64xf32>
  linalg.copy ins(%x : memref<?x64xf32>) outs(%a : memref<?x64xf32>)
  %b = memref.alloc(%n) {alignment = 64 : i64} : memref<?x64xf32>
  linalg.copy ins(%a : memref<?x64xf32>) outs(%b : memref<?x64xf32>)
  %c = memref.alloc(%n) {alignment = 64 : i64} : memref<?x64xf32>
  linalg.copy ins(%b : memref<?x64xf32>) outs(%c : memref<?x64xf32>)
  %out = memref.alloc(%n) {alignment = 64 : i64} : memref<?x64xf32>
  linalg.copy ins(%c : memref<?x64xf32>) outs(%out : memref<?x64xf32>)
  memref.dealloc %a : memref<?x64xf32>
  memref.dealloc %b : memref<?x64xf32>
  memref.dealloc %c : memref<?x64xf32>
  return %out : memref<?x64xf32>
}

// -----

// A view keeps its buffer alive: %a is read through %flat by the last op,
// so %b (allocated while %a lives) cannot share its slot. The size of %b
// comes through the collapse_shape's dims back to the argument.
// CHECK-LABEL: func.func @views
// CHECK: %[[SLOT0:.*]] = call @kiln_rt_scratch
// CHECK: %[[SLOT1:.*]] = call @kiln_rt_scratch
// CHECK: memref.view %[[SLOT0]]
// CHECK: memref.view %[[SLOT1]]
// CHECK-NOT: memref.view %[[SLOT0]]
func.func @views(%x: memref<?x4x16xf32>, %ctx: index {kiln.runtime_context}) -> memref<?x64xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x4x16xf32>
  %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x4x16xf32>
  linalg.copy ins(%x : memref<?x4x16xf32>) outs(%a : memref<?x4x16xf32>)
  %flat = memref.collapse_shape %a [[0], [1, 2]] : memref<?x4x16xf32> into memref<?x64xf32>
  %m = memref.dim %flat, %c0 : memref<?x64xf32>
  %b = memref.alloc(%m) {alignment = 64 : i64} : memref<?x64xf32>
  linalg.copy ins(%flat : memref<?x64xf32>) outs(%b : memref<?x64xf32>)
  %out = memref.alloc(%m) {alignment = 64 : i64} : memref<?x64xf32>
  linalg.add ins(%b, %flat : memref<?x64xf32>, memref<?x64xf32>) outs(%out : memref<?x64xf32>)
  memref.dealloc %a : memref<?x4x16xf32>
  memref.dealloc %b : memref<?x64xf32>
  return %out : memref<?x64xf32>
}

// -----

// Left alone: a function without the run's context, a size read from
// memory (not computable at entry), and a buffer returned through a view.
// CHECK-LABEL: func.func @no_context
// CHECK-NOT: kiln_rt_scratch
// CHECK: memref.alloc
func.func @no_context(%n: index) {
  %a = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %a : memref<?xf32>
  return
}

// CHECK-LABEL: func.func @unplannable
// CHECK-NOT: memref.view
// CHECK: %[[A:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: %[[B:.*]] = memref.alloc() : memref<4x4xf32>
// CHECK: memref.dealloc %[[A]]
func.func @unplannable(%sizes: memref<1xindex>, %ctx: index {kiln.runtime_context}) -> memref<16xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.load %sizes[%c0] : memref<1xindex>
  %a = memref.alloc(%n) : memref<?xf32>
  %b = memref.alloc() : memref<4x4xf32>
  %flat = memref.collapse_shape %b [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  memref.dealloc %a : memref<?xf32>
  return %flat : memref<16xf32>
}

// -----

// A flag loaded for two run-time checks (CSE leaves one load): on the GPU
// path each check reads the flag from the device where it stands, so the
// flag lives until the last check. %out, allocated between the two checks,
// must not take the flag's slot (it did: the second check then read the
// product's bytes and failed valid runs).
// CHECK-LABEL: func.func @flag_until_last_check
// CHECK: %[[SLOT0:.*]] = call @kiln_rt_scratch
// CHECK: %[[SLOT1:.*]] = call @kiln_rt_scratch
// CHECK: %[[FLAG:.*]] = memref.view %[[SLOT0]]
// CHECK: kiln.runtime_check %{{.*}}, "first"
// CHECK: %[[OUT:.*]] = memref.view %[[SLOT1]]
// CHECK: kiln.runtime_check %{{.*}}, "second"
func.func @flag_until_last_check(%x: memref<64xf32>, %ctx: index {kiln.runtime_context}) -> f32 {
  %c0 = arith.constant 0 : index
  %false = arith.constant false
  %flag = memref.alloc() {alignment = 64 : i64} : memref<i1>
  memref.store %false, %flag[] : memref<i1>
  %failed = memref.load %flag[] : memref<i1>
  kiln.runtime_check %failed, "first"
  %out = memref.alloc() {alignment = 64 : i64} : memref<64xf32>
  linalg.copy ins(%x : memref<64xf32>) outs(%out : memref<64xf32>)
  kiln.runtime_check %failed, "second"
  %v = memref.load %out[%c0] : memref<64xf32>
  return %v : f32
}
