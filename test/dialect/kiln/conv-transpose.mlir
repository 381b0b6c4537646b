// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// kiln.conv_transpose: its round trip and inferred output size
// (stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - pads,
// negative pads extending it), and the diagnostics of bad operands.

// CHECK-LABEL: func.func @conv_transpose
// CHECK: kiln.conv_transpose %{{.*}}, %{{.*}} {dilations = array<i64: 1, 2>, output_padding = array<i64: 1, 0>, pads = array<i64: 0, 1, -1, 0>, strides = array<i64: 3, 2>} : (tensor<?x1x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<?x2x11x8xf32>
func.func @conv_transpose(%x: tensor<?x1x3x3xf32>, %w: tensor<1x2x3x3xf32>) -> tensor<?x2x11x8xf32> {
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 3, 2>, pads = array<i64: 0, 1, -1, 0>, dilations = array<i64: 1, 2>, output_padding = array<i64: 1, 0>} : (tensor<?x1x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<?x2x11x8xf32>
  return %0 : tensor<?x2x11x8xf32>
}

// -----

func.func @conv_transpose_channels(%x: tensor<1x2x3xf32>, %w: tensor<3x2x2xf32>) {
  // expected-error @+2 {{the weight's dim 0 (3) must be the input's channels (2)}}
  // expected-error @+1 {{'kiln.conv_transpose' op failed to infer returned types}}
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, output_padding = array<i64: 0>} : (tensor<1x2x3xf32>, tensor<3x2x2xf32>) -> tensor<1x2x4xf32>
  return
}

// -----

func.func @conv_transpose_group(%x: tensor<1x3x3xf32>, %w: tensor<3x2x2xf32>) {
  // expected-error @+2 {{group 2 must divide the 3 input channels}}
  // expected-error @+1 {{'kiln.conv_transpose' op failed to infer returned types}}
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, output_padding = array<i64: 0>, group = 2 : i64} : (tensor<1x3x3xf32>, tensor<3x2x2xf32>) -> tensor<1x4x4xf32>
  return
}

// -----

func.func @conv_transpose_attrs(%x: tensor<1x2x3xf32>, %w: tensor<2x2x2xf32>) {
  // expected-error @+2 {{conv_transpose needs 1 strides, dilations and output paddings and 2 pads}}
  // expected-error @+1 {{'kiln.conv_transpose' op failed to infer returned types}}
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, output_padding = array<i64: 0>} : (tensor<1x2x3xf32>, tensor<2x2x2xf32>) -> tensor<1x2x4xf32>
  return
}

// -----

func.func @conv_transpose_empty(%x: tensor<1x2x3xf32>, %w: tensor<2x2x2xf32>) {
  // expected-error @+2 {{spatial dim 0 of the output would have size 0}}
  // expected-error @+1 {{'kiln.conv_transpose' op failed to infer returned types}}
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 1>, pads = array<i64: 2, 2>, dilations = array<i64: 1>, output_padding = array<i64: 0>} : (tensor<1x2x3xf32>, tensor<2x2x2xf32>) -> tensor<1x2x1xf32>
  return
}
