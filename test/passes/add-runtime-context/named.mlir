// RUN: kiln-opt %s --kiln-add-runtime-context="function=entry" | FileCheck %s

// `function` names the entry; others are left alone.
// CHECK: func.func @main(%{{.*}}: tensor<2xf32>) -> tensor<2xf32>
// CHECK: func.func @entry(%{{.*}}: tensor<2xf32>, %{{.*}}: index {kiln.runtime_context}) -> tensor<2xf32>
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
func.func @entry(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
