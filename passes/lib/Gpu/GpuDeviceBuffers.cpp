//===- GpuDeviceBuffers.cpp - A function's data moved to device memory ----===//
//
// On the GPU path every loop becomes a kernel, so every buffer a loop
// touches must be device memory. After bufferization a function's buffers
// come from five places, and this pass gives each a home:
//
//  * intermediate allocs: left as they are; kiln-plan-memory places them in
//    scratch slots, which a GPU session hands out from its device arena;
//  * inputs (host memory, the caller's): copied into a fresh alloc (so a
//    scratch slot) at the top of the function;
//  * outputs: copied from the device into a fresh host alloc, which stays
//    malloc (returned buffers are not planned) and goes to the caller
//    (a strided view cast to the identity layout made contiguous first);
//  * weights (memref.get_global): the runtime's device copy, uploaded once
//    per session;
//  * a reshape's target shape (symbolic dims: sizes the host stores and
//    memref.reshape reads): the host's stack;
// and memref.copy, which would lower to a host memcpy, becomes a linalg
// copy, a loop like the others.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/RuntimeCalls.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUDEVICEBUFFERS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr StringLiteral kCopyFunction = "kiln_rt_gpu_copy";
constexpr StringLiteral kConstantFunction = "kiln_rt_gpu_constant";
// enum kiln_gpu_copy_kind (kiln_abi.h; ModelAbi.cpp checks they agree).
constexpr int64_t kHostToDevice = 0, kDeviceToHost = 1;

class DeviceBuffers {
public:
  DeviceBuffers(func::FuncOp func, Value context)
      : func(func), context(context), layout(DataLayout::closest(func)),
        entry(OpBuilder::atBlockBegin(&func.getBody().front())) {}

  LogicalResult run() {
    shapesToHostStack();
    if (failed(copiesToLoops()) || failed(weightsToDevice()) || failed(inputsToDevice()))
      return failure();
    return outputsToHost();
  }

private:
  /// A reshape's target shape with symbolic dims (tensor.from_elements of
  /// sizes, a small index buffer) is host data: the host code stores the
  /// sizes and memref.reshape reads them when it builds the view. It goes
  /// on the host's stack rather than into the device arena.
  void shapesToHostStack() {
    SmallVector<memref::AllocOp> shapes;
    func.walk([&](memref::AllocOp alloc) {
      MemRefType type = alloc.getType();
      Value buffer = alloc.getResult();
      auto hostUse = [&](Operation *user) {
        if (auto store = dyn_cast<memref::StoreOp>(user))
          return store.getValueToStore() != buffer;
        if (auto reshape = dyn_cast<memref::ReshapeOp>(user))
          return reshape.getShape() == buffer && reshape.getSource() != buffer;
        return isa<memref::LoadOp, memref::DeallocOp>(user);
      };
      if (type.getRank() == 1 && type.hasStaticShape() && type.getElementType().isIndex() &&
          llvm::any_of(buffer.getUsers(), llvm::IsaPred<memref::ReshapeOp>) &&
          llvm::all_of(buffer.getUsers(), hostUse))
        shapes.push_back(alloc);
    });
    OpBuilder top = OpBuilder::atBlockBegin(&func.getBody().front());
    for (memref::AllocOp alloc : shapes) {
      auto stack = memref::AllocaOp::create(top, alloc.getLoc(), alloc.getType(), ValueRange{},
                                            alloc.getAlignmentAttr());
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.getResult().replaceAllUsesWith(stack.getResult());
      alloc.erase();
    }
  }

  /// Bytes of a buffer of `type` (static shape: weights).
  int64_t staticByteSize(MemRefType type) {
    int64_t elementBytes =
        int64_t(layout.getTypeSize(type.getElementType()).getFixedValue());
    return type.getNumElements() * elementBytes;
  }

  /// Bytes of `buffer`, contiguous (identity layout): its symbolic dims
  /// read at run time.
  Value byteSize(OpBuilder &b, Location loc, Value buffer) {
    auto type = cast<MemRefType>(buffer.getType());
    int64_t known = int64_t(layout.getTypeSize(type.getElementType()).getFixedValue());
    for (int64_t size : type.getShape())
      if (!ShapedType::isDynamic(size))
        known *= size;
    Value bytes = arith::ConstantIndexOp::create(b, loc, known);
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        bytes = arith::MulIOp::create(b, loc, bytes, memref::DimOp::create(b, loc, buffer, d));
    return bytes;
  }

  /// The sizes of `buffer`'s symbolic dims, for an alloc of its shape.
  SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc, Value buffer) {
    auto type = cast<MemRefType>(buffer.getType());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        sizes.push_back(memref::DimOp::create(b, loc, buffer, d));
    return sizes;
  }

  /// The address of `buffer`'s first element, as an index.
  Value address(OpBuilder &b, Location loc, Value buffer) {
    auto type = cast<MemRefType>(buffer.getType());
    Value pointer = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
    int64_t offset = 0;
    SmallVector<int64_t> strides;
    if (failed(type.getStridesAndOffset(strides, offset)) || offset == 0 ||
        ShapedType::isDynamic(offset))
      return pointer;
    int64_t elementBytes =
        int64_t(layout.getTypeSize(type.getElementType()).getFixedValue());
    Value bytes = arith::ConstantIndexOp::create(b, loc, offset * elementBytes);
    return arith::AddIOp::create(b, loc, pointer, bytes);
  }

  void copy(OpBuilder &b, Location loc, Value dstAddress, Value srcAddress, Value bytes,
            int64_t kind) {
    func::CallOp::create(b, loc, kCopyFunction, TypeRange{},
                         ValueRange{context, dstAddress, srcAddress, bytes,
                                    arith::ConstantIndexOp::create(b, loc, kind)});
  }

  /// memref.copy lowers to a host memcpy; a linalg copy becomes a kernel.
  LogicalResult copiesToLoops() {
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp op) { copies.push_back(op); });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::makeMemRefCopyOp(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
    return success();
  }

  /// Each weight: one device copy per function, made at its top.
  LogicalResult weightsToDevice() {
    llvm::StringMap<Value> deviceCopy;
    SmallVector<memref::GetGlobalOp> uses;
    func.walk([&](memref::GetGlobalOp op) { uses.push_back(op); });
    auto slotType = MemRefType::get({ShapedType::kDynamic}, entry.getI8Type());
    for (memref::GetGlobalOp use : uses) {
      Value &device = deviceCopy[use.getName()];
      if (!device) {
        Location loc = use.getLoc();
        MemRefType type = use.getType();
        if (!type.hasStaticShape())
          return emitError(loc, "a weight of symbolic shape: ") << type;
        int64_t bytes = staticByteSize(type);
        if (!type.getLayout().isIdentity())
          return emitError(loc, "a weight with a non-identity layout: ") << type;
        Value host = memref::GetGlobalOp::create(entry, loc, type, use.getName());
        Value hostAddress = memref::ExtractAlignedPointerAsIndexOp::create(entry, loc, host);
        Value memory =
            func::CallOp::create(entry, loc, kConstantFunction, TypeRange{slotType},
                                 ValueRange{context, hostAddress,
                                            arith::ConstantIndexOp::create(entry, loc, bytes)})
                .getResult(0);
        Value zero = arith::ConstantIndexOp::create(entry, loc, 0);
        device = memref::ViewOp::create(entry, loc, type, memory, zero, ValueRange{});
      }
      use.getResult().replaceAllUsesWith(device);
    }
    // Only now: `entry` may be inserting before one of them.
    for (memref::GetGlobalOp use : uses)
      use.erase();
    return success();
  }

  /// Each input: copied into a buffer the function's code uses instead.
  LogicalResult inputsToDevice() {
    // Inputs are copied first thing, before the weights' uploads.
    entry.setInsertionPointToStart(&func.getBody().front());
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type)
        continue;
      Location loc = func.getLoc();
      if (!type.getLayout().isIdentity())
        return emitError(loc, "an input with a non-identity layout: ") << type;
      Value device = memref::AllocOp::create(entry, loc, type, dynamicSizes(entry, loc, arg));
      Value hostAddress = address(entry, loc, arg);
      copy(entry, loc, address(entry, loc, device), hostAddress, byteSize(entry, loc, device),
           kHostToDevice);
      // Everything but the copy's own read of the argument and its dims.
      arg.replaceUsesWithIf(device, [&](OpOperand &use) {
        Operation *user = use.getOwner();
        return user != hostAddress.getDefiningOp() &&
               !(isa<memref::DimOp>(user) && user->getBlock() == &func.getBody().front() &&
                 user->isBeforeInBlock(device.getDefiningOp()));
      });
    }
    return success();
  }

  /// `output` as contiguous device memory, as its identity layout says.
  /// Bufferization returns a strided view of symbolic strides (a Split's
  /// piece, a slice) through a memref.cast to the identity layout, which
  /// only the run's sizes can make true: such a view is copied into a
  /// fresh buffer first (a kernel). Others are contiguous as they are.
  Value contiguous(OpBuilder &b, Location loc, Value output) {
    Value source = output;
    while (auto castOp = source.getDefiningOp<memref::CastOp>())
      source = castOp.getSource();
    if (cast<MemRefType>(source.getType()).getLayout().isIdentity())
      return output;
    // The view's sizes (folded to the values that made it, so that
    // kiln-plan-memory can size the buffer at the top of the function).
    auto type = cast<MemRefType>(output.getType());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        sizes.push_back(b.createOrFold<memref::DimOp>(loc, source, d));
    Value copy = memref::AllocOp::create(b, loc, type, sizes);
    linalg::makeMemRefCopyOp(b, loc, source, copy);
    return copy;
  }

  /// Each output: copied into a host buffer, which is returned instead.
  LogicalResult outputsToHost() {
    SmallVector<func::ReturnOp> returns;
    func.walk([&](func::ReturnOp op) { returns.push_back(op); });
    for (func::ReturnOp ret : returns) {
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        auto type = dyn_cast<MemRefType>(operand.get().getType());
        if (!type)
          continue;
        Location loc = operand.get().getLoc();
        if (!type.getLayout().isIdentity())
          return emitError(loc, "an output with a non-identity layout: ") << type;
        Value device = contiguous(b, loc, operand.get());
        Value host = memref::AllocOp::create(b, loc, type, dynamicSizes(b, loc, device));
        // One address per statement: argument evaluation order varies.
        Value deviceAddress = address(b, loc, device);
        Value hostAddress = address(b, loc, host);
        copy(b, loc, hostAddress, deviceAddress, byteSize(b, loc, host), kDeviceToHost);
        operand.set(host);
      }
    }
    return success();
  }

  func::FuncOp func;
  Value context;
  DataLayout layout;
  OpBuilder entry;
};

void declareRuntimeFunctions(ModuleOp module) {
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  Type index = b.getIndexType();
  if (!module.lookupSymbol(kCopyFunction))
    func::FuncOp::create(b, module.getLoc(), kCopyFunction,
                         b.getFunctionType({index, index, index, index, index}, {}))
        .setPrivate();
  if (!module.lookupSymbol(kConstantFunction))
    func::FuncOp::create(
        b, module.getLoc(), kConstantFunction,
        b.getFunctionType({index, index, index},
                          {MemRefType::get({ShapedType::kDynamic}, b.getI8Type())}))
        .setPrivate();
}

struct GpuDeviceBuffersPass
    : mlir::kiln::impl::KilnGpuDeviceBuffersBase<GpuDeviceBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool changed = false;
    for (auto func : module.getOps<func::FuncOp>()) {
      Value context = mlir::kiln::lowering::runtimeContextArgument(func);
      if (!context || func.isExternal())
        continue;
      if (!func.getBody().hasOneBlock()) {
        func.emitError("the GPU path needs a function of one block");
        return signalPassFailure();
      }
      if (failed(DeviceBuffers(func, context).run()))
        return signalPassFailure();
      changed = true;
    }
    if (changed)
      declareRuntimeFunctions(module);
  }
};
} // namespace
