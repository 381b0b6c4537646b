// RUN: not kiln-opt %s --kiln-prune-structured=heads=1 2>&1 | FileCheck %s --check-prefix=HEADS
// RUN: not kiln-opt %s --kiln-prune-structured=ffn=-0.5 2>&1 | FileCheck %s --check-prefix=FFN
// RUN: not kiln-opt %s --kiln-prune-structured=ffn=0.5 2>&1 | FileCheck %s --check-prefix=SHORT

// HEADS: error: kiln-prune-structured: heads must be in [0, 1), not 1
// FFN: error: kiln-prune-structured: ffn must be in [0, 1), not -0.5
// The calibration magnitudes must cover the layer's input features.
// SHORT: error: loc("fc2"("MatMul")): kiln-prune-structured: kiln.layer_input_magnitude has no 4 values for node 'fc2'
module attributes {kiln.layer_input_magnitude = {fc2 = dense<[1.0, 2.0]> : tensor<2xf32>}} {
func.func @short_magnitudes(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
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

