//===- RuntimeCalls.h - How lowered code reaches the runtime ----*- C++ -*-===//
//
// Internal to passes/lib/Lowering. Lowered code calls the runtime through
// private `kiln_rt_*` functions whose first argument is the run's
// kiln_runtime_context (an `index` argument of the function, marked with
// kRuntimeContextAttr); the model ABI (compiler/lib/ModelAbi.cpp) gives them
// bodies that call through the context.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_RUNTIMECALLS_H
#define KILN_PASSES_LOWERING_RUNTIMECALLS_H

#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

#include <cstddef>

namespace mlir::kiln::lowering {

constexpr StringLiteral kRuntimeContextAttr = KilnDialect::RuntimeContextAttrHelper::getNameStr();

/// What a failed run-time check calls: kiln_rt_fail(ctx, message) ends the
/// run with the message as its status (it does not return).
constexpr StringLiteral kFailFunction = "kiln_rt_fail";

/// The function's kiln.runtime_context argument, or null.
inline Value runtimeContextArgument(func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttr(i, kRuntimeContextAttr))
      return func.getArgument(i);
  return nullptr;
}

/// Declares the private runtime call `name`(ctx, desc) at the top of
/// `module`, both addresses as index (a descriptor call: kiln_rt_gemm,
/// kiln_rt_qgemm), unless it exists.
inline void declareDescriptorCall(ModuleOp module, StringRef name) {
  if (module.lookupSymbol(name))
    return;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto type = b.getFunctionType({b.getIndexType(), b.getIndexType()}, {});
  func::FuncOp::create(b, module.getLoc(), name, type).setPrivate();
}

/// The byte size of `alloc`'s buffer (what kiln_rt_alloc and the scratch
/// arena's slots are asked for): the product of its static dims times the
/// element size, times each dynamic size as `sizeAt` gives it (the size in
/// place, or a clone of it at the function's entry); null where `sizeAt`
/// gives null.
inline Value allocationBytes(OpBuilder &b, memref::AllocOp alloc, const DataLayout &layout,
                             function_ref<Value(Value)> sizeAt) {
  MemRefType type = alloc.getType();
  Location loc = alloc.getLoc();
  int64_t staticElements = 1;
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d))
      staticElements *= d;
  int64_t elementBytes = layout.getTypeSize(type.getElementType());
  Value bytes = arith::ConstantIndexOp::create(b, loc, staticElements * elementBytes);
  for (Value size : alloc.getDynamicSizes()) {
    Value at = sizeAt(size);
    if (!at)
      return nullptr;
    bytes = arith::MulIOp::create(b, loc, bytes, at);
  }
  return bytes;
}

/// Declares the private runtime call `name`(ctx, bytes) -> memref<?xi8> at
/// the top of `module` (a call that returns memory: kiln_rt_scratch,
/// kiln_rt_alloc), unless it exists.
inline void declareMemoryCall(ModuleOp module, StringRef name) {
  if (module.lookupSymbol(name))
    return;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  Type index = b.getIndexType();
  auto type = b.getFunctionType({index, index},
                                {MemRefType::get({ShapedType::kDynamic}, b.getI8Type())});
  func::FuncOp::create(b, module.getLoc(), name, type).setPrivate();
}

/// A buffer as the runtime sees it: the byte address of its first element
/// and its strides, in elements.
struct CallOperand {
  Value address;
  SmallVector<Value> strides;
};

inline CallOperand callOperand(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value pointer = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  // Elements narrower than a byte (i1) are stored a byte each.
  int64_t bytes = (type.getElementTypeBitWidth() + 7) / 8;
  Value offset = b.createOrFold<arith::MulIOp>(loc, meta.getOffset(),
                                              arith::ConstantIndexOp::create(b, loc, bytes));
  return {arith::AddIOp::create(b, loc, pointer, offset),
          SmallVector<Value>(meta.getStrides().begin(), meta.getStrides().end())};
}

/// The bits of `value` as a double, for a descriptor's `double` word.
inline Value doubleWord(OpBuilder &b, Location loc, double value) {
  Value constant = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
  Value bits = arith::BitcastOp::create(b, loc, b.getI64Type(), constant);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), bits);
}

/// Or-s `bad` (an i1) into `failed` (null or an i1): the condition a
/// kiln.runtime_check gathers from several checks.
inline void orInto(OpBuilder &b, Location loc, Value &failed, Value bad) {
  failed = failed ? arith::OrIOp::create(b, loc, failed, bad).getResult() : bad;
}

/// Or-s into `failed` whether the index values `x` and `y` differ when the
/// model runs; nothing where both are constants (compared when compiling).
inline void requireEqualAtRunTime(OpBuilder &b, Location loc, Value x, Value y, Value &failed) {
  if (matchPattern(x, m_Constant()) && matchPattern(y, m_Constant()))
    return;
  orInto(b, loc, failed, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x, y));
}

/// Whether `?` dim `dim` of `buffer` is 1 at run time (an i1), where numpy's
/// rules let it be 1 or `size`; where it is neither, `failed` (null or an
/// i1) is or-ed with true for the caller's kiln.runtime_check.
inline Value isBroadcastOne(OpBuilder &b, Location loc, Value buffer, int64_t dim, Value size,
                            Value &failed) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value actual = memref::DimOp::create(b, loc, buffer, dim);
  Value isOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, actual, one);
  Value bad = arith::AndIOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, actual, size),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, actual, one));
  orInto(b, loc, failed, bad);
  return isOne;
}

/// The message of attention's run-time check of its operands (the CPU's
/// kiln_attention_desc and the GPU's kernel), after the node's description.
constexpr const char *kAttentionOperandsMessage =
    ": attention's operands do not fit at run time (a batch dim neither 1 nor the others', or "
    "the products' inner dims differ, or the mask does not broadcast to the scores)";

/// The message of the check a softmax's `?` mask dims get (isBroadcastOne),
/// after the node's description.
constexpr const char *kMaskBroadcastMessage =
    ": the mask's shape does not broadcast to the scores' (a dim is neither 1 nor theirs at run "
    "time)";

/// The stride of `buffer` (lowered as `operand`) along a dim of the call
/// whose size is `size`, where the buffer broadcasts to it (numpy's rules):
/// its dim `dim` (negative: it has no such dim) of size 1 reads the same
/// element throughout (stride 0). A `?` dim is 1 or `size` at run time:
/// chosen then, and where it is neither, `failed` (null or an i1) is or-ed
/// with true for the caller's kiln.runtime_check.
inline Value broadcastStride(OpBuilder &b, Location loc, Value buffer, const CallOperand &operand,
                             int64_t dim, Value size, Value &failed) {
  auto type = cast<MemRefType>(buffer.getType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  if (dim < 0 || type.getDimSize(dim) == 1)
    return zero;
  if (!type.isDynamicDim(dim))
    return operand.strides[dim];
  Value isOne = isBroadcastOne(b, loc, buffer, dim, size, failed);
  return arith::SelectOp::create(b, loc, isOne, zero, operand.strides[dim]);
}

/// The 64-bit word of a runtime descriptor (kiln_gemm_desc, kiln_qgemm_desc:
/// arrays of 64-bit fields) at byte offset `offset`, an offsetof.
constexpr int64_t descriptorWord(size_t offset) { return int64_t(offset / sizeof(int64_t)); }

/// Dim `d` of `buffer` as an index: a constant where the type knows it.
inline Value bufferDim(OpBuilder &b, Location loc, Value buffer, int64_t d) {
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.isDynamicDim(d))
    return arith::ConstantIndexOp::create(b, loc, type.getDimSize(d));
  return memref::DimOp::create(b, loc, buffer, d);
}

/// Sets the addend fields that kiln_softmax_desc and kiln_attention_desc
/// share (addend, addend_cs, addend_rs, batch_stride_addend[1], [0]),
/// through set(offsetof, value): the addend lines up with the scores from
/// the right, whose sizes innermost first are `sizes` (columns, rows, batch
/// 1, batch 0); where a dim of it is 1 its stride is 0, and a `?` dim is
/// checked against the scores' into `failed` (broadcastStride).
template <class Desc, class SetFn>
void setAddend(OpBuilder &b, Location loc, Value addend, ArrayRef<Value> sizes, Value &failed,
               const SetFn &set) {
  const int64_t rank = cast<MemRefType>(addend.getType()).getRank();
  CallOperand a = callOperand(b, loc, addend);
  auto stride = [&](int64_t fromLast) {
    return broadcastStride(b, loc, addend, a, rank - 1 - fromLast, sizes[fromLast], failed);
  };
  set(offsetof(Desc, addend), a.address);
  set(offsetof(Desc, addend_cs), stride(0));
  set(offsetof(Desc, addend_rs), stride(1));
  set(offsetof(Desc, batch_stride_addend[1]), stride(2));
  set(offsetof(Desc, batch_stride_addend[0]), stride(3));
}

/// Sets the fields that the row descriptors (kiln_softmax_desc,
/// kiln_layer_norm_desc) share, through set(offsetof, value): x and y,
/// buffers of rank <= 4 whose last dim is the row, as batch[0] x batch[1]
/// matrices of m x n (a dim x does not have: size 1, stride 0). Returns x's
/// sizes innermost first (n, m, batch[1], batch[0]), each made once.
template <class Desc, class SetFn>
SmallVector<Value, 4> setRowsOfXAndY(OpBuilder &b, Location loc, Value x, Value y,
                                     const SetFn &set) {
  auto xType = cast<MemRefType>(x.getType());
  const int64_t rank = xType.getRank();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  CallOperand xOperand = callOperand(b, loc, x), yOperand = callOperand(b, loc, y);
  SmallVector<Value, 4> sizes;
  for (int64_t fromLast = 0; fromLast < 4; ++fromLast) {
    const int64_t d = rank - 1 - fromLast;
    sizes.push_back(d < 0 ? arith::ConstantIndexOp::create(b, loc, 1).getResult()
                          : bufferDim(b, loc, x, d));
  }
  auto strideOf = [&](const CallOperand &operand, int64_t fromLast) {
    const int64_t d = rank - 1 - fromLast;
    return d < 0 ? zero : operand.strides[d];
  };
  set(offsetof(Desc, n), sizes[0]);
  set(offsetof(Desc, m), sizes[1]);
  set(offsetof(Desc, batch[1]), sizes[2]);
  set(offsetof(Desc, batch[0]), sizes[3]);
  set(offsetof(Desc, x), xOperand.address);
  set(offsetof(Desc, x_rs), strideOf(xOperand, 1));
  set(offsetof(Desc, batch_stride_x[1]), strideOf(xOperand, 2));
  set(offsetof(Desc, batch_stride_x[0]), strideOf(xOperand, 3));
  set(offsetof(Desc, y), yOperand.address);
  set(offsetof(Desc, y_rs), strideOf(yOperand, 1));
  set(offsetof(Desc, batch_stride_y[1]), strideOf(yOperand, 2));
  set(offsetof(Desc, batch_stride_y[0]), strideOf(yOperand, 3));
  return sizes;
}

/// Fills the stack descriptor `descriptor` (memref<N x index>: index is 64
/// bits on every target Kiln compiles for, as the ABI's words are) with
/// `fields` and calls `function`(context, descriptor).
inline void callWithDescriptor(OpBuilder &b, Location loc, StringRef function, Value context,
                               Value descriptor, ArrayRef<Value> fields) {
  for (auto [i, value] : llvm::enumerate(fields)) {
    Value index = arith::ConstantIndexOp::create(b, loc, int64_t(i));
    memref::StoreOp::create(b, loc, value, descriptor, ValueRange{index});
  }
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, descriptor);
  func::CallOp::create(b, loc, function, TypeRange{}, ValueRange{context, address});
}

/// Lowers every `OpT` (a ukernel op on buffers) of each function in
/// `module` with `lower`(rewriter, op, context, descriptor): one stack
/// descriptor of `numFields` words per function (calls run one after
/// another), the function's kiln.runtime_context argument, and the private
/// declaration of `function`. `what` names the op in errors. Fails, with
/// an error on the first op, where a function has no context or `ready`
/// rejects an op.
template <typename OpT, typename LowerFn, typename ReadyFn>
LogicalResult lowerUkernelCalls(ModuleOp module, StringRef function, int64_t numFields,
                                StringRef what, ReadyFn ready, LowerFn lower) {
  IRRewriter rewriter(module.getContext());
  bool called = false;
  WalkResult result = module.walk([&](func::FuncOp func) {
    SmallVector<OpT> ops;
    func.walk([&](OpT op) { ops.push_back(op); });
    if (ops.empty())
      return WalkResult::advance();
    Value context = runtimeContextArgument(func);
    if (!context) {
      ops.front().emitError(what) << " needs the runtime, but function '" << func.getSymName()
                                  << "' has no '" << kRuntimeContextAttr << "' argument";
      return WalkResult::interrupt();
    }
    for (OpT op : ops)
      if (failed(ready(op)))
        return WalkResult::interrupt();
    rewriter.setInsertionPointToStart(&func.getBody().front());
    Value descriptor = memref::AllocaOp::create(
        rewriter, func.getLoc(), MemRefType::get({numFields}, rewriter.getIndexType()));
    for (OpT op : ops)
      lower(rewriter, op, context, descriptor);
    called = true;
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  if (called)
    declareDescriptorCall(module, function);
  return success();
}

/// lowerUkernelCalls for ops with tensor semantics until bufferization
/// (hasTensorSemantics): one still on tensors is an error naming `pass`;
/// with `f32Only`, so is one with a buffer of another element type.
template <typename OpT, typename LowerFn>
LogicalResult lowerBufferizedUkernelCalls(ModuleOp module, StringRef function, int64_t numFields,
                                          StringRef what, StringRef pass, LowerFn lower,
                                          bool f32Only = false) {
  auto bufferized = [&](OpT op) -> LogicalResult {
    if (op.hasTensorSemantics())
      return op.emitError(what) << " must be bufferized before " << pass;
    // 16-bit rows are the GPU path's (kiln-gpu-half-storage); the CPU
    // runtime's row descriptors carry f32 pointers.
    if (f32Only)
      for (Value operand : op->getOperands())
        if (auto type = dyn_cast<MemRefType>(operand.getType());
            type && !type.getElementType().isF32())
          return op.emitError(what) << " on the CPU runtime takes f32 buffers, not " << type;
    return success();
  };
  return lowerUkernelCalls<OpT>(module, function, numFields, what, bufferized, lower);
}

/// The private constant memref.global holding `text` and a NUL (a C
/// string for the runtime: a kernel name, a message), made at the top of
/// `module`: `symbol`, or where that name holds something else, `symbol`
/// with the first free suffix `_1`, `_2`, ... (a pass run twice numbers its
/// strings from 0 again: the GPU path's run-time checks are lowered before
/// bufferization and after it). A global of one of those names holding
/// the same text is reused.
inline memref::GlobalOp cStringGlobal(ModuleOp module, StringRef symbol, StringRef text) {
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  SmallVector<int8_t> bytes(text.begin(), text.end());
  bytes.push_back(0);
  auto type = MemRefType::get({int64_t(bytes.size())}, b.getI8Type());
  auto value = DenseElementsAttr::get(RankedTensorType::get(type.getShape(), b.getI8Type()),
                                      ArrayRef<int8_t>(bytes));
  std::string name = symbol.str();
  for (int suffix = 1;; ++suffix) {
    Operation *existing = module.lookupSymbol(name);
    if (!existing)
      break;
    auto global = dyn_cast<memref::GlobalOp>(existing);
    if (global && global.getConstant() && global.getInitialValue() == Attribute(value))
      return global;
    name = (symbol + "_" + Twine(suffix)).str();
  }
  return memref::GlobalOp::create(b, module.getLoc(), name, b.getStringAttr("private"), type,
                                  value, /*constant=*/true, /*alignment=*/nullptr);
}

/// The address of `global`'s first byte, as an index, at b's insertion point.
inline Value cStringAddress(OpBuilder &b, Location loc, memref::GlobalOp global) {
  Value buffer = memref::GetGlobalOp::create(b, loc, global.getType(), global.getSymName());
  return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
}

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_RUNTIMECALLS_H
