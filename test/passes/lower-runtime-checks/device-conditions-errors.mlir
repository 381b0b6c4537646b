// RUN: kiln-opt %s --kiln-lower-runtime-checks=device-conditions=true -verify-diagnostics

// On the GPU path the runtime reads a condition back from the device only
// as a 0-d i1 buffer's byte; one computed on the host from loaded data
// (which the host cannot read there) is an error.
func.func @device_condition_not_a_flag(%flags: memref<2xi1>, %ctx: index {kiln.runtime_context}) {
  %c1 = arith.constant 1 : index
  %loaded = memref.load %flags[%c1] : memref<2xi1>
  // expected-error@+1 {{on the GPU path a run-time check whose condition reads tensor data must load it from a 0-d i1 buffer (a reduction's result), which the runtime reads back from the device; this condition is computed otherwise: from an input's values (a shape that depends on them, e.g. a Reshape's target or a Slice's bounds fed as an input: the GPU path needs such shapes known when compiling, make them initializers)}}
  kiln.runtime_check %loaded, "boom"
  return
}
