// RUN: kiln-opt %s --kiln-fuse-elementwise --canonicalize | FileCheck %s
// RUN: kiln-opt %s --kiln-fuse-elementwise | FileCheck %s --check-prefix=MAP

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// GELU's chain becomes one generic.
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: math.erf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @chain(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = arith.constant 1.41421354 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.divf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %f = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.erf %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %g = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%f, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %g : tensor<4x8xf32>
}

// A producer with two users is not fused (it would be computed twice), and
// nothing is fused into a contraction: its body stays a multiply-add.
// CHECK-LABEL: func.func @kept_apart
// CHECK: %[[EXP:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%[[EXP]] :
// CHECK: linalg.generic {{.*}} ins(%[[EXP]], %{{.*}} :
// CHECK: %[[SCALED:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} ins(%[[SCALED]], %{{.*}} :
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: linalg.yield
func.func @kept_apart(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %r = tensor.empty() : tensor<4xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.exp %a : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%r : tensor<4xf32>) -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%exp : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.addf %a, %o : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %div = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%exp, %sum : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %v = arith.divf %a, %s : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.mulf %a, %two : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %mm = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%scaled, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%acc : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %div, %mm : tensor<4x8xf32>, tensor<4x8xf32>
}

// A transpose feeding a contraction is folded into the contraction's map
// when it keeps the innermost dim (attention's Q: [b, s, h, d] read as
// [b, h, s, d]), and on B also when it moves it (attention's K^T: the GEMM
// packs K's contiguous rows by 4 x 4 register transposes); the body stays.
// MAP: #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>
// MAP: #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1, d4)>
// MAP: linalg.generic {indexing_maps = [#[[Q]], #[[K]], #{{.*}}]
// CHECK-LABEL: func.func @transpose_into_contraction
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %arg1 : tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>)
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
func.func @transpose_into_contraction(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>,
                                      %out: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %eq = tensor.empty() : tensor<1x2x8x4xf32>
  %qt = linalg.transpose ins(%q : tensor<1x8x2x4xf32>) outs(%eq : tensor<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  %e = tensor.empty() : tensor<1x2x4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<1x8x2x4xf32>) outs(%e : tensor<1x2x4x8xf32>) permutation = [0, 2, 3, 1]
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, m, n, k) -> (b, h, m, k)>,
                                        affine_map<(b, h, m, n, k) -> (b, h, k, n)>,
                                        affine_map<(b, h, m, n, k) -> (b, h, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qt, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) outs(%out : tensor<1x2x8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  return %r : tensor<1x2x8x8xf32>
}

// GPT-2's Conv1D: the GEMM computes [B*S, N] and the GELU and residual add
// read it through an expand_shape to [B, S, N]. Both are rewritten to run
// on [B*S, N] (the residual collapsed to match), so they read the
// contraction directly; the expand moves after them.
// CHECK-LABEL: func.func @through_expand_shape
// CHECK-SAME: (%[[X:.*]]: tensor<8x4xf32>, %[[W:.*]]: tensor<4x16xf32>, %[[R:.*]]: tensor<2x4x16xf32>
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]] : tensor<8x4xf32>, tensor<4x16xf32>)
// CHECK: } -> tensor<8x16xf32>
// CHECK: %[[RC:.*]] = tensor.collapse_shape %[[R]] {{\[\[}}0, 1], [2]] : tensor<2x4x16xf32> into tensor<8x16xf32>
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[P]], %[[RC]] : tensor<8x16xf32>, tensor<8x16xf32>)
// CHECK: math.tanh
// CHECK: arith.addf
// CHECK: } -> tensor<8x16xf32>
// CHECK: %[[Y:.*]] = tensor.expand_shape %[[E]] {{\[\[}}0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
// CHECK: return %[[Y]]
#id3 = affine_map<(b, s, n) -> (b, s, n)>
func.func @through_expand_shape(%x: tensor<8x4xf32>, %w: tensor<4x16xf32>, %r: tensor<2x4x16xf32>)
    -> tensor<2x4x16xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x16xf32>) -> tensor<8x16xf32>
  %p = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<8x4xf32>, tensor<4x16xf32>) outs(%c : tensor<8x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %v = tensor.expand_shape %p [[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
  %e3 = tensor.empty() : tensor<2x4x16xf32>
  %g = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%v : tensor<2x4x16xf32>) outs(%e3 : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = math.tanh %a : f32
    linalg.yield %t : f32
  } -> tensor<2x4x16xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %r : tensor<2x4x16xf32>, tensor<2x4x16xf32>) outs(%e3 : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// A Gemm node with a bias (TorchScript's GPT-2 Conv1D, addmm) adds it on
// [B*S, N] before the expand_shape: the residual add after the view still
// moves onto [B*S, N] and fuses with the bias add, so one generic reads the
// contraction, the bias and the collapsed residual.
// CHECK-LABEL: func.func @bias_before_expand_shape
// CHECK-SAME: (%[[X:.*]]: tensor<8x4xf32>, %[[W:.*]]: tensor<4x16xf32>, %[[B:.*]]: tensor<16xf32>, %[[R:.*]]: tensor<2x4x16xf32>
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]] : tensor<8x4xf32>, tensor<4x16xf32>)
// CHECK: %[[RC:.*]] = tensor.collapse_shape %[[R]] {{\[\[}}0, 1], [2]] : tensor<2x4x16xf32> into tensor<8x16xf32>
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[P]], %[[B]], %[[RC]] : tensor<8x16xf32>, tensor<16xf32>, tensor<8x16xf32>)
// CHECK: } -> tensor<8x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:.*]] = tensor.expand_shape %[[E]] {{\[\[}}0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
// CHECK: return %[[Y]]
#bias2 = affine_map<(m, n) -> (n)>
#id2 = affine_map<(m, n) -> (m, n)>
func.func @bias_before_expand_shape(%x: tensor<8x4xf32>, %w: tensor<4x16xf32>, %bias: tensor<16xf32>,
                                    %r: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x16xf32>) -> tensor<8x16xf32>
  %p = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<8x4xf32>, tensor<4x16xf32>) outs(%c : tensor<8x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %pb = linalg.generic {indexing_maps = [#id2, #bias2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%p, %bias : tensor<8x16xf32>, tensor<16xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %v = tensor.expand_shape %pb [[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
  %e3 = tensor.empty() : tensor<2x4x16xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%v, %r : tensor<2x4x16xf32>, tensor<2x4x16xf32>) outs(%e3 : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// The same view as a tensor.reshape that splits the rows into two `?` dims
// (symbolic batch and sequence): the GELU-like chain and the residual add
// move before the reshape onto [M, N] (the residual collapsed), fuse into
// one generic reading the contraction, and one reshape remains after it.
// CHECK-LABEL: func.func @through_row_split
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>, %[[W:.*]]: tensor<4x16xf32>, %[[R:.*]]: tensor<?x?x16xf32>, %[[S:.*]]: tensor<3xindex>, %[[B:.*]]: tensor<16xf32>)
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]] : tensor<?x4xf32>, tensor<4x16xf32>)
// CHECK: %[[RC:.*]] = tensor.collapse_shape %[[R]] {{\[\[}}0, 1], [2]] : tensor<?x?x16xf32> into tensor<?x16xf32>
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[P]], %[[B]], %[[RC]] : tensor<?x16xf32>, tensor<16xf32>, tensor<?x16xf32>)
// CHECK: math.tanh
// CHECK: } -> tensor<?x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:.*]] = tensor.reshape %[[E]](%[[S]]) : (tensor<?x16xf32>, tensor<3xindex>) -> tensor<?x?x16xf32>
// CHECK: return %[[Y]]
#bias3 = affine_map<(b, s, n) -> (n)>
func.func @through_row_split(%x: tensor<?x4xf32>, %w: tensor<4x16xf32>, %r: tensor<?x?x16xf32>,
                             %shape: tensor<3xindex>, %bias: tensor<16xf32>) -> tensor<?x?x16xf32> {
  %z = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %p = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x4xf32>, tensor<4x16xf32>) outs(%c : tensor<?x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %mul = arith.mulf %a, %b : f32
    %s = arith.addf %o, %mul : f32
    linalg.yield %s : f32
  } -> tensor<?x16xf32>
  %v = tensor.reshape %p(%shape) : (tensor<?x16xf32>, tensor<3xindex>) -> tensor<?x?x16xf32>
  %d0 = tensor.dim %r, %c0 : tensor<?x?x16xf32>
  %d1 = tensor.dim %r, %c1 : tensor<?x?x16xf32>
  %e3 = tensor.empty(%d0, %d1) : tensor<?x?x16xf32>
  %g = linalg.generic {indexing_maps = [#id3, #bias3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%v, %bias : tensor<?x?x16xf32>, tensor<16xf32>) outs(%e3 : tensor<?x?x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<?x?x16xf32>
  %t = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g : tensor<?x?x16xf32>) outs(%e3 : tensor<?x?x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %h = math.tanh %a : f32
    linalg.yield %h : f32
  } -> tensor<?x?x16xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t, %r : tensor<?x?x16xf32>, tensor<?x?x16xf32>) outs(%e3 : tensor<?x?x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<?x?x16xf32>
  return %y : tensor<?x?x16xf32>
}

// A transpose of A that moves the innermost dim stays a copy: the GEMM
// would gather A one float at a time.
// CHECK-LABEL: func.func @transposed_lhs_stays
// CHECK: %[[AT:.*]] = linalg.transpose ins(%arg0
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[AT]], %arg1 : tensor<4x8xf32>, tensor<8x16xf32>)
func.func @transposed_lhs_stays(%a: tensor<8x4xf32>, %w: tensor<8x16xf32>, %c: tensor<4x16xf32>)
    -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %at = linalg.transpose ins(%a : tensor<8x4xf32>) outs(%e : tensor<4x8xf32>) permutation = [1, 0]
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%at, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}
