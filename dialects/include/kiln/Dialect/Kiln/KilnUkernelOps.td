//===- KilnUkernelOps.td - Typed calls of runtime micro-kernels -*- tablegen -*-===//
//
// Ops that stand for one call of a runtime micro-kernel (kiln_abi.h), in the
// spirit of IREE's ukernel ops: typed and verified while they are tensors
// and after bufferization, and lowered to the call in one place. They live
// below the graph level: passes create them from linalg contractions.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_UKERNEL_OPS_TD
#define KILN_DIALECT_KILN_UKERNEL_OPS_TD

include "kiln/Dialect/Kiln/KilnBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

def Kiln_QGemmOp : Op<Kiln_Dialect, "qgemm", [
    AttrSizedOperandSegments, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "An int8 GEMM of the runtime: u8 A (or f32 A quantized on the fly), per-column s8 B";
  let description = [{
    `out = act(dequant(q(a) x b) + bias) + residual` for a row-major
    `a : M x K` (f32 or ui8), the constant weights `b : K x N` and f32
    output `M x N`, computed by the runtime's int8 GEMM (`kiln_qgemm_desc`
    in `kiln_abi.h`, reached through `kiln-qgemm-to-runtime`):

    - an f32 `a` without `a_scale` is quantized when the model runs, each
      row i like ONNX DynamicQuantizeLinear: `lo = min(0, min a(i,:))`,
      `hi = max(0, max a(i,:))`, `sa = (hi - lo) / 255`,
      `za = rint(-lo / sa)`, `aq = clamp(rint(a / sa) + za, 0, 255)`;
    - an f32 `a` with `a_scale` (`--quantize int8-static`) is quantized
      when the model runs with that one calibrated scale and zero point for
      the whole tensor: `aq = clamp(rint(a / a_scale) + a_zero_point, 0,
      255)` (`a_zero_point` 0 when absent), values outside the calibrated
      range saturating;
    - a ui8 `a` is already quantized (a pre-quantized ONNX model's
      activation): `aq = a`, with one scale and zero point for the whole
      tensor, `sa = a_scale` (one f32 value; 1 when absent) and
      `za = a_zero_point` (one ui8 value; 0 when absent);
    - `b` is int8 with one scale per column (`b_scale`, N floats,
      symmetric: zero point 0), stored in the packed layout of
      `kiln_qgemm_pack.h` (`b_packed`, `kiln_qgemm_packed_size(k, n)`
      bytes: 16-column panels, k in groups of 4, then the column sums);
    - `s = sum_p (aq(i,p) - za) * b(p,j)` exactly in int32, then
      `float(s) * (sa * b_scale[j])`, the optional `bias` (N floats), the
      activation (`kiln_gemm_activation`: 0 none, 1 GELU erf, 2 GELU tanh,
      3 ReLU) and the optional `residual` (M x N).

    The op is in destination-passing style: `init` is only where the result
    goes (it is overwritten). Its rank is 2 or more; its leading dims are the
    M rows (a Linear layer's batch and sequence dims), kept rather than
    reshaped away because a memref.expand_shape with two `?` dims in a group
    breaks upstream's expand-strided-metadata; after bufferization it must
    be contiguous (identity layout), as the fresh buffers it gets are. On
    tensors the op has one result; after bufferization every operand is a
    memref and it has none.

    ```mlir
    %y = kiln.qgemm %x, %w, %scale bias(%b : tensor<3072xf32>) into %init
           {k = 768, n = 3072, activation = 1}
           : tensor<?x768xf32>, tensor<2371584xi8>, tensor<3072xf32>, tensor<?x?x3072xf32>
           -> tensor<?x?x3072xf32>
    %z = kiln.qgemm %xq, %w, %scale a_scale(%sa : tensor<f32>)
           a_zero_point(%za : tensor<ui8>) into %init2 {k = 768, n = 3072}
           : tensor<?x768xui8>, tensor<2371584xi8>, tensor<3072xf32>, tensor<?x3072xf32>
           -> tensor<?x3072xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$a, AnyShaped:$b_packed, AnyShaped:$b_scale,
                   Optional<AnyShaped>:$a_scale, Optional<AnyShaped>:$a_zero_point,
                   Optional<AnyShaped>:$bias, Optional<AnyShaped>:$residual,
                   AnyShaped:$init,
                   ConfinedAttr<I64Attr, [IntPositive]>:$k,
                   ConfinedAttr<I64Attr, [IntPositive]>:$n,
                   DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<3>]>,
                                     "0">:$activation);
  let results = (outs Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $a `,` $b_packed `,` $b_scale
    (`a_scale` `(` $a_scale^ `:` type($a_scale) `)`)?
    (`a_zero_point` `(` $a_zero_point^ `:` type($a_zero_point) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    `into` $init attr-dict `:` type($a) `,` type($b_packed) `,` type($b_scale) `,` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Whether its operands are tensors (it has a result) or memrefs.
    bool hasTensorSemantics() { return getResult() != nullptr; }
  }];
}

def Kiln_FGemmOp : Op<Kiln_Dialect, "fgemm", [
    AttrSizedOperandSegments, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "A float GEMM of the runtime (fp32 arithmetic), or a batch of them";
  let description = [{
    `init = act((accumulate ? init : 0) + a x b + bias) + residual` on
    buffers, computed by the runtime's packed GEMM (`kiln_gemm_desc` in
    `kiln_abi.h`, reached through `kiln-fgemm-to-runtime`).
    `kiln-contraction-to-runtime-gemm` makes it from a bufferized fp32
    contraction and the epilogue marked after it.

    The computation has five loops, always in this order: `(b0, b1, m, n,
    k)`: two batch loops, the GEMM's rows, columns and reduction. Like
    linalg's, `indexing_maps` give, for each operand in operand order (`a`,
    `b`, `bias` if present, `residual` if present, `init`), which loop
    indexes each of its dims. A result is a loop or the constant 0 (a
    broadcast dim: always index 0, whatever its size). A loop no operand
    uses has one iteration. Loop sizes come from the operands' dims.

    - `a` uses `k` and not `n`; `b` uses `k` and not `m`; `init` uses
      every loop `a` or `b` uses but `k`, and not `k`.
    - `b` may instead be prepacked by `kiln-pack-gemm-weights`: a static,
      contiguous `ceil(N/W) x K x W` buffer read through `(n floordiv W, k,
      n mod W)`, with `W` its last dim.
    - `bias` uses `n` only, as its last dim; `residual` uses no loop that
      `init` lacks. Both are optional.
    - `init`, `bias` and `residual` have a unit stride along `n`: the
      kernel writes and reads rows. Other strides are free (transposed and
      broadcast operands are strides, never copies).
    - `activation` is the epilogue's (kiln_gemm_activation).
    - Element types: a and b f32 (or a bf16-prepacked b, below), or both
      f16 or both bf16 (the GPU's half storage: products exact, sums fp32);
      init f32, or of a and b's 16-bit type (the fp32 result rounded to
      nearest even as it is stored); bias and residual of init's type.
      16-bit operands are GPU-only: the CPU runtime refuses them.
    - `bf16_inputs`: a and an fp32 b that is not prepacked are rounded to
      bf16 as the runtime packs them, and the exact products are summed in
      fp32 (kiln_gemm_desc's b_type bf16; `kiln-bf16-activation-products`
      sets it). A bf16-prepacked b implies that arithmetic on its own.

    ```mlir
    kiln.fgemm %x, %w bias(%b : memref<768xf32>) into %y
        {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (m, k)>,
                          affine_map<(b0, b1, m, n, k) -> (n floordiv 16, k, n mod 16)>,
                          affine_map<(b0, b1, m, n, k) -> (n)>,
                          affine_map<(b0, b1, m, n, k) -> (m, n)>],
         activation = #kiln.gemm_activation<gelu_erf>}
        : memref<?x768xf32>, memref<48x768x16xf32>, memref<?x768xf32>
    ```
  }];
  let arguments = (ins AnyMemRef:$a, AnyMemRef:$b,
                   Optional<AnyMemRef>:$bias, Optional<AnyMemRef>:$residual,
                   AnyMemRef:$init,
                   AffineMapArrayAttr:$indexing_maps,
                   UnitAttr:$accumulate,
                   DefaultValuedAttr<Kiln_GemmActivationAttr,
                                     "::mlir::kiln::GemmActivation::None">:$activation,
                   UnitAttr:$bf16_inputs);
  let assemblyFormat = [{
    $a `,` $b
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    `into` $init attr-dict `:` type($a) `,` type($b) `,` type($init)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// The loops of `indexing_maps`, in their order.
    enum Loop : unsigned { kBatch0, kBatch1, kM, kN, kK, kNumLoops };
    /// The indexing map of operand number `operand`.
    ::mlir::AffineMap getIndexingMap(unsigned operand) {
      return ::llvm::cast<::mlir::AffineMapAttr>(getIndexingMaps()[operand]).getValue();
    }
    /// The operand numbers of the optional operands and of init.
    std::optional<unsigned> getBiasOperandNumber() {
      return getBias() ? std::optional<unsigned>(2) : std::nullopt;
    }
    std::optional<unsigned> getResidualOperandNumber() {
      return getResidual() ? std::optional<unsigned>(getBias() ? 3 : 2) : std::nullopt;
    }
    unsigned getInitOperandNumber() { return getNumOperands() - 1; }
    /// Whether `b` is prepacked in panels (its map reads n through floordiv
    /// and mod); their width, else 0.
    int64_t getPanelWidth();
  }];
}

def Kiln_SparseGemmOp : Op<Kiln_Dialect, "sparse_gemm", [
    AttrSizedOperandSegments, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "An fp32 GEMM of the runtime with a sparse constant B (its nonzero 1 x W blocks)";
  let description = [{
    `out = act(a x b + bias) + residual` for a row-major f32 `a : M x K`,
    constant weights `b : K x N` that are mostly zeros and an f32 output
    `M x N`, computed by the runtime's sparse GEMM (`kiln_sparse_gemm_desc`
    in `kiln_abi.h`, reached through `kiln-sparse-gemm-to-runtime`):

    - `b` is stored as its blocks of 1 row by `block_width` (W: 1 or 4)
      consecutive columns that hold a nonzero value, `stored_blocks` of
      them, in the layout of `kiln_sparse_pack.h` (`b_packed`, a blob of
      `kiln_sparse_packed_size(n, W, stored_blocks)` bytes: a header,
      per block column the start of its blocks, their rows, their values);
    - the sum runs in fp32 over the stored blocks in order of k (for W = 1,
      the even and the odd blocks apart, then added);
    - then the optional `bias` (N floats), the activation
      (`#kiln.gemm_activation`) and the optional `residual` (M x N), as
      `kiln.fgemm`.

    `kiln-pack-sparse-gemm-weights` makes it from an f32 contraction whose
    constant weight is sparse enough to pay. The op is in
    destination-passing style: `init` is only where the result goes (it is
    overwritten). Its rank is 2 or more, its leading dims the M rows, as
    for `kiln.qgemm`; after bufferization it must be contiguous. On tensors
    the op has one result; after bufferization every operand is a memref
    and it has none.

    ```mlir
    %y = kiln.sparse_gemm %x, %w bias(%b : tensor<3072xf32>) into %init
           {k = 768, n = 3072, block_width = 4, stored_blocks = 117964,
            activation = #kiln.gemm_activation<gelu_erf>}
           : tensor<?x768xf32>, tensor<2362624xi8>, tensor<?x?x3072xf32> -> tensor<?x?x3072xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$a, AnyShaped:$b_packed,
                   Optional<AnyShaped>:$bias, Optional<AnyShaped>:$residual,
                   AnyShaped:$init,
                   ConfinedAttr<I64Attr, [IntPositive]>:$k,
                   ConfinedAttr<I64Attr, [IntPositive]>:$n,
                   ConfinedAttr<I64Attr, [IntPositive]>:$block_width,
                   ConfinedAttr<I64Attr, [IntMinValue<0>]>:$stored_blocks,
                   DefaultValuedAttr<Kiln_GemmActivationAttr,
                                     "::mlir::kiln::GemmActivation::None">:$activation);
  let results = (outs Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $a `,` $b_packed
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    `into` $init attr-dict `:` type($a) `,` type($b_packed) `,` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Whether its operands are tensors (it has a result) or memrefs.
    bool hasTensorSemantics() { return getResult() != nullptr; }
  }];
}

def Kiln_SparseQGemmOp : Op<Kiln_Dialect, "sparse_qgemm", [
    AttrSizedOperandSegments, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "An int8 GEMM of the runtime with a sparse constant B (its nonzero 1 x W blocks)";
  let description = [{
    `kiln.qgemm` with the int8 weights stored sparse: the same operands,
    the same arithmetic and the same result bit for bit (the int32 sums are
    exact), computed by the runtime's sparse int8 GEMM
    (`kiln_runtime_context::sparse_qgemm` in `kiln_abi.h`, a
    `kiln_qgemm_desc` whose `b` has the sparse layout; reached through
    `kiln-sparse-qgemm-to-runtime`):

    - `b` is stored as its blocks of 1 row by `block_width` (W: 1 or 4)
      consecutive columns that hold a nonzero value, each block column's
      taken 4 rows at a time, `stored_groups` groups in all, in the layout
      of `kiln_sparse_qgemm_pack.h` (`b_packed`, a blob of
      `kiln_sparse_qgemm_packed_size(n, W, stored_groups)` bytes: a header,
      per block column the start of its groups, their rows, their weights,
      the column sums);
    - `a`, `b_scale`, `a_scale`, `a_zero_point`, `bias`, `residual`,
      `init` and the activation (`#kiln.gemm_activation`) are as for
      `kiln.qgemm`.

    `kiln-pack-sparse-qgemm-weights` makes it from a `kiln.qgemm` whose
    constant weight is sparse enough to pay. On tensors the op has one
    result; after bufferization every operand is a memref and it has none.

    ```mlir
    %y = kiln.sparse_qgemm %x, %w, %scale bias(%b : tensor<3072xf32>) into %init
           {k = 768, n = 3072, block_width = 4, stored_groups = 29491,
            activation = #kiln.gemm_activation<gelu_erf>}
           : tensor<?x768xf32>, tensor<723328xi8>, tensor<3072xf32>, tensor<?x?x3072xf32>
           -> tensor<?x?x3072xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$a, AnyShaped:$b_packed, AnyShaped:$b_scale,
                   Optional<AnyShaped>:$a_scale, Optional<AnyShaped>:$a_zero_point,
                   Optional<AnyShaped>:$bias, Optional<AnyShaped>:$residual,
                   AnyShaped:$init,
                   ConfinedAttr<I64Attr, [IntPositive]>:$k,
                   ConfinedAttr<I64Attr, [IntPositive]>:$n,
                   ConfinedAttr<I64Attr, [IntPositive]>:$block_width,
                   ConfinedAttr<I64Attr, [IntMinValue<0>]>:$stored_groups,
                   DefaultValuedAttr<Kiln_GemmActivationAttr,
                                     "::mlir::kiln::GemmActivation::None">:$activation);
  let results = (outs Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $a `,` $b_packed `,` $b_scale
    (`a_scale` `(` $a_scale^ `:` type($a_scale) `)`)?
    (`a_zero_point` `(` $a_zero_point^ `:` type($a_zero_point) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    `into` $init attr-dict `:` type($a) `,` type($b_packed) `,` type($b_scale) `,` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Whether its operands are tensors (it has a result) or memrefs.
    bool hasTensorSemantics() { return getResult() != nullptr; }
  }];
}

def Kiln_SoftmaxRowsOp : Op<Kiln_Dialect, "softmax_rows", [
    DestinationStyleOpInterface, DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Softmax over the last dim of the runtime, after a scale and an additive term";
  let description = [{
    `out = softmax(scale * x + addend)` along the last dim of an f32 `x` of
    rank 1 to 4, computed by the runtime's row softmax
    (`kiln_softmax_desc` in `kiln_abi.h`, reached through
    `kiln-softmax-to-runtime`): attention's scaled and masked softmax in
    one pass over the scores instead of five.

    - `x`, `addend` and `init` may instead hold f16 or bf16 on the GPU
      path (`kiln-gpu-half-storage`): loaded as such, computed in f32,
      stored rounded; the CPU runtime takes f32 only.
    - `addend` (optional) lines up with `x` from the right, as in numpy
      broadcasting, and may have fewer dims; each of its dims is 1 (it is
      broadcast) or `x`'s. A `?` dim is checked when the model runs.
    - The arithmetic is the runtime's: `scale * x` and `+ addend` rounded
      as two float operations, its exp (within 2 ulp, 0 below
      exp(-86.6)), the quotient as a product with 1 / sum.

    `kiln-softmax-to-ukernel` makes it from `kiln.softmax` on the last axis
    and the `kiln.mul` by a constant and `kiln.add` that feed it. The op is
    in destination-passing style: `init` (of `x`'s shape) is only where the
    result goes. On tensors it has one result; after bufferization every
    operand is a memref, the rows of `x`, `init` and `addend` contiguous
    (a strided one is copied when the op bufferizes), and it has none.

    ```mlir
    %p = kiln.softmax_rows %scores addend(%mask : tensor<1x1x1x128xf32>) into %init
           {scale = 0.125 : f32}
           : tensor<1x12x128x128xf32>, tensor<1x12x128x128xf32> -> tensor<1x12x128x128xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$x, Optional<AnyShaped>:$addend, AnyShaped:$init,
                   DefaultValuedAttr<F32Attr, "1.0f">:$scale);
  let results = (outs Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $x (`addend` `(` $addend^ `:` type($addend) `)`)? `into` $init attr-dict
    `:` type($x) `,` type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Whether its operands are tensors (it has a result) or memrefs.
    bool hasTensorSemantics() { return getResult() != nullptr; }
    /// The largest rank of x the runtime's descriptor holds: rows, their
    /// matrix and two batch dims.
    static constexpr int64_t kMaxRank = 4;
    /// Whether a buffer's rows (last dim) are contiguous, as the runtime
    /// reads them: stride 1, or one element; a tensor's always are.
    static bool hasContiguousRows(::mlir::Type type);
  }];
}

def Kiln_LayerNormRowsOp : Op<Kiln_Dialect, "layer_norm_rows", [
    DestinationStyleOpInterface, DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Layer normalization over the last dim by the runtime";
  let description = [{
    `out = (x - mean) / sqrt(var + epsilon) * scale + bias` over the last
    dim of an f32 `x` of rank 1 to 4, computed by the runtime's row layer
    norm (`kiln_layer_norm_desc` in `kiln_abi.h`, reached through
    `kiln-layer-norm-to-runtime`): each row's mean, variance and result in
    three passes while it stays in L1, one hand-off to the threads, instead
    of four loops over the whole tensor.

    - `scale` and `bias` (optional) are 1-D f32, of `x`'s last dim.
    - `x` and `init` may instead hold f16 or bf16 on the GPU path
      (`kiln-gpu-half-storage`): loaded as such, computed in f32, stored
      rounded; the CPU runtime takes f32 only.
    - The arithmetic is the runtime's: the mean from the sum of the row
      less its first value, the variance from the deviations (two passes),
      `(x - mean) * (1 / sqrt(var + epsilon)) * scale + bias` in float (a
      product and the sum after it maybe one FMA).

    `kiln-layer-norm-to-ukernel` makes it from `kiln.layer_norm` on the last
    axis. The op is in destination-passing style: `init` (of `x`'s shape)
    is only where the result goes. On tensors it has one result; after
    bufferization every operand is a memref, the rows of `x` and `init`
    contiguous (a strided `x` is copied when the op bufferizes) and `scale`
    and `bias` contiguous, and it has none.

    ```mlir
    %y = kiln.layer_norm_rows %x, %gamma bias(%beta : tensor<384xf32>) into %init
           {epsilon = 1.0e-12 : f32}
           : tensor<1x128x384xf32>, tensor<384xf32>, tensor<1x128x384xf32> -> tensor<1x128x384xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$x, AnyShaped:$scale, Optional<AnyShaped>:$bias,
                   AnyShaped:$init, F32Attr:$epsilon);
  let results = (outs Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $x `,` $scale (`bias` `(` $bias^ `:` type($bias) `)`)? `into` $init attr-dict
    `:` type($x) `,` type($scale) `,` type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Whether its operands are tensors (it has a result) or memrefs.
    bool hasTensorSemantics() { return getResult() != nullptr; }
    /// The largest rank of x the runtime's descriptor holds: rows, their
    /// matrix and two batch dims.
    static constexpr int64_t kMaxRank = 4;
  }];
}

def Kiln_AttentionOp : Op<Kiln_Dialect, "attention", [
    DestinationStyleOpInterface, DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Attention's heads from scores to output in one runtime call";
  let description = [{
    `out = softmax(scale * q x kt + addend) x v` for each head, computed by
    the runtime's attention (`kiln_attention_desc` in `kiln_abi.h`, reached
    through `kiln-attention-to-runtime`): the scores of a few rows of `q`
    at a time stay in L1 from their product to the product with `v`.

    - `q : B x H x Sq x D`, `kt : B x H x D x Sk` (K^T, typically a
      transposed view of K), `v : B x H x Sk x Dv`, all f32 (on the GPU
      path each may also be f16 or bf16, as may `init` and `addend`:
      `kiln-gpu-half-storage`; the CPU runtime takes f32 only); their batch
      dims `B`, `H` broadcast like MatMul's (each is 1 or the result's; a
      `?` one is checked when the model runs).
    - `addend` (optional) is what `kiln.softmax_rows` takes: it lines up
      with the scores `B x H x Sq x Sk` from the right, each dim 1 or
      theirs, its rows contiguous or one value wide.
    - `q_perm`, `kt_perm`, `v_perm` (optional, each a permutation of 4)
      read an operand through a transpose, as `kiln.transpose` defines
      it: the operand's dim i is dim `perm[i]` of the value given, so
      attention's Q, K^T and V are views of the projections' output, not
      copies.
    - The result is `B x H x Sq x Dv`, or with `transposed_output`
      `B x Sq x H x Dv` (the heads interleaved, as the Transpose that
      usually follows attention would make them).
    - The arithmetic is the runtime's GEMM and row softmax: the same
      floats as the `kiln.fgemm`, `kiln.softmax_rows` and `kiln.fgemm` it
      stands for; with `bf16_inputs` (`kiln-bf16-activation-products`)
      both products take bf16 inputs, as those `kiln.fgemm`s would.

    `kiln-attention-to-ukernel` makes it from those graph ops. The op is in
    destination-passing style: `init` is only where the result goes. On
    tensors it has one result; after bufferization every operand is a
    memref (a strided addend's rows are copied out first, as for
    `kiln.softmax_rows`), `init` contiguous, and it has none.

    ```mlir
    %o = kiln.attention %q, %kt, %v addend(%mask : tensor<1x1x1x128xf32>) into %init
           {scale = 0.125 : f32, transposed_output}
           : tensor<1x12x128x64xf32>, tensor<1x12x64x128xf32>, tensor<1x12x128x64xf32>,
             tensor<1x128x12x64xf32> -> tensor<1x128x12x64xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$q, AnyShaped:$kt, AnyShaped:$v, Optional<AnyShaped>:$addend,
                   AnyShaped:$init, DefaultValuedAttr<F32Attr, "1.0f">:$scale,
                   UnitAttr:$transposed_output, OptionalAttr<DenseI64ArrayAttr>:$q_perm,
                   OptionalAttr<DenseI64ArrayAttr>:$kt_perm,
                   OptionalAttr<DenseI64ArrayAttr>:$v_perm, UnitAttr:$bf16_inputs);
  let results = (outs Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $q `,` $kt `,` $v (`addend` `(` $addend^ `:` type($addend) `)`)? `into` $init attr-dict
    `:` type($q) `,` type($kt) `,` type($v) `,` type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Whether its operands are tensors (it has a result) or memrefs.
    bool hasTensorSemantics() { return getResult() != nullptr; }
    /// The dims of the result (B, H, Sq, Dv) in that order: positions in
    /// init's shape.
    ::llvm::SmallVector<int64_t, 4> outputDims() {
      if (getTransposedOutput())
        return {0, 2, 1, 3};
      return {0, 1, 2, 3};
    }
    /// How q, kt and v are read: dim i of the op's view is dim result[i]
    /// of the operand (the identity without a perm). Asked by operand, not
    /// by value: one value may be read two or three ways (softmax(X X^T) X
    /// passes X as kt, through its perm, and as v).
    ::llvm::SmallVector<int64_t, 4> qOrder() { return readOrder(getQPerm()); }
    ::llvm::SmallVector<int64_t, 4> ktOrder() { return readOrder(getKtPerm()); }
    ::llvm::SmallVector<int64_t, 4> vOrder() { return readOrder(getVPerm()); }
    static ::llvm::SmallVector<int64_t, 4>
    readOrder(std::optional<::llvm::ArrayRef<int64_t>> perm) {
      if (perm)
        return ::llvm::SmallVector<int64_t, 4>(perm->begin(), perm->end());
      return {0, 1, 2, 3};
    }
  }];
}

#endif // KILN_DIALECT_KILN_UKERNEL_OPS_TD
