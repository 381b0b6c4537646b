// RUN: kiln-opt %s --kiln-quantize-contractions -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-quantize-contractions=exclude=proj -split-input-file | FileCheck %s --check-prefix=EXCLUDE
// RUN: kiln-opt %s --kiln-quantize-contractions=exclude=MatMul -split-input-file | FileCheck %s --check-prefix=EXCLUDE

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A MatMul with a constant 2 x 3 weight becomes a kiln.qgemm: the weight
// packed into kiln_qgemm_packed_size(2, 3) = 128 bytes, one scale per
// column (max |w| / 127: 4, 5 and 6 over 127) and a fresh init.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<qgemm_weight_{{[0-9]+}}> : tensor<128xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[0.0314960629, 0.0393700786, 0.0472440943]> : tensor<3xf32>
// CHECK: %[[Y:.*]] = kiln.qgemm %arg0, %[[W]], %[[S]] into %{{.*}} {k = 2 : i64, n = 3 : i64}
// CHECK-NOT: linalg.fill
// CHECK: return %[[Y]]
// The blob (kiln_qgemm_pack.h): a 4-byte group per column of the one
// panel, k padded to 4 (31.75 -> 32, 50.8 -> 51, 63.5 -> 64: half to even,
// -6 -> -127), then int32 column sums (159, 178, -63).
// CHECK: qgemm_weight_{{[0-9]+}}: "0x01000000207F0000337F000040810000{{0+}}9F000000B2000000C1FFFFFF{{0+}}"
// EXCLUDE-LABEL: func.func @matmul
// EXCLUDE-NOT: kiln.qgemm
// EXCLUDE: linalg.generic
func.func @matmul(%a: tensor<?x2xf32>) -> tensor<?x3xf32> {
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
#proj = loc("proj"("MatMul"))

// -----

#bmk = affine_map<(b, m, n, k) -> (b, m, k)>
#bkn = affine_map<(b, m, n, k) -> (k, n)>
#bmn = affine_map<(b, m, n, k) -> (b, m, n)>
#id = affine_map<(b, m, n) -> (b, m, n)>
#last = affine_map<(b, m, n) -> (n)>

// Batch x sequence rows: A collapses to rows x K, the output keeps its
// shape. The marked epilogue (bias, GELU, residual) moves into the op.
// CHECK-LABEL: func.func @linear_with_epilogue
// CHECK: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x2xf32> into tensor<?x2xf32>
// CHECK: %[[R:.*]] = tensor.collapse_shape %arg2 {{\[\[}}0, 1], [2]] : tensor<?x?x3xf32> into tensor<?x3xf32>
// CHECK: %[[Y:.*]] = kiln.qgemm %[[A]], %{{.*}}, %{{.*}} bias(%arg1 : tensor<3xf32>) residual(%[[R]] : tensor<?x3xf32>) into %{{.*}} {activation = 1 : i64, k = 2 : i64, n = 3 : i64} : tensor<?x2xf32>, tensor<128xi8>, tensor<3xf32>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @linear_with_epilogue(%a: tensor<?x?x2xf32>, %bias: tensor<3xf32>, %res: tensor<?x?x3xf32>) -> tensor<?x?x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]]> : tensor<2x3xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %a, %c0 : tensor<?x?x2xf32>
  %m = tensor.dim %a, %c1 : tensor<?x?x2xf32>
  %empty = tensor.empty(%b, %m) : tensor<?x?x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %r = linalg.generic {indexing_maps = [#bmk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<?x?x2xf32>, tensor<2x3xf32>) outs(%c : tensor<?x?x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x3xf32>
  // The payload's value does not matter here: the marks say what it is
  // (kiln-prepare-gemm-epilogues decided it).
  %e = linalg.generic {indexing_maps = [#id, #last, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r, %bias, %res : tensor<?x?x3xf32>, tensor<3xf32>, tensor<?x?x3xf32>) outs(%r : tensor<?x?x3xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = gelu_erf>} {
  ^bb0(%x: f32, %y: f32, %z: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %t = arith.addf %s, %z : f32
    linalg.yield %t : f32
  } -> tensor<?x?x3xf32>
  return %e : tensor<?x?x3xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// Not a Linear layer with a constant weight (attention's products): fp32.
// CHECK-LABEL: func.func @activation_times_activation
// CHECK-NOT: kiln.qgemm
// CHECK: linalg.generic
func.func @activation_times_activation(%a: tensor<4x2xf32>, %w: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x3xf32>) -> tensor<4x3xf32>
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x2xf32>, tensor<2x3xf32>) outs(%c : tensor<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

#km = affine_map<(m, n, k) -> (k, m)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A read column-major is not rows of K: left in fp32 rather than copied.
// CHECK-LABEL: func.func @transposed_activation
// CHECK-NOT: kiln.qgemm
func.func @transposed_activation(%a: tensor<2x4xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]]> : tensor<2x3xf32>
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x3xf32>) -> tensor<4x3xf32>
  %r = linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<2x4xf32>, tensor<2x3xf32>) outs(%c : tensor<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}
