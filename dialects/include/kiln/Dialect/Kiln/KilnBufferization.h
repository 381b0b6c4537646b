//===- KilnBufferization.h - How kiln ops bufferize -------------*- C++ -*-===//
//
// The ukernel ops (kiln.qgemm) are in destination-passing style; one-shot
// bufferization turns them into their memref form. Registered as external
// models so that the dialect's header stays free of bufferization headers.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_DIALECT_KILN_KILNBUFFERIZATION_H
#define KILN_DIALECT_KILN_KILNBUFFERIZATION_H

namespace mlir {
class DialectRegistry;
namespace kiln {
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace kiln
} // namespace mlir

#endif // KILN_DIALECT_KILN_KILNBUFFERIZATION_H
