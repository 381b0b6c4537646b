// RUN: kiln-opt %s --kiln-gpu-half-storage="type=f8" -verify-diagnostics

// expected-error@+1 {{kiln-gpu-half-storage: type must be f16 or bf16, not 'f8'}}
func.func @bad_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
