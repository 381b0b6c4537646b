// RUN: kiln-opt %s -split-input-file | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip and inferred types of the ops of KilnIndexingOps.td (top_k,
// scatter_elements, scatter_nd) and of kiln.bit_shift; GENERIC checks that
// defaults are materialised.

// CHECK-LABEL: func.func @top_k
// CHECK: %{{.*}}, %{{.*}} = kiln.top_k %{{.*}} {axis = 1 : i64, k = 3 : i64} : (tensor<?x10xf32>) -> (tensor<?x3xf32>, tensor<?x3xi64>)
// CHECK: kiln.top_k %{{.*}} {axis = 0 : i64, k = 2 : i64, largest = false} : (tensor<?x10xf32>) -> (tensor<2x10xf32>, tensor<2x10xi64>)
// GENERIC-LABEL: sym_name = "top_k"
// GENERIC: "kiln.top_k"(%{{.*}}) <{axis = 1 : i64, k = 3 : i64, largest = true}>
func.func @top_k(%x: tensor<?x10xf32>) -> (tensor<?x3xf32>, tensor<?x3xi64>, tensor<2x10xf32>) {
  %v, %i = kiln.top_k %x {axis = 1 : i64, k = 3 : i64} : (tensor<?x10xf32>) -> (tensor<?x3xf32>, tensor<?x3xi64>)
  %s, %j = kiln.top_k %x {axis = 0 : i64, k = 2 : i64, largest = false} : (tensor<?x10xf32>) -> (tensor<2x10xf32>, tensor<2x10xi64>)
  return %v, %i, %s : tensor<?x3xf32>, tensor<?x3xi64>, tensor<2x10xf32>
}

// -----

// CHECK-LABEL: func.func @scatters
// CHECK: kiln.scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, reduction = "add"} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
// CHECK: kiln.scatter_nd %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32>) -> tensor<3x4xf32>
// GENERIC-LABEL: sym_name = "scatters"
// GENERIC: "kiln.scatter_nd"(%{{.*}}, %{{.*}}, %{{.*}}) <{reduction = "none"}>
func.func @scatters(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>,
                    %t: tensor<2x1xi32>, %s: tensor<2x4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64, reduction = "add"} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  %1 = kiln.scatter_nd %d, %t, %s : (tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  return %0, %1 : tensor<3x4xf32>, tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func.func @bit_shift
// CHECK: kiln.bit_shift %{{.*}}, %{{.*}} {left = true} : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
func.func @bit_shift(%a: tensor<4xui8>, %b: tensor<ui8>) -> tensor<4xui8> {
  %0 = kiln.bit_shift %a, %b {left = true} : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}
