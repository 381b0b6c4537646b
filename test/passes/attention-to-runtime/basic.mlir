// RUN: kiln-opt %s --kiln-attention-to-runtime -canonicalize -split-input-file | FileCheck %s

// BERT-base's attention as kiln-attention-to-ukernel leaves it, bufferized:
// q, K and v are views of the fused Q/K/V projection's output ([1, 128,
// 2304], columns 0, 768 and 1536 on), read through their perms; the
// output is written heads-interleaved; both products on bf16 inputs. The
// descriptor (32 words; kiln_abi.h): 0-3 sq, sk, d, dv; 4-6 q, its row and
// column strides; 7-9 kt likewise (K's rows read in place: row stride 1,
// column stride 2304); 10-12 v; 13-14 out and its row stride; 15-17 the
// addend and its row and column strides; 18 the scale (a double's bits);
// 19-20 the batch; 21-30 the batch strides of q, kt, v, out and addend;
// 31 products_type (16, bf16). The mask's `?` batch is 1 (stride 0) or
// the result's at run time, else the run fails.
// CHECK: func.func private @kiln_rt_attention(index, index)
// CHECK-LABEL: func.func @bert
// CHECK-SAME: %[[CTX:[^:]*]]: index {kiln.runtime_context}
// CHECK: %[[DESC:.*]] = memref.alloca() : memref<32xindex>
// CHECK: %[[Q:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: %[[KBASE:.*]] = memref.extract_aligned_pointer_as_index %arg1
// CHECK: %[[K:.*]] = arith.addi %[[KBASE]], %c3072
// CHECK: %[[VBASE:.*]] = memref.extract_aligned_pointer_as_index %arg2
// CHECK: %[[V:.*]] = arith.addi %[[VBASE]], %c6144
// CHECK: %[[OUT:.*]] = memref.extract_aligned_pointer_as_index %arg4
// CHECK: %[[MASK:.*]] = memref.extract_aligned_pointer_as_index %arg3
// CHECK: %[[MASKBATCH:.*]] = memref.dim %arg3, %c0
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %[[MASKBATCH]], %c1
// CHECK: %[[MASKSTRIDE:.*]] = arith.select %[[ONE]], %c0, %c128
// CHECK: kiln.runtime_check %{{.*}}, "a MatMul: attention's operands do not fit at run time
// CHECK-NEXT: memref.store %c128, %[[DESC]][%c0]
// CHECK-NEXT: memref.store %c128, %[[DESC]][%c1]
// CHECK-NEXT: memref.store %c64, %[[DESC]][%c2]
// CHECK-NEXT: memref.store %c64, %[[DESC]][%c3]
// CHECK-NEXT: memref.store %[[Q]], %[[DESC]][%c4]
// CHECK-NEXT: memref.store %c2304, %[[DESC]][%c5]
// CHECK-NEXT: memref.store %c1, %[[DESC]][%c6]
// CHECK-NEXT: memref.store %[[K]], %[[DESC]][%c7]
// CHECK-NEXT: memref.store %c1, %[[DESC]][%c8]
// CHECK-NEXT: memref.store %c2304, %[[DESC]][%c9]
// CHECK-NEXT: memref.store %[[V]], %[[DESC]][%c10]
// CHECK-NEXT: memref.store %c2304, %[[DESC]][%c11]
// CHECK-NEXT: memref.store %c1, %[[DESC]][%c12]
// CHECK-NEXT: memref.store %[[OUT]], %[[DESC]][%c13]
// CHECK-NEXT: memref.store %c768, %[[DESC]][%c14]
// CHECK-NEXT: memref.store %[[MASK]], %[[DESC]][%c15]
// CHECK-NEXT: memref.store %c0, %[[DESC]][%c16]
// CHECK-NEXT: memref.store %c1, %[[DESC]][%c17]
// CHECK-NEXT: memref.store %c4593671619917905920, %[[DESC]][%c18]
// CHECK-NEXT: memref.store %c1, %[[DESC]][%c19]
// CHECK-NEXT: memref.store %c12, %[[DESC]][%c20]
// CHECK-NEXT: memref.store %c0, %[[DESC]][%c21]
// CHECK-NEXT: memref.store %c64, %[[DESC]][%c22]
// CHECK-NEXT: memref.store %c0, %[[DESC]][%c23]
// CHECK-NEXT: memref.store %c64, %[[DESC]][%c24]
// CHECK-NEXT: memref.store %c0, %[[DESC]][%c25]
// CHECK-NEXT: memref.store %c64, %[[DESC]][%c26]
// CHECK-NEXT: memref.store %c98304, %[[DESC]][%c27]
// CHECK-NEXT: memref.store %c64, %[[DESC]][%c28]
// CHECK-NEXT: memref.store %[[MASKSTRIDE]], %[[DESC]][%c29]
// CHECK-NEXT: memref.store %c0, %[[DESC]][%c30]
// CHECK-NEXT: memref.store %c16, %[[DESC]][%c31]
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[DESC]]
// CHECK: call @kiln_rt_attention(%[[CTX]], %[[ADDRESS]]) : (index, index) -> ()
// CHECK-NOT: kiln.attention
func.func @bert(%q: memref<1x128x12x64xf32, strided<[294912, 2304, 64, 1]>>,
                %k: memref<1x128x12x64xf32, strided<[294912, 2304, 64, 1], offset: 768>>,
                %v: memref<1x128x12x64xf32, strided<[294912, 2304, 64, 1], offset: 1536>>,
                %m: memref<?x1x1x128xf32>, %out: memref<1x128x12x64xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.attention %q, %k, %v addend(%m : memref<?x1x1x128xf32>) into %out
      {scale = 0.125 : f32, transposed_output, q_perm = array<i64: 0, 2, 1, 3>,
       kt_perm = array<i64: 0, 2, 3, 1>, v_perm = array<i64: 0, 2, 1, 3>, bf16_inputs}
      : memref<1x128x12x64xf32, strided<[294912, 2304, 64, 1]>>,
        memref<1x128x12x64xf32, strided<[294912, 2304, 64, 1], offset: 768>>,
        memref<1x128x12x64xf32, strided<[294912, 2304, 64, 1], offset: 1536>>, memref<1x128x12x64xf32>
  return
}

// -----

// Symbolic batch and sequence, no mask, fp32 products: the sizes come from
// the operands; q's and kt's `?` batch must be 1 or the result's, and the
// products' inner dims (q's columns and kt's rows, kt's columns and v's
// rows) must agree, or the run fails.
// CHECK-LABEL: func.func @dynamic
// CHECK-DAG: %[[SQ:.*]] = memref.dim %arg0, %c2
// CHECK-DAG: %[[SK:.*]] = memref.dim %arg1, %c3
// CHECK-DAG: %[[KROWS:.*]] = memref.dim %arg1, %c2
// CHECK-DAG: %[[VROWS:.*]] = memref.dim %arg2, %c2
// CHECK-DAG: arith.cmpi ne, %[[KROWS]], %c16
// CHECK-DAG: arith.cmpi ne, %[[SK]], %[[VROWS]]
// CHECK: kiln.runtime_check
// CHECK: memref.store %[[SQ]], %{{.*}}[%c0]
// CHECK: memref.store %[[SK]], %{{.*}}[%c1]
// CHECK: memref.store %c1, %{{.*}}[%c31]
// CHECK: call @kiln_rt_attention
func.func @dynamic(%q: memref<?x4x?x16xf32>, %kt: memref<?x4x?x?xf32>, %v: memref<?x4x?x8xf32>,
                   %out: memref<?x4x?x8xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.attention %q, %kt, %v into %out
      : memref<?x4x?x16xf32>, memref<?x4x?x?xf32>, memref<?x4x?x8xf32>, memref<?x4x?x8xf32>
  return
}
