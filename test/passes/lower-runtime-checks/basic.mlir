// RUN: kiln-opt %s --kiln-lower-runtime-checks -split-input-file | FileCheck %s

// A check becomes a branch to kiln_rt_fail with its message, NUL-terminated,
// one constant per distinct message; a check that folds to false goes.
// CHECK-DAG: func.func private @kiln_rt_fail(index, index)
// CHECK-DAG: memref.global "private" constant @__kiln_check_message_0 : memref<5xi8> = dense<[98, 111, 111, 109, 0]>
// CHECK-LABEL: func.func @checks
// CHECK-SAME: (%[[FLAGS:.*]]: memref<2xi1>, %[[N:.*]]: index, %[[CTX:.*]]: index {kiln.runtime_context})
// CHECK: %[[LOADED:.*]] = memref.load %[[FLAGS]]
// CHECK: scf.if %[[LOADED]] {
// CHECK-NEXT: %[[TEXT:.*]] = memref.get_global @__kiln_check_message_0 : memref<5xi8>
// CHECK-NEXT: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[TEXT]]
// CHECK-NEXT: func.call @kiln_rt_fail(%[[CTX]], %[[P]]) : (index, index) -> ()
// CHECK: %[[BAD:.*]] = arith.cmpi eq, %[[N]]
// CHECK: scf.if %[[BAD]] {
// CHECK: memref.get_global @__kiln_check_message_0
// CHECK-NOT: kiln.runtime_check
// CHECK-NOT: scf.if

func.func @checks(%flags: memref<2xi1>, %n: index, %ctx: index {kiln.runtime_context}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %false = arith.constant false
  %loaded = memref.load %flags[%c0] : memref<2xi1>
  kiln.runtime_check %loaded, "boom"
  %bad = arith.cmpi eq, %n, %c1 : index
  kiln.runtime_check %bad, "boom"
  kiln.runtime_check %false, "never"
  return
}
