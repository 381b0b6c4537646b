// RUN: kiln-opt %s --kiln-gpu-map-parallel-loops=elements-per-thread=0 -verify-diagnostics

// A thread covers at least one iteration.
// expected-error@+1 {{elements-per-thread and min-threads must be at least 1, not 0 and 65536}}
func.func @f() {
  return
}
