// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// Gather: a generic over the output reads the indices through a map over the
// loops of the index dims; the data is read with tensor.extract at the index,
// wrapped by the axis dim when negative and clamped into [0, dim - 1] (an
// out-of-range index is an error in ONNX; no read may leave the data).
// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @gather_static
// CHECK-SAME: (%[[D:.*]]: tensor<5x4xf32>, %[[I:.*]]: tensor<2x3xi64>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[I]] : tensor<2x3xi64>) outs(%[[E]] : tensor<2x3x4xf32>)
// CHECK: ^bb0(%[[IN:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[CAST:.*]] = arith.index_cast %[[IN]] : i64 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[CAST]], %[[C0]] : index
// CHECK: %[[WRAP:.*]] = arith.addi %[[CAST]], %[[C5]] : index
// CHECK: %[[SEL:.*]] = arith.select %[[NEG]], %[[WRAP]], %[[CAST]] : index
// CHECK: %[[LOW:.*]] = arith.maxsi %[[SEL]], %[[C0]] : index
// CHECK: %[[CLAMPED:.*]] = arith.minsi %[[LOW]], %[[C4]] : index
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: %[[V:.*]] = tensor.extract %[[D]][%[[CLAMPED]], %[[J]]] : tensor<5x4xf32>
// CHECK: linalg.yield %[[V]] : f32
func.func @gather_static(%d: tensor<5x4xf32>, %i: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %0 = kiln.gather %d, %i {axis = 0 : i64} : (tensor<5x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Dynamic dims come from the data (outside the axis) and from the indices;
// the wrap uses the run-time axis dim.
// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @gather_dynamic_axis1
// CHECK-SAME: (%[[D:.*]]: tensor<?x?x8xf32>, %[[I:.*]]: tensor<?xi32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[D0:.*]] = tensor.dim %[[D]], %[[C0]] : tensor<?x?x8xf32>
// CHECK-DAG: %[[N:.*]] = tensor.dim %[[I]], %[[C0]] : tensor<?xi32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D0]], %[[N]]) : tensor<?x?x8xf32>
// CHECK: %[[AXIS:.*]] = tensor.dim %[[D]], %[[C1]] : tensor<?x?x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #{{.*}}]
// CHECK-SAME: ins(%[[I]] : tensor<?xi32>) outs(%[[E]] : tensor<?x?x8xf32>)
// CHECK: %[[CAST:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[LAST:.*]] = arith.subi %[[AXIS]], %[[C1]] : index
// CHECK: %[[WRAP:.*]] = arith.addi %[[CAST]], %[[AXIS]] : index
// CHECK: %[[SEL:.*]] = arith.select %{{.*}}, %[[WRAP]], %[[CAST]] : index
// CHECK: %[[LOW:.*]] = arith.maxsi %[[SEL]], %{{.*}} : index
// CHECK: %[[CLAMPED:.*]] = arith.minsi %[[LOW]], %[[LAST]] : index
// CHECK: %[[L0:.*]] = linalg.index 0 : index
// CHECK: %[[L2:.*]] = linalg.index 2 : index
// CHECK: tensor.extract %[[D]][%[[L0]], %[[CLAMPED]], %[[L2]]] : tensor<?x?x8xf32>
func.func @gather_dynamic_axis1(%d: tensor<?x?x8xf32>, %i: tensor<?xi32>) -> tensor<?x?x8xf32> {
  %0 = kiln.gather %d, %i {axis = 1 : i64} : (tensor<?x?x8xf32>, tensor<?xi32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// A run-time axis may be empty: the read is guarded and yields 0 then. arith
// takes signless integers only, so an unsigned table's 0 is an i8 constant
// reinterpreted as ui8 (the QDQ pooler's gather of a uint8 activation).
// CHECK-LABEL: func.func @gather_dynamic_axis_unsigned
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i8
// CHECK: scf.if %{{.*}} -> (ui8)
// CHECK: tensor.extract %{{.*}} : tensor<?x?x8xui8>
// CHECK: } else {
// CHECK: %[[CAST:.*]] = builtin.unrealized_conversion_cast %[[ZERO]] : i8 to ui8
// CHECK: scf.yield %[[CAST]] : ui8
func.func @gather_dynamic_axis_unsigned(%d: tensor<?x?x8xui8>, %i: tensor<i64>) -> tensor<?x8xui8> {
  %0 = kiln.gather %d, %i {axis = 1 : i64} : (tensor<?x?x8xui8>, tensor<i64>) -> tensor<?x8xui8>
  return %0 : tensor<?x8xui8>
}

// -----

// A 0-D index drops the axis; its map has no results.
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @gather_scalar_index
// CHECK: %[[E:.*]] = tensor.empty() : tensor<768xf32>
// CHECK: linalg.generic {indexing_maps = [#[[SCALAR]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}} : tensor<i64>) outs(%[[E]] : tensor<768xf32>)
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<?x768xf32>
func.func @gather_scalar_index(%d: tensor<?x768xf32>, %i: tensor<i64>) -> tensor<768xf32> {
  %0 = kiln.gather %d, %i {axis = 0 : i64} : (tensor<?x768xf32>, tensor<i64>) -> tensor<768xf32>
  return %0 : tensor<768xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_static
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x12x64xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x12x8x64xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[X]] : tensor<1x8x12x64xf32>) outs(%[[E]] : tensor<1x12x8x64xf32>) permutation = [0, 2, 1, 3]
// CHECK: return %[[T]]
func.func @transpose_static(%x: tensor<1x8x12x64xf32>) -> tensor<1x12x8x64xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x12x64xf32>) -> tensor<1x12x8x64xf32>
  return %0 : tensor<1x12x8x64xf32>
}

// -----

// Output dim i is input dim perm[i].
// CHECK-LABEL: func.func @transpose_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x64xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[D0:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK-DAG: %[[D1:.*]] = tensor.dim %[[X]], %[[C1]]
// CHECK: %[[E:.*]] = tensor.empty(%[[D0]], %[[D1]]) : tensor<64x?x?xf32>
// CHECK: linalg.transpose ins(%[[X]] : tensor<?x?x64xf32>) outs(%[[E]] : tensor<64x?x?xf32>) permutation = [2, 0, 1]
func.func @transpose_dynamic(%x: tensor<?x?x64xf32>) -> tensor<64x?x?xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<?x?x64xf32>) -> tensor<64x?x?xf32>
  return %0 : tensor<64x?x?xf32>
}

// -----

// Constant bounds with a positive step: a tensor.extract_slice.
// CHECK-LABEL: func.func @slice_static
// CHECK-SAME: (%[[X:.*]]: tensor<1x512xi64>)
// CHECK: %[[S:.*]] = tensor.extract_slice %[[X]][0, 0] [1, 8] [1, 1] : tensor<1x512xi64> to tensor<1x8xi64>
// CHECK: return %[[S]]
func.func @slice_static(%x: tensor<1x512xi64>) -> tensor<1x8xi64> {
  %s = kiln.constant dense<[0]> : tensor<1xi64>
  %e = kiln.constant dense<[8]> : tensor<1xi64>
  %a = kiln.constant dense<[1]> : tensor<1xi64>
  %st = kiln.constant dense<[1]> : tensor<1xi64>
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<1x512xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x8xi64>
  return %0 : tensor<1x8xi64>
}

// -----

// x[:, -1:-100:-2] of a 10-wide dim: a negative step needs a generic; the
// start clamps to 9 and the source index is 9 - 2 j.
// CHECK-LABEL: func.func @slice_negative_step
// CHECK-SAME: (%[[X:.*]]: tensor<?x10xf32>)
// CHECK-DAG: %[[CM2:.*]] = arith.constant -2 : index
// CHECK-DAG: %[[C9:.*]] = arith.constant 9 : index
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x10xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D0]]) : tensor<?x5xf32>
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[M:.*]] = arith.muli %[[J]], %[[CM2]] : index
// CHECK: %[[S:.*]] = arith.addi %[[M]], %[[C9]] : index
// CHECK: tensor.extract %[[X]][%[[I]], %[[S]]] : tensor<?x10xf32>
func.func @slice_negative_step(%x: tensor<?x10xf32>) -> tensor<?x5xf32> {
  %s = kiln.constant dense<[-1]> : tensor<1xi64>
  %e = kiln.constant dense<[-100]> : tensor<1xi64>
  %a = kiln.constant dense<[-1]> : tensor<1xi64>
  %st = kiln.constant dense<[-2]> : tensor<1xi64>
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<?x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

// -----

// Run-time bounds and step: start and end wrap and clamp ([0, dim] for a
// positive step, [0, dim-1] and [-1, dim-1] for a negative one); the length
// is max(0, ceildiv(end - start, step)); a step of unknown sign needs a
// generic.
// CHECK-LABEL: func.func @slice_runtime_bounds
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xf32>, %[[S:.*]]: tensor<1xi64>, %[[E:.*]]: tensor<1xi64>, %[[ST:.*]]: tensor<1xi64>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[CM1:.*]] = arith.constant -1 : index
// CHECK: tensor.extract %[[S]][%[[C0]]] : tensor<1xi64>
// CHECK: %[[START:.*]] = arith.index_cast
// CHECK: tensor.extract %[[E]][%[[C0]]] : tensor<1xi64>
// CHECK: %[[END:.*]] = arith.index_cast
// CHECK: tensor.extract %[[ST]][%[[C0]]] : tensor<1xi64>
// CHECK: %[[STEP:.*]] = arith.index_cast
// CHECK: %[[DIM:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK: %[[SNEG:.*]] = arith.cmpi slt, %[[START]], %[[C0]] : index
// CHECK: %[[SW:.*]] = arith.addi %[[START]], %[[DIM]] : index
// CHECK: %[[S1:.*]] = arith.select %[[SNEG]], %[[SW]], %[[START]] : index
// CHECK: %[[ENEG:.*]] = arith.cmpi slt, %[[END]], %[[C0]] : index
// CHECK: %[[EW:.*]] = arith.addi %[[END]], %[[DIM]] : index
// CHECK: %[[E1:.*]] = arith.select %[[ENEG]], %[[EW]], %[[END]] : index
// CHECK: %[[FWD:.*]] = arith.cmpi sgt, %[[STEP]], %[[C0]] : index
// CHECK: %[[DM1:.*]] = arith.addi %[[DIM]], %[[CM1]] : index
// CHECK: %[[HI:.*]] = arith.select %[[FWD]], %[[DIM]], %[[DM1]] : index
// CHECK: %[[ELO:.*]] = arith.select %[[FWD]], %[[C0]], %[[CM1]] : index
// CHECK: %[[S2:.*]] = arith.maxsi %[[S1]], %[[C0]] : index
// CHECK: %[[S3:.*]] = arith.minsi %[[S2]], %[[HI]] : index
// CHECK: %[[E2:.*]] = arith.maxsi %[[E1]], %[[ELO]] : index
// CHECK: %[[E3:.*]] = arith.minsi %[[E2]], %[[HI]] : index
// CHECK: %[[SPAN:.*]] = arith.subi %[[E3]], %[[S3]] : index
// CHECK: %[[Q:.*]] = arith.ceildivsi %[[SPAN]], %[[STEP]] : index
// CHECK: %[[LEN:.*]] = arith.maxsi %[[Q]], %[[C0]] : index
// CHECK: %[[D1:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[OUT:.*]] = tensor.empty(%[[LEN]], %[[D1]]) : tensor<?x?xf32>
// CHECK: linalg.generic {{.*}} outs(%[[OUT]] : tensor<?x?xf32>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[M:.*]] = arith.muli %[[I]], %[[STEP]] : index
// CHECK: %[[SRC:.*]] = arith.addi %[[S3]], %[[M]] : index
// CHECK: tensor.extract %[[X]][%[[SRC]], %[[J]]] : tensor<?x?xf32>
func.func @slice_runtime_bounds(%x: tensor<?x?xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>, %st: tensor<1xi64>) -> tensor<?x?xf32> {
  %a = kiln.constant dense<[0]> : tensor<1xi64>
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<?x?xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Run-time axes: every dim selects the entry's start/step/length where the
// normalised axis names it, else start 0, step 1 and the whole dim.
// CHECK-LABEL: func.func @slice_runtime_axes
// CHECK-SAME: %[[A:[^:]*]]: tensor<1xi64>, %{{[^:]*}}: tensor<1xi64>) -> tensor<?x?xf32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: tensor.extract %[[A]][%[[C0]]]
// CHECK: %[[AX:.*]] = arith.index_cast
// CHECK: %[[ANEG:.*]] = arith.cmpi slt, %[[AX]], %[[C0]] : index
// CHECK: %[[AW:.*]] = arith.addi %[[AX]], %[[C2]] : index
// CHECK: %[[AXIS:.*]] = arith.select %[[ANEG]], %[[AW]], %[[AX]] : index
// CHECK: %[[DIM0:.*]] = tensor.dim
// CHECK: %[[HIT0:.*]] = arith.cmpi eq, %[[AXIS]], %[[C0]] : index
// CHECK: %[[START0:.*]] = arith.select %[[HIT0]], %{{.*}}, %[[C0]] : index
// CHECK: %[[STEP0:.*]] = arith.select %[[HIT0]], %{{.*}}, %[[C1]] : index
// CHECK: %[[LEN0:.*]] = arith.select %[[HIT0]], %{{.*}}, %[[DIM0]] : index
// CHECK: %[[DIM1:.*]] = tensor.dim
// CHECK: %[[HIT1:.*]] = arith.cmpi eq, %[[AXIS]], %[[C1]] : index
// CHECK: %[[START1:.*]] = arith.select %[[HIT1]], %{{.*}}, %[[C0]] : index
// CHECK: %[[STEP1:.*]] = arith.select %[[HIT1]], %{{.*}}, %[[C1]] : index
// CHECK: %[[LEN1:.*]] = arith.select %[[HIT1]], %{{.*}}, %[[DIM1]] : index
// CHECK: tensor.empty(%[[LEN0]], %[[LEN1]]) : tensor<?x?xf32>
// CHECK: linalg.generic
// CHECK: arith.muli %{{.*}}, %[[STEP0]] : index
// CHECK: arith.addi %[[START0]], %{{.*}} : index
// CHECK: arith.muli %{{.*}}, %[[STEP1]] : index
// CHECK: arith.addi %[[START1]], %{{.*}} : index
// CHECK: tensor.extract
func.func @slice_runtime_axes(%x: tensor<?x?xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>, %a: tensor<1xi64>, %st: tensor<1xi64>) -> tensor<?x?xf32> {
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<?x?xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// With a run-time context, steps and axes fed when the model runs are
// checked first: a step of 0 (no slice; the length's division would trap),
// an axis outside [-rank, rank), the same dim named twice.
// CHECK-LABEL: func.func @slice_runtime_parameters_checked
// CHECK: %[[ST0:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[Z0:.*]] = arith.cmpi eq, %[[ST0]], %c0{{.*}} : index
// CHECK: %[[ST1:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[Z1:.*]] = arith.cmpi eq, %[[ST1]], %c0{{.*}} : index
// CHECK: arith.ori %[[Z0]], %[[Z1]] : i1
// CHECK: %[[A0:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: arith.cmpi slt, %[[A0]], %c-2{{.*}} : index
// CHECK: arith.cmpi sge, %[[A0]], %c2{{.*}} : index
// CHECK: %[[A1:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[N1:.*]] = arith.select
// CHECK: arith.cmpi eq, %[[N1]], %{{.*}} : index
// CHECK: kiln.runtime_check %{{.*}}, "a Slice: a step is 0, or an axis is out of range or repeated, at run time"
// CHECK: linalg.generic
func.func @slice_runtime_parameters_checked(%x: tensor<?x?xf32>, %s: tensor<2xi64>, %e: tensor<2xi64>, %a: tensor<2xi64>, %st: tensor<2xi64>, %ctx: index {kiln.runtime_context}) -> tensor<?x?xf32> {
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<?x?xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @concat_static
// CHECK-SAME: (%[[A:.*]]: tensor<2xi64>, %[[B:.*]]: tensor<2xi64>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4xi64>
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0] [2] [1] : tensor<2xi64> into tensor<4xi64>
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[B]] into %[[I0]][2] [2] [1] : tensor<2xi64> into tensor<4xi64>
// CHECK: return %[[I1]]
func.func @concat_static(%a: tensor<2xi64>, %b: tensor<2xi64>) -> tensor<4xi64> {
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// The axis dim is the run-time sum; the second input goes in at the first
// one's run-time size.
// CHECK-LABEL: func.func @concat_dynamic
// CHECK-SAME: (%[[A:.*]]: tensor<?x?xf32>, %[[B:.*]]: tensor<?x3xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[R:.*]] = tensor.dim %[[A]], %[[C0]]
// CHECK: %[[W:.*]] = tensor.dim %[[A]], %[[C1]]
// CHECK: %[[SUM:.*]] = arith.addi %[[W]], %[[C3]] : index
// CHECK: %[[E:.*]] = tensor.empty(%[[R]], %[[SUM]]) : tensor<?x?xf32>
// CHECK: %[[AR:.*]] = tensor.dim %[[A]], %[[C0]]
// CHECK: %[[AW:.*]] = tensor.dim %[[A]], %[[C1]]
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0] [%[[AR]], %[[AW]]] [1, 1]
// CHECK: %[[BR:.*]] = tensor.dim %[[B]], %[[C0]]
// CHECK: tensor.insert_slice %[[B]] into %[[I0]][0, %[[AW]]] [%[[BR]], 3] [1, 1] : tensor<?x3xf32> into tensor<?x?xf32>
func.func @concat_dynamic(%a: tensor<?x?xf32>, %b: tensor<?x3xf32>) -> tensor<?x?xf32> {
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<?x?xf32>, tensor<?x3xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @split_static
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x2304xf32>)
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [1, 8, 768] [1, 1, 1] : tensor<1x8x2304xf32> to tensor<1x8x768xf32>
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[X]][0, 0, 768] [1, 8, 768] [1, 1, 1]
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[X]][0, 0, 1536] [1, 8, 768] [1, 1, 1]
// CHECK: return %[[S0]], %[[S1]], %[[S2]]
func.func @split_static(%x: tensor<1x8x2304xf32>) -> (tensor<1x8x768xf32>, tensor<1x8x768xf32>, tensor<1x8x768xf32>) {
  %0:3 = kiln.split %x {axis = 2 : i64, sizes = array<i64: 768, 768, 768>} : (tensor<1x8x2304xf32>) -> (tensor<1x8x768xf32>, tensor<1x8x768xf32>, tensor<1x8x768xf32>)
  return %0#0, %0#1, %0#2 : tensor<1x8x768xf32>, tensor<1x8x768xf32>, tensor<1x8x768xf32>
}

// -----

// A `?` axis: the sizes must add up to it, checked when the model runs.
// CHECK-LABEL: func.func @split_unknown_axis
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[BAD:.*]] = arith.cmpi ne, %[[N]], %c6
// CHECK: kiln.runtime_check %[[BAD]], "a Split: the split sizes add up to 6, not to dim 1 of the input at run time"
// CHECK: tensor.extract_slice %arg0[0, 0] [2, 2] [1, 1] : tensor<2x?xf32> to tensor<2x2xf32>
// CHECK: tensor.extract_slice %arg0[0, 2] [2, 4] [1, 1] : tensor<2x?xf32> to tensor<2x4xf32>
func.func @split_unknown_axis(%x: tensor<2x?xf32>, %ctx: index {kiln.runtime_context}) -> (tensor<2x2xf32>, tensor<2x4xf32>) {
  %0:2 = kiln.split %x {axis = 1 : i64, sizes = array<i64: 2, 4>} : (tensor<2x?xf32>) -> (tensor<2x2xf32>, tensor<2x4xf32>)
  return %0#0, %0#1 : tensor<2x2xf32>, tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @split_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x6xf32>)
// CHECK: %[[D0:.*]] = tensor.dim %[[X]]
// CHECK: %[[D1:.*]] = tensor.dim %[[X]]
// CHECK: tensor.extract_slice %[[X]][0, 0, 0] [%[[D0]], %[[D1]], 2] [1, 1, 1] : tensor<?x?x6xf32> to tensor<?x?x2xf32>
// CHECK: tensor.extract_slice %[[X]][0, 0, 2] [%{{.*}}, %{{.*}}, 4] [1, 1, 1] : tensor<?x?x6xf32> to tensor<?x?x4xf32>
func.func @split_dynamic(%x: tensor<?x?x6xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x4xf32>) {
  %0:2 = kiln.split %x {axis = 2 : i64, sizes = array<i64: 2, 4>} : (tensor<?x?x6xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x4xf32>)
  return %0#0, %0#1 : tensor<?x?x2xf32>, tensor<?x?x4xf32>
}

// -----

// Static size-1 dims that the result broadcasts read index 0.
// CHECK-DAG: #[[BCAST:.*]] = affine_map<(d0, d1, d2) -> (0, 0, d2)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @expand_static
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x8xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[BCAST]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]] : tensor<1x1x8xf32>) outs(%[[E]] : tensor<2x4x8xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
func.func @expand_static(%x: tensor<1x1x8xf32>) -> tensor<2x4x8xf32> {
  %s = kiln.constant dense<[2, 4, 8]> : tensor<3xi64>
  %0 = kiln.expand %x, %s : (tensor<1x1x8xf32>, tensor<3xi64>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Run-time shape: a dim the input lacks or has as 1 comes from the shape
// operand; the input's `?` dim (an input's dim) is taken as the result dim,
// and the shape's entry there must be 1 or that dim (a run-time check, in
// functions with a kiln.runtime_context argument: see broadcast.mlir).
// CHECK-DAG: #[[BCAST:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @expand_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x1xf32>, %[[S:.*]]: tensor<3xi64>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[S0:.*]] = tensor.extract %[[S]][%[[C0]]] : tensor<3xi64>
// CHECK-DAG: %[[R0:.*]] = arith.index_cast %[[S0]] : i64 to index
// CHECK-DAG: %[[R1:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK-DAG: %[[S2:.*]] = tensor.extract %[[S]][%[[C2]]] : tensor<3xi64>
// CHECK-DAG: %[[R2:.*]] = arith.index_cast %[[S2]] : i64 to index
// CHECK: %[[E:.*]] = tensor.empty(%[[R0]], %[[R1]], %[[R2]]) : tensor<?x?x?xf32>
// CHECK: linalg.generic {indexing_maps = [#[[BCAST]], #{{.*}}]
// CHECK-SAME: ins(%[[X]] : tensor<?x1xf32>) outs(%[[E]] : tensor<?x?x?xf32>)
func.func @expand_dynamic(%x: tensor<?x1xf32>, %s: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %0 = kiln.expand %x, %s : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @tile_static
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x3xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<4x3xf32>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[SI:.*]] = arith.remui %[[I]], %[[C2]] : index
// CHECK: %[[SJ:.*]] = arith.remui %[[J]], %[[C3]] : index
// CHECK: tensor.extract %[[X]][%[[SI]], %[[SJ]]] : tensor<2x3xf32>
func.func @tile_static(%x: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %r = kiln.constant dense<[2, 1]> : tensor<2xi64>
  %0 = kiln.tile %x, %r : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Result dims are dim * repeats at run time; a static size-1 dim reads 0.
// CHECK-LABEL: func.func @tile_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x1xf32>, %[[R:.*]]: tensor<2xi64>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK: %[[R0:.*]] = tensor.extract %[[R]][%[[C0]]]
// CHECK: %[[R0I:.*]] = arith.index_cast %[[R0]] : i64 to index
// CHECK: %[[N0:.*]] = arith.muli %[[D0]], %[[R0I]] : index
// CHECK: %[[R1:.*]] = tensor.extract %[[R]][%[[C1]]]
// CHECK: %[[N1:.*]] = arith.index_cast %[[R1]] : i64 to index
// CHECK: %[[E:.*]] = tensor.empty(%[[N0]], %[[N1]]) : tensor<?x?xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?x?xf32>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[SI:.*]] = arith.remui %[[I]], %[[D0]] : index
// CHECK: tensor.extract %[[X]][%[[SI]], %[[C0]]] : tensor<?x1xf32>
func.func @tile_dynamic(%x: tensor<?x1xf32>, %r: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = kiln.tile %x, %r : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Upper: keep where j - i >= k.
// CHECK-LABEL: func.func @trilu_upper
// CHECK-SAME: (%[[X:.*]]: tensor<8x8xf32>, %[[K:.*]]: tensor<i64>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x8xf32>
// CHECK: %[[KV:.*]] = tensor.extract %[[K]][] : tensor<i64>
// CHECK: %[[KI:.*]] = arith.index_cast %[[KV]] : i64 to index
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<8x8xf32>) outs(%[[E]] : tensor<8x8xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[DIFF:.*]] = arith.subi %[[J]], %[[I]] : index
// CHECK: %[[KEEP:.*]] = arith.cmpi sge, %[[DIFF]], %[[KI]] : index
// CHECK: %[[V:.*]] = arith.select %[[KEEP]], %[[IN]], %[[ZERO]] : f32
// CHECK: linalg.yield %[[V]] : f32
func.func @trilu_upper(%x: tensor<8x8xf32>, %k: tensor<i64>) -> tensor<8x8xf32> {
  %0 = kiln.trilu %x, %k {upper = true} : (tensor<8x8xf32>, tensor<i64>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

// Lower on the last two of three dynamic dims: keep where j - i <= k.
// CHECK-LABEL: func.func @trilu_lower_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x?xi64>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}, %{{.*}}) : tensor<?x?x?xi64>
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<?x?x?xi64>) outs(%[[E]] : tensor<?x?x?xi64>)
// CHECK: ^bb0(%[[IN:.*]]: i64, %{{.*}}: i64):
// CHECK: %[[I:.*]] = linalg.index 1 : index
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: %[[DIFF:.*]] = arith.subi %[[J]], %[[I]] : index
// CHECK: %[[KEEP:.*]] = arith.cmpi sle, %[[DIFF]], %[[C0]] : index
// CHECK: arith.select %[[KEEP]], %[[IN]], %[[ZERO]] : i64
func.func @trilu_lower_dynamic(%x: tensor<?x?x?xi64>) -> tensor<?x?x?xi64> {
  %k = kiln.constant dense<[0]> : tensor<1xi64>
  %0 = kiln.trilu %x, %k {upper = false} : (tensor<?x?x?xi64>, tensor<1xi64>) -> tensor<?x?x?xi64>
  return %0 : tensor<?x?x?xi64>
}

// -----

// Run-time start and end with a constant step 2: a strided extract_slice at
// the clamped start, of the run-time length.
// CHECK-LABEL: func.func @slice_runtime_start
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xf32>, %[[S:.*]]: tensor<1xi64>, %[[E:.*]]: tensor<1xi64>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[DIM:.*]] = tensor.dim %[[X]], %[[C1]]
// CHECK: %[[S1:.*]] = arith.maxsi %{{.*}}, %[[C0]] : index
// CHECK: %[[START:.*]] = arith.minsi %[[S1]], %[[DIM]] : index
// CHECK: %[[E1:.*]] = arith.maxsi %{{.*}}, %[[C0]] : index
// CHECK: %[[END:.*]] = arith.minsi %[[E1]], %[[DIM]] : index
// CHECK: %[[SPAN:.*]] = arith.subi %[[END]], %[[START]] : index
// CHECK: %[[Q:.*]] = arith.ceildivsi %[[SPAN]], %[[C2]] : index
// CHECK: %[[LEN:.*]] = arith.maxsi %[[Q]], %[[C0]] : index
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK: tensor.extract_slice %[[X]][0, %[[START]]] [%[[ROWS]], %[[LEN]]] [1, 2] : tensor<?x?xf32> to tensor<?x?xf32>
func.func @slice_runtime_start(%x: tensor<?x?xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>) -> tensor<?x?xf32> {
  %a = kiln.constant dense<[1]> : tensor<1xi64>
  %st = kiln.constant dense<[2]> : tensor<1xi64>
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<?x?xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Gather and slice of a shape at constant positions pick its scalars: dim 1
// of x (index -2 of a 3-vector) and [dim 1, 768].
// CHECK-LABEL: func.func @shape_arithmetic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x768xf32>)
// CHECK-DAG: %[[C768:.*]] = arith.constant 768 : i64
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[D1:.*]] = tensor.dim %[[X]], %[[C1]]
// CHECK: %[[D1I:.*]] = arith.index_cast %[[D1]] : index to i64
// CHECK: %[[G:.*]] = tensor.from_elements %[[D1I]] : tensor<i64>
// CHECK: %[[S:.*]] = tensor.from_elements %[[D1I]], %[[C768]] : tensor<2xi64>
// CHECK: return %[[G]], %[[S]]
// CHECK-NOT: linalg.generic
func.func @shape_arithmetic(%x: tensor<?x?x768xf32>) -> (tensor<i64>, tensor<2xi64>) {
  %s = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<?x?x768xf32>) -> tensor<3xi64>
  %i = kiln.constant dense<-2> : tensor<i64>
  %0 = kiln.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %b = kiln.constant dense<[1]> : tensor<1xi64>
  %e = kiln.constant dense<[9223372036854775807]> : tensor<1xi64>
  %a = kiln.constant dense<[0]> : tensor<1xi64>
  %1 = kiln.slice %s, %b, %e, %a, %b : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %0, %1 : tensor<i64>, tensor<2xi64>
}

// -----

// A result type that leaves the split size `?` gets a tensor.cast.
// CHECK-LABEL: func.func @split_unrefined
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [1, %{{.*}}] [1, 1] : tensor<4x?xf32> to tensor<1x?xf32>
// CHECK: %[[S:.*]] = tensor.extract_slice %{{.*}}[1, 0] [3, %{{.*}}] [1, 1] : tensor<4x?xf32> to tensor<3x?xf32>
// CHECK: tensor.cast %[[S]] : tensor<3x?xf32> to tensor<?x?xf32>
func.func @split_unrefined(%x: tensor<4x?xf32>) -> (tensor<1x?xf32>, tensor<?x?xf32>) {
  %0:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 1, 3>} : (tensor<4x?xf32>) -> (tensor<1x?xf32>, tensor<?x?xf32>)
  return %0#0, %0#1 : tensor<1x?xf32>, tensor<?x?xf32>
}
