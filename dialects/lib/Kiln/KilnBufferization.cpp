//===- KilnBufferization.cpp - How kiln ops bufferize ---------------------===//

#include "kiln/Dialect/Kiln/KilnBufferization.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

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
  });
}
