// RUN: kiln-opt %s --canonicalize -split-input-file | FileCheck %s

// Folders and canonicalization patterns of the kiln dialect. Every folder has
// a positive case (the op becomes a constant or one of its operands) and the
// cases it must leave alone: dynamic dims, undefined values (integer
// division by zero), non-constant operands.

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @shape_static
// CHECK-NOT: kiln.shape
// CHECK: %[[C:.*]] = kiln.constant dense<[2, 8, 768]> : tensor<3xi64>
// CHECK: return %[[C]]
func.func @shape_static(%x: tensor<2x8x768xf32>) -> tensor<3xi64> {
  %0 = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<2x8x768xf32>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// Only the queried dims need to be static.
// CHECK-LABEL: func.func @shape_static_range
// CHECK-NOT: kiln.shape
// CHECK: %[[C:.*]] = kiln.constant dense<[8, 768]> : tensor<2xi64>
// CHECK: return %[[C]]
func.func @shape_static_range(%x: tensor<?x8x768xf32>) -> tensor<2xi64> {
  %0 = kiln.shape %x {start = 1 : i64, end = 3 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @shape_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x768xf32>)
// CHECK: %[[S:.*]] = kiln.shape %[[X]] {end = 2 : i64, start = 0 : i64}
// CHECK: return %[[S]]
func.func @shape_dynamic(%x: tensor<?x8x768xf32>) -> tensor<2xi64> {
  %0 = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @size
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[Y:.*]]: tensor<?x4xf32>)
// CHECK-DAG: %[[C:.*]] = kiln.constant dense<24> : tensor<i64>
// CHECK-DAG: %[[S:.*]] = kiln.size %[[Y]] : (tensor<?x4xf32>) -> tensor<i64>
// CHECK: return %[[C]], %[[S]]
func.func @size(%x: tensor<2x3x4xf32>, %y: tensor<?x4xf32>) -> (tensor<i64>, tensor<i64>) {
  %0 = kiln.size %x : (tensor<2x3x4xf32>) -> tensor<i64>
  %1 = kiln.size %y : (tensor<?x4xf32>) -> tensor<i64>
  return %0, %1 : tensor<i64>, tensor<i64>
}

// -----

// The ONNX shape subgraph Shape -> Gather -> Unsqueeze -> Concat collapses to
// one constant once the input's dims are static.
// CHECK-LABEL: func.func @shape_subgraph
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x768xf32>)
// CHECK-NOT: kiln.shape
// CHECK-NOT: kiln.gather
// CHECK-NOT: kiln.unsqueeze
// CHECK-NOT: kiln.concat
// CHECK: %[[T:.*]] = kiln.constant dense<[2, 8, 12, 64]> : tensor<4xi64>
// CHECK: %[[R:.*]] = kiln.reshape %[[X]], %[[T]] : (tensor<2x8x768xf32>, tensor<4xi64>) -> tensor<2x8x12x64xf32>
// CHECK: return %[[R]]
func.func @shape_subgraph(%x: tensor<2x8x768xf32>) -> tensor<2x8x12x64xf32> {
  %s = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<2x8x768xf32>) -> tensor<3xi64>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %b = kiln.gather %s, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %l = kiln.gather %s, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bu = kiln.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %lu = kiln.unsqueeze %l {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %h = kiln.constant dense<[12, 64]> : tensor<2xi64>
  %t = kiln.concat %bu, %lu, %h {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<2x8x768xf32>, tensor<4xi64>) -> tensor<2x8x12x64xf32>
  return %r : tensor<2x8x12x64xf32>
}

// -----

// With a symbolic batch, the static entries still fold: x.size(1) and
// x.size(-1) are constants (the import's shape inference then makes a Range
// over x.size(1) one too). The symbolic entry stays a gather of the shape.
// CHECK-LABEL: func.func @partial_shape
// CHECK-DAG: %[[L:.*]] = kiln.constant dense<8> : tensor<i64>
// CHECK-DAG: %[[W:.*]] = kiln.constant dense<[768, 8]> : tensor<2xi64>
// CHECK-DAG: %[[B:.*]] = kiln.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
// CHECK: return %[[B]], %[[L]], %[[W]]
func.func @partial_shape(%x: tensor<?x8x768xf32>) -> (tensor<i64>, tensor<i64>, tensor<2xi64>) {
  %s = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<?x8x768xf32>) -> tensor<3xi64>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %j = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %b = kiln.gather %s, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %l = kiln.gather %s, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %w = kiln.gather %s, %j {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %b, %l, %w : tensor<i64>, tensor<i64>, tensor<2xi64>
}

// -----

// A shape cast to another type first is left alone: its entries would have
// to be built in that type, not as the i64 that the shape holds.
// CHECK-LABEL: func.func @cast_shape
// CHECK-COUNT-2: kiln.gather
func.func @cast_shape(%x: tensor<?x8xf32>) -> (tensor<i32>, tensor<f32>) {
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8xf32>) -> tensor<2xi64>
  %c = kiln.cast %s : tensor<2xi64> to i32
  %f = kiln.cast %s : tensor<2xi64> to f32
  %i1 = kiln.constant dense<1> : tensor<i64>
  %a = kiln.gather %c, %i1 {axis = 0 : i64} : (tensor<2xi32>, tensor<i64>) -> tensor<i32>
  %b = kiln.gather %f, %i1 {axis = 0 : i64} : (tensor<2xf32>, tensor<i64>) -> tensor<f32>
  return %a, %b : tensor<i32>, tensor<f32>
}

//===----------------------------------------------------------------------===//
// Generators
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @constant_of_shape
// CHECK-DAG: %[[F:.*]] = kiln.constant dense<1.500000e+00> : tensor<2x3xf32>
// CHECK-DAG: %[[I:.*]] = kiln.constant dense<0> : tensor<4xi64>
// CHECK-NOT: kiln.constant_of_shape
// CHECK: return %[[F]], %[[I]]
func.func @constant_of_shape() -> (tensor<2x3xf32>, tensor<4xi64>) {
  %s = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %0 = kiln.constant_of_shape %s {value = 1.5 : f32} : (tensor<2xi64>) -> tensor<2x3xf32>
  %t = kiln.constant dense<4> : tensor<1xi64>
  %1 = kiln.constant_of_shape %t {value = 0 : i64} : (tensor<1xi64>) -> tensor<4xi64>
  return %0, %1 : tensor<2x3xf32>, tensor<4xi64>
}

// -----

// A dynamic result shape cannot fold, nor can one above the folding cap
// (65536 elements) - weights are never expanded in the compiler.
// CHECK-LABEL: func.func @constant_of_shape_no_fold
// CHECK-SAME: (%[[S:.*]]: tensor<2xi64>)
// CHECK: kiln.constant_of_shape %[[S]] {value = 0.000000e+00 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
// CHECK: kiln.constant_of_shape %{{.*}} {value = 0.000000e+00 : f32} : (tensor<2xi64>) -> tensor<256x257xf32>
func.func @constant_of_shape_no_fold(%s: tensor<2xi64>) -> (tensor<?x?xf32>, tensor<256x257xf32>) {
  %0 = kiln.constant_of_shape %s {value = 0.0 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
  %big = kiln.constant dense<[256, 257]> : tensor<2xi64>
  %1 = kiln.constant_of_shape %big {value = 0.0 : f32} : (tensor<2xi64>) -> tensor<256x257xf32>
  return %0, %1 : tensor<?x?xf32>, tensor<256x257xf32>
}

// -----

// CHECK-LABEL: func.func @range
// CHECK-DAG: %[[UP:.*]] = kiln.constant dense<[0, 3, 6, 9]> : tensor<4xi64>
// CHECK-DAG: %[[DOWN:.*]] = kiln.constant dense<[10, 7, 4, 1]> : tensor<4xi64>
// CHECK-DAG: %[[F:.*]] = kiln.constant dense<[5.000000e-01, 7.500000e-01, 1.000000e+00]> : tensor<3xf32>
// CHECK-DAG: %[[I32:.*]] = kiln.constant dense<[-2, -1, 0]> : tensor<3xi32>
// CHECK-NOT: kiln.range
// CHECK: return %[[UP]], %[[DOWN]], %[[F]], %[[I32]]
func.func @range() -> (tensor<4xi64>, tensor<4xi64>, tensor<3xf32>, tensor<3xi32>) {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %c10 = kiln.constant dense<10> : tensor<i64>
  %c3 = kiln.constant dense<3> : tensor<i64>
  %cm3 = kiln.constant dense<-3> : tensor<i64>
  %0 = kiln.range %c0, %c10, %c3 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %1 = kiln.range %c10, %c0, %cm3 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %fs = kiln.constant dense<0.5> : tensor<f32>
  %fl = kiln.constant dense<1.1> : tensor<f32>
  %fd = kiln.constant dense<0.25> : tensor<f32>
  %2 = kiln.range %fs, %fl, %fd : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<3xf32>
  %is = kiln.constant dense<-2> : tensor<1xi32>
  %il = kiln.constant dense<1> : tensor<1xi32>
  %id = kiln.constant dense<1> : tensor<1xi32>
  %3 = kiln.range %is, %il, %id : (tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<3xi32>
  return %0, %1, %2, %3 : tensor<4xi64>, tensor<4xi64>, tensor<3xf32>, tensor<3xi32>
}

// -----

// A run-time start or delta (or a length not yet known) does not fold.
// CHECK-LABEL: func.func @range_no_fold
// CHECK-SAME: (%[[N:.*]]: tensor<i64>)
// CHECK: kiln.range %[[N]], %{{.*}}, %{{.*}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
// CHECK: kiln.range %{{.*}}, %[[N]], %{{.*}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
func.func @range_no_fold(%n: tensor<i64>) -> (tensor<4xi64>, tensor<?xi64>) {
  %c10 = kiln.constant dense<10> : tensor<i64>
  %c1 = kiln.constant dense<1> : tensor<i64>
  %0 = kiln.range %n, %c10, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %c0 = kiln.constant dense<0> : tensor<i64>
  %1 = kiln.range %c0, %n, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0, %1 : tensor<4xi64>, tensor<?xi64>
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @add
// CHECK-DAG: %[[I:.*]] = kiln.constant dense<{{\[}}[11, 22], [13, 24]]> : tensor<2x2xi64>
// CHECK-DAG: %[[F:.*]] = kiln.constant dense<[1.500000e+00, 2.500000e+00]> : tensor<2xf32>
// CHECK-NOT: kiln.add
// CHECK: return %[[I]], %[[F]]
func.func @add() -> (tensor<2x2xi64>, tensor<2xf32>) {
  %a = kiln.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %b = kiln.constant dense<[10, 20]> : tensor<2xi64>
  %0 = kiln.add %a, %b : (tensor<2x2xi64>, tensor<2xi64>) -> tensor<2x2xi64>
  %c = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %d = kiln.constant dense<0.5> : tensor<f32>
  %1 = kiln.add %c, %d : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  return %0, %1 : tensor<2x2xi64>, tensor<2xf32>
}

// -----

// Broadcasting both ways: (2x1) - (3) is 2x3.
// CHECK-LABEL: func.func @sub
// CHECK: %[[C:.*]] = kiln.constant dense<{{\[}}[9, 8, 7], [19, 18, 17]]> : tensor<2x3xi64>
// CHECK-NOT: kiln.sub
// CHECK: return %[[C]]
func.func @sub() -> tensor<2x3xi64> {
  %a = kiln.constant dense<[[10], [20]]> : tensor<2x1xi64>
  %b = kiln.constant dense<[1, 2, 3]> : tensor<3xi64>
  %0 = kiln.sub %a, %b : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// CHECK-LABEL: func.func @mul
// CHECK-DAG: %[[I:.*]] = kiln.constant dense<[-2, 4, 6]> : tensor<3xi64>
// CHECK-DAG: %[[F:.*]] = kiln.constant dense<-7.500000e-01> : tensor<f32>
// CHECK-NOT: kiln.mul
// CHECK: return %[[I]], %[[F]]
func.func @mul() -> (tensor<3xi64>, tensor<f32>) {
  %a = kiln.constant dense<[-1, 2, 3]> : tensor<3xi64>
  %b = kiln.constant dense<2> : tensor<i64>
  %0 = kiln.mul %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  %c = kiln.constant dense<1.5> : tensor<f32>
  %d = kiln.constant dense<-0.5> : tensor<f32>
  %1 = kiln.mul %c, %d : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0, %1 : tensor<3xi64>, tensor<f32>
}

// -----

// Integer division truncates toward zero; float division follows IEEE.
// CHECK-LABEL: func.func @div
// CHECK-DAG: %[[I:.*]] = kiln.constant dense<[3, -3, -3, 3]> : tensor<4xi64>
// CHECK-DAG: %[[F:.*]] = kiln.constant dense<[2.500000e+00, 0x7F800000]> : tensor<2xf32>
// CHECK-NOT: kiln.div
// CHECK: return %[[I]], %[[F]]
func.func @div() -> (tensor<4xi64>, tensor<2xf32>) {
  %a = kiln.constant dense<[7, -7, 7, -7]> : tensor<4xi64>
  %b = kiln.constant dense<[2, 2, -2, -2]> : tensor<4xi64>
  %0 = kiln.div %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %c = kiln.constant dense<[5.0, 1.0]> : tensor<2xf32>
  %d = kiln.constant dense<[2.0, 0.0]> : tensor<2xf32>
  %1 = kiln.div %c, %d : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0, %1 : tensor<4xi64>, tensor<2xf32>
}

// -----

// Integer division by zero is undefined: leave it for run time.
// CHECK-LABEL: func.func @div_by_zero
// CHECK: %[[R:.*]] = kiln.div %{{.*}}, %{{.*}} : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
// CHECK: return %[[R]]
func.func @div_by_zero() -> tensor<2xi64> {
  %a = kiln.constant dense<[4, 6]> : tensor<2xi64>
  %b = kiln.constant dense<[2, 0]> : tensor<2xi64>
  %0 = kiln.div %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// Without fmod the remainder takes the divisor's sign (Python %); with fmod
// the dividend's (C fmod).
// CHECK-LABEL: func.func @mod
// CHECK-DAG: %[[PY:.*]] = kiln.constant dense<[1, 2, -2, -1, 0]> : tensor<5xi64>
// CHECK-DAG: %[[C:.*]] = kiln.constant dense<[1, -1, 1, -1, 0]> : tensor<5xi64>
// CHECK-NOT: kiln.mod
// CHECK: return %[[PY]], %[[C]]
func.func @mod() -> (tensor<5xi64>, tensor<5xi64>) {
  %a = kiln.constant dense<[7, -7, 7, -7, 6]> : tensor<5xi64>
  %b = kiln.constant dense<[3, 3, -3, -3, 3]> : tensor<5xi64>
  %0 = kiln.mod %a, %b : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %1 = kiln.mod %a, %b {fmod = true} : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  return %0, %1 : tensor<5xi64>, tensor<5xi64>
}

// -----

// Unsigned integers divide, take remainders and compare as unsigned values:
// 200 is not -56.
// CHECK-LABEL: func.func @unsigned_arithmetic
// CHECK-DAG: %[[DIV:.*]] = kiln.constant dense<[66, 1]> : tensor<2xui8>
// CHECK-DAG: %[[MOD:.*]] = kiln.constant dense<[2, 0]> : tensor<2xui8>
// CHECK-DAG: %[[MAX:.*]] = kiln.constant dense<200> : tensor<2xui8>
// CHECK-DAG: %[[MIN:.*]] = kiln.constant dense<[3, 200]> : tensor<2xui8>
// CHECK-NOT: kiln.div
// CHECK: return %[[DIV]], %[[MOD]], %[[MAX]], %[[MIN]]
func.func @unsigned_arithmetic() -> (tensor<2xui8>, tensor<2xui8>, tensor<2xui8>, tensor<2xui8>) {
  %a = kiln.constant dense<[200, 200]> : tensor<2xui8>
  %b = kiln.constant dense<[3, 200]> : tensor<2xui8>
  %0 = kiln.div %a, %b : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %1 = kiln.mod %a, %b : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %2 = kiln.max %a, %b : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %3 = kiln.min %a, %b : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  return %0, %1, %2, %3 : tensor<2xui8>, tensor<2xui8>, tensor<2xui8>, tensor<2xui8>
}

// -----

// Modulo by zero is not folded, nor is a float modulo.
// CHECK-LABEL: func.func @mod_no_fold
// CHECK: kiln.mod %{{.*}}, %{{.*}} : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
// CHECK: kiln.mod %{{.*}}, %{{.*}} {fmod = true} : (tensor<f32>, tensor<f32>) -> tensor<f32>
func.func @mod_no_fold() -> (tensor<2xi64>, tensor<f32>) {
  %a = kiln.constant dense<[4, 6]> : tensor<2xi64>
  %z = kiln.constant dense<0> : tensor<i64>
  %0 = kiln.mod %a, %z : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %f = kiln.constant dense<5.5> : tensor<f32>
  %g = kiln.constant dense<2.0> : tensor<f32>
  %1 = kiln.mod %f, %g {fmod = true} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0, %1 : tensor<2xi64>, tensor<f32>
}

// -----

// CHECK-LABEL: func.func @pow_max_min
// CHECK-DAG: %[[P:.*]] = kiln.constant dense<[8.000000e+00, 2.500000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[X:.*]] = kiln.constant dense<[3, 5]> : tensor<2xi64>
// CHECK-DAG: %[[N:.*]] = kiln.constant dense<[-4, 2]> : tensor<2xi64>
// CHECK-NOT: kiln.pow
// CHECK-NOT: kiln.max
// CHECK-NOT: kiln.min
// CHECK: return %[[P]], %[[X]], %[[N]]
func.func @pow_max_min() -> (tensor<2xf32>, tensor<2xi64>, tensor<2xi64>) {
  %a = kiln.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %b = kiln.constant dense<[3.0, 2.0]> : tensor<2xf32>
  %0 = kiln.pow %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %c = kiln.constant dense<[-4, 5]> : tensor<2xi64>
  %d = kiln.constant dense<[3, 2]> : tensor<2xi64>
  %1 = kiln.max %c, %d : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %2 = kiln.min %c, %d : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0, %1, %2 : tensor<2xf32>, tensor<2xi64>, tensor<2xi64>
}

// -----

// One constant operand is not enough.
// CHECK-LABEL: func.func @arithmetic_non_constant
// CHECK-SAME: (%[[X:.*]]: tensor<2xi64>)
// CHECK: %[[C:.*]] = kiln.constant dense<[1, 2]> : tensor<2xi64>
// CHECK: %[[A:.*]] = kiln.add %[[X]], %[[C]]
// CHECK: %[[M:.*]] = kiln.mul %[[A]], %[[C]]
// CHECK: return %[[M]]
func.func @arithmetic_non_constant(%x: tensor<2xi64>) -> tensor<2xi64> {
  %c = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %0 = kiln.add %x, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %1 = kiln.mul %0, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %1 : tensor<2xi64>
}

// -----

// A result with a dynamic dim does not fold even with constant operands.
// CHECK-LABEL: func.func @arithmetic_dynamic_result
// CHECK: %[[A:.*]] = kiln.add %{{.*}}, %{{.*}} : (tensor<2xi64>, tensor<2xi64>) -> tensor<?xi64>
// CHECK: return %[[A]]
func.func @arithmetic_dynamic_result() -> tensor<?xi64> {
  %c = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %0 = kiln.add %c, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

//===----------------------------------------------------------------------===//
// Comparisons, logic and select
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @comparisons
// CHECK-DAG: %[[EQ:.*]] = kiln.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[LT:.*]] = kiln.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-DAG: %[[LE:.*]] = kiln.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[GT:.*]] = kiln.constant dense<[false, false, true]> : tensor<3xi1>
// CHECK-DAG: %[[GE:.*]] = kiln.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK-NOT: kiln.equal
// CHECK-NOT: kiln.less
// CHECK-NOT: kiln.greater
// CHECK: return %[[EQ]], %[[LT]], %[[LE]], %[[GT]], %[[GE]]
func.func @comparisons() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>) {
  %a = kiln.constant dense<[-1, 0, 1]> : tensor<3xi64>
  %b = kiln.constant dense<0> : tensor<i64>
  %0 = kiln.equal %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %1 = kiln.less %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %2 = kiln.less_equal %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %3 = kiln.greater %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %4 = kiln.greater_equal %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  return %0, %1, %2, %3, %4 : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>
}

// -----

// Every comparison with NaN is false (so equal(NaN, NaN) too).
// CHECK-LABEL: func.func @comparisons_float
// CHECK-DAG: %[[EQ:.*]] = kiln.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[GE:.*]] = kiln.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK: return %[[EQ]], %[[GE]]
func.func @comparisons_float() -> (tensor<3xi1>, tensor<3xi1>) {
  %a = kiln.constant dense<[0x7FC00000, 1.0, 2.0]> : tensor<3xf32>
  %b = kiln.constant dense<[0x7FC00000, 1.0, 1.0]> : tensor<3xf32>
  %0 = kiln.equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  %1 = kiln.greater_equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return %0, %1 : tensor<3xi1>, tensor<3xi1>
}

// -----

// CHECK-LABEL: func.func @comparison_non_constant
// CHECK-SAME: (%[[X:.*]]: tensor<3xi64>)
// CHECK: %[[E:.*]] = kiln.equal %[[X]], %{{.*}} : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
// CHECK: return %[[E]]
func.func @comparison_non_constant(%x: tensor<3xi64>) -> tensor<3xi1> {
  %b = kiln.constant dense<0> : tensor<i64>
  %0 = kiln.equal %x, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

// CHECK-LABEL: func.func @logic
// CHECK-DAG: %[[AND:.*]] = kiln.constant dense<[false, false, false, true]> : tensor<4xi1>
// CHECK-DAG: %[[OR:.*]] = kiln.constant dense<[false, true, true, true]> : tensor<4xi1>
// CHECK-DAG: %[[XOR:.*]] = kiln.constant dense<[false, true, true, false]> : tensor<4xi1>
// CHECK-DAG: %[[NOT:.*]] = kiln.constant dense<[true, true, false, false]> : tensor<4xi1>
// CHECK-NOT: kiln.and
// CHECK-NOT: kiln.or
// CHECK-NOT: kiln.xor
// CHECK-NOT: kiln.not
// CHECK: return %[[AND]], %[[OR]], %[[XOR]], %[[NOT]]
func.func @logic() -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %a = kiln.constant dense<[false, false, true, true]> : tensor<4xi1>
  %b = kiln.constant dense<[false, true, false, true]> : tensor<4xi1>
  %0 = kiln.and %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = kiln.or %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = kiln.xor %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %3 = kiln.not %a : tensor<4xi1>
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @not_non_constant
// CHECK-SAME: (%[[X:.*]]: tensor<4xi1>)
// CHECK: %[[N:.*]] = kiln.not %[[X]] : tensor<4xi1>
// CHECK: return %[[N]]
func.func @not_non_constant(%x: tensor<4xi1>) -> tensor<4xi1> {
  %0 = kiln.not %x : tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// All three operands constant (and broadcast): an elementwise select.
// CHECK-LABEL: func.func @where_constant
// CHECK: %[[C:.*]] = kiln.constant dense<{{\[}}[1, 0], [2, 2]]> : tensor<2x2xi64>
// CHECK-NOT: kiln.where
// CHECK: return %[[C]]
func.func @where_constant() -> tensor<2x2xi64> {
  %c = kiln.constant dense<[[true, false], [false, false]]> : tensor<2x2xi1>
  %x = kiln.constant dense<1> : tensor<i64>
  %y = kiln.constant dense<[[0, 0], [2, 2]]> : tensor<2x2xi64>
  %0 = kiln.where %c, %x, %y : (tensor<2x2xi1>, tensor<i64>, tensor<2x2xi64>) -> tensor<2x2xi64>
  return %0 : tensor<2x2xi64>
}

// -----

// A splat condition picks x or y, constant or not, when no broadcast is needed.
// CHECK-LABEL: func.func @where_splat_condition
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK-NOT: kiln.where
// CHECK: return %[[X]], %[[Y]]
func.func @where_splat_condition(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t = kiln.constant dense<true> : tensor<4xi1>
  %f = kiln.constant dense<false> : tensor<i1>
  %0 = kiln.where %t, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = kiln.where %f, %x, %y : (tensor<i1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// A splat condition choosing an operand that would need broadcasting, a
// non-splat condition with run-time values, and a run-time condition all
// stay.
// CHECK-LABEL: func.func @where_no_fold
// CHECK-SAME: (%[[C:.*]]: tensor<4xi1>, %[[X:.*]]: tensor<f32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK: kiln.where %{{.*}}, %[[X]], %[[Y]] : (tensor<4xi1>, tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: kiln.where %{{.*}}, %[[Y]], %[[Y]] : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: kiln.where %[[C]], %{{.*}}, %{{.*}} : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
func.func @where_no_fold(%c: tensor<4xi1>, %x: tensor<f32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %t = kiln.constant dense<true> : tensor<4xi1>
  %0 = kiln.where %t, %x, %y : (tensor<4xi1>, tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %m = kiln.constant dense<[true, false, true, false]> : tensor<4xi1>
  %1 = kiln.where %m, %y, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %a = kiln.constant dense<1.0> : tensor<4xf32>
  %b = kiln.constant dense<2.0> : tensor<4xf32>
  %2 = kiln.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @neg
// CHECK-DAG: %[[I:.*]] = kiln.constant dense<[-3, 0, 4]> : tensor<3xi64>
// CHECK-DAG: %[[F:.*]] = kiln.constant dense<[-1.500000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NOT: kiln.neg
// CHECK: return %[[I]], %[[F]]
func.func @neg() -> (tensor<3xi64>, tensor<2xf32>) {
  %a = kiln.constant dense<[3, 0, -4]> : tensor<3xi64>
  %0 = kiln.neg %a : tensor<3xi64>
  %b = kiln.constant dense<[1.5, -2.0]> : tensor<2xf32>
  %1 = kiln.neg %b : tensor<2xf32>
  return %0, %1 : tensor<3xi64>, tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @neg_non_constant
// CHECK-SAME: (%[[X:.*]]: tensor<3xi64>)
// CHECK: %[[N:.*]] = kiln.neg %[[X]] : tensor<3xi64>
// CHECK: return %[[N]]
func.func @neg_non_constant(%x: tensor<3xi64>) -> tensor<3xi64> {
  %0 = kiln.neg %x : tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// Only integer and float elements are folded (no crash on index).
// CHECK-LABEL: func.func @fold_index_elements
// CHECK: kiln.neg %{{.*}} : tensor<2xindex>
// CHECK: kiln.range %{{.*}}, %{{.*}}, %{{.*}} : (tensor<index>, tensor<index>, tensor<index>) -> tensor<3xindex>
func.func @fold_index_elements() -> (tensor<2xindex>, tensor<3xindex>) {
  %a = kiln.constant dense<[1, 2]> : tensor<2xindex>
  %0 = kiln.neg %a : tensor<2xindex>
  %s = kiln.constant dense<0> : tensor<index>
  %l = kiln.constant dense<3> : tensor<index>
  %d = kiln.constant dense<1> : tensor<index>
  %1 = kiln.range %s, %l, %d : (tensor<index>, tensor<index>, tensor<index>) -> tensor<3xindex>
  return %0, %1 : tensor<2xindex>, tensor<3xindex>
}

// -----

// A cast to the operand's own element type is a no-op.
// CHECK-LABEL: func.func @cast_same_type
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK-NOT: kiln.cast
// CHECK: return %[[X]]
func.func @cast_same_type(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = kiln.cast %x : tensor<?x4xf32> to f32
  return %0 : tensor<?x4xf32>
}

// -----

// Integers sign-extend or truncate; int -> float rounds; float -> int
// truncates toward zero; anything -> i1 is "not zero"; i1 -> int is 0 or 1.
// CHECK-LABEL: func.func @cast_constant
// CHECK-DAG: %[[I32:.*]] = kiln.constant dense<[-1, 0, 0]> : tensor<3xi32>
// CHECK-DAG: %[[F:.*]] = kiln.constant dense<[-1.000000e+00, 0.000000e+00, 4.2949673E+9]> : tensor<3xf32>
// CHECK-DAG: %[[B:.*]] = kiln.constant dense<[true, false, true]> : tensor<3xi1>
// CHECK-DAG: %[[T:.*]] = kiln.constant dense<[2, -2, 0]> : tensor<3xi64>
// CHECK-DAG: %[[H:.*]] = kiln.constant dense<[2.500000e+00, -2.750000e+00, 0.000000e+00]> : tensor<3xf16>
// CHECK-DAG: %[[E:.*]] = kiln.constant dense<[1, 0]> : tensor<2xi64>
// CHECK-NOT: kiln.cast
// CHECK: return %[[I32]], %[[F]], %[[B]], %[[T]], %[[H]], %[[E]]
func.func @cast_constant() -> (tensor<3xi32>, tensor<3xf32>, tensor<3xi1>, tensor<3xi64>, tensor<3xf16>, tensor<2xi64>) {
  %a = kiln.constant dense<[-1, 0, 4294967296]> : tensor<3xi64>
  %0 = kiln.cast %a : tensor<3xi64> to i32
  %1 = kiln.cast %a : tensor<3xi64> to f32
  %2 = kiln.cast %a : tensor<3xi64> to i1
  %f = kiln.constant dense<[2.5, -2.75, 0.0]> : tensor<3xf32>
  %3 = kiln.cast %f : tensor<3xf32> to i64
  %4 = kiln.cast %f : tensor<3xf32> to f16
  %b = kiln.constant dense<[true, false]> : tensor<2xi1>
  %5 = kiln.cast %b : tensor<2xi1> to i64
  return %0, %1, %2, %3, %4, %5 : tensor<3xi32>, tensor<3xf32>, tensor<3xi1>, tensor<3xi64>, tensor<3xf16>, tensor<2xi64>
}

// -----

// NaN has no integer value: the cast stays for run time. So does a cast of a
// run-time value.
// CHECK-LABEL: func.func @cast_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<2xf32>)
// CHECK: kiln.cast %{{.*}} : tensor<2xf32> to i32
// CHECK: kiln.cast %[[X]] : tensor<2xf32> to i32
func.func @cast_no_fold(%x: tensor<2xf32>) -> (tensor<2xi32>, tensor<2xi32>) {
  %n = kiln.constant dense<[1.0, 0x7FC00000]> : tensor<2xf32>
  %0 = kiln.cast %n : tensor<2xf32> to i32
  %1 = kiln.cast %x : tensor<2xf32> to i32
  return %0, %1 : tensor<2xi32>, tensor<2xi32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @gather
// CHECK-DAG: %[[S:.*]] = kiln.constant dense<8> : tensor<i64>
// CHECK-DAG: %[[V:.*]] = kiln.constant dense<[768, 2]> : tensor<2xi64>
// CHECK-DAG: %[[M:.*]] = kiln.constant dense<{{\[}}[3, 1], [6, 4]]> : tensor<2x2xi64>
// CHECK-NOT: kiln.gather
// CHECK: return %[[S]], %[[V]], %[[M]]
func.func @gather() -> (tensor<i64>, tensor<2xi64>, tensor<2x2xi64>) {
  %s = kiln.constant dense<[2, 8, 768]> : tensor<3xi64>
  // 0-D index: a scalar.
  %i = kiln.constant dense<1> : tensor<i64>
  %0 = kiln.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  // Negative indices count from the end; i32 indices.
  %j = kiln.constant dense<[-1, 0]> : tensor<2xi32>
  %1 = kiln.gather %s, %j {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi32>) -> tensor<2xi64>
  // Along axis 1 of a matrix.
  %m = kiln.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %k = kiln.constant dense<[2, 0]> : tensor<2xi64>
  %2 = kiln.gather %m, %k {axis = 1 : i64} : (tensor<2x3xi64>, tensor<2xi64>) -> tensor<2x2xi64>
  return %0, %1, %2 : tensor<i64>, tensor<2xi64>, tensor<2x2xi64>
}

// -----

// Out-of-range indices, run-time indices and run-time data stay.
// CHECK-LABEL: func.func @gather_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<3xi64>, %[[I:.*]]: tensor<i64>)
// CHECK: kiln.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
// CHECK: kiln.gather %{{.*}}, %[[I]] {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
// CHECK: kiln.gather %[[X]], %{{.*}} {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
func.func @gather_no_fold(%x: tensor<3xi64>, %i: tensor<i64>) -> (tensor<i64>, tensor<i64>, tensor<i64>) {
  %s = kiln.constant dense<[2, 8, 768]> : tensor<3xi64>
  %c3 = kiln.constant dense<3> : tensor<i64>
  %0 = kiln.gather %s, %c3 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %1 = kiln.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %c0 = kiln.constant dense<0> : tensor<i64>
  %2 = kiln.gather %x, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  return %0, %1, %2 : tensor<i64>, tensor<i64>, tensor<i64>
}

// -----

// A lookup in a quantized table dequantizes only the rows it picks: per
// tensor, and per axis when the gather keeps that axis (the scale's axis
// moves by the indices' rank less one).
// CHECK-LABEL: func.func @gather_before_dequantize
// CHECK-SAME: (%[[T:.*]]: tensor<100x8xui8>, %[[I:.*]]: tensor<1x5xi64>, %[[S:.*]]: tensor<f32>, %[[Z:.*]]: tensor<ui8>, %[[C:.*]]: tensor<8xf32>)
// CHECK: %[[G:.*]] = kiln.gather %[[T]], %[[I]] {axis = 0 : i64} : (tensor<100x8xui8>, tensor<1x5xi64>) -> tensor<1x5x8xui8>
// CHECK: kiln.dequantize_linear %[[G]], %[[S]], %[[Z]] {{.*}} : (tensor<1x5x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x5x8xf32>
// CHECK: %[[H:.*]] = kiln.gather %[[T]], %[[I]] {axis = 0 : i64} : (tensor<100x8xui8>, tensor<1x5xi64>) -> tensor<1x5x8xui8>
// CHECK: kiln.dequantize_linear %[[H]], %[[C]] {axis = 2 : i64} : (tensor<1x5x8xui8>, tensor<8xf32>) -> tensor<1x5x8xf32>
func.func @gather_before_dequantize(%t: tensor<100x8xui8>, %i: tensor<1x5xi64>, %s: tensor<f32>, %z: tensor<ui8>, %c: tensor<8xf32>) -> (tensor<1x5x8xf32>, tensor<1x5x8xf32>) {
  %d = kiln.dequantize_linear %t, %s, %z : (tensor<100x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<100x8xf32>
  %0 = kiln.gather %d, %i {axis = 0 : i64} : (tensor<100x8xf32>, tensor<1x5xi64>) -> tensor<1x5x8xf32>
  %e = kiln.dequantize_linear %t, %c {axis = 1 : i64} : (tensor<100x8xui8>, tensor<8xf32>) -> tensor<100x8xf32>
  %1 = kiln.gather %e, %i {axis = 0 : i64} : (tensor<100x8xf32>, tensor<1x5xi64>) -> tensor<1x5x8xf32>
  return %0, %1 : tensor<1x5x8xf32>, tensor<1x5x8xf32>
}

// -----

// Scales along the gathered axis (or in blocks) would have to be gathered
// too: left as they are.
// CHECK-LABEL: func.func @gather_after_dequantize_per_row
// CHECK: %[[D:.*]] = kiln.dequantize_linear
// CHECK: kiln.gather %[[D]]
// CHECK: %[[E:.*]] = kiln.dequantize_linear
// CHECK: kiln.gather %[[E]]
func.func @gather_after_dequantize_per_row(%t: tensor<100x8xi8>, %i: tensor<5xi64>, %r: tensor<100xf32>, %b: tensor<100x4xf32>) -> (tensor<5x8xf32>, tensor<5x8xf32>) {
  %d = kiln.dequantize_linear %t, %r {axis = 0 : i64} : (tensor<100x8xi8>, tensor<100xf32>) -> tensor<100x8xf32>
  %0 = kiln.gather %d, %i {axis = 0 : i64} : (tensor<100x8xf32>, tensor<5xi64>) -> tensor<5x8xf32>
  %e = kiln.dequantize_linear %t, %b {axis = 1 : i64, block_size = 2 : i64} : (tensor<100x8xi8>, tensor<100x4xf32>) -> tensor<100x8xf32>
  %1 = kiln.gather %e, %i {axis = 0 : i64} : (tensor<100x8xf32>, tensor<5xi64>) -> tensor<5x8xf32>
  return %0, %1 : tensor<5x8xf32>, tensor<5x8xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-DAG: %[[V:.*]] = kiln.constant dense<[1, 2, 3, 4, 5]> : tensor<5xi64>
// CHECK-DAG: %[[M:.*]] = kiln.constant dense<{{\[}}[1, 2, 5], [3, 4, 6]]> : tensor<2x3xi64>
// CHECK-NOT: kiln.concat
// CHECK: return %[[V]], %[[M]]
func.func @concat() -> (tensor<5xi64>, tensor<2x3xi64>) {
  %a = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %b = kiln.constant dense<3> : tensor<1xi64>
  %c = kiln.constant dense<[4, 5]> : tensor<2xi64>
  %0 = kiln.concat %a, %b, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<5xi64>
  %m = kiln.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %n = kiln.constant dense<[[5], [6]]> : tensor<2x1xi64>
  %1 = kiln.concat %m, %n {axis = 1 : i64} : (tensor<2x2xi64>, tensor<2x1xi64>) -> tensor<2x3xi64>
  return %0, %1 : tensor<5xi64>, tensor<2x3xi64>
}

// -----

// A concat of one input is that input.
// CHECK-LABEL: func.func @concat_single
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK-NOT: kiln.concat
// CHECK: return %[[X]]
func.func @concat_single(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = kiln.concat %x {axis = 1 : i64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// One run-time part keeps the concat.
// CHECK-LABEL: func.func @concat_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<1xi64>)
// CHECK: %[[C:.*]] = kiln.concat %[[X]], %{{.*}} {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
// CHECK: return %[[C]]
func.func @concat_no_fold(%x: tensor<1xi64>) -> tensor<3xi64> {
  %c = kiln.constant dense<[12, 64]> : tensor<2xi64>
  %0 = kiln.concat %x, %c {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @unsqueeze_squeeze
// CHECK-DAG: %[[U:.*]] = kiln.constant dense<7> : tensor<1xi64>
// CHECK-DAG: %[[Q:.*]] = kiln.constant dense<[1, 2, 3]> : tensor<3xi64>
// CHECK-DAG: %[[M:.*]] = kiln.constant dense<{{\[}}{{\[}}[1, 2]]]> : tensor<1x1x2xi64>
// CHECK-NOT: kiln.unsqueeze
// CHECK-NOT: kiln.squeeze
// CHECK: return %[[U]], %[[Q]], %[[M]]
func.func @unsqueeze_squeeze() -> (tensor<1xi64>, tensor<3xi64>, tensor<1x1x2xi64>) {
  %s = kiln.constant dense<7> : tensor<i64>
  %0 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %v = kiln.constant dense<[[1, 2, 3]]> : tensor<1x3xi64>
  %1 = kiln.squeeze %v {axes = array<i64: 0>} : (tensor<1x3xi64>) -> tensor<3xi64>
  %w = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %2 = kiln.unsqueeze %w {axes = array<i64: 0, 1>} : (tensor<2xi64>) -> tensor<1x1x2xi64>
  return %0, %1, %2 : tensor<1xi64>, tensor<3xi64>, tensor<1x1x2xi64>
}

// -----

// Squeezing no dims is the identity; run-time operands stay.
// CHECK-LABEL: func.func @unsqueeze_squeeze_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<?x1xf32>)
// CHECK: %[[U:.*]] = kiln.unsqueeze %[[X]] {axes = array<i64: 0>} : (tensor<?x1xf32>) -> tensor<1x?x1xf32>
// CHECK: %[[Q:.*]] = kiln.squeeze %[[X]] {axes = array<i64: 1>} : (tensor<?x1xf32>) -> tensor<?xf32>
// CHECK: return %[[U]], %[[Q]], %[[X]]
func.func @unsqueeze_squeeze_no_fold(%x: tensor<?x1xf32>) -> (tensor<1x?x1xf32>, tensor<?xf32>, tensor<?x1xf32>) {
  %0 = kiln.unsqueeze %x {axes = array<i64: 0>} : (tensor<?x1xf32>) -> tensor<1x?x1xf32>
  %1 = kiln.squeeze %x {axes = array<i64: 1>} : (tensor<?x1xf32>) -> tensor<?xf32>
  %2 = kiln.squeeze %x {axes = array<i64>} : (tensor<?x1xf32>) -> tensor<?x1xf32>
  return %0, %1, %2 : tensor<1x?x1xf32>, tensor<?xf32>, tensor<?x1xf32>
}

// -----

// CHECK-LABEL: func.func @slice
// CHECK-DAG: %[[A:.*]] = kiln.constant dense<[8, 768]> : tensor<2xi64>
// CHECK-DAG: %[[B:.*]] = kiln.constant dense<[9, 7, 5, 3, 1]> : tensor<5xi64>
// CHECK-DAG: %[[C:.*]] = kiln.constant dense<{{\[}}[6, 4]]> : tensor<1x2xi64>
// CHECK-NOT: kiln.slice
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @slice() -> (tensor<2xi64>, tensor<5xi64>, tensor<1x2xi64>) {
  // shape[1:] of [2, 8, 768] (ends = INT64_MAX).
  %s = kiln.constant dense<[2, 8, 768]> : tensor<3xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %0 = kiln.slice %s, %one, %max, %zero, %one : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // [0..9][-1::-2] (negative start and step).
  %r = kiln.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]> : tensor<10xi64>
  %m1 = kiln.constant dense<-1> : tensor<1xi64>
  %m2 = kiln.constant dense<-2> : tensor<1xi64>
  %min = kiln.constant dense<-9223372036854775808> : tensor<1xi64>
  %1 = kiln.slice %r, %m1, %min, %zero, %m2 : (tensor<10xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  // [[1, 2, 3], [4, 5, 6]][1:, 100:-4:-2] (start clamped to the last index).
  %m = kiln.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %st = kiln.constant dense<[1, 100]> : tensor<2xi64>
  %en = kiln.constant dense<[2, -4]> : tensor<2xi64>
  %ax = kiln.constant dense<[0, 1]> : tensor<2xi64>
  %sp = kiln.constant dense<[1, -2]> : tensor<2xi64>
  %2 = kiln.slice %m, %st, %en, %ax, %sp : (tensor<2x3xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<1x2xi64>
  return %0, %1, %2 : tensor<2xi64>, tensor<5xi64>, tensor<1x2xi64>
}

// -----

// A reversed slice of an empty tensor is empty.
// CHECK-LABEL: func.func @slice_empty
// CHECK: %[[E:.*]] = kiln.constant dense<> : tensor<0xi64>
// CHECK-NOT: kiln.slice
// CHECK: return %[[E]]
func.func @slice_empty() -> tensor<0xi64> {
  %e = kiln.constant dense<> : tensor<0xi64>
  %m1 = kiln.constant dense<-1> : tensor<1xi64>
  %min = kiln.constant dense<-9223372036854775808> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %0 = kiln.slice %e, %m1, %min, %zero, %m1 : (tensor<0xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<0xi64>
  return %0 : tensor<0xi64>
}

// -----

// Run-time data or starts keep the slice.
// CHECK-LABEL: func.func @slice_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<3xi64>, %[[S:.*]]: tensor<1xi64>)
// CHECK: kiln.slice %[[X]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : {{.*}} -> tensor<2xi64>
// CHECK: kiln.slice %{{.*}}, %[[S]], %{{.*}}, %{{.*}}, %{{.*}} : {{.*}} -> tensor<2xi64>
func.func @slice_no_fold(%x: tensor<3xi64>, %s: tensor<1xi64>) -> (tensor<2xi64>, tensor<2xi64>) {
  %one = kiln.constant dense<1> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %0 = kiln.slice %x, %one, %max, %zero, %one : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %c = kiln.constant dense<[2, 8, 768]> : tensor<3xi64>
  %1 = kiln.slice %c, %s, %max, %zero, %one : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %0, %1 : tensor<2xi64>, tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @reshape_constant
// CHECK: %[[C:.*]] = kiln.constant dense<{{\[}}[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
// CHECK-NOT: kiln.reshape
// CHECK: return %[[C]]
func.func @reshape_constant() -> tensor<2x3xi64> {
  %v = kiln.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  %s = kiln.constant dense<[2, -1]> : tensor<2xi64>
  %0 = kiln.reshape %v, %s : (tensor<6xi64>, tensor<2xi64>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// A reshape to the operand's own static type is the identity.
// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: kiln.reshape
// CHECK: return %[[X]]
func.func @reshape_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// reshape(reshape(x, s1), s2) = reshape(x, s2).
// CHECK-LABEL: func.func @reshape_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[S:.*]] = kiln.constant dense<[4, -1]> : tensor<2xi64>
// CHECK-NEXT: %[[R:.*]] = kiln.reshape %[[X]], %[[S]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %s1 = kiln.constant dense<[6, 4]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %s2 = kiln.constant dense<[4, -1]> : tensor<2xi64>
  %1 = kiln.reshape %0, %s2 : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// A 0 in the outer shape copies a dim of the inner reshape's result, which
// the composition would change: no fold. Neither does a run-time shape.
// CHECK-LABEL: func.func @reshape_reshape_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<2x12xf32>, %[[T:.*]]: tensor<2xi64>)
// CHECK: %[[A:.*]] = kiln.reshape %[[X]], %{{.*}} : (tensor<2x12xf32>, tensor<2xi64>) -> tensor<6x4xf32>
// CHECK: %[[B:.*]] = kiln.reshape %[[A]], %{{.*}} : (tensor<6x4xf32>, tensor<3xi64>) -> tensor<6x2x2xf32>
// CHECK: %[[C:.*]] = kiln.reshape %[[A]], %[[T]] : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK: return %[[B]], %[[C]]
func.func @reshape_reshape_no_fold(%x: tensor<2x12xf32>, %t: tensor<2xi64>) -> (tensor<6x2x2xf32>, tensor<?x?xf32>) {
  %s1 = kiln.constant dense<[6, 4]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<2x12xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %s2 = kiln.constant dense<[0, 2, 2]> : tensor<3xi64>
  %1 = kiln.reshape %0, %s2 : (tensor<6x4xf32>, tensor<3xi64>) -> tensor<6x2x2xf32>
  %2 = kiln.reshape %0, %t : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %1, %2 : tensor<6x2x2xf32>, tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @expand
// CHECK-DAG: %[[A:.*]] = kiln.constant dense<{{\[}}[1, 1, 1], [2, 2, 2]]> : tensor<2x3xi64>
// CHECK-DAG: %[[B:.*]] = kiln.constant dense<{{\[}}[5, 6], [5, 6]]> : tensor<2x2xi64>
// CHECK-NOT: kiln.expand
// CHECK: return %[[A]], %[[B]]
func.func @expand() -> (tensor<2x3xi64>, tensor<2x2xi64>) {
  %a = kiln.constant dense<[[1], [2]]> : tensor<2x1xi64>
  %s = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %0 = kiln.expand %a, %s : (tensor<2x1xi64>, tensor<2xi64>) -> tensor<2x3xi64>
  %b = kiln.constant dense<[5, 6]> : tensor<2xi64>
  %t = kiln.constant dense<[2, 1]> : tensor<2xi64>
  %1 = kiln.expand %b, %t : (tensor<2xi64>, tensor<2xi64>) -> tensor<2x2xi64>
  return %0, %1 : tensor<2x3xi64>, tensor<2x2xi64>
}

// -----

// Expanding to the operand's own static type is the identity; a run-time
// operand is not expanded.
// CHECK-LABEL: func.func @expand_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<1x3xf32>)
// CHECK: %[[E:.*]] = kiln.expand %[[Y]], %{{.*}} : (tensor<1x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
// CHECK: return %[[X]], %[[E]]
func.func @expand_no_fold(%x: tensor<2x3xf32>, %y: tensor<1x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %s = kiln.constant dense<[2, 1]> : tensor<2xi64>
  %0 = kiln.expand %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %1 = kiln.expand %y, %s : (tensor<1x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @transpose_identity
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x64xf32>)
// CHECK-NOT: kiln.transpose
// CHECK: return %[[X]]
func.func @transpose_identity(%x: tensor<?x8x64xf32>) -> tensor<?x8x64xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<?x8x64xf32>) -> tensor<?x8x64xf32>
  return %0 : tensor<?x8x64xf32>
}

// -----

// Two transposes compose into one: output dim i of the outer one is input
// dim p1[p2[i]].
// CHECK-LABEL: func.func @transpose_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4x5xf32>)
// CHECK: %[[T:.*]] = kiln.transpose %[[X]] {perm = array<i64: 2, 0, 3, 1>} : (tensor<2x3x4x5xf32>) -> tensor<4x2x5x3xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[T]]
func.func @transpose_transpose(%x: tensor<2x3x4x5xf32>) -> tensor<4x2x5x3xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x3x4x5xf32>) -> tensor<2x4x3x5xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 1, 0, 3, 2>} : (tensor<2x4x3x5xf32>) -> tensor<4x2x5x3xf32>
  return %1 : tensor<4x2x5x3xf32>
}

// -----

// A transpose undoing another one disappears altogether.
// CHECK-LABEL: func.func @transpose_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x12x64xf32>)
// CHECK-NOT: kiln.transpose
// CHECK: return %[[X]]
func.func @transpose_inverse(%x: tensor<?x8x12x64xf32>) -> tensor<?x8x12x64xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x8x12x64xf32>) -> tensor<?x12x64x8xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 0, 3, 1, 2>} : (tensor<?x12x64x8xf32>) -> tensor<?x8x12x64xf32>
  return %1 : tensor<?x8x12x64xf32>
}

// -----

// The inner transpose keeps its other user.
// CHECK-LABEL: func.func @transpose_transpose_shared
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-DAG: %[[A:.*]] = kiln.transpose %[[X]] {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
// CHECK-DAG: %[[B:.*]] = kiln.transpose %[[X]] {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
// CHECK: return %[[A]], %[[B]]
func.func @transpose_transpose_shared(%x: tensor<2x3x4xf32>) -> (tensor<3x2x4xf32>, tensor<3x4x2xf32>) {
  %0 = kiln.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 0, 2, 1>} : (tensor<3x2x4xf32>) -> tensor<3x4x2xf32>
  return %0, %1 : tensor<3x2x4xf32>, tensor<3x4x2xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_constant
// CHECK-DAG: %[[M:.*]] = kiln.constant dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
// CHECK-DAG: %[[S:.*]] = kiln.constant dense<1.000000e+00> : tensor<3x2xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[M]], %[[S]]
func.func @transpose_constant() -> (tensor<3x2xi64>, tensor<3x2xf32>) {
  %m = kiln.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %0 = kiln.transpose %m {perm = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi64>
  %s = kiln.constant dense<1.0> : tensor<2x3xf32>
  %1 = kiln.transpose %s {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0, %1 : tensor<3x2xi64>, tensor<3x2xf32>
}

// -----

// A non-identity transpose of a run-time value stays; so does a composition
// whose result type would be less precise than the outer op's.
// CHECK-LABEL: func.func @transpose_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<?x4xf32>)
// CHECK: %[[T:.*]] = kiln.transpose %[[X]] {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
// CHECK: %[[A:.*]] = kiln.transpose %[[Y]] {perm = array<i64: 1, 0>} : (tensor<?x4xf32>) -> tensor<4x?xf32>
// CHECK: %[[B:.*]] = kiln.transpose %[[A]] {perm = array<i64: 1, 0>} : (tensor<4x?xf32>) -> tensor<3x4xf32>
// CHECK: return %[[T]], %[[B]]
func.func @transpose_no_fold(%x: tensor<2x3xf32>, %y: tensor<?x4xf32>) -> (tensor<3x2xf32>, tensor<3x4xf32>) {
  %0 = kiln.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = kiln.transpose %y {perm = array<i64: 1, 0>} : (tensor<?x4xf32>) -> tensor<4x?xf32>
  %2 = kiln.transpose %1 {perm = array<i64: 1, 0>} : (tensor<4x?xf32>) -> tensor<3x4xf32>
  return %0, %2 : tensor<3x2xf32>, tensor<3x4xf32>
}

// -----

// Weights (resource blobs) are never expanded by folding.
// CHECK-LABEL: func.func @resource_no_fold
// CHECK: %[[W:.*]] = kiln.constant dense_resource<w> : tensor<2xi32>
// CHECK: %[[N:.*]] = kiln.neg %[[W]] : tensor<2xi32>
// CHECK: return %[[N]]
func.func @resource_no_fold() -> tensor<2xi32> {
  %w = kiln.constant dense_resource<w> : tensor<2xi32>
  %0 = kiln.neg %w : tensor<2xi32>
  return %0 : tensor<2xi32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000100000002000000"
    }
  }
#-}

// -----

// A run-time check whose condition folded to false is proven away; others
// stay.
// CHECK-LABEL: func.func @runtime_checks
// CHECK-NOT: "proven"
// CHECK: kiln.runtime_check %arg0, "unknown"
func.func @runtime_checks(%unknown: i1) {
  %false = arith.constant false
  kiln.runtime_check %false, "proven"
  kiln.runtime_check %unknown, "unknown"
  return
}
