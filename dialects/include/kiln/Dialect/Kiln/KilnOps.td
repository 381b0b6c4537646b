//===- KilnOps.td - kiln dialect operations ------------------*- tablegen -*-===//
//
// Ops are grouped as the ONNX operator families they model. Attributes that
// ONNX passes as constant inputs (axes, perm, split sizes) are attributes
// here; inputs that may be computed at run time with symbolic dims (reshape's
// shape, slice bounds, expand's shape) stay operands and are folded to
// constants when shapes are known.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_OPS_TD
#define KILN_DIALECT_KILN_OPS_TD

include "kiln/Dialect/Kiln/KilnBase.td"
include "kiln/Dialect/Kiln/KilnAttrs.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Kiln_ConstantOp : Kiln_Op<"constant", [ConstantLike]> {
  let summary = "A constant tensor (weights are dense resource blobs)";
  let description = [{
    Weights imported from ONNX initializers are `dense_resource` blobs, so the
    IR never prints them element by element; small constants are `dense`.

    ```mlir
    %w = kiln.constant dense_resource<encoder_0_weight> : tensor<768x768xf32>
    %s = kiln.constant dense<[1, 128, 12, 64]> : tensor<4xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Kiln_ConstantOfShapeOp : Kiln_Op<"constant_of_shape"> {
  let summary = "A tensor of the given (possibly computed) shape filled with one value";
  let description = [{
    ```mlir
    %0 = kiln.constant_of_shape %shape {value = 0.0 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Kiln_ShapeTensor:$shape, TypedAttrInterface:$value);
  let results = (outs Kiln_Tensor:$output);
  let hasFolder = 1;
}

def Kiln_RangeOp : Kiln_Op<"range"> {
  let summary = "A 1-D sequence start, start+delta, ... below limit (ONNX Range)";
  let description = [{
    ```mlir
    %0 = kiln.range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$start, Kiln_Tensor:$limit, Kiln_Tensor:$delta);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic (ONNX broadcasting)
//===----------------------------------------------------------------------===//

def Kiln_AddOp : Kiln_ArithmeticOp<"add", [Commutative]> {
  let summary = "Elementwise addition with broadcasting";
  let description = [{
    ```mlir
    %0 = kiln.add %a, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
    ```
  }];
}
def Kiln_SubOp : Kiln_ArithmeticOp<"sub"> {
  let summary = "Elementwise subtraction with broadcasting";
  let description = [{ `%0 = kiln.sub %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>` }];
}
def Kiln_MulOp : Kiln_ArithmeticOp<"mul", [Commutative]> {
  let summary = "Elementwise multiplication with broadcasting";
  let description = [{ `%0 = kiln.mul %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>` }];
}
def Kiln_DivOp : Kiln_ArithmeticOp<"div"> {
  let summary = "Elementwise division with broadcasting (integer division truncates)";
  let description = [{ `%0 = kiln.div %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>` }];
}
def Kiln_ModOp : Kiln_ArithmeticOp<"mod"> {
  let summary = "Elementwise remainder; `fmod` selects C fmod, else the sign follows the divisor";
  let description = [{ `%0 = kiln.mod %a, %b {fmod = false} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>` }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs,
                   DefaultValuedAttr<BoolAttr, "false">:$fmod);
}
def Kiln_PowOp : Kiln_ArithmeticOp<"pow"> {
  let summary = "Elementwise power with broadcasting";
  let description = [{ `%0 = kiln.pow %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>` }];
}
def Kiln_MaxOp : Kiln_ArithmeticOp<"max", [Commutative]> {
  let summary = "Elementwise maximum with broadcasting";
  let description = [{ `%0 = kiln.max %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>` }];
}
def Kiln_MinOp : Kiln_ArithmeticOp<"min", [Commutative]> {
  let summary = "Elementwise minimum with broadcasting";
  let description = [{ `%0 = kiln.min %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>` }];
}

//===----------------------------------------------------------------------===//
// Comparisons and logic (result i1)
//===----------------------------------------------------------------------===//

def Kiln_EqualOp : Kiln_PredicateOp<"equal", [Commutative]> {
  let summary = "Elementwise a == b";
  let description = [{ `%0 = kiln.equal %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>` }];
}
def Kiln_LessOp : Kiln_PredicateOp<"less"> {
  let summary = "Elementwise a < b";
  let description = [{ `%0 = kiln.less %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}
def Kiln_LessEqualOp : Kiln_PredicateOp<"less_equal"> {
  let summary = "Elementwise a <= b";
  let description = [{ `%0 = kiln.less_equal %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}
def Kiln_GreaterOp : Kiln_PredicateOp<"greater"> {
  let summary = "Elementwise a > b";
  let description = [{ `%0 = kiln.greater %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}
def Kiln_GreaterEqualOp : Kiln_PredicateOp<"greater_equal"> {
  let summary = "Elementwise a >= b";
  let description = [{ `%0 = kiln.greater_equal %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}
def Kiln_AndOp : Kiln_PredicateOp<"and", [Commutative]> {
  let summary = "Elementwise logical and of i1 tensors";
  let description = [{ `%0 = kiln.and %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>` }];
  let hasVerifier = 1;
}
def Kiln_OrOp : Kiln_PredicateOp<"or", [Commutative]> {
  let summary = "Elementwise logical or of i1 tensors";
  let description = [{ `%0 = kiln.or %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>` }];
  let hasVerifier = 1;
}
def Kiln_XorOp : Kiln_PredicateOp<"xor", [Commutative]> {
  let summary = "Elementwise logical xor of i1 tensors";
  let description = [{ `%0 = kiln.xor %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>` }];
  let hasVerifier = 1;
}

def Kiln_PReluOp : Kiln_BinaryOp<"prelu"> {
  let summary = "Elementwise x < 0 ? slope * x : x, slope broadcast to x";
  let description = [{
    ONNX PRelu: the slope broadcasts to the input (unidirectionally), so the
    result has the input's shape.
    `%0 = kiln.prelu %x, %slope : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs);
  let hasVerifier = 1;
}
def Kiln_BitwiseAndOp : Kiln_BinaryOp<"bitwise_and", [Commutative]> {
  let summary = "Elementwise bitwise and of integers with broadcasting";
  let description = [{ `%0 = kiln.bitwise_and %a, %b : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>` }];
  let arguments = (ins Kiln_IntegerTensor:$lhs, Kiln_IntegerTensor:$rhs);
}
def Kiln_BitwiseOrOp : Kiln_BinaryOp<"bitwise_or", [Commutative]> {
  let summary = "Elementwise bitwise or of integers with broadcasting";
  let description = [{ `%0 = kiln.bitwise_or %a, %b : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>` }];
  let arguments = (ins Kiln_IntegerTensor:$lhs, Kiln_IntegerTensor:$rhs);
}
def Kiln_BitwiseXorOp : Kiln_BinaryOp<"bitwise_xor", [Commutative]> {
  let summary = "Elementwise bitwise xor of integers with broadcasting";
  let description = [{ `%0 = kiln.bitwise_xor %a, %b : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>` }];
  let arguments = (ins Kiln_IntegerTensor:$lhs, Kiln_IntegerTensor:$rhs);
}

def Kiln_BitShiftOp : Kiln_BinaryOp<"bit_shift"> {
  let summary = "Elementwise shift of unsigned integers by the rhs's bits, with broadcasting";
  let description = [{
    `left` shifts towards the high bits, else towards the low bits; a shift
    by the bit width or more gives 0.
    `%0 = kiln.bit_shift %a, %b {left = true} : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>`
  }];
  let arguments = (ins Kiln_IntegerTensor:$lhs, Kiln_IntegerTensor:$rhs, BoolAttr:$left);
}

def Kiln_WhereOp : Kiln_Op<"where"> {
  let summary = "Elementwise select: condition ? x : y, all three broadcast";
  let description = [{
    ```mlir
    %0 = kiln.where %c, %x, %y : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_BoolTensor:$condition, Kiln_Tensor:$x, Kiln_Tensor:$y);
  let results = (outs Kiln_Tensor:$output);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Unary math
//===----------------------------------------------------------------------===//

def Kiln_NegOp : Kiln_UnaryOp<"neg", Kiln_Tensor> {
  let summary = "Elementwise negation";
  let description = [{ `%0 = kiln.neg %x : tensor<4xf32>` }];
  let hasFolder = 1;
}
def Kiln_AbsOp : Kiln_UnaryOp<"abs", Kiln_Tensor> {
  let summary = "Elementwise absolute value";
  let description = [{ `%0 = kiln.abs %x : tensor<4xf32>` }];
}
def Kiln_SignOp : Kiln_UnaryOp<"sign", Kiln_Tensor> {
  let summary = "Elementwise sign (-1, 0 or 1)";
  let description = [{ `%0 = kiln.sign %x : tensor<4xf32>` }];
}
def Kiln_ExpOp : Kiln_UnaryOp<"exp", Kiln_FloatTensor> {
  let summary = "Elementwise e^x";
  let description = [{ `%0 = kiln.exp %x : tensor<4xf32>` }];
}
def Kiln_LogOp : Kiln_UnaryOp<"log", Kiln_FloatTensor> {
  let summary = "Elementwise natural logarithm";
  let description = [{ `%0 = kiln.log %x : tensor<4xf32>` }];
}
def Kiln_SqrtOp : Kiln_UnaryOp<"sqrt", Kiln_FloatTensor> {
  let summary = "Elementwise square root";
  let description = [{ `%0 = kiln.sqrt %x : tensor<4xf32>` }];
}
def Kiln_ReciprocalOp : Kiln_UnaryOp<"reciprocal", Kiln_FloatTensor> {
  let summary = "Elementwise 1/x";
  let description = [{ `%0 = kiln.reciprocal %x : tensor<4xf32>` }];
}
def Kiln_ErfOp : Kiln_UnaryOp<"erf", Kiln_FloatTensor> {
  let summary = "Elementwise Gauss error function";
  let description = [{ `%0 = kiln.erf %x : tensor<4xf32>` }];
}
def Kiln_TanhOp : Kiln_UnaryOp<"tanh", Kiln_FloatTensor> {
  let summary = "Elementwise hyperbolic tangent";
  let description = [{ `%0 = kiln.tanh %x : tensor<4xf32>` }];
}
def Kiln_SigmoidOp : Kiln_UnaryOp<"sigmoid", Kiln_FloatTensor> {
  let summary = "Elementwise 1/(1+e^-x)";
  let description = [{ `%0 = kiln.sigmoid %x : tensor<4xf32>` }];
}
def Kiln_SinOp : Kiln_UnaryOp<"sin", Kiln_FloatTensor> {
  let summary = "Elementwise sine";
  let description = [{ `%0 = kiln.sin %x : tensor<4xf32>` }];
}
def Kiln_CosOp : Kiln_UnaryOp<"cos", Kiln_FloatTensor> {
  let summary = "Elementwise cosine";
  let description = [{ `%0 = kiln.cos %x : tensor<4xf32>` }];
}
def Kiln_FloorOp : Kiln_UnaryOp<"floor", Kiln_FloatTensor> {
  let summary = "Elementwise floor";
  let description = [{ `%0 = kiln.floor %x : tensor<4xf32>` }];
}
def Kiln_CeilOp : Kiln_UnaryOp<"ceil", Kiln_FloatTensor> {
  let summary = "Elementwise ceiling";
  let description = [{ `%0 = kiln.ceil %x : tensor<4xf32>` }];
}
def Kiln_RoundOp : Kiln_UnaryOp<"round", Kiln_FloatTensor> {
  let summary = "Elementwise round half to even";
  let description = [{ `%0 = kiln.round %x : tensor<4xf32>` }];
}
def Kiln_ReluOp : Kiln_UnaryOp<"relu", Kiln_Tensor> {
  let summary = "Elementwise max(x, 0)";
  let description = [{ `%0 = kiln.relu %x : tensor<4xf32>` }];
}
def Kiln_NotOp : Kiln_UnaryOp<"not", Kiln_BoolTensor> {
  let summary = "Elementwise logical not";
  let description = [{ `%0 = kiln.not %x : tensor<4xi1>` }];
  let hasFolder = 1;
}
def Kiln_LeakyReluOp : Kiln_UnaryOp<"leaky_relu", Kiln_FloatTensor> {
  let summary = "Elementwise x < 0 ? alpha*x : x";
  let description = [{ `%0 = kiln.leaky_relu %x {alpha = 0.01 : f32} : tensor<4xf32>` }];
  let arguments = (ins Kiln_FloatTensor:$input, DefaultValuedAttr<F32Attr, "0.01f">:$alpha);
}
def Kiln_GeluOp : Kiln_UnaryOp<"gelu", Kiln_FloatTensor> {
  let summary = "Gaussian error linear unit, exact (erf) or tanh approximation";
  let description = [{
    ONNX Gelu (opset 20); the fusion pass also forms it from the erf and tanh
    formulas that exporters write out.
    `%0 = kiln.gelu %x {approximate = "tanh"} : tensor<4xf32>`
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$approximate);
  let hasVerifier = 1;
}
def Kiln_ClipOp : Kiln_UnaryOp<"clip", Kiln_Tensor> {
  let summary = "Elementwise clamp to [min, max] (either bound optional)";
  let description = [{ `%0 = kiln.clip %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<4xf32>` }];
  let arguments = (ins Kiln_Tensor:$input, OptionalAttr<F64Attr>:$min,
                   OptionalAttr<F64Attr>:$max);
}

def Kiln_TanOp : Kiln_UnaryOp<"tan", Kiln_FloatTensor> {
  let summary = "Elementwise tangent";
  let description = [{ `%0 = kiln.tan %x : tensor<4xf32>` }];
}
def Kiln_AsinOp : Kiln_UnaryOp<"asin", Kiln_FloatTensor> {
  let summary = "Elementwise arcsine";
  let description = [{ `%0 = kiln.asin %x : tensor<4xf32>` }];
}
def Kiln_AcosOp : Kiln_UnaryOp<"acos", Kiln_FloatTensor> {
  let summary = "Elementwise arccosine";
  let description = [{ `%0 = kiln.acos %x : tensor<4xf32>` }];
}
def Kiln_AtanOp : Kiln_UnaryOp<"atan", Kiln_FloatTensor> {
  let summary = "Elementwise arctangent";
  let description = [{ `%0 = kiln.atan %x : tensor<4xf32>` }];
}
def Kiln_SinhOp : Kiln_UnaryOp<"sinh", Kiln_FloatTensor> {
  let summary = "Elementwise hyperbolic sine";
  let description = [{ `%0 = kiln.sinh %x : tensor<4xf32>` }];
}
def Kiln_CoshOp : Kiln_UnaryOp<"cosh", Kiln_FloatTensor> {
  let summary = "Elementwise hyperbolic cosine";
  let description = [{ `%0 = kiln.cosh %x : tensor<4xf32>` }];
}
def Kiln_AsinhOp : Kiln_UnaryOp<"asinh", Kiln_FloatTensor> {
  let summary = "Elementwise inverse hyperbolic sine";
  let description = [{ `%0 = kiln.asinh %x : tensor<4xf32>` }];
}
def Kiln_AcoshOp : Kiln_UnaryOp<"acosh", Kiln_FloatTensor> {
  let summary = "Elementwise inverse hyperbolic cosine";
  let description = [{ `%0 = kiln.acosh %x : tensor<4xf32>` }];
}
def Kiln_AtanhOp : Kiln_UnaryOp<"atanh", Kiln_FloatTensor> {
  let summary = "Elementwise inverse hyperbolic tangent";
  let description = [{ `%0 = kiln.atanh %x : tensor<4xf32>` }];
}
def Kiln_SoftsignOp : Kiln_UnaryOp<"softsign", Kiln_FloatTensor> {
  let summary = "Elementwise x / (1 + |x|)";
  let description = [{ `%0 = kiln.softsign %x : tensor<4xf32>` }];
}
def Kiln_SoftplusOp : Kiln_UnaryOp<"softplus", Kiln_FloatTensor> {
  let summary = "Elementwise log(1 + e^x)";
  let description = [{ `%0 = kiln.softplus %x : tensor<4xf32>` }];
}
def Kiln_MishOp : Kiln_UnaryOp<"mish", Kiln_FloatTensor> {
  let summary = "Elementwise x * tanh(log(1 + e^x))";
  let description = [{ `%0 = kiln.mish %x : tensor<4xf32>` }];
}
def Kiln_HardSwishOp : Kiln_UnaryOp<"hard_swish", Kiln_FloatTensor> {
  let summary = "Elementwise x * max(0, min(1, x / 6 + 1 / 2))";
  let description = [{ `%0 = kiln.hard_swish %x : tensor<4xf32>` }];
}
def Kiln_HardSigmoidOp : Kiln_UnaryOp<"hard_sigmoid", Kiln_FloatTensor> {
  let summary = "Elementwise max(0, min(1, alpha * x + beta))";
  let description = [{ `%0 = kiln.hard_sigmoid %x {alpha = 0.2 : f32, beta = 0.5 : f32} : tensor<4xf32>` }];
  let arguments = (ins Kiln_FloatTensor:$input, DefaultValuedAttr<F32Attr, "0.2f">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.5f">:$beta);
}
def Kiln_EluOp : Kiln_UnaryOp<"elu", Kiln_FloatTensor> {
  let summary = "Elementwise x < 0 ? alpha * (e^x - 1) : x";
  let description = [{ `%0 = kiln.elu %x {alpha = 1.0 : f32} : tensor<4xf32>` }];
  let arguments = (ins Kiln_FloatTensor:$input, DefaultValuedAttr<F32Attr, "1.0f">:$alpha);
}
def Kiln_SeluOp : Kiln_UnaryOp<"selu", Kiln_FloatTensor> {
  let summary = "Elementwise gamma * (x <= 0 ? alpha * (e^x - 1) : x)";
  let description = [{
    `%0 = kiln.selu %x {alpha = 1.67326319 : f32, gamma = 1.05070102 : f32} : tensor<4xf32>`
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                   DefaultValuedAttr<F32Attr, "1.67326319217681884765625f">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.05070102214813232421875f">:$gamma);
}
def Kiln_ThresholdedReluOp : Kiln_UnaryOp<"thresholded_relu", Kiln_FloatTensor> {
  let summary = "Elementwise x > alpha ? x : 0";
  let description = [{ `%0 = kiln.thresholded_relu %x {alpha = 1.0 : f32} : tensor<4xf32>` }];
  let arguments = (ins Kiln_FloatTensor:$input, DefaultValuedAttr<F32Attr, "1.0f">:$alpha);
}
def Kiln_BitwiseNotOp : Kiln_UnaryOp<"bitwise_not", Kiln_IntegerTensor> {
  let summary = "Elementwise bitwise complement of integers";
  let description = [{ `%0 = kiln.bitwise_not %x : tensor<4xi32>` }];
}

def Kiln_IsNaNOp : Kiln_Op<"is_nan"> {
  let summary = "Elementwise x != x: whether each element is NaN";
  let description = [{ `%0 = kiln.is_nan %x : (tensor<4xf32>) -> tensor<4xi1>` }];
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_BoolTensor:$output);
}
def Kiln_IsInfOp : Kiln_Op<"is_inf"> {
  let summary = "Elementwise test for +inf and/or -inf (detect_positive, detect_negative)";
  let description = [{
    `%0 = kiln.is_inf %x {detect_negative = false} : (tensor<4xf32>) -> tensor<4xi1>`
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                   DefaultValuedAttr<BoolAttr, "true">:$detect_negative,
                   DefaultValuedAttr<BoolAttr, "true">:$detect_positive);
  let results = (outs Kiln_BoolTensor:$output);
}

def Kiln_CastOp : Kiln_Op<"cast"> {
  let summary = "Elementwise conversion to another element type (ONNX Cast)";
  let description = [{
    `%0 = kiln.cast %x : (tensor<4xi64>) -> tensor<4xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$input, TypeAttr:$to);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` $to";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Kiln_MatMulOp : Kiln_Op<"matmul"> {
  let summary = "Matrix product with numpy semantics (batch broadcasting, 1-D promotion)";
  let description = [{
    ```mlir
    %0 = kiln.matmul %a, %b : (tensor<?x128x768xf32>, tensor<768x3072xf32>) -> tensor<?x128x3072xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$output);
}

def Kiln_GemmOp : Kiln_Op<"gemm"> {
  let summary = "alpha * op(A) * op(B) + beta * C on 2-D tensors (ONNX Gemm)";
  let description = [{
    ```mlir
    %0 = kiln.gemm %a, %b, %c {transB = true} : (tensor<?x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<?x3072xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$a, Kiln_FloatTensor:$b,
                   Optional<Kiln_FloatTensor>:$c,
                   DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0f">:$beta,
                   DefaultValuedAttr<BoolAttr, "false">:$transA,
                   DefaultValuedAttr<BoolAttr, "false">:$transB);
  let results = (outs Kiln_FloatTensor:$output);
  let hasVerifier = 1;
}

// Float convolutions, and i32 ones (ONNX ConvInteger, whose operands the
// importer widens and shifts by their zero points).
def Kiln_ConvTensor : RankedTensorOf<[AnyFloat, I32]>;

def Kiln_ConvOp : Kiln_Op<"conv"> {
  let summary = "N-D convolution, NCHW layout, explicit pads (ONNX Conv)";
  let description = [{
    `pads` holds the begin pads of every spatial dim, then the end pads.
    Operands are floats or i32 (an integer convolution accumulates in i32).
    ```mlir
    %0 = kiln.conv %x, %w, %b {strides = array<i64: 16, 16>, pads = array<i64: 0, 0, 0, 0>,
           dilations = array<i64: 1, 1>, group = 1 : i64}
         : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>) -> tensor<?x768x14x14xf32>
    ```
  }];
  let arguments = (ins Kiln_ConvTensor:$input, Kiln_ConvTensor:$weight,
                   Optional<Kiln_ConvTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Kiln_ConvTensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and normalisations
//===----------------------------------------------------------------------===//

def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum"> {
  let summary = "Sum over the given axes";
  let description = [{ `%0 = kiln.reduce_sum %x axes = [1] : (tensor<2x3xf32>) -> tensor<2x1xf32>` }];
}
def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean"> {
  let summary = "Mean over the given axes";
  let description = [{ `%0 = kiln.reduce_mean %x axes = [2] : (tensor<1x8x768xf32>) -> tensor<1x8x1xf32>` }];
}
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max"> {
  let summary = "Maximum over the given axes";
  let description = [{ `%0 = kiln.reduce_max %x axes = [1] : (tensor<2x3xf32>) -> tensor<2x1xf32>` }];
}
def Kiln_ReduceMinOp : Kiln_ReduceOp<"reduce_min"> {
  let summary = "Minimum over the given axes";
  let description = [{ `%0 = kiln.reduce_min %x axes = [1] : (tensor<2x3xf32>) -> tensor<2x1xf32>` }];
}
def Kiln_ReduceProdOp : Kiln_ReduceOp<"reduce_prod"> {
  let summary = "Product over the given axes";
  let description = [{ `%0 = kiln.reduce_prod %x axes = [1] : (tensor<2x3xf32>) -> tensor<2x1xf32>` }];
}

def Kiln_ArgMaxOp : Kiln_Op<"argmax"> {
  let summary = "Index (i64) of the maximum along one axis; first occurrence unless select_last_index";
  let description = [{ `%0 = kiln.argmax %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi64>` }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                   DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

def Kiln_ArgMinOp : Kiln_Op<"argmin"> {
  let summary = "Index (i64) of the minimum along one axis; first occurrence unless select_last_index";
  let description = [{ `%0 = kiln.argmin %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi64>` }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                   DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

def Kiln_HardmaxOp : Kiln_Op<"hardmax"> {
  let summary = "1 at the first maximum along one axis, 0 elsewhere (opset 13 semantics)";
  let description = [{ `%0 = kiln.hardmax %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>` }];
  let arguments = (ins Kiln_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Kiln_FloatTensor:$output);
  let hasVerifier = 1;
}

def Kiln_CumSumOp : Kiln_Op<"cumsum"> {
  let summary = "Running sum along one axis; `exclusive` leaves out the element itself, `reverse` runs from the end";
  let description = [{
    `%0 = kiln.cumsum %x {axis = 0 : i64, exclusive = true} : (tensor<5xf32>) -> tensor<5xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                   DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

def Kiln_SoftmaxOp : Kiln_Op<"softmax"> {
  let summary = "exp(x - max) / sum along one axis (opset 13 semantics)";
  let description = [{ `%0 = kiln.softmax %x {axis = 3 : i64} : (tensor<1x12x8x8xf32>) -> tensor<1x12x8x8xf32>` }];
  let arguments = (ins Kiln_FloatTensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$log);
  let results = (outs Kiln_FloatTensor:$output);
  let hasVerifier = 1;
}

def Kiln_LayerNormOp : Kiln_Op<"layer_norm"> {
  let summary = "Normalise over the trailing dims from `axis`, then scale and shift";
  let description = [{
    ```mlir
    %0 = kiln.layer_norm %x, %gamma, %beta {axis = 2 : i64, epsilon = 1.0e-12 : f32}
         : (tensor<?x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                   Optional<Kiln_FloatTensor>:$bias, I64Attr:$axis,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Kiln_FloatTensor:$output);
  let hasVerifier = 1;
}

def Kiln_RmsNormOp : Kiln_Op<"rms_norm"> {
  let summary = "x / sqrt(mean(x^2) + epsilon) * scale over the trailing dims from `axis`";
  let description = [{
    ONNX RMSNormalization (opset 23), computed in the input's element type.
    ```mlir
    %0 = kiln.rms_norm %x, %gamma {axis = 2 : i64, epsilon = 1.0e-6 : f32}
         : (tensor<?x?x768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale, I64Attr:$axis,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Kiln_FloatTensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Kiln_GatherOp : Kiln_Op<"gather"> {
  let summary = "Gather slices along `axis` by indices (negative indices count from the end)";
  let description = [{
    `%0 = kiln.gather %table, %ids {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<?x?xi64>) -> tensor<?x?x768xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_GatherNDOp : Kiln_Op<"gather_nd"> {
  let summary = "Gather slices by index tuples in the last dim of `indices` (ONNX GatherND)";
  let description = [{
    The first `batch_dims` dims of data and indices are shared; each index
    tuple (the last dim of `indices`, of static length m) picks the slice
    data[batch..., i0, ..., im-1, :]. Negative indices count from the end.
    `%0 = kiln.gather_nd %mask, %idx {batch_dims = 0 : i64} : (tensor<?x?xi1>, tensor<?x1x1x?x2xi64>) -> tensor<?x1x1x?xi1>`
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs Kiln_Tensor:$output);
}

def Kiln_GatherElementsOp : Kiln_Op<"gather_elements"> {
  let summary = "out[i] = data[i with dim `axis` replaced by indices[i]] (ONNX GatherElements)";
  let description = [{
    `indices` has the data's rank; the result has its shape. Negative indices
    count from the end of dim `axis`.
    `%0 = kiln.gather_elements %data, %idx {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

def Kiln_ReshapeOp : Kiln_Op<"reshape"> {
  let summary = "Reshape to a (possibly computed) shape; 0 copies a dim unless allowzero, -1 infers";
  let description = [{
    `%0 = kiln.reshape %x, %shape : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x12x64xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_ShapeTensor:$shape,
                   DefaultValuedAttr<BoolAttr, "false">:$allowzero);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_TransposeOp : Kiln_Op<"transpose"> {
  let summary = "Permute dimensions: output dim i is input dim perm[i]";
  let description = [{
    `%0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x12x64xf32>) -> tensor<1x12x8x64xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_SliceOp : Kiln_Op<"slice"> {
  let summary = "Strided slice with (possibly computed) starts/ends/axes/steps (ONNX Slice)";
  let description = [{
    ```mlir
    %0 = kiln.slice %x, %starts, %ends, %axes, %steps
         : (tensor<1x512xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x8xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$starts,
                   Kiln_IndexTensor:$ends, Kiln_IndexTensor:$axes,
                   Kiln_IndexTensor:$steps);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_ConcatOp : Kiln_Op<"concat"> {
  let summary = "Concatenate tensors along `axis`";
  let description = [{
    `%0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>`
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_SplitOp : Kiln_Op<"split"> {
  let summary = "Split along `axis` into pieces of the given sizes";
  let description = [{
    `%0:3 = kiln.split %x {axis = 2 : i64, sizes = array<i64: 768, 768, 768>} : (tensor<1x8x2304xf32>) -> (tensor<1x8x768xf32>, tensor<1x8x768xf32>, tensor<1x8x768xf32>)`
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis, DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<Kiln_Tensor>:$outputs);
  let hasVerifier = 1;
}

def Kiln_ExpandOp : Kiln_Op<"expand"> {
  let summary = "Broadcast to a (possibly computed) shape (ONNX Expand)";
  let description = [{
    `%0 = kiln.expand %x, %shape : (tensor<1x1x8xf32>, tensor<3xi64>) -> tensor<?x1x8xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_ShapeTensor:$shape);
  let results = (outs Kiln_Tensor:$output);
  let hasFolder = 1;
}

def Kiln_TileOp : Kiln_Op<"tile"> {
  let summary = "Repeat the input `repeats[i]` times along dim i (ONNX Tile)";
  let description = [{
    `%0 = kiln.tile %x, %repeats : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x3xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_ShapeTensor:$repeats);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

def Kiln_UnsqueezeOp : Kiln_Op<"unsqueeze"> {
  let summary = "Insert size-1 dims at the given output positions";
  let description = [{
    `%0 = kiln.unsqueeze %x {axes = array<i64: 1, 2>} : (tensor<?x8xi64>) -> tensor<?x1x1x8xi64>`
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_SqueezeOp : Kiln_Op<"squeeze"> {
  let summary = "Remove the given size-1 dims";
  let description = [{
    `%0 = kiln.squeeze %x {axes = array<i64: 0>} : (tensor<1x8xi64>) -> tensor<8xi64>`
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_TriluOp : Kiln_Op<"trilu"> {
  let summary = "Keep the upper (or lower) triangle of the last two dims from diagonal k";
  let description = [{
    `%0 = kiln.trilu %x, %k {upper = true} : (tensor<8x8xf32>, tensor<i64>) -> tensor<8x8xf32>`
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$k,
                   DefaultValuedAttr<BoolAttr, "true">:$upper);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

def Kiln_ShapeOp : Kiln_Op<"shape"> {
  let summary = "The dims [start, end) of the input as a 1-D i64 tensor";
  let description = [{
    Folds to a constant as soon as those dims are static.
    `%0 = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>`
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$start, I64Attr:$end);
  let results = (outs Kiln_ShapeTensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_SizeOp : Kiln_Op<"size"> {
  let summary = "The number of elements of the input as a 0-D i64 tensor";
  let description = [{ `%0 = kiln.size %x : (tensor<?x8xf32>) -> tensor<i64>` }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs 0DTensorOf<[I64]>:$output);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Run-time checks
//===----------------------------------------------------------------------===//

def Kiln_RuntimeCheckOp : Op<Kiln_Dialect, "runtime_check", [MemoryEffects<[MemWrite]>]> {
  let summary = "Fail the run, with a message, when `failed` holds";
  let description = [{
    What the compiler cannot prove about a run's inputs (indices in range,
    symbolic dims that broadcast) is checked when the model runs: the
    lowering computes `failed` and places this op; `kiln-lower-runtime-checks`
    turns it into a call of the runtime's `fail` (kiln_abi.h), whose first
    message becomes the run's status. On the GPU path a condition that
    kernels compute (a reduction over the ids) is read back by the runtime
    after the run's work instead (`gpu_check`), with the same message and
    status. The code around a check keeps every read in bounds when it
    fails, and the run's outputs are discarded.
    `kiln.runtime_check %bad, "node 'Gather_3' (Gather): indices element out of data bounds"`
  }];
  let arguments = (ins I1:$failed, StrAttr:$message);
  let assemblyFormat = "$failed `,` $message attr-dict";
  // A check whose condition folded to false is proven away.
  let hasCanonicalizeMethod = 1;
}

// Pooling, padding, resizing, batch normalisation and quantization.
include "kiln/Dialect/Kiln/KilnNNOps.td"
// TopK and the scatters.
include "kiln/Dialect/Kiln/KilnIndexingOps.td"

// Typed calls of runtime micro-kernels.
include "kiln/Dialect/Kiln/KilnUkernelOps.td"

#endif // KILN_DIALECT_KILN_OPS_TD
