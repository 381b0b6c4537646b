// RUN: kiln-opt %s --kiln-gpu-attention-kernels | FileCheck %s

// Attention as BERT has it on the GPU path with half storage: Q, K^T and V
// are views of the projections' output [batch, seq, heads, head] read
// through perms, the mask broadcast over heads and rows, the output
// written with the heads merged. One launch: 2 batch x 2 heads x 1 tile
// of 64 query rows = 4 blocks of 4 warps; Q's fragments loaded once; the
// keys in steps of 32. Where K's and V's buffers are 16-byte aligned
// (checked once, before the steps; the views' strides and offsets are
// multiples of 8 values) each step's K and V reach shared memory (two
// stages of rows padded to 72 values) by cp.async, 16 bytes a thread: the
// first step's before the loop, the next step's while this one computes
// (wait, barrier, then the copies into the other stage). Otherwise they
// are copied between two barriers into stage 0: 16 bytes a thread where
// that operand is aligned, else value by value. The scores and the output
// accumulated by mma.sync m16n8k16 (f16 in, f32 out) on fragments loaded
// from there by ldmatrix (four 8x8 matrices, V's transposed), the
// softmax's running max combined across the four lanes of a row by
// shuffles xor 1 and 2.

// CHECK-LABEL: func.func @bert
// CHECK-NOT: kiln.attention
// CHECK-DAG: %[[BLOCKS:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[THREADS:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[THREADS]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) workgroup(%[[KT:.*]] : memref<2x32x72xf16, #gpu.address_space<workgroup>>, %[[VT:.*]] : memref<2x32x72xf16, #gpu.address_space<workgroup>>)
// Q's fragments: four registers of two f16 per 16 of the head size (64).
// CHECK-COUNT-16: vector.from_elements {{.*}} : vector<2xf16>
// CHECK: %[[KBASE:.*]] = memref.extract_aligned_pointer_as_index %arg1
// CHECK: %[[KREM:.*]] = arith.remui %[[KBASE]], %{{.*}} : index
// CHECK: %[[KALIGNED:.*]] = arith.cmpi eq, %[[KREM]], %{{.*}} : index
// CHECK: memref.extract_aligned_pointer_as_index %arg2
// CHECK: %[[VALIGNED:.*]] = arith.cmpi eq
// CHECK: %[[PIPELINED:.*]] = arith.andi %[[KALIGNED]], %[[VALIGNED]] : i1
// The first step's copies (stage 0), one group.
// CHECK: scf.if %[[PIPELINED]] {
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[KT]][%{{.*}}, %{{.*}}, %{{.*}}], 8 {bypassL1} : memref<2x20x2x64xf16, strided<[7680, 384, 64, 1], offset: 128>> to memref<2x32x72xf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg2[
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for %[[KEY:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK: scf.if %[[PIPELINED]] {
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %arg1[
// CHECK: nvvm.cp.async.commit.group
// CHECK: } else {
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.if %[[KALIGNED]] {
// CHECK: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<2x20x2x64xf16, strided<[7680, 384, 64, 1], offset: 128>>, vector<8xf16>
// CHECK: vector.store %{{.*}}, %[[KT]][{{.*}}] {alignment = 16 : i64} : memref<2x32x72xf16, #gpu.address_space<workgroup>>, vector<8xf16>
// CHECK: } else {
// CHECK: memref.load %arg1[
// CHECK: memref.store %{{.*}}, %[[KT]][
// CHECK: scf.if %[[VALIGNED]] {
// CHECK: vector.load %arg2[
// CHECK: vector.store %{{.*}}, %[[VT]][
// CHECK: } else {
// CHECK: memref.load %arg2[
// CHECK: memref.store %{{.*}}, %[[VT]][
// CHECK: gpu.barrier
// The stage computed on: the step's parity when pipelined, else 0.
// CHECK: %[[STAGE:.*]] = arith.select %[[PIPELINED]], %{{.*}}, %{{.*}} : index
// CHECK: nvgpu.ldmatrix %[[KT]][%[[STAGE]], {{.*}}] {numTiles = 4 : i32, transpose = false} : memref<2x32x72xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// The mask, 16 keys per step past the end (20 keys: not a multiple of 32)
// -inf; the exponents taken from 0 while a row's max is still -inf.
// CHECK: memref.load %arg3[
// CHECK: arith.cmpi ult
// CHECK: arith.select
// CHECK: arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
// CHECK: arith.select
// CHECK: gpu.shuffle  xor %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: gpu.shuffle  xor
// exp(s - max) as exp2((s - max) log2(e)): ex2.approx on the GPU.
// CHECK: %[[LOG2E:.*]] = arith.constant 1.44269502 : f32
// CHECK: %[[ARG:.*]] = arith.mulf %{{.*}}, %[[LOG2E]] : f32
// CHECK: math.exp2 %[[ARG]] : f32
// CHECK: nvgpu.ldmatrix %[[VT]][%[[STAGE]], {{.*}}] {numTiles = 4 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
// After the steps: the row's sum over its group, the stores of rows that
// exist, rounded for half storage (saturating).
// CHECK: arith.divf
// CHECK: scf.if
// CHECK: arith.minnumf
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: memref.store {{.*}} : memref<2x20x2x64xf16>
func.func @bert(%qkv: memref<2x20x2x64xf16, strided<[7680, 384, 64, 1]>>,
                %k: memref<2x20x2x64xf16, strided<[7680, 384, 64, 1], offset: 128>>,
                %v: memref<2x20x2x64xf16, strided<[7680, 384, 64, 1], offset: 256>>,
                %mask: memref<2x1x1x20xf16>, %out: memref<2x20x2x64xf16>) {
  kiln.attention %qkv, %k, %v addend(%mask : memref<2x1x1x20xf16>) into %out
      {scale = 0.125 : f32, transposed_output, q_perm = array<i64: 0, 2, 1, 3>,
       kt_perm = array<i64: 0, 2, 3, 1>, v_perm = array<i64: 0, 2, 1, 3>}
      : memref<2x20x2x64xf16, strided<[7680, 384, 64, 1]>>,
        memref<2x20x2x64xf16, strided<[7680, 384, 64, 1], offset: 128>>,
        memref<2x20x2x64xf16, strided<[7680, 384, 64, 1], offset: 256>>, memref<2x20x2x64xf16>
  return
}

// f32 operands (--gpu-storage=fp32) are rounded to the tensor cores' type
// as they are loaded (value by value: no 16-byte copies); an f32 output is stored as is; 70 query rows take
// two tiles (2 blocks per head); keys a multiple of 32 need no -inf.
// CHECK-LABEL: func.func @fp32_storage
// CHECK: %[[BLOCKS:.*]] = arith.constant 6 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[BLOCKS]],
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK-NOT: extract_aligned_pointer
// CHECK: scf.for
// CHECK-NOT: vector.load
// CHECK-NOT: arith.cmpi ult
// CHECK: scf.yield
// CHECK-NOT: arith.truncf
// CHECK: memref.store {{.*}} : memref<1x3x70x16xf32>
func.func @fp32_storage(%q: memref<1x3x70x32xf32>, %kt: memref<1x3x32x64xf32>,
                        %v: memref<1x3x64x16xf32>, %out: memref<1x3x70x16xf32>) {
  kiln.attention %q, %kt, %v into %out {scale = 1.0 : f32}
      : memref<1x3x70x32xf32>, memref<1x3x32x64xf32>, memref<1x3x64x16xf32>, memref<1x3x70x16xf32>
  return
}

// No rows: nothing to write, no launch.
// CHECK-LABEL: func.func @empty
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @empty(%q: memref<1x1x0x16xf16>, %kt: memref<1x1x16x8xf16>, %v: memref<1x1x8x8xf16>,
                 %out: memref<1x1x0x8xf16>) {
  kiln.attention %q, %kt, %v into %out
      : memref<1x1x0x16xf16>, memref<1x1x16x8xf16>, memref<1x1x8x8xf16>, memref<1x1x0x8xf16>
  return
}

// K's view starts 4 values into a row (offset 132) and V's rows are 36
// values apart: neither can be copied 16 bytes a thread, whatever the
// base; value by value only, with no alignment check.
// CHECK-LABEL: func.func @unaligned_views
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<1x32x24xf16, #gpu.address_space<workgroup>>
// CHECK-NOT: extract_aligned_pointer
// CHECK-NOT: device_async_copy
// CHECK-NOT: vector.load
// CHECK: nvgpu.ldmatrix
// CHECK: return
func.func @unaligned_views(%q: memref<1x2x16x16xf16>,
                           %k: memref<1x16x2x16xf16, strided<[1152, 72, 36, 1], offset: 132>>,
                           %v: memref<1x2x16x16xf16, strided<[1152, 36, 72, 1]>>,
                           %out: memref<1x2x16x16xf16>) {
  kiln.attention %q, %k, %v into %out
      {scale = 0.25 : f32, kt_perm = array<i64: 0, 2, 3, 1>}
      : memref<1x2x16x16xf16>, memref<1x16x2x16xf16, strided<[1152, 72, 36, 1], offset: 132>>,
        memref<1x2x16x16xf16, strided<[1152, 36, 72, 1]>>, memref<1x2x16x16xf16>
  return
}

// Head sizes of 256: two stages of K and V (2 x 33 KB) would pass the
// 48 KB of static shared memory, so one stage, copied 16 bytes a thread
// between two barriers (no cp.async).
// CHECK-LABEL: func.func @wide_heads
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<1x32x264xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<1x32x264xf16, #gpu.address_space<workgroup>>)
// CHECK-NOT: device_async_copy
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: vector.load %arg1
// CHECK: vector.load %arg2
// CHECK: gpu.barrier
// CHECK: return
func.func @wide_heads(%q: memref<1x1x16x256xf16>, %k: memref<1x1x40x256xf16>,
                      %v: memref<1x1x40x256xf16>, %out: memref<1x1x16x256xf16>) {
  kiln.attention %q, %k, %v into %out {scale = 0.0625 : f32, kt_perm = array<i64: 0, 1, 3, 2>}
      : memref<1x1x16x256xf16>, memref<1x1x40x256xf16>, memref<1x1x40x256xf16>,
        memref<1x1x16x256xf16>
  return
}
