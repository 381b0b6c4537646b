// RUN: kiln-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -split-input-file | FileCheck %s

// A ukernel op bufferizes to itself on buffers, its init a new buffer. The
// runtime's softmax reads rows a vector at a time: scores taken every
// other column (a stepped slice, a view whose rows stride by 2) are copied
// into a contiguous buffer first; a view whose rows are contiguous is not.
// CHECK-LABEL: func.func @stepped_rows
// CHECK: %[[VIEW:.*]] = memref.subview %arg0[0, 0] [4, 8] [1, 2] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 2]>>
// CHECK: memref.copy %[[VIEW]], %[[COPY:[^ ]*]] : memref<4x8xf32, strided<[16, 2]>> to memref<4x8xf32>
// CHECK: kiln.softmax_rows %[[COPY]] into %{{.*}} : memref<4x8xf32>, memref<4x8xf32>
func.func @stepped_rows(%s: tensor<4x16xf32>) -> tensor<4x8xf32> {
  %v = tensor.extract_slice %s[0, 0] [4, 8] [1, 2] : tensor<4x16xf32> to tensor<4x8xf32>
  %init = tensor.empty() : tensor<4x8xf32>
  %p = kiln.softmax_rows %v into %init : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @contiguous_rows
// CHECK: %[[VIEW:.*]] = memref.subview %arg0[0, 0] [4, 8] [1, 1]
// CHECK-NOT: memref.copy
// CHECK: kiln.softmax_rows %[[VIEW]] into %{{.*}} : memref<4x8xf32, strided<[16, 1]>>, memref<4x8xf32>
func.func @contiguous_rows(%s: tensor<4x16xf32>) -> tensor<4x8xf32> {
  %v = tensor.extract_slice %s[0, 0] [4, 8] [1, 1] : tensor<4x16xf32> to tensor<4x8xf32>
  %init = tensor.empty() : tensor<4x8xf32>
  %p = kiln.softmax_rows %v into %init : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}
