// RUN: kiln-opt %s --kiln-gpu-attention-kernels=type=bf16 | FileCheck %s

// With bf16 (--precision bf16) the fragments' registers are i32 of two
// bf16 each, the lower-indexed value in the low half, as nvvm.mma.sync
// takes bf16 (ldmatrix's too); f32 operands are rounded to bf16 as they
// are loaded (K^T here, value by value), bf16 ones copied 16 bytes a thread.

// CHECK-LABEL: func.func @bf16
// CHECK: %[[PAIR:.*]] = vector.from_elements {{.*}} : vector<2xbf16>
// CHECK: llvm.bitcast %[[PAIR]] : vector<2xbf16> to i32
// CHECK: scf.for
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: %[[LOADED:.*]] = nvgpu.ldmatrix {{.*}} : memref<1x32x24xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: %[[REG:.*]] = vector.extract %[[LOADED]][0] : vector<2xbf16> from vector<4x2xbf16>
// CHECK: llvm.bitcast %[[REG]] : vector<2xbf16> to i32
// CHECK: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: memref.store {{.*}} : memref<1x2x16x16xbf16>
func.func @bf16(%q: memref<1x2x16x16xbf16>, %kt: memref<1x2x16x16xf32>, %v: memref<1x2x16x16xbf16>,
                %out: memref<1x2x16x16xbf16>) {
  kiln.attention %q, %kt, %v into %out {scale = 0.25 : f32}
      : memref<1x2x16x16xbf16>, memref<1x2x16x16xf32>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>
  return
}
