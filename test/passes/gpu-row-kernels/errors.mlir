// RUN: kiln-opt %s --kiln-gpu-row-kernels -split-input-file -verify-diagnostics

// The GPU path's buffers have static shapes.
func.func @dynamic(%x: memref<?x16xf32>, %y: memref<?x16xf32>) {
  // expected-error@+1 {{the GPU path needs static shapes, but this op's buffers are 'memref<?x16xf32>' and 'memref<?x16xf32>' (compile with --input-shape for every symbolic dim)}}
  kiln.softmax_rows %x into %y : memref<?x16xf32>, memref<?x16xf32>
  return
}

// -----

func.func @dynamic_addend(%x: memref<4x16xf32>, %m: memref<?xf32>, %y: memref<4x16xf32>) {
  // expected-error@+1 {{the GPU path needs static shapes, but the softmax's addend is 'memref<?xf32>'}}
  kiln.softmax_rows %x addend(%m : memref<?xf32>) into %y : memref<4x16xf32>, memref<4x16xf32>
  return
}

// -----

// The pass runs after bufferization.
func.func @tensors(%x: tensor<4x16xf32>, %g: tensor<16xf32>) -> tensor<4x16xf32> {
  %init = tensor.empty() : tensor<4x16xf32>
  // expected-error@+1 {{kiln-gpu-row-kernels runs after bufferization; this op is on tensors}}
  %y = kiln.layer_norm_rows %x, %g into %init {epsilon = 1.0e-5 : f32}
      : tensor<4x16xf32>, tensor<16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
