// RUN: kiln-opt %s --kiln-gpu-contiguous-batches -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-gpu-contiguous-batches=min-calls=9 -split-input-file | FileCheck %s --check-prefix=FEW
// RUN: kiln-opt %s --kiln-gpu-contiguous-batches=min-calls=0 -split-input-file | FileCheck %s --check-prefix=FEW

// Attention's Q K^T at batch 8, 4 heads, Q and K read in place from the
// projections' output [batch, seq, 3 x heads x 16]: their batch strides
// (3072, 16) do not fold (3072 != 4 x 16), the scores' (1024, 256) do. Q
// and K get contiguous copies [batch, heads, seq, 16]; the scores stay.
// CHECK-DAG: #[[QMAP:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[KMAP:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-LABEL: func.func @scores
// CHECK: %[[Q:.*]] = memref.alloc() : memref<8x4x16x16xf32>
// CHECK: linalg.transpose ins(%arg0 : memref<8x16x4x16xf32, strided<[3072, 192, 16, 1]>>) outs(%[[Q]] : memref<8x4x16x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[K:.*]] = memref.alloc() : memref<8x4x16x16xf32>
// CHECK: linalg.transpose ins(%arg1 : memref<8x16x4x16xf32, strided<[3072, 192, 16, 1], offset: 64>>) outs(%[[K]] : memref<8x4x16x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: linalg.generic {indexing_maps = [#[[QMAP]], #[[KMAP]], #{{.*}}]
// CHECK-SAME: ins(%[[Q]], %[[K]] : memref<8x4x16x16xf32>, memref<8x4x16x16xf32>) outs(%arg2 : memref<8x4x16x16xf32>)
// CHECK-DAG: memref.dealloc %[[Q]] :
// CHECK-DAG: memref.dealloc %[[K]] :
// FEW-LABEL: func.func @scores
// FEW-NOT: linalg.transpose
#q = affine_map<(b, h, i, j, p) -> (b, i, h, p)>
#k = affine_map<(b, h, i, j, p) -> (b, j, h, p)>
#s = affine_map<(b, h, i, j, p) -> (b, h, i, j)>
func.func @scores(%q: memref<8x16x4x16xf32, strided<[3072, 192, 16, 1]>>,
                  %k: memref<8x16x4x16xf32, strided<[3072, 192, 16, 1], offset: 64>>,
                  %s: memref<8x4x16x16xf32>) {
  linalg.generic {indexing_maps = [#q, #k, #s],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<8x16x4x16xf32, strided<[3072, 192, 16, 1]>>,
                   memref<8x16x4x16xf32, strided<[3072, 192, 16, 1], offset: 64>>)
      outs(%s : memref<8x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %m : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// P V with the result written heads-merged [batch, seq, heads x 16]: V and
// the output get copies; the output's zero fill right before the product
// fills the copy instead, and a transpose copies the result back.
// CHECK-LABEL: func.func @context
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.0
// CHECK: %[[V:.*]] = memref.alloc() : memref<8x4x16x16xf32>
// CHECK: linalg.transpose ins(%arg1 : {{.*}}) outs(%[[V]] : memref<8x4x16x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[O:.*]] = memref.alloc() : memref<8x4x16x16xf32>
// CHECK-NEXT: linalg.fill ins(%[[ZERO]] : f32) outs(%[[O]] : memref<8x4x16x16xf32>)
// CHECK-NEXT: linalg.generic
// CHECK-SAME: ins(%arg0, %[[V]] : memref<8x4x16x16xf32>, memref<8x4x16x16xf32>) outs(%[[O]] : memref<8x4x16x16xf32>)
// CHECK: linalg.transpose ins(%[[O]] : memref<8x4x16x16xf32>) outs(%arg2 : memref<8x16x4x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: memref.dealloc %[[O]] :
// CHECK-NOT: linalg.fill
#p = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#v = affine_map<(b, h, i, e, j) -> (b, j, h, e)>
#o = affine_map<(b, h, i, e, j) -> (b, i, h, e)>
func.func @context(%p: memref<8x4x16x16xf32>,
                   %v: memref<8x16x4x16xf32, strided<[3072, 192, 16, 1], offset: 128>>,
                   %o: memref<8x16x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%o : memref<8x16x4x16xf32>)
  linalg.generic {indexing_maps = [#p, #v, #o],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : memref<8x4x16x16xf32>, memref<8x16x4x16xf32, strided<[3072, 192, 16, 1], offset: 128>>)
      outs(%o : memref<8x16x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %m : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// An output that accumulates onto what it holds (no fill right before) is
// copied in too. A product with one batch dim, and one whose batch strides
// fold, are left alone.
// CHECK-LABEL: func.func @accumulates
// CHECK: %[[O:.*]] = memref.alloc() : memref<8x4x16x16xf32>
// CHECK-NEXT: linalg.transpose ins(%arg1 : memref<8x16x4x16xf32>) outs(%[[O]] : memref<8x4x16x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: linalg.generic
// CHECK: linalg.transpose ins(%[[O]] : memref<8x4x16x16xf32>) outs(%arg1 : memref<8x16x4x16xf32>)
// CHECK: memref.dealloc %[[O]] :
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg2, %arg2 : memref<4x16x16xf32>, memref<4x16x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK-NOT: memref.alloc
#p = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#v = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#o = affine_map<(b, h, i, e, j) -> (b, i, h, e)>
#a3 = affine_map<(h, i, e, j) -> (h, i, j)>
#b3 = affine_map<(h, i, e, j) -> (h, j, e)>
#c3 = affine_map<(h, i, e, j) -> (h, i, e)>
func.func @accumulates(%p: memref<8x4x16x16xf32>, %o: memref<8x16x4x16xf32>,
                       %x: memref<4x16x16xf32>, %y: memref<4x16x16xf32>) {
  linalg.generic {indexing_maps = [#p, #v, #o],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %p : memref<8x4x16x16xf32>, memref<8x4x16x16xf32>)
      outs(%o : memref<8x16x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %m : f32
    linalg.yield %t : f32
  }
  linalg.generic {indexing_maps = [#a3, #b3, #c3],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %x : memref<4x16x16xf32>, memref<4x16x16xf32>)
      outs(%y : memref<4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %m : f32
    linalg.yield %t : f32
  }
  return
}

// -----

#p = affine_map<(b, h, m, n, k) -> (b, m, h, k)>
#v = affine_map<(b, h, m, n, k) -> (b, k, h, n)>
#o = affine_map<(b, h, m, n, k) -> (b, m, h, n)>
#id = affine_map<(a, b, c, d) -> (a, b, c, d)>

// Half storage (kiln-gpu-half-storage): the product's f32 result is only
// copied to f16 after it. The contiguous copy is converted instead (the
// conversion right after the product, which the GEMM then does as it
// stores) and the f16 result moves back: no f32 copy back.
// CHECK-LABEL: func.func @half_storage_output
// CHECK: %[[C:.*]] = memref.alloc() : memref<4x4x8x16xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[C]] : memref<4x4x8x16xf32>)
// CHECK: linalg.generic {{.*}} outs(%[[C]] : memref<4x4x8x16xf32>)
// CHECK: %[[D:.*]] = memref.alloc() : memref<4x8x4x16xf16>
// CHECK: %[[H:.*]] = memref.alloc() : memref<4x4x8x16xf16>
// CHECK: linalg.generic {{.*}} ins(%[[C]] : memref<4x4x8x16xf32>) outs(%[[H]] : memref<4x4x8x16xf16>)
// CHECK: arith.truncf
// CHECK: linalg.transpose ins(%[[H]] : memref<4x4x8x16xf16>) outs(%[[D]] : memref<4x8x4x16xf16>) permutation = [0, 2, 1, 3]
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.generic
// CHECK: memref.copy %[[D]], %arg2
func.func @half_storage_output(%p: memref<4x8x4x8xf16>, %vv: memref<4x8x4x16xf16>, %out: memref<4x8x4x16xf16>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4x8x4x16xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x8x4x16xf32>)
  linalg.generic {indexing_maps = [#p, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vv : memref<4x8x4x8xf16>, memref<4x8x4x16xf16>) outs(%c : memref<4x8x4x16xf32>) {
  ^bb0(%a: f16, %b: f16, %acc: f32):
    %x = arith.extf %a : f16 to f32
    %y = arith.extf %b : f16 to f32
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %d = memref.alloc() : memref<4x8x4x16xf16>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : memref<4x8x4x16xf32>) outs(%d : memref<4x8x4x16xf16>) {
  ^bb0(%in: f32, %o: f16):
    %h = arith.truncf %in : f32 to f16
    linalg.yield %h : f16
  }
  memref.dealloc %c : memref<4x8x4x16xf32>
  memref.copy %d, %out : memref<4x8x4x16xf16> to memref<4x8x4x16xf16>
  memref.dealloc %d : memref<4x8x4x16xf16>
  return
}
