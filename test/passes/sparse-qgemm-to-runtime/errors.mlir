// RUN: kiln-opt %s --kiln-sparse-qgemm-to-runtime -split-input-file -verify-diagnostics

// Without the run's context there is no runtime to call.
func.func @no_context(%a: memref<4x2xf32>, %b: memref<320xi8>, %s: memref<3xf32>, %out: memref<4x3xf32>) {
  // expected-error @below {{kiln.sparse_qgemm needs the runtime, but function 'no_context' has no 'kiln.runtime_context' argument}}
  kiln.sparse_qgemm %a, %b, %s into %out {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 1 : i64}
    : memref<4x2xf32>, memref<320xi8>, memref<3xf32>, memref<4x3xf32>
  return
}

// -----

func.func @tensors(%a: tensor<4x2xf32>, %b: tensor<320xi8>, %s: tensor<3xf32>, %init: tensor<4x3xf32>,
                   %ctx: index {kiln.runtime_context}) -> tensor<4x3xf32> {
  // expected-error @below {{kiln.sparse_qgemm must be bufferized before kiln-sparse-qgemm-to-runtime}}
  %y = kiln.sparse_qgemm %a, %b, %s into %init {k = 2 : i64, n = 3 : i64, block_width = 4 : i64, stored_groups = 1 : i64}
         : tensor<4x2xf32>, tensor<320xi8>, tensor<3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
