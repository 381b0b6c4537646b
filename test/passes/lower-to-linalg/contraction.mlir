// RUN: kiln-opt %s --kiln-lower-to-linalg --cse -split-input-file | FileCheck %s

// Contraction dims the types leave open are checked when the model runs
// (ONNX; ORT fails too): the loop would take its size from the static one
// and read past a shorter operand.
// CHECK-LABEL: func.func @matmul_open_k
// CHECK: %[[K:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[BAD:.*]] = arith.cmpi ne, %[[K]], %c3
// CHECK: kiln.runtime_check %[[BAD]], "a MatMul: the operands' contraction dims differ at run time"
// CHECK: linalg.generic
// CHECK-LABEL: func.func @gemm_open_k
// CHECK: kiln.runtime_check {{.*}} "a Gemm: the operands' contraction dims differ at run time"
func.func @matmul_open_k(%x: tensor<?x?xf32>, %w: tensor<3x4xf32>,
                         %ctx: index {kiln.runtime_context}) -> tensor<?x4xf32> {
  %0 = kiln.matmul %x, %w : (tensor<?x?xf32>, tensor<3x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
func.func @gemm_open_k(%x: tensor<?x?xf32>, %w: tensor<4x3xf32>,
                       %ctx: index {kiln.runtime_context}) -> tensor<?x4xf32> {
  %0 = kiln.gemm %x, %w {transB = true} : (tensor<?x?xf32>, tensor<4x3xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// A `?` batch dim against a static one of the result (an activation by a
// constant [2, 3, 4]) is copied out to it in the runs where it is 1.
// CHECK-LABEL: func.func @matmul_batch_broadcast
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[DIFFERS:.*]] = arith.cmpi ne, %[[B]], %c2
// CHECK: %[[X:.*]] = scf.if %[[DIFFERS]] -> (tensor<?x2x3xf32>)
// CHECK: kiln.runtime_check {{.*}} "a MatMul: the inputs' shapes cannot be broadcast together
// CHECK: linalg.generic {{.*}} ins(%[[X]], %arg1 : tensor<?x2x3xf32>, tensor<2x3x4xf32>)
func.func @matmul_batch_broadcast(%x: tensor<?x2x3xf32>, %w: tensor<2x3x4xf32>,
                                  %ctx: index {kiln.runtime_context}) -> tensor<2x2x4xf32> {
  %0 = kiln.matmul %x, %w : (tensor<?x2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x2x4xf32>
  return %0 : tensor<2x2x4xf32>
}

// -----

// Two `?` batch dims of a `?` result dim (its size taken from the first)
// must be equal; one broadcasting 1 among them is the documented limit.
// Dims the inputs name alike (ONNX dim_param) are equal: nothing is checked.
// CHECK-LABEL: func.func @matmul_open_batches
// CHECK: kiln.runtime_check {{.*}} "a MatMul: the operands' batch dims differ at run time
// CHECK-LABEL: func.func @matmul_named_batches
// CHECK-NOT: kiln.runtime_check
// CHECK: linalg.generic
func.func @matmul_open_batches(%x: tensor<?x2x3xf32>, %y: tensor<?x3x4xf32>,
                               %ctx: index {kiln.runtime_context}) -> tensor<?x2x4xf32> {
  %0 = kiln.matmul %x, %y : (tensor<?x2x3xf32>, tensor<?x3x4xf32>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}
func.func @matmul_named_batches(%x: tensor<?x2x?xf32> {kiln.dim_names = ["batch", "", "k"]},
                                %y: tensor<?x?x4xf32> {kiln.dim_names = ["batch", "k", ""]},
                                %ctx: index {kiln.runtime_context}) -> tensor<?x2x4xf32> {
  %0 = kiln.matmul %x, %y : (tensor<?x2x?xf32>, tensor<?x?x4xf32>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}
