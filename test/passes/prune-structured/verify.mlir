// RUN: kiln-opt %s --kiln-prune-structured=ffn=0.5 -split-input-file -verify-diagnostics

// The dialect checks the calibration magnitudes wherever they appear: a
// negative mean magnitude is not one.
// expected-error @+1 {{'builtin.module' op attribute 'kiln.layer_input_magnitude': node 'fc2' must map to a 1-D f32 tensor of finite values >= 0}}
module attributes {kiln.layer_input_magnitude = {fc2 = dense<[1.0, -2.0]> : tensor<2xf32>}} {
}

// -----

// Elsewhere than on the module.
func.func @f() {
  // expected-error @+1 {{'kiln.constant' op attribute 'kiln.layer_input_magnitude' must be a dictionary on the module}}
  %c = kiln.constant {kiln.layer_input_magnitude = {}} dense<1.0> : tensor<f32>
  return
}

// -----

// A block that does not match is left as it is, with no diagnostic
// unless reported.
func.func @softmax_across_neurons(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w1 = kiln.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]> : tensor<2x4xf32>
  %w2 = kiln.constant dense<[[1.0, 0.0], [3.0, 4.0], [2.0, 0.0], [0.0, 0.5]]> : tensor<4x2xf32>
  %h = kiln.matmul %x, %w1 : (tensor<3x2xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %p = kiln.softmax %h {axis = 1 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = kiln.matmul %p, %w2 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
