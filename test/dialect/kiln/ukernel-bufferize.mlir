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

// -----

// The runtime's layer norm reads x's rows, the scale and the bias a
// vector at a time too: stepped views of x and of the scale are copied.
// CHECK-LABEL: func.func @layer_norm_stepped
// CHECK: %[[XV:.*]] = memref.subview %arg0[0, 0] [4, 8] [1, 2]
// CHECK: %[[GV:.*]] = memref.subview %arg1[0] [8] [2]
// CHECK: memref.copy %[[XV]], %[[X:[^ ]*]] : memref<4x8xf32, strided<[16, 2]>> to memref<4x8xf32>
// CHECK: memref.copy %[[GV]], %[[G:[^ ]*]] : memref<8xf32, strided<[2]>> to memref<8xf32>
// CHECK: kiln.layer_norm_rows %[[X]], %[[G]] into %{{.*}} {epsilon = 9.99999974E-6 : f32} : memref<4x8xf32>, memref<8xf32>, memref<4x8xf32>
func.func @layer_norm_stepped(%s: tensor<4x16xf32>, %g: tensor<16xf32>) -> tensor<4x8xf32> {
  %v = tensor.extract_slice %s[0, 0] [4, 8] [1, 2] : tensor<4x16xf32> to tensor<4x8xf32>
  %gv = tensor.extract_slice %g[0] [8] [2] : tensor<16xf32> to tensor<8xf32>
  %init = tensor.empty() : tensor<4x8xf32>
  %y = kiln.layer_norm_rows %v, %gv into %init {epsilon = 1.0e-5 : f32} : tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
