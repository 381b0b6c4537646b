//===- KilnNNOps.td - Pooling, padding, resizing, quantization -*- tablegen -*-===//
//
// The ops of convolutional and quantized networks: pad, batch normalisation,
// max/average/Lp pooling, resize, and ONNX's linear quantize/dequantize.
// Included by KilnOps.td; their verifiers and result type inference live in
// KilnNNOps.cpp. Layouts are ONNX's: N, C, then the spatial dims.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_NN_OPS_TD
#define KILN_DIALECT_KILN_NN_OPS_TD

//===----------------------------------------------------------------------===//
// Padding
//===----------------------------------------------------------------------===//

def Kiln_PadOp : Kiln_Op<"pad"> {
  let summary = "Pad (or, with negative pads, crop) every dim; constant, reflect, edge or wrap mode";
  let description = [{
    `pads` holds the begin pads of every dim, then the end pads (ONNX order);
    a negative pad removes elements. In `constant` mode new elements take
    `value` (a scalar of the input's element type; zero when absent);
    `reflect` mirrors the input without repeating the edge, `edge` repeats
    the edge and `wrap` continues periodically.
    ```mlir
    %0 = kiln.pad %x, %v {pads = array<i64: 0, 2, 0, 1>} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x7xf32>
    %1 = kiln.pad %x {pads = array<i64: 1, 1, 1, 1>, mode = "reflect"} : (tensor<3x4xf32>) -> tensor<5x6xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<Kiln_Tensor>:$value,
                   DenseI64ArrayAttr:$pads,
                   DefaultValuedAttr<StrAttr, "\"constant\"">:$mode);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

def Kiln_BatchNormOp : Kiln_Op<"batch_norm"> {
  let summary = "Inference batch normalisation: (x - mean) / sqrt(variance + epsilon) * scale + bias per channel";
  let description = [{
    The four parameters are 1-D with one value per channel (dim 1 of the
    input), taken from the running statistics (ONNX BatchNormalization with
    training_mode = 0).
    ```mlir
    %0 = kiln.batch_norm %x, %scale, %bias, %mean, %var {epsilon = 1.0e-5 : f32}
         : (tensor<?x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                   Kiln_FloatTensor:$bias, Kiln_FloatTensor:$mean,
                   Kiln_FloatTensor:$variance,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Kiln_FloatTensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// Sliding windows over the spatial dims (all dims after N and C). Window o
// of spatial dim i covers o * strides[i] - pads[i] + k * dilations[i] for
// k < kernel_shape[i]; `pads` holds the begin pads, then the end pads. With
// `ceil_mode` the output size is rounded up (a last, partial window) unless
// that window would start in the end padding.
class Kiln_PoolOp<string mnemonic, Type elementTensor> : Kiln_Op<mnemonic> {
  let arguments = (ins elementTensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
  let results = (outs elementTensor:$output);
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::kiln::inferPoolType(loc, adaptor.getInput(), adaptor.getKernelShape(),
          adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations(),
          adaptor.getCeilMode(), inferred);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::kiln::verifyPool(*this, getKernelShape(), getStrides(), getPads(),
                                      getDilations());
    }
  }];
}

def Kiln_MaxPoolOp : Kiln_PoolOp<"max_pool", Kiln_Tensor> {
  let summary = "Maximum over sliding windows of the spatial dims (padding never wins)";
  let description = [{
    ```mlir
    %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>,
           pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
         : (tensor<1x3x32x32xf32>) -> tensor<1x3x16x16xf32>
    ```
  }];
}

def Kiln_AveragePoolOp : Kiln_PoolOp<"average_pool", Kiln_FloatTensor> {
  let summary = "Mean over sliding windows of the spatial dims; `count_include_pad` counts the padding";
  let description = [{
    Without `count_include_pad` a window's mean is over its elements inside
    the input; with it, over those inside the padded input (a ceil_mode
    window's part past the end padding never counts).
    ```mlir
    %0 = kiln.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>,
           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
         : (tensor<1x3x32x32xf32>) -> tensor<1x3x16x16xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
}

def Kiln_LpPoolOp : Kiln_PoolOp<"lp_pool", Kiln_FloatTensor> {
  let summary = "p-norm (sum of |x|^p)^(1/p) over sliding windows of the spatial dims";
  let description = [{
    Padding contributes nothing to the sums.
    ```mlir
    %0 = kiln.lp_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>,
           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, p = 3 : i64}
         : (tensor<1x3x32x32xf32>) -> tensor<1x3x31x31xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<1>]>, "2">:$p);
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

def Kiln_ResizeOp : Kiln_Op<"resize"> {
  let summary = "Resample every dim by a scale: nearest, linear or cubic interpolation (ONNX Resize)";
  let description = [{
    `scales` (1-D, one factor per dim, possibly computed at run time) resamples
    each dim; the result's dims are `sizes` when given, else
    floor(dim * scale). Output coordinate x maps to an input coordinate by
    `coordinate_transformation_mode` (`half_pixel`, `half_pixel_symmetric`,
    `pytorch_half_pixel`, `align_corners`, `asymmetric` or
    `tf_crop_and_resize`, which reads the region `roi`: the begins of every
    dim, then the ends, as fractions of the dim, and gives
    `extrapolation_value` outside it). `nearest` rounds that coordinate by
    `nearest_mode` (`round_prefer_floor`, `round_prefer_ceil`, `floor`,
    `ceil`); `linear` and `cubic` (coefficient `cubic_coeff_a`) interpolate
    between its neighbours, clamped to the input (`exclude_outside` drops
    the neighbours outside it and renormalises the weights). With
    `antialias`, linear and cubic downsampling (scale < 1, known at compile
    time) stretch the filter by 1 / scale over correspondingly more
    neighbours, with normalised weights. The interpolation is separable: one
    factor per dim.
    ```mlir
    %0 = kiln.resize %x, %scales {mode = "linear"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
    %1 = kiln.resize %x, %s {sizes = array<i64: 1, 3, 16, 16>} : (tensor<1x3x8x8xf32>, tensor<4xf64>) -> tensor<1x3x16x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_FloatTensor:$scales,
                   Optional<Kiln_FloatTensor>:$roi,
                   OptionalAttr<DenseI64ArrayAttr>:$sizes,
                   DefaultValuedAttr<StrAttr, "\"nearest\"">:$mode,
                   DefaultValuedAttr<StrAttr, "\"half_pixel\"">:$coordinate_transformation_mode,
                   DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:$nearest_mode,
                   DefaultValuedAttr<F64Attr, "-0.75">:$cubic_coeff_a,
                   DefaultValuedAttr<BoolAttr, "false">:$exclude_outside,
                   DefaultValuedAttr<F64Attr, "0.0">:$extrapolation_value,
                   DefaultValuedAttr<BoolAttr, "false">:$antialias);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

def Kiln_GridSampleOp : Kiln_Op<"grid_sample"> {
  let summary = "Sample the input at the locations of a grid: nearest, linear or cubic (ONNX GridSample)";
  let description = [{
    `input` is (N, C, D1, ..., Dr) and `grid` (N, O1, ..., Ok, r): for each
    output location the grid holds r normalised coordinates in [-1, 1],
    the last spatial dim's first (x, then y, then z). The result is
    (N, C, O1, ..., Ok). With `align_corners` -1 and 1 are the centres of
    the corner elements, else their outer edges. Coordinates outside the
    input read `padding_mode`: `zeros`, `border` (clamped to the edge) or
    `reflection` (mirrored at the border). `nearest` rounds the coordinate
    half to even, `linear` interpolates between the 2 neighbours per dim,
    `cubic` between 4 (Keys' kernel, A = -0.75).
    ```mlir
    %0 = kiln.grid_sample %x, %grid {mode = "cubic", padding_mode = "border"}
         : (tensor<1x3x8x8xf32>, tensor<1x4x5x2xf32>) -> tensor<1x3x4x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_FloatTensor:$grid,
                   DefaultValuedAttr<StrAttr, "\"linear\"">:$mode,
                   DefaultValuedAttr<StrAttr, "\"zeros\"">:$padding_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$align_corners);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def Kiln_DequantizeLinearOp : Kiln_Op<"dequantize_linear"> {
  let summary = "(x - zero_point) * scale, per tensor, per `axis` or per block along it";
  let description = [{
    A scalar `scale` (and `zero_point`) applies to the whole tensor; a 1-D one
    holds one value per index of dim `axis`; with `block_size` > 0 it has the
    input's rank and one value per `block_size` consecutive indices of dim
    `axis`. The result has the scale's element type.
    ```mlir
    %0 = kiln.dequantize_linear %q, %s, %zp {axis = 1 : i64}
         : (tensor<1x3x4xui8>, tensor<3xf32>, tensor<3xui8>) -> tensor<1x3x4xf32>
    ```
  }];
  let arguments = (ins Kiln_IntegerTensor:$input, Kiln_FloatTensor:$scale,
                   Optional<Kiln_IntegerTensor>:$zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs Kiln_FloatTensor:$output);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// One scale (and zero point) for the whole tensor: a scalar or a [1]
    /// scale, no blocks.
    bool isPerTensor();
  }];
}

def Kiln_QuantizeLinearOp : Kiln_Op<"quantize_linear"> {
  let summary = "saturate(round_half_even(x / scale) + zero_point) to the integer type `to`";
  let description = [{
    `scale` and `zero_point` apply per tensor, per `axis` or per block as in
    kiln.dequantize_linear; `zero_point`, when given, has the element type `to`.
    ```mlir
    %0 = kiln.quantize_linear %x, %s, %zp {to = ui8} : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                   Optional<Kiln_IntegerTensor>:$zero_point, TypeAttr:$to,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs Kiln_IntegerTensor:$output);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// One scale (and zero point) for the whole tensor: a scalar or a [1]
    /// scale, no blocks.
    bool isPerTensor();
  }];
}

//===----------------------------------------------------------------------===//
// Transposed convolution
//===----------------------------------------------------------------------===//

def Kiln_ConvTransposeOp : Kiln_Op<"conv_transpose"> {
  let summary = "N-D transposed convolution, NCHW layout, explicit pads (ONNX ConvTranspose)";
  let description = [{
    The gradient of kiln.conv with respect to its input: input element i
    spreads over outputs i * stride - pad + k * dilation. The weight is
    (C, M / group, kernel...); output dim d has size
    stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1
    - pad_begin - pad_end. `pads` holds the begin pads of every spatial dim,
    then the end pads; they may be negative (an output_shape larger than
    that extends the output).
    ```mlir
    %0 = kiln.conv_transpose %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>,
           dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, group = 1 : i64}
         : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                   Optional<Kiln_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, DenseI64ArrayAttr:$output_padding,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Kiln_FloatTensor:$output);
}

#endif // KILN_DIALECT_KILN_NN_OPS_TD
