// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// Verifier and result type inference errors of top_k and the scatters
// (KilnIndexingOps.td). A failed inference gives two errors: the reason,
// then "failed to infer returned types".

func.func @top_k_k_too_large(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{k = 5 is not within the 4 elements along axis 1}}
  // expected-error @+1 {{'kiln.top_k' op failed to infer returned types}}
  %v, %i = kiln.top_k %x {axis = 1 : i64, k = 5 : i64} : (tensor<2x4xf32>) -> (tensor<2x5xf32>, tensor<2x5xi64>)
  return
}

// -----

func.func @top_k_axis(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{axis 2 out of range for rank 2}}
  // expected-error @+1 {{'kiln.top_k' op failed to infer returned types}}
  %v, %i = kiln.top_k %x {axis = 2 : i64, k = 1 : i64} : (tensor<2x4xf32>) -> (tensor<2x1xf32>, tensor<2x1xi64>)
  return
}

// -----

func.func @top_k_bool(%x: tensor<4xi1>) {
  // expected-error @+1 {{'kiln.top_k' op needs float or integer elements, got 'i1'}}
  %v, %i = kiln.top_k %x {axis = 0 : i64, k = 1 : i64} : (tensor<4xi1>) -> (tensor<1xi1>, tensor<1xi64>)
  return
}

// -----

func.func @scatter_reduction(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) {
  // expected-error @+1 {{'kiln.scatter_elements' op reduction must be none, add, mul, max or min, not 'sub'}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64, reduction = "sub"} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_updates_type(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf16>) {
  // expected-error @+1 {{'kiln.scatter_elements' op updates must have the data's element type 'f32'}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf16>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_bool_add(%d: tensor<3xi1>, %i: tensor<2xi64>, %u: tensor<2xi1>) {
  // expected-error @+1 {{'kiln.scatter_elements' op reduction 'add' needs numbers, not booleans}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = "add"} : (tensor<3xi1>, tensor<2xi64>, tensor<2xi1>) -> tensor<3xi1>
  return
}

// -----

func.func @scatter_updates_larger(%d: tensor<3x4xf32>, %i: tensor<4x2xi64>, %u: tensor<4x2xf32>) {
  // expected-error @+2 {{updates dim 0 (4) exceeds the data's (3)}}
  // expected-error @+1 {{'kiln.scatter_elements' op failed to infer returned types}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64} : (tensor<3x4xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_indices_updates_differ(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x3xf32>) {
  // expected-error @+2 {{indices and updates differ in dim 1}}
  // expected-error @+1 {{'kiln.scatter_elements' op failed to infer returned types}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_nd_tuple(%d: tensor<3x4xf32>, %i: tensor<2x3xi64>, %u: tensor<2xf32>) {
  // expected-error @+2 {{the index tuple length (last dim of indices) must be static and within the data's rank}}
  // expected-error @+1 {{'kiln.scatter_nd' op failed to infer returned types}}
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<3x4xf32>, tensor<2x3xi64>, tensor<2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_nd_updates(%d: tensor<3x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x5xf32>) {
  // expected-error @+2 {{updates dim 1 must be 4}}
  // expected-error @+1 {{'kiln.scatter_nd' op failed to infer returned types}}
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<3x4xf32>, tensor<2x1xi64>, tensor<2x5xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @bit_shift_float(%a: tensor<4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.bit_shift' op operand #0 must be ranked tensor of signless integer or unsigned integer values}}
  %0 = kiln.bit_shift %a, %b {left = true} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}
