// RUN: kiln-opt %s --split-input-file --kiln-add-runtime-context | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-add-runtime-context --kiln-add-runtime-context | FileCheck %s

// The entry gets the argument last, once.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.*}}: tensor<?x4xf32>, %{{.*}}: index {kiln.runtime_context}) -> tensor<?x4xf32>
// CHECK-NOT: kiln.runtime_context
// CHECK: func.func @helper(%{{.*}}: tensor<?x4xf32>) -> tensor<?x4xf32>
func.func @main(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %y = call @helper(%x) : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
func.func @helper(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}

// -----

// An entry that has it is left as it is.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.*}}: index {kiln.runtime_context}, %{{.*}}: tensor<2xf32>) -> tensor<2xf32>
func.func @main(%ctx: index {kiln.runtime_context}, %x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
