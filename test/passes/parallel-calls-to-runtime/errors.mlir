// RUN: kiln-opt %s --kiln-parallel-calls-to-runtime -verify-diagnostics

llvm.func @body(%lo: i32, %hi: i32) {
  llvm.return
}
llvm.func @main(%n: i32) {
  %c0 = llvm.mlir.constant(0 : i32) : i32
  // expected-error @+1 {{a parallel call must call a function directly, return nothing, and pass (lo, hi, ctx, cost) as i64 first}}
  llvm.call @body(%c0, %n) {kiln.parallel} : (i32, i32) -> ()
  llvm.return
}
