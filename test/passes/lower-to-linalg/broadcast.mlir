// RUN: kiln-opt %s --kiln-lower-to-linalg --cse -split-input-file | FileCheck %s

// `?` dims that may be 1 at run time broadcast then. The first input's dims
// are the output's size; the second is copied out to that size in an scf.if
// taken only when one of its dims differs (index 0 along the dims that are
// 1, guarded reads), and dims that are neither 1 nor the size, or a size of
// 1 against a larger dim, fail the run.
// CHECK-LABEL: func.func @unknown_dims
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xf32>, %[[Y:.*]]: tensor<?x?xf32>
// CHECK-DAG: %[[X0:.*]] = tensor.dim %[[X]], %c0
// CHECK-DAG: %[[X1:.*]] = tensor.dim %[[X]], %c1
// CHECK-DAG: %[[Y0:.*]] = tensor.dim %[[Y]], %c0
// CHECK-DAG: %[[Y1:.*]] = tensor.dim %[[Y]], %c1
// CHECK: %[[NE0:.*]] = arith.cmpi ne, %[[Y0]], %[[X0]]
// CHECK: %[[NE1:.*]] = arith.cmpi ne, %[[Y1]], %[[X1]]
// CHECK: %[[DIFFERS:.*]] = arith.ori %[[NE0]], %[[NE1]]
// CHECK: %[[YB:.*]] = scf.if %[[DIFFERS]] -> (tensor<?x?xf32>) {
// CHECK:   %[[FULL:.*]] = tensor.empty(%[[X0]], %[[X1]])
// CHECK:   %[[KEEP0:.*]] = arith.cmpi eq, %{{.*}}, %[[X0]]
// CHECK:   linalg.generic {{.*}} outs(%[[FULL]] : tensor<?x?xf32>)
// CHECK:     %[[I0:.*]] = linalg.index 0
// CHECK:     arith.select %[[KEEP0]], %[[I0]], %c0
// CHECK:     scf.if
// CHECK:       tensor.extract %[[Y]]
// CHECK: } else {
// CHECK:   scf.yield %[[Y]]
// CHECK: kiln.runtime_check {{.*}} "a add: a dim of an input is 1 at run time
// CHECK: kiln.runtime_check {{.*}} "a add: the inputs' shapes cannot be broadcast together
// CHECK: %[[OUT:.*]] = tensor.empty(%[[X0]], %[[X1]])
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[YB]] : tensor<?x?xf32>, tensor<?x?xf32>) outs(%[[OUT]]
func.func @unknown_dims(%x: tensor<?x?xf32>, %y: tensor<?x?xf32>, %ctx: index {kiln.runtime_context}) -> tensor<?x?xf32> {
  %0 = kiln.add %x, %y : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Inputs' dims with the same name (ONNX dim_param) are one size, checked
// when the session runs: nothing is emitted, and the add stays one loop
// nest over its inputs.
// CHECK-LABEL: func.func @named_dims
// CHECK-NOT: scf.if
// CHECK-NOT: kiln.runtime_check
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %arg1 : tensor<?x?xf32>, tensor<?x?xf32>)
func.func @named_dims(%x: tensor<?x?xf32> {kiln.dim_names = ["batch", "sequence"]},
                      %y: tensor<?x?xf32> {kiln.dim_names = ["batch", "sequence"]},
                      %ctx: index {kiln.runtime_context}) -> tensor<?x?xf32> {
  %0 = kiln.add %x, %y : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// A static size other than 1 is the output's: a `?` dim against it is
// copied out when it is 1 and fails the run when it is anything else.
// CHECK-LABEL: func.func @static_size
// CHECK: %[[D:.*]] = tensor.dim %arg1, %c0
// CHECK: %[[NE:.*]] = arith.cmpi ne, %[[D]], %c3
// CHECK: scf.if %[[NE]] -> (tensor<?xf32>)
// CHECK: kiln.runtime_check
// CHECK-NOT: a dim of an input is 1
// CHECK-SAME: cannot be broadcast together
func.func @static_size(%x: tensor<3xf32>, %y: tensor<?xf32>, %ctx: index {kiln.runtime_context}) -> tensor<3xf32> {
  %0 = kiln.mul %x, %y : (tensor<3xf32>, tensor<?xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A static 1 broadcasts through the indexing map alone, against a `?` too.
// CHECK-LABEL: func.func @static_one
// CHECK-NOT: scf.if
// CHECK-NOT: kiln.runtime_check
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}]
// CHECK-SAME: ins(%arg0, %arg1 : tensor<?x4xf32>, tensor<1x4xf32>)
func.func @static_one(%x: tensor<?x4xf32>, %y: tensor<1x4xf32> , %ctx: index {kiln.runtime_context}) -> tensor<?x4xf32> {
  %0 = kiln.sub %x, %y : (tensor<?x4xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Expand broadcasts the same way, its shape operand standing for an input
// of that shape: the input's `?` dim is the output's; the shape's entry
// there must be 1 or that size, and the input's dim must not be the 1.
// CHECK-LABEL: func.func @expand
// CHECK-NOT: scf.if
// CHECK: kiln.runtime_check {{.*}} "a Expand: a dim of an input is 1 at run time
// CHECK: kiln.runtime_check {{.*}} "a Expand: the inputs' shapes cannot be broadcast together
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<?x3xf32>)
func.func @expand(%x: tensor<?x3xf32>, %s: tensor<2xi64>, %ctx: index {kiln.runtime_context}) -> tensor<?x3xf32> {
  %0 = kiln.expand %x, %s : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// Position ids sliced out of a constant arange to the sequence length: the
// slice's dim is min(S, 16), which is 1 only where S is, so it never
// broadcasts. It is S or the run fails: checked, and read as it is (no
// copy, no scf.if), so the slice's reader can fuse into the add.
// CHECK-LABEL: func.func @clamped_to_the_size
// CHECK: %[[SLICE:.*]] = tensor.extract_slice
// CHECK-NOT: scf.if
// CHECK: kiln.runtime_check {{.*}} "a add: the inputs' shapes cannot be broadcast together
// CHECK-NOT: scf.if
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %[[SLICE]] : tensor<?x?xf32>, tensor<1x?xf32>)
func.func @clamped_to_the_size(%x: tensor<?x?xf32>, %ctx: index {kiln.runtime_context}) -> tensor<?x?xf32> {
  %table = kiln.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]]> : tensor<1x16xf32>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %s = kiln.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<?x?xf32>) -> tensor<1xi64>
  %ids = kiln.slice %table, %zero, %s, %one, %one : (tensor<1x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x?xf32>
  %0 = kiln.add %x, %ids : (tensor<?x?xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// A slice from 1 to S has S - 1 elements (up to 15), 1 where S is 2: it
// broadcasts then, and is copied out in the runs where it does, as any
// `?` dim that may be 1.
// CHECK-LABEL: func.func @one_less_than_the_size
// CHECK: %[[SLICE:.*]] = tensor.extract_slice
// CHECK: %[[COPY:.*]] = scf.if
// CHECK: linalg.generic
// CHECK: kiln.runtime_check {{.*}} "a add: the inputs' shapes cannot be broadcast together
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %[[COPY]] : tensor<?x?xf32>, tensor<1x?xf32>)
func.func @one_less_than_the_size(%x: tensor<?x?xf32>, %ctx: index {kiln.runtime_context}) -> tensor<?x?xf32> {
  %table = kiln.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]]> : tensor<1x16xf32>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %s = kiln.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<?x?xf32>) -> tensor<1xi64>
  %ids = kiln.slice %table, %one, %s, %one, %one : (tensor<1x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x?xf32>
  %0 = kiln.add %x, %ids : (tensor<?x?xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
