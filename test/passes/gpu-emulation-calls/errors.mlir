// RUN: kiln-opt %s --pass-pipeline='builtin.module(gpu.module(kiln-gpu-emulation-calls))' -split-input-file -verify-diagnostics

// An NVVM operation the emulator has no host form of is an error naming it,
// not a kernel that computes something else.
gpu.module @kernels {
  llvm.func @vote(%p: i1) -> i32 attributes {gpu.kernel, nvvm.kernel} {
    %mask = llvm.mlir.constant(-1 : i32) : i32
    // expected-error @+1 {{the GPU emulation (--gpu-emulation) has no host form of 'nvvm.vote.sync'}}
    %ballot = nvvm.vote.sync ballot %mask, %p -> i32
    llvm.return %ballot : i32
  }
}

// -----

// A barrier with a thread count (a subset of the block) is not emulated.
gpu.module @kernels {
  llvm.func @partial() attributes {gpu.kernel, nvvm.kernel} {
    %id = llvm.mlir.constant(0 : i32) : i32
    %n = llvm.mlir.constant(64 : i32) : i32
    // expected-error @+1 {{has no host form of 'nvvm.barrier'}}
    nvvm.barrier id = %id number_of_threads = %n
    llvm.return
  }
}
