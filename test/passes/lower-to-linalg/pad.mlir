// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// Negative pads crop first; constant mode then is tensor.pad yielding the
// value operand's element.
// CHECK-LABEL: func.func @pad_constant_crop
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>, %[[V:.*]]: tensor<f32>)
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x4xf32>
// CHECK: %[[CROP:.*]] = tensor.extract_slice %[[X]][0, 1] [%[[D]], 3] [1, 1] : tensor<?x4xf32> to tensor<?x3xf32>
// CHECK: %[[VALUE:.*]] = tensor.extract %[[V]][] : tensor<f32>
// CHECK: %[[P:.*]] = tensor.pad %[[CROP]] low[1, 0] high[0, 2]
// CHECK: tensor.yield %[[VALUE]] : f32
// CHECK: } : tensor<?x3xf32> to tensor<?x5xf32>
// CHECK: return %[[P]]
func.func @pad_constant_crop(%x: tensor<?x4xf32>, %v: tensor<f32>) -> tensor<?x5xf32> {
  %0 = kiln.pad %x, %v {pads = array<i64: 1, -1, 0, 2>} : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

// -----

// Without a value, constant mode pads with zero.
// CHECK-LABEL: func.func @pad_zero
// CHECK: %[[Z:.*]] = arith.constant 0 : i64
// CHECK: tensor.pad %{{.*}} low[2] high[0]
// CHECK: tensor.yield %[[Z]] : i64
func.func @pad_zero(%x: tensor<3xi64>) -> tensor<5xi64> {
  %0 = kiln.pad %x {pads = array<i64: 2, 0>} : (tensor<3xi64>) -> tensor<5xi64>
  return %0 : tensor<5xi64>
}

// -----

// reflect: a generic over the result maps the index shifted by the begin pad
// back into the input, mirroring at 0 and at dim - 1; unpadded dims read
// their own index.
// CHECK-LABEL: func.func @pad_reflect
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK: linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<3x6xf32>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[S:.*]] = arith.subi %[[J]], %[[C1]] : index
// CHECK: %[[NEG:.*]] = arith.subi %[[C0]], %[[S]] : index
// CHECK: %[[BELOW:.*]] = arith.cmpi slt, %[[S]], %[[C0]] : index
// CHECK: %[[M:.*]] = arith.select %[[BELOW]], %[[NEG]], %[[S]] : index
// CHECK: %[[BACK:.*]] = arith.subi %[[C6]], %[[M]] : index
// CHECK: %[[ABOVE:.*]] = arith.cmpi sgt, %[[M]], %[[C3]] : index
// CHECK: %[[K:.*]] = arith.select %[[ABOVE]], %[[BACK]], %[[M]] : index
// CHECK: tensor.extract %[[X]][%[[I]], %[[K]]] : tensor<3x4xf32>
func.func @pad_reflect(%x: tensor<3x4xf32>) -> tensor<3x6xf32> {
  %0 = kiln.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = "reflect"} : (tensor<3x4xf32>) -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

// edge clamps into [0, dim - 1]; wrap takes the index modulo the dim.
// CHECK-LABEL: func.func @pad_edge_wrap
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract
// CHECK: arith.remsi
// CHECK: tensor.extract
func.func @pad_edge_wrap(%x: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  %0 = kiln.pad %x {pads = array<i64: 2, 1>, mode = "edge"} : (tensor<?xf32>) -> tensor<?xf32>
  %1 = kiln.pad %x {pads = array<i64: 2, 1>, mode = "wrap"} : (tensor<?xf32>) -> tensor<?xf32>
  return %0, %1 : tensor<?xf32>, tensor<?xf32>
}

// -----

// Over a `?` dim the verifier's rules are checked when the model runs:
// reflect needs the dim above its largest pad (3 here, so at least 4).
// CHECK-LABEL: func.func @pad_reflect_dynamic_checked
// CHECK: %[[N:.*]] = tensor.dim %arg0, %{{.*}} : tensor<?xf32>
// CHECK: %[[SHORT:.*]] = arith.cmpi slt, %[[N]], %c4 : index
// CHECK: kiln.runtime_check %[[SHORT]], "a Pad: the input is too short at run time for its pads (a reflect pad not below the dim it pads)"
// CHECK: linalg.generic
func.func @pad_reflect_dynamic_checked(%x: tensor<?xf32>, %ctx: index {kiln.runtime_context})
    -> tensor<?xf32> {
  %0 = kiln.pad %x {mode = "reflect", pads = array<i64: 2, 3>} : (tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// A crop of a `?` dim (2 + 1 here) must fit in it; constant mode has no
// other rule.
// CHECK-LABEL: func.func @pad_crop_dynamic_checked
// CHECK: %[[N:.*]] = tensor.dim %arg0, %{{.*}} : tensor<?xf32>
// CHECK: %[[LEFT:.*]] = arith.subi %[[N]], %c3 : index
// CHECK: %[[SHORT:.*]] = arith.cmpi slt, %[[LEFT]], %c0 : index
// CHECK: kiln.runtime_check %[[SHORT]], "a Pad: the input is too short at run time for its pads (a crop longer than the dim)"
func.func @pad_crop_dynamic_checked(%x: tensor<?xf32>, %ctx: index {kiln.runtime_context})
    -> tensor<?xf32> {
  %0 = kiln.pad %x {mode = "constant", pads = array<i64: -2, -1>} : (tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
