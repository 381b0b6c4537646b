// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-softmax-to-ukernel{mask-broadcast-in-kernel=true}))' | FileCheck %s

// The GPU path's form: a mask dim only known at run time stays as it is,
// no copy and no scf.if; the kernel that reads it (kiln-gpu-row-kernels,
// kiln-gpu-attention-kernels) broadcasts a 1 and checks the rest.
// CHECK-LABEL: func.func @dynamic_mask
// CHECK-NOT: linalg.generic
// CHECK-NOT: scf.if
// CHECK: kiln.softmax_rows %arg0 addend(%arg1 : tensor<?x7xf32>)
func.func @dynamic_mask(%s: tensor<5x7xf32>, %m: tensor<?x7xf32>) -> tensor<5x7xf32> {
  %t = kiln.add %s, %m : (tensor<5x7xf32>, tensor<?x7xf32>) -> tensor<5x7xf32>
  %p = kiln.softmax %t {axis = 1 : i64} : (tensor<5x7xf32>) -> tensor<5x7xf32>
  return %p : tensor<5x7xf32>
}
