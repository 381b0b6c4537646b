//===- HalfStorage.h - fp32 values kept in 16-bit memory ---------*- C++ -*-===//
//
// With `kiln compile --target cuda --precision fp16|bf16` (half storage),
// tensors between kernels are stored in the 16-bit type and computed in
// fp32: a kernel extends what it loads and rounds what it stores. The
// passes that build such loads and stores (kiln-gpu-half-storage on
// tensors, kiln-gpu-row-kernels on buffers) share these helpers, and
// compile-time constants are rounded by the same rule.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_GPU_HALFSTORAGE_H
#define KILN_PASSES_GPU_HALFSTORAGE_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/APFloat.h"

#include <cstdint>
#include <cstring>
#include <limits>

namespace mlir::kiln::half_storage {

/// `value` (an f32) as `type` (f16 or bf16) in memory: rounded to nearest
/// even, a finite value beyond the type's range saturating to its largest
/// finite value (so that attention's -FLT_MAX mask stays finite and a row
/// with every key masked stays the uniform row it is in fp32); infinities
/// and NaN stay what they are.
inline Value truncateForStorage(OpBuilder &b, Location loc, Value value, FloatType type) {
  const llvm::fltSemantics &semantics = type.getFloatSemantics();
  float largest = llvm::APFloat::getLargest(semantics).convertToFloat();
  Type f32 = b.getF32Type();
  Value high = arith::ConstantOp::create(b, loc, b.getFloatAttr(f32, largest));
  Value low = arith::ConstantOp::create(b, loc, b.getFloatAttr(f32, -largest));
  // minnumf/maxnumf pass a NaN operand's other value: select keeps NaN and
  // infinities as they were.
  Value raised = arith::MaxNumFOp::create(b, loc, value, low);
  Value clamped = arith::MinNumFOp::create(b, loc, raised, high);
  Value infinity = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(f32, std::numeric_limits<float>::infinity()));
  Value magnitude = math::AbsFOp::create(b, loc, value);
  Value finite = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, magnitude, infinity);
  Value kept = arith::SelectOp::create(b, loc, finite, clamped, value);
  return arith::TruncFOp::create(b, loc, type, kept);
}

/// The 16-bit type a pass option names ("f16" or "bf16"), or null.
inline FloatType parseStorageType(MLIRContext *context, StringRef name) {
  if (name == "f16")
    return Float16Type::get(context);
  if (name == "bf16")
    return BFloat16Type::get(context);
  return nullptr;
}

/// `value` as f32: extended if it was loaded from 16-bit memory.
inline Value extendFromStorage(OpBuilder &b, Location loc, Value value) {
  if (value.getType().isF32())
    return value;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
}

/// Rounds floats to `type` (f16 or bf16) by the rule of
/// truncateForStorage, for constants rounded at compile time: the type's
/// range is looked up once, not per element.
class StorageRounding {
public:
  explicit StorageRounding(FloatType type)
      : semantics(type.getFloatSemantics()), bf16(type.isBF16()),
        largest(llvm::APFloat::getLargest(semantics).convertToFloat()) {}

  /// The bits of `value` rounded.
  uint16_t operator()(float value) const {
    if (value > largest && value < std::numeric_limits<float>::infinity())
      value = largest;
    if (value < -largest && value > -std::numeric_limits<float>::infinity())
      value = -largest;
    if (bf16) { // the top half of the float, rounded to nearest even
      uint32_t bits;
      std::memcpy(&bits, &value, sizeof bits);
      if ((bits & 0x7fffffffu) > 0x7f800000u)
        return uint16_t((bits >> 16) | 0x40); // a quiet NaN
      return uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }
    bool lost;
    llvm::APFloat converted(value);
    converted.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &lost);
    return uint16_t(converted.bitcastToAPInt().getZExtValue());
  }

private:
  const llvm::fltSemantics &semantics;
  bool bf16;
  float largest;
};

} // namespace mlir::kiln::half_storage

#endif // KILN_PASSES_GPU_HALFSTORAGE_H
