// RUN: kiln-opt %s --kiln-gpu-row-kernels="warps-per-block=33" -verify-diagnostics

// A block holds at most 1024 threads: 32 warps.
// expected-error@below {{kiln-gpu-row-kernels: warps-per-block must be in [1, 32], not 33}}
func.func @f(%x: memref<4x16xf32>, %y: memref<4x16xf32>) {
  kiln.softmax_rows %x into %y : memref<4x16xf32>, memref<4x16xf32>
  return
}
