// RUN: kiln-opt %s --gpu-launch-sink-index-computations --gpu-kernel-outlining --kiln-gpu-launch-to-runtime | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline='builtin.module(gpu-launch-sink-index-computations,gpu-kernel-outlining,kiln-gpu-launch-to-runtime,nvvm-attach-target{chip=sm_90 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},canonicalize,cse,reconcile-unrealized-casts),gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// Each launch becomes a runtime call naming its kernel, with one 64-bit
// word per kernel parameter: memrefs as their aligned pointer, an f32 as
// its bits. The kernels land in one module (one binary for the model),
// each named after its outlined module.
// CHECK: func.func private @kiln_rt_gpu_launch(index, index, index, index, index, index, index, index, index, index, index)
// CHECK-DAG: memref.global "private" constant @__kiln_kernel_name_main_kernel_0 : memref<14xi8> = dense<[109, 97, 105, 110, 95, 107, 101, 114, 110, 101, 108, 95, 48, 0]>
// CHECK-DAG: memref.global "private" constant @__kiln_kernel_name_main_kernel : memref<12xi8>
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[A:.*]]: memref<4x300xf32>, %[[B:.*]]: memref<4x300xf32>, %[[S:.*]]: f32, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: %[[PARAMS:.*]] = memref.alloca() : memref<3xi64>
// CHECK: %[[AP:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: %[[AW:.*]] = arith.index_castui %[[AP]] : index to i64
// CHECK: memref.store %[[AW]], %[[PARAMS]]
// CHECK: %[[SBITS:.*]] = arith.bitcast %[[S]] : f32 to i32
// CHECK: %[[SW:.*]] = arith.extui %[[SBITS]] : i32 to i64
// CHECK: memref.store %[[SW]], %[[PARAMS]]
// CHECK: memref.store %{{.*}}, %[[PARAMS]]
// CHECK: %[[NAME:.*]] = memref.get_global @__kiln_kernel_name_main_kernel : memref<12xi8>
// CHECK: %[[NP:.*]] = memref.extract_aligned_pointer_as_index %[[NAME]]
// CHECK: %[[PP:.*]] = memref.extract_aligned_pointer_as_index %[[PARAMS]]
// CHECK: call @kiln_rt_gpu_launch(%[[CTX]], %[[NP]], %c5, %c1, %c1, %c256, %c1, %c1, %{{.*}}, %[[PP]], %c3)
// CHECK: call @kiln_rt_gpu_launch
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.module @kiln_kernels
// CHECK: gpu.func @main_kernel(%{{.*}}: memref<4x300xf32>, %{{.*}}: f32, %{{.*}}: memref<4x300xf32>) kernel
// CHECK: gpu.func @main_kernel_0(%{{.*}}: memref<4x300xf32>, %{{.*}}: memref<4x300xf32>) kernel
// CHECK-NOT: gpu.module

// In the kernels, bare pointers and the scalar as kernel parameters, in the
// order the runtime passes them.
// PTX: gpu.binary @kiln_kernels
// PTX-SAME: .target sm_90
// PTX-SAME: .visible .entry main_kernel(
// PTX-SAME: .param .u64 .ptr .align 1 main_kernel_param_0,
// PTX-SAME: .param .f32 main_kernel_param_1,
// PTX-SAME: .param .u64 .ptr .align 1 main_kernel_param_2
// PTX-SAME: mul.rn.f32
// PTX-SAME: .visible .entry main_kernel_0(
func.func @main(%a: memref<4x300xf32>, %b: memref<4x300xf32>, %s: f32, %ctx: index {kiln.runtime_context}) {
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %c256 = arith.constant 256 : index
  %c0 = arith.constant 0 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c5, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %x = memref.load %a[%c0, %tx] : memref<4x300xf32>
    %y = arith.mulf %x, %s : f32
    memref.store %y, %b[%c0, %tx] : memref<4x300xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %x = memref.load %b[%c0, %tx] : memref<4x300xf32>
    memref.store %x, %a[%c0, %tx] : memref<4x300xf32>
    gpu.terminator
  }
  return
}
