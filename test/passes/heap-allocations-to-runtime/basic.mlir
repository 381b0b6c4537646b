// RUN: kiln-opt %s --kiln-heap-allocations-to-runtime -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-heap-allocations-to-runtime="returned-only=true" -split-input-file | FileCheck %s --check-prefix=RETURNED

// The returned buffer and one sized inside a loop become runtime blocks,
// their sizes in bytes computed where they are allocated; the loop's dealloc
// releases its block by the aligned pointer of its base buffer.
// CHECK-DAG: func.func private @kiln_rt_alloc(index, index) -> memref<?xi8>
// CHECK-DAG: func.func private @kiln_rt_release(index, index)
// CHECK-LABEL: func.func @output_and_loop
// CHECK-SAME: (%[[X:.*]]: memref<?x64xf32>, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: %[[N:.*]] = memref.dim %[[X]], %c0
// CHECK: %[[ROW:.*]] = arith.constant 256 : index
// CHECK: %[[BYTES:.*]] = arith.muli %[[ROW]], %[[N]] : index
// CHECK: %[[BLOCK:.*]] = call @kiln_rt_alloc(%[[CTX]], %[[BYTES]]) : (index, index) -> memref<?xi8>
// CHECK: %[[OUT:.*]] = memref.view %[[BLOCK]][%{{.*}}][%[[N]]] : memref<?xi8> to memref<?x64xf32>
// CHECK: scf.for %[[I:.*]] =
// CHECK:   %[[TBYTES:.*]] = arith.muli %{{.*}}, %[[I]] : index
// CHECK:   %[[TBLOCK:.*]] = func.call @kiln_rt_alloc(%[[CTX]], %[[TBYTES]])
// CHECK:   %[[T:.*]] = memref.view %[[TBLOCK]][%{{.*}}][%[[I]]] : memref<?xi8> to memref<?xi32>
// CHECK:   %[[BASE:.*]], %{{.*}}, %{{.*}}, %{{.*}} = memref.extract_strided_metadata %[[T]]
// CHECK:   %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[BASE]]
// CHECK:   func.call @kiln_rt_release(%[[CTX]], %[[P]]) : (index, index) -> ()
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// CHECK: return %[[OUT]]
// The GPU path: only the returned buffer (the output's host copy) comes
// from the runtime; the one in the loop, which may move into a kernel, and
// its dealloc stay.
// RETURNED-LABEL: func.func @output_and_loop
// RETURNED: %[[BLOCK:.*]] = call @kiln_rt_alloc
// RETURNED: %[[OUT:.*]] = memref.view %[[BLOCK]]
// RETURNED: scf.for
// RETURNED:   memref.alloc(%{{.*}}) : memref<?xi32>
// RETURNED:   memref.dealloc
// RETURNED-NOT: kiln_rt_release
// RETURNED: return %[[OUT]]
func.func @output_and_loop(%x: memref<?x64xf32>, %ctx: index {kiln.runtime_context}) -> memref<?x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %out = memref.alloc(%n) {alignment = 64 : i64} : memref<?x64xf32>
  linalg.copy ins(%x : memref<?x64xf32>) outs(%out : memref<?x64xf32>)
  scf.for %i = %c1 to %c4 step %c1 {
    %t = memref.alloc(%i) : memref<?xi32>
    memref.dealloc %t : memref<?xi32>
  }
  return %out : memref<?x64xf32>
}

// -----

// Static sizes: 2 x 3 i1 take a byte each; a rank-0 f64 takes 8.
// CHECK-LABEL: func.func @static_sizes
// CHECK: %[[SIX:.*]] = arith.constant 6 : index
// CHECK: call @kiln_rt_alloc(%{{.*}}, %[[SIX]]) :
// CHECK: memref.view {{.*}} : memref<?xi8> to memref<2x3xi1>
// CHECK: %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK: call @kiln_rt_alloc(%{{.*}}, %[[EIGHT]]) :
// CHECK: memref.view {{.*}} : memref<?xi8> to memref<f64>
func.func @static_sizes(%ctx: index {kiln.runtime_context}) -> (memref<2x3xi1>, memref<f64>) {
  %a = memref.alloc() : memref<2x3xi1>
  %b = memref.alloc() : memref<f64>
  return %a, %b : memref<2x3xi1>, memref<f64>
}

// -----

// A buffer that cannot be a view of a block (a strided layout) keeps its
// malloc, and so does every other buffer of the function: a dealloc cannot
// tell which kind it frees.
// CHECK-LABEL: func.func @not_all_routable
// CHECK-NOT: kiln_rt_alloc
// CHECK: memref.alloc() : memref<4x4xf32, strided<[8, 1]>>
// CHECK: memref.alloc() : memref<16xf32>
// CHECK: memref.dealloc
// CHECK-NOT: kiln_rt_release
func.func @not_all_routable(%ctx: index {kiln.runtime_context}) -> memref<16xf32> {
  %a = memref.alloc() : memref<4x4xf32, strided<[8, 1]>>
  %b = memref.alloc() : memref<16xf32>
  memref.dealloc %a : memref<4x4xf32, strided<[8, 1]>>
  return %b : memref<16xf32>
}

// -----

// Without a runtime context (a function kiln-opt tests on its own) there is
// no runtime to ask: malloc stays.
// CHECK-LABEL: func.func @no_context
// CHECK-NOT: kiln_rt_alloc
// CHECK: memref.alloc
func.func @no_context() -> memref<16xf32> {
  %b = memref.alloc() : memref<16xf32>
  return %b : memref<16xf32>
}

