// RUN: kiln-opt %s --kiln-qgemm-to-runtime --canonicalize --cse | FileCheck %s

// A pre-quantized A (ui8): a_type 2 (KILN_DTYPE_UINT8) in word 4 of
// kiln_qgemm_desc, the addresses of its scale and zero point in words 7
// and 8 (kiln_abi.h); 0 there (absent: scale 1, zero point 0) otherwise.
// CHECK-LABEL: func.func @prequantized
// CHECK-SAME: %[[A:[^:]*]]: memref<?x5xui8>, %{{[^:]*}}: memref<192xi8>, %{{[^:]*}}: memref<3xf32>, %[[SA:[^:]*]]: memref<f32>, %[[ZA:[^:]*]]: memref<ui8>
// CHECK-DAG: %[[SA_ADDR:.*]] = memref.extract_aligned_pointer_as_index %[[SA]] : memref<f32>
// CHECK-DAG: %[[ZA_ADDR:.*]] = memref.extract_aligned_pointer_as_index %[[ZA]] : memref<ui8>
// CHECK: memref.store %c2, %[[DESC:.*]][%c4] : memref<30xindex>
// CHECK: memref.store %[[SA_ADDR]], %[[DESC]][%c7] : memref<30xindex>
// CHECK: memref.store %[[ZA_ADDR]], %[[DESC]][%c8] : memref<30xindex>
// CHECK: call @kiln_rt_qgemm
func.func @prequantized(%a: memref<?x5xui8>, %b: memref<192xi8>, %s: memref<3xf32>, %sa: memref<f32>,
                        %za: memref<ui8>, %out: memref<?x3xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.qgemm %a, %b, %s a_scale(%sa : memref<f32>) a_zero_point(%za : memref<ui8>) into %out
    {k = 5 : i64, n = 3 : i64}
    : memref<?x5xui8>, memref<192xi8>, memref<3xf32>, memref<?x3xf32>
  return
}

// CHECK-LABEL: func.func @defaults
// CHECK: memref.store %c2, %[[DESC:.*]][%c4] : memref<30xindex>
// CHECK: memref.store %c0, %[[DESC]][%c7] : memref<30xindex>
// CHECK: memref.store %c0, %[[DESC]][%c8] : memref<30xindex>
func.func @defaults(%a: memref<?x5xui8>, %b: memref<192xi8>, %s: memref<3xf32>,
                    %out: memref<?x3xf32>, %ctx: index {kiln.runtime_context}) {
  kiln.qgemm %a, %b, %s into %out {k = 5 : i64, n = 3 : i64}
    : memref<?x5xui8>, memref<192xi8>, memref<3xf32>, memref<?x3xf32>
  return
}
