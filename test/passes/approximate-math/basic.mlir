// RUN: kiln-opt %s --kiln-approximate-math | FileCheck %s
// RUN: kiln-opt %s --kiln-approximate-math=ops=erf | FileCheck %s --check-prefix=ERF

// By default exp, erf, tanh and log become arith/fma code, no libm call.
// CHECK-LABEL: func.func @defaults
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.log
// CHECK: math.fma
// CHECK: return
// Only the named ops (with or without the `math.` prefix) are rewritten.
// ERF-LABEL: func.func @defaults
// ERF-NOT: math.erf
// ERF-DAG: math.exp
// ERF-DAG: math.tanh
// ERF-DAG: math.log
func.func @defaults(%x: f32, %v: vector<8xf32>) -> (f32, f32, f32, vector<8xf32>) {
  %a = math.erf %x : f32
  %b = math.exp %x : f32
  %c = math.tanh %x : f32
  %d = math.log %v : vector<8xf32>
  return %a, %b, %c, %d : f32, f32, f32, vector<8xf32>
}

// f64 has no approximation: the op stays (and becomes a libm call later).
// CHECK-LABEL: func.func @f64_stays
// CHECK: math.exp %{{.*}} : f64
func.func @f64_stays(%x: f64) -> f64 {
  %y = math.exp %x : f64
  return %y : f64
}

// GPT-2's x^3 (its GELU) becomes two multiplications, not a powf call.
// CHECK-LABEL: func.func @cube
// CHECK-NOT: math.powf
// CHECK: %[[SQ:.*]] = arith.mulf %arg0, %arg0
// CHECK: arith.mulf %arg0, %[[SQ]]
func.func @cube(%x: f32) -> f32 {
  %three = arith.constant 3.0 : f32
  %y = math.powf %x, %three : f32
  return %y : f32
}
