// RUN: kiln-opt %s --kiln-pack-sparse-qgemm-weights=mode=sometimes -verify-diagnostics

// expected-error @below {{kiln-pack-sparse-qgemm-weights: mode must be auto, always or off, not 'sometimes'}}
module {
}
