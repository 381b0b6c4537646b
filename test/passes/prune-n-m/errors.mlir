// RUN: not kiln-opt %s "--kiln-prune-n-m=n=4 m=4" 2>&1 | FileCheck %s --check-prefix=EQUAL
// RUN: not kiln-opt %s "--kiln-prune-n-m=n=0 m=4" 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not kiln-opt %s "--kiln-prune-n-m=n=2 m=65" 2>&1 | FileCheck %s --check-prefix=LARGE

// EQUAL: error: kiln-prune-n-m: needs 1 <= n < m <= 64, not n = 4, m = 4
// ZERO: error: kiln-prune-n-m: needs 1 <= n < m <= 64, not n = 0, m = 4
// LARGE: error: kiln-prune-n-m: needs 1 <= n < m <= 64, not n = 2, m = 65
func.func @f() {
  return
}
