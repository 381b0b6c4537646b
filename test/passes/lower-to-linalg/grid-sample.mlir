// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// Linear with zeros padding over a `?` batch: the grid's component 1 (y) is
// the first input spatial dim, mapped by ((g + 1) * size - 1) / 2 in f64;
// the taps floor(c) and floor(c) + 1 are masked outside the input, clamped
// for the read, and weighted 1 - r and r.
// CHECK-LABEL: func.func @linear_zeros
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x3x4xf32>, %[[G:.*]]: tensor<?x5x6x2xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f64
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3.000000e+00 : f64
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x2x3x4xf32>
// CHECK: %[[INIT:.*]] = tensor.empty(%[[N]]) : tensor<?x2x5x6xf32>
// CHECK: linalg.generic {{.*}} outs(%[[INIT]] : tensor<?x2x5x6xf32>)
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[CH:.*]] = linalg.index 1 : index
// CHECK: %[[H:.*]] = linalg.index 2 : index
// CHECK: %[[W:.*]] = linalg.index 3 : index
// CHECK: %[[GY:.*]] = tensor.extract %[[G]][%[[B]], %[[H]], %[[W]], %[[C1]]] : tensor<?x5x6x2xf32>
// CHECK: %[[GYD:.*]] = arith.extf %[[GY]] : f32 to f64
// CHECK: %[[P1:.*]] = arith.addf %[[GYD]], %[[ONE]] : f64
// CHECK: %[[S:.*]] = arith.mulf %[[P1]], %[[THREE]] : f64
// CHECK: %[[M1:.*]] = arith.subf %[[S]], %[[ONE]] : f64
// CHECK: %[[Y:.*]] = arith.divf %[[M1]], %[[TWO]] : f64
// CHECK: %[[Y0:.*]] = math.floor %[[Y]] : f64
// CHECK: %[[R:.*]] = arith.subf %[[Y]], %[[Y0]] : f64
// CHECK: tensor.extract %[[G]][%[[B]], %[[H]], %[[W]], %[[C0]]]
// CHECK: arith.cmpf oge
// CHECK: arith.cmpf olt, %{{.*}}, %[[THREE]] : f64
// CHECK: arith.maxnumf
// CHECK: arith.minnumf %{{.*}}, %[[TWO]] : f64
// CHECK: arith.fptosi
// CHECK: %[[V:.*]] = tensor.extract %[[X]][%[[B]], %[[CH]], %{{.*}}, %{{.*}}] : tensor<?x2x3x4xf32>
// CHECK: arith.select %{{.*}}, %[[V]], %[[ZERO]] : f32
// CHECK-COUNT-3: tensor.extract %[[X]]
// CHECK: %[[SUM:.*]] = arith.addf
// CHECK: %[[OUT:.*]] = arith.truncf %[[SUM]] : f64 to f32
// CHECK: linalg.yield %[[OUT]] : f32
func.func @linear_zeros(%x: tensor<?x2x3x4xf32>, %g: tensor<?x5x6x2xf32>) -> tensor<?x2x5x6xf32> {
  %0 = kiln.grid_sample %x, %g : (tensor<?x2x3x4xf32>, tensor<?x5x6x2xf32>) -> tensor<?x2x5x6xf32>
  return %0 : tensor<?x2x5x6xf32>
}

// -----

// Nearest with border padding and align_corners on a volume: the coordinate
// (g + 1) / 2 * (size - 1) is rounded half to even and clamped to the input
// where it lies outside [0, size - 1]; one read, no weights, no mask.
// CHECK-LABEL: func.func @nearest_border
// CHECK: linalg.generic
// CHECK: %[[C:.*]] = arith.mulf
// CHECK: %[[RC:.*]] = math.roundeven %[[C]] : f64
// CHECK: %[[LT:.*]] = arith.cmpf olt, %[[RC]]
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[RC]]
// CHECK: %[[OUT:.*]] = arith.ori %[[LT]], %[[GT]] : i1
// CHECK: %[[LO:.*]] = arith.maxnumf %[[RC]]
// CHECK: %[[CL:.*]] = arith.minnumf %[[LO]]
// CHECK: arith.select %[[OUT]], %[[CL]], %[[RC]] : f64
// CHECK-COUNT-2: math.roundeven
// CHECK-COUNT-1: tensor.extract %{{.*}} : tensor<1x2x3x4x5xf16>
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield %{{.*}} : f16
func.func @nearest_border(%x: tensor<1x2x3x4x5xf16>, %g: tensor<1x2x2x2x3xf32>) -> tensor<1x2x2x2x2xf16> {
  %0 = kiln.grid_sample %x, %g {mode = "nearest", padding_mode = "border", align_corners = true}
       : (tensor<1x2x3x4x5xf16>, tensor<1x2x2x2x3xf32>) -> tensor<1x2x2x2x2xf16>
  return %0 : tensor<1x2x2x2x2xf16>
}

// -----

// Cubic with reflection padding: the coordinate is mirrored at -0.5 and
// size - 0.5 (flips = floor(distance / span), odd flips mirror from the
// other border), then each of the 4 taps per dim is mirrored again; 16 reads.
// CHECK-LABEL: func.func @cubic_reflection
// CHECK: linalg.generic
// CHECK: math.floor
// CHECK: math.floor
// CHECK: arith.cmpf oeq
// CHECK-COUNT-16: tensor.extract %{{.*}} : tensor<1x1x3x2xf32>
// CHECK: linalg.yield %{{.*}} : f32
func.func @cubic_reflection(%x: tensor<1x1x3x2xf32>, %g: tensor<1x2x4x2xf32>) -> tensor<1x1x2x4xf32> {
  %0 = kiln.grid_sample %x, %g {mode = "cubic", padding_mode = "reflection"}
       : (tensor<1x1x3x2xf32>, tensor<1x2x4x2xf32>) -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}
