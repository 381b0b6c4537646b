//===- GpuAlignWorkgroupMemory.cpp - shared memory for 16-byte accesses ---===//
//
// A kernel's workgroup attributions become shared memory globals with the
// alignment their element type needs, but kernels access them 16 bytes at a
// time (vector stores, ldmatrix rows): each attribution gets `llvm.align`,
// which convert-gpu-to-nvvm gives its global.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUALIGNWORKGROUPMEMORY
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct GpuAlignWorkgroupMemoryPass
    : mlir::kiln::impl::KilnGpuAlignWorkgroupMemoryBase<GpuAlignWorkgroupMemoryPass> {
  using Base::Base;
  void runOnOperation() override {
    if (alignment <= 0 || !llvm::isPowerOf2_64(uint64_t(alignment))) {
      getOperation().emitError("kiln-gpu-align-workgroup-memory: alignment must be a power of "
                               "two, not ")
          << int64_t(alignment);
      return signalPassFailure();
    }
    StringRef name = LLVM::LLVMDialect::getAlignAttrName();
    Builder b(&getContext());
    getOperation().walk([&](gpu::GPUFuncOp function) {
      for (unsigned i = 0; i < function.getNumWorkgroupAttributions(); ++i) {
        auto existing =
            dyn_cast_or_null<IntegerAttr>(function.getWorkgroupAttributionAttr(i, name));
        if (existing && existing.getInt() >= alignment)
          continue;
        function.setWorkgroupAttributionAttr(i, b.getStringAttr(name),
                                             b.getI64IntegerAttr(alignment));
      }
    });
  }
};

} // namespace
