// RUN: kiln-opt %s --kiln-pack-sparse-gemm-weights=mode=sometimes -verify-diagnostics

// expected-error @below {{kiln-pack-sparse-gemm-weights: mode must be auto, always or off, not 'sometimes'}}
module {
}
