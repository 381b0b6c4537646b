// RUN: kiln-opt %s --kiln-strided-copy-to-linalg | FileCheck %s

// A copy out of a strided view would call MLIR's memrefCopy: it becomes
// linalg.copy.
// CHECK-LABEL: func.func @from_view
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.*}} : memref<4x2xf32, strided<[8, 1], offset: 2>>) outs(%{{.*}} : memref<4x2xf32>)
func.func @from_view(%src: memref<4x8xf32>, %dst: memref<4x2xf32>) {
  %view = memref.subview %src[0, 2] [4, 2] [1, 1] : memref<4x8xf32> to memref<4x2xf32, strided<[8, 1], offset: 2>>
  memref.copy %view, %dst : memref<4x2xf32, strided<[8, 1], offset: 2>> to memref<4x2xf32>
  return
}

// Into a strided destination (the concat pattern), with dynamic sizes.
// CHECK-LABEL: func.func @into_dynamic_view
// CHECK: linalg.copy ins(%{{.*}} : memref<?x?xf32>) outs(%{{.*}} : memref<?x?xf32, strided<[?, 1], offset: ?>>)
func.func @into_dynamic_view(%src: memref<?x?xf32>, %dst: memref<?x?xf32, strided<[?, 1], offset: ?>>) {
  memref.copy %src, %dst : memref<?x?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// Contiguous copies stay memref.copy: they lower to memcpy.
// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<?x16xf32> to memref<?x16xf32>
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<2x8xf32, strided<[8, 1], offset: 8>> to memref<2x8xf32>
// CHECK-NOT: linalg.copy
func.func @contiguous(%a: memref<?x16xf32>, %b: memref<?x16xf32>, %c: memref<4x8xf32>, %d: memref<2x8xf32>) {
  memref.copy %a, %b : memref<?x16xf32> to memref<?x16xf32>
  %rows = memref.subview %c[1, 0] [2, 8] [1, 1] : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 8>>
  memref.copy %rows, %d : memref<2x8xf32, strided<[8, 1], offset: 8>> to memref<2x8xf32>
  return
}
