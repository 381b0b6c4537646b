// RUN: kiln-opt %s --kiln-pack-sparse-qgemm-weights -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-pack-sparse-qgemm-weights=mode=always -split-input-file | FileCheck %s --check-prefix=ALWAYS
// RUN: kiln-opt %s --kiln-pack-sparse-qgemm-weights=mode=off -split-input-file | FileCheck %s --check-prefix=OFF

// An 8 x 8 int8 weight (kiln_qgemm_pack.h: 192 bytes) with one nonzero 1x4
// block (row 2, columns 4-7: 1 2 3 4): one group of width 4 (16
// multiply-adds, padding included) against 64 dense ones, so the cost
// model makes it sparse. Its blob (kiln_sparse_qgemm_pack.h) is 64 bytes
// of header, the 3 block-column starts (0, 0, 1) in 64, the group's rows
// (2, then its padding: 2 2 2) in 64, its 4 x 4 weights in 64 and the 16
// column sums: 320 bytes. The scales, the static quantization of A and the
// epilogue stay the op's.
// CHECK-LABEL: func.func @sparse
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<sparse_qgemm_weight_{{[0-9]+}}> : tensor<320xi8>
// CHECK: %[[Y:.*]] = kiln.sparse_qgemm %arg0, %[[W]], %arg1 a_scale(%arg2 : tensor<f32>) a_zero_point(%arg3 : tensor<ui8>) bias(%arg4 : tensor<8xf32>) into %arg5 {activation = #kiln.gemm_activation<relu>, block_width = 4 : i64, k = 8 : i64, n = 8 : i64, stored_groups = 1 : i64} : tensor<?x8xf32>, tensor<320xi8>, tensor<8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
// CHECK-NOT: kiln.qgemm
// CHECK: return %[[Y]]
// OFF-LABEL: func.func @sparse
// OFF-NOT: kiln.sparse_qgemm
// OFF: kiln.qgemm
func.func @sparse(%a: tensor<?x8xf32>, %s: tensor<8xf32>, %sa: tensor<f32>, %za: tensor<ui8>,
                  %bias: tensor<8xf32>, %init: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = arith.constant dense<"0x000000000000000000000000000000000000010000000200000003000000040000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010000000200000003000000040000000000000000000000000000000000000000000000000000000000000000000000"> : tensor<192xi8>
  %y = kiln.qgemm %a, %w, %s a_scale(%sa : tensor<f32>) a_zero_point(%za : tensor<ui8>)
         bias(%bias : tensor<8xf32>) into %init {k = 8 : i64, n = 8 : i64, activation = 3 : i64}
         : tensor<?x8xf32>, tensor<192xi8>, tensor<8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
// The blob, after the resource's alignment word (64): the header (k = 8,
// n = 8, W = 4, S = 1, G = 1), the starts 0, 0, 1, the rows 2 2 2 2, the
// weights of columns 4..7 in slot 0 (1, 2, 3, 4), the column sums
// 0 0 0 0 1 2 3 4.
// CHECK: sparse_qgemm_weight_{{[0-9]+}}: "0x40000000080000000000000008000000000000000400000000000000010000000000000001000000{{0+}}0100000000{{0+}}0200020002000200{{0+}}01000000020000000300000004000000{{0+}}01000000020000000300000004000000{{0+}}"

// -----

// A dense 4 x 4 weight (all ones): its one group per block column costs
// more than the dense GEMM, so only mode=always makes it sparse (width 4:
// fewer groups than width 1's 4).
// CHECK-LABEL: func.func @dense
// CHECK-NOT: kiln.sparse_qgemm
// CHECK: kiln.qgemm
// ALWAYS-LABEL: func.func @dense
// ALWAYS: kiln.sparse_qgemm %arg0, %{{.*}}, %arg1 into %arg2 {block_width = 4 : i64, k = 4 : i64, n = 4 : i64, stored_groups = 1 : i64} : tensor<?x4xui8>, tensor<320xi8>
// ALWAYS-NOT: kiln.qgemm
func.func @dense(%a: tensor<?x4xui8>, %s: tensor<4xf32>, %init: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = arith.constant dense<"0x0101010101010101010101010101010100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004000000040000000400000004000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"> : tensor<128xi8>
  %y = kiln.qgemm %a, %w, %s into %init {k = 4 : i64, n = 4 : i64}
         : tensor<?x4xui8>, tensor<128xi8>, tensor<4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A weight that is not a constant stays dense.
// ALWAYS-LABEL: func.func @not_constant
// ALWAYS-NOT: kiln.sparse_qgemm
// ALWAYS: kiln.qgemm
func.func @not_constant(%a: tensor<?x4xf32>, %w: tensor<128xi8>, %s: tensor<4xf32>,
                        %init: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %y = kiln.qgemm %a, %w, %s into %init {k = 4 : i64, n = 4 : i64}
         : tensor<?x4xf32>, tensor<128xi8>, tensor<4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
