// RUN: kiln-opt %s --kiln-softmax-to-runtime -split-input-file -verify-diagnostics

// Without the run's context there is no runtime to call.
func.func @no_context(%s: memref<4x8xf32>, %out: memref<4x8xf32>) {
  // expected-error @below {{kiln.softmax_rows needs the runtime, but function 'no_context' has no 'kiln.runtime_context' argument}}
  kiln.softmax_rows %s into %out : memref<4x8xf32>, memref<4x8xf32>
  return
}

// -----

func.func @tensors(%s: tensor<4x8xf32>, %init: tensor<4x8xf32>, %ctx: index {kiln.runtime_context}) -> tensor<4x8xf32> {
  // expected-error @below {{kiln.softmax_rows must be bufferized before kiln-softmax-to-runtime}}
  %p = kiln.softmax_rows %s into %init : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}
