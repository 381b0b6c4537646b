// RUN: kiln-opt %s --kiln-attention-to-ukernel -canonicalize -split-input-file | FileCheck %s

// BERT's attention after kiln-softmax-to-ukernel: Q and V transposed views
// of the projections, K^T another, the scores' softmax with its scale and
// mask, the output transposed back. One kiln.attention reads the three
// projections through their perms and writes the interleaved layout; the
// transposes, products and softmax are gone.
// CHECK-LABEL: func.func @bert
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<1x128x12x64xf32>, %[[K:[^:]*]]: tensor<1x128x12x64xf32>, %[[V:[^:]*]]: tensor<1x128x12x64xf32>, %[[M:[^:]*]]: tensor<1x1x1x128xf32>)
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x128x12x64xf32>
// CHECK: %[[O:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] addend(%[[M]] : tensor<1x1x1x128xf32>) into %[[INIT]]
// CHECK-SAME: kt_perm = array<i64: 0, 2, 3, 1>
// CHECK-SAME: q_perm = array<i64: 0, 2, 1, 3>
// CHECK-SAME: scale = 1.250000e-01 : f32
// CHECK-SAME: transposed_output
// CHECK-SAME: v_perm = array<i64: 0, 2, 1, 3>
// CHECK-SAME: -> tensor<1x128x12x64xf32>
// CHECK-NOT: kiln.transpose
// CHECK-NOT: kiln.matmul
// CHECK-NOT: kiln.softmax_rows
// CHECK: return %[[O]]
func.func @bert(%q: tensor<1x128x12x64xf32>, %k: tensor<1x128x12x64xf32>, %v: tensor<1x128x12x64xf32>,
                %mask: tensor<1x1x1x128xf32>) -> tensor<1x128x12x64xf32> {
  %qt = kiln.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x128x12x64xf32>) -> tensor<1x12x128x64xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x128x12x64xf32>) -> tensor<1x12x64x128xf32>
  %vt = kiln.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x128x12x64xf32>) -> tensor<1x12x128x64xf32>
  %s = kiln.matmul %qt, %kt : (tensor<1x12x128x64xf32>, tensor<1x12x64x128xf32>) -> tensor<1x12x128x128xf32>
  %e = tensor.empty() : tensor<1x12x128x128xf32>
  %p = kiln.softmax_rows %s addend(%mask : tensor<1x1x1x128xf32>) into %e {scale = 0.125 : f32}
      : tensor<1x12x128x128xf32>, tensor<1x12x128x128xf32> -> tensor<1x12x128x128xf32>
  %o = kiln.matmul %p, %vt : (tensor<1x12x128x128xf32>, tensor<1x12x128x64xf32>) -> tensor<1x12x128x64xf32>
  %t = kiln.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x12x128x64xf32>) -> tensor<1x128x12x64xf32>
  return %t : tensor<1x128x12x64xf32>
}

// -----

// Symbolic batch and sequence, no mask, operands that are not transposes,
// the output used as it is: the result's batch dims are the broadcast of
// q's, kt's and v's (a 1 takes the other), its rows q's, its columns v's.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[QB:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[KB:.*]] = tensor.dim %arg1, %c0
// CHECK: %[[QONE:.*]] = arith.cmpi eq, %[[QB]], %c1
// CHECK: %[[QK:.*]] = arith.select %[[QONE]], %[[KB]], %[[QB]]
// CHECK: %[[VB:.*]] = tensor.dim %arg2, %c0
// CHECK: %[[QKONE:.*]] = arith.cmpi eq, %[[QK]], %c1
// CHECK: %[[B:.*]] = arith.select %[[QKONE]], %[[VB]], %[[QK]]
// CHECK: %[[ROWS:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[INIT:.*]] = tensor.empty(%[[B]], %[[ROWS]]) : tensor<?x4x?x8xf32>
// CHECK: kiln.attention %arg0, %arg1, %arg2 into %[[INIT]] :
// CHECK-SAME: -> tensor<?x4x?x8xf32>
// CHECK-NOT: kiln.softmax_rows
// CHECK-NOT: kiln.matmul
func.func @dynamic(%q: tensor<?x4x?x16xf32>, %kt: tensor<?x4x16x?xf32>, %v: tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %s = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d0 = tensor.dim %s, %c0 : tensor<?x4x?x?xf32>
  %d2 = tensor.dim %s, %c2 : tensor<?x4x?x?xf32>
  %d3 = tensor.dim %s, %c3 : tensor<?x4x?x?xf32>
  %e = tensor.empty(%d0, %d2, %d3) : tensor<?x4x?x?xf32>
  %p = kiln.softmax_rows %s into %e : tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}

// -----

// Left alone: scores read by something else as well (they must not be
// lost), probabilities returned besides their product (they must exist),
// products of rank 3, and a transpose of the output that is not the heads'
// (it stays, after the fused op).
// CHECK-LABEL: func.func @scores_used_twice
// CHECK-NOT: kiln.attention
// CHECK: return
func.func @scores_used_twice(%q: tensor<1x2x8x4xf32>, %kt: tensor<1x2x4x8xf32>, %v: tensor<1x2x8x4xf32>)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>) {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %p = kiln.softmax_rows %s into %e : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o, %s : tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>
}

// CHECK-LABEL: func.func @probabilities_returned
// CHECK-NOT: kiln.attention
// CHECK: return
func.func @probabilities_returned(%q: tensor<1x2x8x4xf32>, %kt: tensor<1x2x4x8xf32>, %v: tensor<1x2x8x4xf32>)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>) {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %p = kiln.softmax_rows %s into %e : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o, %p : tensor<1x2x8x4xf32>, tensor<1x2x8x8xf32>
}

// CHECK-LABEL: func.func @rank3
// CHECK-NOT: kiln.attention
// CHECK: return
func.func @rank3(%q: tensor<2x8x4xf32>, %kt: tensor<2x4x8xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %s = kiln.matmul %q, %kt : (tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<2x8x8xf32>
  %e = tensor.empty() : tensor<2x8x8xf32>
  %p = kiln.softmax_rows %s into %e : tensor<2x8x8xf32>, tensor<2x8x8xf32> -> tensor<2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x8x8xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// CHECK-LABEL: func.func @other_transpose
// CHECK: %[[O:.*]] = kiln.attention %arg0, %arg1, %arg2 into %{{.*}} : {{.*}} -> tensor<1x2x8x4xf32>
// CHECK: kiln.transpose %[[O]] {perm = array<i64: 0, 1, 3, 2>}
func.func @other_transpose(%q: tensor<1x2x8x4xf32>, %kt: tensor<1x2x4x8xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x4x8xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %p = kiln.softmax_rows %s into %e : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %t = kiln.transpose %o {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x8x4xf32>) -> tensor<1x2x4x8xf32>
  return %t : tensor<1x2x4x8xf32>
}
