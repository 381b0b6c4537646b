// RUN: kiln-opt %s --kiln-gpu-row-kernels --canonicalize --cse -split-input-file | FileCheck %s

// Half storage (kiln-gpu-half-storage): 16-bit x, addend and init are
// extended as they are loaded and rounded as they are stored (finite
// values saturating); the arithmetic, the shuffles included, stays f32.
// CHECK-LABEL: func.func @softmax_f16
// CHECK: gpu.launch
// CHECK: %[[X:.*]] = memref.load %arg0[{{.*}}] : memref<4x16xf16>
// CHECK-NEXT: %[[XF:.*]] = arith.extf %[[X]] : f16 to f32
// CHECK: %[[M:.*]] = memref.load %arg1[{{.*}}] : memref<4x16xbf16>
// CHECK-NEXT: arith.extf %[[M]] : bf16 to f32
// CHECK: gpu.shuffle xor %{{.*}} : f32
// CHECK: %[[INV:.*]] = arith.divf
// CHECK: %[[P:.*]] = arith.mulf %{{.*}}, %[[INV]] : f32
// CHECK: arith.maxnumf %[[P]]
// CHECK: arith.minnumf
// CHECK: %[[H:.*]] = arith.truncf %{{.*}} : f32 to f16
// CHECK: memref.store %[[H]], %arg2[{{.*}}] : memref<4x16xf16>
func.func @softmax_f16(%x: memref<4x16xf16>, %mask: memref<4x16xbf16>, %y: memref<4x16xf16>) {
  kiln.softmax_rows %x addend(%mask : memref<4x16xbf16>) into %y {scale = 0.125 : f32}
      : memref<4x16xf16>, memref<4x16xf16>
  return
}

// -----

// A layer norm reading f16 and writing f32 (its result returned): the
// scale and bias stay f32.
// CHECK-LABEL: func.func @layer_norm_f16_in
// CHECK: memref.load %arg0[{{.*}}] : memref<3x64xf16>
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK-NOT: arith.truncf
// CHECK: memref.store %{{.*}}, %arg3[{{.*}}] : memref<3x64xf32>
func.func @layer_norm_f16_in(%x: memref<3x64xf16>, %g: memref<64xf32>, %b: memref<64xf32>, %y: memref<3x64xf32>) {
  kiln.layer_norm_rows %x, %g bias(%b : memref<64xf32>) into %y {epsilon = 1.0e-5 : f32}
      : memref<3x64xf16>, memref<64xf32>, memref<3x64xf32>
  return
}
