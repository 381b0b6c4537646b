// RUN: kiln-opt %s --kiln-gpu-device-buffers -split-input-file -verify-diagnostics

// Inputs are contiguous (bufferization's identity layouts at the function
// boundary): one copy of their bytes.
func.func @strided_input(%x: memref<4xf32, strided<[2]>>, %ctx: index {kiln.runtime_context}) {
  // expected-error@-1 {{an input with a non-identity layout: 'memref<4xf32, strided<[2]>>'}}
  return
}

// -----

func.func @branches(%x: memref<4xf32>, %c: i1, %ctx: index {kiln.runtime_context}) {
  // expected-error@-1 {{the GPU path needs a function of one block}}
  cf.cond_br %c, ^a, ^b
^a:
  return
^b:
  return
}
