// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-check-allocation-sizes))' -split-input-file | FileCheck %s

// An allocation sized at run time: a check before it that the element count
// stays within 2^40 (each size compared with the room the static dims and
// the sizes before it leave, so nothing overflows), and one after it that
// the allocator did not return null for a tensor with elements.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[N:.*]]: index, %[[M:.*]]: index, %{{.*}}: index {kiln.runtime_context})
// CHECK-DAG: %[[ROOM0:.*]] = arith.constant 274877906944 : index
// CHECK: %[[OVER0:.*]] = arith.cmpi sgt, %[[N]], %[[ROOM0]]
// CHECK: %[[COUNT:.*]] = arith.muli
// CHECK: %[[ROOM1:.*]] = arith.floordivsi %c1099511627776{{.*}}, %{{.*}}
// CHECK: %[[OVER1:.*]] = arith.cmpi sgt, %[[M]], %[[ROOM1]]
// CHECK: %[[OVER:.*]] = arith.ori %[[OVER0]], %[[OVER1]]
// CHECK: kiln.runtime_check %[[OVER]], "a tensor: a tensor of more than 2^40 elements at run time
// CHECK: %[[A:.*]] = memref.alloc(%[[N]], %[[M]]) : memref<4x?x?xf32>
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: arith.cmpi eq, %[[P]], %c0
// CHECK: kiln.runtime_check %{{.*}}, "a tensor: out of memory
func.func @dynamic(%n: index, %m: index, %ctx: index {kiln.runtime_context}) -> memref<4x?x?xf32> {
  %a = memref.alloc(%n, %m) : memref<4x?x?xf32>
  return %a : memref<4x?x?xf32>
}

// -----

// Static allocations were held to 2^40 elements at compile time, and
// without a kiln.runtime_context there is nothing to fail a run through.
// CHECK-LABEL: func.func @static_or_no_context
// CHECK-NOT: kiln.runtime_check
func.func @static_or_no_context(%n: index, %ctx: index {kiln.runtime_context}) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}
// CHECK-LABEL: func.func @no_context
// CHECK-NOT: kiln.runtime_check
func.func @no_context(%n: index) -> memref<?xf32> {
  %a = memref.alloc(%n) : memref<?xf32>
  return %a : memref<?xf32>
}

// -----

// A zero-sized dim: the tensor is empty whatever the sizes, and malloc(0)
// may return null, so only the size check is placed.
// CHECK-LABEL: func.func @empty
// CHECK: kiln.runtime_check
// CHECK-NOT: kiln.runtime_check
func.func @empty(%n: index, %ctx: index {kiln.runtime_context}) -> memref<0x?xf32> {
  %a = memref.alloc(%n) : memref<0x?xf32>
  return %a : memref<0x?xf32>
}
