// RUN: kiln-opt %s --kiln-parallel-calls-to-runtime | FileCheck %s

// The body becomes internal with its noalias parameters; the call stores
// lo, ctx, cost and the captures into a closure in the entry block and
// hands a trampoline to kiln_rt_parallel_for with n = hi - lo.
// CHECK: llvm.func @kiln_rt_parallel_for(i64, i64, i64, i64, i64)
// CHECK: llvm.func internal @kiln_parallel_body_0(%{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: f32)
// CHECK-NOT: kiln.parallel_body
// CHECK-LABEL: llvm.func @main
// CHECK-SAME: (%[[P:.*]]: !llvm.ptr, %[[X:.*]]: f32, %[[N:.*]]: i64, %[[CTX:.*]]: i64)
// CHECK: %[[CL:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(i64, i64, i64, ptr, f32)>
// CHECK: llvm.cond_br
// CHECK: %[[F0:.*]] = llvm.getelementptr %[[CL]][0, 0]
// CHECK: llvm.store %[[LO:.*]], %[[F0]] : i64, !llvm.ptr
// CHECK: %[[F1:.*]] = llvm.getelementptr %[[CL]][0, 1]
// CHECK: llvm.store %[[CTX]], %[[F1]] : i64, !llvm.ptr
// CHECK: %[[F2:.*]] = llvm.getelementptr %[[CL]][0, 2]
// CHECK: llvm.store %[[COST:.*]], %[[F2]] : i64, !llvm.ptr
// CHECK: %[[F3:.*]] = llvm.getelementptr %[[CL]][0, 3]
// CHECK: llvm.store %[[P]], %[[F3]] : !llvm.ptr, !llvm.ptr
// CHECK: %[[F4:.*]] = llvm.getelementptr %[[CL]][0, 4]
// CHECK: llvm.store %[[X]], %[[F4]] : f32, !llvm.ptr
// CHECK: %[[FN:.*]] = llvm.mlir.addressof @kiln_parallel_body_0_trampoline
// CHECK: %[[FNI:.*]] = llvm.ptrtoint %[[FN]] : !llvm.ptr to i64
// CHECK: %[[CLI:.*]] = llvm.ptrtoint %[[CL]] : !llvm.ptr to i64
// CHECK: %[[COUNT:.*]] = llvm.sub %[[N]], %[[LO]]
// CHECK: llvm.call @kiln_rt_parallel_for(%[[CTX]], %[[FNI]], %[[CLI]], %[[COUNT]], %[[COST]])
// CHECK-NOT: llvm.call @kiln_parallel_body_0(
// CHECK-LABEL: llvm.func internal @kiln_parallel_body_0_trampoline
// CHECK-SAME: (%[[C:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[L0:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK: %[[L1:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK: %[[L2:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK: %[[L3:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[L4:.*]] = llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK: %[[BB:.*]] = llvm.add %[[L0]], %[[B]]
// CHECK: %[[EE:.*]] = llvm.add %[[L0]], %[[E]]
// CHECK: llvm.call @kiln_parallel_body_0(%[[BB]], %[[EE]], %[[L1]], %[[L2]], %[[L3]], %[[L4]])
// CHECK: llvm.return
llvm.func @kiln_parallel_body_0(%lo: i64, %hi: i64, %ctx: i64, %cost: i64, %p: !llvm.ptr, %x: f32)
    attributes {kiln.parallel_body, kiln.parallel_noalias = array<i64: 4>} {
  llvm.return
}
llvm.func @main(%p: !llvm.ptr, %x: f32, %n: i64, %ctx: i64) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %cost = llvm.mlir.constant(4 : i64) : i64
  %big = llvm.icmp "sgt" %n, %c0 : i64
  llvm.cond_br %big, ^run, ^done
^run:
  llvm.call @kiln_parallel_body_0(%c0, %n, %ctx, %cost, %p, %x) {kiln.parallel}
      : (i64, i64, i64, i64, !llvm.ptr, f32) -> ()
  llvm.br ^done
^done:
  llvm.return
}
