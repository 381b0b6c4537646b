// RUN: kiln-opt %s --kiln-gpu-map-parallel-loops -split-input-file -verify-diagnostics

// The host cannot read device memory: a load whose value the host needs.
func.func @host_reads(%a: memref<4xindex>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error@+1 {{cannot run on the GPU: the host would need this op's results (memref.load)}}
  %n = memref.load %a[%c0] : memref<4xindex>
  return %n : index
}

// -----

// A buffer kiln-plan-memory could not place stays host memory; a kernel
// must not be handed it.
func.func @host_buffer(%a: memref<4xf32>) {
  // expected-error@+1 {{cannot place this buffer in device memory ('memref<4xf32>')}}
  %b = memref.alloc() : memref<4xf32>
  return
}
