// RUN: kiln-opt %s --kiln-lower-runtime-checks=device-conditions=true -split-input-file | FileCheck %s

// On buffers, a check loaded from a 0-d i1 buffer (a reduction's result,
// in device memory on the GPU path) becomes kiln_rt_gpu_check(ctx, the
// byte's address, message): the runtime copies the byte back after the
// work before it. The load goes; a check on a scalar stays a branch.
// CHECK-DAG: func.func private @kiln_rt_gpu_check(index, index, index)
// CHECK-DAG: func.func private @kiln_rt_fail(index, index)
// CHECK-DAG: memref.global "private" constant @__kiln_check_message_0 : memref<9xi8>
// CHECK-DAG: memref.global "private" constant @__kiln_check_message_1 : memref<8xi8>
// CHECK-LABEL: func.func @checks
// CHECK-SAME: (%[[FLAG:.*]]: memref<i1, strided<[], offset: ?>>, %[[N:.*]]: index, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK-NOT: memref.load
// CHECK: %{{.*}}, %[[OFFSET:.*]] = memref.extract_strided_metadata %[[FLAG]]
// CHECK: %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[FLAG]]
// CHECK: %[[ADDRESS:.*]] = arith.addi %[[BASE]], %[[OFFSET]] : index
// CHECK: %[[TEXT:.*]] = memref.get_global @__kiln_check_message_0
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[TEXT]]
// CHECK: call @kiln_rt_gpu_check(%[[CTX]], %[[ADDRESS]], %[[P]]) : (index, index, index) -> ()
// CHECK: %[[BAD:.*]] = arith.cmpi eq, %[[N]]
// CHECK: scf.if %[[BAD]] {
// CHECK: memref.get_global @__kiln_check_message_1
// CHECK: func.call @kiln_rt_fail
// CHECK-NOT: kiln.runtime_check
func.func @checks(%flag: memref<i1, strided<[], offset: ?>>, %n: index, %ctx: index {kiln.runtime_context}) {
  %c1 = arith.constant 1 : index
  %loaded = memref.load %flag[] : memref<i1, strided<[], offset: ?>>
  kiln.runtime_check %loaded, "ids: bad"
  %bad = arith.cmpi eq, %n, %c1 : index
  kiln.runtime_check %bad, "n: bad!"
  return
}

// -----

// The GPU path lowers its checks twice (host conditions before
// bufferization, device ones after): the second run numbers its messages
// from 0 again. A name the first run took for another message is not
// reused for this one (the check would report that message): the new
// message takes the first free suffix.
// CHECK-DAG: memref.global "private" constant @__kiln_check_message_0 : memref<6xi8> = dense<[102, 105, 114, 115, 116, 0]>
// CHECK-DAG: memref.global "private" constant @__kiln_check_message_0_1 : memref<9xi8> = dense<[105, 100, 115, 58, 32, 98, 97, 100, 0]>
// CHECK-DAG: memref.global "private" constant @__kiln_check_message_1 : memref<6xi8> = dense<[102, 105, 114, 115, 116, 0]>
// CHECK-LABEL: func.func @second_run
// CHECK: memref.get_global @__kiln_check_message_0_1
// CHECK: call @kiln_rt_gpu_check
// CHECK: memref.get_global @__kiln_check_message_1 :
// CHECK: call @kiln_rt_gpu_check
memref.global "private" constant @__kiln_check_message_0 : memref<6xi8> = dense<[102, 105, 114, 115, 116, 0]>
func.func @second_run(%flag: memref<i1>, %other: memref<i1>, %ctx: index {kiln.runtime_context}) {
  %loaded = memref.load %flag[] : memref<i1>
  kiln.runtime_check %loaded, "ids: bad"
  %again = memref.load %other[] : memref<i1>
  kiln.runtime_check %again, "first"
  return
}
