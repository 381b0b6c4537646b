// RUN: kiln-opt %s --kiln-prepare-gemm-epilogues -split-input-file | FileCheck %s

#id = affine_map<(b, m, n) -> (b, m, n)>
#bias = affine_map<(b, m, n) -> (n)>

// A pre-quantized model's int8 GEMM (kiln-fold-integer-matmuls made it,
// with the layer's bias) followed by GELU in its erf form: the GELU moves
// into the op as activation 1 and the loop is gone.
// CHECK-LABEL: func.func @gelu_after_bias
// CHECK: %[[Y:.*]] = kiln.qgemm %arg0, %arg1, %arg2 a_scale(%arg3 : tensor<f32>) a_zero_point(%arg4 : tensor<ui8>) bias(%arg5 : tensor<8xf32>) into %arg6 {activation = 1 : i64, k = 4 : i64, n = 8 : i64}
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @gelu_after_bias(%a: tensor<?x4xui8>, %w: tensor<128xi8>, %s: tensor<8xf32>, %sa: tensor<f32>,
                           %za: tensor<ui8>, %bias: tensor<8xf32>, %init: tensor<?x?x8xf32>,
                           %empty: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %q = kiln.qgemm %a, %w, %s a_scale(%sa : tensor<f32>) a_zero_point(%za : tensor<ui8>)
         bias(%bias : tensor<8xf32>) into %init {k = 4 : i64, n = 8 : i64}
         : tensor<?x4xui8>, tensor<128xi8>, tensor<8xf32>, tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  %sqrt2 = arith.constant 1.41421354 : f32
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q : tensor<?x?x8xf32>) outs(%empty : tensor<?x?x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %d = arith.divf %x, %sqrt2 : f32
    %e = math.erf %d : f32
    %e1 = arith.addf %e, %one : f32
    %m = arith.mulf %x, %e1 : f32
    %g = arith.mulf %m, %half : f32
    linalg.yield %g : f32
  } -> tensor<?x?x8xf32>
  return %r : tensor<?x?x8xf32>
}

// -----

#id = affine_map<(b, m, n) -> (b, m, n)>
#bias = affine_map<(b, m, n) -> (n)>

// The bias and the residual add of the loop after it, when the op has no
// bias of its own: the residual's rows collapse as A's do.
// CHECK-LABEL: func.func @bias_and_residual
// CHECK: %[[R:.*]] = tensor.collapse_shape %arg3 {{\[\[}}0, 1], [2]] : tensor<?x?x8xf32> into tensor<?x8xf32>
// CHECK: %[[Y:.*]] = kiln.qgemm %arg0, %arg1, %arg2 bias(%arg4 : tensor<8xf32>) residual(%[[R]] : tensor<?x8xf32>) into %arg5 {k = 4 : i64, n = 8 : i64}
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @bias_and_residual(%a: tensor<?x4xui8>, %w: tensor<128xi8>, %s: tensor<8xf32>, %res: tensor<?x?x8xf32>,
                             %bias: tensor<8xf32>, %init: tensor<?x?x8xf32>, %empty: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %q = kiln.qgemm %a, %w, %s into %init {k = 4 : i64, n = 8 : i64}
         : tensor<?x4xui8>, tensor<128xi8>, tensor<8xf32>, tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q, %bias, %res : tensor<?x?x8xf32>, tensor<8xf32>, tensor<?x?x8xf32>) outs(%empty : tensor<?x?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %y: f32, %o: f32):
    %t = arith.addf %x, %b : f32
    %u = arith.addf %t, %y : f32
    linalg.yield %u : f32
  } -> tensor<?x?x8xf32>
  return %r : tensor<?x?x8xf32>
}

// -----

#id = affine_map<(b, m, n) -> (b, m, n)>
#bias = affine_map<(b, m, n) -> (n)>

// A second bias on top of the op's own would round twice: the loop stays.
// So does a consumer when the op's result has another reader.
// CHECK-LABEL: func.func @two_biases
// CHECK: kiln.qgemm {{.*}} bias(%arg3 : tensor<8xf32>) into %arg4 {k = 4 : i64, n = 8 : i64}
// CHECK: linalg.generic
// CHECK-LABEL: func.func @two_readers
// CHECK: kiln.qgemm {{.*}} into %arg3 {k = 4 : i64, n = 8 : i64}
// CHECK: linalg.generic
func.func @two_biases(%a: tensor<?x4xui8>, %w: tensor<128xi8>, %s: tensor<8xf32>, %bias: tensor<8xf32>,
                      %init: tensor<?x?x8xf32>, %empty: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %q = kiln.qgemm %a, %w, %s bias(%bias : tensor<8xf32>) into %init {k = 4 : i64, n = 8 : i64}
         : tensor<?x4xui8>, tensor<128xi8>, tensor<8xf32>, tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q, %bias : tensor<?x?x8xf32>, tensor<8xf32>) outs(%empty : tensor<?x?x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %t = arith.addf %x, %b : f32
    linalg.yield %t : f32
  } -> tensor<?x?x8xf32>
  return %r : tensor<?x?x8xf32>
}
func.func @two_readers(%a: tensor<?x4xui8>, %w: tensor<128xi8>, %s: tensor<8xf32>,
                       %init: tensor<?x?x8xf32>, %empty: tensor<?x?x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  %q = kiln.qgemm %a, %w, %s into %init {k = 4 : i64, n = 8 : i64}
         : tensor<?x4xui8>, tensor<128xi8>, tensor<8xf32>, tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q : tensor<?x?x8xf32>) outs(%empty : tensor<?x?x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %t = arith.maximumf %x, %zero : f32
    linalg.yield %t : f32
  } -> tensor<?x?x8xf32>
  return %r, %q : tensor<?x?x8xf32>, tensor<?x?x8xf32>
}
