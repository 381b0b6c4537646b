// RUN: kiln-opt %s --kiln-profile-regions --canonicalize | FileCheck %s

// Runs of ops from one node are bracketed once; ops of no node (the dim, a
// weight named after its initializer) neither open nor close a region, and a
// node seen again later reuses its region index. The regions are listed in
// index order on the module.
// CHECK: module attributes {kiln.profile_regions = {{\[}}["/layer/MatMul", "MatMul"], ["/layer/Add", "Add"]]}
// CHECK: func.func private @kiln_rt_profile(index, index, index)
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[W:.*]]: memref<8x8xf32>, %{{.*}}: memref<4x8xf32>, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: memref.get_global
// CHECK: call @kiln_rt_profile(%[[CTX]], %c0, %c0) :
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: linalg.matmul
// CHECK-NEXT: call @kiln_rt_profile(%[[CTX]], %c0, %c1)
// CHECK-NEXT: call @kiln_rt_profile(%[[CTX]], %c1, %c0)
// CHECK-NEXT: linalg.add
// CHECK-NEXT: call @kiln_rt_profile(%[[CTX]], %c1, %c1)
// CHECK-NEXT: call @kiln_rt_profile(%[[CTX]], %c0, %c0)
// CHECK-NEXT: linalg.copy
// CHECK-NEXT: call @kiln_rt_profile(%[[CTX]], %c0, %c1)
// CHECK-NEXT: return
memref.global "private" constant @bias : memref<4x8xf32> = dense<1.0>
func.func @main(%x: memref<4x8xf32>, %w: memref<8x8xf32>, %out: memref<4x8xf32>,
                %ctx: index {kiln.runtime_context}) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %bias = memref.get_global @bias : memref<4x8xf32> loc("bias_initializer")
  %t = memref.alloc() : memref<4x8xf32>
  linalg.fill ins(%cst : f32) outs(%t : memref<4x8xf32>) loc("/layer/MatMul"("MatMul"))
  %d = memref.dim %x, %c0 : memref<4x8xf32>
  linalg.matmul ins(%x, %w : memref<4x8xf32>, memref<8x8xf32>) outs(%t : memref<4x8xf32>) loc("/layer/MatMul"("MatMul"))
  linalg.add ins(%t, %bias : memref<4x8xf32>, memref<4x8xf32>) outs(%out : memref<4x8xf32>) loc("/layer/Add"("Add"))
  linalg.copy ins(%t : memref<4x8xf32>) outs(%out : memref<4x8xf32>) loc("/layer/MatMul"("MatMul"))
  return
}
