// RUN: kiln-opt %s --gpu-kernel-outlining --kiln-gpu-launch-to-runtime -split-input-file -verify-diagnostics

// Kernels use the bare-pointer convention: a memref operand must have a
// static shape and layout.
func.func @dynamic(%a: memref<?xf32>, %ctx: index {kiln.runtime_context}) {
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{a kernel operand has a dynamic shape or layout ('memref<?xf32>'); kernels take static ones (kiln-gpu-unpack-dynamic-memrefs, before outlining, passes a symbolic one as its base and sizes)}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %a[%tx] : memref<?xf32>
    gpu.terminator
  }
  return
}

// -----

// The runtime launches; it needs the function's runtime context.
// expected-error@+1 {{kernel launches need the function's kiln.runtime_context argument}}
func.func @no_context(%a: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %a[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}
