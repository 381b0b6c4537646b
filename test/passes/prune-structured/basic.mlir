// RUN: kiln-opt %s "--kiln-prune-structured=ffn=0.5 heads=0.5" -split-input-file | FileCheck %s
// RUN: kiln-opt %s "--kiln-prune-structured=ffn=0.5 heads=0.5 report=true" -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: kiln-opt %s "--kiln-prune-structured=ffn=0.25" -split-input-file | FileCheck %s --check-prefix=QUARTER
// RUN: kiln-opt %s "--kiln-prune-structured=ffn=0.5 heads=0.5 exclude=fc1,wo report=true" -split-input-file 2>&1 | FileCheck %s --check-prefix=EXCLUDE

// An FFN: up-projection with a bias, GELU as erf arithmetic (scalar
// operands only), down-projection. W2's rows have norms 1, 5, 2, 0.5:
// without calibration data a neuron's importance is that norm, so half of
// the four neurons (0 and 3) go: W1's columns 1 and 2, b1's entries 1 and
// 2, W2's rows 1 and 2 stay, and every value in between is 2 wide.
// CHECK-LABEL: func.func @ffn
// CHECK-NOT: tensor<2x4xf32>
// CHECK: %[[W1:.*]] = kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[B1:.*]] = kiln.constant dense<[1.100000e+01, 1.200000e+01]> : tensor<2xf32>
// CHECK: %[[H:.*]] = kiln.matmul %arg0, %[[W1]] : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
// CHECK: %[[HB:.*]] = kiln.add %[[H]], %[[B1]] : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
// CHECK: kiln.div %[[HB]], %{{.*}} : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
// CHECK: kiln.erf %{{.*}} : tensor<3x2xf32>
// CHECK: %[[G:.*]] = kiln.mul %[[HB]], %{{.*}} : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
// CHECK: %[[W2:.*]] = kiln.constant dense<{{\[\[}}3.000000e+00, 4.000000e+00], [2.000000e+00, 0.000000e+00]]> : tensor<2x2xf32>
// CHECK: kiln.matmul %[[G]], %[[W2]] : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
// REPORT: remark: loc("fc2"("MatMul")): FFN block, kept 2 of 4 neurons (weight-magnitude importance): 1-2
// --prune-exclude naming either Linear layer of a block (fc1 here, the
// attention block's wo below) keeps the block whole.
// EXCLUDE: remark: loc("fc2"("MatMul")): FFN block kept whole: --prune-exclude names one of its layers
// EXCLUDE-LABEL: func.func @ffn
// EXCLUDE: kiln.constant {{.*}} : tensor<2x4xf32>
// EXCLUDE: kiln.constant {{.*}} : tensor<4x2xf32>
// A quarter of four neurons is one: the least important, neuron 3.
// QUARTER-LABEL: func.func @ffn
// QUARTER: kiln.constant dense<{{\[\[}}0.000000e+00, 1.000000e+00, 2.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
func.func @ffn(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w1 = kiln.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]> : tensor<2x4xf32>
  %b1 = kiln.constant dense<[10.0, 11.0, 12.0, 13.0]> : tensor<4xf32>
  %w2 = kiln.constant dense<[[1.0, 0.0], [3.0, 4.0], [2.0, 0.0], [0.0, 0.5]]> : tensor<4x2xf32>
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %h0 = kiln.matmul %x, %w1 : (tensor<3x2xf32>, tensor<2x4xf32>) -> tensor<3x4xf32> loc(#fc1)
  %h = kiln.add %h0, %b1 : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %d = kiln.div %h, %sqrt2 : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  %e = kiln.erf %d : tensor<3x4xf32>
  %a = kiln.add %e, %one : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  %m = kiln.mul %a, %half : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  %g = kiln.mul %h, %m : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = kiln.matmul %g, %w2 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32> loc(#fc2)
  return %y : tensor<3x2xf32>
}
#fc1 = loc("fc1"("MatMul"))
#fc2 = loc("fc2"("MatMul"))

// -----

// The same FFN with calibration data: E|x_j| of fc2's input makes neuron
// 0 (norm 1, mean magnitude 10) and neuron 3 (0.5 x 8) outweigh neuron 1
// (5 x 0.1) and neuron 2 (2 x 1).
// CHECK-LABEL: func.func @ffn_calibrated
// CHECK: kiln.constant dense<{{\[\[}}0.000000e+00, 3.000000e+00], [4.000000e+00, 7.000000e+00]]> : tensor<2x2xf32>
// CHECK: kiln.constant dense<{{\[\[}}1.000000e+00, 0.000000e+00], [0.000000e+00, 5.000000e-01]]> : tensor<2x2xf32>
// REPORT: remark: loc("fc2"("MatMul")): FFN block, kept 2 of 4 neurons (calibration importance): 0,3
module attributes {kiln.layer_input_magnitude = {fc2 = dense<[10.0, 0.1, 1.0, 8.0]> : tensor<4xf32>}} {
func.func @ffn_calibrated(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w1 = kiln.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]> : tensor<2x4xf32>
  %w2 = kiln.constant dense<[[1.0, 0.0], [3.0, 4.0], [2.0, 0.0], [0.0, 0.5]]> : tensor<4x2xf32>
  %h = kiln.matmul %x, %w1 : (tensor<3x2xf32>, tensor<2x4xf32>) -> tensor<3x4xf32> loc(#fc1)
  %r = kiln.relu %h : tensor<3x4xf32>
  %y = kiln.matmul %r, %w2 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32> loc(#fc2)
  return %y : tensor<3x2xf32>
}
}
#fc1 = loc("fc1"("MatMul"))
#fc2 = loc("fc2"("MatMul"))

// -----

// Attention, 2 heads of head_dim 2 over 4 features, static shapes as with
// --input-shape: Q, K, V split by a constant shape [1, 3, 2, 2], the
// scores scaled and masked (a [1, 1, 3, 3] mask: the same for every head),
// softmax over the keys, the context merged by [1, 3, 4] into Wo. Wo's
// rows 2 and 3 (head 1) outweigh rows 0 and 1 (head 0): head 1 stays, so
// Q, K and V keep columns 2 and 3, every shape constant says 1 head (or 2
// features), and every value has 1 head.
// CHECK-LABEL: func.func @attention
// CHECK-NOT: tensor<4x4xf32>
// CHECK: %[[WQ:.*]] = kiln.constant dense<{{\[\[}}3.000000e+00, 4.000000e+00], [7.000000e+00, 8.000000e+00], [1.100000e+01, 1.200000e+01], [1.500000e+01, 1.600000e+01]]> : tensor<4x2xf32>
// CHECK: %[[BQ:.*]] = kiln.constant dense<[3.000000e-01, 4.000000e-01]> : tensor<2xf32>
// CHECK: %[[Q0:.*]] = kiln.matmul %arg0, %[[WQ]] : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
// CHECK: %[[Q:.*]] = kiln.add %[[Q0]], %[[BQ]] : (tensor<1x3x2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
// CHECK: %[[SPLIT:.*]] = kiln.constant dense<[1, 3, 1, 2]> : tensor<4xi64>
// CHECK: kiln.reshape %[[Q]], %[[SPLIT]] : (tensor<1x3x2xf32>, tensor<4xi64>) -> tensor<1x3x1x2xf32>
// CHECK: kiln.matmul {{.*}} : (tensor<1x1x3x2xf32>, tensor<1x1x2x3xf32>) -> tensor<1x1x3x3xf32>
// CHECK: kiln.add {{.*}} : (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
// CHECK: kiln.softmax {{.*}} : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
// CHECK: kiln.matmul {{.*}} : (tensor<1x1x3x3xf32>, tensor<1x1x3x2xf32>) -> tensor<1x1x3x2xf32>
// CHECK: %[[MERGE:.*]] = kiln.constant dense<[1, 3, 2]> : tensor<3xi64>
// CHECK: %[[CTX:.*]] = kiln.reshape %{{.*}}, %[[MERGE]] : (tensor<1x3x1x2xf32>, tensor<3xi64>) -> tensor<1x3x2xf32>
// CHECK: %[[WO:.*]] = kiln.constant dense<{{\[\[}}3.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 4.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<2x4xf32>
// CHECK: kiln.matmul %[[CTX]], %[[WO]] : (tensor<1x3x2xf32>, tensor<2x4xf32>) -> tensor<1x3x4xf32>
// REPORT: remark: loc("wo"("MatMul")): attention block, kept 1 of 2 heads (weight-magnitude importance): 1
// REPORT: remark: structured pruning: 1 of 1 blocks pruned, 1 of 2 units removed (weight-magnitude importance)
// EXCLUDE: remark: loc("wo"("MatMul")): attention block kept whole: --prune-exclude names one of its layers
// EXCLUDE: remark: structured pruning: 0 of 1 blocks pruned, 0 of 2 units removed (weight-magnitude importance)
// Without a heads fraction the block stays as it is.
// QUARTER-LABEL: func.func @attention
// QUARTER: kiln.reshape {{.*}} -> tensor<1x3x2x2xf32>
func.func @attention(%x: tensor<1x3x4xf32>, %mask: tensor<1x1x3x3xf32>) -> tensor<1x3x4xf32> {
  %wq = kiln.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %wk = kiln.constant dense<[[1.5, 2.5, 3.5, 4.5], [5.5, 6.5, 7.5, 8.5], [9.5, 10.5, 11.5, 12.5], [13.5, 14.5, 15.5, 16.5]]> : tensor<4x4xf32>
  %wv = kiln.constant dense<[[-1.0, -2.0, -3.0, -4.0], [-5.0, -6.0, -7.0, -8.0], [-9.0, -10.0, -11.0, -12.0], [-13.0, -14.0, -15.0, -16.0]]> : tensor<4x4xf32>
  %wo = kiln.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %bq = kiln.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>
  %split = kiln.constant dense<[1, 3, 2, 2]> : tensor<4xi64>
  %merge = kiln.constant dense<[1, 3, 4]> : tensor<3xi64>
  %scale = kiln.constant dense<0.707106769> : tensor<f32>
  %q0 = kiln.matmul %x, %wq : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32> loc(#q)
  %q1 = kiln.add %q0, %bq : (tensor<1x3x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %q2 = kiln.reshape %q1, %split : (tensor<1x3x4xf32>, tensor<4xi64>) -> tensor<1x3x2x2xf32>
  %q = kiln.transpose %q2 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x3x2x2xf32>) -> tensor<1x2x3x2xf32>
  %k0 = kiln.matmul %x, %wk : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32> loc(#k)
  %k1 = kiln.reshape %k0, %split : (tensor<1x3x4xf32>, tensor<4xi64>) -> tensor<1x3x2x2xf32>
  %kt = kiln.transpose %k1 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x3x2x2xf32>) -> tensor<1x2x2x3xf32>
  %v0 = kiln.matmul %x, %wv : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32> loc(#v)
  %v1 = kiln.reshape %v0, %split : (tensor<1x3x4xf32>, tensor<4xi64>) -> tensor<1x3x2x2xf32>
  %v = kiln.transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x3x2x2xf32>) -> tensor<1x2x3x2xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x3x2xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x3x3xf32>
  %s1 = kiln.mul %s0, %scale : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %s2 = kiln.add %s1, %mask : (tensor<1x2x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32>
  %p = kiln.softmax %s2 {axis = 3 : i64} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %c0 = kiln.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %c1 = kiln.transpose %c0 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x3x2xf32>) -> tensor<1x3x2x2xf32>
  %c = kiln.reshape %c1, %merge : (tensor<1x3x2x2xf32>, tensor<3xi64>) -> tensor<1x3x4xf32>
  %y = kiln.matmul %c, %wo : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32> loc(#o)
  return %y : tensor<1x3x4xf32>
}
#q = loc("q"("MatMul"))
#k = loc("k"("MatMul"))
#v = loc("v"("MatMul"))
#o = loc("wo"("MatMul"))

// -----

// Symbolic shapes, as exported: the head count in the shapes is -1 (a
// concat of run-time dims and constants), so only the weights and the
// static dims change; a mask of `?` heads broadcasts or fails the run.
// CHECK-LABEL: func.func @attention_dynamic
// CHECK: %[[SPLIT:.*]] = kiln.concat %arg2, %{{.*}} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
// CHECK: kiln.constant dense<{{\[\[}}3.000000e+00, 4.000000e+00], [7.000000e+00, 8.000000e+00]]> : tensor<2x2xf32>
// CHECK: kiln.matmul %arg0, %{{.*}} : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
// CHECK: kiln.reshape %{{.*}}, %[[SPLIT]] : (tensor<?x?x2xf32>, tensor<4xi64>) -> tensor<?x?x?x2xf32>
// CHECK: kiln.constant dense<{{\[\[}}3.000000e+00, 0.000000e+00], [0.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK: kiln.matmul {{.*}} : (tensor<?x?x?xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
// REPORT: remark: loc("wo"("MatMul")): attention block, kept 1 of 2 heads (weight-magnitude importance): 1
func.func @attention_dynamic(%x: tensor<?x?x2xf32>, %mask: tensor<?x?x?x?xf32>, %dims: tensor<2xi64>) -> tensor<?x?x2xf32> {
  %wq = kiln.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %wo = kiln.constant dense<[[1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 4.0]]> : tensor<4x2xf32>
  %heads = kiln.constant dense<[-1, 2]> : tensor<2xi64>
  %minus1 = kiln.constant dense<-1> : tensor<1xi64>
  %split = kiln.concat %dims, %heads {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %merge = kiln.concat %dims, %minus1 {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %h0 = kiln.matmul %x, %wq : (tensor<?x?x2xf32>, tensor<2x4xf32>) -> tensor<?x?x4xf32> loc(#q)
  %h1 = kiln.reshape %h0, %split : (tensor<?x?x4xf32>, tensor<4xi64>) -> tensor<?x?x?x2xf32>
  %h = kiln.transpose %h1 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x?x2xf32>) -> tensor<?x?x?x2xf32>
  %ht = kiln.transpose %h1 {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x?x2xf32>) -> tensor<?x?x2x?xf32>
  %s0 = kiln.matmul %h, %ht : (tensor<?x?x?x2xf32>, tensor<?x?x2x?xf32>) -> tensor<?x?x?x?xf32>
  %s1 = kiln.add %s0, %mask : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %c0 = kiln.matmul %p, %h : (tensor<?x?x?x?xf32>, tensor<?x?x?x2xf32>) -> tensor<?x?x?x2xf32>
  %c1 = kiln.transpose %c0 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x?x2xf32>) -> tensor<?x?x?x2xf32>
  %c = kiln.reshape %c1, %merge : (tensor<?x?x?x2xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %y = kiln.matmul %c, %wo : (tensor<?x?x?xf32>, tensor<4x2xf32>) -> tensor<?x?x2xf32> loc(#o)
  return %y : tensor<?x?x2xf32>
}
#q = loc("q"("MatMul"))
#o = loc("wo"("MatMul"))

// -----

// Left dense, and said why: the up-projection's output also feeds a
// residual add (an operand of 4 features, not one value for all units).
// CHECK-LABEL: func.func @not_a_block
// CHECK: kiln.constant dense<{{.*}}> : tensor<2x4xf32>
// CHECK: kiln.constant dense<{{.*}}> : tensor<4x2xf32>
// REPORT: remark: loc("fc1"("MatMul")): left dense: the Linear layers reading this input start no block structured pruning matches: 'kiln.add' has an operand that varies across the units
// REPORT: remark: structured pruning: 0 of 0 blocks pruned, 0 of 0 units removed (weight-magnitude importance)
func.func @not_a_block(%x: tensor<3x2xf32>, %r: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w1 = kiln.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]> : tensor<2x4xf32>
  %w2 = kiln.constant dense<[[1.0, 0.0], [3.0, 4.0], [2.0, 0.0], [0.0, 0.5]]> : tensor<4x2xf32>
  %h = kiln.matmul %x, %w1 : (tensor<3x2xf32>, tensor<2x4xf32>) -> tensor<3x4xf32> loc(#fc1)
  %a = kiln.add %h, %r : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = kiln.matmul %a, %w2 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32> loc(#fc2)
  return %y : tensor<3x2xf32>
}
#fc1 = loc("fc1"("MatMul"))
#fc2 = loc("fc2"("MatMul"))

// -----

// Left dense: a reader of the block inside a region, which the walk over
// the function's ops does not see.
// CHECK-LABEL: func.func @read_in_region
// CHECK: kiln.constant dense<{{.*}}> : tensor<2x4xf32>
// REPORT: remark: loc("fc1"("MatMul")): left dense: the Linear layers reading this input start no block structured pruning matches: '{{kiln.relu|scf.yield}}' reads the block inside a region
func.func @read_in_region(%x: tensor<3x2xf32>, %c: i1) -> (tensor<3x2xf32>, tensor<3x4xf32>) {
  %w1 = kiln.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]> : tensor<2x4xf32>
  %w2 = kiln.constant dense<[[1.0, 0.0], [3.0, 4.0], [2.0, 0.0], [0.0, 0.5]]> : tensor<4x2xf32>
  %h = kiln.matmul %x, %w1 : (tensor<3x2xf32>, tensor<2x4xf32>) -> tensor<3x4xf32> loc(#fc1)
  %y = kiln.matmul %h, %w2 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32> loc(#fc2)
  %z = scf.if %c -> tensor<3x4xf32> {
    %r = kiln.relu %h : tensor<3x4xf32>
    scf.yield %r : tensor<3x4xf32>
  } else {
    scf.yield %h : tensor<3x4xf32>
  }
  return %y, %z : tensor<3x2xf32>, tensor<3x4xf32>
}
#fc1 = loc("fc1"("MatMul"))
#fc2 = loc("fc2"("MatMul"))

// -----

// Left dense: the split also regroups the rows (1 x 4 tokens into 2 x 2).
// CHECK-LABEL: func.func @split_moves_rows
// CHECK: kiln.reshape {{.*}} -> tensor<2x2x2x2xf32>
// REPORT: remark: loc("q"("MatMul")): left dense: the Linear layers reading this input start no block structured pruning matches: 'kiln.reshape' moves rows as well as features
func.func @split_moves_rows(%x: tensor<1x4x4xf32>) -> tensor<4x4xf32> {
  %wq = kiln.constant dense<1.0> : tensor<4x4xf32>
  %wo = kiln.constant dense<2.0> : tensor<4x4xf32>
  %split = kiln.constant dense<[2, 2, 2, 2]> : tensor<4xi64>
  %merge = kiln.constant dense<[4, 4]> : tensor<2xi64>
  %q = kiln.matmul %x, %wq : (tensor<1x4x4xf32>, tensor<4x4xf32>) -> tensor<1x4x4xf32> loc(#q)
  %h = kiln.reshape %q, %split : (tensor<1x4x4xf32>, tensor<4xi64>) -> tensor<2x2x2x2xf32>
  %c = kiln.reshape %h, %merge : (tensor<2x2x2x2xf32>, tensor<2xi64>) -> tensor<4x4xf32>
  %y = kiln.matmul %c, %wo : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc(#o)
  return %y : tensor<4x4xf32>
}
#q = loc("q"("MatMul"))
#o = loc("wo"("MatMul"))
