//===- KilnBufferization.cpp - How kiln ops bufferize ---------------------===//

#include "kiln/Dialect/Kiln/KilnBufferization.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

/// `buffer` copied into a new buffer of its shape with the identity layout.
FailureOr<Value> copyToContiguous(RewriterBase &rewriter, Location loc, Value buffer,
                                  const BufferizationOptions &options) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamicSizes.push_back(memref::DimOp::create(rewriter, loc, buffer, d));
  auto contiguous = MemRefType::get(type.getShape(), type.getElementType(), MemRefLayoutAttrInterface{},
                                    type.getMemorySpace());
  FailureOr<Value> copy = options.createAlloc(rewriter, loc, contiguous, dynamicSizes);
  if (failed(copy) || failed(options.createMemCpy(rewriter, loc, buffer, *copy)))
    return failure();
  return copy;
}

/// A ukernel op reads its inputs and overwrites its init: the init's
/// contents are never read, so its buffer needs no copy of them.
template <typename OpTy>
struct UkernelBufferization
    : DstBufferizableOpInterfaceExternalModel<UkernelBufferization<OpTy>, OpTy> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand, const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(op);
    SmallVector<Value> buffers;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      if constexpr (std::is_same_v<OpTy, mlir::kiln::SoftmaxRowsOp> ||
                    std::is_same_v<OpTy, mlir::kiln::LayerNormRowsOp> ||
                    std::is_same_v<OpTy, mlir::kiln::AttentionOp>) {
        // The runtime reads rows of x and the addend (and the layer norm's
        // scale and bias) a vector at a time: a view that strides along
        // them (a stepped slice) is copied out first. (Attention's q, kt
        // and v are packed: any strides.)
        bool rowsRead = !std::is_same_v<OpTy, mlir::kiln::AttentionOp> ||
                        operand == cast<mlir::kiln::AttentionOp>(op).getAddend();
        if (rowsRead && !mlir::kiln::SoftmaxRowsOp::hasContiguousRows(buffer->getType())) {
          buffer = copyToContiguous(rewriter, op->getLoc(), *buffer, options);
          if (failed(buffer))
            return failure();
        }
      }
      buffers.push_back(*buffer);
    }
    // The same op on the buffers, without results.
    OperationState bufferized(op->getLoc(), op->getName());
    bufferized.addOperands(buffers);
    bufferized.propertiesAttr = op->getPropertiesAsAttribute();
    bufferized.addAttributes(llvm::to_vector(op->getDiscardableAttrs()));
    rewriter.create(bufferized);
    Value init = buffers[cast<DestinationStyleOpInterface>(op).getDpsInitOperand(0)
                             ->getOperandNumber()];
    replaceOpWithBufferizedValues(rewriter, op, init);
    return success();
  }
};

} // namespace

void mlir::kiln::registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, KilnDialect *) {
    QGemmOp::attachInterface<UkernelBufferization<QGemmOp>>(*context);
    SparseGemmOp::attachInterface<UkernelBufferization<SparseGemmOp>>(*context);
    SparseQGemmOp::attachInterface<UkernelBufferization<SparseQGemmOp>>(*context);
    SoftmaxRowsOp::attachInterface<UkernelBufferization<SoftmaxRowsOp>>(*context);
    LayerNormRowsOp::attachInterface<UkernelBufferization<LayerNormRowsOp>>(*context);
    AttentionOp::attachInterface<UkernelBufferization<AttentionOp>>(*context);
  });
}
