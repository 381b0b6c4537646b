//===- KilnBase.td - The kiln dialect and its op base classes -*- tablegen -*-===//
//
// The kiln dialect is Kiln's graph-level IR: ops on ranked tensors that carry
// ONNX semantics (numpy broadcasting, negative axes already normalised by the
// importer). Every op infers its result type from its operands and
// attributes, so the importer and the passes never compute shapes by hand.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_BASE_TD
#define KILN_DIALECT_KILN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::mlir::kiln";
  let summary = "Graph-level tensor ops with ONNX semantics";
  let description = [{
    The `kiln` dialect holds a Transformer graph as the ONNX frontend imports
    it: value-semantics ops on ranked tensors whose dimensions are static or
    `?`. Ops follow ONNX semantics (numpy-style broadcasting for elementwise
    ops, `axis` attributes already normalised to non-negative values), infer
    their result types, and fold when their operands are constants, so a
    shape-computing subgraph collapses to a constant once shapes are known.

    Fused ops (attention, layer_norm with residual, matmul with epilogue),
    quantized values (upstream `!quant.uniform` element types with per-tensor
    or per-channel scale/zero-point) and packed or sparse weight layouts
    (an encoding on the weight's tensor type) are added by the fusion,
    quantization and layout passes; see docs/architecture.md.
  }];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
  // kiln.activation_quantization holds !quant.uniform types.
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  // Discardable `kiln.*` attributes carry information between passes; the
  // dialect verifies each one where it appears (KilnDialect.cpp), and an
  // unknown `kiln.*` name is an error, so no pass reads an unchecked one.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  let discardableAttrs = (ins
    // On a linalg.generic: the epilogue of the GEMM it consumes.
    "::mlir::kiln::GemmEpilogueAttr":$gemm_epilogue,
    // On a contraction whose B kiln-pack-gemm-weights packed: the panel width.
    "::mlir::IntegerAttr":$packed_rhs,
    // On the module: the GEMM tile weights were packed for ({target, mr, nr}).
    "::mlir::DictionaryAttr":$gemm_tile,
    // On the module: --quantize int8-static's calibrated activations, the
    // ONNX node name of each Linear layer to the !quant.uniform<u8:f32, s:z>
    // type its A is quantized to (kiln-quantize-contractions reads it).
    "::mlir::DictionaryAttr":$activation_quantization,
    // On the module: --prune heads=..,ffn=.. with --calibration-data, the
    // ONNX node name of a Linear layer to E|x_j| of its input's features
    // (a 1-D f32 tensor; kiln-prune-structured reads it).
    "::mlir::DictionaryAttr":$layer_input_magnitude,
    // On the module: the ONNX node of each profile region, in order.
    "::mlir::ArrayAttr":$profile_regions,
    // A call of an outlined parallel loop body, and that body's function
    // (with the parameters that alias nothing else).
    "::mlir::UnitAttr":$parallel,
    "::mlir::UnitAttr":$parallel_body,
    "::mlir::DenseI64ArrayAttr":$parallel_noalias,
    // Function arguments and results: the run's kiln_runtime_context, the
    // ONNX names of inputs, outputs and of an input's symbolic dims.
    "::mlir::UnitAttr":$runtime_context,
    "::mlir::StringAttr":$input_name,
    "::mlir::StringAttr":$output_name,
    "::mlir::ArrayAttr":$dim_names
  );
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Kiln_Tensor : RankedTensorOf<[AnyType]>;
def Kiln_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Kiln_IntegerTensor : RankedTensorOf<[AnySignlessInteger, AnyUnsignedInteger]>;
def Kiln_IndexTensor : RankedTensorOf<[I32, I64]>;
def Kiln_ShapeTensor : 1DTensorOf<[I64]>;
def Kiln_BoolTensor : RankedTensorOf<[I1]>;

//===----------------------------------------------------------------------===//
// Op base classes
//===----------------------------------------------------------------------===//

// Every kiln op infers its result types. The explicit types in the assembly
// may be more precise than the inferred ones (a `?` refined by a pass) but
// never contradict them.
def Kiln_InferTypeOpAdaptor : InferTypeOpAdaptorBase<[{
  static bool isCompatibleReturnTypes(::mlir::TypeRange lhs, ::mlir::TypeRange rhs) {
    return ::mlir::kiln::areCompatibleTensorTypes(lhs, rhs);
  }
}]>;

class Kiln_BaseOp<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, !listconcat(traits, [Pure])>;

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Kiln_BaseOp<mnemonic, !listconcat(traits, [Kiln_InferTypeOpAdaptor])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Elementwise ops with one tensor operand and a result of the same type.
class Kiln_UnaryOp<string mnemonic, Type operandType, list<Trait> traits = []>
    : Kiln_BaseOp<mnemonic, !listconcat(traits,
        [SameOperandsAndResultType, DeclareOpInterfaceMethods<InferTypeOpInterface>])> {
  let arguments = (ins operandType:$input);
  let results = (outs operandType:$output);
  // SameOperandsAndResultType provides the result type inference.
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

// Elementwise ops with two operands broadcast the ONNX (numpy) way.
class Kiln_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, traits> {
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$output);
  // A null element type means "the operands' common element type".
  code resultElementType = "::mlir::Type()";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::kiln::inferBroadcastResultType(
          loc, adaptor.getLhs().getType(), adaptor.getRhs().getType(),
          }] # resultElementType # [{, inferred);
    }
  }];
}

// Arithmetic: the result has the operands' element type.
class Kiln_ArithmeticOp<string mnemonic, list<Trait> traits = []>
    : Kiln_BinaryOp<mnemonic, traits> {
  let hasFolder = 1;
}

// Comparisons and logic: the result is a tensor of i1.
class Kiln_PredicateOp<string mnemonic, list<Trait> traits = []>
    : Kiln_BinaryOp<mnemonic, traits> {
  let results = (outs Kiln_BoolTensor:$output);
  let resultElementType = "::mlir::IntegerType::get(context, 1)";
  let hasFolder = 1;
}

// Reductions over a set of axes (sorted, non-negative, unique).
class Kiln_ReduceOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, traits> {
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input `axes` `=` $axes attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::kiln::inferReducedType(loc, adaptor.getInput(),
          adaptor.getAxes(), adaptor.getKeepdims(), ::mlir::Type(), inferred);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::kiln::verifyReductionAxes(*this, getAxes());
    }
  }];
}

#endif // KILN_DIALECT_KILN_BASE_TD
