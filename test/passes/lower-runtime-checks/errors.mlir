// RUN: kiln-opt %s --kiln-lower-runtime-checks -verify-diagnostics

// Failing a run goes through the run's context.
func.func @no_context(%failed: i1) {
  // expected-error@+1 {{a run-time check needs the function's kiln.runtime_context argument}}
  kiln.runtime_check %failed, "boom"
  return
}
