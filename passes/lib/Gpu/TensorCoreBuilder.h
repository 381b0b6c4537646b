//===- TensorCoreBuilder.h - Building warp-level tensor-core code -*- C++ -*-===//
//
// The pieces a kernel made of warp-level tensor-core operations is built
// from (kiln-gpu-attention-kernels' today): 4-d operands read through a
// permutation, 16-bit values packed into the fragment registers
// nvvm.mma.sync takes, ldmatrix loads of shared memory, the m16n8k16
// product, and reductions over the four lanes of an accumulator row. Only
// the GPU passes include it (NVVM and NVGPU headers).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_GPU_TENSORCOREBUILDER_H
#define KILN_PASSES_GPU_TENSORCOREBUILDER_H

#include "HalfStorage.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <optional>

namespace mlir::kiln::gpu_tensor_cores {

/// The lanes of a warp (NVGPUDialect.h has a kWarpSize of its own, global).
constexpr int64_t kWarpLanes = 32;

/// A 4-d operand (batch, heads, rows, columns) as a kernel reads it:
/// logical dim i is dim perm[i] of the buffer. A batch dim of 1 broadcasts
/// (read at 0); a symbolic one is 1 or the kernel's at run time, and
/// batchIsOne[i] then holds the host's i1 for it (null otherwise).
struct Operand {
  Value buffer;
  SmallVector<int64_t, 4> perm;
  Value batchIsOne[2] = {};
  int64_t dim(int64_t d) const {
    return cast<MemRefType>(buffer.getType()).getDimSize(perm[d]);
  }
};

inline Operand operandOf(Value buffer, std::optional<ArrayRef<int64_t>> perm) {
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
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y); }
  Value select(Value condition, Value x, Value y) {
    return arith::SelectOp::create(b, loc, condition, x, y);
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fmax(Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y); }
  /// exp(x) as the hardware's base-2 exponential of x log2(e): a multiply
  /// and ex2.approx (within 2 ulp) instead of libdevice's expf, which
  /// reduces the argument first (about 10 instructions, 18 a step per
  /// lane). x is a difference from the row's max (<= 0, or -inf): the
  /// product cannot overflow to a wrong sign, and -FLT_MAX (a masked key
  /// under a finite max) becomes -inf, whose exponential is 0 as exp's is.
  Value exp(Value x) {
    constexpr float log2e = 1.4426950408889634f;
    return math::Exp2Op::create(b, loc, fmul(x, f32(log2e)));
  }

  /// The buffer indices of element `logical` (B, H, row, column) of `o`, a
  /// batch dim of 1 read at 0 (broadcast).
  SmallVector<Value, 4> indices(const Operand &o, ArrayRef<Value> logical) {
    SmallVector<Value, 4> result(4);
    for (int64_t d = 0; d < 4; ++d) {
      Value own = logical[d];
      if (d < 2 && o.batchIsOne[d])
        own = select(o.batchIsOne[d], index(0), own);
      else if (d < 2 && o.dim(d) == 1)
        own = index(0);
      result[o.perm[d]] = own;
    }
    return result;
  }

  /// Element `logical` (B, H, row, column) of `o`.
  Value load(const Operand &o, ArrayRef<Value> logical) {
    return memref::LoadOp::create(b, loc, o.buffer, indices(o, logical));
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
    return asRegister(
        vector::FromElementsOp::create(b, loc, type, ValueRange{toMma(low), toMma(high)}));
  }

  /// A fragment register as nvvm.mma.sync takes it (an i32 for bf16) from
  /// a vector<2xT>.
  Value asRegister(Value pair) {
    if (mmaType.isF16())
      return pair;
    return LLVM::BitcastOp::create(b, loc, b.getI32Type(), pair);
  }

  /// ldmatrix of four 8x8 matrices of `tile` (shared memory), this lane
  /// naming the row that starts at (stage, row, column): its four registers.
  SmallVector<Value, 4> ldmatrix(Value tile, Value stage, Value row, Value column,
                                 bool transpose) {
    auto type = VectorType::get({4, 2}, mmaType);
    Value loaded = nvgpu::LdMatrixOp::create(b, loc, type, tile, ValueRange{stage, row, column},
                                             transpose, /*numTiles=*/4);
    SmallVector<Value, 4> regs;
    for (int64_t j = 0; j < 4; ++j)
      regs.push_back(asRegister(vector::ExtractOp::create(b, loc, loaded, ArrayRef<int64_t>{j})));
    return regs;
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
      Value other = gpu::ShuffleOp::create(b, loc, value, offset, int32_t(kWarpLanes),
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      value = combine(value, other);
    }
    return value;
  }
};

} // namespace mlir::kiln::gpu_tensor_cores

#endif // KILN_PASSES_GPU_TENSORCOREBUILDER_H
