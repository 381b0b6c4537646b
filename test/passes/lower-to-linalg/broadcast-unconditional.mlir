// RUN: kiln-opt %s --kiln-lower-to-linalg=unconditional-broadcast-copies=true --cse -split-input-file | FileCheck %s

// The GPU path's form of run-time broadcasting: the second input is copied
// out to the output's size in every run, no scf.if (the copy reads index 0
// only along a dim that is 1 where the size is not, so it is the input
// itself otherwise); the run-time checks are the same.
// CHECK-LABEL: func.func @unknown_dims
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xf32>, %[[Y:.*]]: tensor<?x?xf32>
// CHECK-DAG: %[[X0:.*]] = tensor.dim %[[X]], %c0
// CHECK-DAG: %[[X1:.*]] = tensor.dim %[[X]], %c1
// CHECK-NOT: scf.if {{.*}} -> (tensor
// CHECK: %[[FULL:.*]] = tensor.empty(%[[X0]], %[[X1]])
// CHECK: %[[KEEP0:.*]] = arith.cmpi eq, %{{.*}}, %[[X0]]
// CHECK: %[[YB:.*]] = linalg.generic {{.*}} outs(%[[FULL]] : tensor<?x?xf32>)
// CHECK:   %[[I0:.*]] = linalg.index 0
// CHECK:   arith.select %[[KEEP0]], %[[I0]], %c0
// CHECK:   tensor.extract %[[Y]]
// CHECK: kiln.runtime_check {{.*}} "a add: a dim of an input is 1 at run time
// CHECK: kiln.runtime_check {{.*}} "a add: the inputs' shapes cannot be broadcast together
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[YB]] : tensor<?x?xf32>, tensor<?x?xf32>) outs(%[[FULL]]
func.func @unknown_dims(%x: tensor<?x?xf32>, %y: tensor<?x?xf32>, %ctx: index {kiln.runtime_context}) -> tensor<?x?xf32> {
  %0 = kiln.add %x, %y : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Gemm's C and Expand take the same form.
// CHECK-LABEL: func.func @gemm_bias
// CHECK-NOT: scf.if {{.*}} -> (tensor
// CHECK: tensor.extract %arg2
func.func @gemm_bias(%a: tensor<?x4xf32>, %b: tensor<4x3xf32>, %c: tensor<?x3xf32>,
                     %ctx: index {kiln.runtime_context}) -> tensor<?x3xf32> {
  %0 = kiln.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32}
      : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// Dims proven equal still emit nothing.
// CHECK-LABEL: func.func @named_dims
// CHECK-NOT: tensor.extract
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %arg1 : tensor<?x?xf32>, tensor<?x?xf32>)
// CHECK-NOT: linalg.generic
func.func @named_dims(%x: tensor<?x?xf32> {kiln.dim_names = ["batch", "sequence"]},
                      %y: tensor<?x?xf32> {kiln.dim_names = ["batch", "sequence"]},
                      %ctx: index {kiln.runtime_context}) -> tensor<?x?xf32> {
  %0 = kiln.add %x, %y : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
