//===- ProfileRegions.cpp - Mark where each ONNX node's code runs ---------===//
//
// The importer names every op after its ONNX node (a NameLoc whose child is
// a NameLoc of the op type), and the lowering keeps those locations. After
// bufferization this pass brackets each run of consecutive top-level ops of
// one node with kiln_rt_profile(ctx, region, 0 / 1), which the model ABI
// routes to the session's profiler (kiln_runtime_context::profile; a test
// and a return when the session does not profile). Ops of no node (weights,
// dims) neither open nor close a region. The regions are listed, in index
// order, in the module attribute kProfileRegionsAttr for the ABI table.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPROFILEREGIONS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr StringLiteral kProfileFunction = "kiln_rt_profile";

struct ProfileRegionsPass : mlir::kiln::impl::KilnProfileRegionsBase<ProfileRegionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder builder(&getContext());
    llvm::StringMap<int64_t> regionIndex;
    SmallVector<Attribute> regions;
    auto indexOf = [&](StringRef name, StringRef opType) {
      auto [it, inserted] = regionIndex.try_emplace(name, regions.size());
      if (inserted)
        regions.push_back(builder.getStrArrayAttr({name, opType}));
      return it->second;
    };

    for (auto func : module.getOps<func::FuncOp>()) {
      Value context = mlir::kiln::lowering::runtimeContextArgument(func);
      if (!context || func.getBody().getBlocks().size() != 1)
        continue;
      Block &body = func.getBody().front();
      // [first op, last op] of each run of one node, in order.
      struct Run {
        int64_t region;
        Operation *first, *last;
      };
      SmallVector<Run> runs;
      for (Operation &op : body.without_terminator()) {
        std::optional<std::pair<StringRef, StringRef>> node =
            mlir::kiln::lowering::onnxNodeOf(op.getLoc());
        if (!node)
          continue;
        int64_t region = indexOf(node->first, node->second);
        if (!runs.empty() && runs.back().region == region)
          runs.back().last = &op;
        else
          runs.push_back({region, &op, &op});
      }
      for (const Run &run : runs) {
        OpBuilder b(run.first);
        Location loc = run.first->getLoc();
        auto mark = [&](int64_t phase) {
          Value region = arith::ConstantIndexOp::create(b, loc, run.region);
          Value which = arith::ConstantIndexOp::create(b, loc, phase);
          func::CallOp::create(b, loc, kProfileFunction, TypeRange{},
                               ValueRange{context, region, which});
        };
        mark(0);
        b.setInsertionPointAfter(run.last);
        mark(1);
      }
    }
    if (regions.empty())
      return;
    module->setAttr(mlir::kiln::kProfileRegionsAttr, builder.getArrayAttr(regions));
    if (!module.lookupSymbol(kProfileFunction)) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      Type index = b.getIndexType();
      func::FuncOp::create(b, module.getLoc(), kProfileFunction,
                           b.getFunctionType({index, index, index}, {}))
          .setPrivate();
    }
  }
};
} // namespace
