//===- ModuleSummary.cpp - A human-readable digest of a kiln module -------===//

#include "kiln/Compiler/ModuleSummary.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace mlir::kiln;

static void printType(Type type, ArrayAttr dimNames, llvm::raw_ostream &os) {
  auto tensor = cast<RankedTensorType>(type);
  os << tensor.getElementType() << "[";
  for (int64_t i = 0; i < tensor.getRank(); ++i) {
    if (i)
      os << ", ";
    StringRef name;
    if (dimNames && i < (int64_t)dimNames.size())
      name = cast<StringAttr>(dimNames[i]).getValue();
    if (!tensor.isDynamicDim(i))
      os << tensor.getDimSize(i);
    else
      os << (name.empty() ? "?" : name);
  }
  os << "]";
}

void mlir::kiln::printModuleSummary(ModuleOp module, llvm::raw_ostream &os) {
  for (auto func : module.getOps<func::FuncOp>()) {
    os << "function @" << func.getName() << "\n  inputs:\n";
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto name = func.getArgAttrOfType<StringAttr>(i, "kiln.input_name");
      os << "    " << (name ? name.getValue() : "?") << ": ";
      printType(func.getArgumentTypes()[i],
                func.getArgAttrOfType<ArrayAttr>(i, "kiln.dim_names"), os);
      os << "\n";
    }
    os << "  outputs:\n";
    for (unsigned i = 0; i < func.getNumResults(); ++i) {
      auto name = func.getResultAttrOfType<StringAttr>(i, "kiln.output_name");
      os << "    " << (name ? name.getValue() : "?") << ": ";
      printType(func.getResultTypes()[i], nullptr, os);
      os << "\n";
    }
    llvm::MapVector<StringRef, int64_t> counts;
    int64_t constants = 0, weightElements = 0, weightBytes = 0;
    func.walk([&](Operation *op) {
      if (!isa<KilnDialect>(op->getDialect()))
        return;
      if (auto constant = dyn_cast<ConstantOp>(op)) {
        auto type = cast<ShapedType>(constant.getType());
        ++constants;
        weightElements += type.getNumElements();
        weightBytes += type.getNumElements() *
                       std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
        return;
      }
      ++counts[op->getName().stripDialect()];
    });
    int64_t total = 0;
    for (auto &entry : counts)
      total += entry.second;
    os << "  ops: " << total << " (+" << constants << " constants holding "
       << weightElements << " elements, " << llvm::format("%.2f", weightBytes / 1048576.0)
       << " MiB)\n";
    llvm::sort(counts, [](auto &a, auto &b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (auto &[name, count] : counts)
      os << "    " << llvm::format("%-18s", name.str().c_str()) << count << "\n";
  }
}
