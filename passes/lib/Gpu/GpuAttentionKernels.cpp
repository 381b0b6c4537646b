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
// neighbouring addresses of the source), between two barriers: the four
// warps read them from there, instead of each lane gathering its fragments
// from 8 rows of global memory per load. Both products run on the tensor cores
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

#include "AttentionKernelShapes.h"
#include "HalfStorage.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUATTENTIONKERNELS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr int64_t kWarpSize = 32;
constexpr int64_t kWarpsPerBlock = 4;
constexpr int64_t kRowsPerWarp = 16; // an mma's M
constexpr int64_t kKeysPerStep = 32; // four 8-key tiles, two 16-key chunks
constexpr int64_t kMmaK = 16, kMmaN = 8;
constexpr int64_t kThreads = kWarpsPerBlock * kWarpSize;
// Shared memory rows are padded by 8 values (16 bytes): a fragment's 32
// lanes then read 32 different banks (rows 4 banks apart).
constexpr int64_t kRowPad = 8;

/// An operand of the op as it reads it: logical dim i is dim perm[i] of
/// the buffer.
struct Operand {
  Value buffer;
  SmallVector<int64_t, 4> perm;
  int64_t dim(int64_t d) const {
    return cast<MemRefType>(buffer.getType()).getDimSize(perm[d]);
  }
};

Operand operandOf(Value buffer, std::optional<ArrayRef<int64_t>> perm) {
  Operand o{buffer, {0, 1, 2, 3}};
  if (perm)
    o.perm.assign(perm->begin(), perm->end());
  return o;
}

/// What a kernel's code is built with: the builder inside the launch and
/// the 16-bit type the tensor cores read.
struct KernelBuilder {
  OpBuilder b;
  Location loc;
  FloatType mmaType;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(float v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, index(y)); }
  Value mul(Value x, int64_t y) { return arith::MulIOp::create(b, loc, x, index(y)); }
  Value div(Value x, int64_t y) { return arith::DivUIOp::create(b, loc, x, index(y)); }
  Value rem(Value x, int64_t y) { return arith::RemUIOp::create(b, loc, x, index(y)); }
  Value min(Value x, int64_t y) { return arith::MinUIOp::create(b, loc, x, index(y)); }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fmax(Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y); }
  Value exp(Value x) { return math::ExpOp::create(b, loc, x); }

  /// Element `logical` (B, H, row, column) of `o`, a batch dim of 1 read
  /// at 0 (broadcast).
  Value load(const Operand &o, ArrayRef<Value> logical) {
    SmallVector<Value, 4> indices(4);
    for (int64_t d = 0; d < 4; ++d)
      indices[o.perm[d]] = d < 2 && o.dim(d) == 1 ? index(0) : logical[d];
    return memref::LoadOp::create(b, loc, o.buffer, indices);
  }

  /// A loaded element as the tensor cores read it.
  Value toMma(Value element) {
    if (element.getType() == mmaType)
      return element;
    return arith::TruncFOp::create(b, loc, mmaType,
                                   half_storage::extendFromStorage(b, loc, element));
  }

  /// Two 16-bit values as one fragment register: vector<2xf16> for f16,
  /// an i32 of two bf16 (the lower first) for bf16, as nvvm.mma.sync
  /// takes them.
  Value pack(Value low, Value high) {
    auto type = VectorType::get({2}, mmaType);
    Value pair = vector::FromElementsOp::create(b, loc, type, ValueRange{toMma(low), toMma(high)});
    if (mmaType.isF16())
      return pair;
    return LLVM::BitcastOp::create(b, loc, b.getI32Type(), pair);
  }

  /// D = A B + C for one m16n8k16 tile: four A registers, two B, four f32.
  SmallVector<Value, 4> mma(ArrayRef<Value> a, ArrayRef<Value> bReg, ArrayRef<Value> c) {
    Type f32Type = b.getF32Type();
    auto result = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                   {f32Type, f32Type, f32Type, f32Type});
    NVVM::MMATypes type = mmaType.isF16() ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
    auto op = NVVM::MmaOp::create(b, loc, result, a, bReg, c, ArrayRef<int64_t>{16, 8, 16},
                                  std::nullopt, std::nullopt, std::array{type, type},
                                  std::array{NVVM::MMALayout::row, NVVM::MMALayout::col});
    SmallVector<Value, 4> d;
    for (int64_t j = 0; j < 4; ++j)
      d.push_back(LLVM::ExtractValueOp::create(b, loc, op.getResult(), ArrayRef<int64_t>{j}));
    return d;
  }

  /// `combine` over the four lanes of a group (the lanes holding one row
  /// of an accumulator), in each of them.
  Value groupReduce(Value value, function_ref<Value(Value, Value)> combine) {
    for (int32_t offset : {1, 2}) {
      Value other = gpu::ShuffleOp::create(b, loc, value, offset, int32_t(kWarpSize),
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      value = combine(value, other);
    }
    return value;
  }
};

/// Whether `o`'s logical dim `columns` has a smaller stride in its buffer
/// than its dim `keys`: a step's tile is then read with neighbouring
/// threads on neighbouring columns, else on neighbouring keys (coalesced
/// either way).
bool columnsContiguous(const Operand &o, int64_t columns, int64_t keys) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(cast<MemRefType>(o.buffer.getType()).getStridesAndOffset(strides, offset)))
    return true;
  return strides[o.perm[columns]] <= strides[o.perm[keys]];
}

/// The reason the GPU kernel cannot run `op`, or "".
std::string unsupported(AttentionOp op, FloatType mmaType) {
  for (Value v : {op.getQ(), op.getKt(), op.getV(), op.getInit()}) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type)
      return "it runs after bufferization; this op is on tensors";
    if (!type.hasStaticShape())
      return "the GPU path needs static shapes (compile with --input-shape for every "
             "symbolic dim)";
    Type element = type.getElementType();
    if (!element.isF32() && element != mmaType)
      return "its operands must be f32 or the tensor cores' type";
  }
  if (Value addend = op.getAddend(); addend && !cast<MemRefType>(addend.getType()).hasStaticShape())
    return "the GPU path needs a static addend";
  if (op.getBf16Inputs())
    return "bf16_inputs is the CPU's form";
  Operand q = operandOf(op.getQ(), op.getQPerm()), kt = operandOf(op.getKt(), op.getKtPerm()),
          v = operandOf(op.getV(), op.getVPerm());
  return gpu_attention::headSizeProblem(q.dim(3), v.dim(3), kt.dim(3));
}

/// One kernel for `op`: a block of four warps per 64 query rows of a head.
void lower(AttentionOp op, FloatType mmaType) {
  Location loc = op.getLoc();
  Operand q = operandOf(op.getQ(), op.getQPerm()), kt = operandOf(op.getKt(), op.getKtPerm()),
          v = operandOf(op.getV(), op.getVPerm());
  auto initType = cast<MemRefType>(op.getInit().getType());
  SmallVector<int64_t, 4> outputDims = op.outputDims();
  const int64_t batch = initType.getDimSize(outputDims[0]),
                heads = initType.getDimSize(outputDims[1]), sq = q.dim(2), d = q.dim(3),
                sk = kt.dim(3), dv = v.dim(3);
  OpBuilder host(op);
  if (batch == 0 || heads == 0 || sq == 0 || dv == 0) {
    op.erase(); // no element to write
    return;
  }
  const int64_t rowsPerBlock = kWarpsPerBlock * kRowsPerWarp;
  const int64_t queryTiles = (sq + rowsPerBlock - 1) / rowsPerBlock;
  auto constant = [&](int64_t value) { return arith::ConstantIndexOp::create(host, loc, value); };
  Value one = constant(1), blocks = constant(queryTiles * heads * batch),
        threads = constant(kThreads);
  // Shared memory: a step's keys of K (keys x d) and V (keys x dv), in the
  // tensor cores' type.
  auto workgroup = gpu::AddressSpaceAttr::get(op.getContext(), gpu::AddressSpace::Workgroup);
  auto tileType = [&](int64_t width) {
    return MemRefType::get({kKeysPerStep, width + kRowPad}, mmaType, MemRefLayoutAttrInterface(),
                           workgroup);
  };
  auto launch = gpu::LaunchOp::create(host, loc, blocks, one, one, threads, one, one,
                                      /*dynamicSharedMemorySize=*/nullptr,
                                      /*asyncTokenType=*/nullptr, ValueRange(),
                                      TypeRange{tileType(d), tileType(dv)});
  Value kTile = launch.getWorkgroupAttributions()[0], vTile = launch.getWorkgroupAttributions()[1];
  OpBuilder body = OpBuilder::atBlockEnd(&launch.getBody().front());
  gpu::TerminatorOp terminator = gpu::TerminatorOp::create(body, loc);
  body.setInsertionPoint(terminator);
  KernelBuilder k{body, loc, mmaType};

  // Which rows of which head: block = (b * H + h) * tiles + tile.
  Value block = launch.getBlockIds().x, thread = launch.getThreadIds().x;
  Value tile = k.rem(block, queryTiles), head = k.rem(k.div(block, queryTiles), heads),
        image = k.div(block, queryTiles * heads);
  Value warp = k.div(thread, kWarpSize), lane = k.rem(thread, kWarpSize);
  Value group = k.div(lane, 4), index = k.rem(lane, 4);
  Value tileRow = k.mul(tile, rowsPerBlock);
  Value firstRow = k.add(tileRow, k.mul(warp, kRowsPerWarp));
  // The lane's two rows; past the last, loads read the last (the results
  // are not stored), so that every lane runs every mma.
  Value rows[2] = {k.add(firstRow, group), k.add(k.add(firstRow, group), 8)};
  Value loadRows[2] = {k.min(rows[0], sq - 1), k.min(rows[1], sq - 1)};
  Value twoIndex = k.mul(index, 2);

  // Q's A fragments, one per 16 of the head size: row r, column c of q.
  auto qAt = [&](int r, Value column) {
    return k.load(q, {image, head, loadRows[r], column});
  };
  SmallVector<SmallVector<Value, 4>> qFragments;
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
  const float lowest = -std::numeric_limits<float>::infinity();
  SmallVector<Value> carried = {k.f32(lowest), k.f32(lowest), k.f32(0.0f), k.f32(0.0f)};
  const int64_t outputTiles = dv / kMmaN;
  for (int64_t i = 0; i < outputTiles * 4; ++i)
    carried.push_back(k.f32(0.0f));
  const float scale = op.getScale().convertToFloat();
  Value addend = op.getAddend();
  // Fills `tile` with the step's keys (from `firstKey`, the last repeated
  // past the end: their probabilities are 0) of `width` columns, each
  // thread width / 4 values, read by `at(key, column)`.
  auto fill = [&](KernelBuilder &s, Value tile, int64_t width, bool columnsFastest,
                  Value firstKey, function_ref<Value(KernelBuilder &, Value, Value)> at) {
    int64_t perThread = kKeysPerStep * width / kThreads;
    scf::ForOp::create(
        s.b, loc, s.index(0), s.index(perThread), s.index(1), ValueRange(),
        [&](OpBuilder &nested, Location, Value j, ValueRange) {
          KernelBuilder f{nested, loc, mmaType};
          Value i = f.add(thread, arith::MulIOp::create(nested, loc, j, f.index(kThreads)));
          Value key = columnsFastest ? f.div(i, width) : f.rem(i, kKeysPerStep);
          Value column = columnsFastest ? f.rem(i, width) : f.div(i, kKeysPerStep);
          Value source = f.min(f.add(firstKey, key), sk - 1);
          Value value = f.toMma(at(f, source, column));
          memref::StoreOp::create(nested, loc, value, tile, ValueRange{key, column});
          scf::YieldOp::create(nested, loc);
        });
  };
  const bool kColumnsFastest = columnsContiguous(kt, 2, 3),
             vColumnsFastest = columnsContiguous(v, 3, 2);
  auto loop = scf::ForOp::create(
      k.b, loc, k.index(0), k.index(sk), k.index(kKeysPerStep), carried,
      [&](OpBuilder &nested, Location, Value firstKey, ValueRange state) {
        KernelBuilder s{nested, loc, mmaType};
        // The step's K and V into shared memory, once every warp is done
        // with the last step's.
        gpu::BarrierOp::create(s.b, loc);
        fill(s, kTile, d, kColumnsFastest, firstKey,
             [&](KernelBuilder &f, Value key, Value column) {
               return f.load(kt, {image, head, column, key});
             });
        fill(s, vTile, dv, vColumnsFastest, firstKey,
             [&](KernelBuilder &f, Value key, Value column) {
               return f.load(v, {image, head, key, column});
             });
        gpu::BarrierOp::create(s.b, loc);
        auto tileAt = [&](Value tile, Value row, Value column) -> Value {
          return memref::LoadOp::create(s.b, loc, tile, ValueRange{row, column});
        };
        // Scores: four 8-key tiles, each summed over the head size.
        constexpr int64_t keyTiles = kKeysPerStep / kMmaN;
        SmallVector<SmallVector<Value, 4>> scores;
        for (int64_t nt = 0; nt < keyTiles; ++nt) {
          Value key = s.add(group, nt * kMmaN);
          SmallVector<Value, 4> acc(4, s.f32(0.0f));
          for (int64_t kk = 0; kk < d / kMmaK; ++kk) {
            SmallVector<Value, 2> regs;
            for (int64_t r = 0; r < 2; ++r) {
              Value column = s.add(twoIndex, kk * kMmaK + 8 * r);
              Value low = tileAt(kTile, key, column);
              Value high = tileAt(kTile, key, s.add(column, 1));
              regs.push_back(s.pack(low, high));
            }
            acc = s.mma(qFragments[kk], regs, acc);
          }
          scores.push_back(acc);
        }
        // scale * score + addend; keys past the last are -inf.
        Value minusInfinity = s.f32(lowest);
        Value scaleValue = s.f32(scale);
        for (int64_t nt = 0; nt < keyTiles; ++nt)
          for (int64_t j = 0; j < 4; ++j) {
            Value column = s.add(twoIndex, j & 1);
            Value key = s.add(s.add(firstKey, nt * kMmaN), column);
            Value x = scale == 1.0f ? scores[nt][j] : s.fmul(scores[nt][j], scaleValue);
            if (addend) {
              auto type = cast<MemRefType>(addend.getType());
              Value logical[4] = {image, head, loadRows[j >> 1], s.min(key, sk - 1)};
              SmallVector<Value, 4> indices;
              for (int64_t a = 0; a < type.getRank(); ++a) {
                int64_t dim = 4 - type.getRank() + a;
                indices.push_back(type.getDimSize(a) == 1 ? s.index(0) : logical[dim]);
              }
              Value term = memref::LoadOp::create(s.b, loc, addend, indices);
              x = s.fadd(x, half_storage::extendFromStorage(s.b, loc, term));
            }
            if (sk % kKeysPerStep != 0) {
              Value inRange = arith::CmpIOp::create(s.b, loc, arith::CmpIPredicate::ult, key,
                                                    s.index(sk));
              x = arith::SelectOp::create(s.b, loc, inRange, x, minusInfinity);
            }
            scores[nt][j] = x;
          }
        // The online softmax, per row: the new max, the factor that
        // rescales what was summed under the old one, the probabilities.
        SmallVector<Value> next(state.begin(), state.end());
        Value factors[2];
        for (int r = 0; r < 2; ++r) {
          Value m = minusInfinity;
          for (int64_t nt = 0; nt < keyTiles; ++nt)
            for (int64_t j = 2 * r; j < 2 * r + 2; ++j)
              m = s.fmax(m, scores[nt][j]);
          m = s.groupReduce(m, [&](Value x, Value y) { return s.fmax(x, y); });
          Value newMax = s.fmax(state[r], m);
          // While every key so far is -inf (a -inf mask over the first
          // steps), exponents are taken from 0, not -inf: -inf - -inf would
          // be NaN, where the row's later keys make it finite. Those keys
          // then weigh exp(-inf) = 0, as the whole row's softmax has them.
          Value none = arith::CmpFOp::create(s.b, loc, arith::CmpFPredicate::OEQ, newMax,
                                             minusInfinity);
          Value base = arith::SelectOp::create(s.b, loc, none, s.f32(0.0f), newMax);
          factors[r] = s.exp(arith::SubFOp::create(s.b, loc, state[r], base));
          Value sum = s.fmul(state[2 + r], factors[r]);
          for (int64_t nt = 0; nt < keyTiles; ++nt)
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
        // Output += P V, 16 keys at a time: P's A fragment is the two
        // 8-key accumulators; V's B fragment rows are keys, its column the
        // group's.
        for (int64_t chunk = 0; chunk < kKeysPerStep / kMmaK; ++chunk) {
          const SmallVector<Value, 4> &left = scores[2 * chunk], &right = scores[2 * chunk + 1];
          SmallVector<Value, 4> p;
          for (const SmallVector<Value, 4> *tile : {&left, &right})
            for (int64_t j = 0; j < 4; j += 2)
              p.push_back(s.pack((*tile)[j], (*tile)[j + 1]));
          Value keys[4];
          for (int64_t i = 0; i < 4; ++i)
            keys[i] = s.add(twoIndex, chunk * kMmaK + 8 * (i >> 1) + (i & 1));
          for (int64_t t = 0; t < outputTiles; ++t) {
            Value column = s.add(group, t * kMmaN);
            auto vAt = [&](int64_t i) { return tileAt(vTile, keys[i], column); };
            Value values[4] = {vAt(0), vAt(1), vAt(2), vAt(3)}; // in this order
            SmallVector<Value, 2> regs = {s.pack(values[0], values[1]),
                                          s.pack(values[2], values[3])};
            ArrayRef<Value> acc = ArrayRef<Value>(next).slice(4 + 4 * t, 4);
            SmallVector<Value, 4> d = s.mma(p, regs, acc);
            for (int64_t j = 0; j < 4; ++j)
              next[4 + 4 * t + j] = d[j];
          }
        }
        scf::YieldOp::create(s.b, loc, next);
      });

  // Output = accumulator / the row's sum, for the rows that exist.
  auto element = cast<FloatType>(initType.getElementType());
  for (int r = 0; r < 2; ++r) {
    Value sum =
        k.groupReduce(loop.getResult(2 + r), [&](Value x, Value y) { return k.fadd(x, y); });
    Value reciprocal = arith::DivFOp::create(k.b, loc, k.f32(1.0f), sum);
    Value exists = arith::CmpIOp::create(k.b, loc, arith::CmpIPredicate::ult, rows[r],
                                         k.index(sq));
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
      lower(op, mmaType);
    }
  }
};

} // namespace
