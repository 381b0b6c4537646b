// RUN: kiln-opt %s --gpu-kernel-outlining --kiln-gpu-launch-to-runtime | FileCheck %s

// Two kernels call one function (convert-math-to-funcs's integer power):
// outlining copies it into each kernel's module; the merged module keeps
// one copy beside both kernels.
// CHECK: gpu.module @kiln_kernels
// CHECK-DAG: gpu.func @main_kernel(
// CHECK-DAG: gpu.func @main_kernel_0(
// CHECK-DAG: func.func private @power(
// CHECK-NOT: func.func private @power(
// CHECK: }
func.func private @power(%b: i64, %e: i64) -> i64 {
  %p = arith.muli %b, %e : i64
  return %p : i64
}

func.func @main(%a: memref<4xi64>, %ctx: index {kiln.runtime_context}) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %x = memref.load %a[%tx] : memref<4xi64>
    %y = func.call @power(%x, %x) : (i64, i64) -> i64
    memref.store %y, %a[%tx] : memref<4xi64>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %x = memref.load %a[%tx] : memref<4xi64>
    %y = func.call @power(%x, %x) : (i64, i64) -> i64
    %z = func.call @power(%y, %x) : (i64, i64) -> i64
    memref.store %z, %a[%tx] : memref<4xi64>
    gpu.terminator
  }
  return
}
