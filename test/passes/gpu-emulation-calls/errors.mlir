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

// -----

// Only the form kiln-gpu-attention-kernels emits (m16n8k16, 16-bit inputs,
// f32 sums) is emulated.
gpu.module @kernels {
  llvm.func @small_mma(%a: vector<2xf16>, %b: vector<2xf16>, %c: f32) attributes {gpu.kernel, nvvm.kernel} {
    // expected-error @+1 {{the GPU emulation runs mma.sync m16n8k16 of f16 or bf16 into f32 (row-major A, column-major B) only}}
    %d = nvvm.mma.sync A[%a, %a] B[%b] C[%c, %c, %c, %c]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         shape = #nvvm.shape<m = 16, n = 8, k = 8>}
        : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    llvm.return
  }
}

// -----

// ldmatrix of 8-bit values (m16n16): no emulation of it.
gpu.module @kernels_ldmatrix {
  llvm.func @byte_matrix(%row: !llvm.ptr<3>) attributes {gpu.kernel, nvvm.kernel} {
    // expected-error @+1 {{the GPU emulation runs ldmatrix m8n8 of 16-bit values (1, 2 or 4 matrices) only}}
    %m = nvvm.ldmatrix %row {num = 1 : i32, layout = #nvvm.mma_layout<col>,
                             shape = #nvvm.ld_st_matrix_shape<m = 16, n = 16>,
                             eltType = #nvvm.ld_st_matrix_elt_type<b8>}
        : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32)>
    llvm.return
  }
}

// -----

// cp.async with a source size (the rest zero-filled): not emulated.
gpu.module @kernels_cp_async {
  llvm.func @partial(%dst: !llvm.ptr<3>, %src: !llvm.ptr<1>, %n: i32) attributes {gpu.kernel, nvvm.kernel} {
    // expected-error @+1 {{the GPU emulation runs cp.async of whole sizes only (no source size operand)}}
    nvvm.cp.async.shared.global %dst, %src, 16, cache = cg, %n : !llvm.ptr<3>, !llvm.ptr<1>, i32
    llvm.return
  }
}
