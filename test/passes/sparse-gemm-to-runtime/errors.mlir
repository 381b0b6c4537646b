// RUN: kiln-opt %s --kiln-sparse-gemm-to-runtime -split-input-file -verify-diagnostics

// Without the run's context there is no runtime to call.
func.func @no_context(%a: memref<4x2xf32>, %b: memref<224xi8>, %out: memref<4x3xf32>) {
  // expected-error @below {{kiln.sparse_gemm needs the runtime, but function 'no_context' has no 'kiln.runtime_context' argument}}
  kiln.sparse_gemm %a, %b into %out {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64}
    : memref<4x2xf32>, memref<224xi8>, memref<4x3xf32>
  return
}

// -----

func.func @tensors(%a: tensor<4x2xf32>, %b: tensor<224xi8>, %init: tensor<4x3xf32>,
                   %ctx: index {kiln.runtime_context}) -> tensor<4x3xf32> {
  // expected-error @below {{kiln.sparse_gemm must be bufferized before kiln-sparse-gemm-to-runtime}}
  %y = kiln.sparse_gemm %a, %b into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_blocks = 2 : i64}
         : tensor<4x2xf32>, tensor<224xi8>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
