// RUN: kiln-opt %s --kiln-pack-gemm-weights=target=sse4 -verify-diagnostics

// expected-error @below {{unknown GEMM target 'sse4'; expected avx512, avx2 or portable}}
module {
}
