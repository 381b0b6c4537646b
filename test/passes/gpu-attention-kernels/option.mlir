// RUN: kiln-opt %s --kiln-gpu-attention-kernels="type=f32" -verify-diagnostics

// expected-error@+1 {{kiln-gpu-attention-kernels: type must be f16 or bf16, not 'f32'}}
func.func @bad_type() {
  return
}
