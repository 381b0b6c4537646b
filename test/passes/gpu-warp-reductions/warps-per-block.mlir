// RUN: kiln-opt %s --kiln-gpu-warp-reductions="warps-per-block=0" -verify-diagnostics

// expected-error@below {{kiln-gpu-warp-reductions: warps-per-block must be in [1, 32], not 0}}
func.func @f(%x: memref<6x40xf32>, %y: memref<6xf32>) {
  return
}
