// RUN: kiln-opt %s --kiln-fgemm-to-runtime -verify-diagnostics

// Only a function with the run's context can call the runtime.
func.func @no_context(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  // expected-error @below {{kiln.fgemm needs the runtime, but function 'no_context' has no 'kiln.runtime_context' argument}}
  kiln.fgemm %a, %b into %c {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (m, k)>,
                                              affine_map<(b0, b1, m, n, k) -> (k, n)>,
                                              affine_map<(b0, b1, m, n, k) -> (m, n)>]}
      : memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>
  return
}
