//===- GpuAttentionKernels.cpp - kiln.attention as one tensor-core kernel -===//
//
// Unfused, attention on the GPU is a batched GEMM writing every head's
// scores (Sq x Sk per head) to memory, a softmax kernel reading and writing
// them, a second batched GEMM reading them again, and with cuBLASLt
// contiguous copies of Q, K and V first (their two batch strides do not
// fold into one). Here kiln.attention becomes one kernel in the manner of
// FlashAttention: each warp owns 16 rows of one head's queries, keeps its
// scores in registers, 32 keys at a time, and carries the softmax's running
// max and sum across those steps (the online softmax), rescaling its output
// accumulator when the max grows. A step's 32 keys of K and V are copied
// into shared memory by the whole block first (neighbouring threads on
// neighbouring addresses of the source, 16 bytes a thread where the rows
// allow it), between two barriers: the four warps load their fragments
// from there with ldmatrix (four 8x8 matrices a load, V's transposed),
// instead of each lane gathering them from 8 rows of global memory. Both
// products run on the tensor cores
// (mma.sync m16n8k16, 16-bit inputs, fp32 sums); the probabilities are
// rounded to that 16-bit type for the second product, as they would be
// when stored between kernels. Q, K and V are read in place through the
// op's perms (views of the projections' output); the output goes where
// init has it (heads merged with transposed_output).
//
// Fragments follow the PTX ISA's layout for m16n8k16: lane = 4 * group +
// index, A's registers hold rows group and group + 8, columns 2 * index
// (+1) and + 8; B's rows 2 * index (+1) and + 8, column group; C's rows
// group and group + 8, columns 2 * index (+1). An accumulator of two
// adjacent 8-key tiles is, register for register, the A fragment of the
// 16 keys they cover, so the probabilities never leave registers.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "../Lowering/RuntimeCalls.h"
#include "AddendBroadcast.h"
#include "AttentionKernelShapes.h"
#include "HalfStorage.h"
#include "TensorCoreBuilder.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUATTENTIONKERNELS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::gpu_tensor_cores;

namespace {

constexpr int64_t kWarpsPerBlock = 4;
constexpr int64_t kRowsPerWarp = 16; // an mma's M
constexpr int64_t kKeysPerStep = 32; // four 8-key tiles, two 16-key chunks
constexpr int64_t kMmaK = 16, kMmaN = 8;
constexpr int64_t kThreads = kWarpsPerBlock * kWarpLanes;
// Shared memory rows are padded by 8 values (16 bytes): the 8 rows of an
// ldmatrix matrix then start 4 banks apart and read 32 different banks.
constexpr int64_t kRowPad = 8;
// Global to shared copies move 8 values (16 bytes) a thread where they can.
constexpr int64_t kVectorWidth = 8;
// The static shared memory a block may have (more needs the launch to opt in).
constexpr int64_t kSharedMemoryBytes = 48 * 1024;

/// The shared memory bytes of one stage: a step's K and V rows, padded.
int64_t tileBytes(int64_t d, int64_t dv) {
  return kKeysPerStep * (d + kRowPad + dv + kRowPad) * 2;
}

/// Whether `o`'s logical dim `columns` has a smaller stride in its buffer
/// than its dim `keys`: a step's tile is then read with neighbouring
/// threads on neighbouring columns, else on neighbouring keys (coalesced
/// either way).
bool columnsContiguous(const Operand &o, int64_t columns, int64_t keys) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(cast<MemRefType>(o.buffer.getType()).getStridesAndOffset(strides, offset)))
    return true;
  int64_t columnStride = strides[o.perm[columns]], keyStride = strides[o.perm[keys]];
  if (ShapedType::isDynamic(columnStride) || ShapedType::isDynamic(keyStride))
    return columnStride == 1 || keyStride != 1; // a unit stride is the smaller
  return columnStride <= keyStride;
}

/// Whether stride `d` of `type`, symbolic, is a multiple of `factor` all
/// the same: in an identity layout it is the product of the sizes inside
/// it, a multiple of that of the static ones.
bool strideMultipleOf(MemRefType type, int64_t d, int64_t factor) {
  if (!type.getLayout().isIdentity())
    return false;
  int64_t product = 1;
  for (int64_t inner = d + 1; inner < type.getRank(); ++inner)
    if (!type.isDynamicDim(inner))
      product = (product * type.getDimSize(inner)) % factor;
  return product % factor == 0;
}

/// Whether a step's tile of `o` (logical dim `columns` along a row of
/// shared memory, `width` of them) can be copied 16 bytes a thread: `o` is
/// in the tensor cores' type, its columns are its buffer's innermost dim
/// with unit stride, and every other stride and its offset are multiples
/// of 8 values, so that each copy's source is 16-byte aligned whenever the
/// buffer's base is (checked when the kernel runs: the runtime's buffers
/// are, a caller's device pointer need not be). Symbolic strides or offset
/// that no type proves such multiples go to `runTimeStrides` and
/// `runTimeOffset`, checked when the kernel runs too (layoutAligned).
bool vectorCopyable(const Operand &o, int64_t columns, int64_t width, FloatType mmaType,
                    SmallVectorImpl<int64_t> &runTimeStrides, bool &runTimeOffset) {
  auto type = cast<MemRefType>(o.buffer.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (type.getElementType() != mmaType || width % kVectorWidth != 0 ||
      failed(type.getStridesAndOffset(strides, offset)))
    return false;
  runTimeOffset = ShapedType::isDynamic(offset);
  if (!runTimeOffset && offset % kVectorWidth != 0)
    return false;
  int64_t innermost = type.getRank() - 1;
  if (o.perm[columns] != innermost || strides[innermost] != 1)
    return false;
  for (int64_t d = 0; d < innermost; ++d) {
    if (type.getDimSize(d) == 1)
      continue;
    if (!ShapedType::isDynamic(strides[d])) {
      if (strides[d] % kVectorWidth != 0)
        return false;
    } else if (!strideMultipleOf(type, d, kVectorWidth)) {
      runTimeStrides.push_back(d);
    }
  }
  return true;
}

/// On the host: whether `buffer`'s strides `dims` and, if `offset`, its
/// offset are multiples of 8 values (an i1), or null where nothing is
/// left to check.
Value layoutAligned(OpBuilder &b, Location loc, Value buffer, ArrayRef<int64_t> dims,
                    bool offset) {
  if (dims.empty() && !offset)
    return Value();
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0),
        width = arith::ConstantIndexOp::create(b, loc, kVectorWidth), all;
  auto require = [&](Value size) {
    Value rest = arith::RemUIOp::create(b, loc, size, width);
    Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rest, zero);
    all = all ? arith::AndIOp::create(b, loc, all, ok).getResult() : ok;
  };
  if (offset)
    require(metadata.getOffset());
  for (int64_t d : dims)
    require(metadata.getStrides()[d]);
  return all;
}

/// The reason the GPU kernel cannot run `op`, or "".
std::string unsupported(AttentionOp op, FloatType mmaType) {
  for (Value v : {op.getQ(), op.getKt(), op.getV(), op.getInit()}) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type)
      return "it runs after bufferization; this op is on tensors";
    Type element = type.getElementType();
    if (!element.isF32() && element != mmaType)
      return "its operands must be f32 or the tensor cores' type";
  }
  if (op.getBf16Inputs())
    return "bf16_inputs is the CPU's form";
  Operand q = operandOf(op.getQ(), op.getQPerm()), kt = operandOf(op.getKt(), op.getKtPerm()),
          v = operandOf(op.getV(), op.getVPerm());
  return gpu_attention::headSizeProblem(q.dim(3), v.dim(3), kt.dim(3));
}

/// A count the kernel runs over (batch entries, heads, queries, keys):
/// known when compiling, or read by the host (a memref.dim) and passed in.
struct Size {
  std::optional<int64_t> fixed;
  Value host;
  Value in(KernelBuilder &k) const { return fixed ? k.index(*fixed) : host; }
  Value onHost(OpBuilder &b, Location loc) const {
    return fixed ? arith::ConstantIndexOp::create(b, loc, *fixed) : host;
  }
  OpFoldResult folded(Builder &b) const {
    return fixed ? OpFoldResult(b.getIndexAttr(*fixed)) : OpFoldResult(host);
  }
  bool is(int64_t value) const { return fixed && *fixed == value; }
};

/// The kernel of one kiln.attention op: a block of four warps per 64 query
/// rows of a head. build() makes the launch and finds the block's rows,
/// loads Q's fragments, steps through the keys 32 at a time (the step's K
/// and V into shared memory, the scores, the online softmax, the product
/// with V) and stores the output.
class AttentionKernel {
public:
  AttentionKernel(AttentionOp op, FloatType mmaType)
      : op(op), mmaType(mmaType), loc(op.getLoc()), q(operandOf(op.getQ(), op.getQPerm())),
        kt(operandOf(op.getKt(), op.getKtPerm())), v(operandOf(op.getV(), op.getVPerm())) {}

  void build();

private:
  // How `fill` copies a step's tile: 16 bytes a thread, synchronous or
  // started by cp.async (.cg: through L2 only; landed at the wait for its
  // group), or one value a thread with neighbouring threads on
  // neighbouring columns or keys (the faster-moving in the source).
  enum class Copy { Vectors, AsyncVectors, ColumnsFastest, KeysFastest };

  /// The logical indices of element (key, column) of a step's tile of `o`
  /// (K^T: (column, key) of its logical dims; V: (key, column)).
  SmallVector<Value, 4> at(const Operand &o, Value key, Value column) const {
    if (&o == &kt)
      return {image, head, column, key};
    return {image, head, key, column};
  }
  void fill(KernelBuilder &s, Value tile, Value stage, const Operand &o, int64_t width, Copy copy,
            Value firstKey);
  void fillEither(KernelBuilder &s, Value tile, const Operand &o, int64_t width, Copy form,
                  Value aligned, Value firstKey);
  void issue(KernelBuilder &s, Value stage, Value firstKey);
  Copy copyForm(KernelBuilder &k, const Operand &o, bool vectors, Value layout, int64_t columns,
                int64_t keys, Value &aligned);
  Value stepCopies(KernelBuilder &s, Value firstKey);
  SmallVector<SmallVector<Value, 4>> stepScores(KernelBuilder &s, Value stage, Value firstKey,
                                                Value &minusInfinity);
  SmallVector<Value> stepSoftmaxAndProduct(KernelBuilder &s,
                                           SmallVector<SmallVector<Value, 4>> scores,
                                           ValueRange state, Value stage, Value minusInfinity);
  void storeOutput(KernelBuilder &k, scf::ForOp loop);
  Size sizeOf(OpBuilder &host, Value buffer, int64_t dim) const;
  Value runTimeChecks(OpBuilder &host, ArrayRef<Size> scoreSizes);

  static constexpr float kLowest = -std::numeric_limits<float>::infinity();
  static constexpr int64_t kKeyTiles = kKeysPerStep / kMmaN;

  AttentionOp op;
  FloatType mmaType;
  Location loc;
  Operand q, kt, v;
  int64_t d = 0, dv = 0, stages = 1, outputTiles = 0;
  // The queries and keys, their last indices, and (symbolic keys only) the
  // host's i1 for "no keys" (the output is then zeros).
  Size sq, sk, lastQuery, lastKey;
  Value noKeys;
  // The host's i1 per addend dim that is symbolic: 1 at run time (broadcast).
  SmallVector<Value, 4> addendIsOne;
  SmallVector<int64_t, 4> outputDims;
  // In the launch: the shared tiles, the thread and its lane, the block's
  // batch entry (`image`) and head, the lane's two query rows (`loadRows`
  // clamped to the last, for loads), 2 * its index in its group.
  Value kTile, vTile, thread, lane, image, head, twoIndex, rows[2], loadRows[2];
  SmallVector<SmallVector<Value, 4>> qFragments;
  // K's and V's copy forms, whether their bases are 16-byte aligned (where
  // their layout allows 16-byte copies), and whether both are (two stages).
  Copy kCopy = Copy::ColumnsFastest, vCopy = Copy::ColumnsFastest;
  Value kAligned, vAligned, pipelined;
};

/// Fills `tile`'s `stage` with the step's keys (from `firstKey`, the last
/// repeated past the end: their probabilities are 0) of `width` columns of
/// `o`, in the form `copy`.
void AttentionKernel::fill(KernelBuilder &s, Value tile, Value stage, const Operand &o,
                           int64_t width, Copy copy, Value firstKey) {
  const bool vectors = copy == Copy::Vectors || copy == Copy::AsyncVectors;
  const int64_t perCopy = vectors ? kVectorWidth : 1;
  const int64_t copies = kKeysPerStep * width / perCopy, rowCopies = width / perCopy;
  scf::ForOp::create(
      s.b, loc, s.index(0), s.index((copies + kThreads - 1) / kThreads), s.index(1),
      ValueRange(), [&](OpBuilder &nested, Location, Value j, ValueRange) {
        KernelBuilder f{nested, loc, mmaType};
        Value i = f.add(thread, arith::MulIOp::create(nested, loc, j, f.index(kThreads)));
        if (copies % kThreads != 0) {
          Value inRange = arith::CmpIOp::create(nested, loc, arith::CmpIPredicate::ult, i,
                                                f.index(copies));
          auto guard = scf::IfOp::create(nested, loc, inRange, /*withElseRegion=*/false);
          f.b.setInsertionPoint(guard.thenBlock()->getTerminator());
        }
        bool keysFastest = copy == Copy::KeysFastest;
        Value key = keysFastest ? f.rem(i, kKeysPerStep) : f.div(i, rowCopies);
        Value column = keysFastest ? f.div(i, kKeysPerStep) : f.mul(f.rem(i, rowCopies), perCopy);
        Value source = f.min(f.add(firstKey, key), lastKey.in(f));
        SmallVector<Value, 4> logical = at(o, source, column);
        if (copy == Copy::AsyncVectors) {
          nvgpu::DeviceAsyncCopyOp::create(
              f.b, loc, nvgpu::DeviceAsyncTokenType::get(f.b.getContext()), tile,
              ValueRange{stage, key, column}, o.buffer, f.indices(o, logical),
              f.b.getIndexAttr(kVectorWidth), /*srcElements=*/Value(), f.b.getUnitAttr());
        } else if (copy == Copy::Vectors) {
          auto type = VectorType::get({kVectorWidth}, mmaType);
          Value values = vector::LoadOp::create(f.b, loc, type, o.buffer, f.indices(o, logical),
                                                /*nontemporal=*/false, llvm::MaybeAlign(16));
          vector::StoreOp::create(f.b, loc, values, tile, ValueRange{stage, key, column},
                                  /*nontemporal=*/false, llvm::MaybeAlign(16));
        } else {
          Value value = f.toMma(f.load(o, logical));
          memref::StoreOp::create(f.b, loc, value, tile, ValueRange{stage, key, column});
        }
        scf::YieldOp::create(nested, loc);
      });
}

/// `fill` of stage 0 in the vector form where `aligned`, else in `form`.
void AttentionKernel::fillEither(KernelBuilder &s, Value tile, const Operand &o, int64_t width,
                                 Copy form, Value aligned, Value firstKey) {
  if (!aligned)
    return fill(s, tile, s.index(0), o, width, form, firstKey);
  auto branch = scf::IfOp::create(s.b, loc, aligned, /*withElseRegion=*/true);
  KernelBuilder then{OpBuilder(branch.thenBlock()->getTerminator()), loc, mmaType};
  fill(then, tile, then.index(0), o, width, Copy::Vectors, firstKey);
  KernelBuilder otherwise{OpBuilder(branch.elseBlock()->getTerminator()), loc, mmaType};
  fill(otherwise, tile, otherwise.index(0), o, width, form, firstKey);
}

/// Starts the asynchronous copy of a step's K and V (from `firstKey`) into
/// `stage`, as one group.
void AttentionKernel::issue(KernelBuilder &s, Value stage, Value firstKey) {
  fill(s, kTile, stage, kt, d, Copy::AsyncVectors, firstKey);
  fill(s, vTile, stage, v, dv, Copy::AsyncVectors, firstKey);
  NVVM::CpAsyncCommitGroupOp::create(s.b, loc);
}

/// `o`'s copy form: 16 bytes a thread where its layout allows it (`vectors`,
/// vectorCopyable, and where symbolic, the host's `layout`) and its
/// buffer's base is 16-byte aligned (`aligned`: the same for every thread,
/// known when the kernel runs), else value by value.
AttentionKernel::Copy AttentionKernel::copyForm(KernelBuilder &k, const Operand &o, bool vectors,
                                                Value layout, int64_t columns, int64_t keys,
                                                Value &aligned) {
  if (vectors) {
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(k.b, loc, o.buffer);
    aligned = arith::CmpIOp::create(k.b, loc, arith::CmpIPredicate::eq, k.rem(base, 16),
                                    k.index(0));
    if (layout)
      aligned = arith::AndIOp::create(k.b, loc, aligned, layout);
  }
  return columnsContiguous(o, columns, keys) ? Copy::ColumnsFastest : Copy::KeysFastest;
}

/// The step's K and V in shared memory, once every warp is done with the
/// last step's: copied now (between two barriers), or waited for, the next
/// step's then started into the other stage. Returns the stage they are in.
Value AttentionKernel::stepCopies(KernelBuilder &s, Value firstKey) {
  auto copyNow = [&](KernelBuilder &c) {
    gpu::BarrierOp::create(c.b, loc);
    fillEither(c, kTile, kt, d, kCopy, kAligned, firstKey);
    fillEither(c, vTile, v, dv, vCopy, vAligned, firstKey);
    gpu::BarrierOp::create(c.b, loc);
  };
  Value stage = s.index(0);
  if (!pipelined) {
    copyNow(s);
    return stage;
  }
  auto branch = scf::IfOp::create(s.b, loc, pipelined, /*withElseRegion=*/true);
  KernelBuilder then{OpBuilder(branch.thenBlock()->getTerminator()), loc, mmaType};
  NVVM::CpAsyncWaitGroupOp::create(then.b, loc, 0);
  gpu::BarrierOp::create(then.b, loc);
  Value next = then.add(firstKey, kKeysPerStep);
  Value more = arith::CmpIOp::create(then.b, loc, arith::CmpIPredicate::ult, next,
                                     sk.in(then));
  auto ahead = scf::IfOp::create(then.b, loc, more, /*withElseRegion=*/false);
  KernelBuilder a{OpBuilder(ahead.thenBlock()->getTerminator()), loc, mmaType};
  issue(a, a.rem(a.add(a.div(firstKey, kKeysPerStep), 1), 2), next);
  KernelBuilder otherwise{OpBuilder(branch.elseBlock()->getTerminator()), loc, mmaType};
  copyNow(otherwise);
  return arith::SelectOp::create(s.b, loc, pipelined, s.rem(s.div(firstKey, kKeysPerStep), 2),
                                 s.index(0));
}

/// The step's scores: four 8-key tiles, each summed over the head size,
/// then `scale * score + addend`, keys past the last -inf. K's B fragments
/// of two key tiles come from one ldmatrix: matrix j (named by lanes 8j to
/// 8j + 7) is keys 8 * (j / 2) + 0..7 of the pair, columns 8 * (j % 2) +
/// 0..7 of the 16.
SmallVector<SmallVector<Value, 4>> AttentionKernel::stepScores(KernelBuilder &s, Value stage,
                                                               Value firstKey,
                                                               Value &minusInfinity) {
  SmallVector<SmallVector<Value, 4>> scores(kKeyTiles, SmallVector<Value, 4>(4, s.f32(0.0f)));
  Value pairRow = s.add(s.mul(s.div(lane, 16), kMmaN), s.rem(lane, 8));
  Value halfColumn = s.mul(s.rem(s.div(lane, 8), 2), 8);
  for (int64_t pair = 0; pair < kKeyTiles / 2; ++pair)
    for (int64_t kk = 0; kk < d / kMmaK; ++kk) {
      SmallVector<Value, 4> regs =
          s.ldmatrix(kTile, stage, s.add(pairRow, 2 * pair * kMmaN),
                     s.add(halfColumn, kk * kMmaK), /*transpose=*/false);
      for (int64_t t = 0; t < 2; ++t) {
        SmallVector<Value, 4> &acc = scores[2 * pair + t];
        acc = s.mma(qFragments[kk], {regs[2 * t], regs[2 * t + 1]}, acc);
      }
    }
  minusInfinity = s.f32(kLowest);
  const float scale = op.getScale().convertToFloat();
  Value scaleValue = s.f32(scale);
  Value addend = op.getAddend();
  for (int64_t nt = 0; nt < kKeyTiles; ++nt)
    for (int64_t j = 0; j < 4; ++j) {
      Value column = s.add(twoIndex, j & 1);
      Value key = s.add(s.add(firstKey, nt * kMmaN), column);
      Value x = scale == 1.0f ? scores[nt][j] : s.fmul(scores[nt][j], scaleValue);
      if (addend) {
        auto type = cast<MemRefType>(addend.getType());
        Value logical[4] = {image, head, loadRows[j >> 1], s.min(key, lastKey.in(s))};
        SmallVector<Value, 4> indices;
        for (int64_t a = 0; a < type.getRank(); ++a) {
          Value own = logical[4 - type.getRank() + a];
          if (addendIsOne[a])
            own = s.select(addendIsOne[a], s.index(0), own);
          else if (type.getDimSize(a) == 1)
            own = s.index(0);
          indices.push_back(own);
        }
        Value term = memref::LoadOp::create(s.b, loc, addend, indices);
        x = s.fadd(x, half_storage::extendFromStorage(s.b, loc, term));
      }
      if (!sk.fixed || *sk.fixed % kKeysPerStep != 0) {
        Value inRange = arith::CmpIOp::create(s.b, loc, arith::CmpIPredicate::ult, key,
                                              sk.in(s));
        x = arith::SelectOp::create(s.b, loc, inRange, x, minusInfinity);
      }
      scores[nt][j] = x;
    }
  return scores;
}

/// The online softmax over the step's scores, per row (the new max, the
/// factor that rescales what was summed under the old one, the
/// probabilities), then output += P V: the carried state after the step.
SmallVector<Value> AttentionKernel::stepSoftmaxAndProduct(
    KernelBuilder &s, SmallVector<SmallVector<Value, 4>> scores, ValueRange state, Value stage,
    Value minusInfinity) {
  SmallVector<Value> next(state.begin(), state.end());
  Value factors[2];
  for (int r = 0; r < 2; ++r) {
    Value m = minusInfinity;
    for (int64_t nt = 0; nt < kKeyTiles; ++nt)
      for (int64_t j = 2 * r; j < 2 * r + 2; ++j)
        m = s.fmax(m, scores[nt][j]);
    m = s.groupReduce(m, [&](Value x, Value y) { return s.fmax(x, y); });
    Value newMax = s.fmax(state[r], m);
    // While every key so far is -inf (a -inf mask over the first steps),
    // exponents are taken from 0, not -inf: -inf - -inf would be NaN,
    // where the row's later keys make it finite. Those keys then weigh
    // exp(-inf) = 0, as the whole row's softmax has them.
    Value none = arith::CmpFOp::create(s.b, loc, arith::CmpFPredicate::OEQ, newMax,
                                       minusInfinity);
    Value base = arith::SelectOp::create(s.b, loc, none, s.f32(0.0f), newMax);
    factors[r] = s.exp(arith::SubFOp::create(s.b, loc, state[r], base));
    Value sum = s.fmul(state[2 + r], factors[r]);
    for (int64_t nt = 0; nt < kKeyTiles; ++nt)
      for (int64_t j = 2 * r; j < 2 * r + 2; ++j) {
        scores[nt][j] = s.exp(arith::SubFOp::create(s.b, loc, scores[nt][j], base));
        sum = s.fadd(sum, scores[nt][j]);
      }
    next[r] = newMax;
    next[2 + r] = sum;
  }
  for (int64_t t = 0; t < outputTiles; ++t)
    for (int64_t j = 0; j < 4; ++j)
      next[4 + 4 * t + j] = s.fmul(state[4 + 4 * t + j], factors[j >> 1]);
  // Output += P V, 16 keys at a time: P's A fragment of a 16-key chunk is
  // its two 8-key accumulators. V's B fragments of both chunks of an
  // 8-column tile come from one transposed ldmatrix: lane l names key l
  // (matrix j is keys 8j + 0..7).
  constexpr int64_t chunks = kKeysPerStep / kMmaK;
  SmallVector<SmallVector<Value, 4>> p(chunks);
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (int64_t tile = 2 * chunk; tile < 2 * chunk + 2; ++tile)
      for (int64_t j = 0; j < 4; j += 2)
        p[chunk].push_back(s.pack(scores[tile][j], scores[tile][j + 1]));
  for (int64_t t = 0; t < outputTiles; ++t) {
    SmallVector<Value, 4> regs =
        s.ldmatrix(vTile, stage, lane, s.index(t * kMmaN), /*transpose=*/true);
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      ArrayRef<Value> acc = ArrayRef<Value>(next).slice(4 + 4 * t, 4);
      SmallVector<Value, 4> d = s.mma(p[chunk], {regs[2 * chunk], regs[2 * chunk + 1]}, acc);
      for (int64_t j = 0; j < 4; ++j)
        next[4 + 4 * t + j] = d[j];
    }
  }
  return next;
}

/// Output = accumulator / the row's sum, for the rows that exist, where
/// init has them (rounded as half storage rounds when init is 16-bit).
void AttentionKernel::storeOutput(KernelBuilder &k, scf::ForOp loop) {
  auto element = cast<FloatType>(cast<MemRefType>(op.getInit().getType()).getElementType());
  for (int r = 0; r < 2; ++r) {
    Value sum =
        k.groupReduce(loop.getResult(2 + r), [&](Value x, Value y) { return k.fadd(x, y); });
    Value reciprocal = arith::DivFOp::create(k.b, loc, k.f32(1.0f), sum);
    if (noKeys) // no keys: the accumulator's zeros (the products' sum)
      reciprocal = k.select(noKeys, k.f32(0.0f), reciprocal);
    Value exists = arith::CmpIOp::create(k.b, loc, arith::CmpIPredicate::ult, rows[r],
                                         sq.in(k));
    auto guard = scf::IfOp::create(k.b, loc, exists, /*withElseRegion=*/false);
    KernelBuilder g{OpBuilder(guard.thenBlock()->getTerminator()), loc, mmaType};
    for (int64_t t = 0; t < outputTiles; ++t)
      for (int64_t j = 2 * r; j < 2 * r + 2; ++j) {
        Value out = g.fmul(loop.getResult(4 + 4 * t + j), reciprocal);
        if (!element.isF32())
          out = half_storage::truncateForStorage(g.b, loc, out, element);
        Value logical[4] = {image, head, rows[r], g.add(g.add(twoIndex, t * kMmaN), j & 1)};
        SmallVector<Value, 4> indices(4);
        for (int64_t dim = 0; dim < 4; ++dim)
          indices[outputDims[dim]] = logical[dim];
        memref::StoreOp::create(g.b, loc, out, op.getInit(), indices);
      }
  }
}

/// Dim `dim` of `buffer`: its static size, or a memref.dim on the host.
Size AttentionKernel::sizeOf(OpBuilder &host, Value buffer, int64_t dim) const {
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.isDynamicDim(dim))
    return {type.getDimSize(dim), Value()};
  return {std::nullopt, memref::DimOp::create(host, loc, buffer, dim)};
}

/// On the host, where symbolic dims leave them open (as the CPU's
/// kiln-attention-to-runtime checks them): each batch dim of q, kt and v
/// and each dim of the addend is 1 (broadcast: a `?` one's i1 is kept for
/// the kernel's indices) or the scores' (B, H, Sq, Sk in `scoreSizes`;
/// AddendBroadcast.h), and the products' inner dims agree. Returns the
/// failure's i1, or null.
Value AttentionKernel::runTimeChecks(OpBuilder &host, ArrayRef<Size> scoreSizes) {
  Value failed;
  for (Operand *o : {&q, &kt, &v})
    for (int64_t b = 0; b < 2; ++b)
      if (cast<MemRefType>(o->buffer.getType()).isDynamicDim(o->perm[b]))
        o->batchIsOne[b] = lowering::isBroadcastOne(host, loc, o->buffer, o->perm[b],
                                                    scoreSizes[b].onHost(host, loc), failed);
  auto agree = [&](Size x, Size y) {
    if (!x.fixed || !y.fixed) // else the op's verifier compared them
      lowering::requireEqualAtRunTime(host, loc, x.onHost(host, loc), y.onHost(host, loc),
                                      failed);
  };
  agree(Size{d, Value()}, sizeOf(host, kt.buffer, kt.perm[2]));
  agree(sk, sizeOf(host, v.buffer, v.perm[2]));
  if (Value addend = op.getAddend()) {
    SmallVector<OpFoldResult> scores;
    for (const Size &size : scoreSizes)
      scores.push_back(size.folded(host));
    addendIsOne = gpu_addend::broadcastAtRunTime(host, loc, addend, scores, failed);
  }
  return failed;
}

void AttentionKernel::build() {
  outputDims = op.outputDims();
  OpBuilder host(op);
  auto constant = [&](int64_t value) { return arith::ConstantIndexOp::create(host, loc, value); };
  // x * y and x + delta, folded where both are known.
  auto product = [&](const Size &x, const Size &y) -> Size {
    if (x.fixed && y.fixed)
      return {*x.fixed * *y.fixed, Value()};
    return {std::nullopt,
            arith::MulIOp::create(host, loc, x.onHost(host, loc), y.onHost(host, loc))};
  };
  auto plus = [&](const Size &x, int64_t delta) -> Size {
    if (x.fixed)
      return {*x.fixed + delta, Value()};
    return {std::nullopt, arith::AddIOp::create(host, loc, x.host, constant(delta))};
  };
  const Size batch = sizeOf(host, op.getInit(), outputDims[0]),
             heads = sizeOf(host, op.getInit(), outputDims[1]);
  sq = sizeOf(host, q.buffer, q.perm[2]), sk = sizeOf(host, kt.buffer, kt.perm[3]);
  d = q.dim(3), dv = v.dim(3);
  if (batch.is(0) || heads.is(0) || sq.is(0) || dv == 0) {
    op.erase(); // no element to write
    return;
  }
  if (Value failed = runTimeChecks(host, {batch, heads, sq, sk}))
    lowering::emitRuntimeCheck(host, loc, failed,
                               lowering::describeNode(loc, "MatMul") +
                                   lowering::kAttentionOperandsMessage);
  lastQuery = plus(sq, -1), lastKey = plus(sk, -1);
  if (!sk.fixed)
    noKeys = arith::CmpIOp::create(host, loc, arith::CmpIPredicate::eq, sk.host, constant(0));
  const int64_t rowsPerBlock = kWarpsPerBlock * kRowsPerWarp;
  // A block per 64 queries of a head (none where a symbolic count is 0:
  // the runtime launches no empty grid).
  const Size queryTiles =
      sq.fixed ? Size{(*sq.fixed + rowsPerBlock - 1) / rowsPerBlock, Value()}
               : Size{std::nullopt,
                      arith::CeilDivUIOp::create(host, loc, sq.host, constant(rowsPerBlock))};
  const Size tilesPerImage = product(queryTiles, heads);
  Value one = constant(1), blocks = product(tilesPerImage, batch).onHost(host, loc),
        threads = constant(kThreads);
  // Shared memory: a step's keys of K (keys x d) and V (keys x dv), in the
  // tensor cores' type; two of each (stages) where the copies can be
  // asynchronous and that fits.
  SmallVector<int64_t> kStrides, vStrides;
  bool kOffset = false, vOffset = false;
  const bool kVectors = vectorCopyable(kt, 2, d, mmaType, kStrides, kOffset),
             vVectors = vectorCopyable(v, 3, dv, mmaType, vStrides, vOffset);
  Value kLayout = kVectors ? layoutAligned(host, loc, kt.buffer, kStrides, kOffset) : Value(),
        vLayout = vVectors ? layoutAligned(host, loc, v.buffer, vStrides, vOffset) : Value();
  stages = kVectors && vVectors && 2 * tileBytes(d, dv) <= kSharedMemoryBytes ? 2 : 1;
  auto workgroup = gpu::AddressSpaceAttr::get(op.getContext(), gpu::AddressSpace::Workgroup);
  auto tileType = [&](int64_t width) {
    return MemRefType::get({stages, kKeysPerStep, width + kRowPad}, mmaType,
                           MemRefLayoutAttrInterface(), workgroup);
  };
  auto launch = gpu::LaunchOp::create(host, loc, blocks, one, one, threads, one, one,
                                      /*dynamicSharedMemorySize=*/nullptr,
                                      /*asyncTokenType=*/nullptr, ValueRange(),
                                      TypeRange{tileType(d), tileType(dv)});
  kTile = launch.getWorkgroupAttributions()[0], vTile = launch.getWorkgroupAttributions()[1];
  OpBuilder body = OpBuilder::atBlockEnd(&launch.getBody().front());
  gpu::TerminatorOp terminator = gpu::TerminatorOp::create(body, loc);
  body.setInsertionPoint(terminator);
  KernelBuilder k{body, loc, mmaType};

  // Which rows of which head: block = (b * H + h) * tiles + tile.
  Value block = launch.getBlockIds().x;
  thread = launch.getThreadIds().x;
  Value tile = k.rem(block, queryTiles.in(k));
  head = k.rem(k.div(block, queryTiles.in(k)), heads.in(k));
  image = k.div(block, tilesPerImage.in(k));
  Value warp = k.div(thread, kWarpLanes);
  lane = k.rem(thread, kWarpLanes);
  Value group = k.div(lane, 4), index = k.rem(lane, 4);
  Value tileRow = k.mul(tile, rowsPerBlock);
  Value firstRow = k.add(tileRow, k.mul(warp, kRowsPerWarp));
  // The lane's two rows; past the last, loads read the last (the results
  // are not stored), so that every lane runs every mma.
  rows[0] = k.add(firstRow, group), rows[1] = k.add(k.add(firstRow, group), 8);
  loadRows[0] = k.min(rows[0], lastQuery.in(k)), loadRows[1] = k.min(rows[1], lastQuery.in(k));
  twoIndex = k.mul(index, 2);

  // Q's A fragments, one per 16 of the head size: row r, column c of q.
  auto qAt = [&](int r, Value column) {
    return k.load(q, {image, head, loadRows[r], column});
  };
  for (int64_t kk = 0; kk < d / kMmaK; ++kk) {
    SmallVector<Value, 4> regs;
    for (int64_t r = 0; r < 4; ++r) {
      Value column = k.add(twoIndex, kk * kMmaK + 8 * (r >> 1));
      Value low = qAt(r & 1, column), high = qAt(r & 1, k.add(column, 1));
      regs.push_back(k.pack(low, high));
    }
    qFragments.push_back(regs);
  }

  // The running max and sum of each of the lane's two rows (the sum of its
  // own columns; the group's four are added at the end), and the output
  // accumulator: dv / 8 tiles of four f32.
  SmallVector<Value> carried = {k.f32(kLowest), k.f32(kLowest), k.f32(0.0f), k.f32(0.0f)};
  outputTiles = dv / kMmaN;
  for (int64_t i = 0; i < outputTiles * 4; ++i)
    carried.push_back(k.f32(0.0f));
  kCopy = copyForm(k, kt, kVectors, kLayout, 2, 3, kAligned);
  vCopy = copyForm(k, v, vVectors, vLayout, 3, 2, vAligned);
  // Two stages: while the warps compute on one step's K and V, the next
  // step's are on their way into the other stage, where both operands'
  // buffers are 16-byte aligned (known when the kernel runs; otherwise the
  // copies are synchronous, into stage 0).
  if (stages == 2) {
    pipelined = arith::AndIOp::create(k.b, loc, kAligned, vAligned);
    // (With no keys there is no first step to start.)
    Value start = noKeys ? arith::AndIOp::create(
                               k.b, loc, pipelined,
                               arith::XOrIOp::create(k.b, loc, noKeys,
                                                     arith::ConstantIntOp::create(k.b, loc, 1, 1)))
                         : pipelined;
    auto prologue = scf::IfOp::create(k.b, loc, start, /*withElseRegion=*/false);
    KernelBuilder p{OpBuilder(prologue.thenBlock()->getTerminator()), loc, mmaType};
    issue(p, p.index(0), p.index(0));
  }
  auto loop = scf::ForOp::create(
      k.b, loc, k.index(0), sk.in(k), k.index(kKeysPerStep), carried,
      [&](OpBuilder &nested, Location, Value firstKey, ValueRange state) {
        KernelBuilder s{nested, loc, mmaType};
        Value stage = stepCopies(s, firstKey);
        Value minusInfinity;
        SmallVector<SmallVector<Value, 4>> scores =
            stepScores(s, stage, firstKey, minusInfinity);
        scf::YieldOp::create(
            s.b, loc, stepSoftmaxAndProduct(s, std::move(scores), state, stage, minusInfinity));
      });
  storeOutput(k, loop);
  op.erase();
}

struct GpuAttentionKernelsPass
    : mlir::kiln::impl::KilnGpuAttentionKernelsBase<GpuAttentionKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    FloatType mmaType = half_storage::parseStorageType(context, type);
    if (!mmaType) {
      getOperation().emitError("kiln-gpu-attention-kernels: type must be f16 or bf16, not '")
          << type << "'";
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) { ops.push_back(op); });
    for (AttentionOp op : ops) {
      if (std::string reason = unsupported(op, mmaType); !reason.empty()) {
        op.emitError("cannot run this attention as a GPU kernel: ") << reason;
        return signalPassFailure();
      }
      AttentionKernel(op, mmaType).build();
    }
  }
};

} // namespace
