// RUN: kiln-opt %s --kiln-attention-to-ukernel=gpu=true -split-input-file | FileCheck %s

// With gpu=true (--gpu-attention=fused) only attention the tensor-core
// kernel runs is fused: static head sizes that fill its steps.

// Head size 32, v's 40: fused.
// CHECK-LABEL: func.func @fits
// CHECK: kiln.attention
// CHECK-NOT: kiln.softmax_rows
func.func @fits(%q: tensor<2x3x70x32xf32>, %kt: tensor<2x3x32x45xf32>, %v: tensor<2x3x45x40xf32>)
    -> tensor<2x3x70x40xf32> {
  %s = kiln.matmul %q, %kt : (tensor<2x3x70x32xf32>, tensor<2x3x32x45xf32>) -> tensor<2x3x70x45xf32>
  %e = tensor.empty() : tensor<2x3x70x45xf32>
  %p = kiln.softmax_rows %s into %e {scale = 0.125 : f32}
      : tensor<2x3x70x45xf32>, tensor<2x3x70x45xf32> -> tensor<2x3x70x45xf32>
  %o = kiln.matmul %p, %v : (tensor<2x3x70x45xf32>, tensor<2x3x45x40xf32>) -> tensor<2x3x70x40xf32>
  return %o : tensor<2x3x70x40xf32>
}

// -----

// Head size 24 (not a multiple of 16): the three ops stay (cuBLASLt GEMMs
// and the softmax kernel).
// CHECK-LABEL: func.func @head_size
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax_rows
func.func @head_size(%q: tensor<1x2x8x24xf32>, %kt: tensor<1x2x24x8xf32>, %v: tensor<1x2x8x8xf32>)
    -> tensor<1x2x8x8xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x24xf32>, tensor<1x2x24x8xf32>) -> tensor<1x2x8x8xf32>
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %p = kiln.softmax_rows %s into %e : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// v's head size 12 (not a multiple of 8).
// CHECK-LABEL: func.func @value_size
// CHECK-NOT: kiln.attention
func.func @value_size(%q: tensor<1x2x8x16xf32>, %kt: tensor<1x2x16x8xf32>, %v: tensor<1x2x8x12xf32>)
    -> tensor<1x2x8x12xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %p = kiln.softmax_rows %s into %e : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x12xf32>) -> tensor<1x2x8x12xf32>
  return %o : tensor<1x2x8x12xf32>
}

// -----

// Symbolic batch, query and key counts: fused (the kernel takes them at
// run time).
// CHECK-LABEL: func.func @dynamic
// CHECK: kiln.attention
// CHECK-NOT: kiln.softmax_rows
func.func @dynamic(%q: tensor<?x2x?x16xf32>, %kt: tensor<?x2x16x?xf32>, %v: tensor<?x2x?x8xf32>)
    -> tensor<?x2x?x8xf32> {
  %s = kiln.matmul %q, %kt : (tensor<?x2x?x16xf32>, tensor<?x2x16x?xf32>) -> tensor<?x2x?x?xf32>
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %b = tensor.dim %s, %c0 : tensor<?x2x?x?xf32>
  %m = tensor.dim %s, %c2 : tensor<?x2x?x?xf32>
  %n = tensor.dim %s, %c3 : tensor<?x2x?x?xf32>
  %e = tensor.empty(%b, %m, %n) : tensor<?x2x?x?xf32>
  %p = kiln.softmax_rows %s into %e : tensor<?x2x?x?xf32>, tensor<?x2x?x?xf32> -> tensor<?x2x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x2x?x?xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

// -----

// A symbolic head size: the kernel unrolls its loops over it, the three
// ops stay.
// CHECK-LABEL: func.func @dynamic_head_size
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax_rows
func.func @dynamic_head_size(%q: tensor<1x2x8x?xf32>, %kt: tensor<1x2x?x8xf32>, %v: tensor<1x2x8x8xf32>)
    -> tensor<1x2x8x8xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x?xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x8x8xf32>
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %p = kiln.softmax_rows %s into %e : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// No keys: the three ops stay (the product by V gives the zeros).
// CHECK-LABEL: func.func @no_keys
// CHECK-NOT: kiln.attention
func.func @no_keys(%q: tensor<1x2x8x16xf32>, %kt: tensor<1x2x16x0xf32>, %v: tensor<1x2x0x8xf32>)
    -> tensor<1x2x8x8xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x16xf32>, tensor<1x2x16x0xf32>) -> tensor<1x2x8x0xf32>
  %e = tensor.empty() : tensor<1x2x8x0xf32>
  %p = kiln.softmax_rows %s into %e : tensor<1x2x8x0xf32>, tensor<1x2x8x0xf32> -> tensor<1x2x8x0xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x0xf32>, tensor<1x2x0x8xf32>) -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}
