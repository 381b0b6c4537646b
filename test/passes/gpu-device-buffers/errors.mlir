// RUN: kiln-opt %s --kiln-gpu-device-buffers -split-input-file -verify-diagnostics

// Buffers must have static shapes: the GPU path compiles fixed input dims.
func.func @dynamic(%x: memref<?x4xf32>, %ctx: index {kiln.runtime_context}) {
  // expected-error@-1 {{the GPU path needs static shapes, but a buffer here is 'memref<?x4xf32>'}}
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
