// RUN: kiln-opt %s --kiln-lower-runtime-checks=device-conditions=true --canonicalize | FileCheck %s

// On the GPU path a check whose condition reads tensor data (a Gather's
// index range over the ids) waits on tensors: bufferization makes the
// reduction's 0-d result a device buffer, and the pass's run after it a
// kiln_rt_gpu_check of that buffer. The check on a scalar is lowered now.
// CHECK-LABEL: func.func @gather_ids_checked
// CHECK: %[[ANY:.*]] = linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "reduction"]
// CHECK: %[[FAILED:.*]] = tensor.extract %[[ANY]][] : tensor<i1>
// CHECK-NEXT: kiln.runtime_check %[[FAILED]], "a Gather: indices element out of data bounds"
// CHECK: scf.if
// CHECK: func.call @kiln_rt_fail
// CHECK: %[[CLAMPED:.*]] = linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<1x128xi64>)
// CHECK: return %[[CLAMPED]]
// CHECK-NOT: kiln_rt_gpu_check
#ids = affine_map<(d0, d1) -> (d0, d1)>
#flag = affine_map<(d0, d1) -> ()>
func.func @gather_ids_checked(%ids: tensor<1x128xi64>, %n: index, %ctx: index {kiln.runtime_context}) -> tensor<1x128xi64> {
  %false = arith.constant false
  %c-512 = arith.constant -512 : index
  %c512 = arith.constant 512 : index
  %c0 = arith.constant 0 : i64
  %c511 = arith.constant 511 : i64
  %empty = tensor.empty() : tensor<i1>
  %init = linalg.fill ins(%false : i1) outs(%empty : tensor<i1>) -> tensor<i1>
  %any = linalg.generic {indexing_maps = [#ids, #flag], iterator_types = ["reduction", "reduction"]}
      ins(%ids : tensor<1x128xi64>) outs(%init : tensor<i1>) {
  ^bb0(%in: i64, %out: i1):
    %i = arith.index_cast %in : i64 to index
    %low = arith.cmpi slt, %i, %c-512 : index
    %high = arith.cmpi sge, %i, %c512 : index
    %bad = arith.ori %low, %high : i1
    %acc = arith.ori %out, %bad : i1
    linalg.yield %acc : i1
  } -> tensor<i1>
  %failed = tensor.extract %any[] : tensor<i1>
  kiln.runtime_check %failed, "a Gather: indices element out of data bounds"
  %big = arith.cmpi sgt, %n, %c512 : index
  kiln.runtime_check %big, "too long"
  %dest = tensor.empty() : tensor<1x128xi64>
  %clamped = linalg.generic {indexing_maps = [#ids, #ids], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<1x128xi64>) outs(%dest : tensor<1x128xi64>) {
  ^bb0(%in: i64, %out: i64):
    %lo = arith.maxsi %in, %c0 : i64
    %hi = arith.minsi %lo, %c511 : i64
    linalg.yield %hi : i64
  } -> tensor<1x128xi64>
  return %clamped : tensor<1x128xi64>
}
