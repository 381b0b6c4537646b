// RUN: not kiln-opt %s --kiln-prune-magnitude 2>&1 | FileCheck %s --check-prefix=NO-SPARSITY
// RUN: not kiln-opt %s --kiln-prune-magnitude=sparsity=1 2>&1 | FileCheck %s --check-prefix=ONE
// RUN: not kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 block-n=0" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not kiln-opt %s "--kiln-prune-magnitude=sparsity=0.5 scope=everything" 2>&1 | FileCheck %s --check-prefix=SCOPE

// NO-SPARSITY: error: kiln-prune-magnitude: sparsity must be in (0, 1), not 0
// ONE: error: kiln-prune-magnitude: sparsity must be in (0, 1), not 1
// BLOCK: error: kiln-prune-magnitude: block-k and block-n must be at least 1, not 1 and 0
// SCOPE: error: kiln-prune-magnitude: scope must be per-layer or global, not 'everything'
func.func @f() {
  return
}
