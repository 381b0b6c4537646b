//===- AttentionOps.cpp - ONNX Attention and RotaryEmbedding (opset 23) ---===//
//
// Both are ONNX functions; Kiln builds them from its matmul, softmax and
// data-movement ops.
//
// Attention follows the opset-23 semantics as ONNX corrected them after
// 1.18 (and as onnxruntime and PyTorch compute them), which the backend
// test data of the pinned onnx 1.18 predates:
//  * 3-D inputs [B, S, heads * D] split into heads as [B, S, heads, D]
//    transposed to [B, heads, S, D] (onnx#7142; 1.18 reshaped straight to
//    [B, heads, S, D]);
//  * with fewer kv heads, query head h uses kv head h / (q_heads / kv_heads),
//    PyTorch's repeat_interleave (onnx#7274; 1.18 tiled the kv heads);
//  * is_causal aligns the diagonal after the past: the query at position i
//    sees keys j <= past_sequence_length + i (onnx#7297).
//
//===----------------------------------------------------------------------===//

#include "../OnnxTensors.h"
#include "Composer.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static constexpr int64_t kDynamic = ShapedType::kDynamic;

/// [B, S, heads * D] -> [B, heads, S, D]. D is spelt out when known, which
/// keeps it static where B or S are dynamic.
static Value splitHeads(Composer &c, Value x, int64_t heads) {
  int64_t hidden = Composer::typeOf(x).getDimSize(2);
  int64_t headSize = hidden == kDynamic ? -1 : hidden / heads;
  return c.transpose(c.reshape(x, {0, 0, heads, headSize}), {0, 2, 1, 3});
}

/// [B, heads, S, D] -> [B, S, heads * D].
static Value mergeHeads(Composer &c, Value x) {
  auto type = Composer::typeOf(x);
  int64_t heads = type.getDimSize(1), headSize = type.getDimSize(3);
  int64_t hidden = heads == kDynamic || headSize == kDynamic ? -1 : heads * headSize;
  return c.reshape(c.transpose(x, {0, 2, 1, 3}), {0, 0, hidden});
}

/// `x` [B, H, S, D] viewed as [B, groups, -1, D]: consecutive heads stacked
/// along the sequence dim (or the reverse view, with `groups` = H).
static Value regroupHeads(Composer &c, Value x, int64_t groups) {
  if (!x)
    return {};
  auto type = Composer::typeOf(x);
  int64_t heads = type.getDimSize(1), sequence = type.getDimSize(2);
  int64_t stacked = heads == kDynamic || sequence == kDynamic ? -1 : heads * sequence / groups;
  Value shape = c.concat({c.shape(x, 0, 1), c.ints({groups, stacked}), c.shape(x, 3, 4)}, 0);
  return c.reshape(x, shape);
}

/// The value of a float attribute the node may omit.
static std::optional<float> optionalFloatAttr(NodeImporter &n, StringRef name) {
  if (!n.attribute(name))
    return std::nullopt;
  return n.floatAttr(name, 0.0f);
}

/// The heads of Q (dim 1 of its 4-D form) and of K and V, checked against
/// q_num_heads/kv_num_heads; kDynamic when unknown.
struct HeadCounts {
  int64_t q, kv;
};

static FailureOr<HeadCounts> headCounts(NodeImporter &n, int64_t rank) {
  int64_t qAttr = n.intAttr("q_num_heads", 0), kvAttr = n.intAttr("kv_num_heads", 0);
  if (rank == 3) {
    if (qAttr < 1 || kvAttr < 1) {
      n.emitError() << "3-D inputs need q_num_heads and kv_num_heads (>= 1), got " << qAttr
                    << " and " << kvAttr;
      return failure();
    }
    auto divisible = [&](size_t i, int64_t heads) {
      int64_t hidden = n.inputType(i).getDimSize(2);
      return hidden == kDynamic || hidden % heads == 0;
    };
    if (!divisible(0, qAttr) || !divisible(1, kvAttr) || !divisible(2, kvAttr)) {
      n.emitError() << "the hidden sizes of Q, K and V must divide into q_num_heads (" << qAttr
                    << ") and kv_num_heads (" << kvAttr << ") heads";
      return failure();
    }
    return HeadCounts{qAttr, kvAttr};
  }
  HeadCounts heads{n.inputType(0).getDimSize(1), n.inputType(1).getDimSize(1)};
  if (heads.q == 0 || heads.kv == 0) {
    n.emitError() << "4-D Q and K need at least one head (dim 1), got " << n.inputType(0)
                  << " and " << n.inputType(1);
    return failure();
  }
  auto conflicts = [](int64_t attr, int64_t dim) {
    return attr > 0 && dim != kDynamic && attr != dim;
  };
  if (conflicts(qAttr, heads.q) || conflicts(kvAttr, heads.kv)) {
    n.emitError() << "q_num_heads/kv_num_heads differ from the heads of the 4-D inputs";
    return failure();
  }
  return heads;
}

static Value negativeInfinity(Composer &c, Type element) {
  return c.scalar(element, -std::numeric_limits<double>::infinity());
}

/// The bias a bool mask stands for: 0 where it holds, -inf elsewhere.
static Value boolToBias(Composer &c, Value allowed, Type element) {
  return c.where(allowed, c.scalar(element, 0.0), negativeInfinity(c, element));
}

/// attn_mask as an additive bias of `element` type over `total` keys. A mask
/// whose last dim is shorter than total_sequence_length (and not 1, which
/// broadcasts) is padded with -inf, i.e. the keys after it are masked out.
/// That needs both lengths at compile time; when one is dynamic the mask
/// broadcasts, and a run whose lengths differ fails in the add's check.
static FailureOr<Value> maskBias(Composer &c, Value mask, Type element, Value keys) {
  NodeImporter &n = c.node();
  auto maskType = Composer::typeOf(mask);
  if (maskType.getRank() < 1) {
    n.emitError() << "attn_mask must have rank >= 1";
    return failure();
  }
  bool isBool = maskType.getElementType().isInteger(1);
  if (!isBool && !isa<FloatType>(maskType.getElementType())) {
    n.emitError() << "attn_mask must be bool or float, got " << maskType;
    return failure();
  }
  Value bias = isBool ? boolToBias(c, mask, element) : c.cast(mask, element);
  int64_t rank = maskType.getRank(), maskLength = maskType.getDimSize(rank - 1);
  int64_t total = Composer::typeOf(keys).getDimSize(2);
  if (maskLength == kDynamic || total == kDynamic || maskLength == 1 || maskLength == total)
    return bias;
  if (maskLength > total) {
    n.emitError() << "attn_mask covers " << maskLength << " keys, more than the " << total
                  << " of past and present";
    return failure();
  }
  Value padShape = c.concat({c.shape(mask, 0, rank - 1), c.ints({total - maskLength})}, 0);
  Value padding = c.op<ConstantOfShapeOp>(
      {padShape},
      {c.named("value", FloatAttr::get(element, -std::numeric_limits<double>::infinity()))});
  return c.concat({bias, padding}, rank - 1);
}

/// The causal mask [Sq, total] as a bool tensor: query i sees key j when
/// j <= i + past, the number of past keys.
static Value causalAllowed(Composer &c, Value q, Value keys, Value pastKey) {
  Value dims = c.concat({c.shape(q, 2, 3), c.shape(keys, 2, 3)}, 0);
  Value ones = c.op<ConstantOfShapeOp>({dims}, {c.named("value", c.builder().getBoolAttr(true))});
  Value past = pastKey ? c.shape(pastKey, 2, 3) : c.ints({0});
  return c.op<TriluOp>({ones, past}, {c.named("upper", c.builder().getBoolAttr(false))});
}

static LogicalResult importAttention(NodeImporter &n) {
  auto qIn = n.requiredInput(0), kIn = n.requiredInput(1), vIn = n.requiredInput(2);
  if (failed(qIn) || failed(kIn) || failed(vIn))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  if ((rank != 3 && rank != 4) || n.inputType(1).getRank() != rank ||
      n.inputType(2).getRank() != rank) {
    n.emitError() << "Q, K and V must all be 3-D or all 4-D, got " << n.inputType(0) << ", "
                  << n.inputType(1) << " and " << n.inputType(2);
    return failure();
  }
  Type element = n.inputType(0).getElementType();
  if (!isa<FloatType>(element)) {
    n.emitError() << "Q must be a float tensor, got " << n.inputType(0);
    return failure();
  }
  Value pastKey = n.input(4), pastValue = n.input(5);
  if (!pastKey != !pastValue) {
    n.emitError() << "past_key and past_value must be given together";
    return failure();
  }
  int64_t mode = n.intAttr("qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3) {
    n.emitError() << "qk_matmul_output_mode must be 0, 1, 2 or 3, got " << mode;
    return failure();
  }
  Type softmaxType = element;
  if (n.attribute("softmax_precision")) {
    int64_t precision = n.intAttr("softmax_precision", 0);
    softmaxType = getElementType(n.getContext(), precision);
    if (!isa_and_nonnull<FloatType>(softmaxType)) {
      n.emitError() << "softmax_precision " << dataTypeName(precision) << " is not a float type";
      return failure();
    }
  }
  auto heads = headCounts(n, rank);
  if (failed(heads))
    return failure();
  // Grouped-query attention needs to know the group size; with unknown head
  // counts the matmuls broadcast (one kv head: multi-query attention) and
  // fail the run if the heads turn out not to match.
  int64_t groups = 1;
  if (heads->q != kDynamic && heads->kv != kDynamic && heads->q != heads->kv) {
    if (heads->q % heads->kv != 0) {
      n.emitError() << "q_num_heads (" << heads->q << ") must be a multiple of kv_num_heads ("
                    << heads->kv << ")";
      return failure();
    }
    groups = heads->q / heads->kv;
  }

  Composer c(n);
  Value q = *qIn, k = *kIn, v = *vIn;
  if (rank == 3) {
    q = splitHeads(c, q, heads->q);
    k = splitHeads(c, k, heads->kv);
    v = splitHeads(c, v, heads->kv);
  }
  if (pastKey) {
    k = c.concat({pastKey, k}, 2);
    v = c.concat({pastValue, v}, 2);
  }
  if (!q || !k || !v)
    return failure();
  n.setOutput(1, k);
  n.setOutput(2, v);

  // Q is scaled once (ONNX scales Q and K by sqrt(scale) each).
  Value scale;
  if (auto given = optionalFloatAttr(n, "scale")) {
    scale = c.scalar(element, *given);
  } else if (int64_t headSize = Composer::typeOf(q).getDimSize(3); headSize != kDynamic) {
    scale = c.scalar(element, 1.0 / std::sqrt((double)headSize));
  } else {
    Value size = c.cast(c.shape(q, 3, 4), element);
    scale = c.op<ReciprocalOp>({c.op<SqrtOp>({size})});
  }
  // For GQA the query heads of one group are stacked along the sequence so
  // that each group meets its kv head once, without copying K and V.
  Value qGrouped = groups > 1 ? regroupHeads(c, q, heads->kv) : q;
  Value scores = c.op<MatMulOp>({c.mul(qGrouped, scale), c.transpose(k, {0, 1, 3, 2})});
  if (groups > 1)
    scores = regroupHeads(c, scores, heads->q);
  if (!scores)
    return failure();

  Value biased = scores;
  Value allowed = n.intAttr("is_causal", 0) ? causalAllowed(c, q, k, pastKey) : Value();
  if (Value mask = n.input(3)) {
    auto bias = maskBias(c, mask, element, k);
    if (failed(bias))
      return failure();
    Value masked = allowed ? c.where(allowed, *bias, negativeInfinity(c, element)) : *bias;
    biased = c.add(scores, masked);
  } else if (allowed) {
    biased = c.add(scores, boolToBias(c, allowed, element));
  }
  Value capped = biased;
  if (float softcap = n.floatAttr("softcap", 0.0f); softcap > 0.0f) {
    Value cap = c.scalar(element, softcap);
    capped = c.mul(c.op<TanhOp>({c.div(biased, cap)}), cap);
  }
  Value probs = c.cast(c.softmax(c.cast(capped, softmaxType), 3), element);
  if (!probs)
    return failure();
  // A failed product (K and V of different lengths) has been reported; the
  // head helpers below need a value.
  Value y = c.op<MatMulOp>({groups > 1 ? regroupHeads(c, probs, heads->kv) : probs, v});
  if (!y)
    return failure();
  if (groups > 1)
    y = regroupHeads(c, y, heads->q);
  if (rank == 3)
    y = mergeHeads(c, y);
  if (n.isOutputUsed(3)) {
    Value stages[] = {scores, biased, capped, probs};
    if (failed(c.output(3, stages[mode])))
      return failure();
  }
  return c.output(0, y);
}

//===----------------------------------------------------------------------===//
// RotaryEmbedding
//===----------------------------------------------------------------------===//

/// RotaryEmbedding: x [B, S, heads * D] (with num_heads) or [B, heads, S, D];
/// the first rotary_embedding_dim (default D) features of each head are
/// rotated pairwise, pairs being the two halves or, interleaved, adjacent
/// features; cos/sin [.., rotary_dim / 2] are indexed by position_ids
/// [B, S] or, without them, given per [B, S].
static LogicalResult importRotaryEmbedding(NodeImporter &n) {
  auto xIn = n.requiredInput(0), cosIn = n.requiredInput(1), sinIn = n.requiredInput(2);
  if (failed(xIn) || failed(cosIn) || failed(sinIn))
    return failure();
  auto xType = n.inputType(0);
  int64_t rank = xType.getRank();
  if (rank != 3 && rank != 4) {
    n.emitError() << "input must be 3-D or 4-D, got " << xType;
    return failure();
  }
  int64_t numHeads = n.intAttr("num_heads", 0);
  if (rank == 3 && numHeads < 1) {
    n.emitError() << "a 3-D input needs num_heads (>= 1)";
    return failure();
  }
  Composer c(n);
  // Work on [B, S, heads, D] so that cos and sin [B, S, half] broadcast
  // after one unsqueeze.
  Value x = rank == 3 ? c.reshape(*xIn, {0, 0, numHeads, -1}) : c.transpose(*xIn, {0, 2, 1, 3});
  if (!x)
    return failure();
  int64_t headSize = Composer::typeOf(x).getDimSize(3);
  int64_t rotaryDim = n.intAttr("rotary_embedding_dim", 0);
  if (rotaryDim == 0) {
    if (headSize == kDynamic) {
      n.emitError() << "needs a static head size (or rotary_embedding_dim)";
      return failure();
    }
    rotaryDim = headSize;
  }
  if (rotaryDim < 0 || rotaryDim % 2 != 0 || (headSize != kDynamic && rotaryDim > headSize)) {
    n.emitError() << "rotary_embedding_dim " << rotaryDim
                  << " must be even and at most the head size " << headSize;
    return failure();
  }
  int64_t half = rotaryDim / 2;
  Value cosCache = *cosIn, sinCache = *sinIn;
  if (Value positions = n.input(3)) {
    NamedAttribute axis0 = c.named("axis", c.builder().getI64IntegerAttr(0));
    cosCache = c.op<GatherOp>({cosCache, positions}, {axis0});
    sinCache = c.op<GatherOp>({sinCache, positions}, {axis0});
  }
  if (!cosCache || !sinCache)
    return failure();
  if (Composer::typeOf(cosCache).getRank() != 3 || Composer::typeOf(sinCache).getRank() != 3) {
    n.emitError() << "cos_cache and sin_cache must give [batch, sequence, rotary_dim / 2] "
                     "values (2-D caches with position_ids, 3-D without)";
    return failure();
  }
  Value cosines = c.unsqueeze(c.slice(cosCache, {0}, {half}, {2}), {2});
  Value sines = c.unsqueeze(c.slice(sinCache, {0}, {half}, {2}), {2});

  bool partial = headSize == kDynamic || rotaryDim < headSize;
  Value rotated = partial ? c.slice(x, {0}, {rotaryDim}, {3}) : x;
  bool interleaved = n.intAttr("interleaved", 0) != 0;
  // Interleaved pairs (2i, 2i+1) are the two entries of a trailing dim of 2.
  Value pairs = interleaved ? c.reshape(rotated, {0, 0, 0, half, 2}) : rotated;
  int64_t pairAxis = interleaved ? 4 : 3, pairStride = interleaved ? 1 : half;
  Value x1 = c.slice(pairs, {0}, {pairStride}, {pairAxis});
  Value x2 = c.slice(pairs, {pairStride}, {2 * pairStride}, {pairAxis});
  if (interleaved) {
    x1 = c.squeeze(x1, {4});
    x2 = c.squeeze(x2, {4});
  }
  Value real = c.sub(c.mul(cosines, x1), c.mul(sines, x2));
  Value imag = c.add(c.mul(sines, x1), c.mul(cosines, x2));
  Value result = interleaved
                     ? c.reshape(c.concat({c.unsqueeze(real, {4}), c.unsqueeze(imag, {4})}, 4),
                                 {0, 0, 0, rotaryDim})
                     : c.concat({real, imag}, 3);
  if (partial)
    result = c.concat({result, c.slice(x, {rotaryDim}, {INT64_MAX}, {3})}, 3);
  Value output =
      rank == 3 ? c.reshape(result, c.shape(*xIn, 0, 3)) : c.transpose(result, {0, 2, 1, 3});
  return c.output(0, output);
}

void mlir::kiln::onnx_import::registerAttentionOps(llvm::StringMap<OpHandler> &t) {
  t["Attention"] = importAttention;
  t["RotaryEmbedding"] = importRotaryEmbedding;
}
