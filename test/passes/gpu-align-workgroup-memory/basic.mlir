// RUN: kiln-opt %s --pass-pipeline='builtin.module(gpu.module(kiln-gpu-align-workgroup-memory))' | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline='builtin.module(gpu.module(kiln-gpu-align-workgroup-memory),gpu.module(convert-gpu-to-nvvm))' | FileCheck %s --check-prefix=NVVM

// Every workgroup attribution gets llvm.align = 16 (an f16 tile would
// otherwise be 2-byte aligned, and its 16-byte vector stores and ldmatrix
// rows fault); a larger alignment already asked for stays; private
// attributions (registers or the stack) are left alone. convert-gpu-to-nvvm
// gives the shared memory globals that alignment.

// CHECK-LABEL: gpu.func @tiles
// CHECK-SAME: workgroup(%{{.*}} : memref<32x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
// CHECK-SAME: private(%{{.*}} : memref<4xf16, #gpu.address_space<private>>)
// NVVM-DAG: llvm.mlir.global internal @__wg_tiles_0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<2304 x f16>
// NVVM-DAG: llvm.mlir.global internal @__wg_tiles_1() {addr_space = 3 : i32, alignment = 64 : i64} : !llvm.array<8 x f32>
gpu.module @kernels {
  gpu.func @tiles() workgroup(%tile : memref<32x72xf16, #gpu.address_space<workgroup>>,
                              %wide : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
                    private(%mine : memref<4xf16, #gpu.address_space<private>>) kernel {
    %c0 = arith.constant 0 : index
    %x = memref.load %tile[%c0, %c0] : memref<32x72xf16, #gpu.address_space<workgroup>>
    memref.store %x, %mine[%c0] : memref<4xf16, #gpu.address_space<private>>
    %y = memref.load %wide[%c0] : memref<8xf32, #gpu.address_space<workgroup>>
    memref.store %y, %wide[%c0] : memref<8xf32, #gpu.address_space<workgroup>>
    gpu.return
  }
}
