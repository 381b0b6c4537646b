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
    matmul/gemm become contractions, conv becomes `linalg.conv_2d_nchw_fchw`,
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
    A dynamic (`?`) dim is assumed to match the other operand's dim rather
    than broadcast from 1 at run time; an op the lowering does not handle yet
    is reported at its location and the pass fails.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
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

def KilnContractionToRuntimeGemm : Pass<"kiln-contraction-to-runtime-gemm", "::mlir::ModuleOp"> {
  let summary = "Call the runtime's packed fp32 GEMM for bufferized contractions";
  let description = [{
    Every fp32 `linalg.generic` on buffers computing `out += a * b` with one
    reduction loop (what `kiln.matmul` and `kiln.gemm` lower to) becomes
    calls of `kiln_rt_sgemm`, which the model ABI routes to the runtime's
    micro-kernels through the `kiln_runtime_context` of the run
    (runtime/include/kiln/kiln_abi.h). The function must have an `index`
    argument marked `kiln.runtime_context` (`kiln compile` adds it to
    `@main`).

    The loop innermost in the output among those only the first input uses
    is the GEMM's m; likewise n for the second input; every other parallel
    loop (batch, broadcast batch, extra m-like dims) becomes an `scf.for`
    around the call that moves each operand by its stride along that loop.
    Transposed and broadcast operands are passed as strides, never copied.
    A zero `linalg.fill` of the output right before the contraction is
    dropped and the call overwrites instead of accumulating. Contractions
    whose output rows are not contiguous, or of other element types, stay
    as they are (they become loops).

    Before:
    ```mlir
    linalg.fill ins(%zero : f32) outs(%c : memref<?x64xf32>)
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n),
                                     (m, n, k) -> (m, n)], ...}
        ins(%a, %b : memref<?x32xf32>, memref<32x64xf32>) outs(%c : memref<?x64xf32>) {...}
    ```
    After:
    ```mlir
    func.call @kiln_rt_sgemm(%ctx, %m, %c64, %c32, %pa, %c32, %c1, %pb, %c64, %c1,
                             %pc, %c64, %c0) : (index, ...) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

def KilnPlanMemory : Pass<"kiln-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Place a function's intermediate buffers in scratch slots reused by liveness";
  let description = [{
    Runs after bufferization and deallocation. In every function with a
    `kiln.runtime_context` argument, each top-level `memref.alloc` that is
    not returned (outputs stay `malloc`ed: the runtime hands them to the
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
    whose size needs anything else keeps its `malloc`, as do allocs inside
    loops and branches.

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
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect"];
}

def KilnApproximateMath : Pass<"kiln-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Replace f32 math functions by vectorizable polynomial approximations";
  let description = [{
    Rewrites the `math` ops named by `ops` (by mnemonic; when none are
    given: `exp`, `erf`, `tanh`, `log`) on f32 scalars and vectors into MLIR's polynomial
    approximations: arith code that the loop vectorizer can widen, where
    the ops would otherwise become one libm call per element. Their error is
    a few ulp of f32. `kiln compile` runs it from -O1 up; at -O0 the math
    functions stay libm calls.

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
    stay `out + a * b` for `kiln-contraction-to-runtime-gemm`.

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

#endif // KILN_PASSES_TD
