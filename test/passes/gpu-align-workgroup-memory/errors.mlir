// RUN: kiln-opt %s --pass-pipeline='builtin.module(gpu.module(kiln-gpu-align-workgroup-memory{alignment=12}))' -verify-diagnostics

// expected-error @below {{kiln-gpu-align-workgroup-memory: alignment must be a power of two, not 12}}
gpu.module @kernels {
  gpu.func @tile() workgroup(%tile : memref<8xf16, #gpu.address_space<workgroup>>) kernel {
    gpu.return
  }
}
