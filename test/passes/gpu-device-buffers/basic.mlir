// RUN: kiln-opt %s --kiln-gpu-device-buffers -split-input-file | FileCheck %s

// The input is copied to the device first thing and the code reads the
// copy; the weight becomes the runtime's device copy; memref.copy becomes a
// linalg copy (a kernel later); the output is copied back into a fresh
// host buffer, which is returned.
// CHECK-DAG: func.func private @kiln_rt_gpu_copy(index, index, index, index, index)
// CHECK-DAG: func.func private @kiln_rt_gpu_constant(index, index, index) -> memref<?xi8>
// CHECK-LABEL: func.func @add
// CHECK-SAME: (%[[X:.*]]: memref<2x4xf32>, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: %[[XD:.*]] = memref.alloc() : memref<2x4xf32>
// CHECK: %[[XP:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: %[[B32:.*]] = arith.constant 32 : index
// CHECK: %[[XDP:.*]] = memref.extract_aligned_pointer_as_index %[[XD]]
// CHECK: %[[TO_DEVICE:.*]] = arith.constant 0 : index
// CHECK: call @kiln_rt_gpu_copy(%[[CTX]], %[[XDP]], %[[XP]], %[[B32]], %[[TO_DEVICE]])
// CHECK: %[[WH:.*]] = memref.get_global @w : memref<4xf32>
// CHECK: %[[WP:.*]] = memref.extract_aligned_pointer_as_index %[[WH]]
// CHECK: %[[B16:.*]] = arith.constant 16 : index
// CHECK: %[[WMEM:.*]] = call @kiln_rt_gpu_constant(%[[CTX]], %[[WP]], %[[B16]])
// CHECK: %[[W:.*]] = memref.view %[[WMEM]][%{{.*}}][] : memref<?xi8> to memref<4xf32>
// CHECK-NOT: memref.get_global
// CHECK: %[[SUM:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[XD]], %[[W]] : memref<2x4xf32>, memref<4xf32>) outs(%[[SUM]] : memref<2x4xf32>)
// CHECK: %[[COPY:.*]] = memref.alloc() : memref<2x4xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[SUM]] : memref<2x4xf32>) outs(%[[COPY]] : memref<2x4xf32>)
// CHECK-NOT: memref.copy
// CHECK: %[[HOST:.*]] = memref.alloc() : memref<2x4xf32>
// CHECK: %[[CP:.*]] = memref.extract_aligned_pointer_as_index %[[COPY]]
// CHECK: %[[HP:.*]] = memref.extract_aligned_pointer_as_index %[[HOST]]
// CHECK: %[[TO_HOST:.*]] = arith.constant 1 : index
// CHECK: call @kiln_rt_gpu_copy(%[[CTX]], %[[HP]], %[[CP]], %{{.*}}, %[[TO_HOST]])
// CHECK: return %[[HOST]] : memref<2x4xf32>
memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @add(%x: memref<2x4xf32>, %ctx: index {kiln.runtime_context}) -> memref<2x4xf32> {
  %w = memref.get_global @w : memref<4xf32>
  %out = memref.alloc() {alignment = 64 : i64} : memref<2x4xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : memref<2x4xf32>, memref<4xf32>) outs(%out : memref<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  %copy = memref.alloc() : memref<2x4xf32>
  memref.copy %out, %copy : memref<2x4xf32> to memref<2x4xf32>
  return %copy : memref<2x4xf32>
}

// -----

// A function without a kiln.runtime_context argument is not the model's:
// left alone.
// CHECK-LABEL: func.func @helper
// CHECK-NOT: kiln_rt_gpu
// CHECK: memref.copy
func.func @helper(%x: memref<4xf32>, %y: memref<4xf32>) {
  memref.copy %x, %y : memref<4xf32> to memref<4xf32>
  return
}

// -----

// Symbolic dims: the device copy of the input and the host copy of the
// output take their sizes at run time, and each copy's byte count is the
// element size times them.
// CHECK-LABEL: func.func @symbolic
// CHECK-SAME: (%[[X:.*]]: memref<?x4xf32>, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[N:.*]] = memref.dim %[[X]], %[[C0]]
// CHECK: %[[XD:.*]] = memref.alloc(%[[N]]) : memref<?x4xf32>
// CHECK: %[[XP:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: %[[ROW:.*]] = arith.constant 16 : index
// CHECK: %[[ND:.*]] = memref.dim %[[XD]], %{{.*}}
// CHECK: %[[BYTES:.*]] = arith.muli %[[ROW]], %[[ND]]
// CHECK: %[[XDP:.*]] = memref.extract_aligned_pointer_as_index %[[XD]]
// CHECK: call @kiln_rt_gpu_copy(%[[CTX]], %[[XDP]], %[[XP]], %[[BYTES]], %{{.*}})
// CHECK: %[[M:.*]] = memref.dim %[[XD]], %{{.*}} : memref<?x4xf32>
// CHECK: %[[OUT:.*]] = memref.alloc(%[[M]]) {alignment = 64 : i64} : memref<?x4xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[XD]] : memref<?x4xf32>) outs(%[[OUT]] : memref<?x4xf32>)
// CHECK: %[[HOST:.*]] = memref.alloc(%{{.*}}) : memref<?x4xf32>
// CHECK: %[[HOSTN:.*]] = memref.dim %[[HOST]], %{{.*}}
// CHECK: %[[OUTBYTES:.*]] = arith.muli %{{.*}}, %[[HOSTN]]
// CHECK: call @kiln_rt_gpu_copy(%[[CTX]], %{{.*}}, %{{.*}}, %[[OUTBYTES]], %{{.*}})
// CHECK: return %[[HOST]] : memref<?x4xf32>
func.func @symbolic(%x: memref<?x4xf32>, %ctx: index {kiln.runtime_context}) -> memref<?x4xf32> {
  %c0 = arith.constant 0 : index
  %m = memref.dim %x, %c0 : memref<?x4xf32>
  %out = memref.alloc(%m) {alignment = 64 : i64} : memref<?x4xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x4xf32>) outs(%out : memref<?x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.negf %a : f32
    linalg.yield %s : f32
  }
  return %out : memref<?x4xf32>
}

// -----

// A reshape's target shape over symbolic dims is host data (the host code
// stores the sizes, memref.reshape reads them to make the view): it goes on
// the host's stack, its dealloc with it, not into the device arena.
// CHECK-LABEL: func.func @reshape_shape
// CHECK: %[[SHAPE:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2xindex>
// CHECK-NOT: memref.alloc() {{.*}} : memref<2xindex>
// CHECK: memref.store %{{.*}}, %[[SHAPE]][%{{.*}}] : memref<2xindex>
// CHECK: memref.reshape %{{.*}}(%[[SHAPE]])
// CHECK-NOT: memref.dealloc
func.func @reshape_shape(%x: memref<?xf32>, %n: index, %ctx: index {kiln.runtime_context}) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %shape = memref.alloc() {alignment = 64 : i64} : memref<2xindex>
  memref.store %n, %shape[%c0] : memref<2xindex>
  memref.store %c2, %shape[%c1] : memref<2xindex>
  %view = memref.reshape %x(%shape) : (memref<?xf32>, memref<2xindex>) -> memref<?x?xf32>
  %d0 = memref.dim %view, %c0 : memref<?x?xf32>
  %d1 = memref.dim %view, %c1 : memref<?x?xf32>
  %out = memref.alloc(%d0, %d1) : memref<?x?xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%view : memref<?x?xf32>) outs(%out : memref<?x?xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  memref.dealloc %shape : memref<2xindex>
  return %out : memref<?x?xf32>
}

// -----

// An output that is a view of symbolic strides (a Split's piece) reaches
// the return through a cast to the identity layout, which the view's
// strides do not have: it is copied into a contiguous buffer (a kernel
// later, sized by the view's own size values) before the copy to the host.
// CHECK-LABEL: func.func @strided_output
// CHECK-SAME: (%[[X:.*]]: memref<?x?xf32>, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: %[[XD:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?xf32>
// CHECK: %[[PIECE:.*]] = memref.subview %[[XD]][0, 0] [%[[N:.*]], 9] [1, 1]
// CHECK: %[[DENSE:.*]] = memref.alloc(%[[N]]) : memref<?x9xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[PIECE]] : memref<?x9xf32, strided<[?, 1]>>) outs(%[[DENSE]] : memref<?x9xf32>)
// CHECK: %[[HOST:.*]] = memref.alloc(%{{.*}}) : memref<?x9xf32>
// CHECK: %[[DP:.*]] = memref.extract_aligned_pointer_as_index %[[DENSE]]
// CHECK: call @kiln_rt_gpu_copy(%[[CTX]], %{{.*}}, %[[DP]], %{{.*}}, %{{.*}})
// CHECK: return %[[HOST]]
func.func @strided_output(%x: memref<?x?xf32>, %ctx: index {kiln.runtime_context}) -> memref<?x9xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x?xf32>
  %piece = memref.subview %x[0, 0] [%n, 9] [1, 1] : memref<?x?xf32> to memref<?x9xf32, strided<[?, 1]>>
  %out = memref.cast %piece : memref<?x9xf32, strided<[?, 1]>> to memref<?x9xf32>
  return %out : memref<?x9xf32>
}
