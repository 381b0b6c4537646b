// RUN: kiln-opt %s --kiln-layer-norm-to-runtime -split-input-file -verify-diagnostics

// Without the run's context there is no runtime to call.
func.func @no_context(%x: memref<4x8xf32>, %g: memref<8xf32>, %out: memref<4x8xf32>) {
  // expected-error @below {{kiln.layer_norm_rows needs the runtime, but function 'no_context' has no 'kiln.runtime_context' argument}}
  kiln.layer_norm_rows %x, %g into %out {epsilon = 1.0e-5 : f32} : memref<4x8xf32>, memref<8xf32>, memref<4x8xf32>
  return
}

// -----

func.func @tensors(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %init: tensor<4x8xf32>, %ctx: index {kiln.runtime_context}) -> tensor<4x8xf32> {
  // expected-error @below {{kiln.layer_norm_rows must be bufferized before kiln-layer-norm-to-runtime}}
  %y = kiln.layer_norm_rows %x, %g into %init {epsilon = 1.0e-5 : f32} : tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
