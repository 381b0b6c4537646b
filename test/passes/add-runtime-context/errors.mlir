// RUN: kiln-opt %s --kiln-add-runtime-context -verify-diagnostics

// expected-error @below {{kiln-add-runtime-context: no function 'main'}}
module {
  func.func @model(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}
