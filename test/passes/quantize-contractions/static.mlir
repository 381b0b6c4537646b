// RUN: kiln-opt %s --kiln-quantize-contractions | FileCheck %s

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// --quantize int8-static: the module's calibrated type for node "proj"
// becomes the op's a_scale and a_zero_point (A stays f32: the runtime
// quantizes it with them, one scale for the whole tensor).
// CHECK-LABEL: func.func @calibrated
// CHECK-DAG: %[[SA:.*]] = arith.constant dense<3.125000e-02> : tensor<f32>
// CHECK-DAG: %[[ZA:.*]] = arith.constant dense<131> : tensor<ui8>
// CHECK: kiln.qgemm %arg0, %{{.*}}, %{{.*}} a_scale(%[[SA]] : tensor<f32>) a_zero_point(%[[ZA]] : tensor<ui8>) into %{{.*}} {k = 2 : i64, n = 3 : i64} : tensor<?x2xf32>
module attributes {kiln.activation_quantization = {proj = !quant.uniform<u8:f32, 3.125000e-02:131>}} {
func.func @calibrated(%a: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]]> : tensor<2x3xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x2xf32>
  %empty = tensor.empty(%m) : tensor<?x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x3xf32>) -> tensor<?x3xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x2xf32>, tensor<2x3xf32>) outs(%c : tensor<?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32> loc(#proj)
  return %r : tensor<?x3xf32>
}
}
#proj = loc("proj"("MatMul"))

