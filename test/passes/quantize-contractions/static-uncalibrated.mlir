// RUN: not kiln-opt %s --kiln-quantize-contractions 2>&1 | FileCheck %s
// (The layer's location is its ONNX node name, which has no line for
// -verify-diagnostics to match.)

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A layer the calibration did not see cannot be quantized statically.
// CHECK: error: loc("proj"("MatMul")): kiln.activation_quantization has no calibrated type for this layer
// CHECK: note: loc("proj"("MatMul")): --quantize int8-static calibrates every layer it quantizes; keep this one in fp32 with --quantize-exclude, or use --quantize int8
module attributes {kiln.activation_quantization = {other = !quant.uniform<u8:f32, 3.125000e-02:131>}} {
func.func @uncalibrated(%a: tensor<?x2xf32>) -> tensor<?x3xf32> {
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
