// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-fuse-layer-norm))' -split-input-file -mlir-print-debuginfo | FileCheck %s

// The TorchScript exporter's layer norm (opset < 17): one kiln.layer_norm
// with the exporter's epsilon, gamma and beta, located at all the nodes it
// replaces; nothing of the chain left.
// CHECK-LABEL: func.func @torchscript
// CHECK: %[[Y:.*]] = kiln.layer_norm %arg0, %arg1, %arg2 {axis = 2 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<?x?x128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<?x?x128xf32> loc(#[[LOC:loc[0-9]+]])
// CHECK-NOT: kiln.reduce_mean
// CHECK-NOT: kiln.sqrt
// CHECK: return %[[Y]]
// CHECK: #[[LOC]] = loc(fused[#{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}])
func.func @torchscript(%x: tensor<?x?x128xf32>, %g: tensor<128xf32>, %b: tensor<128xf32>) -> tensor<?x?x128xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-12> : tensor<f32>
  %m = kiln.reduce_mean %x axes = [2] : (tensor<?x?x128xf32>) -> tensor<?x?x1xf32> loc("mean")
  %d = kiln.sub %x, %m : (tensor<?x?x128xf32>, tensor<?x?x1xf32>) -> tensor<?x?x128xf32> loc("sub")
  %p = kiln.pow %d, %two : (tensor<?x?x128xf32>, tensor<f32>) -> tensor<?x?x128xf32> loc("pow")
  %v = kiln.reduce_mean %p axes = [2] : (tensor<?x?x128xf32>) -> tensor<?x?x1xf32> loc("var")
  %e = kiln.add %v, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32> loc("eps")
  %s = kiln.sqrt %e : tensor<?x?x1xf32> loc("sqrt")
  %n = kiln.div %d, %s : (tensor<?x?x128xf32>, tensor<?x?x1xf32>) -> tensor<?x?x128xf32> loc("div")
  %y1 = kiln.mul %n, %g : (tensor<?x?x128xf32>, tensor<128xf32>) -> tensor<?x?x128xf32> loc("gamma")
  %y = kiln.add %y1, %b : (tensor<?x?x128xf32>, tensor<128xf32>) -> tensor<?x?x128xf32> loc("beta")
  return %y : tensor<?x?x128xf32>
}

// -----

// The variations exporters write: the square as a Mul, the epsilon a [1]
// constant on the left of the Add (1e-5, the default, so not printed),
// gamma and beta on the left, two trailing axes (a [4, 8] gamma, beta
// broadcasting over the first of them).
// CHECK-LABEL: func.func @variations
// CHECK: %[[Y:.*]] = kiln.layer_norm %arg0, %arg1, %arg2 {axis = 1 : i64} : (tensor<2x4x8xf32>, tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @variations(%x: tensor<2x4x8xf32>, %g: tensor<4x8xf32>, %b: tensor<1x8xf32>) -> tensor<2x4x8xf32> {
  %eps = kiln.constant dense<1.0e-5> : tensor<1xf32>
  %m = kiln.reduce_mean %x axes = [1, 2] : (tensor<2x4x8xf32>) -> tensor<2x1x1xf32>
  %d = kiln.sub %x, %m : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %p = kiln.mul %d, %d : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %v = kiln.reduce_mean %p axes = [1, 2] : (tensor<2x4x8xf32>) -> tensor<2x1x1xf32>
  %e = kiln.add %eps, %v : (tensor<1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %s = kiln.sqrt %e : tensor<2x1x1xf32>
  %n = kiln.div %d, %s : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %y1 = kiln.mul %g, %n : (tensor<4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %y = kiln.add %b, %y1 : (tensor<1x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// Without gamma and beta the scale is ones of the normalized shape; with a
// normalized dim known only at run time, one 1. An f16 chain stays f16,
// its epsilon the f16 constant's value.
// CHECK-LABEL: func.func @no_affine
// CHECK-DAG: %[[ONES:.*]] = kiln.constant dense<1.000000e+00> : tensor<16xf16>
// CHECK-DAG: %[[ONE:.*]] = kiln.constant dense<1.000000e+00> : tensor<f32>
// CHECK-DAG: kiln.layer_norm %arg0, %[[ONES]] {axis = 1 : i64, epsilon = 1.00135803E-5 : f32} : (tensor<3x16xf16>, tensor<16xf16>) -> tensor<3x16xf16>
// CHECK-DAG: kiln.layer_norm %arg1, %[[ONE]] {axis = 1 : i64, epsilon = 1.000000e-03 : f32} : (tensor<3x?xf32>, tensor<f32>) -> tensor<3x?xf32>
func.func @no_affine(%x: tensor<3x16xf16>, %z: tensor<3x?xf32>) -> (tensor<3x16xf16>, tensor<3x?xf32>) {
  %two = kiln.constant dense<2.0> : tensor<f16>
  %eps = kiln.constant dense<1.0e-5> : tensor<f16>
  %m = kiln.reduce_mean %x axes = [1] : (tensor<3x16xf16>) -> tensor<3x1xf16>
  %d = kiln.sub %x, %m : (tensor<3x16xf16>, tensor<3x1xf16>) -> tensor<3x16xf16>
  %p = kiln.pow %d, %two : (tensor<3x16xf16>, tensor<f16>) -> tensor<3x16xf16>
  %v = kiln.reduce_mean %p axes = [1] : (tensor<3x16xf16>) -> tensor<3x1xf16>
  %e = kiln.add %v, %eps : (tensor<3x1xf16>, tensor<f16>) -> tensor<3x1xf16>
  %s = kiln.sqrt %e : tensor<3x1xf16>
  %n = kiln.div %d, %s : (tensor<3x16xf16>, tensor<3x1xf16>) -> tensor<3x16xf16>
  %two32 = kiln.constant dense<2.0> : tensor<f32>
  %eps32 = kiln.constant dense<1.0e-3> : tensor<f32>
  %zm = kiln.reduce_mean %z axes = [1] : (tensor<3x?xf32>) -> tensor<3x1xf32>
  %zd = kiln.sub %z, %zm : (tensor<3x?xf32>, tensor<3x1xf32>) -> tensor<3x?xf32>
  %zp = kiln.pow %zd, %two32 : (tensor<3x?xf32>, tensor<f32>) -> tensor<3x?xf32>
  %zv = kiln.reduce_mean %zp axes = [1] : (tensor<3x?xf32>) -> tensor<3x1xf32>
  %ze = kiln.add %zv, %eps32 : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %zs = kiln.sqrt %ze : tensor<3x1xf32>
  %zn = kiln.div %zd, %zs : (tensor<3x?xf32>, tensor<3x1xf32>) -> tensor<3x?xf32>
  return %n, %zn : tensor<3x16xf16>, tensor<3x?xf32>
}

// -----

// What is not a layer norm, or not only one, stays as it is: the mean also
// an output; the deviations also read elsewhere; a cube instead of the
// square; the two means over different axes; a mean over a leading axis;
// an epsilon that is no constant.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: kiln.layer_norm
// CHECK-COUNT-6: kiln.div
func.func @not_fused(%x: tensor<4x8xf32>, %y: tensor<4x8x2xf32>, %eps_in: tensor<f32>)
    -> (tensor<4x8xf32>, tensor<4x1xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
        tensor<4x8x2xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %three = kiln.constant dense<3.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-5> : tensor<f32>
  // The mean is an output too.
  %m1 = kiln.reduce_mean %x axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %d1 = kiln.sub %x, %m1 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %p1 = kiln.pow %d1, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v1 = kiln.reduce_mean %p1 axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %e1 = kiln.add %v1, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s1 = kiln.sqrt %e1 : tensor<4x1xf32>
  %n1 = kiln.div %d1, %s1 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  // The deviations are an output too.
  %m2 = kiln.reduce_mean %x axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %d2 = kiln.sub %x, %m2 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %p2 = kiln.pow %d2, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v2 = kiln.reduce_mean %p2 axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %e2 = kiln.add %v2, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s2 = kiln.sqrt %e2 : tensor<4x1xf32>
  %n2 = kiln.div %d2, %s2 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  // A cube.
  %m3 = kiln.reduce_mean %x axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %d3 = kiln.sub %x, %m3 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %p3 = kiln.pow %d3, %three : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v3 = kiln.reduce_mean %p3 axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %e3 = kiln.add %v3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s3 = kiln.sqrt %e3 : tensor<4x1xf32>
  %n3 = kiln.div %d3, %s3 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  // The variance over both axes, the mean over the last.
  %m4 = kiln.reduce_mean %y axes = [2] : (tensor<4x8x2xf32>) -> tensor<4x8x1xf32>
  %d4 = kiln.sub %y, %m4 : (tensor<4x8x2xf32>, tensor<4x8x1xf32>) -> tensor<4x8x2xf32>
  %p4 = kiln.pow %d4, %two : (tensor<4x8x2xf32>, tensor<f32>) -> tensor<4x8x2xf32>
  %v4 = kiln.reduce_mean %p4 axes = [1, 2] : (tensor<4x8x2xf32>) -> tensor<4x1x1xf32>
  %e4 = kiln.add %v4, %eps : (tensor<4x1x1xf32>, tensor<f32>) -> tensor<4x1x1xf32>
  %s4 = kiln.sqrt %e4 : tensor<4x1x1xf32>
  %n4 = kiln.div %d4, %s4 : (tensor<4x8x2xf32>, tensor<4x1x1xf32>) -> tensor<4x8x2xf32>
  // Over the leading axis (a batch norm's statistics).
  %m5 = kiln.reduce_mean %x axes = [0] : (tensor<4x8xf32>) -> tensor<1x8xf32>
  %d5 = kiln.sub %x, %m5 : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  %p5 = kiln.pow %d5, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v5 = kiln.reduce_mean %p5 axes = [0] : (tensor<4x8xf32>) -> tensor<1x8xf32>
  %e5 = kiln.add %v5, %eps : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %s5 = kiln.sqrt %e5 : tensor<1x8xf32>
  %n5 = kiln.div %d5, %s5 : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  // An epsilon from an input.
  %m6 = kiln.reduce_mean %x axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %d6 = kiln.sub %x, %m6 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %p6 = kiln.pow %d6, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v6 = kiln.reduce_mean %p6 axes = [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %e6 = kiln.add %v6, %eps_in : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s6 = kiln.sqrt %e6 : tensor<4x1xf32>
  %n6 = kiln.div %d6, %s6 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n1, %m1, %n2, %d2, %n3, %n4, %n5, %n6
      : tensor<4x8xf32>, tensor<4x1xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
        tensor<4x8x2xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A scale or bias folds in only where the Mul or Add did no more than the
// layer norm's own broadcast: not one that widens the result (a [4, 1, 8]
// gamma over [2, 8]), not one of a run-time size, not a scale after the
// bias (layer_norm(x, 1, b) * g is not layer_norm(x, g, b)), not into a
// layer norm something else reads too.
// CHECK-LABEL: func.func @not_folded
// CHECK-COUNT-4: kiln.layer_norm %{{.*}}, %{{.*}} {axis = 1 : i64
// CHECK-NOT: kiln.layer_norm
func.func @not_folded(%x: tensor<2x8xf32>, %wide: tensor<4x1x8xf32>, %dyn: tensor<?xf32>,
                      %g: tensor<8xf32>, %b: tensor<8xf32>)
    -> (tensor<4x2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %ones = kiln.constant dense<1.0> : tensor<8xf32>
  %l1 = kiln.layer_norm %x, %ones {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %r1 = kiln.mul %l1, %wide : (tensor<2x8xf32>, tensor<4x1x8xf32>) -> tensor<4x2x8xf32>
  %l2 = kiln.layer_norm %x, %ones {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %r2 = kiln.mul %l2, %dyn : (tensor<2x8xf32>, tensor<?xf32>) -> tensor<2x8xf32>
  %l3 = kiln.layer_norm %x, %ones, %b {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %r3 = kiln.mul %l3, %g : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %l4 = kiln.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %r4 = kiln.add %l4, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %r1, %r2, %r3, %r4, %l4 : tensor<4x2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// A layer norm's scale that is no longer ones is not replaced by a second
// one: layer_norm(x, g) * h stays a Mul.
// CHECK-LABEL: func.func @scaled_twice
// CHECK: %[[L:.*]] = kiln.layer_norm %arg0, %arg1, %arg3 {axis = 1 : i64
// CHECK: kiln.mul %[[L]], %arg2
func.func @scaled_twice(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %h: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %l = kiln.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %a = kiln.add %l, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %r = kiln.mul %a, %h : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}
