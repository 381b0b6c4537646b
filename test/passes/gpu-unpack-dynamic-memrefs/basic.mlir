// RUN: kiln-opt %s --kiln-gpu-unpack-dynamic-memrefs -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-gpu-unpack-dynamic-memrefs --gpu-kernel-outlining -split-input-file | FileCheck %s --check-prefix=OUTLINED

// A memref of symbolic shape enters the launch as its base (a rank-0
// memref) and its symbolic size; the kernel rebuilds it. The static one
// stays as it is.
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[X:.*]]: memref<?x128xf32>, %[[W:.*]]: memref<128xf32>
// CHECK: %[[BASE:.*]], %[[OFFSET:.*]], %[[SIZES:.*]]:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata %[[X]]
// CHECK: gpu.launch
// CHECK: %[[Y:.*]] = memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [%[[SIZES]]#0, 128], strides: [128, 1] : memref<f32> to memref<?x128xf32>
// CHECK: memref.load %[[Y]]
// CHECK: memref.load %[[W]]
// CHECK: memref.store {{.*}}, %[[Y]]
// CHECK-NOT: memref.load %[[X]]
// The kernel takes the base, the size and the static memref: each a
// bare pointer or a scalar.
// OUTLINED: gpu.func @rows_kernel(%{{.*}}: memref<f32>, %{{.*}}: index, %{{.*}}: memref<128xf32>
// OUTLINED-NOT: memref<?x128xf32>,
func.func @rows(%x: memref<?x128xf32>, %w: memref<128xf32>, %n: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%bx, %tx] : memref<?x128xf32>
    %s = memref.load %w[%tx] : memref<128xf32>
    %p = arith.mulf %v, %s : f32
    memref.store %p, %x[%bx, %tx] : memref<?x128xf32>
    gpu.terminator
  }
  return
}

// -----

// A strided view with a symbolic offset and stride: each passes as an
// index, the static size and stride as constants.
// CHECK-LABEL: func.func @strided
// CHECK: %[[BASE:.*]], %[[OFFSET:.*]], %[[SIZES:.*]]:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata
// CHECK: gpu.launch
// CHECK: memref.reinterpret_cast %[[BASE]] to offset: [%[[OFFSET]]], sizes: [4, %[[SIZES]]#1], strides: [%[[STRIDES]]#0, 1] : memref<f32> to memref<4x?xf32, strided<[?, 1], offset: ?>>
func.func @strided(%x: memref<4x?xf32, strided<[?, 1], offset: ?>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%c0, %c0] : memref<4x?xf32, strided<[?, 1], offset: ?>>
    memref.store %v, %x[%c1, %c0] : memref<4x?xf32, strided<[?, 1], offset: ?>>
    gpu.terminator
  }
  return
}

// -----

// Static memrefs, strided ones included, are bare pointers already.
// CHECK-LABEL: func.func @static
// CHECK-NOT: memref.extract_strided_metadata
// CHECK-NOT: memref.reinterpret_cast
func.func @static(%x: memref<4x8xf32, strided<[16, 1], offset: 4>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%c0, %c0] : memref<4x8xf32, strided<[16, 1], offset: 4>>
    memref.store %v, %x[%c1, %c0] : memref<4x8xf32, strided<[16, 1], offset: 4>>
    gpu.terminator
  }
  return
}
