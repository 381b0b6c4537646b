//===- GraphChecks.h - ONNX checker rules the importer enforces -*- C++ -*-===//
#ifndef KILN_FRONTENDS_ONNX_GRAPHCHECKS_H
#define KILN_FRONTENDS_ONNX_GRAPHCHECKS_H

#include "NodeImporter.h"
#include "mlir/IR/Location.h"

#include "onnx/onnx_pb.h"

namespace mlir::kiln::onnx_import {

/// The name of node `index` of a graph: its own, or `<op type>_<index>`.
std::string nodeName(const onnx::NodeProto &node, size_t index);

/// The location of node `index` of a graph: its name, with the op type as
/// child for the profiler.
Location nodeLocation(MLIRContext *context, const onnx::NodeProto &node, size_t index);

/// Checks the graph's structure the way ONNX's checker does, before anything
/// is imported: graph inputs and initializers are named and unique (an input
/// may share its name with an initializer, its default value), every value
/// is produced once (static single assignment), and every node has an op
/// type, well-formed attributes, as many inputs and outputs as its op takes
/// at `opset` (for the ops Kiln knows; not checked with `checkArity` false)
/// and reads only values produced before it, and every graph output is
/// produced. Reports the first problem, at its node or at `fileLoc`.
LogicalResult checkGraphStructure(const onnx::GraphProto &graph, int64_t opset,
                                  Location fileLoc, bool checkArity = true);

} // namespace mlir::kiln::onnx_import

#endif // KILN_FRONTENDS_ONNX_GRAPHCHECKS_H
