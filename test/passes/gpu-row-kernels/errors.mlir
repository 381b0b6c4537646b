// RUN: kiln-opt %s --kiln-gpu-row-kernels -split-input-file -verify-diagnostics

// The normalized dim is the model's width, which its weights fix: a
// symbolic one is not taken.
func.func @symbolic_width(%x: memref<4x?xf32>, %g: memref<?xf32>, %y: memref<4x?xf32>) {
  // expected-error@+1 {{the GPU's layer norm needs a static last dim (the normalized one), not 'memref<4x?xf32>'}}
  kiln.layer_norm_rows %x, %g into %y {epsilon = 1.0e-5 : f32}
      : memref<4x?xf32>, memref<?xf32>, memref<4x?xf32>
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
