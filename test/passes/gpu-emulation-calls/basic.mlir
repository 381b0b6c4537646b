// RUN: kiln-opt %s --pass-pipeline='builtin.module(gpu.module(kiln-gpu-emulation-calls))' | FileCheck %s

// The NVVM operations convert-gpu-to-nvvm leaves in a kernel become calls
// of the emulator (kiln/kiln_gpu_emulation.h): special registers by code
// (tid.x 0, ntid.x 3, ctaid.x 6, laneid 12), the shuffle with its value as
// 32 bits and the predicate from bit 32 of the result, the barrier as is.
// Everything else stays.

// Declared once, however many calls.
// CHECK-LABEL: gpu.module @kernels
// CHECK-DAG: llvm.func @kiln_emu_special_register(i32) -> i32
// CHECK-DAG: llvm.func @kiln_emu_shfl(i32, i32, i32, i32, i32) -> i64
// CHECK-DAG: llvm.func @kiln_emu_barrier()
gpu.module @kernels {
  // CHECK-LABEL: llvm.func @row
  llvm.func @row(%out: !llvm.ptr, %v: f32) attributes {gpu.kernel, nvvm.kernel} {
    // CHECK: %[[C0:.*]] = llvm.mlir.constant(0 : i32)
    // CHECK: %[[TID:.*]] = llvm.call @kiln_emu_special_register(%[[C0]]) : (i32) -> i32
    // CHECK: %[[C3:.*]] = llvm.mlir.constant(3 : i32)
    // CHECK: llvm.call @kiln_emu_special_register(%[[C3]])
    // CHECK: %[[C6:.*]] = llvm.mlir.constant(6 : i32)
    // CHECK: llvm.call @kiln_emu_special_register(%[[C6]])
    // CHECK: %[[C12:.*]] = llvm.mlir.constant(12 : i32)
    // CHECK: llvm.call @kiln_emu_special_register(%[[C12]])
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %ntid = nvvm.read.ptx.sreg.ntid.x : i32
    %ctaid = nvvm.read.ptx.sreg.ctaid.x : i32
    %lane = nvvm.read.ptx.sreg.laneid : i32
    %mask = llvm.mlir.constant(-1 : i32) : i32
    %one = llvm.mlir.constant(1 : i32) : i32
    %clamp = llvm.mlir.constant(31 : i32) : i32
    // CHECK: %[[BITS:.*]] = llvm.bitcast %{{.*}} : f32 to i32
    // CHECK: %[[KIND:.*]] = llvm.mlir.constant(3 : i32)
    // CHECK: %[[PACKED:.*]] = llvm.call @kiln_emu_shfl(%[[KIND]], %{{.*}}, %[[BITS]], %{{.*}}, %{{.*}}) : (i32, i32, i32, i32, i32) -> i64
    // CHECK: %[[LOW:.*]] = llvm.trunc %[[PACKED]] : i64 to i32
    // CHECK: %[[VALUE:.*]] = llvm.bitcast %[[LOW]] : i32 to f32
    // CHECK: %[[HIGH:.*]] = llvm.lshr %[[PACKED]]
    // CHECK: %[[VALID:.*]] = llvm.trunc %[[HIGH]] : i64 to i1
    // CHECK: llvm.insertvalue %[[VALUE]], %{{.*}}[0]
    // CHECK: llvm.insertvalue %[[VALID]], %{{.*}}[1]
    %pair = nvvm.shfl.sync bfly %mask, %v, %one, %clamp {return_value_and_is_valid} : f32 -> !llvm.struct<(f32, i1)>
    %other = llvm.extractvalue %pair[0] : !llvm.struct<(f32, i1)>
    // An i32 shuffle without the predicate: no bitcasts, no struct.
    // CHECK: %[[DOWN:.*]] = llvm.mlir.constant(2 : i32)
    // CHECK: %[[P2:.*]] = llvm.call @kiln_emu_shfl(%[[DOWN]], %{{.*}}, %[[TID]], %{{.*}}, %{{.*}})
    // CHECK: llvm.trunc %[[P2]] : i64 to i32
    %moved = nvvm.shfl.sync down %mask, %tid, %one, %clamp : i32 -> i32
    // CHECK: llvm.call @kiln_emu_barrier() : () -> ()
    nvvm.barrier0
    // CHECK-NOT: nvvm.
    %sum = llvm.add %tid, %ntid : i32
    %sum2 = llvm.add %sum, %ctaid : i32
    %sum3 = llvm.add %sum2, %lane : i32
    %sum4 = llvm.add %sum3, %moved : i32
    %index = llvm.sext %sum4 : i32 to i64
    %at = llvm.getelementptr %out[%index] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    llvm.store %other, %at : f32, !llvm.ptr
    llvm.return
  }
}

// mma.sync m16n8k16 (f16 into f32): the lane's ten registers go through a
// stack array (A's four, B's two, C's four as i32 bits), the emulator is
// called with the kind (0: f16) and D comes back in C's place.
// CHECK-LABEL: gpu.module @tensor_cores
// CHECK: llvm.func @kiln_emu_mma(i32, !llvm.ptr)
gpu.module @tensor_cores {
  // CHECK-LABEL: llvm.func @mma
  llvm.func @mma(%out: !llvm.ptr, %a: vector<2xf16>, %b: vector<2xf16>, %c: f32) attributes {gpu.kernel, nvvm.kernel} {
    // CHECK: %[[TEN:.*]] = llvm.mlir.constant(10 : i64)
    // CHECK: %[[WORDS:.*]] = llvm.alloca %[[TEN]] x i32
    // CHECK-COUNT-6: llvm.bitcast %{{.*}} : vector<2xf16> to i32
    // CHECK: llvm.bitcast %{{.*}} : f32 to i32
    // CHECK: %[[KIND:.*]] = llvm.mlir.constant(0 : i32)
    // CHECK: llvm.call @kiln_emu_mma(%[[KIND]], %[[WORDS]]) : (i32, !llvm.ptr) -> ()
    // CHECK-COUNT-4: llvm.load %{{.*}} : !llvm.ptr -> f32
    // CHECK-NOT: nvvm.mma.sync
    %d = nvvm.mma.sync A[%a, %a, %a, %a] B[%b, %b] C[%c, %c, %c, %c]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         shape = #nvvm.shape<m = 16, n = 8, k = 16>}
        : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d0 = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    llvm.store %d0, %out : f32, !llvm.ptr
    llvm.return
  }
}

// ldmatrix (m8n8, 16-bit): the emulator is called with the count of
// matrices or'ed with 16 for .trans (layout col), the lane's row address
// as a generic pointer, and an array on the stack for the registers,
// which come back as the op's i32s.
// CHECK-LABEL: gpu.module @matrix_loads
// CHECK: llvm.func @kiln_emu_ldmatrix(i32, !llvm.ptr, !llvm.ptr)
gpu.module @matrix_loads {
  // CHECK-LABEL: llvm.func @ldmatrix
  llvm.func @ldmatrix(%out: !llvm.ptr, %row: !llvm.ptr<3>) attributes {gpu.kernel, nvvm.kernel} {
    // CHECK: %[[FOUR:.*]] = llvm.mlir.constant(4 : i64)
    // CHECK: %[[WORDS:.*]] = llvm.alloca %[[FOUR]] x i32
    // CHECK: %[[GENERIC:.*]] = llvm.addrspacecast %{{.*}} : !llvm.ptr<3> to !llvm.ptr
    // CHECK: %[[SHAPE:.*]] = llvm.mlir.constant(20 : i32)
    // CHECK: llvm.call @kiln_emu_ldmatrix(%[[SHAPE]], %[[GENERIC]], %[[WORDS]]) : (i32, !llvm.ptr, !llvm.ptr) -> ()
    // CHECK-COUNT-4: llvm.load %{{.*}} : !llvm.ptr -> i32
    // CHECK-NOT: nvvm.ldmatrix
    %m = nvvm.ldmatrix %row {num = 4 : i32, layout = #nvvm.mma_layout<col>,
                             shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>,
                             eltType = #nvvm.ld_st_matrix_elt_type<b16>}
        : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
    %m3 = llvm.extractvalue %m[3] : !llvm.struct<(i32, i32, i32, i32)>
    llvm.store %m3, %out : i32, !llvm.ptr
    // One matrix, not transposed: shape 1, the register itself.
    // CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i32)
    // CHECK: llvm.call @kiln_emu_ldmatrix(%[[ONE]],
    // CHECK: llvm.load %{{.*}} : !llvm.ptr -> i32
    %r = nvvm.ldmatrix %row {num = 1 : i32, layout = #nvvm.mma_layout<row>,
                             shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>,
                             eltType = #nvvm.ld_st_matrix_elt_type<b16>}
        : (!llvm.ptr<3>) -> i32
    llvm.store %r, %out : i32, !llvm.ptr
    llvm.return
  }
}

// cp.async: the copy a call with both addresses generic and its size, the
// group's commit and the wait (with its count of newest groups left
// pending) calls of their own.
// CHECK-LABEL: gpu.module @async_copies
// CHECK-DAG: llvm.func @kiln_emu_cp_async(!llvm.ptr, !llvm.ptr, i32)
// CHECK-DAG: llvm.func @kiln_emu_cp_async_commit()
// CHECK-DAG: llvm.func @kiln_emu_cp_async_wait(i32)
gpu.module @async_copies {
  // CHECK-LABEL: llvm.func @copy
  llvm.func @copy(%dst: !llvm.ptr<3>, %src: !llvm.ptr<1>) attributes {gpu.kernel, nvvm.kernel} {
    // CHECK: %[[DST:.*]] = llvm.addrspacecast %{{.*}} : !llvm.ptr<3> to !llvm.ptr
    // CHECK: %[[SRC:.*]] = llvm.addrspacecast %{{.*}} : !llvm.ptr<1> to !llvm.ptr
    // CHECK: %[[SIXTEEN:.*]] = llvm.mlir.constant(16 : i32)
    // CHECK: llvm.call @kiln_emu_cp_async(%[[DST]], %[[SRC]], %[[SIXTEEN]]) : (!llvm.ptr, !llvm.ptr, i32) -> ()
    // CHECK: llvm.call @kiln_emu_cp_async_commit() : () -> ()
    // CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i32)
    // CHECK: llvm.call @kiln_emu_cp_async_wait(%[[ONE]]) : (i32) -> ()
    // CHECK-NOT: nvvm.cp.async
    nvvm.cp.async.shared.global %dst, %src, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
    nvvm.cp.async.commit.group
    nvvm.cp.async.wait.group 1
    llvm.return
  }
}
