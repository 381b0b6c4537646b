//===- GpuHalfStorage.cpp - Tensors between kernels in 16 bits ------------===//
//
// On the GPU most kernels are bound by memory traffic, and cuBLASLt's fp16
// and bf16 GEMMs read 16-bit operands. With --precision fp16|bf16, each
// fp32 tensor that one kernel writes and others read is stored in the
// 16-bit type instead: its producer rounds what it stores (saturating, see
// HalfStorage.h), its consumers extend what they load, and the arithmetic
// stays fp32. What is stored:
//
//  - the result of an elementwise generic (all loops parallel, its init
//    not read), of a softmax or layer norm row op and of attention
//    (kiln.attention, --gpu-attention=fused);
//  - the result of a GEMM: a contraction, with the epilogue marked after it
//    in place (kiln-prepare-gemm-epilogues). Its sums stay fp32; a
//    truncation (plain truncf, as cuBLASLt stores D) follows, which
//    kiln-contraction-to-runtime-gemm folds into the GEMM's store;
//  - views of those (slices, reshapes, tensor.reshape of a shape computed
//    at run time, casts between static and symbolic dims);
//  - constant operands of contractions whose other operand is stored in
//    16 bits (rounded at compile time, as the tensor cores would read
//    them), and the bias of a stored GEMM's epilogue.
//
// A value is stored in 16 bits only if every use can read it so: a generic
// input, a tensor.extract, a tensor.dim (symbolic shapes: it reads no
// element), a row op's x or addend, attention's q, kt, v or addend, a view
// of it that qualifies too. Function results, reductions' accumulators (their init)
// and anything else keep fp32. So does a generic input that the body
// rounds to an integer (QuantizeLinear, Round, Floor, Cast to an integer):
// rounded to 16 bits first, a value near a rounding boundary would now and
// then land a whole step off (a quantized activation one scale off).
//
//===----------------------------------------------------------------------===//

#include "HalfStorage.h"
#include "../Layout/GemmWeights.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"


namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUHALFSTORAGE
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isF32Tensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getElementType().isF32();
}

bool isView(Operation *op) {
  return isa<tensor::ExtractSliceOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
             tensor::ReshapeOp, tensor::CastOp>(op);
}

/// An elementwise generic whose one result is an f32 tensor and whose init
/// is only a destination (not read).
bool isElementwiseProducer(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 ||
      !isF32Tensor(op->getResult(0)) || lowering::epilogueMarksOf(op))
    return false;
  return op.getRegion().front().getArguments().back().use_empty();
}

/// An f32 `out += a * b` contraction on tensors (its inputs possibly
/// extended from 16 bits already).
bool isContraction(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0 ||
      !isF32Tensor(op->getResult(0)))
    return false;
  std::optional<std::pair<Value, Value>> factors = lowering::accumulatedFactors(
      op, /*extraOps=*/unsigned(llvm::count_if(op.getRegion().front(), [](Operation &inner) {
        return isa<arith::ExtFOp>(inner);
      })));
  if (!factors)
    return false;
  Block &body = op.getRegion().front();
  auto input = [&](Value v) {
    if (auto ext = v.getDefiningOp<arith::ExtFOp>())
      v = ext.getIn();
    return v == body.getArgument(0) || v == body.getArgument(1);
  };
  return input(factors->first) && input(factors->second) && factors->first != factors->second;
}

/// A GEMM and the epilogue marked after it: the marked generic that takes
/// the contraction's result in place, if that is its only user.
struct GemmChain {
  linalg::GenericOp contraction, epilogue;
  Value result() const { return (epilogue ? epilogue : contraction)->getResult(0); }
};

GemmChain chainOf(linalg::GenericOp contraction) {
  GemmChain chain{contraction, nullptr};
  Value c = contraction->getResult(0);
  if (c.use_empty())
    return chain;
  auto user = dyn_cast<linalg::GenericOp>(*c.getUsers().begin());
  if (!user || !llvm::all_of(c.getUsers(), [&](Operation *u) { return u == user; }))
    return chain;
  std::optional<lowering::EpilogueMarks> marks = lowering::epilogueMarksOf(user);
  if (marks && user.getDpsInits()[0] == c && user->getOperand(marks->gemm) == c &&
      user->getBlock() == contraction->getBlock())
    chain.epilogue = user;
  return chain;
}

struct HalfStorage {
  FloatType half;

  RankedTensorType halfTypeOf(Type type) const {
    return cast<RankedTensorType>(type).clone(half);
  }

  /// Whether the body rounds `element` (a generic's input element), or a
  /// float computed from it, to an integer.
  static bool roundsToInteger(Value element) {
    SmallVector<Value> work{element};
    DenseSet<Operation *> seen;
    while (!work.empty()) {
      for (Operation *user : work.pop_back_val().getUsers()) {
        if (!seen.insert(user).second)
          continue;
        if (isa<math::RoundEvenOp, math::RoundOp, math::FloorOp, math::CeilOp, math::TruncOp,
                arith::FPToSIOp, arith::FPToUIOp>(user))
          return true;
        for (Value result : user->getResults())
          if (isa<FloatType>(result.getType()))
            work.push_back(result);
      }
    }
    return false;
  }

  /// Whether every use of `value`, and of the views of it, reads 16 bits.
  bool usesReadHalf(Value value, int depth = 0) const {
    if (depth > 8)
      return false;
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (auto generic = dyn_cast<linalg::GenericOp>(user)) {
        if (!generic.isDpsInput(&use) || user->getBlock() != value.getParentBlock() ||
            roundsToInteger(generic.getMatchingBlockArgument(&use)))
          return false;
        continue;
      }
      // An element read is extended; a size read (symbolic shapes) reads no
      // element.
      if (isa<tensor::ExtractOp, tensor::DimOp>(user))
        continue;
      if (auto softmax = dyn_cast<SoftmaxRowsOp>(user)) {
        if (use.get() == softmax.getInit())
          return false;
        continue;
      }
      if (auto norm = dyn_cast<LayerNormRowsOp>(user)) {
        if (use.getOperandNumber() != 0) // x, not scale, bias or init
          return false;
        continue;
      }
      if (auto attention = dyn_cast<AttentionOp>(user)) {
        if (use.get() == attention.getInit())
          return false;
        continue;
      }
      if (isView(user) && use.getOperandNumber() == 0) {
        if (!usesReadHalf(user->getResult(0), depth + 1))
          return false;
        continue;
      }
      return false;
    }
    return true;
  }

  /// Has `value`'s users read it as the 16-bit value it now is: generic
  /// inputs and tensor.extract results are extended, views change type and
  /// pass it on.
  void extendUses(Value value) const {
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : value.getUses())
      uses.push_back(&use);
    for (OpOperand *use : uses) {
      Operation *user = use->getOwner();
      if (auto generic = dyn_cast<linalg::GenericOp>(user)) {
        extendBlockArgument(generic.getMatchingBlockArgument(use));
      } else if (auto extract = dyn_cast<tensor::ExtractOp>(user)) {
        Value element = extract.getResult();
        element.setType(half);
        OpBuilder b(extract->getContext());
        b.setInsertionPointAfter(extract);
        Value extended = arith::ExtFOp::create(b, extract.getLoc(), b.getF32Type(), element);
        element.replaceAllUsesExcept(extended, extended.getDefiningOp());
      } else if (isView(user)) {
        Value view = user->getResult(0);
        view.setType(halfTypeOf(view.getType()));
        extendUses(view);
      }
      // Row ops and attention read their inputs in either type.
    }
  }

  void extendBlockArgument(BlockArgument arg) const {
    arg.setType(half);
    OpBuilder b = OpBuilder::atBlockBegin(arg.getOwner());
    Value extended = arith::ExtFOp::create(b, arg.getLoc(), b.getF32Type(), arg);
    arg.replaceAllUsesExcept(extended, extended.getDefiningOp());
  }

  /// A fresh tensor.empty of `init`'s shape in 16 bits, before `op`.
  Value halfInit(Operation *op, Value init) const {
    OpBuilder b(op);
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, op->getLoc(), init);
    return tensor::EmptyOp::create(b, op->getLoc(), sizes, half);
  }

  void storeElementwise(linalg::GenericOp op) const {
    OpOperand *init = op.getDpsInitOperand(0);
    init->set(halfInit(op, init->get()));
    Value result = op->getResult(0);
    result.setType(halfTypeOf(result.getType()));
    op.getMatchingBlockArgument(init).setType(half);
    auto yield = cast<linalg::YieldOp>(op.getRegion().front().getTerminator());
    OpBuilder b(yield);
    yield->setOperand(0, half_storage::truncateForStorage(b, yield.getLoc(), yield->getOperand(0),
                                                          half));
    extendUses(result);
  }

  template <typename RowOp> void storeRows(RowOp op) const {
    op.getInitMutable().assign(halfInit(op, op.getInit()));
    Value result = op.getResult();
    result.setType(halfTypeOf(result.getType()));
    extendUses(result);
  }

  /// Gives `contraction` a zero init of its own when its fill fills a
  /// tensor.empty that other ops write too: bufferization would then give
  /// them one buffer, and the GEMM's f32 result, which it stores in 16 bits
  /// itself in the end, would share it with a later value.
  static void giveOwnZeros(linalg::GenericOp contraction) {
    OpOperand *init = contraction.getDpsInitOperand(0);
    auto fill = init->get().getDefiningOp<linalg::FillOp>();
    auto empty = fill ? fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>() : nullptr;
    if (!empty || empty->hasOneUse())
      return;
    OpBuilder b(contraction);
    IRMapping mapping;
    mapping.map(empty.getResult(), b.clone(*empty)->getResult(0));
    init->set(b.clone(*fill, mapping)->getResult(0));
  }

  /// The GEMM's result rounded by a truncation after it, which every other
  /// user then reads.
  Value storeGemm(const GemmChain &chain) const {
    giveOwnZeros(chain.contraction);
    Value result = chain.result();
    Operation *last = result.getDefiningOp();
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    Location loc = last->getLoc();
    auto type = cast<RankedTensorType>(result.getType());
    Value init = tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, result), half);
    AffineMap identity = b.getMultiDimIdentityMap(type.getRank());
    auto truncation = linalg::GenericOp::create(
        b, loc, TypeRange{halfTypeOf(type)}, ValueRange{result}, ValueRange{init},
        ArrayRef<AffineMap>{identity, identity},
        SmallVector<utils::IteratorType>(type.getRank(), utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value rounded = arith::TruncFOp::create(nb, nl, half, args[0]);
          linalg::YieldOp::create(nb, nl, rounded);
        });
    // The users after it (not the sizes of its init, read before it).
    Block *block = truncation->getBlock();
    result.replaceUsesWithIf(truncation->getResult(0), [&](OpOperand &use) {
      Operation *user = block->findAncestorOpInBlock(*use.getOwner());
      return user && truncation->isBeforeInBlock(user);
    });
    extendUses(truncation->getResult(0));
    return truncation->getResult(0);
  }

  /// A 16-bit copy of an f32 constant, rounded now; null if its data cannot
  /// be read.
  Value halfConstant(OpBuilder &b, arith::ConstantOp constant) const {
    auto elements = dyn_cast<ElementsAttr>(constant.getValue());
    if (!elements)
      return nullptr;
    SmallVector<uint16_t> bits;
    half_storage::StorageRounding round(half);
    if (auto splat = dyn_cast<SplatElementsAttr>(elements)) {
      bits.assign(1, round(splat.getSplatValue<float>()));
    } else {
      std::optional<ArrayRef<float>> data = layout::floatsOf(elements);
      if (!data)
        return nullptr;
      bits.reserve(data->size());
      for (float v : *data)
        bits.push_back(round(v));
    }
    RankedTensorType type = halfTypeOf(constant.getType());
    Attribute value;
    if (bits.size() == 1 && type.getNumElements() != 1) {
      value = DenseElementsAttr::get(type, APFloat(half.getFloatSemantics(), APInt(16, bits[0])));
    } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(elements)) {
      // The weight's name with the type's; the blob manager makes it
      // unique if it is taken.
      std::string name = resource.getRawHandle().getKey().str() + (half.isF16() ? ".f16" : ".bf16");
      value = DenseResourceElementsAttr::get(
          type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<uint16_t>(bits), 64));
    } else {
      value = DenseElementsAttr::getFromRawBuffer(
          type, ArrayRef<char>(reinterpret_cast<const char *>(bits.data()), bits.size() * 2));
    }
    return arith::ConstantOp::create(b, constant.getLoc(), cast<TypedAttr>(value));
  }

  /// Reads operand `operand` of `op`, an f32 constant or a view of one (a
  /// weight reshaped, the patch embedding's), as its 16-bit copy (one per
  /// constant, made on first use) through the same views.
  void useHalfConstant(linalg::GenericOp op, OpOperand &operand,
                       DenseMap<Operation *, Value> &copies) const {
    SmallVector<Operation *> views;
    Value source = operand.get();
    for (Operation *def = source.getDefiningOp(); def && isView(def) && views.size() < 4;
         def = source.getDefiningOp()) {
      views.push_back(def);
      source = def->getOperand(0);
    }
    auto constant = source.getDefiningOp<arith::ConstantOp>();
    if (!constant || !isF32Tensor(constant))
      return;
    Value &copy = copies[constant];
    if (!copy) {
      OpBuilder b(constant);
      copy = halfConstant(b, constant);
      if (!copy)
        return;
    }
    Value value = copy;
    for (Operation *view : llvm::reverse(views)) {
      OpBuilder b(view);
      IRMapping mapping;
      mapping.map(view->getOperand(0), value);
      Operation *clone = b.clone(*view, mapping);
      clone->getResult(0).setType(halfTypeOf(view->getResult(0).getType()));
      value = clone->getResult(0);
    }
    operand.set(value);
    extendBlockArgument(op.getMatchingBlockArgument(&operand));
  }
};

bool isHalf(Value value, FloatType half) {
  return getElementTypeOrSelf(value.getType()) == half;
}

struct GpuHalfStoragePass : mlir::kiln::impl::KilnGpuHalfStorageBase<GpuHalfStoragePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    MLIRContext *context = &getContext();
    FloatType half = half_storage::parseStorageType(context, type);
    if (!half) {
      func.emitError("kiln-gpu-half-storage: type must be f16 or bf16, not '") << type << "'";
      return signalPassFailure();
    }
    HalfStorage storage{half};

    // Producers in program order: a consumer's inputs are settled first.
    SmallVector<Operation *> producers;
    for (Operation &op : func.getBody().front())
      producers.push_back(&op);
    SmallVector<GemmChain> storedGemms;
    for (Operation *op : producers) {
      if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
        if (isElementwiseProducer(generic) && storage.usesReadHalf(generic->getResult(0))) {
          storage.storeElementwise(generic);
          continue;
        }
        if (isContraction(generic)) {
          GemmChain chain = chainOf(generic);
          if (storage.usesReadHalf(chain.result())) {
            storage.storeGemm(chain);
            storedGemms.push_back(chain);
          }
        }
        continue;
      }
      if (auto softmax = dyn_cast<SoftmaxRowsOp>(op)) {
        if (softmax.getResult() && isF32Tensor(softmax.getResult()) &&
            storage.usesReadHalf(softmax.getResult()))
          storage.storeRows(softmax);
      } else if (auto norm = dyn_cast<LayerNormRowsOp>(op)) {
        if (norm.getResult() && isF32Tensor(norm.getResult()) &&
            storage.usesReadHalf(norm.getResult()))
          storage.storeRows(norm);
      } else if (auto attention = dyn_cast<AttentionOp>(op)) {
        if (attention.getResult() && isF32Tensor(attention.getResult()) &&
            storage.usesReadHalf(attention.getResult()))
          storage.storeRows(attention);
      }
    }

    // Constant operands: a contraction reads both operands in one type, and
    // a stored GEMM's bias in its output's type (cuBLASLt's rule).
    DenseMap<Operation *, Value> copies;
    func.walk([&](linalg::GenericOp op) {
      if (op->getParentOp() != func || !isContraction(op))
        return;
      for (unsigned i = 0; i < 2; ++i)
        if (isHalf(op.getDpsInputs()[1 - i], half) && !isHalf(op.getDpsInputs()[i], half))
          storage.useHalfConstant(op, *op.getDpsInputOperand(i), copies);
    });
    for (GemmChain chain : storedGemms) {
      linalg::GenericOp epilogue = chain.epilogue;
      if (!epilogue)
        continue;
      std::optional<lowering::EpilogueMarks> marks = lowering::epilogueMarksOf(epilogue);
      if (!marks || marks->bias < 0 || !isHalf(chain.contraction.getDpsInputs()[0], half) ||
          (marks->residual >= 0 && !isHalf(epilogue->getOperand(marks->residual), half)))
        continue;
      storage.useHalfConstant(epilogue, epilogue->getOpOperand(marks->bias), copies);
    }
    for (auto &[constant, copy] : copies)
      if (constant->use_empty())
        constant->erase();
  }
};

} // namespace
