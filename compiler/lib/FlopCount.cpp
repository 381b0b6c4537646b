//===- FlopCount.cpp - Floating-point work of a kiln module, by op type ---===//

#include "kiln/Compiler/FlopCount.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The ONNX op type the importer recorded (NameLoc(node, NameLoc(op type))).
StringRef onnxOpType(Operation *op) {
  StringRef type;
  op->getLoc()->walk([&](Location loc) {
    auto name = dyn_cast<NameLoc>(loc);
    auto child = name ? dyn_cast<NameLoc>(name.getChildLoc()) : nullptr;
    if (!child)
      return WalkResult::advance();
    type = child.getName();
    return WalkResult::interrupt();
  });
  return type.empty() ? op->getName().stripDialect() : type;
}

/// Ops that move or select data, or compute shapes: no floating-point work.
bool movesData(Operation *op) {
  return isa<GatherOp, GatherNDOp, ReshapeOp, TransposeOp, SliceOp, ConcatOp, SplitOp, ExpandOp,
             TileOp, UnsqueezeOp, SqueezeOp, TriluOp, ShapeOp, ConstantOfShapeOp, RangeOp, CastOp,
             WhereOp>(op);
}

/// FLOPs of `op`, or none when a shape it needs is not static.
std::optional<int64_t> flops(Operation *op) {
  auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (movesData(op) || (result && !isa<FloatType>(result.getElementType())))
    return 0;
  if (!result || !result.hasStaticShape())
    return std::nullopt;
  int64_t elements = result.getNumElements();
  auto staticDim = [](Value v, int64_t fromEnd) -> std::optional<int64_t> {
    auto type = cast<RankedTensorType>(v.getType());
    int64_t d = type.getDimSize(type.getRank() - fromEnd);
    return ShapedType::isDynamic(d) ? std::nullopt : std::optional(d);
  };
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    auto k = staticDim(matmul.getLhs(), 1);
    return k ? std::optional(2 * elements * *k) : std::nullopt;
  }
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    auto k = staticDim(gemm.getA(), gemm.getTransA() ? 2 : 1);
    return k ? std::optional(2 * elements * *k + (gemm.getC() ? elements : 0)) : std::nullopt;
  }
  if (auto conv = dyn_cast<ConvOp>(op)) {
    auto weight = cast<RankedTensorType>(conv.getWeight().getType());
    if (!weight.hasStaticShape())
      return std::nullopt;
    return 2 * elements * (weight.getNumElements() / weight.getDimSize(0));
  }
  return elements;
}

} // namespace

void mlir::kiln::printFlopsByOpType(ModuleOp module, llvm::raw_ostream &os) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return;
  struct Entry {
    int64_t flops = 0, ops = 0, unknown = 0;
  };
  llvm::MapVector<StringRef, Entry> byType;
  int64_t total = 0, unknown = 0;
  main.walk([&](Operation *op) {
    if (!isa<KilnDialect>(op->getDialect()) || isa<ConstantOp>(op) || op->getNumResults() == 0)
      return;
    Entry &entry = byType[onnxOpType(op)];
    ++entry.ops;
    if (std::optional<int64_t> n = flops(op)) {
      entry.flops += *n;
      total += *n;
    } else {
      ++entry.unknown;
      ++unknown;
    }
  });
  llvm::sort(byType, [](auto &a, auto &b) { return a.second.flops > b.second.flops; });
  os << "flops: " << llvm::format("%.3f", total / 1e9) << " GFLOP";
  if (unknown)
    os << " (+ " << unknown << " ops with `?` dims not counted: give --input-shape)";
  os << "\n";
  for (auto &[type, entry] : byType) {
    os << "    " << llvm::format("%-22s", type.str().c_str())
       << llvm::format("%12.6f GFLOP %6.1f%%  %4lld ops", entry.flops / 1e9,
                       total ? 100.0 * entry.flops / total : 0.0, (long long)entry.ops);
    if (entry.unknown)
      os << " (" << entry.unknown << " not counted)";
    os << "\n";
  }
}
