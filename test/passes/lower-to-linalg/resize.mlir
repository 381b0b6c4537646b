// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// Nearest: the output index maps to an input coordinate (asymmetric: x /
// scale, in f64); with i0 = ceil(c) - 1 and ratio = c - i0, floor mode takes
// i0 unless c is an integer (ratio 1), clamped to the input. Dims of scale 1
// read their own index.
// CHECK-LABEL: func.func @nearest
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x2xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK: %[[O:.*]] = linalg.index 2 : index
// CHECK: %[[OI:.*]] = arith.index_cast %[[O]] : index to i64
// CHECK: %[[OF:.*]] = arith.sitofp %[[OI]] : i64 to f64
// CHECK: %[[C:.*]] = arith.divf %[[OF]], %[[TWO]] : f64
// CHECK: %[[CEIL:.*]] = math.ceil %[[C]] : f64
// CHECK: %[[I0:.*]] = arith.subf %[[CEIL]], %[[ONE]] : f64
// CHECK: %[[RATIO:.*]] = arith.subf %[[C]], %[[I0]] : f64
// CHECK: %[[LOW:.*]] = arith.fptosi %[[I0]] : f64 to i64
// CHECK: %[[LOWI:.*]] = arith.index_cast %[[LOW]] : i64 to index
// CHECK: %[[INT:.*]] = arith.cmpf oeq, %[[RATIO]], %[[ONE]] : f64
// CHECK: %[[UP:.*]] = arith.addi %[[LOWI]], %[[C1]] : index
// CHECK: %[[PICK:.*]] = arith.select %[[INT]], %[[UP]], %[[LOWI]] : index
// CHECK: %[[GE0:.*]] = arith.maxsi %[[PICK]], %[[C0]] : index
// CHECK: %[[H:.*]] = arith.minsi %[[GE0]], %[[C1]] : index
// CHECK: linalg.index 3 : index
// CHECK: %[[W:.*]] = arith.minsi %{{.*}}, %[[C1]] : index
// CHECK: %[[V:.*]] = tensor.extract %[[X]][%[[C0]], %[[C0]], %[[H]], %[[W]]] : tensor<1x1x2x2xf32>
// CHECK: linalg.yield %[[V]] : f32
func.func @nearest(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %s = kiln.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %0 = kiln.resize %x, %s {coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"}
       : (tensor<1x1x2x2xf32>, tensor<4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Linear with a scale known only at run time: the result's size is
// floor(dim * scale); half_pixel maps x to (x + 0.5) / scale - 0.5; the two
// neighbours i0 and i0 + 1 (clamped) are weighted 1 - ratio and ratio, in f64.
// CHECK-LABEL: func.func @linear_runtime_scale
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[S:.*]]: tensor<1xf32>)
// CHECK: %[[S0:.*]] = tensor.extract %[[S]][%{{.*}}] : tensor<1xf32>
// CHECK: %[[S64:.*]] = arith.extf %[[S0]] : f32 to f64
// CHECK: %[[N:.*]] = arith.mulf %[[S64]], %{{.*}} : f64
// CHECK: %[[FLOOR:.*]] = math.floor %[[N]] : f64
// CHECK: %[[SIZE:.*]] = arith.fptosi %[[FLOOR]] : f64 to i64
// CHECK: %[[SIZEI:.*]] = arith.index_cast %[[SIZE]] : i64 to index
// CHECK: %[[E:.*]] = tensor.empty(%[[SIZEI]]) : tensor<?xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?xf32>)
// CHECK: math.ceil
// CHECK: %[[A:.*]] = tensor.extract %[[X]][%{{.*}}] : tensor<4xf32>
// CHECK: %[[A64:.*]] = arith.extf %[[A]] : f32 to f64
// CHECK: %[[WA:.*]] = arith.mulf %{{.*}}, %[[A64]] : f64
// CHECK: %[[B:.*]] = tensor.extract %[[X]][%{{.*}}] : tensor<4xf32>
// CHECK: %[[B64:.*]] = arith.extf %[[B]] : f32 to f64
// CHECK: %[[WB:.*]] = arith.mulf %{{.*}}, %[[B64]] : f64
// CHECK: %[[SUM:.*]] = arith.addf %[[WA]], %[[WB]] : f64
// CHECK: %[[R:.*]] = arith.truncf %[[SUM]] : f64 to f32
// CHECK: linalg.yield %[[R]] : f32
func.func @linear_runtime_scale(%x: tensor<4xf32>, %s: tensor<1xf32>) -> tensor<?xf32> {
  %0 = kiln.resize %x, %s {mode = "linear"} : (tensor<4xf32>, tensor<1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Cubic reads four neighbours per resized dim (sixteen for two dims);
// tf_crop_and_resize selects the extrapolation value outside the input.
// CHECK-LABEL: func.func @cubic_crop
// CHECK-DAG: %[[EXTRA:.*]] = arith.constant 1.000000e+01 : f32
// CHECK: linalg.generic
// CHECK-COUNT-16: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<4x4xf32>
// CHECK: %[[R:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK: %[[V:.*]] = arith.select %{{.*}}, %[[EXTRA]], %[[R]] : f32
// CHECK: linalg.yield %[[V]] : f32
func.func @cubic_crop(%x: tensor<4x4xf32>, %roi: tensor<4xf32>) -> tensor<3x3xf32> {
  %s = kiln.constant dense<[0.75, 0.75]> : tensor<2xf64>
  %0 = kiln.resize %x, %s, %roi {mode = "cubic", coordinate_transformation_mode = "tf_crop_and_resize",
         extrapolation_value = 10.0 : f64, sizes = array<i64: 3, 3>}
       : (tensor<4x4xf32>, tensor<2xf64>, tensor<4xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// Antialiased linear downsampling by 0.5 stretches the triangle filter to
// offsets -1 .. 2 around i0, weights max(0, 1 - |(offset - ratio) * 0.5|)
// normalised by their sum: four taps.
// CHECK-LABEL: func.func @linear_antialias
// CHECK: linalg.generic
// CHECK-COUNT-4: arith.maximumf %{{.*}}, %{{.*}} : f64
// CHECK-COUNT-4: arith.divf %{{.*}}, %{{.*}} : f64
// CHECK-COUNT-4: tensor.extract %{{.*}}[%{{.*}}] : tensor<8xf32>
// CHECK: arith.truncf %{{.*}} : f64 to f32
func.func @linear_antialias(%x: tensor<8xf32>) -> tensor<4xf32> {
  %s = kiln.constant dense<[0.5]> : tensor<1xf32>
  %0 = kiln.resize %x, %s {mode = "linear", antialias = true} : (tensor<8xf32>, tensor<1xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
