// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-softmax-to-ukernel{unconditional-broadcast-copies=true}))' | FileCheck %s

// The GPU path's form: a mask dim only known at run time is copied out in
// every run (the identity unless it is a broadcasting 1), no scf.if.
// CHECK-LABEL: func.func @dynamic_mask
// CHECK-NOT: scf.if {{.*}} -> (tensor
// CHECK: %[[B:.*]] = linalg.generic
// CHECK: tensor.extract %arg1
// CHECK: kiln.softmax_rows %arg0 addend(%[[B]] : tensor<?x7xf32>)
func.func @dynamic_mask(%s: tensor<5x7xf32>, %m: tensor<?x7xf32>) -> tensor<5x7xf32> {
  %t = kiln.add %s, %m : (tensor<5x7xf32>, tensor<?x7xf32>) -> tensor<5x7xf32>
  %p = kiln.softmax %t {axis = 1 : i64} : (tensor<5x7xf32>) -> tensor<5x7xf32>
  return %p : tensor<5x7xf32>
}
