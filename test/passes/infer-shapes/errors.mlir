// RUN: kiln-opt %s --kiln-infer-shapes -split-input-file -verify-diagnostics

// Inference is the verifier: once the shape is known, a reshape of 8
// elements into 7 is reported at the op with the reason.
func.func @bad_reshape(%x: tensor<8xf32>) -> tensor<?xf32> {
  %s = kiln.constant dense<[7]> : tensor<1xi64>
  // expected-error @+2 {{cannot reshape 'tensor<8xf32>' (8 elements) to 7 elements}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<8xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
