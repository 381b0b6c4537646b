// RUN: kiln-opt %s --kiln-gpu-scalarize-shape-reads --canonicalize -split-input-file | FileCheck %s

// The TorchScript export's Expand target: Where(Equal(shape, -1), 1, shape)
// over a shape put together from dims (insert_slice of from_elements). The
// host's reads of its elements become the select on each dim; the tensors
// go.
// CHECK-LABEL: func.func @expand_target
// CHECK-SAME: (%[[B:.*]]: i64, %[[S:.*]]: i64)
// CHECK-NOT: tensor.
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[B_ANY:.*]] = arith.cmpi eq, %[[B]], %c-1_i64
// CHECK-DAG: %[[B_SIZE:.*]] = arith.select %[[B_ANY]], %c1_i64, %[[B]]
// CHECK-DAG: %[[S_ANY:.*]] = arith.cmpi eq, %[[S]], %c-1_i64
// CHECK-DAG: %[[S_SIZE:.*]] = arith.select %[[S_ANY]], %c1_i64, %[[S]]
// CHECK: return %[[B_SIZE]], %c1_i64, %[[S_SIZE]]
func.func @expand_target(%b: i64, %s: i64) -> (i64, i64, i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %minus = arith.constant dense<-1> : tensor<1xi64>
  %bt = tensor.from_elements %b : tensor<1xi64>
  %st = tensor.from_elements %s : tensor<1xi64>
  %e = tensor.empty() : tensor<3xi64>
  %0 = tensor.insert_slice %bt into %e[0] [1] [1] : tensor<1xi64> into tensor<3xi64>
  %1 = tensor.insert_slice %minus into %0[1] [1] [1] : tensor<1xi64> into tensor<3xi64>
  %shape = tensor.insert_slice %st into %1[2] [1] [1] : tensor<1xi64> into tensor<3xi64>
  %target = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                            iterator_types = ["parallel"]}
      ins(%shape : tensor<3xi64>) outs(%e : tensor<3xi64>) {
  ^bb0(%in: i64, %out: i64):
    %m1 = arith.constant -1 : i64
    %one = arith.constant 1 : i64
    %any = arith.cmpi eq, %in, %m1 : i64
    %size = arith.select %any, %one, %in : i64
    linalg.yield %size : i64
  } -> tensor<3xi64>
  %d0 = tensor.extract %target[%c0] : tensor<3xi64>
  %d1 = tensor.extract %target[%c1] : tensor<3xi64>
  %d2 = tensor.extract %target[%c2] : tensor<3xi64>
  return %d0, %d1, %d2 : i64, i64, i64
}

// -----

// A broadcast input (a scalar map) and linalg.index read at the element's
// indices.
// CHECK-LABEL: func.func @index_and_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xi64>, %[[Y:.*]]: tensor<3xi64>
// CHECK: %[[XE:.*]] = tensor.extract %[[X]][%c1, %c2]
// CHECK: %[[YE:.*]] = tensor.extract %[[Y]][%c2]
// CHECK: %[[SUM:.*]] = arith.addi %[[XE]], %[[YE]]
// CHECK: %[[P:.*]] = arith.muli %[[SUM]], %c2_i64
// CHECK: return %[[P]]
func.func @index_and_broadcast(%x: tensor<2x3xi64>, %y: tensor<3xi64>) -> i64 {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %e = tensor.empty() : tensor<2x3xi64>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<2x3xi64>, tensor<3xi64>) outs(%e : tensor<2x3xi64>) {
  ^bb0(%a: i64, %b: i64, %out: i64):
    %s = arith.addi %a, %b : i64
    %i = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i64
    %p = arith.muli %s, %ii : i64
    linalg.yield %p : i64
  } -> tensor<2x3xi64>
  %v = tensor.extract %r[%c1, %c2] : tensor<2x3xi64>
  return %v : i64
}

// -----

// Left alone: data (f32, or more than 16 elements), a reduction, and a read
// inside a kernel's body (a gather).
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-3: linalg.generic
// CHECK: tensor.extract %{{.*}}[%c0] : tensor<4xf32>
// CHECK: tensor.extract %{{.*}}[%c0] : tensor<32xi64>
// CHECK: tensor.extract %{{.*}}[] : tensor<i64>
func.func @kept(%f: tensor<4xf32>, %big: tensor<32xi64>, %ids: tensor<4xindex>) -> (f32, i64, i64, tensor<4xi64>) {
  %c0 = arith.constant 0 : index
  %ef = tensor.empty() : tensor<4xf32>
  %neg = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                         iterator_types = ["parallel"]}
      ins(%f : tensor<4xf32>) outs(%ef : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<4xf32>
  %eb = tensor.empty() : tensor<32xi64>
  %twice = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                           iterator_types = ["parallel"]}
      ins(%big : tensor<32xi64>) outs(%eb : tensor<32xi64>) {
  ^bb0(%a: i64, %o: i64):
    %t = arith.addi %a, %a : i64
    linalg.yield %t : i64
  } -> tensor<32xi64>
  %zero = arith.constant 0 : i64
  %z = tensor.from_elements %zero : tensor<i64>
  %sum = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
                         iterator_types = ["reduction"]}
      ins(%big : tensor<32xi64>) outs(%z : tensor<i64>) {
  ^bb0(%a: i64, %acc: i64):
    %t = arith.addi %a, %acc : i64
    linalg.yield %t : i64
  } -> tensor<i64>
  %v0 = tensor.extract %neg[%c0] : tensor<4xf32>
  %v1 = tensor.extract %twice[%c0] : tensor<32xi64>
  %v2 = tensor.extract %sum[] : tensor<i64>
  %eg = tensor.empty() : tensor<4xi64>
  %gathered = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                              iterator_types = ["parallel"]}
      ins(%ids : tensor<4xindex>) outs(%eg : tensor<4xi64>) {
  ^bb0(%i: index, %o: i64):
    %g = tensor.extract %twice[%i] : tensor<32xi64>
    linalg.yield %g : i64
  } -> tensor<4xi64>
  return %v0, %v1, %v2, %gathered : f32, i64, i64, tensor<4xi64>
}

// -----

// As the TorchScript export leaves it after fusion: the Equal as an i1
// mask of the shape's entries, the Where's select on the host, each dim a
// 0-d tensor expanded to 1-D. All of it becomes arithmetic on the dims.
// CHECK-LABEL: func.func @mask_and_expand
// CHECK-SAME: (%[[B:.*]]: i64)
// CHECK-NOT: tensor.
// CHECK: %[[ANY:.*]] = arith.cmpi eq, %[[B]], %c-1_i64
// CHECK: %[[SIZE:.*]] = arith.select %[[ANY]], %c1_i64, %[[B]]
// CHECK: return %[[SIZE]]
func.func @mask_and_expand(%b: i64) -> i64 {
  %c0 = arith.constant 0 : index
  %c1_i64 = arith.constant 1 : i64
  %minus = arith.constant dense<-1> : tensor<2xi64>
  %bt = tensor.from_elements %b : tensor<i64>
  %b1 = tensor.expand_shape %bt [] output_shape [1] : tensor<i64> into tensor<1xi64>
  %e = tensor.empty() : tensor<2xi64>
  %shape = tensor.insert_slice %b1 into %e[0] [1] [1] : tensor<1xi64> into tensor<2xi64>
  %em = tensor.empty() : tensor<2xi1>
  %mask = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                          iterator_types = ["parallel"]}
      ins(%shape, %minus : tensor<2xi64>, tensor<2xi64>) outs(%em : tensor<2xi1>) {
  ^bb0(%in: i64, %m: i64, %out: i1):
    %eq = arith.cmpi eq, %in, %m : i64
    linalg.yield %eq : i1
  } -> tensor<2xi1>
  %any = tensor.extract %mask[%c0] : tensor<2xi1>
  %dim = tensor.extract %b1[%c0] : tensor<1xi64>
  %size = arith.select %any, %c1_i64, %dim : i64
  return %size : i64
}
