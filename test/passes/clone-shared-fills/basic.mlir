// RUN: kiln-opt %s --kiln-clone-shared-fills -split-input-file | FileCheck %s

// One zero fill that three contractions write into (CSE's doing): the first
// keeps it, the others get a fill of their own, of their own tensor.empty,
// right before them.
// CHECK-LABEL: func.func @shared_by_contractions
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[F:.*]] = linalg.fill ins(%[[ZERO:.*]] : f32) outs(%[[E]] : tensor<4x8xf32>)
// CHECK: linalg.matmul ins(%arg0, %arg1 : {{.*}}) outs(%[[F]] : tensor<4x8xf32>)
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[F2:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E2]] : tensor<4x8xf32>)
// CHECK: linalg.matmul ins(%arg0, %arg2 : {{.*}}) outs(%[[F2]] : tensor<4x8xf32>)
// CHECK: %[[E3:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[F3:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E3]] : tensor<4x8xf32>)
// CHECK: linalg.matmul ins(%arg0, %arg3 : {{.*}}) outs(%[[F3]] : tensor<4x8xf32>)
func.func @shared_by_contractions(%a: tensor<4x16xf32>, %b0: tensor<16x8xf32>, %b1: tensor<16x8xf32>,
                                  %b2: tensor<16x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %x = linalg.matmul ins(%a, %b0 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul ins(%a, %b1 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %z = linalg.matmul ins(%a, %b2 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %x, %y, %z : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A fill that is also read (an input, a returned value) stays for its
// readers; every op that writes into it gets its own. A fill with one
// destination, and a fill of a tensor that is not a tensor.empty, are left
// alone (nothing to copy; the second's clone fills the same tensor).
// CHECK-LABEL: func.func @read_too
// CHECK: %[[F:.*]] = linalg.fill ins(%{{.*}} : i1) outs(%{{.*}} : tensor<i1>) -> tensor<i1>
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<i1>
// CHECK: %[[F2:.*]] = linalg.fill ins(%{{.*}} : i1) outs(%[[E2]] : tensor<i1>) -> tensor<i1>
// CHECK: %[[ANY:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<8xi1>) outs(%[[F2]] : tensor<i1>)
// CHECK: %[[ONE:.*]] = linalg.fill ins(%{{.*}} : i1) outs(%arg1 : tensor<i1>) -> tensor<i1>
// CHECK-NEXT: %[[ALL:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<8xi1>) outs(%[[ONE]] : tensor<i1>)
// CHECK-NOT: linalg.fill
// CHECK: return %[[F]], %[[ANY]], %[[ALL]]
#in = affine_map<(d0) -> (d0)>
#out = affine_map<(d0) -> ()>
func.func @read_too(%flags: tensor<8xi1>, %given: tensor<i1>) -> (tensor<i1>, tensor<i1>, tensor<i1>) {
  %false = arith.constant false
  %true = arith.constant true
  %e = tensor.empty() : tensor<i1>
  %f = linalg.fill ins(%false : i1) outs(%e : tensor<i1>) -> tensor<i1>
  %any = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction"]}
      ins(%flags : tensor<8xi1>) outs(%f : tensor<i1>) {
  ^bb0(%in: i1, %acc: i1):
    %o = arith.ori %acc, %in : i1
    linalg.yield %o : i1
  } -> tensor<i1>
  %one = linalg.fill ins(%true : i1) outs(%given : tensor<i1>) -> tensor<i1>
  %all = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction"]}
      ins(%flags : tensor<8xi1>) outs(%one : tensor<i1>) {
  ^bb0(%in: i1, %acc: i1):
    %a = arith.andi %acc, %in : i1
    linalg.yield %a : i1
  } -> tensor<i1>
  return %f, %any, %all : tensor<i1>, tensor<i1>, tensor<i1>
}
