// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// Discardable kiln.* attributes are verified where they appear.

func.func @epilogue_operand(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'kiln.gemm_epilogue' names an operand it does not have (1 operands)}}
  %y = math.exp %x {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 3, residual = -1, activation = none>} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @epilogue_roles(%x: tensor<4xf32>, %z: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'kiln.gemm_epilogue' gives one operand two roles}}
  %y = arith.addf %x, %z {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 0, residual = -1, activation = relu>} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @epilogue_dictionary(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{attribute 'kiln.gemm_epilogue' must be a #kiln.gemm_epilogue}}
  %y = math.exp %x {kiln.gemm_epilogue = {gemm = 0 : i64, bias = -1 : i64, residual = -1 : i64, activation = 0 : i64}} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @panel_width(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{attribute 'kiln.packed_rhs' must be a positive integer (the panel width)}}
  %y = math.exp %x {kiln.packed_rhs = 0 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @misspelled(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{has an unknown kiln attribute 'kiln.gemm_epilog'}}
  %y = math.exp %x {kiln.gemm_epilog = 1 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// expected-error @below {{attribute 'kiln.runtime_context' must be a unit attribute on an index argument}}
func.func @context_type(%ctx: f32 {kiln.runtime_context}) {
  return
}

// -----

// expected-error @below {{attribute 'kiln.dim_names' must be one string per dim of a ranked argument}}
func.func @dim_names(%x: tensor<?x4xf32> {kiln.dim_names = ["batch"]}) {
  return
}

// -----

// expected-error @below {{has an unknown kiln result attribute 'kiln.input_name'}}
func.func @output_name(%x: tensor<4xf32>) -> (tensor<4xf32> {kiln.input_name = "y"}) {
  return %x : tensor<4xf32>
}

// -----

// expected-error @below {{attribute 'kiln.gemm_tile' must be a {target, mr, nr} dictionary on the module}}
module attributes {kiln.gemm_tile = {target = "avx512", mr = 8 : i64}} {
}

// -----

// The calibrated activation types belong on the module.
// expected-error @below {{attribute 'kiln.activation_quantization' must be a dictionary on the module (ONNX node name to quantized type)}}
func.func @activation_quantization_on_a_function() attributes {kiln.activation_quantization = {}} {
  return
}

// -----

// Signed storage is not what the runtime's int8 GEMM takes for A.
// expected-error @below {{attribute 'kiln.activation_quantization': node 'fc1' must map to a type !quant.uniform<u8:f32, scale:zero_point>}}
module attributes {kiln.activation_quantization = {fc1 = !quant.uniform<i8:f32, 0.5:3>}} {
}

// -----

// A narrowed storage range (u8<1:255>) is not either.
// expected-error @below {{node 'fc1' must map to a type !quant.uniform<u8:f32, scale:zero_point>}}
module attributes {kiln.activation_quantization = {fc1 = !quant.uniform<u8<1:255>:f32, 0.5:3>}} {
}

// -----

// Nor a per-channel type, or a value that is not a type.
// expected-error @below {{node 'fc1' must map to a type !quant.uniform<u8:f32, scale:zero_point>}}
module attributes {kiln.activation_quantization = {fc1 = !quant.uniform<u8:f32:1, {0.5:3, 0.25:4}>}} {
}

// -----

// expected-error @below {{node 'fc2' must map to a type !quant.uniform<u8:f32, scale:zero_point>}}
module attributes {kiln.activation_quantization = {fc2 = 0.5 : f32}} {
}

// -----

// On a scalar argument of a function that is not lowered: still an error.
// expected-error @below {{attribute 'kiln.dim_names' must be one string per dim of a ranked argument}}
func.func @dim_names_on_index(%x: index {kiln.dim_names = ["batch"]}) {
  return
}

// -----

// A lowered function's argument keeps the tensor's names (kiln compile
// drops them after the pipeline): its LLVM pointer and descriptor fields.
llvm.func @lowered(%p: !llvm.ptr {kiln.dim_names = ["batch", "sequence"]},
                   %size: i64 {kiln.dim_names = ["batch", "sequence"]}) {
  llvm.return
}
