// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// kiln.constant is arith.constant of the same attribute.
// CHECK-LABEL: func.func @constant_dense
// CHECK: %[[C:.*]] = arith.constant dense<[1, 128, 12, 64]> : tensor<4xi64>
// CHECK: return %[[C]]
func.func @constant_dense() -> tensor<4xi64> {
  %0 = kiln.constant dense<[1, 128, 12, 64]> : tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// A dense_resource weight stays a resource (the blob is not expanded).
// CHECK-LABEL: func.func @constant_resource
// CHECK: %[[C:.*]] = arith.constant dense_resource<weight> : tensor<2xf32>
// CHECK: return %[[C]]
// CHECK: weight: "0x040000000000803F00000040"
func.func @constant_resource() -> tensor<2xf32> {
  %0 = kiln.constant dense_resource<weight> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weight: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// Static dims fold to a constant.
// CHECK-LABEL: func.func @shape_static
// CHECK: %[[C:.*]] = arith.constant dense<[8, 768]> : tensor<2xi64>
// CHECK: return %[[C]]
func.func @shape_static(%x: tensor<2x8x768xf32>) -> tensor<2xi64> {
  %0 = kiln.shape %x {start = 1 : i64, end = 3 : i64} : (tensor<2x8x768xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @shape_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x?xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : i64
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK: %[[I0:.*]] = arith.index_cast %[[D0]] : index to i64
// CHECK: %[[D2:.*]] = tensor.dim %[[X]], %[[C2]]
// CHECK: %[[I2:.*]] = arith.index_cast %[[D2]] : index to i64
// CHECK: %[[S:.*]] = tensor.from_elements %[[I0]], %[[C8]], %[[I2]] : tensor<3xi64>
// CHECK: return %[[S]]
func.func @shape_dynamic(%x: tensor<?x8x?xf32>) -> tensor<3xi64> {
  %0 = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<?x8x?xf32>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @size_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[N:.*]] = arith.muli %[[D0]], %[[C8]] : index
// CHECK: %[[I:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[S:.*]] = tensor.from_elements %[[I]] : tensor<i64>
// CHECK: return %[[S]]
func.func @size_dynamic(%x: tensor<?x8xf32>) -> tensor<i64> {
  %0 = kiln.size %x : (tensor<?x8xf32>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

// CHECK-LABEL: func.func @reshape_static
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>)
// CHECK: tensor.expand_shape %[[X]] {{\[}}[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
func.func @reshape_static(%x: tensor<8xf32>) -> tensor<2x4xf32> {
  %s = kiln.constant dense<[2, 4]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s : (tensor<8xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// A shape known only at run time, three `?` dims: each entry is the input
// dim where 0, total / (product of the others, the -1 counting as 1) where
// -1, else itself; then tensor.reshape.
// CHECK-LABEL: func.func @reshape_runtime
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x?xf32>, %[[S:.*]]: tensor<3xi64>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[CM1:.*]] = arith.constant -1 : index
// CHECK: %[[E0:.*]] = tensor.extract %[[S]][%[[C0]]] : tensor<3xi64>
// CHECK: %[[V0:.*]] = arith.index_cast %[[E0]] : i64 to index
// CHECK: %[[Z0:.*]] = arith.cmpi eq, %[[V0]], %[[C0]] : index
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK: %[[R0:.*]] = arith.select %[[Z0]], %[[D0]], %[[V0]] : index
// CHECK: tensor.extract %[[S]][%[[C1]]]
// CHECK: tensor.extract %[[S]][%{{.*}}]
// CHECK: %[[T0:.*]] = arith.muli
// CHECK: %[[TOTAL:.*]] = arith.muli %[[T0]], %{{.*}} : index
// CHECK: %[[INF0:.*]] = arith.cmpi eq, %[[V0]], %[[CM1]] : index
// CHECK: %[[K0:.*]] = arith.select %[[INF0]], %[[C1]], %[[R0]] : index
// CHECK: %[[DIV:.*]] = arith.maxsi %{{.*}}, %[[C1]] : index
// CHECK: %[[Q:.*]] = arith.divsi %[[TOTAL]], %[[DIV]] : index
// CHECK: %[[OUT0:.*]] = arith.select %[[INF0]], %[[Q]], %[[R0]] : index
// CHECK: %[[OUT1:.*]] = arith.select %{{.*}}, %[[Q]], %{{.*}} : index
// CHECK: %[[OUT2:.*]] = arith.select %{{.*}}, %[[Q]], %{{.*}} : index
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %[[OUT0]], %[[OUT1]], %[[OUT2]] : tensor<3xindex>
// CHECK: tensor.reshape %[[X]](%[[SHAPE]]) : (tensor<?x?x?xf32>, tensor<3xindex>) -> tensor<?x?x?xf32>
func.func @reshape_runtime(%x: tensor<?x?x?xf32>, %s: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %0 = kiln.reshape %x, %s : (tensor<?x?x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// -----

// shape(x)[0:2] ++ [12, 64]: the `?` dim is x's own dim 0, so the reshape
// is a view, split 768 into 12x64.
// CHECK-LABEL: func.func @reshape_partial
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x768xf32>)
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[E:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [%[[D0]], 8, 12, 64] : tensor<?x8x768xf32> into tensor<?x8x12x64xf32>
// CHECK: return %[[E]]
// CHECK-NOT: tensor.reshape
func.func @reshape_partial(%x: tensor<?x8x768xf32>) -> tensor<?x8x12x64xf32> {
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8x768xf32>) -> tensor<2xi64>
  %c = kiln.constant dense<[12, 64]> : tensor<2xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<?x8x768xf32>, tensor<4xi64>) -> tensor<?x8x12x64xf32>
  return %r : tensor<?x8x12x64xf32>
}

// -----

// [b, s, -1, 64] of a ?x?x128 tensor whose b, s are its own dims: the -1 is
// 128/64 = 2 at compile time; the view is made static there and cast back.
// CHECK-LABEL: func.func @reshape_heads
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x128xf32>)
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[D1:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[E:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [%[[D0]], %[[D1]], 2, 64] : tensor<?x?x128xf32> into tensor<?x?x2x64xf32>
// CHECK: %[[C:.*]] = tensor.cast %[[E]] : tensor<?x?x2x64xf32> to tensor<?x?x?x64xf32>
// CHECK: return %[[C]]
func.func @reshape_heads(%x: tensor<?x?x128xf32>) -> tensor<?x?x?x64xf32> {
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x?x128xf32>) -> tensor<2xi64>
  %c = kiln.constant dense<[-1, 64]> : tensor<2xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<?x?x128xf32>, tensor<4xi64>) -> tensor<?x?x?x64xf32>
  return %r : tensor<?x?x?x64xf32>
}

// -----

// The same in a model (a run-time context): where b * s is 0 the -1 is
// undefined (ONNX; ORT fails), and the run fails before the view is read.
// CHECK-LABEL: func.func @reshape_heads_checked
// CHECK-DAG: %[[D0:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[D1:.*]] = tensor.dim %arg0, %c1
// CHECK: kiln.runtime_check %{{.*}}, "a Reshape: the target shape has a -1 and its other sizes multiply to 0, which leaves the -1 undefined"
// CHECK: tensor.expand_shape %arg0
func.func @reshape_heads_checked(%x: tensor<?x?x128xf32>, %ctx: index {kiln.runtime_context})
    -> tensor<?x?x?x64xf32> {
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x?x128xf32>) -> tensor<2xi64>
  %c = kiln.constant dense<[-1, 64]> : tensor<2xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<?x?x128xf32>, tensor<4xi64>) -> tensor<?x?x?x64xf32>
  return %r : tensor<?x?x?x64xf32>
}

// -----

// The dims come from another argument; kiln.dim_names (ONNX dim_param)
// says they are the same sizes, so it is still a view.
// CHECK-LABEL: func.func @reshape_named_dims
// CHECK-SAME: (%[[IDS:[^:]*]]: tensor<?x?xi64> {{.*}}, %[[X:[^:]*]]: tensor<?x?x128xf32>
// CHECK: %[[D0:.*]] = tensor.dim %[[IDS]], %{{.*}}
// CHECK: %[[D1:.*]] = tensor.dim %[[IDS]], %{{.*}}
// CHECK: tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [%[[D0]], %[[D1]], 2, 64]
func.func @reshape_named_dims(%ids: tensor<?x?xi64> {kiln.dim_names = ["batch", "sequence"]},
                              %x: tensor<?x?x128xf32> {kiln.dim_names = ["batch", "sequence", ""]}) -> tensor<?x?x2x64xf32> {
  %s = kiln.shape %ids {start = 0 : i64, end = 2 : i64} : (tensor<?x?xi64>) -> tensor<2xi64>
  %c = kiln.constant dense<[2, 64]> : tensor<2xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<?x?x128xf32>, tensor<4xi64>) -> tensor<?x?x2x64xf32>
  return %r : tensor<?x?x2x64xf32>
}

// -----

// ViT's TorchScript export: the batch of %x is a value read at run time
// (an Expand to a shape given as data), and the target's first entry is
// that dim of %x again. The value is %x's dim 0 (a size, not -1), so the
// -1 is 128/64 = 2 and the reshape a view.
// CHECK-LABEL: func.func @reshape_heads_runtime_batch
// CHECK: %[[B:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[X:.*]] = linalg.generic
// CHECK-NOT: tensor.reshape
// CHECK: tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [%[[B]], 17, 2, 64] : tensor<?x17x128xf32> into tensor<?x17x2x64xf32>
func.func @reshape_heads_runtime_batch(%cls: tensor<1x17x128xf32>, %target: tensor<3xi64>) -> tensor<?x?x?x64xf32> {
  %x = kiln.expand %cls, %target : (tensor<1x17x128xf32>, tensor<3xi64>) -> tensor<?x17x128xf32>
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x17x128xf32>) -> tensor<2xi64>
  %c = kiln.constant dense<[-1, 64]> : tensor<2xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %t : (tensor<?x17x128xf32>, tensor<4xi64>) -> tensor<?x?x?x64xf32>
  return %r : tensor<?x?x?x64xf32>
}

// -----

// [B*S, N] back to [B, S, N] with B and S read off another tensor (GPT-2's
// Conv1D as TorchScript exports it): a proven regrouping, but an
// expand_shape group with two `?` dims crashes MLIR 22's
// expand-strided-metadata, so it is a tensor.reshape to the symbols
// themselves, with no 0-entry selects and no element-count check; the ops
// after it then see B and S (a residual add needs no broadcast check).
// CHECK-LABEL: func.func @row_split_to_symbols
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x128xf32>)
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK-NOT: arith.select
// CHECK-NOT: kiln.runtime_check
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[X]], %c0
// CHECK-DAG: %[[S:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[T:.*]] = tensor.from_elements %[[B]], %[[S]], %c128 : tensor<3xindex>
// CHECK: tensor.reshape %[[Y]](%[[T]]) : (tensor<?x128xf32>, tensor<3xindex>) -> tensor<?x?x128xf32>
func.func @row_split_to_symbols(%x: tensor<?x?x128xf32>) -> tensor<?x?x128xf32> {
  %flat = kiln.constant dense<[-1, 128]> : tensor<2xi64>
  %f = kiln.reshape %x, %flat : (tensor<?x?x128xf32>, tensor<2xi64>) -> tensor<?x128xf32>
  %y = kiln.relu %f : tensor<?x128xf32>
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x?x128xf32>) -> tensor<2xi64>
  %c = kiln.constant dense<[128]> : tensor<1xi64>
  %t = kiln.concat %s, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %y, %t : (tensor<?x128xf32>, tensor<3xi64>) -> tensor<?x?x128xf32>
  return %r : tensor<?x?x128xf32>
}

// -----

// [-1, 1] of ?x?: no dim-by-dim regrouping, but the -1 is provably d0*d1,
// so through one dim.
// CHECK-LABEL: func.func @reshape_through_flat
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xi1>)
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[D1:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[N:.*]] = arith.muli %[[D0]], %[[D1]] : index
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<?x?xi1> into tensor<?xi1>
// CHECK: tensor.expand_shape %[[F]] {{\[}}[0, 1]] output_shape [%[[N]], 1] : tensor<?xi1> into tensor<?x1xi1>
func.func @reshape_through_flat(%x: tensor<?x?xi1>) -> tensor<?x1xi1> {
  %c = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %r = kiln.reshape %x, %c : (tensor<?x?xi1>, tensor<2xi64>) -> tensor<?x1xi1>
  return %r : tensor<?x1xi1>
}

// -----

// A run-time shape but one `?` result dim: through one dim rather than
// tensor.reshape.
// CHECK-LABEL: func.func @reshape_runtime_one_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xf32>, %[[S:.*]]: tensor<2xi64>)
// CHECK: %[[Q:.*]] = arith.divsi
// CHECK: %[[D:.*]] = arith.select %{{.*}}, %[[Q]], %{{.*}} : index
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<?x?xf32> into tensor<?xf32>
// CHECK: tensor.expand_shape %[[F]] {{\[}}[0, 1]] output_shape [%[[D]], 4] : tensor<?xf32> into tensor<?x4xf32>
// CHECK-NOT: tensor.reshape
func.func @reshape_runtime_one_dynamic(%x: tensor<?x?xf32>, %s: tensor<2xi64>) -> tensor<?x4xf32> {
  %r = kiln.reshape %x, %s : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// allowzero: a 0 entry is a 0 dim (no select on 0), -1 still inferred.
// CHECK-LABEL: func.func @reshape_allowzero
// CHECK-NOT: arith.cmpi eq, %{{.*}}, %c0 : index
// CHECK: arith.divsi
// CHECK: tensor.reshape
func.func @reshape_allowzero(%x: tensor<?xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = kiln.reshape %x, %s {allowzero = true} : (tensor<?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Unit dims join the group of the dim before them (leading ones the first).
// CHECK-LABEL: func.func @unsqueeze_static
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1, 2], [3]] output_shape [2, 1, 1, 8] : tensor<2x8xi64> into tensor<2x1x1x8xi64>
func.func @unsqueeze_static(%x: tensor<2x8xi64>) -> tensor<2x1x1x8xi64> {
  %0 = kiln.unsqueeze %x {axes = array<i64: 1, 2>} : (tensor<2x8xi64>) -> tensor<2x1x1x8xi64>
  return %0 : tensor<2x1x1x8xi64>
}

// -----

// CHECK-LABEL: func.func @unsqueeze_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xi64>)
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[D1:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: tensor.expand_shape %[[X]] {{\[}}[0, 1], [2, 3]] output_shape [1, %[[D0]], %[[D1]], 1] : tensor<?x?xi64> into tensor<1x?x?x1xi64>
func.func @unsqueeze_dynamic(%x: tensor<?x?xi64>) -> tensor<1x?x?x1xi64> {
  %0 = kiln.unsqueeze %x {axes = array<i64: 0, 3>} : (tensor<?x?xi64>) -> tensor<1x?x?x1xi64>
  return %0 : tensor<1x?x?x1xi64>
}

// -----

// CHECK-LABEL: func.func @unsqueeze_scalar
// CHECK: tensor.expand_shape %{{.*}} [] output_shape [1] : tensor<f32> into tensor<1xf32>
func.func @unsqueeze_scalar(%x: tensor<f32>) -> tensor<1xf32> {
  %0 = kiln.unsqueeze %x {axes = array<i64: 0>} : (tensor<f32>) -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

// CHECK-LABEL: func.func @squeeze_static
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2]] : tensor<1x8x1xi64> into tensor<8xi64>
func.func @squeeze_static(%x: tensor<1x8x1xi64>) -> tensor<8xi64> {
  %0 = kiln.squeeze %x {axes = array<i64: 0, 2>} : (tensor<1x8x1xi64>) -> tensor<8xi64>
  return %0 : tensor<8xi64>
}

// -----

// A `?` squeezed dim is 1 (ONNX requires it): cast, then collapse.
// CHECK-LABEL: func.func @squeeze_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x1xf32>)
// CHECK: %[[C:.*]] = tensor.cast %[[X]] : tensor<?x?x1xf32> to tensor<1x?x1xf32>
// CHECK: tensor.collapse_shape %[[C]] {{\[}}[0, 1, 2]] : tensor<1x?x1xf32> into tensor<?xf32>
func.func @squeeze_dynamic(%x: tensor<?x?x1xf32>) -> tensor<?xf32> {
  %0 = kiln.squeeze %x {axes = array<i64: 0, 2>} : (tensor<?x?x1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func.func @squeeze_to_scalar
// CHECK: tensor.collapse_shape %{{.*}} [] : tensor<1x1xi64> into tensor<i64>
func.func @squeeze_to_scalar(%x: tensor<1x1xi64>) -> tensor<i64> {
  %0 = kiln.squeeze %x {axes = array<i64: 0, 1>} : (tensor<1x1xi64>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

// CHECK-LABEL: func.func @constant_of_shape_dynamic
// CHECK-SAME: (%[[S:.*]]: tensor<2xi64>)
// CHECK-DAG: %[[V:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[E0:.*]] = tensor.extract %[[S]][%{{.*}}] : tensor<2xi64>
// CHECK: %[[D0:.*]] = arith.index_cast %[[E0]] : i64 to index
// CHECK: %[[E1:.*]] = tensor.extract %[[S]][%{{.*}}] : tensor<2xi64>
// CHECK: %[[D1:.*]] = arith.index_cast %[[E1]] : i64 to index
// CHECK: %[[T:.*]] = tensor.empty(%[[D0]], %[[D1]]) : tensor<?x?xf32>
// CHECK: %[[F:.*]] = linalg.fill ins(%[[V]] : f32) outs(%[[T]] : tensor<?x?xf32>) -> tensor<?x?xf32>
// CHECK: return %[[F]]
func.func @constant_of_shape_dynamic(%s: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = kiln.constant_of_shape %s {value = 0.5 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// The shape of x: its dim is used directly, no round trip through memory.
// CHECK-LABEL: func.func @constant_of_shape_partial
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK-DAG: %[[V:.*]] = arith.constant 1 : i64
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[T:.*]] = tensor.empty(%[[D0]]) : tensor<?x4xi64>
// CHECK: linalg.fill ins(%[[V]] : i64) outs(%[[T]] : tensor<?x4xi64>)
func.func @constant_of_shape_partial(%x: tensor<?x4xf32>) -> tensor<?x4xi64> {
  %s = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x4xf32>) -> tensor<2xi64>
  %0 = kiln.constant_of_shape %s {value = 1 : i64} : (tensor<2xi64>) -> tensor<?x4xi64>
  return %0 : tensor<?x4xi64>
}

// -----

// CHECK-LABEL: func.func @range_static
// CHECK: %[[C:.*]] = arith.constant dense<[10, 7, 4]> : tensor<3xi64>
// CHECK: return %[[C]]
func.func @range_static() -> tensor<3xi64> {
  %s = kiln.constant dense<10> : tensor<i64>
  %l = kiln.constant dense<1> : tensor<i64>
  %d = kiln.constant dense<-3> : tensor<i64>
  %0 = kiln.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// Length max(0, ceildiv(limit - start, delta)), the division by 1 where
// delta is 0 (no range: the run fails, when there is a run-time context to
// fail it) or -1 (a negation); element start + i * delta.
// CHECK-LABEL: func.func @range_dynamic
// CHECK-SAME: (%[[S:.*]]: tensor<i64>, %[[L:.*]]: tensor<i64>, %[[D:.*]]: tensor<i64>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[START:.*]] = tensor.extract %[[S]][] : tensor<i64>
// CHECK: %[[LIMIT:.*]] = tensor.extract %[[L]][] : tensor<i64>
// CHECK: %[[DELTA:.*]] = tensor.extract %[[D]][] : tensor<i64>
// CHECK: %[[SPAN:.*]] = arith.subi %[[LIMIT]], %[[START]] : i64
// CHECK: %[[SAFE:.*]] = arith.select %{{.*}}, %c1_i64, %[[DELTA]] : i64
// CHECK: %[[NEG:.*]] = arith.subi %c0_i64, %[[SPAN]] : i64
// CHECK: %[[DIV:.*]] = arith.ceildivsi %[[SPAN]], %[[SAFE]] : i64
// CHECK: %[[Q:.*]] = arith.select %{{.*}}, %[[NEG]], %[[DIV]] : i64
// CHECK: %[[QI:.*]] = arith.index_cast %[[Q]] : i64 to index
// CHECK: %[[N:.*]] = arith.maxsi %[[QI]], %[[C0]] : index
// CHECK: %[[T:.*]] = tensor.empty(%[[N]]) : tensor<?xi64>
// CHECK: linalg.generic {{.*}} outs(%[[T]] : tensor<?xi64>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[II:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[M:.*]] = arith.muli %[[II]], %[[DELTA]] : i64
// CHECK: %[[V:.*]] = arith.addi %[[START]], %[[M]] : i64
// CHECK: linalg.yield %[[V]] : i64
func.func @range_dynamic(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>) -> tensor<?xi64> {
  %0 = kiln.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

// arange(x.size(1)): the length is the dim itself (never negative: no max
// with 0), so ops after the Range see x's dim.
// CHECK-LABEL: func.func @range_of_dim
// CHECK-SAME: (%[[X:.*]]: tensor<2x?xf32>)
// CHECK-NOT: arith.maxsi
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %c1 : tensor<2x?xf32>
// CHECK: %[[L:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK-NOT: arith.maxsi
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]] : i64 to index
// CHECK-NEXT: tensor.empty(%[[LI]]) : tensor<?xi64>
func.func @range_of_dim(%x: tensor<2x?xf32>) -> tensor<?xi64> {
  %zero = kiln.constant dense<0> : tensor<i64>
  %one = kiln.constant dense<1> : tensor<i64>
  %shape = kiln.shape %x {start = 1 : i64, end = 2 : i64} : (tensor<2x?xf32>) -> tensor<1xi64>
  %n = kiln.squeeze %shape {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %0 = kiln.range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

// The count's quotient in f64 (the span in f32), as in onnxruntime and
// numpy: ceil(-3.5 / -0.7f) is 6, and 5 in f32.
// CHECK-LABEL: func.func @range_float
// CHECK: %[[SPAN:.*]] = arith.subf
// CHECK: %[[WIDE:.*]] = arith.extf %[[SPAN]] : f32 to f64
// CHECK: %[[Q:.*]] = arith.divf %[[WIDE]], %{{.*}} : f64
// CHECK: %[[C:.*]] = math.ceil %[[Q]] : f64
// CHECK: arith.fptosi %[[C]] : f64 to i64
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[II:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[F:.*]] = arith.sitofp %[[II]] : i64 to f32
// CHECK: arith.mulf %[[F]], %{{.*}} : f32
func.func @range_float(%s: tensor<f32>, %l: tensor<f32>, %d: tensor<f32>) -> tensor<?xf32> {
  %0 = kiln.range %s, %l, %d : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Squeezing a `?` dim: it must be 1 when the model runs.
// CHECK-LABEL: func.func @squeeze_dynamic_checked
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c0 : tensor<?x3xf32>
// CHECK: %[[NOT1:.*]] = arith.cmpi ne, %[[N]], %c1 : index
// CHECK: kiln.runtime_check %[[NOT1]], "a Squeeze: a squeezed dim is not 1 at run time"
// CHECK: tensor.collapse_shape
func.func @squeeze_dynamic_checked(%x: tensor<?x3xf32>, %ctx: index {kiln.runtime_context})
    -> tensor<3xf32> {
  %0 = kiln.squeeze %x {axes = array<i64: 0>} : (tensor<?x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A Range's delta fed when the model runs: 0 fails the run.
// CHECK-LABEL: func.func @range_run_time_delta
// CHECK: %[[D:.*]] = tensor.extract %arg2[]
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[D]], %c0_i64 : i64
// CHECK: kiln.runtime_check %[[ZERO]], "a Range: delta is zero"
// CHECK-LABEL: func.func @range_float_run_time_delta
// CHECK: %[[D:.*]] = tensor.extract %arg2[]
// CHECK: %[[ZERO:.*]] = arith.cmpf oeq, %[[D]], %cst : f32
// CHECK: kiln.runtime_check %[[ZERO]], "a Range: delta is zero"
func.func @range_run_time_delta(%a: tensor<i64>, %b: tensor<i64>, %d: tensor<i64>,
                                %ctx: index {kiln.runtime_context}) -> tensor<?xi64> {
  %0 = kiln.range %a, %b, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}
func.func @range_float_run_time_delta(%a: tensor<f32>, %b: tensor<f32>, %d: tensor<f32>,
                                      %ctx: index {kiln.runtime_context}) -> tensor<?xf32> {
  %0 = kiln.range %a, %b, %d : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
