// RUN: kiln-opt %s --kiln-gpu-row-kernels --canonicalize --cse -split-input-file | FileCheck %s

// Attention's softmax with symbolic batch and sequence dims: the rows
// (batch x 4 heads x queries) and the row's length are read on the host;
// the blocks are ceil(rows / 4), and a guard keeps the last block's
// spare warps out. The mask's symbolic batch dim is 1 or the scores' at
// run time: checked on the host (a runtime check, as on the CPU), and
// each load picks index 0 or the row's batch by the host's i1.
// CHECK-LABEL: func.func @attention_softmax
// CHECK-SAME: (%[[X:.*]]: memref<?x4x?x?xf32>, %[[MASK:.*]]: memref<?x1x1x?xf32>, %[[Y:.*]]: memref<?x4x?x?xf32>,
// CHECK-DAG: %[[B:.*]] = memref.dim %[[X]], %c0
// CHECK-DAG: %[[Q:.*]] = memref.dim %[[X]], %c2
// CHECK-DAG: %[[N:.*]] = memref.dim %[[X]], %c3
// CHECK-DAG: %[[MB:.*]] = memref.dim %[[MASK]], %c0
// CHECK-DAG: %[[MK:.*]] = memref.dim %[[MASK]], %c3
// CHECK-DAG: %[[MB_ONE:.*]] = arith.cmpi eq, %[[MB]], %c1
// CHECK: kiln.runtime_check {{.*}}: the mask's shape does not broadcast to the scores' (a dim is neither 1 nor theirs at run time)"
// CHECK: %[[BH:.*]] = arith.muli %[[B]], %c4
// CHECK: %[[ROWS:.*]] = arith.muli %[[BH]], %[[Q]]
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[ROWS]], %c4
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c128
// CHECK: %[[ROW:.*]] = arith.addi
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ROW]], %[[ROWS]]
// CHECK: scf.if %[[IN]]
// CHECK: %[[QUERY:.*]] = arith.remui %[[ROW]], %[[Q]]
// CHECK: %[[REST:.*]] = arith.divui %[[ROW]], %[[Q]]
// CHECK: %[[BATCH:.*]] = arith.divui %[[REST]], %c4
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %[[N]] step %c32
// CHECK:   memref.load %[[X]][%[[BATCH]], %{{.*}}, %[[QUERY]], %[[K]]]
// CHECK:   %[[MI:.*]] = arith.select %[[MB_ONE]], %c0, %[[BATCH]]
// CHECK:   %[[MKI:.*]] = arith.select %{{.*}}, %c0, %[[K]]
// CHECK:   memref.load %[[MASK]][%[[MI]], %c0, %c0, %[[MKI]]]
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: scf.for
// CHECK: scf.for
// CHECK: memref.store
// CHECK-NOT: kiln.softmax_rows
func.func @attention_softmax(%x: memref<?x4x?x?xf32>, %mask: memref<?x1x1x?xf32>,
                             %y: memref<?x4x?x?xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.softmax_rows %x addend(%mask : memref<?x1x1x?xf32>) into %y {scale = 0.125 : f32}
      : memref<?x4x?x?xf32>, memref<?x4x?x?xf32>
  return
}

// -----

// Layer norm over rows of a static width (32: one value a lane, in a
// register) whose count is symbolic.
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[ROWS:.*]] = memref.dim
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[ROWS]], %c4
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[BLOCKS]],
// CHECK: scf.if
// CHECK-NOT: scf.for
// CHECK: memref.load
// CHECK-COUNT-10: gpu.shuffle xor
// CHECK: memref.store
func.func @layer_norm(%x: memref<?x32xf32>, %g: memref<32xf32>, %y: memref<?x32xf32>) {
  kiln.layer_norm_rows %x, %g into %y {epsilon = 1.0e-5 : f32}
      : memref<?x32xf32>, memref<32xf32>, memref<?x32xf32>
  return
}

// -----

// A mask of a static 16 keys (not 1) against scores whose row length is
// symbolic: the row's length must be 16 when the model runs, checked on the
// host (the mask reaches the kernel uncopied on the GPU path).
// CHECK-LABEL: func.func @static_mask
// CHECK: %[[N:.*]] = memref.dim %arg0, %c1
// CHECK: %[[BAD:.*]] = arith.cmpi ne, %[[N]], %c16
// CHECK: kiln.runtime_check %[[BAD]], {{.*}}: the mask's shape does not broadcast to the scores'
// CHECK: gpu.launch
func.func @static_mask(%x: memref<?x?xf32>, %mask: memref<1x16xf32>, %y: memref<?x?xf32>,
                       %ctx: index {kiln.runtime_context}) {
  kiln.softmax_rows %x addend(%mask : memref<1x16xf32>) into %y
      : memref<?x?xf32>, memref<?x?xf32>
  return
}
