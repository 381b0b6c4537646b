//===- QGemmDescriptor.h - kiln_qgemm_desc from a ukernel op ----*- C++ -*-===//
//
// Internal to passes/lib/Lowering. kiln.qgemm and kiln.sparse_qgemm both
// become a kiln_qgemm_desc (kiln_abi.h; the sparse one's b another layout)
// and differ only in the function they call: the fields are filled here
// once, their positions from the struct itself (offsetof), so the compiler
// and the runtime cannot disagree on them.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_QGEMMDESCRIPTOR_H
#define KILN_PASSES_LOWERING_QGEMMDESCRIPTOR_H

#include "RuntimeCalls.h"

#include "kiln/kiln_abi.h"

#include <cstddef>

namespace mlir::kiln::lowering {

static_assert(sizeof(kiln_qgemm_desc) == KILN_QGEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_qgemm_desc must stay an array of 64-bit fields");

/// The KILN_QGEMM_DESC_FIELDS words of one GEMM of bufferized `op` (a
/// QGemmOp or SparseQGemmOp), built before it; `activation` is its
/// kiln_gemm_activation.
template <typename OpT>
SmallVector<Value> qgemmDescriptorFields(OpBuilder &b, OpT op, int64_t activation) {
  Location loc = op.getLoc();
  auto constant = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, loc, v); };
  Value zero = constant(0), one = constant(1);
  SmallVector<Value> fields(KILN_QGEMM_DESC_FIELDS, zero);
  auto set = [&](size_t offset, Value value) { fields[descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_qgemm_desc, name)
  CallOperand a = callOperand(b, loc, op.getA());
  CallOperand c = callOperand(b, loc, op.getInit());
  set(KILN_FIELD(m), memref::DimOp::create(b, loc, op.getA(), 0));
  set(KILN_FIELD(n), constant(op.getN()));
  set(KILN_FIELD(k), constant(op.getK()));
  set(KILN_FIELD(a), a.address);
  // A ui8 a is pre-quantized, per tensor; NULL scale and zero point mean 1 and 0.
  bool prequantized = cast<MemRefType>(op.getA().getType()).getElementType().isUnsignedInteger(8);
  set(KILN_FIELD(a_type), constant(prequantized ? KILN_DTYPE_UINT8 : KILN_DTYPE_FLOAT32));
  set(KILN_FIELD(a_rs), a.strides[0]);
  set(KILN_FIELD(a_cs), a.strides[1]);
  if (Value scale = op.getAScale())
    set(KILN_FIELD(a_scale), callOperand(b, loc, scale).address);
  if (Value zeroPoint = op.getAZeroPoint())
    set(KILN_FIELD(a_zero_point), callOperand(b, loc, zeroPoint).address);
  set(KILN_FIELD(b), callOperand(b, loc, op.getBPacked()).address);
  set(KILN_FIELD(b_scale), callOperand(b, loc, op.getBScale()).address);
  set(KILN_FIELD(c), c.address);
  set(KILN_FIELD(ldc), c.strides[c.strides.size() - 2]); // init's rows are contiguous
  set(KILN_FIELD(activation), constant(activation));
  if (Value bias = op.getBias())
    set(KILN_FIELD(bias), callOperand(b, loc, bias).address);
  if (Value residual = op.getResidual()) {
    CallOperand r = callOperand(b, loc, residual);
    set(KILN_FIELD(residual), r.address);
    set(KILN_FIELD(residual_rs), r.strides[0]);
  }
  // One GEMM: a batch of 1 x 1 (the batch strides stay 0).
  set(KILN_FIELD(batch[0]), one);
  set(KILN_FIELD(batch[1]), one);
#undef KILN_FIELD
  return fields;
}

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_QGEMMDESCRIPTOR_H
