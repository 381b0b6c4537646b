// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// A float ReduceProd multiplies in f64 and rounds once: the order of the
// product is the vectorizer's, and in f32 a product within range could
// overflow (or underflow) on the way in one order and not another.
// CHECK-LABEL: func.func @prod_f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ONE]] : f64) outs(%{{.*}} : tensor<2xf64>)
// CHECK: %[[P:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<2x8xf32>) outs(%[[INIT]] : tensor<2xf64>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[ACC:.*]]: f64):
// CHECK: %[[WIDE:.*]] = arith.extf %[[X]] : f32 to f64
// CHECK: arith.mulf %[[WIDE]], %[[ACC]]{{.*}} : f64
// CHECK: linalg.generic {{.*}} ins(%[[P]] : tensor<2xf64>) outs(%{{.*}} : tensor<2xf32>)
// CHECK: arith.truncf %{{.*}} : f64 to f32
func.func @prod_f32(%x: tensor<2x8xf32>) -> tensor<2xf32> {
  %p = kiln.reduce_prod %x axes = [1] {keepdims = false} : (tensor<2x8xf32>) -> tensor<2xf32>
  return %p : tensor<2xf32>
}

// -----

// Integers and f64 keep their own type.
// CHECK-LABEL: func.func @prod_i64_f64
// CHECK-NOT: arith.extf
// CHECK-NOT: arith.truncf
// CHECK: arith.muli %{{.*}} : i64
// CHECK: arith.mulf %{{.*}} : f64
func.func @prod_i64_f64(%x: tensor<2x8xi64>, %y: tensor<2x8xf64>) -> (tensor<2xi64>, tensor<2xf64>) {
  %p = kiln.reduce_prod %x axes = [1] {keepdims = false} : (tensor<2x8xi64>) -> tensor<2xi64>
  %q = kiln.reduce_prod %y axes = [1] {keepdims = false} : (tensor<2x8xf64>) -> tensor<2xf64>
  return %p, %q : tensor<2xi64>, tensor<2xf64>
}
