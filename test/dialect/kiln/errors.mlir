// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// Verifier and result type inference errors of the kiln dialect. An op's
// verifier runs first; once it passes, result type inference is checked, and
// when inference fails the op gets two errors: the reason, then "failed to
// infer returned types". A result type that contradicts the inferred one also
// gets both.

//===----------------------------------------------------------------------===//
// Result types
//===----------------------------------------------------------------------===//

// A written result type may refine the inferred one but not contradict it.
func.func @result_type_contradicts(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{'kiln.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<2x4xf32>'}}
  // expected-error @+1 {{'kiln.add' op failed to infer returned types}}
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @result_element_type_contradicts(%a: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @+2 {{'kiln.cast' op inferred type(s) 'tensor<4xf64>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error @+1 {{'kiln.cast' op failed to infer returned types}}
  %0 = "kiln.cast"(%a) {to = f64} : (tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @float_op_on_integers(%a: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{'kiln.exp' op operand #0 must be ranked tensor of floating-point values}}
  %0 = kiln.exp %a : tensor<4xi64>
  return %0 : tensor<4xi64>
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// -----

func.func @trig_on_integers(%a: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'kiln.tan' op operand #0 must be ranked tensor of floating-point values}}
  %0 = kiln.tan %a : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @is_inf_on_integers(%a: tensor<4xi32>) -> tensor<4xi1> {
  // expected-error @+1 {{'kiln.is_inf' op operand #0 must be ranked tensor of floating-point values}}
  %0 = kiln.is_inf %a : (tensor<4xi32>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @bitwise_on_floats(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.bitwise_and' op operand #0 must be ranked tensor of signless integer or unsigned integer values}}
  %0 = kiln.bitwise_and %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// prelu's slope broadcasts to the input, not the input to the slope.
func.func @prelu_slope_larger(%x: tensor<3xf32>, %s: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.prelu' op slope 'tensor<2x3xf32>' does not broadcast to the input 'tensor<3xf32>'}}
  %0 = kiln.prelu %x, %s : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{operands are not broadcastable: 'tensor<2x3xf32>' and 'tensor<4xf32>'}}
  // expected-error @+1 {{'kiln.add' op failed to infer returned types}}
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Two static dims other than 1 must agree, even when one side has `?` dims.
func.func @not_broadcastable_dynamic(%a: tensor<?x3xi64>, %b: tensor<?x2xi64>) -> tensor<?x?xi1> {
  // expected-error @+2 {{operands are not broadcastable: 'tensor<?x3xi64>' and 'tensor<?x2xi64>'}}
  // expected-error @+1 {{'kiln.equal' op failed to infer returned types}}
  %0 = kiln.equal %a, %b : (tensor<?x3xi64>, tensor<?x2xi64>) -> tensor<?x?xi1>
  return %0 : tensor<?x?xi1>
}

// -----

func.func @element_type_mismatch(%a: tensor<4xf32>, %b: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+2 {{operand element types differ: 'tensor<4xf32>' vs 'tensor<4xf16>'}}
  // expected-error @+1 {{'kiln.mul' op failed to infer returned types}}
  %0 = kiln.mul %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @predicate_element_type_mismatch(%a: tensor<4xi64>, %b: tensor<4xi32>) -> tensor<4xi1> {
  // expected-error @+2 {{operand element types differ: 'tensor<4xi64>' vs 'tensor<4xi32>'}}
  // expected-error @+1 {{'kiln.less' op failed to infer returned types}}
  %0 = kiln.less %a, %b : (tensor<4xi64>, tensor<4xi32>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @predicate_float_element_types(%a: tensor<4xf32>, %b: tensor<f16>) -> tensor<4xi1> {
  // expected-error @+2 {{operand element types differ: 'tensor<4xf32>' vs 'tensor<f16>'}}
  // expected-error @+1 {{'kiln.equal' op failed to infer returned types}}
  %0 = kiln.equal %a, %b : (tensor<4xf32>, tensor<f16>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @logic_not_i1(%a: tensor<4xf32>) -> tensor<4xi1> {
  // expected-error @+1 {{'kiln.and' op operands must be tensors of i1, got 'tensor<4xf32>'}}
  %0 = kiln.and %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @logic_not_i1_rhs(%a: tensor<4xi1>, %b: tensor<i8>) -> tensor<4xi1> {
  // expected-error @+1 {{'kiln.xor' op operands must be tensors of i1, got 'tensor<i8>'}}
  %0 = kiln.xor %a, %b : (tensor<4xi1>, tensor<i8>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @not_not_i1(%a: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'kiln.not' op operand #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = kiln.not %a : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @where_element_type_mismatch(%c: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+2 {{x and y element types differ: 'tensor<4xf32>' vs 'tensor<4xf16>'}}
  // expected-error @+1 {{'kiln.where' op failed to infer returned types}}
  %0 = kiln.where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @where_not_broadcastable(%c: tensor<3xi1>, %x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{condition, x and y are not broadcastable}}
  // expected-error @+1 {{'kiln.where' op failed to infer returned types}}
  %0 = kiln.where %c, %x, %y : (tensor<3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @gelu_bad_approximate(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.gelu' op approximate must be "none" or "tanh", got "erf"}}
  %0 = kiln.gelu %x {approximate = "erf"} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Generators
//===----------------------------------------------------------------------===//

// -----

func.func @range_zero_delta() -> tensor<?xi64> {
  %s = kiln.constant dense<0> : tensor<i64>
  %l = kiln.constant dense<10> : tensor<i64>
  %d = kiln.constant dense<0> : tensor<i64>
  // expected-error @+2 {{range delta is zero}}
  // expected-error @+1 {{'kiln.range' op failed to infer returned types}}
  %0 = kiln.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @range_not_scalar(%s: tensor<2xi64>, %l: tensor<i64>, %d: tensor<i64>) -> tensor<?xi64> {
  // expected-error @+1 {{'kiln.range' op start, limit and delta must be scalars}}
  %0 = kiln.range %s, %l, %d : (tensor<2xi64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @range_element_types(%s: tensor<i64>, %l: tensor<i32>, %d: tensor<i64>) -> tensor<?xi64> {
  // expected-error @+1 {{'kiln.range' op start, limit and delta must share an element type}}
  %0 = kiln.range %s, %l, %d : (tensor<i64>, tensor<i32>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @constant_of_shape_dynamic_length(%s: tensor<?xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{the shape operand needs a static length}}
  // expected-error @+1 {{'kiln.constant_of_shape' op failed to infer returned types}}
  %0 = kiln.constant_of_shape %s {value = 0.0 : f32} : (tensor<?xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @constant_of_shape_negative_dim() -> tensor<?x?xf32> {
  %s = kiln.constant dense<[2, -3]> : tensor<2xi64>
  // expected-error @+2 {{negative dim -3 in shape}}
  // expected-error @+1 {{'kiln.constant_of_shape' op failed to infer returned types}}
  %0 = kiln.constant_of_shape %s {value = 0.0 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_contraction_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{contraction dims differ: 3 vs 4}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// A 1-D rhs is a column vector: its only dim is the contraction dim.
func.func @matmul_vector_contraction_mismatch(%a: tensor<2x3xf32>, %v: tensor<4xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{contraction dims differ: 3 vs 4}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %a, %v : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @matmul_batch_mismatch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) -> tensor<?x3x5xf32> {
  // expected-error @+2 {{batch dims are not broadcastable: 'tensor<2x3x4xf32>' and 'tensor<3x4x5xf32>'}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<?x3x5xf32>
  return %0 : tensor<?x3x5xf32>
}

// -----

func.func @matmul_0d(%a: tensor<f32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{matmul operands must have rank >= 1}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_element_types(%a: tensor<2x3xf32>, %b: tensor<3x5xbf16>) -> tensor<2x5xf32> {
  // expected-error @+2 {{operand element types differ: 'tensor<2x3xf32>' vs 'tensor<3x5xbf16>'}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<2x3xf32>, tensor<3x5xbf16>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @gemm_not_2d(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{gemm operands A and B must be 2-D}}
  // expected-error @+1 {{'kiln.gemm' op failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// With transB, B is NxK: 4x3 against A's K = 4.
func.func @gemm_contraction_mismatch(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{contraction dims differ: 4 vs 3}}
  // expected-error @+1 {{'kiln.gemm' op failed to infer returned types}}
  %0 = kiln.gemm %a, %b {transB = true} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @gemm_element_types(%a: tensor<2x3xf32>, %b: tensor<3x4xf16>) -> tensor<2x4xf32> {
  // expected-error @+2 {{operand element types differ: 'tensor<2x3xf32>' vs 'tensor<3x4xf16>'}}
  // expected-error @+1 {{'kiln.gemm' op failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<2x3xf32>, tensor<3x4xf16>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @gemm_c_rank(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<1x2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op C must have rank <= 2, got 'tensor<1x2x4xf32>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<1x2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @gemm_c_not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<5xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{operands are not broadcastable: 'tensor<2x4xf32>' and 'tensor<5xf32>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<5xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// C broadcasts one way only: onto the result, never the result onto C.
func.func @gemm_c_larger_than_result(%a: tensor<1x3xf32>, %b: tensor<3x4xf32>, %c: tensor<2x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op C does not broadcast to the result 'tensor<1x4xf32>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<1x3xf32>, tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

func.func @gemm_c_element_type(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<4xf16>) -> tensor<2x4xf32> {
  // expected-error @+1 {{operand element types differ: 'tensor<2x4xf32>' vs 'tensor<4xf16>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf16>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @conv_rank(%x: tensor<1x3xf32>, %w: tensor<4x3xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{conv needs input and weight of equal rank >= 3}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {strides = array<i64>, pads = array<i64>, dilations = array<i64>}
       : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @conv_rank_1(%x: tensor<8xf32>, %w: tensor<3xf32>) -> tensor<?xf32> {
  // expected-error @+2 {{conv needs input and weight of equal rank >= 3}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {strides = array<i64>, pads = array<i64>, dilations = array<i64>}
       : (tensor<8xf32>, tensor<3xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{conv needs input and weight of equal rank >= 3}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @conv_attribute_sizes(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{conv needs 2 strides and dilations and 4 pads}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @conv_zero_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{strides and dilations must be positive}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 0>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

// Dilation 4 spreads a 3-wide kernel over 9 elements; the input has 8.
func.func @conv_kernel_too_large(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{kernel larger than padded input in dim 3}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 4>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @conv_element_types(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf16>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{operand element types differ: 'tensor<1x3x8x8xf32>' vs 'tensor<4x3x3x3xf16>'}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf16>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @conv_bias_element_type(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf16>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{operand element types differ: 'tensor<1x3x8x8xf32>' vs 'tensor<4xf16>'}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf16>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @conv_group_not_positive(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op group must be positive}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 0 : i64}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_channel_mismatch(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op input has 3 channels, weight expects 2 x 1 groups}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// With 2 groups the weight's channel dim is the channels of one group.
func.func @conv_group_channel_mismatch(%x: tensor<1x6x8x8xf32>, %w: tensor<4x6x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op input has 6 channels, weight expects 6 x 2 groups}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64}
       : (tensor<1x6x8x8xf32>, tensor<4x6x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_output_channels_not_divisible(%x: tensor<1x6x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op output channels 4 not divisible by group 3}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 3 : i64}
       : (tensor<1x6x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_bias_size(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op bias must be 1-D with one value per output channel}}
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_bias_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<1x4xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op bias must be 1-D with one value per output channel}}
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<1x4xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_negative_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x5x6xf32> {
  // expected-error @+1 {{'kiln.conv' op pads must be non-negative}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: -1, 0, 0, 0>, dilations = array<i64: 1, 1>}
       : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x5x6xf32>
  return %0 : tensor<1x4x5x6xf32>
}

//===----------------------------------------------------------------------===//
// Reductions and normalisations
//===----------------------------------------------------------------------===//

// -----

func.func @reduce_axes_unsorted(%x: tensor<2x3x4xf32>) -> tensor<1x3x1xf32> {
  // expected-error @+1 {{'kiln.reduce_sum' op axes must be sorted and unique}}
  %0 = kiln.reduce_sum %x axes = [2, 0] : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  return %0 : tensor<1x3x1xf32>
}

// -----

func.func @reduce_axes_repeated(%x: tensor<2x3x4xf32>) -> tensor<1x3x4xf32> {
  // expected-error @+1 {{'kiln.reduce_max' op axes must be sorted and unique}}
  %0 = kiln.reduce_max %x axes = [0, 0] : (tensor<2x3x4xf32>) -> tensor<1x3x4xf32>
  return %0 : tensor<1x3x4xf32>
}

// -----

func.func @reduce_axis_out_of_range(%x: tensor<2x3x4xf32>) -> tensor<?x?x?xf32> {
  // expected-error @+1 {{'kiln.reduce_mean' op axes must be within [0, 3)}}
  %0 = kiln.reduce_mean %x axes = [0, 3] : (tensor<2x3x4xf32>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

// Axes are normalised by the importer: a negative one is out of range here.
func.func @reduce_axis_negative(%x: tensor<2x3x4xf32>) -> tensor<?x?x?xf32> {
  // expected-error @+1 {{'kiln.reduce_prod' op axes must be within [0, 3)}}
  %0 = kiln.reduce_prod %x axes = [-1] : (tensor<2x3x4xf32>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

func.func @argmax_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<?x?xi64> {
  // expected-error @+1 {{'kiln.argmax' op axis 2 out of range for rank 2}}
  %0 = kiln.argmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<?x?xi64>
  return %0 : tensor<?x?xi64>
}

// -----

func.func @softmax_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.softmax' op axis 2 out of range for rank 2}}
  %0 = kiln.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @layer_norm_axis_out_of_range(%x: tensor<2x8xf32>, %g: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op axis 2 out of range for rank 2}}
  %0 = kiln.layer_norm %x, %g {axis = 2 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_scale_shape(%x: tensor<2x8xf32>, %g: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale/bias 'tensor<4xf32>' does not broadcast to the normalised dims}}
  %0 = kiln.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// The scale covers the normalised dims only (here the last one), not more.
func.func @layer_norm_scale_rank(%x: tensor<2x8xf32>, %g: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale/bias 'tensor<2x8xf32>' does not broadcast to the normalised dims}}
  %0 = kiln.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_bias_shape(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<2xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale/bias 'tensor<2xf32>' does not broadcast to the normalised dims}}
  %0 = kiln.layer_norm %x, %g, %b {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_element_type(%x: tensor<2x8xf32>, %g: tensor<8xf16>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale and bias must have the input's element type}}
  %0 = kiln.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf16>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @argmin_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<?x?xi64> {
  // expected-error @+1 {{'kiln.argmin' op axis -1 out of range for rank 2}}
  %0 = kiln.argmin %x {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<?x?xi64>
  return %0 : tensor<?x?xi64>
}

// -----

func.func @hardmax_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.hardmax' op axis 2 out of range for rank 2}}
  %0 = kiln.hardmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @cumsum_axis_out_of_range(%x: tensor<5xi64>) -> tensor<5xi64> {
  // expected-error @+1 {{'kiln.cumsum' op axis 1 out of range for rank 1}}
  %0 = kiln.cumsum %x {axis = 1 : i64} : (tensor<5xi64>) -> tensor<5xi64>
  return %0 : tensor<5xi64>
}

// -----

func.func @rms_norm_scale_shape(%x: tensor<2x8xf32>, %g: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.rms_norm' op scale/bias 'tensor<4xf32>' does not broadcast to the normalised dims}}
  %0 = kiln.rms_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @rms_norm_element_type(%x: tensor<2x8xf32>, %g: tensor<8xf16>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.rms_norm' op scale and bias must have the input's element type}}
  %0 = kiln.rms_norm %x, %g {axis = 1 : i64} : (tensor<2x8xf32>, tensor<8xf16>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

func.func @gather_elements_rank(%d: tensor<3x4xf32>, %i: tensor<3xi64>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.gather_elements' op indices must have the data's rank 2, got 'tensor<3xi64>'}}
  %0 = kiln.gather_elements %d, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @gather_elements_dim(%d: tensor<3x4xf32>, %i: tensor<5x2xi64>) -> tensor<5x2xf32> {
  // expected-error @+1 {{'kiln.gather_elements' op indices dim 0 (5) exceeds the data's (3)}}
  %0 = kiln.gather_elements %d, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<5x2xi64>) -> tensor<5x2xf32>
  return %0 : tensor<5x2xf32>
}

// -----

func.func @gather_axis_out_of_range(%x: tensor<2x3xf32>, %i: tensor<i64>) -> tensor<?xf32> {
  // expected-error @+1 {{'kiln.gather' op axis 2 out of range for rank 2}}
  %0 = kiln.gather %x, %i {axis = 2 : i64} : (tensor<2x3xf32>, tensor<i64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @gather_nd_batch_dims(%d: tensor<5x6xf32>, %i: tensor<5x1xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{gather_nd needs 0 <= batch_dims < min(rank(data), rank(indices))}}
  // expected-error @+1 {{'kiln.gather_nd' op failed to infer returned types}}
  %0 = kiln.gather_nd %d, %i {batch_dims = 2 : i64} : (tensor<5x6xf32>, tensor<5x1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// The index tuples are 3 long but data has only 2 dims.
func.func @gather_nd_tuple_too_long(%d: tensor<5x6xf32>, %i: tensor<4x3xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{the index tuple length (last dim of indices) must be static and within rank(data) - batch_dims}}
  // expected-error @+1 {{'kiln.gather_nd' op failed to infer returned types}}
  %0 = kiln.gather_nd %d, %i : (tensor<5x6xf32>, tensor<4x3xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @gather_nd_tuple_dynamic(%d: tensor<5x6xf32>, %i: tensor<4x?xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{the index tuple length (last dim of indices) must be static and within rank(data) - batch_dims}}
  // expected-error @+1 {{'kiln.gather_nd' op failed to infer returned types}}
  %0 = kiln.gather_nd %d, %i : (tensor<5x6xf32>, tensor<4x?xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @gather_nd_batch_mismatch(%d: tensor<5x6x7xf32>, %i: tensor<4x2x1xi64>) -> tensor<?x?x?xf32> {
  // expected-error @+2 {{batch dim 0 differs between data and indices}}
  // expected-error @+1 {{'kiln.gather_nd' op failed to infer returned types}}
  %0 = kiln.gather_nd %d, %i {batch_dims = 1 : i64} : (tensor<5x6x7xf32>, tensor<4x2x1xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

func.func @reshape_element_count(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[4, 2]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape 'tensor<2x3xf32>' (6 elements) to 8 elements}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_infer_not_divisible(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[4, -1]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape 'tensor<2x3xf32>' to a shape with 4 x -1 elements}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_two_infers(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+2 {{shape has more than one -1}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_invalid_dim(%x: tensor<6xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[-2, 3]> : tensor<2xi64>
  // expected-error @+2 {{invalid dim -2 in shape}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// 0 copies the input dim at the same position, which a rank-1 input lacks.
func.func @reshape_copy_out_of_range(%x: tensor<6xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[6, 0]> : tensor<2xi64>
  // expected-error @+2 {{shape copies dim 1 of a rank-1 input}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_dynamic_shape_length(%x: tensor<6xf32>, %s: tensor<?xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'kiln.reshape' op the shape operand needs a static length}}
  %0 = kiln.reshape %x, %s : (tensor<6xf32>, tensor<?xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @transpose_not_permutation(%x: tensor<2x3x4xf32>) -> tensor<2x2x4xf32> {
  // expected-error @+1 {{'kiln.transpose' op perm is not a permutation of [0, 3)}}
  %0 = kiln.transpose %x {perm = array<i64: 0, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x4xf32>
  return %0 : tensor<2x2x4xf32>
}

// -----

func.func @transpose_perm_size(%x: tensor<2x3x4xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{perm has 2 entries for a rank-3 input}}
  // expected-error @+1 {{'kiln.transpose' op failed to infer returned types}}
  %0 = kiln.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @transpose_perm_out_of_range(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'kiln.transpose' op perm is not a permutation of [0, 2)}}
  %0 = kiln.transpose %x {perm = array<i64: 2, 0>} : (tensor<2x3xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @slice_zero_step(%x: tensor<10xf32>) -> tensor<?xf32> {
  %s = kiln.constant dense<0> : tensor<1xi64>
  %e = kiln.constant dense<5> : tensor<1xi64>
  // expected-error @+2 {{slice step is zero}}
  // expected-error @+1 {{'kiln.slice' op failed to infer returned types}}
  %0 = kiln.slice %x, %s, %e, %s, %s : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// A zero step is caught even when the other bounds are computed at run time.
func.func @slice_zero_step_runtime_bounds(%x: tensor<10xf32>, %s: tensor<1xi64>) -> tensor<?xf32> {
  %a = kiln.constant dense<0> : tensor<1xi64>
  // expected-error @+2 {{slice step is zero}}
  // expected-error @+1 {{'kiln.slice' op failed to infer returned types}}
  %0 = kiln.slice %x, %s, %s, %a, %a : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @slice_axis_out_of_range(%x: tensor<10xf32>) -> tensor<?xf32> {
  %s = kiln.constant dense<0> : tensor<1xi64>
  %a = kiln.constant dense<-2> : tensor<1xi64>
  %t = kiln.constant dense<1> : tensor<1xi64>
  // expected-error @+2 {{slice axis -2 out of range}}
  // expected-error @+1 {{'kiln.slice' op failed to infer returned types}}
  %0 = kiln.slice %x, %s, %t, %a, %t : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @slice_parameter_lengths(%x: tensor<4x4xf32>, %s: tensor<2xi64>, %e: tensor<2xi64>, %a: tensor<1xi64>, %t: tensor<2xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'kiln.slice' op starts, ends, axes and steps must be 1-D of one static length}}
  %0 = kiln.slice %x, %s, %e, %a, %t : (tensor<4x4xf32>, tensor<2xi64>, tensor<2xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @slice_parameter_dynamic_length(%x: tensor<4xf32>, %s: tensor<?xi64>) -> tensor<?xf32> {
  // expected-error @+1 {{'kiln.slice' op starts, ends, axes and steps must be 1-D of one static length}}
  %0 = kiln.slice %x, %s, %s, %s, %s : (tensor<4xf32>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @concat_no_inputs() -> tensor<0xf32> {
  // expected-error @+1 {{'kiln.concat' op needs at least one input}}
  %0 = kiln.concat {axis = 0 : i64} : () -> tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

func.func @concat_axis_out_of_range(%a: tensor<2xf32>) -> tensor<?xf32> {
  // expected-error @+2 {{concat axis 1 out of range for 'tensor<2xf32>'}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat %a, %a {axis = 1 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @concat_rank_mismatch(%a: tensor<2xf32>, %b: tensor<2x1xf32>) -> tensor<?xf32> {
  // expected-error @+2 {{concat inputs differ in rank or element type}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2xf32>, tensor<2x1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @concat_element_type_mismatch(%a: tensor<2xi64>, %b: tensor<2xi32>) -> tensor<?xi64> {
  // expected-error @+2 {{concat inputs differ in rank or element type}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi32>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @concat_dim_mismatch(%a: tensor<2x3xf32>, %b: tensor<?x4xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{concat inputs differ in dim 1}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<?x4xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @split_sizes_sum(%x: tensor<2x10xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op sizes sum to 7, dim 1 is 10}}
  %0:2 = kiln.split %x {axis = 1 : i64, sizes = array<i64: 3, 4>} : (tensor<2x10xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>)
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<2x4xf32>
}

// -----

// One result per size.
func.func @split_result_count(%x: tensor<2x10xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'kiln.split' op has 1 results for 2 sizes}}
  %0 = kiln.split %x {axis = 1 : i64, sizes = array<i64: 5, 5>} : (tensor<2x10xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @split_axis_out_of_range(%x: tensor<2x10xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+2 {{split axis 2 out of range for 'tensor<2x10xf32>'}}
  // expected-error @+1 {{'kiln.split' op failed to infer returned types}}
  %0:2 = kiln.split %x {axis = 2 : i64, sizes = array<i64: 5, 5>} : (tensor<2x10xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>)
  return %0#0, %0#1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @split_axis_negative(%x: tensor<2x10xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+2 {{split axis -1 out of range for 'tensor<2x10xf32>'}}
  // expected-error @+1 {{'kiln.split' op failed to infer returned types}}
  %0:2 = kiln.split %x {axis = -1 : i64, sizes = array<i64: 5, 5>} : (tensor<2x10xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>)
  return %0#0, %0#1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @split_negative_size(%x: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  // expected-error @+2 {{negative split size -1}}
  // expected-error @+1 {{'kiln.split' op failed to infer returned types}}
  %0:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: -1, 5>} : (tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xf32>
}

// -----

func.func @expand_incompatible(%x: tensor<3x4xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[3, 5]> : tensor<2xi64>
  // expected-error @+2 {{cannot expand 'tensor<3x4xf32>': dim 1 is 4, target is 5}}
  // expected-error @+1 {{'kiln.expand' op failed to infer returned types}}
  %0 = kiln.expand %x, %s : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @expand_negative_dim(%x: tensor<1x5xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[-1, 5]> : tensor<2xi64>
  // expected-error @+2 {{negative dim -1 in shape}}
  // expected-error @+1 {{'kiln.expand' op failed to infer returned types}}
  %0 = kiln.expand %x, %s : (tensor<1x5xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @expand_dynamic_shape_length(%x: tensor<4xf32>, %s: tensor<?xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{the shape operand needs a static length}}
  // expected-error @+1 {{'kiln.expand' op failed to infer returned types}}
  %0 = kiln.expand %x, %s : (tensor<4xf32>, tensor<?xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @tile_repeat_count(%x: tensor<2x3xf32>, %r: tensor<3xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'kiln.tile' op needs one repeat per input dim}}
  %0 = kiln.tile %x, %r : (tensor<2x3xf32>, tensor<3xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @tile_negative_repeat(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %r = kiln.constant dense<[2, -1]> : tensor<2xi64>
  // expected-error @+2 {{negative repeat -1}}
  // expected-error @+1 {{'kiln.tile' op failed to infer returned types}}
  %0 = kiln.tile %x, %r : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @unsqueeze_axes_unsorted(%x: tensor<3xf32>) -> tensor<1x3x1xf32> {
  // expected-error @+1 {{'kiln.unsqueeze' op axes must be sorted and unique}}
  %0 = kiln.unsqueeze %x {axes = array<i64: 2, 0>} : (tensor<3xf32>) -> tensor<1x3x1xf32>
  return %0 : tensor<1x3x1xf32>
}

// -----

// Output rank 2: axis 2 does not exist.
func.func @unsqueeze_axis_out_of_range(%x: tensor<3xf32>) -> tensor<?x?xf32> {
  // expected-error @+2 {{unsqueeze axes out of range or repeated}}
  // expected-error @+1 {{'kiln.unsqueeze' op failed to infer returned types}}
  %0 = kiln.unsqueeze %x {axes = array<i64: 2>} : (tensor<3xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @unsqueeze_axis_repeated(%x: tensor<3xf32>) -> tensor<?x?x?xf32> {
  // expected-error @+1 {{'kiln.unsqueeze' op axes must be sorted and unique}}
  %0 = kiln.unsqueeze %x {axes = array<i64: 0, 0>} : (tensor<3xf32>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

func.func @squeeze_not_one(%x: tensor<1x3xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{'kiln.squeeze' op cannot squeeze dim 1 of size 3}}
  %0 = kiln.squeeze %x {axes = array<i64: 1>} : (tensor<1x3xf32>) -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @squeeze_axes_unsorted(%x: tensor<1x3x1xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.squeeze' op axes must be sorted and unique}}
  %0 = kiln.squeeze %x {axes = array<i64: 2, 0>} : (tensor<1x3x1xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @squeeze_axis_out_of_range(%x: tensor<1x3xf32>) -> tensor<?xf32> {
  // expected-error @+2 {{squeeze axis 2 out of range for 'tensor<1x3xf32>'}}
  // expected-error @+1 {{'kiln.squeeze' op failed to infer returned types}}
  %0 = kiln.squeeze %x {axes = array<i64: 2>} : (tensor<1x3xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @squeeze_axis_negative(%x: tensor<1x3xf32>) -> tensor<?xf32> {
  // expected-error @+2 {{squeeze axis -2 out of range for 'tensor<1x3xf32>'}}
  // expected-error @+1 {{'kiln.squeeze' op failed to infer returned types}}
  %0 = kiln.squeeze %x {axes = array<i64: -2>} : (tensor<1x3xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @trilu_rank(%x: tensor<8xf32>, %k: tensor<i64>) -> tensor<8xf32> {
  // expected-error @+1 {{'kiln.trilu' op input must have rank >= 2}}
  %0 = kiln.trilu %x, %k : (tensor<8xf32>, tensor<i64>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @trilu_k_not_scalar(%x: tensor<8x8xf32>, %k: tensor<2xi64>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'kiln.trilu' op k must be a scalar}}
  %0 = kiln.trilu %x, %k : (tensor<8x8xf32>, tensor<2xi64>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

// -----

func.func @shape_end_out_of_range(%x: tensor<?x8xf32>) -> tensor<?xi64> {
  // expected-error @+1 {{'kiln.shape' op range [0, 3) is not within rank 2}}
  %0 = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<?x8xf32>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @shape_start_after_end(%x: tensor<?x8xf32>) -> tensor<?xi64> {
  // expected-error @+1 {{'kiln.shape' op range [2, 1) is not within rank 2}}
  %0 = kiln.shape %x {start = 2 : i64, end = 1 : i64} : (tensor<?x8xf32>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @shape_negative_start(%x: tensor<?x8xf32>) -> tensor<?xi64> {
  // expected-error @+1 {{'kiln.shape' op range [-1, 2) is not within rank 2}}
  %0 = kiln.shape %x {start = -1 : i64, end = 2 : i64} : (tensor<?x8xf32>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @shape_result_length(%x: tensor<?x8xf32>) -> tensor<3xi64> {
  // expected-error @+2 {{'kiln.shape' op inferred type(s) 'tensor<2xi64>' are incompatible with return type(s) of operation 'tensor<3xi64>'}}
  // expected-error @+1 {{'kiln.shape' op failed to infer returned types}}
  %0 = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8xf32>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}
