// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// Unsigned integers keep their tensor types; the body reinterprets each
// element as the signless integer of its width (an unrealized cast that the
// LLVM lowering removes) and uses the unsigned arith forms.
// CHECK-LABEL: func.func @unsigned
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<4xui8>, tensor<ui8>) outs(%{{.*}} : tensor<4xui8>)
// CHECK: ^bb0(%[[A:.*]]: ui8, %[[B:.*]]: ui8, %{{.*}}: ui8):
// CHECK: %[[SA:.*]] = builtin.unrealized_conversion_cast %[[A]] : ui8 to i8
// CHECK: %[[SB:.*]] = builtin.unrealized_conversion_cast %[[B]] : ui8 to i8
// A zero divisor is replaced by 1 so that nothing traps (the run's
// division-by-zero check fails instead, in functions with a context).
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[SB]], %c0_i8 : i8
// CHECK: %[[SAFE:.*]] = arith.select %[[ZERO]], %c1_i8, %[[SB]] : i8
// CHECK: %[[Q:.*]] = arith.divui %[[SA]], %[[SAFE]] : i8
// CHECK: %[[R:.*]] = builtin.unrealized_conversion_cast %[[Q]] : i8 to ui8
// CHECK: linalg.yield %[[R]] : ui8
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : i8
// CHECK: arith.maxui
// CHECK: arith.remui
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<ui8>) -> (tensor<4xui8>, tensor<4xi1>, tensor<4xui8>, tensor<4xui8>) {
  %0 = kiln.div %a, %b : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  %1 = kiln.less %a, %b : (tensor<4xui8>, tensor<ui8>) -> tensor<4xi1>
  %2 = kiln.max %a, %b : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  %3 = kiln.mod %a, %b : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  return %0, %1, %2, %3 : tensor<4xui8>, tensor<4xi1>, tensor<4xui8>, tensor<4xui8>
}

// -----

// Casts extend and convert by the source's signedness, and convert to
// unsigned integers with fptoui.
// CHECK-LABEL: func.func @casts
// CHECK: ^bb0(%[[U:.*]]: ui16, %{{.*}}: f32):
// CHECK: %[[S:.*]] = builtin.unrealized_conversion_cast %[[U]] : ui16 to i16
// CHECK: arith.uitofp %[[S]] : i16 to f32
// CHECK: %[[I:.*]] = arith.fptoui %{{.*}} : f32 to i32
// CHECK: builtin.unrealized_conversion_cast %[[I]] : i32 to ui32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extui %{{.*}} : i16 to i64
func.func @casts(%a: tensor<4xui16>, %f: tensor<4xf32>, %i: tensor<4xi8>)
    -> (tensor<4xf32>, tensor<4xui32>, tensor<4xui32>, tensor<4xi64>) {
  %0 = kiln.cast %a : tensor<4xui16> to f32
  %1 = kiln.cast %f : tensor<4xf32> to ui32
  %2 = kiln.cast %i : tensor<4xi8> to ui32
  %3 = kiln.cast %a : tensor<4xui16> to i64
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xui32>, tensor<4xui32>, tensor<4xi64>
}

// -----

// softplus is max(x, 0) + log1p(exp(-|x|)), which cannot overflow.
// CHECK-LABEL: func.func @softplus
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[ABS:.*]] = math.absf %[[X]] : f32
// CHECK: %[[NEG:.*]] = arith.negf %[[ABS]] : f32
// CHECK: %[[EXP:.*]] = math.exp %[[NEG]] : f32
// CHECK: %[[TAIL:.*]] = math.log1p %[[EXP]] : f32
// CHECK: %[[MAX:.*]] = arith.maximumf %[[X]], %[[ZERO]] : f32
// CHECK: %[[SUM:.*]] = arith.addf %[[MAX]], %[[TAIL]] : f32
// CHECK: linalg.yield %[[SUM]] : f32
func.func @softplus(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.softplus %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @tests_and_bits
// is_inf without detect_negative compares with +inf only.
// CHECK-DAG: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK-DAG: %[[ONES:.*]] = arith.constant -1 : i32
// CHECK: arith.cmpf oeq, %{{.*}}, %[[INF]] : f32
// is_nan is an unordered self-comparison.
// CHECK: arith.cmpf uno, %[[N:.*]], %[[N]] : f32
// prelu scales the negative elements by the broadcast slope.
// CHECK: ^bb0(%[[PX:.*]]: f32, %[[SLOPE:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[LT:.*]] = arith.cmpf olt, %[[PX]], %{{.*}} : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[PX]], %[[SLOPE]] : f32
// CHECK: arith.select %[[LT]], %[[SCALED]], %[[PX]] : f32
// CHECK: arith.xori %{{.*}}, %[[ONES]] : i32
func.func @tests_and_bits(%x: tensor<4xf32>, %s: tensor<f32>, %n: tensor<4xi32>)
    -> (tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xi32>) {
  %0 = kiln.is_inf %x {detect_negative = false} : (tensor<4xf32>) -> tensor<4xi1>
  %1 = kiln.is_nan %x : (tensor<4xf32>) -> tensor<4xi1>
  %2 = kiln.prelu %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %3 = kiln.bitwise_not %n : tensor<4xi32>
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xi32>
}

// -----

// Sign of a float: 1 above 0, -1 below, and otherwise the value's own 0,
// or NaN for NaN (numpy's and onnxruntime's; it was 0).
// CHECK-LABEL: func.func @sign_float
// CHECK: linalg.generic
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[X:.*]], %{{.*}} : f32
// CHECK: %[[NEG:.*]] = arith.cmpf olt, %[[X]], %{{.*}} : f32
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK: %[[ZERO:.*]] = arith.select %[[NAN]], %[[X]], %{{.*}} : f32
// CHECK: %[[R:.*]] = arith.select %[[NEG]], %{{.*}}, %[[ZERO]] : f32
// CHECK: arith.select %[[POS]], %{{.*}}, %[[R]] : f32
func.func @sign_float(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.sign %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
