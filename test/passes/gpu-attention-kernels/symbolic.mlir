// RUN: kiln-opt %s --kiln-gpu-attention-kernels -split-input-file | FileCheck %s

// Attention with symbolic batch, heads, queries and keys (a model compiled
// without --input-shape), as BERT has it with half storage: Q, K^T and V
// views of the projections' output [batch, seq, heads, head], the mask
// [batch, 1, 1, seq] with its `?` dims 1 or the scores' at run time. The
// host reads the sizes (memref.dim), checks what the types leave open
// (the CPU's message), and launches ceil(queries / 64) x heads x batch
// blocks (none when a count is 0). Where a view's outer stride is
// symbolic, whether it is a multiple of 8 values is checked on the host
// and joins the kernel's alignment test for the 16-byte copies. Keys past
// the end are masked in every step (their count is unknown), the loop
// runs to the host's count, and with no keys the output is zeros.

// CHECK-LABEL: func.func @bert_symbolic
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x?x?x64xf16, strided<[?, ?, 64, 1]>>, %[[KT:[^:]*]]: memref<?x?x?x64xf16, strided<[?, ?, 64, 1], offset: ?>>, %[[V:[^:]*]]: memref<?x?x?x64xf16, strided<[?, ?, 64, 1], offset: ?>>, %[[MASK:[^:]*]]: memref<?x1x1x?xf16>, %[[OUT:[^:]*]]: memref<?x?x?x64xf16>,
// CHECK-NOT: kiln.attention
// CHECK-DAG: %[[BATCH:.*]] = memref.dim %[[OUT]], %c0
// CHECK-DAG: %[[HEADS:.*]] = memref.dim %[[OUT]], %c2
// CHECK-DAG: %[[SQ:.*]] = memref.dim %[[Q]], %c1
// CHECK-DAG: %[[SK:.*]] = memref.dim %[[KT]], %c1
// The mask's batch dim: 1 (broadcast) or the batch.
// CHECK: %[[MASKB:.*]] = memref.dim %[[MASK]], %c0
// CHECK: %[[MASKONE:.*]] = arith.cmpi eq, %[[MASKB]], %{{.*}} : index
// CHECK: kiln.runtime_check %{{.*}}, "{{.*}}attention's operands do not fit at run time (a batch dim neither 1 nor the others', or the products' inner dims differ, or the mask does not broadcast to the scores)"
// CHECK-DAG: %[[LASTKEY:.*]] = arith.addi %[[SK]], %c-1
// CHECK-DAG: %[[NOKEYS:.*]] = arith.cmpi eq, %[[SK]], %{{.*}} : index
// CHECK: %[[TILES:.*]] = arith.ceildivui %[[SQ]], %{{.*}} : index
// CHECK: %[[PERIMAGE:.*]] = arith.muli %[[TILES]], %[[HEADS]] : index
// CHECK: %[[BLOCKS:.*]] = arith.muli %[[PERIMAGE]], %[[BATCH]] : index
// K's and V's outer strides and offsets are symbolic: checked on the host.
// CHECK: %{{.*}}, %[[KOFF:.*]], %{{.*}}:4, %[[KSTR:.*]]:4 = memref.extract_strided_metadata %[[KT]]
// CHECK: arith.remui %[[KOFF]], %c8
// CHECK: arith.remui %[[KSTR]]#0, %c8
// CHECK: arith.remui %[[KSTR]]#1, %c8
// CHECK: %[[KLAYOUT:.*]] = arith.andi
// CHECK: memref.extract_strided_metadata %[[V]]
// CHECK: gpu.launch blocks(%[[BLOCK:[^,]*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads({{.*}}) in ({{.*}}) workgroup(%{{.*}} : memref<2x32x72xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<2x32x72xf16, #gpu.address_space<workgroup>>)
// CHECK: arith.remui %[[BLOCK]], %[[TILES]] : index
// CHECK: %[[TH:.*]] = arith.divui %[[BLOCK]], %[[TILES]] : index
// CHECK: arith.remui %[[TH]], %[[HEADS]] : index
// CHECK: arith.divui %[[BLOCK]], %[[PERIMAGE]] : index
// CHECK: %[[KALIGNED:.*]] = arith.cmpi eq
// CHECK: arith.andi %[[KALIGNED]], %[[KLAYOUT]] : i1
// The first step is started only where there are keys.
// CHECK: %[[START:.*]] = arith.xori %[[NOKEYS]], %true
// CHECK: %[[FIRST:.*]] = arith.andi %{{.*}}, %[[START]] : i1
// CHECK: scf.if %[[FIRST]] {
// CHECK: arith.minui %{{.*}}, %[[LASTKEY]] : index
// CHECK: nvgpu.device_async_copy
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[SK]] step %{{.*}} iter_args(
// The mask's batch index: 0 where it broadcasts.
// CHECK: %[[MB:.*]] = arith.select %[[MASKONE]], %{{.*}}, %{{.*}} : index
// CHECK: memref.load %[[MASK]][%[[MB]],
// CHECK: arith.cmpi ult, %{{.*}}, %[[SK]] : index
// CHECK: scf.yield
// CHECK: %[[RECIPROCAL:.*]] = arith.divf
// CHECK: arith.select %[[NOKEYS]], %{{.*}}, %[[RECIPROCAL]] : f32
// CHECK: arith.cmpi ult, %{{.*}}, %[[SQ]] : index
func.func @bert_symbolic(%q: memref<?x?x?x64xf16, strided<[?, ?, 64, 1]>>,
                         %kt: memref<?x?x?x64xf16, strided<[?, ?, 64, 1], offset: ?>>,
                         %v: memref<?x?x?x64xf16, strided<[?, ?, 64, 1], offset: ?>>,
                         %mask: memref<?x1x1x?xf16>, %out: memref<?x?x?x64xf16>,
                         %ctx: index {kiln.runtime_context}) {
  kiln.attention %q, %kt, %v addend(%mask : memref<?x1x1x?xf16>) into %out
      {q_perm = array<i64: 0, 2, 1, 3>, kt_perm = array<i64: 0, 2, 3, 1>,
       v_perm = array<i64: 0, 2, 1, 3>, scale = 0.125 : f32, transposed_output}
      : memref<?x?x?x64xf16, strided<[?, ?, 64, 1]>>,
        memref<?x?x?x64xf16, strided<[?, ?, 64, 1], offset: ?>>,
        memref<?x?x?x64xf16, strided<[?, ?, 64, 1], offset: ?>>, memref<?x?x?x64xf16>
  return
}

// -----

// Contiguous heads-first buffers of symbolic batch and sequence: their
// strides are products of dims with a static 64 inside, multiples of 8
// whatever the sizes, so no layout check is left for run time. A batch
// dim of K^T that is symbolic while Q's is 1: K^T's is checked against
// the batch (1 or the same), and its loads pick index 0 where it is 1.

// CHECK-LABEL: func.func @contiguous
// CHECK-NOT: memref.extract_strided_metadata
// CHECK: %[[KTB:.*]] = memref.dim %arg1, %c0
// CHECK: %[[KTONE:.*]] = arith.cmpi eq, %[[KTB]], %{{.*}} : index
// CHECK: kiln.runtime_check
// CHECK-NOT: memref.extract_strided_metadata
// CHECK: gpu.launch
// CHECK: arith.select %[[KTONE]], %{{.*}}, %{{.*}} : index
func.func @contiguous(%q: memref<1x2x?x64xf16>, %kt: memref<?x2x64x?xf16>, %v: memref<?x2x?x64xf16>,
                      %out: memref<?x2x?x64xf16>, %ctx: index {kiln.runtime_context}) {
  kiln.attention %q, %kt, %v into %out
      : memref<1x2x?x64xf16>, memref<?x2x64x?xf16>, memref<?x2x?x64xf16>, memref<?x2x?x64xf16>
  return
}

// -----

// A mask of a static 40 keys against a symbolic key count: the count must
// be 40 when the model runs (the mask reaches the kernel uncopied).
// CHECK-LABEL: func.func @static_mask
// CHECK: %[[SK:.*]] = memref.dim %arg1, %c3
// CHECK: %[[BAD:.*]] = arith.cmpi ne, %[[SK]], %c40
// CHECK: kiln.runtime_check {{.*}}attention's operands do not fit at run time
func.func @static_mask(%q: memref<1x2x8x16xf16>, %kt: memref<1x2x16x?xf16>, %v: memref<1x2x?x16xf16>,
                       %mask: memref<1x1x1x40xf16>, %out: memref<1x2x8x16xf16>,
                       %ctx: index {kiln.runtime_context}) {
  kiln.attention %q, %kt, %v addend(%mask : memref<1x1x1x40xf16>) into %out
      : memref<1x2x8x16xf16>, memref<1x2x16x?xf16>, memref<1x2x?x16xf16>, memref<1x2x8x16xf16>
  return
}
