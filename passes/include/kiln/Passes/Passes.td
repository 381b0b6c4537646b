//===- Passes.td - Kiln passes --------------------------------*- tablegen -*-===//
//
// Every Kiln pass is declared here and lives in its own file under
// passes/lib/<group>/, with lit tests in test/passes/<name>/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_TD
#define KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnInferShapes : Pass<"kiln-infer-shapes", "::mlir::func::FuncOp"> {
  let summary = "Refine result types of kiln ops from their operands, in program order";
  let description = [{
    Re-runs each kiln op's result type inference in program order and writes
    the refined types back, then updates the function's result types. Run it
    after folding has turned computed shapes into constants (or after input
    dims were specialised) so that `?` dims become static downstream.

    Before:
    ```mlir
    %s = kiln.constant dense<[2, 4]> : tensor<2xi64>
    %0 = kiln.reshape %x, %s : (tensor<8xf32>, tensor<2xi64>) -> tensor<?x?xf32>
    ```
    After:
    ```mlir
    %0 = kiln.reshape %x, %s : (tensor<8xf32>, tensor<2xi64>) -> tensor<2x4xf32>
    ```
    An op whose operands contradict it (say a reshape whose element count no
    longer matches) is reported at its location and the pass fails.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnLowerToLinalg : Pass<"kiln-lower-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lower kiln ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Every kiln op becomes upstream ops on tensors: elementwise ops and
    reductions become `linalg.generic` (broadcasting through indexing maps),
    matmul/gemm become contractions, conv (1-D to N-D) becomes the same
    contraction over patches of its input (im2col: a copy into
    `[N, OH, OW, C, KH, KW]`, a GEMM against the filters as a `[F, C*KH*KW]`
    matrix, a transpose to NCHW; grouped, one GEMM a group, batched) or,
    with fewer than 8 output channels a group (depthwise), one generic that
    sums each window directly; symbolic spatial dims size the output at run
    time, after a check that the kernel fits the padded input,
    shape computations become `tensor.dim`/`tensor.from_elements` arithmetic
    evaluated at run time, and data movement becomes `tensor` ops or index
    arithmetic in a `linalg.generic`. The result is ready for one-shot
    bufferization.

    Before:
    ```mlir
    %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<2x3xf32>
    %0 = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d1),
                                          (d0, d1) -> (d0, d1)], ...}
        ins(%a, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %s = arith.addf %x, %y : f32
        linalg.yield %s : f32
    } -> tensor<2x3xf32>
    ```
    Broadcasting (elementwise ops, Expand, Gemm's C) follows ONNX for `?`
    dims too. Dims proven equal (the same symbol, input dims with the same
    `kiln.dim_names` name) emit nothing. Otherwise one operand's dim is taken
    as the result's size (an input's dim first), and an operand whose `?`
    dim may differ passes through an `scf.if` that copies it out to that
    size only in runs where it is a broadcasting 1. Dims that cannot
    broadcast, and the size-giving dim itself being a 1 that broadcasts (the
    case this specialisation leaves out), fail the run with a message
    (`kiln.runtime_check`, in functions with a `kiln.runtime_context`
    argument). With `unconditional-broadcast-copies` (the GPU path, whose
    host code cannot hold a buffer a branch chose) such an operand is
    copied out in every run instead: the copy reads index 0 along a dim
    only where it is a 1 that broadcasts, so it is the operand itself
    otherwise, and `kiln-fuse-elementwise` can fuse it into its user.
    MatMul's batch dims broadcast the same way where the result's is
    static (a `?` batch of 1 against a weight's); two `?` batch dims must
    be equal. A dim that is 1 only where the result's is (min(S, 512):
    position ids sliced to the sequence length) is checked, never copied.

    Other sizes the types leave open are checked as ONNX requires them
    (ORT fails too), never taken from whichever operand is static: MatMul's
    and Gemm's contraction dims, BatchNormalization's channels against its
    parameters, Split sizes against a `?` axis, Concat's other dims,
    GatherElements' indices outside the axis, GatherND's batch dims, a
    Reshape's element count and its -1 (undefined where the other sizes
    multiply to 0). An op the lowering does not handle yet is reported at
    its location and the pass fails.
  }];
  let options = [
    Option<"unconditionalBroadcastCopies", "unconditional-broadcast-copies", "bool",
           /*default=*/"false",
           "copy an operand whose `?` dims may broadcast in every run rather than in an "
           "scf.if taken only when one does">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnStridedCopyToLinalg : Pass<"kiln-strided-copy-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into linalg.copy";
  let description = [{
    The LLVM lowering of `memref.copy` uses `memcpy` when both buffers are
    contiguous and otherwise calls `memrefCopy` from MLIR's C runner
    utilities, which a compiled Kiln model cannot link: the runtime carries
    nothing of MLIR. This pass rewrites every copy that is not between two
    contiguous buffers into `linalg.copy`, which later becomes loops (and
    vector code) inside the model itself. Contiguous copies are left for the
    `memcpy` lowering.

    Before:
    ```mlir
    memref.copy %view, %buffer : memref<4x2xf32, strided<[8, 1]>> to memref<4x2xf32>
    ```
    After:
    ```mlir
    linalg.copy ins(%view : memref<4x2xf32, strided<[8, 1]>>) outs(%buffer : memref<4x2xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def KilnFuseSiblingMatMuls : Pass<"kiln-fuse-sibling-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Merge Linear layers that read the same input into one wider MatMul";
  let description = [{
    On the kiln dialect: `kiln.matmul`s with the same A and constant f32
    K x N_i weights (the Q, K and V projections of an attention block)
    become one `kiln.matmul` with the weights side by side (K x sum N_i),
    followed by one `kiln.slice` per layer. When every layer's only user is
    an add of a constant bias of N_i floats, the biases are joined too and
    added once, so the bias stays the GEMM's epilogue. Layers of another
    depth, or with a bias when others have none, are left alone.

    One GEMM instead of several packs (or quantizes) A once and gives the
    runtime a wider N to split over threads; each output column sums the
    same products in the same order as before. The fused MatMul's location
    fuses the layers' locations: it is named after the first layer (the
    profile, the accuracy report and calibration list it so), and
    `--quantize-exclude` of any of the layers keeps the whole GEMM in fp32.

    ```mlir
    %q = kiln.matmul %x, %wq : (tensor<?x128x768xf32>, tensor<768x768xf32>) -> tensor<?x128x768xf32>
    %k = kiln.matmul %x, %wk : (tensor<?x128x768xf32>, tensor<768x768xf32>) -> tensor<?x128x768xf32>
    // becomes
    %qk = kiln.matmul %x, %wqk : (tensor<?x128x768xf32>, tensor<768x1536xf32>) -> tensor<?x128x1536xf32>
    %q = kiln.slice %qk, [0], [768], [2], [1] ...
    %k = kiln.slice %qk, [768], [1536], [2], [1] ...
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnPrepareGemmEpilogues : Pass<"kiln-prepare-gemm-epilogues", "::mlir::func::FuncOp"> {
  let summary = "Mark elementwise consumers of contractions that the runtime GEMM can apply";
  let description = [{
    For each f32 contraction whose only user is an
    elementwise `linalg.generic` over its shape computing
    `act(x + bias) + residual` (x the contraction's result, bias a vector
    along the innermost dim, residual a tensor of the output's shape, each
    optional; act one of none, GELU erf, GELU tanh, ReLU), the consumer
    gets `kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm, bias, residual,
    activation>` (operand numbers, -1 where absent; the dialect verifies
    them against the op) and its init becomes the contraction's result, so
    that bufferization puts both in one buffer and
    `kiln-contraction-to-runtime-gemm` can fold the consumer into the GEMM. What the payload computes is found from
    its ops, never by evaluating it: its result is rewritten into a
    polynomial normal form over x, bias, residual and its erf/tanh/max/select
    ops, so algebraically equal forms of GELU match and nothing else does
    (ReLU6, Clip, LeakyReLU or a GELU with a wrong constant stay separate
    loops). Run it before `kiln-approximate-math`, while erf and tanh are
    still themselves.

    A `kiln.qgemm` already on tensors (a pre-quantized model's int8 MatMul,
    from `kiln-fold-integer-matmuls`) without an activation or residual is
    the GEMM call itself: such a consumer of it moves into it (its
    activation, residual and, unless the op has one, bias).

    Before:
    ```mlir
    %mm = linalg.generic {...contraction...} ins(%x, %w) outs(%zero)
    %y = linalg.generic {...parallel...} ins(%mm, %bias) outs(%empty) {
      %s = arith.addf %in, %b : f32
      %e = math.erf (%s / 1.41421354) ... // GELU
    }
    ```
    After:
    ```mlir
    %y = linalg.generic {...} ins(%mm, %bias) outs(%mm)
         {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1,
                                                    activation = gelu_erf>}
    ```

    With `cublas-epilogues` (the GPU path with `--gpu-gemm=cublas`) only
    what cuBLASLt's epilogues compute is marked: a bias with no
    activation, ReLU or GELU tanh, or a residual with no activation onto a
    product over a zero fill. GELU erf (cuBLASLt's GELU is the tanh
    form) stays a loop, bias included, unless `gelu-erf-as-tanh` (the GPU
    path's `--gpu-gelu=tanh`, with fp16 or bf16 GEMMs) trades it for the
    tanh form: the epilogue's payload is rewritten to
    `s/2 * (1 + tanh(sqrt(2/pi) * (s + 0.044715 s^3)))` and marked
    `gelu_tanh`, so that the GEMM applies it as it stores. The two forms
    differ by at most 4.7e-4 (at s = -2.7), about half a unit in the last
    place of fp16 at 1; an approximation the user asks for, never made
    otherwise.
  }];
  let options = [
    Option<"cublasEpilogues", "cublas-epilogues", "bool", /*default=*/"false",
           "mark only the epilogues cuBLASLt applies (the GPU path's GEMMs)">,
    Option<"geluErfAsTanh", "gelu-erf-as-tanh", "bool", /*default=*/"false",
           "with cublas-epilogues: compute an erf GELU epilogue in GELU's tanh form "
           "(cuBLASLt's), an approximation (at most 4.7e-4 off)">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"];
}

def KilnFoldOutputTransposes
    : Pass<"kiln-fold-output-transposes", "::mlir::func::FuncOp"> {
  let summary = "A transpose of a generic's result becomes the generic writing transposed";
  let description = [{
    A `linalg.transpose` (on tensors) whose input is the only use of a
    `linalg.generic`'s single result, whose init is a `linalg.fill`, and
    whose permutation keeps the last dim in place, is replaced by the
    generic with its output map permuted and a fill of the transposed shape
    as its init: each element is computed as before (a reduction included)
    and stored where the transpose would have put it. On the GPU path this
    removes a kernel per attention layer (the heads' merge after the product
    with V); the GEMM's rows stay contiguous, its other dims become strides.

    Before:
    ```mlir
    %pv = linalg.generic {indexing_maps = [..., affine_map<(b, h, s, d, k) -> (b, h, s, d)>]}
        ins(%p, %v) outs(%zero : tensor<1x12x128x64xf32>)
    %t = linalg.transpose ins(%pv) outs(%empty : tensor<1x128x12x64xf32>) permutation = [0, 2, 1, 3]
    ```
    After:
    ```mlir
    %z = linalg.fill ins(%c0) outs(%empty : tensor<1x128x12x64xf32>)
    %t = linalg.generic {indexing_maps = [..., affine_map<(b, h, s, d, k) -> (b, s, h, d)>]}
        ins(%p, %v) outs(%z)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def KilnPackGemmWeights : Pass<"kiln-pack-gemm-weights", "::mlir::ModuleOp"> {
  let summary = "Re-lay constant GEMM weights into the micro-kernels' panel layout";
  let description = [{
    An f32 contraction on tensors (`out += a * b`, one reduction loop) whose
    B is a constant matrix (possibly through a `linalg.transpose`, or a
    `tensor.collapse_shape` of a conv's 4-D filters), indexed
    by the reduction loop k and by the output's innermost loop n, gets a new
    constant: B cut into panels of W columns, each stored k-major and zero
    padded, `tensor<ceil(N/W) x K x W>`, read through the map
    `(n floordiv W, k, n mod W)`. The contraction computes the same values;
    `kiln-contraction-to-runtime-gemm` recognises the map and passes B to
    the runtime as prepacked, so no weight is packed at run time and a
    transposed weight costs no transpose.

    W is the panel width (nr) of the runtime micro-kernel for `target`:
    32 for avx512 (12x32 tile), 16 for avx2 (6x16), 8 for portable (4x8).
    The module gets `kiln.gemm_tile = {target, mr, nr}` and each rewritten
    contraction `kiln.packed_rhs = W`. The data of weights that nothing else
    uses any more is released.

    Before:
    ```mlir
    %w = arith.constant dense_resource<w> : tensor<768x3072xf32>
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n),
                                     (m, n, k) -> (m, n)], ...} ins(%x, %w ...)
    ```
    After (target avx512):
    ```mlir
    %w = arith.constant dense_resource<w_panels32> : tensor<96x768x32xf32>
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k),
                                     (m, n, k) -> (n floordiv 32, k, n mod 32),
                                     (m, n, k) -> (m, n)], ...,
                    kiln.packed_rhs = 32 : i64} ins(%x, %w ...)
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"avx512\"",
           "The micro-kernel family to lay weights out for: avx512, avx2 or portable">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def KilnPackGemmWeightsBf16 : Pass<"kiln-pack-gemm-weights-bf16", "::mlir::ModuleOp"> {
  let summary = "Round constant GEMM weights to bf16, in the bf16 kernels' panel layout";
  let description = [{
    `kiln compile --quantize bf16`. Every contraction that
    `kiln-pack-gemm-weights` would pack (an f32 `out += a * b` whose B is a
    constant matrix, possibly transposed or a conv's collapsed filters) gets
    its weight rounded to bf16 (nearest, ties to even; `kiln_bf16_pack.h`)
    and laid out as the runtime's bf16 kernels read it:
    `tensor<ceil(N/W) x K2/2 x W x 2 x bf16>` (K2 = K rounded up to even,
    W = 32 for every target), read through
    `(n floordiv W, k floordiv 2, n mod W, k mod 2)`, widened back by an
    `arith.extf` in the body (the data is a flat constant, expanded to that
    view by a `tensor.expand_shape`). The contraction is marked
    `kiln.packed_rhs = W` (so `kiln-pack-gemm-weights` skips it);
    `kiln-contraction-to-runtime-gemm` then makes it a `kiln.fgemm` with
    that B, whose runtime call (`b_type` bf16) rounds A to bf16 too and
    sums exact products in fp32. The f32 data of weights nothing else reads is released.

    Contractions whose ONNX node's name or op type is in `exclude` stay
    fp32. With `hardware-bf16=false` (a target CPU without AVX512_BF16) the
    pass warns that the bf16 GEMMs run the runtime's portable kernel.

    Before:
    ```mlir
    %w = arith.constant dense_resource<w> : tensor<768x3072xf32>
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n),
                                     (m, n, k) -> (m, n)], ...} ins(%x, %w ...) {
    ^bb0(%a: f32, %b: f32, %out: f32): ...
    ```
    After:
    ```mlir
    %flat = arith.constant dense_resource<w_bf16_panels32> : tensor<2359296xbf16>
    %w = tensor.expand_shape %flat [[0, 1, 2, 3]] output_shape [96, 384, 32, 2] ...
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k),
                                     (m, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2),
                                     (m, n, k) -> (m, n)], ...,
                    kiln.packed_rhs = 32 : i64} ins(%x, %w ...) {
    ^bb0(%a: f32, %b: bf16, %out: f32):
      %bw = arith.extf %b : bf16 to f32  ...
    ```
  }];
  let options = [
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names or op types (MatMul, Gemm, Conv) to keep in fp32">,
    Option<"hardwareBf16", "hardware-bf16", "bool", /*default=*/"true",
           "whether the target CPU has AVX512_BF16 (else a warning: the portable kernel runs)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnPackSparseGemmWeights : Pass<"kiln-pack-sparse-gemm-weights", "::mlir::ModuleOp"> {
  let summary = "Run contractions whose constant weights are mostly zeros as sparse GEMMs (kiln.sparse_gemm)";
  let description = [{
    A weight pruned before Kiln sees it (an ONNX file whose MatMul or Gemm
    weights were pruned in 1x4 blocks or one value at a time) is still a
    dense tensor. For every f32 contraction on tensors whose B is a
    constant matrix (possibly transposed), whose A is read row-major and
    whose output starts at zero, this pass counts B's blocks of 1 x 4 and
    of 1 x 1 holding a nonzero value and estimates the runtime's sparse
    GEMM with each width against the dense GEMM (`kiln_sparse_cost` in
    `kiln_sparse_pack.h`: the sparse kernels' time per stored multiply-add
    in units of the dense kernel's, measured by `kiln-sparse-gemm-bench`).
    Where the cheaper width beats dense, the weight is stored as its
    nonzero blocks in the runtime's layout (`kiln_sparse_pack.h`) and the
    contraction becomes a `kiln.sparse_gemm` with the epilogue that
    `kiln-prepare-gemm-epilogues` marked (bias, GELU or ReLU, residual)
    folded in. Dense stays the choice below the break-even sparsity (about
    50% in 1x4 blocks, 70-80% unstructured). The f32 data of weights
    nothing else reads is released.

    `mode`: `auto` (the cost model decides), `always` (every such
    contraction goes sparse, with the cheaper width; for tests), `off`.

    Before (a 768 x 768 weight, 80% of its 1x4 blocks zero):
    ```mlir
    %w = arith.constant dense_resource<w> : tensor<768x768xf32>
    %mm = linalg.generic {...contraction...} ins(%x, %w) outs(%zero)
    %y = linalg.generic {...} ins(%mm, %bias) outs(%mm)
         {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = -1,
                                                    activation = none>}
    ```
    After:
    ```mlir
    %w = arith.constant dense_resource<sparse_gemm_weight_0> : tensor<590784xi8>
    %y = kiln.sparse_gemm %x, %w bias(%bias : tensor<768xf32>) into %init
           {k = 768, n = 768, block_width = 4, stored_blocks = 29491}
           : tensor<?x768xf32>, tensor<590784xi8>, tensor<?x768xf32> -> tensor<?x768xf32>
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"auto\"",
           "auto (the cost model decides), always (every eligible weight), or off">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnPackSparseQGemmWeights : Pass<"kiln-pack-sparse-qgemm-weights", "::mlir::ModuleOp"> {
  let summary = "Run int8 GEMMs whose constant weights are mostly zeros as sparse int8 GEMMs (kiln.sparse_qgemm)";
  let description = [{
    `--quantize int8` (or `int8-static`) on a pruned model: a weight's
    pruned zeros quantize to exactly 0 (symmetric int8), so a `kiln.qgemm`'s
    constant packed weight is as sparse as the fp32 weight was. For every
    `kiln.qgemm` on tensors whose `b_packed` is a constant, this pass reads
    the int8 weight back (`kiln_qgemm_pack.h`), counts its blocks of 1 x 4
    and of 1 x 1 holding a nonzero value, each block column's taken 4 rows
    at a time (the groups of `kiln_sparse_qgemm_pack.h`), and estimates the
    runtime's sparse int8 GEMM with each width against the dense int8 GEMM
    (`kiln_sparse_qgemm_cost`: the sparse kernel's time per stored
    multiply-add in units of the dense kernel's, measured by
    `kiln-sparse-gemm-bench`). Where the cheaper width beats dense, the
    weight is stored as its groups in the runtime's layout and the op
    becomes a `kiln.sparse_qgemm` with the same operands, scales and
    epilogue: the same result bit for bit. The dense blob of weights
    nothing else reads is released.

    `mode`: `auto` (the cost model decides), `always` (every such op goes
    sparse, with the cheaper width; for tests), `off`.

    Before (a 768 x 768 weight, 80% of its 1x4 blocks zero):
    ```mlir
    %w = arith.constant dense_resource<qgemm_weight_0> : tensor<592896xi8>
    %y = kiln.qgemm %x, %w, %s bias(%b : tensor<768xf32>) into %init {k = 768, n = 768}
           : tensor<?x768xf32>, tensor<592896xi8>, tensor<768xf32>, tensor<?x768xf32> -> tensor<?x768xf32>
    ```
    After:
    ```mlir
    %w = arith.constant dense_resource<sparse_qgemm_weight_0> : tensor<184640xi8>
    %y = kiln.sparse_qgemm %x, %w, %s bias(%b : tensor<768xf32>) into %init
           {k = 768, n = 768, block_width = 4, stored_groups = 7526}
           : tensor<?x768xf32>, tensor<184640xi8>, tensor<768xf32>, tensor<?x768xf32> -> tensor<?x768xf32>
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"auto\"",
           "auto (the cost model decides), always (every eligible weight), or off">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::arith::ArithDialect"];
}

def KilnSoftmaxToUkernel : Pass<"kiln-softmax-to-ukernel", "::mlir::func::FuncOp"> {
  let summary = "Turn softmax over the last axis, with its scale and mask, into kiln.softmax_rows";
  let description = [{
    On the kiln dialect, before the lowering to linalg: a `kiln.softmax`
    of f32 over the last axis of a tensor of rank 1 to 4 becomes one
    `kiln.softmax_rows` (the runtime's row softmax). What feeds it is folded
    in when the softmax is its only user:

    - `kiln.add %s, %m` where `%s` has the softmax's shape and `%m`
      broadcasts to it: `%m` becomes the addend (attention's mask). A `?`
      dim of `%m` that turns out 1 at run time where the scores' is not is
      handled as the Add's own lowering does (copied out when it happens),
      or left to the kernel (`mask-broadcast-in-kernel`, below). A `%m`
      of zeros by construction (a splat 0, an Expand of one, or a Where
      whose constant condition chooses one: ViT's dynamo export adds
      `where(expand(true), 0, -inf)`, its all-true mask) is no addend: the
      run still checks its shape against the scores' as the Add's lowering
      would, but nothing computes it;
    - then `kiln.mul %x, %c` (either order) or `kiln.div %x, %c` with `%c`
      a constant holding one float (a splat): `%c` becomes the scale, `1/c`
      for a division only where that is exact (a power of two), so the
      scores round as the unfused graph rounds them.

    Attention's `softmax(QK^T * scale + mask)` then reads the scores once
    and writes the probabilities once, instead of five loops over them.
    The op's location fuses those of the ops it replaces, the softmax's
    first (profiles name it so). Log-softmax, other axes, other element
    types and higher ranks keep the linalg lowering.

    ```mlir
    %s = kiln.mul %qk, %c : (tensor<1x12x128x128xf32>, tensor<f32>) -> tensor<1x12x128x128xf32>
    %t = kiln.add %s, %mask : (tensor<1x12x128x128xf32>, tensor<1x1x1x128xf32>) -> tensor<1x12x128x128xf32>
    %p = kiln.softmax %t {axis = 3 : i64} : (tensor<1x12x128x128xf32>) -> tensor<1x12x128x128xf32>
    // becomes
    %p = kiln.softmax_rows %qk addend(%mask : tensor<1x1x1x128xf32>) into %init {scale = 0.125 : f32} ...
    ```

    A mask whose `?` dims may be a broadcasting 1 at run time is copied out
    as the Add's own lowering would (`kiln-lower-to-linalg`), in an `scf.if`
    taken only when one does. With `mask-broadcast-in-kernel` (the GPU
    path, whose host code cannot hold a copy a branch chose) the mask stays
    as it is: the GPU's row and attention kernels read a dim of 1 at index
    0, pick 0 or the row's index for a `?` dim when they run, and check on
    the host what the types leave open.
  }];
  let options = [
    Option<"maskBroadcastInKernel", "mask-broadcast-in-kernel", "bool", /*default=*/"false",
           "leave the mask's `?` dims to the kernel that reads it (the GPU's): no copy">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnFuseLayerNorm : Pass<"kiln-fuse-layer-norm", "::mlir::func::FuncOp"> {
  let summary = "Turn a layer norm written out in graph ops into one kiln.layer_norm";
  let description = [{
    On the kiln dialect. ONNX has LayerNormalization only from opset 17, so
    exporters targeting an older one (torch.onnx.export's TorchScript path)
    write it out; this pass puts one `kiln.layer_norm` in place of

    ```mlir
    %m = kiln.reduce_mean %x axes = [2] ...          // keepdims, trailing axes
    %d = kiln.sub %x, %m ...
    %p = kiln.pow %d, %two ...                       // or kiln.mul %d, %d
    %v = kiln.reduce_mean %p axes = [2] ...          // the same axes
    %e = kiln.add %v, %eps ...                       // a splat constant, either side
    %s = kiln.sqrt %e ...
    %n = kiln.div %d, %s ...
    %g = kiln.mul %n, %gamma ...                     // optional, either side
    %y = kiln.add %g, %beta ...                      // optional, either side
    // becomes
    %y = kiln.layer_norm %x, %gamma, %beta {axis = 2 : i64, epsilon = ...}
    ```

    so that kiln-layer-norm-to-ukernel (the CPU's row layer norm, the GPU's
    row kernel) finds it. Without the Mul the scale is a constant of ones.
    The scale and bias fold in only when they have a static shape each of
    whose dims is 1 or the normalized dim's, so that the Mul and Add did
    not broadcast further. f32, f16 and bf16; a chain any of whose values
    (other than x) something else reads as well is left alone.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnLayerNormToUkernel : Pass<"kiln-layer-norm-to-ukernel", "::mlir::func::FuncOp"> {
  let summary = "Turn layer normalization over the last axis into kiln.layer_norm_rows";
  let description = [{
    On the kiln dialect, before the lowering to linalg: a `kiln.layer_norm`
    of f32 over the last axis of a tensor of rank 1 to 4, that axis of a
    static size and the scale (and bias, if any) 1-D of it, becomes one
    `kiln.layer_norm_rows` (the runtime's row layer norm): each row's mean,
    variance and result while it stays in L1, and one hand-off to the
    threads, instead of the lowering's four loops over the tensor (sum,
    deviations, their squares' sum, result). Other axes, element types,
    ranks and scale shapes keep the linalg lowering.

    ```mlir
    %y = kiln.layer_norm %x, %gamma, %beta {axis = 2 : i64, epsilon = 1.0e-12 : f32}
           : (tensor<1x128x384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<1x128x384xf32>
    // becomes
    %y = kiln.layer_norm_rows %x, %gamma bias(%beta : tensor<384xf32>) into %init
           {epsilon = 1.0e-12 : f32} ...
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::tensor::TensorDialect"];
}

def KilnAttentionToUkernel : Pass<"kiln-attention-to-ukernel", "::mlir::func::FuncOp"> {
  let summary = "Turn attention's two products around a kiln.softmax_rows into one kiln.attention";
  let description = [{
    After `kiln-softmax-to-ukernel`, on the kiln dialect: a
    `kiln.softmax_rows` (with its scale and addend) of `kiln.matmul %q, %kt`
    whose probabilities only feed `kiln.matmul %p, %v`, all f32 of rank 4
    (batch, heads, rows, columns), becomes one `kiln.attention`: each head
    runs from scores to output in one runtime call, a few rows at a time,
    the scores staying in L1 (the same floats as the three calls). The
    products must each be the other's only user. When the output's only
    user is a `kiln.transpose` with `perm = [0, 2, 1, 3]` (the heads
    interleaved again, as attention's output projection wants them), that
    goes into the op too (`transposed_output`): the result is written in
    that layout and the copy is gone.

    The result's batch dims are the broadcast of those of q, kt and v: a
    `?` one is the largest of theirs (the lowering checks the others are 1
    or it). The op's location fuses those of the ops it replaces, the first
    product's first (profiles name it so).

    ```mlir
    %s = kiln.matmul %q, %kt : (tensor<1x12x128x64xf32>, tensor<1x12x64x128xf32>) -> tensor<1x12x128x128xf32>
    %p = kiln.softmax_rows %s addend(%mask : tensor<1x1x1x128xf32>) into %i {scale = 0.125 : f32} ...
    %o = kiln.matmul %p, %v : (tensor<1x12x128x128xf32>, tensor<1x12x128x64xf32>) -> tensor<1x12x128x64xf32>
    %t = kiln.transpose %o {perm = array<i64: 0, 2, 1, 3>} : ... -> tensor<1x128x12x64xf32>
    // becomes
    %t = kiln.attention %q, %kt, %v addend(%mask : tensor<1x1x1x128xf32>) into %init
           {scale = 0.125 : f32, transposed_output} : ... -> tensor<1x128x12x64xf32>
    ```

    With `gpu=true` (the GPU path's `--gpu-attention=fused`) only what
    `kiln-gpu-attention-kernels` runs is fused: static head sizes, q's a
    multiple of 16 (at most 256), v's a multiple of 8 (at most 256), and
    not a static count of 0 keys; the batch, heads and query and key counts
    may be symbolic. Other attention stays the three ops.
  }];
  let options = [
    Option<"gpu", "gpu", "bool", /*default=*/"false",
           "fuse only attention the GPU's tensor-core kernel runs">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnAttentionToRuntime : Pass<"kiln-attention-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower bufferized kiln.attention ops to calls of the runtime's attention";
  let description = [{
    Each `kiln.attention` on memrefs becomes the filling of a
    `kiln_attention_desc` (kiln_abi.h; one stack descriptor per function,
    of `KILN_ATTENTION_DESC_FIELDS` 64-bit words whose positions come from
    the struct itself) and a call of `kiln_rt_attention(ctx, desc)`, which
    the model ABI binds to `kiln_runtime_context::attention`. Strides come
    from the operands' strided metadata (q, kt and v may be any views; kt
    is usually K's rows read in place), 0 along the batch dims of size 1
    and the addend's dims of size 1 (the broadcast). A `?` batch dim of an
    operand, or a `?` dim of the addend, must be 1 or the result's when
    the model runs: a `kiln.runtime_check` fails the run otherwise.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::kiln::KilnDialect"];
}

def KilnLayerNormToRuntime : Pass<"kiln-layer-norm-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower bufferized kiln.layer_norm_rows ops to calls of the runtime's row layer norm";
  let description = [{
    Each `kiln.layer_norm_rows` on memrefs becomes the filling of a
    `kiln_layer_norm_desc` (kiln_abi.h; one stack descriptor per function,
    of `KILN_LAYER_NORM_DESC_FIELDS` 64-bit words whose positions come from
    the struct itself) and a call of `kiln_rt_layer_norm(ctx, desc)`, which
    the model ABI binds to `kiln_runtime_context::layer_norm`. x's dims
    become the rows (last two) and the batch (the others).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::kiln::KilnDialect"];
}

def KilnSoftmaxToRuntime : Pass<"kiln-softmax-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower bufferized kiln.softmax_rows ops to calls of the runtime's row softmax";
  let description = [{
    Each `kiln.softmax_rows` on memrefs becomes the filling of a
    `kiln_softmax_desc` (kiln_abi.h; one stack descriptor per function, of
    `KILN_SOFTMAX_DESC_FIELDS` 64-bit words whose positions come from the
    struct itself) and a call of `kiln_rt_softmax(ctx, desc)`, which the
    model ABI binds to `kiln_runtime_context::softmax`. x's dims become the
    rows (last two) and the batch (the others); the addend's strides come
    from its strided metadata, 0 along its dims of size 1 (the broadcast).
    A `?` dim of the addend must be x's when the model runs: a
    `kiln.runtime_check` fails the run otherwise.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::kiln::KilnDialect"];
}

def KilnSparseGemmToRuntime : Pass<"kiln-sparse-gemm-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower bufferized kiln.sparse_gemm ops to calls of the runtime's sparse GEMM";
  let description = [{
    Each `kiln.sparse_gemm` on memrefs becomes the filling of a
    `kiln_sparse_gemm_desc` (kiln_abi.h; one stack descriptor per function,
    of `KILN_SPARSE_GEMM_DESC_FIELDS` 64-bit words whose positions come from
    the struct itself) and a call of `kiln_rt_sparse_gemm(ctx, desc)`, which
    the model ABI binds to `kiln_runtime_context::sparse_gemm`. Strides come
    from the memrefs' strided metadata, so views (a collapsed activation, a
    residual) need no copies.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnSparseQGemmToRuntime : Pass<"kiln-sparse-qgemm-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower bufferized kiln.sparse_qgemm ops to calls of the runtime's sparse int8 GEMM";
  let description = [{
    Each `kiln.sparse_qgemm` on memrefs becomes the filling of a
    `kiln_qgemm_desc` (kiln_abi.h; its `b` the sparse blob; one stack
    descriptor per function, the fields filled as for `kiln.qgemm`) and a
    call of `kiln_rt_sparse_qgemm(ctx, desc)`, which the model ABI binds to
    `kiln_runtime_context::sparse_qgemm`. Strides come from the memrefs'
    strided metadata, so views need no copies.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnQuantizeContractions : Pass<"kiln-quantize-contractions", "::mlir::ModuleOp"> {
  let summary = "Replace fp32 contractions with constant weights by int8 GEMMs (kiln.qgemm)";
  let description = [{
    `kiln compile --quantize int8`: dynamic int8 quantization, as people
    deploy Transformers on CPUs. An f32 contraction on tensors whose B is a
    constant matrix (a MatMul or Gemm weight, also through a transpose),
    whose A is read row-major (`(batch..., m, k)`, the batch dims becoming
    rows) and whose output starts at zero becomes a `kiln.qgemm`:

    - the weight is quantized here, once: symmetric int8 with one scale per
      output column (`scale[j] = max_p |B(p, j)| / 127`, `q = rint(B /
      scale)`), and stored in the runtime's packed layout
      (`kiln_qgemm_pack.h`, column sums included);
    - A is quantized when the model runs, per row, to uint8 (kiln.qgemm's
      semantics, as ONNX DynamicQuantizeLinear does per tensor); or, when
      the module has `kiln.activation_quantization` (`--quantize
      int8-static`: calibrated types by ONNX node name), with its node's
      one `!quant.uniform<u8:f32, scale:zero_point>` for the whole tensor
      (kiln.qgemm's `a_scale` and `a_zero_point`). Then a layer without an
      entry is an error: it was not calibrated;
    - the elementwise consumer that `kiln-prepare-gemm-epilogues` marked
      (bias, GELU or ReLU, residual) becomes the op's epilogue, so the
      dequantized output is written once.

    Contractions whose ONNX node's name or op type is in `exclude` stay
    fp32, as do those outside the form above (batched attention products,
    whose B is not a constant). The f32 data of weights nothing else reads
    is released.
  }];
  let options = [
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names or op types (MatMul, Gemm) to keep in fp32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::tensor::TensorDialect"];
}

def KilnBf16ActivationProducts : Pass<"kiln-bf16-activation-products", "::mlir::ModuleOp"> {
  let summary = "Run GEMMs of two run-time operands (attention's products) on bf16 inputs";
  let description = [{
    `kiln compile --quantize` on CPUs with AVX512_BF16: every `kiln.fgemm`
    whose b is read at run time (not prepacked, not a view of a constant),
    attention's QK^T and its product with V, gets `bf16_inputs`: the runtime
    rounds a and b to bf16 as it packs them and sums the exact products in
    fp32 (`kiln_gemm_desc` with b_type bf16), at twice the fp32 rate. So
    does every `kiln.attention` (both products in one call; its
    `kiln_attention_desc` products_type bf16). GEMMs whose ONNX node's name
    or op type is in `exclude` stay fp32 (an attention when either of its
    MatMul nodes is).

    ```mlir
    kiln.fgemm %q, %kt into %s {bf16_inputs, indexing_maps = [...]}
        : memref<1x12x128x64xf32, strided<...>>, memref<...>, memref<1x12x128x128xf32>
    ```
  }];
  let options = [
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names or op types (MatMul) to keep in fp32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnPruneMagnitude : Pass<"kiln-prune-magnitude", "::mlir::ModuleOp"> {
  let summary = "Zero the smallest blocks of MatMul/Gemm weights to a target sparsity";
  let description = [{
    `kiln compile --prune S:unstructured|S:blockRxC[:global|:per-layer]`
    (docs/pruning.md): magnitude pruning of the constant weights of the f32
    contractions lowered from ONNX MatMul and Gemm nodes, in place (the
    zeros stay in the fp32 constant; the layout passes downstream choose how
    to store them).

    A weight is seen as K x N (K the contraction's reduction, N its output
    columns, whatever the constant's layout: Gemm's `transB` weight is N x
    K in memory). It is cut into blocks of `block-k` rows of K by `block-n`
    consecutive columns of N (`1x4`: four output features of one input
    feature; PyTorch's `[out, in]` view of the same block is 4 x 1), from
    (0, 0), the last blocks partial when the sizes do not divide. A block's
    score is its squared L2 norm, summed in double in row-then-column order.
    With `scope=per-layer` a weight's threshold is the n-th smallest of its
    block scores, n = round(`sparsity` x its blocks); with `scope=global`
    one threshold over the blocks of all the weights together. Every block
    whose score is at or below the threshold becomes zero, so ties all go
    (and sparsity can exceed the target on weights that were sparse
    already).

    A weight is pruned once however many contractions read it, and not at
    all if one of them is lowered from a node whose name or op type is in
    `exclude`, or if two read it as different K x N views. `keep-dense`
    names nodes whose weights count towards a global threshold but stay as
    they are: the accuracy report measures one layer pruned alone with it.
    `report` emits a remark per pruned weight and one summing them up
    (`kiln compile --stats`). tools/prune_onnx.py does the same on ONNX
    initializers.
  }];
  let options = [
    Option<"sparsity", "sparsity", "double", /*default=*/"0.0",
           "The fraction of blocks to zero, in (0, 1)">,
    Option<"blockK", "block-k", "unsigned", /*default=*/"1",
           "Block rows along K (the weight's input features)">,
    Option<"blockN", "block-n", "unsigned", /*default=*/"1",
           "Block columns along N (the weight's output features)">,
    Option<"scope", "scope", "std::string", /*default=*/"\"per-layer\"",
           "per-layer (each weight to the sparsity) or global (one threshold over all)">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names or op types (MatMul, Gemm) whose weights stay dense">,
    ListOption<"keepDense", "keep-dense", "std::string",
               "ONNX node names or op types whose weights count for the threshold but stay dense">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per pruned weight and one summing them up">,
  ];
}

def KilnPruneStructured : Pass<"kiln-prune-structured", "::mlir::ModuleOp"> {
  let summary = "Remove attention heads and FFN neurons: smaller dense GEMMs";
  let description = [{
    `kiln compile --prune heads=F,ffn=F` (docs/pruning.md): structured
    pruning on the kiln dialect, before the Linear layers are fused or
    lowered. A *block* is found from the Linear layers (x @ W + b, W and b
    constants) that read one value: their outputs are followed through the
    ops between them and the one Linear layer that reads the result, each
    value's feature axis tracked:

    - FFN: up-projection, elementwise ops (GELU as erf arithmetic or any
      unary op, with scalar operands), down-projection. A unit is one
      neuron (a column of W1 and b1, a row of W2).
    - Attention: Q, K, V projections, reshapes splitting the features into
      (heads, head_dim), transposes, the two batched products (within each
      head), elementwise ops whose other operands do not vary across heads
      (the scale, the mask), softmax over a non-head axis, the merge
      reshape, the output projection. A unit is a head (head_dim columns of
      Wq, Wk, Wv and their biases, head_dim rows of Wo).

    A unit's importance is the sum over its columns j of s_j x ||W[j, :]||2
    (W the block's last Linear weight, row j): s_j = E|x_j| of that layer's
    input x over calibration data when the module's
    `kiln.layer_input_magnitude` holds it for the layer's ONNX node (`kiln
    compile --calibration-data`), else 1 (weight magnitude only). Per block
    the round(F x units) least important units go (ties: the lower index
    first), at least one unit stays. The weights become smaller constants,
    every value in the block gets its new size, and the reshapes' constant
    shape entries for heads or features are rewritten (a -1 entry needs
    nothing). A pattern that does not match leaves the block dense and,
    with `report`, says why; `report` also gives each block's kept units.
    A block any of whose Linear layers `exclude` names (`kiln compile
    --prune-exclude`) stays whole.
    tools/prune_onnx.py applies the same removal to an ONNX file.
  }];
  let options = [
    Option<"heads", "heads", "double", /*default=*/"0.0",
           "The fraction of each attention block's heads to remove, in [0, 1)">,
    Option<"ffn", "ffn", "double", /*default=*/"0.0",
           "The fraction of each FFN block's neurons to remove, in [0, 1)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per block (kept units, or why it stays dense) and a sum">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names of Linear layers whose blocks stay whole">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnPruneNM : Pass<"kiln-prune-n-m", "::mlir::ModuleOp"> {
  let summary = "Keep the N largest of every M weights along K (N:M sparsity, e.g. 2:4)";
  let description = [{
    `kiln compile --prune N:M` (docs/pruning.md): in each group of `m`
    consecutive values along K of a MatMul/Gemm weight's K x N view (one
    output column, K the contraction's reduction), the `n` largest in
    magnitude stay and the others become zero, in place in the fp32
    constant. Ties prune the value earlier along K first; a last group
    shorter than `m` keeps its `n` largest too. Weights are chosen as by
    kiln-prune-magnitude (`exclude`, `keep-dense`, `report` alike), and
    tools/prune_onnx.py does the same on ONNX initializers.
  }];
  let options = [
    Option<"n", "n", "unsigned", /*default=*/"2", "Values kept per group">,
    Option<"m", "m", "unsigned", /*default=*/"4", "Group size along K (at most 64)">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names or op types (MatMul, Gemm) whose weights stay dense">,
    ListOption<"keepDense", "keep-dense", "std::string",
               "ONNX node names or op types whose weights stay dense (as exclude; for symmetry "
               "with kiln-prune-magnitude)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per pruned weight and one summing them up">,
  ];
}

def KilnExposeLayerInputs : Pass<"kiln-expose-layer-inputs", "::mlir::ModuleOp"> {
  let summary = "Return the activation (A) of the named Linear layers as extra outputs, for calibration";
  let description = [{
    `kiln compile --quantize int8-static` calibrates each layer it quantizes
    on the values its A takes in the fp32 model. This pass makes that
    model: on the kiln dialect, the first operand of every `kiln.matmul`
    and `kiln.gemm` whose ONNX node name is in `nodes` is returned from
    `main` as one more output, named `calibration:<node name>`
    (`kiln.output_name`), after the graph's own outputs. Every name must
    match such an op: a name that matches none is an error (the calibration
    would miss that layer). Nothing else changes.

    ```mlir
    %y = kiln.matmul %x, %w : ... loc(#node)   // #node: "fc1" (MatMul)
    return %y
    // with nodes=fc1:
    return %y, %x   // the second: {kiln.output_name = "calibration:fc1"}
    ```
  }];
  let options = [
    ListOption<"nodes", "nodes", "std::string",
               "ONNX node names of the MatMul and Gemm layers whose A to return">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::func::FuncDialect"];
}

def KilnFoldIntegerMatMuls : Pass<"kiln-fold-integer-matmuls", "::mlir::ModuleOp"> {
  let summary = "Run the int8 MatMuls of pre-quantized ONNX models as int8 GEMMs (kiln.qgemm)";
  let description = [{
    Models quantized before Kiln sees them (onnxruntime's `quantize_dynamic`:
    QOperator, `quantize_static`: QDQ) spell their int8 Linear layers out
    in ONNX ops, imported literally. On the kiln dialect, this pass turns
    the two spellings into a `kiln.qgemm` whose A is the model's own uint8
    tensor with its per-tensor scale and zero point, and whose int8 weight
    is packed here, once (`kiln_qgemm_pack.h`):

    - QOperator: `f32(MatMulInteger(A, W, za, 0)) * (sa * sw)`, A uint8
      (DynamicQuantizeLinear's), W a constant int8 K x N matrix, `sw` one
      scale or one per column: kiln.qgemm computes exactly this;
    - QDQ: `MatMul(DequantizeLinear(A, sa, za), DequantizeLinear(W, sw, 0))`
      (an int8 A straight from a QuantizeLinear with constant zero points
      is quantized to uint8 instead, both zero points moved by 128): the
      same quantized values, the exact int32 sum rounded once where the
      fp32 MatMul rounds each term (as onnxruntime computes it too);
    - QLinearMatMul (`quantize_static` with the QOperator format):
      `QuantizeLinear(f64(MatMulInteger(A, W, za, 0)) * f64(sa * sw / sy), 1, zy)`
      with constant scales: a `kiln.qgemm` whose column scales are the
      multipliers `sa * sw[j] / sy` (in float) and no `a_scale`, then
      `QuantizeLinear` with scale 1: the float requantization onnxruntime
      computes, where ONNX's reference scales in double (an output can
      differ by one step where the product falls on a .5).

    A bias add of N floats right after the first two joins the op. A weight zero
    point other than 0, per-row or blocked scales, uint8 weights and any
    other variation stay as they are (correct loops). Before:

    ```mlir
    %a = kiln.cast %xq : tensor<?x64xui8> to i32
    %z = kiln.cast %zp : tensor<ui8> to i32
    %d = kiln.sub %a, %z : (tensor<?x64xi32>, tensor<i32>) -> tensor<?x64xi32>
    %b = kiln.cast %w : tensor<64x48xi8> to i32
    %p = kiln.matmul %d, %b : (tensor<?x64xi32>, tensor<64x48xi32>) -> tensor<?x48xi32>
    %f = kiln.cast %p : tensor<?x48xi32> to f32
    %s = kiln.mul %sa, %sw : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %y = kiln.mul %f, %s : (tensor<?x48xf32>, tensor<f32>) -> tensor<?x48xf32>
    ```

    After:

    ```mlir
    %y = kiln.qgemm %xq, %packed, %scales a_scale(%sa : tensor<f32>)
           a_zero_point(%zp : tensor<ui8>) into %init {k = 64 : i64, n = 48 : i64}
           : tensor<?x64xui8>, tensor<3264xi8>, tensor<48xf32>, tensor<?x48xf32> -> tensor<?x48xf32>
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnQGemmToRuntime : Pass<"kiln-qgemm-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower bufferized kiln.qgemm ops to calls of the runtime's int8 GEMM";
  let description = [{
    Each `kiln.qgemm` on memrefs becomes the filling of a `kiln_qgemm_desc`
    (kiln_abi.h; one stack descriptor per function, of
    `KILN_QGEMM_DESC_FIELDS` 64-bit words whose positions come from the
    struct itself) and a call of `kiln_rt_qgemm(ctx, desc)`, which the model
    ABI binds to `kiln_runtime_context::qgemm`. Strides come from the
    memrefs' strided metadata, so views (a collapsed activation, a residual)
    need no copies.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnContractionToRuntimeGemm : Pass<"kiln-contraction-to-runtime-gemm", "::mlir::ModuleOp"> {
  let summary = "Turn bufferized fp32 contractions into the runtime GEMM op, kiln.fgemm";
  let description = [{
    Every fp32 `linalg.generic` on buffers computing `out += a * b` with one
    reduction loop (what `kiln.matmul` and `kiln.gemm` lower to) becomes a
    `kiln.fgemm`: the runtime's packed, multi-threaded GEMM, which
    `kiln-fgemm-to-runtime` lowers to its call.

    The loop innermost in the output among those only the first input uses
    is the GEMM's m; likewise n for the second input. Of the other parallel
    loops (batch, broadcast batch, extra m-like dims) the two innermost are
    the op's batch loops, which the runtime runs in parallel; any more become
    `scf.for` loops around the op, each taking a one-iteration view
    (`memref.subview`) of the operands it moves. Transposed and broadcast
    operands keep their strides, never copied. A B read through
    `(n floordiv W, k, n mod W)` from a contiguous `ceil(N/W) x K x W`
    buffer (what `kiln-pack-gemm-weights` makes) keeps that map: prepacked;
    so does a bf16 B in the layout of `kiln-pack-gemm-weights-bf16`, read
    through `arith.extf` (the op then has `b_type` bf16).

    When the output is known to be zero (its only write before is a zero
    `linalg.fill`, or a copy of a buffer that was), the op overwrites
    instead of accumulating and that write is dropped if nothing reads it.
    An elementwise op marked `#kiln.gemm_epilogue` (by
    `kiln-prepare-gemm-epilogues`) that directly follows, in place on the
    output, becomes the op's epilogue: bias, activation, residual.
    Contractions whose output rows are not contiguous, or of other element
    types, stay as they are (they become loops).

    Half storage (`kiln-gpu-half-storage`, the GPU path): a contraction
    whose A and B are both f16 or both bf16, read through `arith.extf`, with
    an f32 output, becomes a 16-bit `kiln.fgemm`. When such a GEMM
    overwrites its output and the copy of that output to the 16-bit type
    (a `truncf` generic) directly follows it (after its epilogue), the GEMM
    stores into the copy's buffer itself, rounding once (cuBLASLt's D type):
    the copy goes, and so does the epilogue's loop, whose bias and residual
    must then hold that type (cuBLASLt reads them in D's type). The f32
    output is then never written, so nothing may use it after the copy. On
    the GPU path this pass runs before `kiln-plan-memory`: the buffer the
    GEMM now stores into must be live where the GEMM runs (its alloc moves
    up with it).

    Before:
    ```mlir
    linalg.fill ins(%zero : f32) outs(%c : memref<?x64xf32>)
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n),
                                     (m, n, k) -> (m, n)], ...}
        ins(%a, %b : memref<?x32xf32>, memref<32x64xf32>) outs(%c : memref<?x64xf32>) {...}
    ```
    After:
    ```mlir
    kiln.fgemm %a, %b into %c {indexing_maps = [
        affine_map<(b0, b1, m, n, k) -> (m, k)>, affine_map<(b0, b1, m, n, k) -> (k, n)>,
        affine_map<(b0, b1, m, n, k) -> (m, n)>]}
        : memref<?x32xf32>, memref<32x64xf32>, memref<?x64xf32>
    ```
  }];
  let options = [
    Option<"unitStrideOperands", "unit-stride-operands", "bool", /*default=*/"false",
           "only contractions whose A and B each have a unit stride along one of their "
           "two GEMM dims (the layouts cuBLAS reads: the GPU path); others stay loops">,
    Option<"residualOverZeroOnly", "residual-over-zero-only", "bool", /*default=*/"false",
           "a residual joins only a GEMM whose C is known zero (cuBLASLt reads the residual "
           "in C's place: the GPU path); otherwise the residual's add stays its own loop">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

def KilnFGemmToRuntime : Pass<"kiln-fgemm-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower kiln.fgemm ops to calls of the runtime's float GEMM";
  let description = [{
    Each `kiln.fgemm` becomes the filling of a `kiln_gemm_desc` (kiln_abi.h;
    one stack descriptor per function, of `KILN_GEMM_DESC_FIELDS` 64-bit
    words whose positions come from the struct itself) and a call of
    `kiln_rt_gemm(ctx, desc)`, which the model ABI binds to
    `kiln_runtime_context::gemm`. The op's indexing maps say which stride of
    each operand (from its strided metadata) is which field: a's along m and
    k are `a_rs` and `a_cs`, each operand's along b0 and b1 its batch
    strides, and so on; a loop an operand does not use gives stride 0. The
    function must have an `index` argument marked `kiln.runtime_context`
    (`kiln compile` adds it to `@main`).

    ```mlir
    memref.store %m, %desc[%c0] ...       // one store per field
    %p = memref.extract_aligned_pointer_as_index %desc
    func.call @kiln_rt_gemm(%ctx, %p) : (index, index) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnPlanMemory : Pass<"kiln-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Place a function's intermediate buffers in scratch slots reused by liveness";
  let description = [{
    Runs after bufferization and deallocation. In every function with a
    `kiln.runtime_context` argument, each top-level `memref.alloc` that is
    not returned (outputs stay on the heap: the runtime hands them to the
    caller) becomes a `memref.view` of a slot of scratch memory that the
    function borrows from the runtime for the run (one
    `kiln_rt_scratch(ctx, bytes)` per slot, at the top of the function,
    which the model ABI routes to `kiln_runtime_context::scratch`: pieces of
    the session's arena, kept between runs so its pages stay mapped). Its
    deallocs go. Separate slots, rather than offsets into one block, let
    LLVM see each as its own object, so it can vectorize loops that read
    one slot and write another.

    A buffer lives from its alloc to the last top-level op using it or any
    memref derived from it. Buffers get slots in program order, first fit
    among slots whose last occupant is dead; a slot is as large as its
    largest occupant (64-byte aligned). With symbolic dims the sizes are
    computed at run time at the top of the function, from clones of their
    (side-effect-free) computations on the function's arguments; a buffer
    whose size needs anything else stays on the heap, as do allocs inside
    loops and branches (`kiln-heap-allocations-to-runtime` then takes
    those from the runtime).

    Before:
    ```mlir
    %a = memref.alloc(%n) : memref<?x64xf32>
    ... uses of %a ...
    %b = memref.alloc(%n) : memref<?x64xf32>
    ... uses of %b ...
    memref.dealloc %a : memref<?x64xf32>
    memref.dealloc %b : memref<?x64xf32>
    ```
    After (%a is dead before %b is allocated, so they share slot 0):
    ```mlir
    %slot0 = call @kiln_rt_scratch(%ctx, %bytes) : (index, index) -> memref<?xi8>
    %a = memref.view %slot0[%c0][%n] : memref<?xi8> to memref<?x64xf32>
    ... uses of %a ...
    %b = memref.view %slot0[%c0][%n] : memref<?xi8> to memref<?x64xf32>
    ... uses of %b ...
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnAddRuntimeContext : Pass<"kiln-add-runtime-context", "::mlir::ModuleOp"> {
  let summary = "Give the model's entry function its kiln_runtime_context argument";
  let description = [{
    The passes that call the runtime (GEMM, softmax, attention, layer norm,
    checks, profiling, threads) take the run's `kiln_runtime_context` from
    an `index` argument marked `kiln.runtime_context`. `kiln compile` adds
    it, as the last argument of the entry function, before its lowering
    pipeline; this pass does the same for `kiln-opt`, so that the output of
    `kiln import` can go through those passes as it is. A function that
    already has the argument is left alone; a module without the function
    is an error.

    Before:
    ```mlir
    func.func @main(%x: tensor<?x384xf32>) -> tensor<?x384xf32>
    ```
    After:
    ```mlir
    func.func @main(%x: tensor<?x384xf32>, %ctx: index {kiln.runtime_context}) -> tensor<?x384xf32>
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"main\"",
           "The entry function to give the argument">,
  ];
}

def KilnProfileRegions : Pass<"kiln-profile-regions", "::mlir::ModuleOp"> {
  let summary = "Bracket the code of each ONNX node with profiler calls";
  let description = [{
    Runs on buffers, before loops are generated. In every function with a
    `kiln.runtime_context` argument, each run of consecutive top-level ops
    lowered from the same ONNX node (the importer's location: a `NameLoc`
    of the node name whose child `NameLoc` is the op type) is bracketed by
    `kiln_rt_profile(ctx, region, 0)` and `kiln_rt_profile(ctx, region, 1)`.
    The model ABI routes these to `kiln_runtime_context::profile`, which is
    NULL unless the session profiles, so an unprofiled run pays a test per
    node. Ops without a node name (constants, dims) neither open nor close
    a region. The regions, one per node, are listed in index order as
    `[name, op type]` pairs in the module attribute `kiln.profile_regions`,
    from which `kiln compile` writes the ABI's region table.

    Before:
    ```mlir
    linalg.fill ... loc("/layer.0/MatMul"("MatMul"))
    linalg.generic ... loc("/layer.0/MatMul"("MatMul"))
    linalg.generic ... loc("/layer.0/Add"("Add"))
    ```
    After:
    ```mlir
    call @kiln_rt_profile(%ctx, %c0, %c0) : (index, index, index) -> ()
    linalg.fill ...
    linalg.generic ...
    call @kiln_rt_profile(%ctx, %c0, %c1) : (index, index, index) -> ()
    call @kiln_rt_profile(%ctx, %c1, %c0) : (index, index, index) -> ()
    linalg.generic ...
    call @kiln_rt_profile(%ctx, %c1, %c1) : (index, index, index) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect"];
}

def KilnOutlineParallelLoops : Pass<"kiln-outline-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "Outline each outermost scf.parallel into a body the runtime's threads can run";
  let description = [{
    Runs on buffers, after `convert-linalg-to-parallel-loops`. In every
    function with a `kiln.runtime_context` argument, each outermost
    `scf.parallel` (without reductions, and whose body calls nothing but
    library math functions) becomes a private function
    `@kiln_parallel_body_N(lo, hi, ctx, cost, captures...)` that runs items
    `[lo, hi)` of the loop's iteration space, its dims linearised row-major
    into `n` items (the product of the trip counts). The body walks rows of
    the outer dims and, in each, a clamped range of the last dim, so the
    innermost loop stays a unit-stride loop LLVM vectorizes. The loop is
    replaced by `call @kiln_parallel_body_N(%c0, %n, %ctx, %cost, ...)`
    marked `kiln.parallel`: a correct serial call, which
    `kiln-parallel-calls-to-runtime` later hands to the runtime's threads.
    `cost` is a rough count of operations per item (the body's ops, inner
    loops counted by their trip counts), computed at run time where trip
    counts are dynamic. Constants (including `memref.get_global`) are
    cloned into the body; everything else it uses is passed. Loops whose
    trip counts and cost are static and whose work (`n * cost`) is below
    `min-work` stay as they are.

    Buffers the body receives lose what LLVM knew about them at the call
    site (separate scratch slots do not alias), so the pass records, in the
    body's `kiln.parallel_noalias` attribute, which descriptor pointers
    (numbered as LLVM parameters after convert-to-llvm) no other argument
    reaches while either is written: different allocations (scratch slots,
    `memref.alloc`, globals), or one of those and a function argument.

    Before:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c768) step (%c1, %c1) {
      %x = memref.load %in[%i, %j] : memref<?x768xf32>
      ...
      memref.store %y, %out[%i, %j] : memref<?x768xf32>
    }
    ```
    After:
    ```mlir
    %items = arith.muli %n, %c768 : index
    call @kiln_parallel_body_0(%c0, %items, %ctx, %cost, %in, %out) {kiln.parallel}
    ...
    func.func private @kiln_parallel_body_0(%lo: index, %hi: index, %ctx: index,
        %cost: index, %in: memref<?x768xf32>, %out: memref<?x768xf32>) {
      scf.for %row = (%lo / 768) to ceildiv(%hi, 768) step %c1 {
        scf.for %j = max(%lo - 768 * %row, 0) to min(%hi - 768 * %row, 768) step %c1 {
          ... the loop body at (%row, %j) ...
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"16384",
           "Leave loops of static size below this many operations serial">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect", "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnParallelCallsToRuntime : Pass<"kiln-parallel-calls-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Run the outlined parallel loop bodies through kiln_rt_parallel_for";
  let description = [{
    Runs on the LLVM dialect, after `reconcile-unrealized-casts`. Each
    `llvm.call @body(%lo, %hi, %ctx, %cost, %a1, ..., %an) {kiln.parallel}`
    that `kiln-outline-parallel-loops` made (memref captures are descriptor
    scalars by now) becomes: stores of `lo, ctx, cost, a1..an` into a
    closure struct alloca'd in the function's entry block; a trampoline
    `@body_trampoline(ptr closure, i64 begin, i64 end)` (the runtime's
    `kiln_parallel_body_fn`) that loads them and calls
    `@body(lo + begin, lo + end, ctx, cost, a1..an)`; and a call
    `kiln_rt_parallel_for(ctx, trampoline, closure, hi - lo, cost)`,
    declared with all-`i64` parameters, which the model ABI routes to
    `kiln_runtime_context::parallel_for` (runtime/include/kiln/kiln_abi.h).
    Bodies become internal, and their `kiln.parallel_noalias` parameters
    get `llvm.noalias`.

    Before:
    ```mlir
    llvm.call @kiln_parallel_body_0(%c0, %n, %ctx, %cost, %p, %q) {kiln.parallel}
        : (i64, i64, i64, i64, !llvm.ptr, !llvm.ptr) -> ()
    ```
    After:
    ```mlir
    %closure = llvm.alloca %c1 x !llvm.struct<(i64, i64, i64, ptr, ptr)> : (i64) -> !llvm.ptr
    ...
    llvm.store %c0, %f0 : i64, !llvm.ptr   (and ctx, cost, %p, %q)
    %fn = llvm.mlir.addressof @kiln_parallel_body_0_trampoline : !llvm.ptr
    llvm.call @kiln_rt_parallel_for(%ctx, %fn_i64, %closure_i64, %n, %cost)
        : (i64, i64, i64, i64, i64) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def KilnApproximateMath : Pass<"kiln-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Replace f32 math functions by vectorizable polynomial approximations";
  let description = [{
    Rewrites the `math` ops named by `ops` (by mnemonic; when none are
    given: `exp`, `erf`, `tanh`, `log`) on f32 scalars and vectors into MLIR's polynomial
    approximations: arith code that the loop vectorizer can widen, where
    the ops would otherwise become one libm call per element. Their error is
    a few ulp of f32. Powers with small constant exponents (`powf(x, 3.0)`,
    `powf(x, 0.5)`, ...) become multiplications, square roots and
    divisions (upstream's algebraic simplification). `kiln compile` runs it
    from -O1 up; at -O0 the math functions stay libm calls.

    Before:
    ```mlir
    %y = math.erf %x : f32
    ```
    After: a rational/polynomial evaluation in `arith` (mulf, addf, fma,
    select on the range), with no call.
  }];
  let options = [
    ListOption<"ops", "ops", "std::string",
               "math op mnemonics to approximate (exp, erf, tanh, log, ...)",
               "llvm::cl::ZeroOrMore">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def KilnReassociateReductions : Pass<"kiln-reassociate-reductions", "::mlir::func::FuncOp"> {
  let summary = "Allow reordering float arithmetic in reductions so that LLVM vectorizes them";
  let description = [{
    Adds the `reassoc` and `contract` fast-math flags to every float `arith`
    op in the body of a `linalg.generic` with a reduction loop. ONNX leaves
    the order of a reduction's additions unspecified; LLVM's loop vectorizer
    needs `reassoc` to widen a float sum (softmax's denominator, layer
    norm's mean and variance, ReduceSum/Mean), and `contract` lets it fuse
    multiply-adds. Results differ from a sequential sum by rounding only.
    `kiln compile` runs it from -O1 up.

    Before:
    ```mlir
    linalg.generic {... iterator_types = ["parallel", "reduction"]} ... {
    ^bb0(%in: f32, %acc: f32):
      %s = arith.addf %acc, %in : f32
      linalg.yield %s : f32
    }
    ```
    After:
    ```mlir
      %s = arith.addf %acc, %in fastmath<reassoc,contract> : f32
    ```
  }];
}

def KilnFuseElementwise : Pass<"kiln-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise linalg ops into one loop nest";
  let description = [{
    Runs on tensors, after `kiln-lower-to-linalg`. Folds each elementwise
    `linalg.generic` into the generic that consumes it (upstream's linalg
    elementwise fusion) when the producer has that single use, so chains
    such as GELU or softmax's subtract-exp-sum-divide make one pass over
    memory per reduction instead of one per op, without intermediate
    buffers. Two things are never done: fusing a producer into several
    users (it would be recomputed in each), and fusing anything into a
    contraction (a generic with two inputs and a reduction), whose body must
    stay `out + a * b` for `kiln-contraction-to-runtime-gemm`. The one
    exception is a `linalg.transpose` that feeds a contraction and keeps the
    innermost dim, or is its B operand: the contraction reads the
    transpose's input through the permuted indexing map instead (its body
    unchanged), so attention's Q, K^T and V reach the GEMM as strided views
    rather than copies (the GEMM packs a B whose columns are contiguous by
    4 x 4 register transposes). A transpose of A that moves the innermost
    dim stays a copy: the GEMM would gather it one float at a time. An elementwise generic that reads a contraction's result
    through a `tensor.expand_shape` (GPT-2 computes its Conv1D as `[B*S, N]`
    and views it as `[B, S, N]`) is rewritten over the collapsed shape with
    the expand after it (upstream's reshape folding by collapsing), so its
    GELU or residual add reaches `kiln-prepare-gemm-epilogues`. The same is
    done through a `tensor.reshape` that only splits the rows of a `[M, N]`
    linalg result (the form of that view when batch and sequence are both
    symbolic), and a `tensor.collapse_shape` that joins such rows again
    folds away. A `tensor.expand_shape` of an index grid (a generic with no
    inputs, such as a Range's `arange(S)` with `S` symbolic, viewed as
    `[1, 1, S, 1]` by GPT-2's causal mask) becomes the grid computed over
    the expanded shape (each source index is its group's indices linearized),
    which then fuses into its reader; the original grid goes when nothing
    else reads it. Views between a generic whose inputs are all constants
    (a gather) and its reader that only drop and add dims of 1 (a
    `tensor.reshape` to sizes that are the gather's own dims, or a collapse
    and expand that regroup dims on the way: TorchScript's mask,
    `[B, 1, 1, S, 1]` to `[-1]` to `[B, 1, 1, S]`) are seen through: the
    reader reads the gather's result directly (index 0 in the dims of 1),
    and the gather fuses into it.

    Before:
    ```mlir
    %d = linalg.generic {...} ins(%x : tensor<?x3072xf32>) ... { divf }
    %e = linalg.generic {...} ins(%d : tensor<?x3072xf32>) ... { math.erf }
    ```
    After:
    ```mlir
    %e = linalg.generic {...} ins(%x : tensor<?x3072xf32>) ... { divf; math.erf }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def KilnCloneSharedFills : Pass<"kiln-clone-shared-fills", "::mlir::func::FuncOp"> {
  let summary = "A linalg.fill of its own for each op that writes into a filled tensor";
  let description = [{
    Runs on tensors, right before `one-shot-bufferize` (the GPU path). CSE
    leaves one `linalg.fill` of the zeros (or the `false`) that several
    contractions and reductions start from; bufferization could then write
    only one of them in place and would give each other a fresh buffer and
    a copy of the filled one, which on the GPU is a kernel reading that
    buffer before each op. Here each op taking the fill's result as a
    destination (DPS init) after the first gets a clone of the fill (and of
    the `tensor.empty` it fills) right before it; when the result is also
    read, every destination gets a clone.

    Before:
    ```mlir
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
    %a = linalg.matmul ins(...) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
    %b = linalg.matmul ins(...) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
    ```
    After:
    ```mlir
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
    %a = linalg.matmul ins(...) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
    %e2 = tensor.empty() : tensor<4x8xf32>
    %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8xf32>) -> tensor<4x8xf32>
    %b = linalg.matmul ins(...) outs(%f2 : tensor<4x8xf32>) -> tensor<4x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def KilnCheckAllocationSizes : Pass<"kiln-check-allocation-sizes", "::mlir::func::FuncOp"> {
  let summary = "Fail the run, not the process, on tensors too large to allocate";
  let description = [{
    A `memref.alloc` whose size is only known at run time (a Range, an
    Expand, a ConstantOfShape fed from the inputs) could ask for more memory
    than exists, or for a size whose byte count overflows. In functions with
    a `kiln.runtime_context` argument, each such allocation gets two checks
    (`kiln.runtime_check`, which end the run with a message naming the node):
    before it, that the tensor has at most 2^40 elements (the limit the
    compiler holds static shapes to, `kMaxTensorElements`); after it, that
    the allocation did not fail (a null pointer from the allocator).

    ```mlir
    %big = ... %n > 2^40 / static elements, computed without overflow
    kiln.runtime_check %big, "node 'r' (Range): a tensor of more than 2^40 elements ..."
    %a = memref.alloc(%n) : memref<?xf32>
    %p = memref.extract_aligned_pointer_as_index %a : memref<?xf32> -> index
    %null = arith.cmpi eq, %p, %c0 : index
    kiln.runtime_check %null, "node 'r' (Range): out of memory ..."
    ```

    It runs after `kiln-plan-memory`, whose arena takes the other buffers
    (running out of arena fails the run in the runtime).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def KilnHeapAllocationsToRuntime
    : Pass<"kiln-heap-allocations-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Take the buffers left on the heap from the runtime, which frees them when a "
                "run fails";
  let description = [{
    After `kiln-plan-memory` (and `kiln-check-allocation-sizes`), the
    `memref.alloc`s left in a function with a `kiln.runtime_context`
    argument are its outputs (which the runtime hands to the caller),
    buffers whose size cannot be computed at the entry and allocs inside
    loops. Lowered as they are they would be `malloc`s freed before the
    function returns; but a failed run-time check ends the run where it
    stands (`kiln_fail_fn`), past those frees, so each failed run would leak
    them. Here each becomes a `memref.view` of a block from
    `kiln_rt_alloc(ctx, bytes)` (the model ABI routes it to
    `kiln_runtime_context::alloc`, ABI 17: 64-byte aligned, the runtime
    keeps a list of the run's live blocks), and each `memref.dealloc` a
    `kiln_rt_release(ctx, address)` of its buffer's aligned pointer, which is
    the block's. When a run fails, the runtime frees the blocks still live;
    when it succeeds, the outputs' blocks go to the caller.

    ```mlir
    %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x64xf32>
    memref.dealloc %a : memref<?x64xf32>
    ```
    becomes
    ```mlir
    %block = call @kiln_rt_alloc(%ctx, %bytes) : (index, index) -> memref<?xi8>
    %a = memref.view %block[%c0][%n] : memref<?xi8> to memref<?x64xf32>
    %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %a
    %p = memref.extract_aligned_pointer_as_index %base
    call @kiln_rt_release(%ctx, %p) : (index, index) -> ()
    ```

    All or nothing per function: a dealloc frees the buffer its operand
    derives from, whichever alloc that was, so a function with an alloc that
    cannot be such a view (a layout other than row-major, a memory space,
    elements that are not scalars, an alignment over 64, code isolated from
    the context) keeps `malloc` and `free` for all of them.

    With `returned-only` (the GPU path) only the allocs the function
    returns as they are, which no dealloc frees, are taken: the host
    buffers of its outputs. Its other allocs are device memory, and one
    inside a loop may yet move into a kernel (a loop nest mapped to the
    GPU), which allocates it itself.
  }];
  let options = [
    Option<"returnedOnly", "returned-only", "bool", /*default=*/"false",
           "Take only the buffers the function returns (the GPU path)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnLowerRuntimeChecks : Pass<"kiln-lower-runtime-checks", "::mlir::ModuleOp"> {
  let summary = "kiln.runtime_check → a call of the runtime's fail when the check fails";
  let description = [{
    In every function with a `kiln.runtime_context` argument, each
    `kiln.runtime_check %failed, "message"` becomes

    ```mlir
    scf.if %failed {
      %text = memref.get_global @__kiln_check_message_N : memref<Lxi8>
      %p = memref.extract_aligned_pointer_as_index %text
      func.call @kiln_rt_fail(%ctx, %p) : (index, index) -> ()
    }
    ```

    with the message a NUL-terminated constant. The model ABI routes
    `kiln_rt_fail` to `kiln_runtime_context::fail` (kiln_abi.h): the run's
    first failure becomes its status. A check whose condition folds to
    false goes.

    With `device-conditions` (the GPU path) a condition that reads tensor
    or buffer data is one the kernels compute into device memory, which
    the host code cannot read during the run. On tensors such a check
    stays as it is (bufferization makes its `tensor.extract` of a 0-d i1
    tensor, a reduction's result, a `memref.load` of a device buffer); on
    buffers it becomes

    ```mlir
    %flag = ... the buffer's byte address ...
    func.call @kiln_rt_gpu_check(%ctx, %flag, %p) : (index, index, index) -> ()
    ```

    which the model ABI routes to `kiln_runtime_context::gpu_check`: the
    runtime copies the byte back after the work before it and fails the run
    with the message when it is not 0. A data-dependent condition in any
    other form is an error.
  }];
  let options = [
    Option<"deviceConditions", "device-conditions", "bool", /*default=*/"false",
           "conditions that read data are computed on the device and read back by the "
           "runtime (the GPU path)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

//===----------------------------------------------------------------------===//
// GPU (CUDA) lowering: passes/lib/Gpu/
//===----------------------------------------------------------------------===//

def KilnGpuDeviceBuffers : Pass<"kiln-gpu-device-buffers", "::mlir::ModuleOp"> {
  let summary = "Move a function's data to the GPU: inputs, outputs, weights, copies";
  let description = [{
    Runs after bufferization and deallocation, before `kiln-plan-memory`,
    on every function with a `kiln.runtime_context` argument, when the
    whole function is to run on the GPU (`--target cuda`). Every buffer the
    function's loops touch then lives in device memory:

    * each memref argument (a host input) is copied into a fresh buffer
      (`memref.alloc`, which `kiln-plan-memory` places in the session's
      device arena) by `kiln_rt_gpu_copy(ctx, dst, src, bytes, 0)`, and
      the function uses that copy;
    * each returned memref is copied back by
      `kiln_rt_gpu_copy(ctx, dst, src, bytes, 1)` into a fresh host
      buffer (`memref.alloc`, which stays on the heap: the runtime hands it
      to the caller), and that is returned;
    * each `memref.get_global` (a weight) becomes the device copy
      `kiln_rt_gpu_constant(ctx, host, bytes)` returns: the runtime
      uploads each weight once per session;
    * each `memref.copy` becomes a `linalg.generic` copy, so that it runs
      as a kernel like every other loop.

    Symbolic dims (a model compiled without `--input-shape`) are read at
    run time (`memref.dim`): the device buffers are allocated and the
    copies' byte counts computed from them. Weights are static; inputs
    and outputs have identity layouts (bufferization's function
    boundary).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::memref::MemRefDialect"];
}

def KilnGpuMapParallelLoops : Pass<"kiln-gpu-map-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Run each top-level loop nest as a GPU kernel launch";
  let description = [{
    Runs after `convert-linalg-to-parallel-loops` in a function whose
    buffers are all in device memory (`kiln-gpu-device-buffers`). Each
    top-level `scf.parallel` becomes a `gpu.launch` over its iteration
    space linearized: blocks of `block-size` threads, one iteration per
    thread (the innermost dim fastest, so neighbouring threads touch
    neighbouring elements), a bounds check for the last block. Nested
    loops stay loops inside the kernel. Any other top-level op that reads
    or writes memory (an `scf.for` of a full reduction, a lone load or
    store) runs as a kernel of one thread, since the host cannot touch
    device memory. An op whose results the host would need is an error.

    With `elements-per-thread=N` (N > 1), a nest of statically known trip
    counts whose body is straight-line code with every load before every
    store gets one thread per N iterations, where some count up to N
    divides the iteration count and a dim's trip count and leaves at least
    `min-threads` threads: the outermost such dim is split into that many
    parts, and the thread runs the body for its iteration in each part,
    op by op, each op for every part (their loads side by side first, their
    stores last). A GPU
    hides memory latency with the loads in flight, and at one 16-bit load
    a thread, the threads an SM holds keep too few bytes in flight to reach
    the memory's bandwidth. Each part's iterations are still neighbouring
    threads' neighbouring elements (the innermost dim is split only into
    parts of 32 or more). Other nests keep one iteration a thread.

    Before:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c300) step (%c1, %c1) {
      ... memref.load / memref.store ...
    }
    ```
    After (1200 iterations, 5 blocks of 256 threads):
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c5, ...) threads(%tx, ...) in (%sx = %c256, ...) {
      %id = (%bx * 256 + %tx)
      scf.if (%id < 1200) { %i = %id / 300, %j = %id % 300, ... the body ... }
      gpu.terminator
    }
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "threads per block">,
    Option<"elementsPerThread", "elements-per-thread", "int64_t", /*default=*/"1",
           "the most iterations one thread covers, its loads all before its stores">,
    Option<"minThreads", "min-threads", "int64_t", /*default=*/"65536",
           "with elements-per-thread > 1: fewer iterations a thread where more "
           "would leave fewer threads than this">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnGpuRowKernels : Pass<"kiln-gpu-row-kernels", "::mlir::func::FuncOp"> {
  let summary = "Row softmax and layer norm as GPU kernels of one warp per row";
  let description = [{
    Runs on the GPU path after bufferization and `kiln-gpu-device-buffers`
    (every buffer is device memory), before `kiln-gpu-map-parallel-loops`.
    Each `kiln.softmax_rows` and `kiln.layer_norm_rows` (made on tensors by
    `kiln-softmax-to-ukernel` and `kiln-layer-norm-to-ukernel`, as for the
    CPU) becomes one `gpu.launch` in which a warp owns a row of `x`: blocks
    of `warps-per-block` warps (fewer when there are fewer rows), the 32
    lanes striding along the row together, their partial maxima or sums
    combined by a butterfly of `gpu.shuffle xor` (16, 8, 4, 2, 1) that
    leaves the row's total in every lane.

    - Softmax: the row's max of `scale * x + addend`, the sum of
      `exp(v - max)`, then `exp(v - max) * (1 / sum)` into `init`; the
      addend is read through its broadcast dims.
    - Layer norm: the runtime's arithmetic: the mean as the first value
      plus the mean of the others' differences from it, the variance from
      the deviations (a second pass), `(x - mean) * (1 / sqrt(var +
      epsilon)) * scale + bias`.

    Where the row's length is a multiple of 32 and at most 1024, each lane's
    values (columns lane, lane + 32, ...) are loaded once, all before the
    first use, and every pass works on those registers (the same sums in
    the same order); other rows take a `scf.for` per pass, which reads the
    row again.

    Symbolic dims are read on the host: the number of rows sizes the grid
    (a guard then keeps the last block's spare warps out), and a row of
    symbolic length takes the `scf.for` form. A symbolic dim of the
    softmax's addend is 1 or the scores' at run time: a runtime check on
    the host, as on the CPU, and each load picks index 0 or the row's by
    it. Layer norm's row length (the model's width) must be static. An op
    with a static dim of 0 is dropped.

    Before:
    ```mlir
    kiln.softmax_rows %x addend(%mask : memref<2x1x1x16xf32>) into %y {scale = 0.125 : f32}
        : memref<2x4x16x16xf32>, memref<2x4x16x16xf32>
    ```
    After (128 rows, 32 blocks of 4 warps):
    ```mlir
    gpu.launch blocks(%bx, ...) in (%c32, ...) threads(%tx, ...) in (%c128, ...) {
      %row = %bx * 4 + %tx / 32, %lane = %tx % 32
      %m = scf.for %c = %lane to %c16 step %c32 iter_args(...) { maximumf ... }
      %m1 = gpu.shuffle xor %m, 16, 32 ... (five steps)
      ... the sum of exps, the same way; the stores ...
    }
    ```
  }];
  let options = [
    Option<"warpsPerBlock", "warps-per-block", "int64_t", /*default=*/"4",
           "warps (rows) per block">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnGpuAttentionKernels : Pass<"kiln-gpu-attention-kernels", "::mlir::func::FuncOp"> {
  let summary = "kiln.attention as one tensor-core kernel per op (FlashAttention's online softmax)";
  let description = [{
    Runs on the GPU path with `--gpu-attention=fused` (after bufferization
    and `kiln-gpu-device-buffers`, before `kiln-gpu-map-parallel-loops`).
    Each buffer-form `kiln.attention` (made on tensors by
    `kiln-attention-to-ukernel{gpu=true}`) becomes one `gpu.launch`: blocks
    of 4 warps per 64 query rows of one head, each warp 16 rows, stepping
    through the keys 32 at a time; each step's K and V are copied into the
    block's shared memory (`workgroup` attributions, rows padded by 8
    values so that the 8 rows of an ldmatrix matrix hit distinct banks),
    the threads reading neighbouring addresses of the source. Where K and
    V are both in `type` with the head dim innermost and their other
    strides and offsets multiples of 8, their buffers' bases are 16-byte
    aligned (an `scf.if` on `memref.extract_aligned_pointer_as_index`, the
    same for every thread) and two stages fit 48 KB, the copies are
    `nvgpu.device_async_copy` of 8 values (cp.async, `bypassL1`) into a
    second stage while the warps compute on the first: the first step's
    before the loop, then per step `nvvm.cp.async.wait.group 0`, a
    `gpu.barrier`, the next step's copies and `nvvm.cp.async.commit.group`.
    Otherwise each step's are copied between two `gpu.barrier`s into stage
    0, 16 bytes a thread (`vector.load`/`vector.store` of 8 values,
    alignment 16) where that operand allows, value by value otherwise. The warps load their fragments with `nvgpu.ldmatrix`
    (four 8x8 matrices; V's transposed), which needs the shared buffers
    16-byte aligned (`kiln-gpu-align-workgroup-memory`, after outlining).
    The scores never reach memory: both
    products are `nvvm.mma.sync` (m16n8k16, `type` inputs, fp32 sums), the
    softmax's running max and sum per row are carried across the steps
    (exponentials as `math.exp2` of the difference times log2(e): the
    hardware's ex2.approx) and the output accumulator is rescaled when the
    max grows; the
    probabilities are rounded to `type` for the second product. Q, K^T
    and V are read through the op's perms in place, f32 ones rounded to
    `type` as they are loaded; `scale * score + addend` as
    `kiln.softmax_rows` computes it, keys past the end -inf; the output
    is divided by the row's sum and stored where init holds it (rounded
    as half storage rounds when init is 16-bit).

    Needs static head sizes, q's a multiple of 16 (at most 256), v's a
    multiple of 8 (at most 256), and not a static count of 0 keys: anything
    else is an error naming the op (`kiln-attention-to-ukernel{gpu=true}`
    only fuses what qualifies). The batch, heads and query and key counts
    may be symbolic: the host reads them (`memref.dim`) and launches
    ceil(queries / 64) x heads x batch blocks; keys past the end are masked
    in every step; with no keys at run time the output is zeros. A `?`
    batch dim of q, kt or v and a `?` dim of the addend is 1 (read at 0)
    or the scores' at run time, and the products' open inner dims agree:
    checked on the host (`kiln.runtime_check`, the message of
    `kiln-attention-to-runtime`). A symbolic stride or offset of K or V
    that no type proves a multiple of 8 values is checked on the host too
    and joins the alignment test for the 16-byte copies.

    ```mlir
    kiln.attention %q, %kt, %v addend(%mask : memref<2x1x1x16xf16>) into %o
        {scale = 0.125 : f32, transposed_output, kt_perm = array<i64: 0, 2, 3, 1>, ...}
    // becomes
    gpu.launch blocks(%bx, ...) in (%c4, ...) threads(%tx, ...) in (%c128, ...)
        workgroup(%kt_tile : memref<2x32x72xf16, #gpu.address_space<workgroup>>, %v_tile : ...) {
      ... Q's fragments: vector<2xf16> x 4 per 16 of the head size ...
      scf.for %key = %c0 to %c16 step %c32 iter_args(%max0, %max1, %sum0, %sum1, %acc...) {
        gpu.barrier
        scf.if %k_and_v_aligned {
          nvvm.cp.async.wait.group 0
          gpu.barrier
          ... nvgpu.device_async_copy of the next step's K and V into the other stage ...
          nvvm.cp.async.commit.group
        } else {
          gpu.barrier
          scf.if %k_aligned { ... vector.load %k[...] {alignment = 16} ... vector.store ... }
          else { ... memref.load, memref.store value by value ... }   (and V's alike)
          gpu.barrier
        }
        %kf = nvgpu.ldmatrix %kt_tile[%stage, %row, %col] {numTiles = 4 : i32, transpose = false} ...
        %s = nvvm.mma.sync A[...] B[...] C[...] {shape = #nvvm.shape<m = 16, n = 8, k = 16>, ...}
        ... gpu.shuffle xor 1, 2 (the row's max), exps, rescale, P x V mma.syncs ...
      }
      ... the row's sum, the stores of the rows that exist ...
    }
    ```
  }];
  let options = [
    Option<"type", "type", "std::string", /*default=*/"\"f16\"",
           "the tensor cores' input type: f16 or bf16">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect",
                           "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::nvgpu::NVGPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def KilnGpuAlignWorkgroupMemory
    : Pass<"kiln-gpu-align-workgroup-memory", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Aligns every kernel's shared memory buffers for 16-byte accesses";
  let description = [{
    Runs on the kernels' `gpu.module` after `gpu-kernel-outlining`. A
    `gpu.launch`'s workgroup attributions become shared memory globals
    aligned to their element type only (2 bytes for f16), but the kernels
    read and write them 16 bytes at a time (`vector.store` of 8 values,
    `nvgpu.ldmatrix`, whose row addresses must be 16-byte aligned: a GPU
    faults otherwise). This pass sets `llvm.align` (which
    `convert-gpu-to-nvvm` gives the globals) to at least `alignment` on each
    `gpu.func`'s workgroup attributions; a larger one already there stays.

    ```mlir
    gpu.func @k() workgroup(%tile : memref<32x72xf16, #gpu.address_space<workgroup>>) kernel
    // becomes
    gpu.func @k() workgroup(%tile : memref<32x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"16",
           "the least alignment in bytes (a power of two)">,
  ];
}

def KilnGpuEmulationCalls : Pass<"kiln-gpu-emulation-calls", "::mlir::gpu::GPUModuleOp"> {
  let summary = "The kernels' NVVM operations as calls of the CPU emulator (--gpu-emulation)";
  let description = [{
    Runs on the kernels' `gpu.module` after `convert-gpu-to-nvvm`, with
    `--gpu-emulation` only: the kernels are then compiled for the host CPU
    and run by Kiln's test CUDA driver, which is how the GPU path's numerics
    are tested without a GPU (`kiln/kiln_gpu_emulation.h`). The NVVM
    operations a CPU has no instruction for become `llvm.call`s of the
    emulator's functions: the special registers (`nvvm.read.ptx.sreg.tid.x`
    and the others of thread, block, grid, lane and warp size) a call of
    `kiln_emu_special_register(code)`; `nvvm.shfl.sync` a call of
    `kiln_emu_shfl(kind, mask, bits, offset, clamp)`, whose i64 result
    carries the value's bits and the predicate; `nvvm.barrier0` (and
    `nvvm.barrier` without operands) a call of `kiln_emu_barrier()`;
    `nvvm.mma.sync` (m16n8k16, f16 or bf16 into f32, row-major A and
    column-major B: what `kiln-gpu-attention-kernels` emits) a call of
    `kiln_emu_mma(kind, fragments)` with the lane's registers in an array
    on its stack, D coming back in C's place; `nvvm.ldmatrix` (m8n8 of
    16-bit values, 1, 2 or 4 matrices) a call of
    `kiln_emu_ldmatrix(count | 16 for .trans, row address, registers)`,
    the address made generic, the registers coming back through an array
    on the stack; `nvvm.cp.async.shared.global` (without a source size) a
    call of `kiln_emu_cp_async(dst, src, bytes)` with both addresses
    generic, `nvvm.cp.async.commit.group` and `nvvm.cp.async.wait.group n`
    calls of `kiln_emu_cp_async_commit()` and `kiln_emu_cp_async_wait(n)`.
    Any other NVVM operation (or another form of mma.sync, ldmatrix or
    cp.async) is an error naming it.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def KilnGpuContiguousBatches : Pass<"kiln-gpu-contiguous-batches", "::mlir::func::FuncOp"> {
  let summary = "Contiguous copies of batched GEMM operands whose two batch strides do not fold";
  let description = [{
    Runs on the GPU path with `--gpu-gemm=cublas`, after bufferization and
    before `kiln-plan-memory` (which then places the copies). cuBLASLt runs
    a batch of GEMMs with one stride per operand; a contraction (an f32
    `out += a * b` `linalg.generic`, dims from `linalg::inferContractionDims`)
    with two batch loops can be one call only where, for A, B and C, the
    outer batch dim's stride is the inner one's times its count. Attention's
    products read Q, K and V in place from the projections' output
    `[batch, seq, heads, head_dim]` and write their result heads-merged, so
    they do not fold, and the runtime makes one call per entry of the
    shorter batch dim. Where that would be at least `min-calls` calls, each
    operand whose strides do not fold gets a contiguous buffer with the two
    batch dims first (`linalg.transpose` into it before the product; for
    C, a `linalg.fill` right before the product fills the copy instead,
    and a transpose copies the result back after it), and the product reads
    it through its map permuted likewise. When C is then only copied to 16
    bits (`kiln-gpu-half-storage`), that conversion moves onto the
    contiguous copy, right after the product (the GEMM does it as it
    stores), and the 16-bit result is what moves back. Products with 16-bit
    operands (read through `arith.extf`) count as well. The copies cost memory traffic,
    the calls saved launch and tail time: `kiln compile
    --gpu-contiguous-batches=N` sets `min-calls` (0: never).

    Before (QK^T at batch 32, 12 heads: 12 calls of 32):
    ```mlir
    linalg.generic {indexing_maps = [(b, h, i, j, p) -> (b, i, h, p), ...]}
        ins(%q, %k : memref<32x128x12x64xf32, strided<[294912, 2304, 64, 1]>>, ...)
    ```
    After (one call of 384):
    ```mlir
    %qc = memref.alloc() : memref<32x12x128x64xf32>
    linalg.transpose ins(%q : ...) outs(%qc : ...) permutation = [0, 2, 1, 3]
    linalg.generic {indexing_maps = [(b, h, i, j, p) -> (b, h, i, p), ...]}
        ins(%qc, %kc : memref<32x12x128x64xf32>, ...)
    ```
  }];
  let options = [
    Option<"minCalls", "min-calls", "int64_t", /*default=*/"4",
           "copy where the runtime would otherwise make at least this many calls (0: never)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::memref::MemRefDialect"];
}

def KilnGpuWarpReductions : Pass<"kiln-gpu-warp-reductions", "::mlir::func::FuncOp"> {
  let summary = "Reductions on the GPU path as kernels of one warp per output element";
  let description = [{
    Runs on the GPU path after bufferization (every buffer device memory)
    and `kiln-gpu-row-kernels`, before `kiln-gpu-map-parallel-loops`. A
    top-level `linalg.generic` with one output and reduction loops (static
    or symbolic bounds: symbolic ones are read on the host, `memref.dim`,
    and a lane's elements then take the loop form), whose body yields `combine(out, v)` (either order) for
    `combine` an f32 `arith.addf`, `mulf`, `maximumf`, `minimumf`, `maxnumf`
    or `minnumf`, or on integers of up to 32 bits an `arith.addi`, `muli`,
    `andi`, `ori`, `xori`, `maxsi`, `minsi`, `maxui` or `minui`, with `out`
    used nowhere else, maps whose results are loop dims or constants, and
    the reduced dims the last dims of every input that has them, in the
    loops' order and contiguous together (so that a warp's reads coalesce;
    an identity layout's last dims always are, dims of 1 are skipped; a
    MatMul's B or a reduction over a middle axis stays a thread per
    output element, whose neighbours read neighbouring elements, unless
    there is one output element, e.g. a run-time check's "any" over
    strided index components: one warp beats one thread), becomes
    one `gpu.launch` in which a warp owns an output element: each lane
    folds the elements `lane, lane + 32, ...` of the reduced dims,
    flattened (a `scf.for`; or, where they split evenly into at most 32 a
    lane, straight-line code that loads them all before combining them in
    the same order), into a partial started at the combiner's identity (-0.0, 1,
    -inf, +inf, NaN for the `num` forms; 0, 1, all ones, the type's
    extremes for integers), a butterfly of `gpu.shuffle xor` combines the
    partials (integers narrower than 32 bits move as an i32), and lane 0
    stores `combine(out, total)`, `out` the value of a `linalg.fill` of the
    output right before the reduction (which goes: one launch, not two) or
    else loaded. A run-time check's "any index out of
    range" over all the ids is one warp instead of one thread. The sum's
    order changes (partial sums instead of a left fold); everything else
    stays with `kiln-gpu-map-parallel-loops` (one thread per output
    element).
  }];
  let options = [
    Option<"warpsPerBlock", "warps-per-block", "int64_t", /*default=*/"4",
           "warps (output elements) per block">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

def KilnGpuHalfStorage : Pass<"kiln-gpu-half-storage", "::mlir::func::FuncOp"> {
  let summary = "fp32 tensors between GPU kernels stored in fp16 or bf16";
  let description = [{
    Runs on tensors in the GPU pipeline with `--precision fp16|bf16`
    (cuBLASLt GEMMs), after the graph passes. Kernels there are bound by
    memory traffic and cuBLASLt's 16-bit GEMMs read 16-bit operands, so each
    fp32 tensor that one kernel writes and others read is stored in `type`
    instead; arithmetic stays fp32 (producers round what they store,
    consumers extend what they load).

    Stored in 16 bits: results of elementwise generics (all loops parallel,
    init not read), of `kiln.softmax_rows` / `kiln.layer_norm_rows` and of
    `kiln.attention` (`--gpu-attention=fused`), rounded to nearest even with finite values beyond the type's range
    saturating to its largest finite value (attention's `-FLT_MAX` mask
    stays finite); results of GEMMs (a contraction and the epilogue marked
    after it in place), whose sums stay fp32, through a `truncf` generic
    after them that `kiln-contraction-to-runtime-gemm` folds into the
    GEMM's store; views (slices, reshapes, `tensor.reshape`, `tensor.cast`)
    of those; constant operands of a
    contraction whose other operand is 16-bit, and the bias of a 16-bit
    GEMM's epilogue, rounded now. A value is stored so only if every use
    reads it as an input (generic inputs, `tensor.extract`, a row op's `x`
    or `addend`, attention's `q`, `kt`, `v` or `addend`, a qualifying
    view) or reads only its sizes (`tensor.dim`): function results and
    accumulators stay fp32. So does a generic input the body rounds to an
    integer (`math.roundeven`, `math.round`, `floor`, `ceil`, `trunc`,
    `fptosi`, `fptoui` of it or of a float computed from it: QuantizeLinear,
    Round, Cast to an integer), which rounded to 16 bits first would now
    and then land a whole step off.

    Before:
    ```mlir
    %n = kiln.layer_norm_rows %x, %g bias(%b : tensor<64xf32>) into %e0 {epsilon = 1.0e-5 : f32}
        : tensor<8x64xf32>, tensor<64xf32>, tensor<8x64xf32> -> tensor<8x64xf32>
    %y = linalg.generic {...} ins(%n, %w : tensor<8x64xf32>, tensor<64x32xf32>)
        outs(%zeros : tensor<8x32xf32>) {...mulf, addf...} -> tensor<8x32xf32>
    ```
    After (`type=f16`):
    ```mlir
    %n = kiln.layer_norm_rows %x, %g bias(%b : tensor<64xf32>) into %e1 {epsilon = 1.0e-5 : f32}
        : tensor<8x64xf32>, tensor<64xf32>, tensor<8x64xf16> -> tensor<8x64xf16>
    %y = linalg.generic {...} ins(%n, %w16 : tensor<8x64xf16>, tensor<64x32xf16>)
        outs(%zeros : tensor<8x32xf32>) {...extf, extf, mulf, addf...} -> tensor<8x32xf32>
    ```
  }];
  let options = [
    Option<"type", "type", "std::string", /*default=*/"\"f16\"",
           "The storage type: f16 or bf16">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"];
}

def KilnGpuThreadReductions : Pass<"kiln-gpu-thread-reductions", "::mlir::func::FuncOp"> {
  let summary = "The reductions left on the GPU path with their output element in a register";
  let description = [{
    Runs on the GPU path after `kiln-gpu-warp-reductions` (from -O1), before
    `convert-linalg-to-parallel-loops`. A top-level `linalg.generic` on
    buffers with one output and reduction loops (those the warp pass left: a
    MatMul of the kernels path, a reduction over a middle axis) becomes an
    `scf.parallel` over its parallel loops (none: the loops alone, a
    one-thread kernel) around its reduction loops as `scf.for`, nested in
    the generic's order, that carry the output element as an `iter_arg`:
    one `memref.load` of it before them, or the value of a `linalg.fill` of
    the output right before the generic (which goes: a launch less), and one
    `memref.store` after. `convert-linalg-to-parallel-loops` would load and
    store the element in every iteration, and LLVM cannot keep it in a
    register (every buffer is a view of one arena, so it cannot rule out
    that the output aliases an input). The body, its arithmetic and its
    order are the generic's: the same floats. A generic that reads its
    output's buffer as an input is left alone.

    Before:
    ```mlir
    linalg.fill ins(%zero : f32) outs(%c : memref<32x64xf32>)
    linalg.generic {... iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : ...) outs(%c : memref<32x64xf32>) { mulf; addf }
    ```
    After:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c32, %c64) step (%c1, %c1) {
      %sum = scf.for %p = %c0 to %c128 step %c1 iter_args(%acc = %zero) -> (f32) {
        ... loads of a and b, mulf, addf ...
        scf.yield %next : f32
      }
      memref.store %sum, %c[%i, %j] : memref<32x64xf32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnGpuScalarizeShapeReads
    : Pass<"kiln-gpu-scalarize-shape-reads", "::mlir::func::FuncOp"> {
  let summary = "The host's reads of computed shape tensors become scalar arithmetic";
  let description = [{
    Runs on tensors, after `kiln-lower-to-linalg`, on the GPU path. With
    symbolic dims a graph may compute a shape with ops on shape tensors
    (PyTorch's TorchScript export of `expand`: `Where(Equal(shape, -1), 1,
    shape)` over a `Concat` of dims), and the host code reads its elements
    (`tensor.extract`: the `Expand`'s output sizes and its checks). On the
    GPU those ops would be kernels writing device memory the host cannot
    read, so each such read in the function's own block, of a small integer
    tensor (static, at most 16 elements; i1 only of rank 1 or more: a
    check's 0-d flag is read as it is), is computed from the operands'
    elements instead:

    * an element of an elementwise `linalg.generic` (no reduction, its
      init unread, projected-permutation maps) is its body applied to the
      inputs' elements at the mapped indices;
    * an element of a `tensor.insert_slice` (static offsets and sizes, unit
      strides, constant indices, no rank reduction) is the source's where
      the slice covers it, else the destination's;
    * an element of a static `tensor.expand_shape` is its source's at the
      group-wise linearized indices;
    * `tensor.extract`'s own folds (of `tensor.from_elements`, constants).

    The tensor ops are left for canonicalization to drop once unused.

    ```mlir
    %v = linalg.generic ... ins(%shape : tensor<4xi64>) outs(%e : tensor<4xi64>) {
    ^bb0(%in: i64, %out: i64):
      %eq = arith.cmpi eq, %in, %c-1 : i64
      %s = arith.select %eq, %c1, %in : i64
      linalg.yield %s : i64
    }
    %d = tensor.extract %v[%c2] : tensor<4xi64>
    // becomes
    %in = tensor.extract %shape[%c2] : tensor<4xi64>
    %eq = arith.cmpi eq, %in, %c-1 : i64
    %d = arith.select %eq, %c1, %in : i64
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
}

def KilnGpuUnpackDynamicMemRefs
    : Pass<"kiln-gpu-unpack-dynamic-memrefs", "::mlir::func::FuncOp"> {
  let summary = "A launch's memrefs of symbolic shape enter it as a base pointer and sizes";
  let description = [{
    Runs after `gpu-launch-sink-index-computations`, right before
    `gpu-kernel-outlining`. The kernels take memrefs as bare pointers
    (`convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1}`): the kernel
    knows shape, strides and offset from the type, so every memref a kernel
    takes must be static. With symbolic dims (a model compiled without
    `--input-shape`) a launch uses memrefs like `memref<?x128xf32>`. For
    each such memref the launch's body uses (one whose shape, strides or
    offset are not all static), this pass takes its base buffer, offset,
    sizes and strides apart before the launch
    (`memref.extract_strided_metadata`) and puts them back together
    inside it (`memref.reinterpret_cast`): outlining then passes the base
    (a rank-0 memref: a bare pointer) and the symbolic parts as index
    parameters. Static memrefs are left as they are.

    ```mlir
    gpu.launch ... { memref.load %x[%i, %j] : memref<?x128xf32> }
    // becomes
    %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %x
    gpu.launch ... {
      %y = memref.reinterpret_cast %base to offset: [0], sizes: [%sizes#0, 128],
           strides: [128, 1] : memref<f32> to memref<?x128xf32>
      memref.load %y[%i, %j] : memref<?x128xf32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def KilnGpuLaunchToRuntime : Pass<"kiln-gpu-launch-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Kernel launches become kiln_rt_gpu_launch calls; kernels in one module";
  let description = [{
    Runs after `gpu-kernel-outlining`, before the kernels are lowered to
    NVVM. Moves every outlined kernel into one `gpu.module @kiln_kernels`
    (one binary for the model, loaded once per session) and replaces each
    `gpu.launch_func` with

    ```mlir
    call @kiln_rt_gpu_launch(%ctx, %name, %gx, %gy, %gz, %bx, %by, %bz, %smem, %params, %n)
    ```

    where `%name` points at the kernel's NUL-terminated name (a constant
    `memref.global`) and `%params` at `%n` 64-bit words, one per kernel
    parameter: the aligned pointer of each memref (the kernels use the
    bare-pointer calling convention: `convert-gpu-to-nvvm
    {use-bare-ptr-memref-call-conv=1}`; memref operands must have static
    shapes and layouts, which `kiln-gpu-unpack-dynamic-memrefs` makes of
    symbolic ones), and each integer, index or float scalar widened to 64
    bits. The model ABI routes the call to
    `kiln_runtime_context::gpu_launch` (runtime/include/kiln/kiln_abi.h).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect"];
}

#endif // KILN_PASSES_TD
