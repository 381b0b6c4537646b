// RUN: kiln-opt %s --kiln-fuse-sibling-matmuls -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-fuse-sibling-matmuls -split-input-file -mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// Q, K and V read the same x with constant 2 x N weights and bias adds: one
// MatMul with the weights side by side (row p: q's, then k's, then v's
// columns), one add of the biases end to end, and a slice per layer.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[W:.*]] = kiln.constant dense_resource<fused_weight_{{[0-9]+}}> : tensor<2x6xf32>
// CHECK: %[[Y:.*]] = kiln.matmul %arg0, %[[W]] : (tensor<?x2xf32>, tensor<2x6xf32>) -> tensor<?x6xf32>
// CHECK: %[[B:.*]] = kiln.constant dense_resource<fused_weight_{{[0-9]+}}_bias> : tensor<6xf32>
// CHECK: %[[YB:.*]] = kiln.add %[[Y]], %[[B]] : (tensor<?x6xf32>, tensor<6xf32>) -> tensor<?x6xf32>
// CHECK-DAG: %[[Q:.*]] = kiln.slice %[[YB]], {{.*}} -> tensor<?x1xf32>
// CHECK-DAG: %[[K:.*]] = kiln.slice %[[YB]], {{.*}} -> tensor<?x2xf32>
// CHECK-DAG: %[[V:.*]] = kiln.slice %[[YB]], {{.*}} -> tensor<?x3xf32>
// CHECK-NOT: kiln.matmul
// CHECK: return %[[Q]], %[[K]], %[[V]]
// The weight blob: rows [1 | 3 4 | 7 8 9] and [2 | 5 6 | 10 11 12], as f32
// (little endian) after the blob's 4-byte alignment word.
// CHECK: fused_weight_{{[0-9]+}}: "0x040000000000803F00004040000080400000E0400000004100001041000000400000A0400000C040000020410000304100004041"
// CHECK: fused_weight_{{[0-9]+}}_bias: "0x040000000000C8420000484300004943000096430080964300009743"
// The fused MatMul's location names all three layers, the first first.
// LOC: kiln.matmul {{.*}} -> tensor<?x6xf32> loc(#[[FUSED:loc[0-9]+]])
// LOC: #[[FUSED]] = loc(fused[#{{loc[0-9]+}}, #{{loc[0-9]+}}, #{{loc[0-9]+}}])
func.func @qkv(%x: tensor<?x2xf32>) -> (tensor<?x1xf32>, tensor<?x2xf32>, tensor<?x3xf32>) {
  %wq = kiln.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %wk = kiln.constant dense<[[3.0, 4.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %wv = kiln.constant dense<[[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]> : tensor<2x3xf32>
  %bq = kiln.constant dense<[100.0]> : tensor<1xf32>
  %bk = kiln.constant dense<[200.0, 201.0]> : tensor<2xf32>
  %bv = kiln.constant dense<[300.0, 301.0, 302.0]> : tensor<3xf32>
  %q0 = kiln.matmul %x, %wq : (tensor<?x2xf32>, tensor<2x1xf32>) -> tensor<?x1xf32> loc(#q)
  %q = kiln.add %q0, %bq : (tensor<?x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
  %k0 = kiln.matmul %x, %wk : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc(#k)
  %k = kiln.add %bk, %k0 : (tensor<2xf32>, tensor<?x2xf32>) -> tensor<?x2xf32>
  %v0 = kiln.matmul %x, %wv : (tensor<?x2xf32>, tensor<2x3xf32>) -> tensor<?x3xf32> loc(#v)
  %v = kiln.add %v0, %bv : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %q, %k, %v : tensor<?x1xf32>, tensor<?x2xf32>, tensor<?x3xf32>
}
#q = loc("q_proj"("MatMul"))
#k = loc("k_proj"("MatMul"))
#v = loc("v_proj"("MatMul"))

// -----

// Left alone: a layer of another depth, a bias on one layer but not the
// other, a weight that is not a constant.
// CHECK-LABEL: func.func @not_siblings
// CHECK-COUNT-4: kiln.matmul
// CHECK-NOT: kiln.slice
func.func @not_siblings(%x: tensor<4x2xf32>, %y: tensor<4x3xf32>, %w: tensor<2x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %w1 = kiln.constant dense<1.0> : tensor<2x2xf32>
  %w2 = kiln.constant dense<2.0> : tensor<3x2xf32>
  %b = kiln.constant dense<3.0> : tensor<2xf32>
  %a = kiln.matmul %x, %w1 : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %a1 = kiln.add %a, %b : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %c = kiln.matmul %x, %w : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %d = kiln.matmul %y, %w2 : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  %e = kiln.matmul %x, %w1 : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %a1, %c, %d, %e : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}
