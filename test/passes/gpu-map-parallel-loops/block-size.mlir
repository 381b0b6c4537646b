// RUN: kiln-opt %s --kiln-gpu-map-parallel-loops=block-size=100 -verify-diagnostics

// expected-error@+1 {{block-size must be a multiple of 32 in [32, 1024], not 100}}
func.func @bad_block_size() {
  return
}
