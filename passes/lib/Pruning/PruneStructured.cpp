//===- PruneStructured.cpp - Remove attention heads and FFN neurons -------===//
//
// `kiln compile --prune heads=F,ffn=F`: whole heads and FFN neurons go, so
// the GEMMs that remain are smaller and dense (no sparse kernel needed).
// The pass works on the kiln dialect before any fusion or lowering, where a
// Transformer block is still the ONNX graph's ops.
//
// A block is found by following the outputs of the Linear layers that read
// one value (Q, K and V; or an FFN's up-projection) through the ops after
// them, program order, tracking in each value which axis carries the
// features being pruned (`Layout`), until one Linear layer reads them back
// as its input (Wo; the down-projection). Every op on the way must keep
// units apart (elementwise with operands that do not vary along the unit
// axis, softmax over another axis, transposes, the split and merge
// reshapes, the batched products within a head); anything else leaves the
// block dense, with the reason in the report, rather than risk a wrong
// rewrite. The rewrite then gives every value in the block its new size:
// shape inference is not re-run, each result type is edited where its
// unit axis is static.
//
//===----------------------------------------------------------------------===//

#include "../Fusion/LinearLayers.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "llvm/ADT/StringSet.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <numeric>
#include <sstream>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPRUNESTRUCTURED
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::graph;

namespace {

/// Where a value in a block keeps its units. Flat: `axis` holds units x
/// unitSize features (a Linear's output). Split: `axis` holds the heads,
/// `dim` the head_dim. Heads: `axis` holds the heads, nothing the features
/// (attention scores).
struct Layout {
  enum Kind { Flat, Split, Heads } kind = Flat;
  int64_t axis = 0, dim = -1;

  bool operator==(const Layout &o) const {
    return kind == o.kind && axis == o.axis && dim == o.dim;
  }
  Layout shifted(int64_t by) const { return {kind, axis + by, dim < 0 ? dim : dim + by}; }
};

/// A reshape shape entry to rewrite: the reshape, the entry's index, and
/// what it holds per unit (head_dim for a merge, 1 for a split).
struct ShapeEntry {
  ReshapeOp reshape;
  int64_t index, perUnit;
};

/// A matched block: the layers whose output columns go, the layer whose
/// input rows go, the values in between with their layouts.
struct MatchedBlock {
  SmallVector<Linear> producers;
  std::optional<Linear> consumer;
  llvm::MapVector<Value, Layout> values;
  SmallVector<ShapeEntry> shapeEntries;
  int64_t features = 0; // the producers' N, the consumer's K
  int64_t unitSize = 1; // head_dim, or 1 for neurons
  bool attention = false;
  std::string node; // the consumer's ONNX node name

  int64_t units() const { return features / unitSize; }
};

/// The static value of entry `index` of a shape operand: a constant, or
/// one constant piece of a concat of 1-D pieces. nullopt when it is
/// computed at run time.
std::optional<int64_t> shapeEntry(Value shape, int64_t index) {
  if (auto concat = shape.getDefiningOp<ConcatOp>()) {
    for (Value piece : concat.getInputs()) {
      auto type = cast<RankedTensorType>(piece.getType());
      if (type.getRank() != 1 || type.isDynamicDim(0))
        return std::nullopt;
      if (index < type.getDimSize(0))
        return shapeEntry(piece, index);
      index -= type.getDimSize(0);
    }
    return std::nullopt;
  }
  auto constant = shape.getDefiningOp<ConstantOp>();
  auto values = constant ? dyn_cast<DenseIntElementsAttr>(constant.getValue()) : nullptr;
  if (!values || index >= values.getNumElements())
    return std::nullopt;
  return (*(values.value_begin<APInt>() + index)).getSExtValue();
}

/// `shape` with entry `index` (static, see shapeEntry) set to `value`:
/// new constants and concats, since shape constants are shared (CSE).
Value withShapeEntry(OpBuilder &b, Value shape, int64_t index, int64_t value) {
  Location loc = shape.getLoc();
  if (auto concat = shape.getDefiningOp<ConcatOp>()) {
    SmallVector<Value> pieces(concat.getInputs());
    for (Value &piece : pieces) {
      int64_t size = cast<RankedTensorType>(piece.getType()).getDimSize(0);
      if (index < size) {
        piece = withShapeEntry(b, piece, index, value);
        break;
      }
      index -= size;
    }
    return ConcatOp::create(b, loc, concat.getType(), pieces, concat.getAxis());
  }
  auto values = cast<DenseIntElementsAttr>(shape.getDefiningOp<ConstantOp>().getValue());
  SmallVector<APInt> entries(values.getValues<APInt>());
  entries[size_t(index)] = APInt(entries[size_t(index)].getBitWidth(), uint64_t(value), true);
  return ConstantOp::create(b, loc, DenseIntElementsAttr::get(values.getType(), entries));
}

bool isElementwise(Operation *op) {
  if (op->getNumResults() != 1)
    return false;
  if (isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp, WhereOp>(op))
    return true;
  return op->getNumOperands() == 1 && op->hasTrait<OpTrait::SameOperandsAndResultType>();
}

/// Finds the block that the Linear layers reading one value start, or says
/// why there is none.
class BlockMatcher {
public:
  explicit BlockMatcher(SmallVector<Linear> producers) { block.producers = std::move(producers); }

  FailureOr<MatchedBlock> match(std::string &why) {
    const Linear &first = block.producers.front();
    block.features = first.n;
    for (Linear &l : block.producers) {
      if (l.n != block.features)
        return fail(why, "its layers have different widths");
      block.values[l.output()] = {Layout::Flat, rankOf(l.output()) - 1, -1};
    }
    // Program order: an op's operands from the block are known when it is
    // reached.
    Operation *start = first.biasAdd ? first.biasAdd : first.matmul;
    for (Operation *op = start->getNextNode(); op; op = op->getNextNode()) {
      bool reads = llvm::any_of(op->getOperands(), [&](Value v) { return block.values.count(v); });
      if (!reads || isProducerPart(op))
        continue;
      if (failed(visit(op, why)))
        return failure();
      visited.insert(op);
    }
    if (!block.consumer)
      return fail(why, "no Linear layer reads its result back");
    // The walk sees the function's own ops; a reader inside a region (an
    // scf.if's branch, in IR written by hand) would keep the old sizes.
    for (auto &[value, layout] : block.values)
      for (Operation *user : value.getUsers())
        if (!visited.contains(user) && user != block.consumer->matmul.getOperation() &&
            !isProducerPart(user))
          return fail(why, Twine("'") + user->getName().getStringRef() +
                               "' reads the block inside a region");
    if (block.features % block.unitSize)
      return fail(why, "head_dim does not divide its width");
    block.node = nodeName(block.consumer->matmul);
    return std::move(block);
  }

private:
  static int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }
  static int64_t dimOf(Value v, int64_t axis) {
    return cast<RankedTensorType>(v.getType()).getDimSize(axis);
  }

  static FailureOr<MatchedBlock> fail(std::string &why, const Twine &reason) {
    why = reason.str();
    return failure();
  }

  bool isProducerPart(Operation *op) {
    return llvm::any_of(block.producers, [&](Linear &l) {
      return op == l.matmul.getOperation() || op == l.biasAdd.getOperation();
    });
  }

  LogicalResult failAt(std::string &why, Operation *op, const Twine &reason) {
    why = (Twine("'") + op->getName().getStringRef() + "' " + reason).str();
    return failure();
  }

  LogicalResult visit(Operation *op, std::string &why) {
    if (auto matmul = dyn_cast<MatMulOp>(op))
      return visitMatMul(matmul, why);
    if (auto reshape = dyn_cast<ReshapeOp>(op))
      return visitReshape(reshape, why);
    if (auto transpose = dyn_cast<TransposeOp>(op)) {
      Layout in = block.values.lookup(transpose.getInput());
      ArrayRef<int64_t> perm = transpose.getPerm();
      auto moved = [&](int64_t axis) {
        return axis < 0 ? axis : int64_t(llvm::find(perm, axis) - perm.begin());
      };
      block.values[transpose.getResult()] = {in.kind, moved(in.axis), moved(in.dim)};
      return success();
    }
    if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
      Layout in = block.values.lookup(softmax.getInput());
      if (int64_t(softmax.getAxis()) == in.axis || in.kind == Layout::Flat)
        return failAt(why, op, "normalizes across the units");
      block.values[softmax.getResult()] = in;
      return success();
    }
    if (isElementwise(op))
      return visitElementwise(op, why);
    return failAt(why, op, "reads the block (not a pattern structured pruning rewrites)");
  }

  LogicalResult visitElementwise(Operation *op, std::string &why) {
    Value result = op->getResult(0);
    int64_t rank = rankOf(result);
    std::optional<Layout> layout;
    for (Value operand : op->getOperands()) {
      int64_t shift = rank - rankOf(operand);
      auto it = block.values.find(operand);
      if (it == block.values.end())
        continue;
      Layout here = it->second.shifted(shift);
      if (layout && !(*layout == here))
        return failAt(why, op, "combines block values of different layouts");
      layout = here;
    }
    // Other operands must be the same for every unit: absent on the unit
    // axis, or 1 there. A `?` is 1 or a broadcast error at run time (the
    // lowering checks it), never silently a per-unit value.
    for (Value operand : op->getOperands()) {
      if (block.values.count(operand))
        continue;
      int64_t axis = layout->axis - (rank - rankOf(operand));
      if (axis >= 0 && dimOf(operand, axis) != 1 && !ShapedType::isDynamic(dimOf(operand, axis)))
        return failAt(why, op, "has an operand that varies across the units");
    }
    block.values[result] = *layout;
    return success();
  }

  LogicalResult visitReshape(ReshapeOp reshape, std::string &why) {
    Layout in = block.values.lookup(reshape.getInput());
    int64_t rank = rankOf(reshape.getInput()), outRank = rankOf(reshape.getResult());
    Value shape = reshape.getShape();
    // The rows (the dims before the features) must stay as they are: a
    // `?` is taken to (the exports' shapes copy the input's dims there).
    for (int64_t i = 0, rows = std::min(rank, outRank) - 1; i < rows; ++i) {
      int64_t a = dimOf(reshape.getInput(), i), b = dimOf(reshape.getResult(), i);
      if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
        return failAt(why, reshape, "moves rows as well as features");
    }
    if (in.kind == Layout::Flat && in.axis == rank - 1 && outRank == rank + 1) {
      // Split: [..., D] -> [..., heads, head_dim].
      std::optional<int64_t> heads = shapeEntry(shape, rank - 1), headDim = shapeEntry(shape, rank);
      if (!headDim || *headDim <= 0 || !heads ||
          (*heads != -1 && *heads * *headDim != block.features))
        return failAt(why, reshape, "splits the features other than into (heads, head_dim)");
      if (block.attention && block.unitSize != *headDim)
        return failAt(why, reshape, "splits into another head_dim than the block's others");
      block.attention = true;
      block.unitSize = *headDim;
      if (*heads != -1)
        block.shapeEntries.push_back({reshape, rank - 1, 1});
      block.values[reshape.getResult()] = {Layout::Split, rank - 1, rank};
      return success();
    }
    if (in.kind == Layout::Split && in.axis == rank - 2 && in.dim == rank - 1 &&
        outRank == rank - 1) {
      // Merge: [..., heads, head_dim] -> [..., D].
      std::optional<int64_t> features = shapeEntry(shape, rank - 2);
      if (!features || (*features != -1 && *features != block.features))
        return failAt(why, reshape, "merges the heads into another width");
      if (*features != -1)
        block.shapeEntries.push_back({reshape, rank - 2, block.unitSize});
      block.values[reshape.getResult()] = {Layout::Flat, rank - 2, -1};
      return success();
    }
    return failAt(why, reshape, "reshapes the block other than splitting or merging heads");
  }

  LogicalResult visitMatMul(MatMulOp matmul, std::string &why) {
    auto lhs = block.values.find(matmul.getLhs()), rhs = block.values.find(matmul.getRhs());
    int64_t rank = rankOf(matmul.getResult());
    if (rhs == block.values.end()) {
      std::optional<Linear> linear = linearOf(matmul);
      if (!linear || lhs->second.kind != Layout::Flat || lhs->second.axis != rank - 1 ||
          linear->k != block.features)
        return failAt(why, matmul, "reads the block but is not a Linear layer over its features");
      if (block.consumer)
        return failAt(why, matmul, "is a second Linear layer reading the block");
      block.consumer = std::move(linear);
      return success();
    }
    if (lhs == block.values.end() || rankOf(matmul.getLhs()) != rank ||
        rankOf(matmul.getRhs()) != rank)
      return failAt(why, matmul, "multiplies the block by a value from elsewhere");
    // The batched products of attention, head by head: the head axis a
    // batch axis of both; scores = Q K^T sums over head_dim, context = P V
    // keeps V's head_dim as its columns.
    Layout a = lhs->second, b = rhs->second;
    if (a.kind == Layout::Flat || b.kind == Layout::Flat || a.axis != b.axis || a.axis >= rank - 2)
      return failAt(why, matmul, "multiplies across heads");
    if (a.kind == Layout::Split && b.kind == Layout::Split && a.dim == rank - 1 &&
        b.dim == rank - 2)
      block.values[matmul.getResult()] = {Layout::Heads, a.axis, -1};
    else if (a.kind == Layout::Heads && b.kind == Layout::Split && b.dim == rank - 1)
      block.values[matmul.getResult()] = {Layout::Split, a.axis, rank - 1};
    else
      return failAt(why, matmul, "multiplies heads in a way attention does not");
    return success();
  }

  static std::string nodeName(Operation *op) {
    std::optional<std::pair<StringRef, StringRef>> node = lowering::onnxNodeOf(op->getLoc());
    return node ? node->first.str() : std::string();
  }

  MatchedBlock block;
  llvm::DenseSet<Operation *> visited;
};

/// Each block of `module`, and the groups that start none with the reason.
struct Blocks {
  std::vector<MatchedBlock> matched;
  std::vector<std::pair<Location, std::string>> unmatched;
  int64_t gemmLayers = 0; // Linear layers as Gemm, not considered
};

Blocks findBlocks(ModuleOp module) {
  Blocks blocks;
  module.walk([&](func::FuncOp function) {
    llvm::MapVector<Value, SmallVector<Linear>> readers;
    function.walk([&](MatMulOp matmul) {
      if (std::optional<Linear> linear = linearOf(matmul))
        readers[matmul.getLhs()].push_back(std::move(*linear));
    });
    // Linear layers as Gemm (GPT-2's Conv1D, behind reshapes to 2-D, and a
    // fused QKV split three ways) are not matched yet: said, not skipped.
    function.walk([&](GemmOp gemm) {
      if (gemm.getB().getDefiningOp<ConstantOp>())
        ++blocks.gemmLayers;
    });
    llvm::DenseSet<Operation *> consumers;
    for (auto &[input, layers] : readers) {
      // A block's down-projection starts no block of its own.
      if (llvm::all_of(layers, [&](Linear &l) { return consumers.contains(l.matmul); }))
        continue;
      Location loc = layers.front().matmul.getLoc();
      std::string why;
      FailureOr<MatchedBlock> block = BlockMatcher(layers).match(why);
      if (failed(block)) {
        blocks.unmatched.emplace_back(loc, why);
        continue;
      }
      consumers.insert(block->consumer->matmul);
      blocks.matched.push_back(std::move(*block));
    }
  });
  return blocks;
}

/// A constant of `shape` holding `data`, in place of the constant
/// `original`: a resource blob if that was one (weights), else a dense
/// attribute (small constants, as tests write them).
Value smallerConstant(OpBuilder &b, Location loc, Value original, ArrayRef<int64_t> shape,
                      ArrayRef<float> data, StringRef name) {
  auto constant = original.getDefiningOp<ConstantOp>();
  if (constant && isa<DenseResourceElementsAttr>(constant.getValue()))
    return floatConstant(b, loc, shape, data, name);
  return ConstantOp::create(
      b, loc, DenseElementsAttr::get(RankedTensorType::get(shape, b.getF32Type()), data));
}

/// "0-3,5,7-9".
std::string rangesOf(ArrayRef<int64_t> units) {
  std::string text;
  for (size_t i = 0; i < units.size();) {
    size_t j = i;
    while (j + 1 < units.size() && units[j + 1] == units[j] + 1)
      ++j;
    text += (text.empty() ? "" : ",") + std::to_string(units[i]);
    if (j > i)
      text += "-" + std::to_string(units[j]);
    i = j + 1;
  }
  return text;
}

struct PruneStructuredPass : mlir::kiln::impl::KilnPruneStructuredBase<PruneStructuredPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto [name, value] : {std::pair{"heads", double(heads)}, {"ffn", double(ffn)}})
      if (!(value >= 0 && value < 1)) {
        std::ostringstream text; // as given: -0.5, not -5.000000e-01
        text << value;
        module.emitError() << "kiln-prune-structured: " << name << " must be in [0, 1), not "
                           << text.str();
        return signalPassFailure();
      }
    DictionaryAttr magnitudes = module->getContext()
                                    ->getOrLoadDialect<KilnDialect>()
                                    ->getLayerInputMagnitudeAttrHelper()
                                    .getAttr(module);
    Blocks blocks = findBlocks(module);
    llvm::StringSet<> excluded;
    for (const std::string &name : exclude)
      excluded.insert(name);
    int64_t removed = 0, total = 0, pruned = 0;
    for (MatchedBlock &block : blocks.matched) {
      if (isExcluded(block, excluded)) {
        total += block.units();
        if (report)
          emitRemark(block.consumer->matmul.getLoc())
              << llvm::formatv("{0} block kept whole: --prune-exclude names one of its layers",
                               block.attention ? "attention" : "FFN")
                     .str();
        continue;
      }
      double fraction = block.attention ? double(heads) : double(ffn);
      FailureOr<SmallVector<double>> importance = importanceOf(block, magnitudes);
      if (failed(importance))
        return signalPassFailure();
      SmallVector<int64_t> kept = keptUnits(*importance, fraction);
      total += block.units();
      if (int64_t(kept.size()) < block.units()) {
        removed += block.units() - int64_t(kept.size());
        ++pruned;
        rewrite(block, kept);
      }
      if (report)
        emitRemark(block.consumer->matmul.getLoc())
            << llvm::formatv("{0} block, kept {1} of {2} {3} ({4}): {5}",
                             block.attention ? "attention" : "FFN", kept.size(), block.units(),
                             block.attention ? "heads" : "neurons",
                             magnitudes ? "calibration importance" : "weight-magnitude importance",
                             rangesOf(kept))
                   .str();
    }
    if (report) {
      for (auto &[loc, why] : blocks.unmatched)
        emitRemark(loc) << "left dense: the Linear layers reading this input start no block "
                           "structured pruning matches: "
                        << why;
      emitRemark(module.getLoc())
          << llvm::formatv("structured pruning: {0} of {1} blocks pruned, {2} of {3} units "
                           "removed ({4} importance)",
                           pruned, blocks.matched.size(), removed, total,
                           magnitudes ? "calibration" : "weight-magnitude")
                 .str()
          << (blocks.gemmLayers
                  ? llvm::formatv("; {0} Gemm layers not considered (blocks are matched from "
                                  "MatMul Linear layers only)",
                                  blocks.gemmLayers)
                        .str()
                  : std::string());
    }
  }

  /// Whether `excluded` names one of the block's Linear layers.
  static bool isExcluded(MatchedBlock &block, const llvm::StringSet<> &excluded) {
    if (excluded.empty())
      return false;
    auto named = [&](Linear &layer) {
      return lowering::namesAnyNodeOf(layer.matmul.getLoc(), excluded);
    };
    return named(*block.consumer) || llvm::any_of(block.producers, named);
  }

  /// Per unit: the sum over its features j of s_j * ||W[j, :]||2, W the
  /// consumer's weight, s_j from the calibration magnitudes or 1.
  FailureOr<SmallVector<double>> importanceOf(MatchedBlock &block, DictionaryAttr magnitudes) {
    Linear &w = *block.consumer;
    std::vector<double> scale(size_t(w.k), 1.0);
    if (magnitudes) {
      auto entry = magnitudes.getAs<DenseFPElementsAttr>(block.node);
      if (!entry || entry.getNumElements() != w.k) {
        emitError(w.matmul.getLoc()) << "kiln-prune-structured: kiln.layer_input_magnitude has no "
                                     << w.k << " values for node '" << block.node << "'";
        return failure();
      }
      llvm::transform(entry.getValues<float>(), scale.begin(), [](float x) { return double(x); });
    }
    SmallVector<double> importance(size_t(block.units()), 0.0);
    for (int64_t j = 0; j < w.k; ++j) {
      double sum = 0;
      for (int64_t c = 0; c < w.n; ++c) {
        double x = w.weight[size_t(j * w.n + c)];
        sum += x * x;
      }
      importance[size_t(j / block.unitSize)] += scale[size_t(j)] * std::sqrt(sum);
    }
    return importance;
  }

  /// The units that stay, ascending: all but the round(fraction x units)
  /// least important (the lower index first among equals), one at least.
  static SmallVector<int64_t> keptUnits(ArrayRef<double> importance, double fraction) {
    int64_t units = int64_t(importance.size());
    int64_t drop = std::min(units - 1, int64_t(std::floor(fraction * double(units) + 0.5)));
    SmallVector<int64_t> order(static_cast<size_t>(units), 0);
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order, [&](int64_t a, int64_t b) { return importance[a] < importance[b]; });
    SmallVector<int64_t> kept(order.begin() + drop, order.end());
    llvm::sort(kept);
    return kept;
  }

  void rewrite(MatchedBlock &block, ArrayRef<int64_t> kept) {
    // The old weights, biases and shapes, erased below once nothing reads
    // them (a constant may be shared: CSE merges equal ones).
    SmallVector<Value> replaced;
    for (Linear &l : block.producers) {
      replaced.push_back(l.matmul.getRhs());
      if (l.biasAdd)
        replaced.append({l.biasAdd.getLhs(), l.biasAdd.getRhs()});
    }
    replaced.push_back(block.consumer->matmul.getRhs());
    for (ShapeEntry &entry : block.shapeEntries)
      replaced.push_back(entry.reshape.getShape());
    replaceUnits(block, kept);
    eraseUnused(replaced);
  }

  /// Erases those of `values`' producers that are constants (or concats of
  /// constants) nothing reads any more, and then such producers of theirs.
  /// A producer may appear more than once (CSE merges equal constants, and
  /// a concat's operand may be in `values` too): each is erased once, when
  /// its last reader has gone.
  static void eraseUnused(ArrayRef<Value> values) {
    auto erasable = [](Value v) -> Operation * {
      Operation *op = v.getDefiningOp();
      return op && isa<ConstantOp, ConcatOp>(op) ? op : nullptr;
    };
    SetVector<Operation *> candidates;
    for (Value value : values)
      if (Operation *op = erasable(value))
        candidates.insert(op);
    for (bool erased = true; erased;) {
      erased = false;
      for (Operation *op : candidates.takeVector()) {
        if (!op->use_empty()) {
          candidates.insert(op);
          continue;
        }
        for (Value operand : op->getOperands())
          if (Operation *producer = erasable(operand))
            candidates.insert(producer);
        candidates.remove(op); // inserted again as a producer of an earlier one
        op->erase();
        erased = true;
      }
    }
  }

  void replaceUnits(MatchedBlock &block, ArrayRef<int64_t> kept) {
    const int64_t g = block.unitSize, width = int64_t(kept.size()) * g;
    SmallVector<int64_t> features;
    for (int64_t unit : kept)
      for (int64_t j = 0; j < g; ++j)
        features.push_back(unit * g + j);
    for (Linear &l : block.producers) {
      OpBuilder b(l.matmul);
      std::vector<float> weight, bias;
      weight.reserve(size_t(l.k * width));
      for (int64_t p = 0; p < l.k; ++p)
        for (int64_t j : features)
          weight.push_back(l.weight[size_t(p * l.n + j)]);
      l.matmul.getRhsMutable().assign(smallerConstant(b, l.matmul.getLoc(), l.matmul.getRhs(),
                                                      {l.k, width}, weight, "pruned_columns"));
      resize(l.matmul.getResult(), {Layout::Flat, rankOf(l.matmul.getResult()) - 1, -1}, width);
      if (l.biasAdd) {
        for (int64_t j : features)
          bias.push_back(l.bias[size_t(j)]);
        Value old =
            l.biasAdd.getLhs() == l.matmul.getResult() ? l.biasAdd.getRhs() : l.biasAdd.getLhs();
        Value smaller = smallerConstant(b, l.biasAdd.getLoc(), old, {width}, bias, "pruned_bias");
        l.biasAdd->replaceUsesOfWith(old, smaller);
        resize(l.biasAdd.getResult(), {Layout::Flat, rankOf(l.biasAdd.getResult()) - 1, -1}, width);
      }
    }
    for (auto &[value, layout] : block.values)
      resize(value, layout, layout.kind == Layout::Flat ? width : int64_t(kept.size()));
    for (ShapeEntry &entry : block.shapeEntries) {
      OpBuilder b(entry.reshape);
      entry.reshape.getShapeMutable().assign(withShapeEntry(
          b, entry.reshape.getShape(), entry.index, int64_t(kept.size()) * entry.perUnit));
    }
    Linear &w = *block.consumer;
    std::vector<float> rows;
    rows.reserve(size_t(width * w.n));
    for (int64_t j : features)
      rows.insert(rows.end(), w.weight.begin() + j * w.n, w.weight.begin() + (j + 1) * w.n);
    OpBuilder b(w.matmul);
    w.matmul.getRhsMutable().assign(smallerConstant(b, w.matmul.getLoc(), w.matmul.getRhs(),
                                                    {width, w.n}, rows, "pruned_rows"));
  }

  static int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }

  /// Sets the unit axis of `value`'s type to `size` where it is static.
  static void resize(Value value, const Layout &layout, int64_t size) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.isDynamicDim(layout.axis))
      return;
    SmallVector<int64_t> shape(type.getShape());
    shape[size_t(layout.axis)] = size;
    value.setType(type.clone(shape));
  }
};

} // namespace

std::vector<StructuredBlock> mlir::kiln::structuredBlocks(ModuleOp module) {
  std::vector<StructuredBlock> result;
  for (MatchedBlock &block : findBlocks(module).matched)
    result.push_back({block.node, block.attention, block.units(), block.unitSize, block.features});
  return result;
}
