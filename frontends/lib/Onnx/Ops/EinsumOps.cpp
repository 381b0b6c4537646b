//===- EinsumOps.cpp - ONNX Einsum as transposes, matmuls and sums --------===//
//
// An Einsum equation names every dim of its operands with a letter ("..."
// stands for the broadcast leading dims). Kiln evaluates it with its own
// ops, operand by operand from the left:
//  * a letter repeated within one operand ("ii") takes the diagonal: the
//    operand times an identity mask, summed over the second occurrence;
//  * letters no later operand or the output needs are summed away first;
//  * two operands contract as one batched matmul: shared letters the result
//    keeps are batch dims, shared letters it drops are the contraction,
//    the others are the rows and columns (each group flattened to one dim);
//  * the result is transposed into the output's order.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

namespace {
/// Letters are their char; the dims of "..." get labels from 256 up.
using Label = int;
using Labels = SmallVector<Label>;

/// A value and the label of each of its dims.
struct Term {
  Value value;
  Labels labels;
};
} // namespace

/// Parses one side of the equation term by term; "..." in operand i expands
/// to its last `ellipsisRank[i]` broadcast labels. Returns false on a
/// malformed term.
static bool parseTerm(StringRef text, int64_t ellipsisDims, int64_t maxEllipsis, Labels &labels,
                      bool &hasEllipsis) {
  hasEllipsis = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (std::isalpha((unsigned char)ch)) {
      labels.push_back((unsigned char)ch);
      continue;
    }
    if (!text.substr(i).starts_with("...") || hasEllipsis)
      return false;
    hasEllipsis = true;
    for (int64_t d = maxEllipsis - ellipsisDims; d < maxEllipsis; ++d)
      labels.push_back(256 + d);
    i += 2;
  }
  return true;
}

/// The letters of a term, "..." excluded.
static int64_t letterCount(StringRef term) {
  return llvm::count_if(term, [](char ch) { return std::isalpha((unsigned char)ch); });
}

static Value sumOver(Composer &c, Term &t, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> sorted(axes);
  llvm::sort(sorted);
  for (int64_t axis : llvm::reverse(sorted))
    t.labels.erase(t.labels.begin() + axis);
  return c.reduce<ReduceSumOp>(t.value, sorted, /*keepdims=*/false);
}

/// Replaces each label repeated within `t` by its diagonal.
static LogicalResult takeDiagonals(Composer &c, Term &t) {
  for (size_t p = 0; p < t.labels.size(); ++p) {
    for (size_t q = p + 1; q < t.labels.size(); ++q) {
      if (t.labels[p] != t.labels[q])
        continue;
      auto type = Composer::typeOf(t.value);
      int64_t n = type.getDimSize(p);
      if (n == ShapedType::kDynamic || type.getDimSize(q) != n) {
        c.node().emitError() << "a repeated subscript (a diagonal) needs equal static dims, got "
                             << type;
        return failure();
      }
      SmallVector<int64_t> shape(type.getRank(), 1);
      shape[p] = shape[q] = n;
      SmallVector<Attribute> eye;
      Type element = type.getElementType();
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j)
          eye.push_back(isa<FloatType>(element)
                            ? Attribute(FloatAttr::get(element, i == j ? 1.0 : 0.0))
                            : Attribute(IntegerAttr::get(element, i == j)));
      Value mask =
          ConstantOp::create(c.builder(), c.node().getLoc(),
                             DenseElementsAttr::get(RankedTensorType::get(shape, element), eye));
      t.value = c.mul(t.value, mask);
      t.value = sumOver(c, t, {(int64_t)q});
      --q;
    }
  }
  return success(t.value != nullptr);
}

/// `t` with its dims in the order `order` (a permutation of its labels).
static Value transposeTo(Composer &c, const Term &t, ArrayRef<Label> order) {
  SmallVector<int64_t> perm;
  for (Label l : order)
    perm.push_back(llvm::find(t.labels, l) - t.labels.begin());
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return t.value;
  return c.transpose(t.value, perm);
}

/// The dims [start, end) of `v` multiplied into one (as a 1-D shape entry).
static Value flattenedDim(Composer &c, Value v, int64_t start, int64_t end) {
  auto dims = Composer::typeOf(v).getShape().slice(start, end - start);
  if (dims.size() == 1)
    return c.shape(v, start, end);
  if (llvm::none_of(dims, ShapedType::isDynamic)) {
    int64_t product = 1;
    for (int64_t d : dims)
      product *= d;
    return c.ints({product});
  }
  return c.reduce<ReduceProdOp>(c.shape(v, start, end), {0}, /*keepdims=*/true);
}

/// Contracts `a` and `b`, keeping the labels in `keep`.
static Term contract(Composer &c, Term a, Term b, const llvm::SmallSetVector<Label, 8> &keep) {
  Labels batch, left, right, summed;
  for (Label l : a.labels) {
    bool inB = llvm::is_contained(b.labels, l);
    if (inB && keep.contains(l))
      batch.push_back(l);
    else if (inB)
      summed.push_back(l);
    else
      left.push_back(l);
  }
  for (Label l : b.labels)
    if (!llvm::is_contained(a.labels, l))
      right.push_back(l);
  int64_t nb = batch.size(), nl = left.size(), nr = right.size(), ns = summed.size();
  Labels aOrder(batch), bOrder(batch);
  aOrder.append(left.begin(), left.end());
  aOrder.append(summed.begin(), summed.end());
  bOrder.append(summed.begin(), summed.end());
  bOrder.append(right.begin(), right.end());
  Value at = transposeTo(c, a, aOrder), bt = transposeTo(c, b, bOrder);
  if (!at || !bt)
    return {};
  Labels labels(batch);
  labels.append(left.begin(), left.end());
  labels.append(right.begin(), right.end());
  if (ns == 0) {
    // Nothing to sum: a broadcast product of [batch, left, 1...] and
    // [batch, 1..., right] is cheaper than a matmul over dims of 1.
    SmallVector<int64_t> aOnes, bOnes;
    for (int64_t i = 0; i < nr; ++i)
      aOnes.push_back(nb + nl + i);
    for (int64_t i = 0; i < nl; ++i)
      bOnes.push_back(nb + i);
    Value ax = aOnes.empty() ? at : c.unsqueeze(at, aOnes);
    Value bx = bOnes.empty() ? bt : c.unsqueeze(bt, bOnes);
    return {c.mul(ax, bx), labels};
  }
  if (nl == 1 && ns == 1 && nr == 1)
    return {c.op<MatMulOp>({at, bt}), labels};
  // [batch..., rows, k] x [batch..., k, cols]; a group of no labels is a
  // dim of 1.
  Value aShape = c.concat({c.shape(at, 0, nb), flattenedDim(c, at, nb, nb + nl),
                           flattenedDim(c, at, nb + nl, nb + nl + ns)},
                          0);
  Value bShape = c.concat({c.shape(bt, 0, nb), flattenedDim(c, bt, nb, nb + ns),
                           flattenedDim(c, bt, nb + ns, nb + ns + nr)},
                          0);
  Value product = c.op<MatMulOp>({c.reshape(at, aShape), c.reshape(bt, bShape)});
  // The batch dims are the product's: a dim of 1 broadcasts in the matmul.
  Value shape = c.concat(
      {c.shape(product, 0, nb), c.shape(at, nb, nb + nl), c.shape(bt, nb + ns, nb + ns + nr)}, 0);
  return {c.reshape(product, shape), labels};
}

static LogicalResult importEinsum(NodeImporter &n) {
  std::string equation = n.stringAttr("equation", "");
  llvm::erase_if(equation, [](char ch) { return std::isspace((unsigned char)ch); });
  StringRef lhs = equation, rhs;
  bool explicitOutput = StringRef(equation).contains("->");
  if (explicitOutput)
    std::tie(lhs, rhs) = StringRef(equation).split("->");
  SmallVector<StringRef> inputTerms;
  lhs.split(inputTerms, ',');
  if (inputTerms.size() != n.numInputs()) {
    n.emitError() << "equation '" << equation << "' has " << inputTerms.size()
                  << " operand terms for " << n.numInputs() << " inputs";
    return failure();
  }
  Composer c(n);
  SmallVector<Term> terms;
  int64_t maxEllipsis = 0;
  for (auto [i, term] : llvm::enumerate(inputTerms)) {
    auto value = n.requiredInput(i);
    if (failed(value))
      return failure();
    int64_t extra = Composer::typeOf(*value).getRank() - letterCount(term);
    maxEllipsis = std::max(maxEllipsis, extra);
    terms.push_back({*value, {}});
  }
  for (auto [term, text] : llvm::zip(terms, inputTerms)) {
    int64_t extra = Composer::typeOf(term.value).getRank() - letterCount(text);
    bool hasEllipsis;
    if (!parseTerm(text, extra, maxEllipsis, term.labels, hasEllipsis) || extra < 0 ||
        (!hasEllipsis && extra != 0)) {
      n.emitError() << "equation term '" << text << "' does not match the input's rank "
                    << Composer::typeOf(term.value).getRank();
      return failure();
    }
  }
  // Uses count before diagonals: "ii" alone is a trace.
  llvm::DenseMap<Label, int> uses;
  for (const Term &t : terms)
    for (Label l : t.labels)
      ++uses[l];
  for (Term &term : terms)
    if (failed(takeDiagonals(c, term)))
      return failure();
  Labels output;
  if (explicitOutput) {
    bool hasEllipsis;
    if (!parseTerm(rhs, maxEllipsis, maxEllipsis, output, hasEllipsis)) {
      n.emitError() << "malformed output term '" << rhs << "'";
      return failure();
    }
  } else {
    // Implicit output: the broadcast dims, then the letters used once, in
    // alphabetical order.
    for (int64_t d = 0; d < maxEllipsis; ++d)
      if (uses.count(256 + d))
        output.push_back(256 + d);
    for (Label l = 'A'; l <= 'z'; ++l)
      if (uses.lookup(l) == 1)
        output.push_back(l);
  }
  for (Label l : output)
    if (llvm::none_of(terms, [&](const Term &t) { return llvm::is_contained(t.labels, l); }) ||
        llvm::count(output, l) != 1) {
      n.emitError() << "output term of '" << equation
                    << "' repeats a subscript or names one no operand has";
      return failure();
    }

  // Left to right: sum away what nothing later needs, contract pairwise.
  Term result = terms.front();
  for (size_t i = 0; i < terms.size(); ++i) {
    llvm::SmallSetVector<Label, 8> keep(output.begin(), output.end());
    for (size_t j = i + 1; j < terms.size(); ++j)
      keep.insert(terms[j].labels.begin(), terms[j].labels.end());
    Term &current = i == 0 ? result : terms[i];
    SmallVector<int64_t> unused;
    for (auto [axis, l] : llvm::enumerate(current.labels))
      if (!keep.contains(l) && (i == 0 || !llvm::is_contained(result.labels, l)))
        unused.push_back(axis);
    if (!unused.empty())
      current.value = sumOver(c, current, unused);
    if (i > 0)
      result = contract(c, result, terms[i], keep);
    if (!result.value)
      return failure();
  }
  return c.output(0, transposeTo(c, result, output));
}

void mlir::kiln::onnx_import::registerEinsumOps(llvm::StringMap<OpHandler> &t) {
  t["Einsum"] = importEinsum;
}
