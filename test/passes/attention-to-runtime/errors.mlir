// RUN: kiln-opt %s --kiln-attention-to-runtime -split-input-file -verify-diagnostics

// Without the run's context there is no runtime to call.
func.func @no_context(%q: memref<1x2x4x8xf32>, %kt: memref<1x2x8x4xf32>, %v: memref<1x2x4x8xf32>,
                      %out: memref<1x2x4x8xf32>) {
  // expected-error @below {{kiln.attention needs the runtime, but function 'no_context' has no 'kiln.runtime_context' argument}}
  kiln.attention %q, %kt, %v into %out
      : memref<1x2x4x8xf32>, memref<1x2x8x4xf32>, memref<1x2x4x8xf32>, memref<1x2x4x8xf32>
  return
}

// -----

func.func @tensors(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>,
                   %init: tensor<1x2x4x8xf32>, %ctx: index {kiln.runtime_context}) -> tensor<1x2x4x8xf32> {
  // expected-error @below {{kiln.attention must be bufferized before kiln-attention-to-runtime}}
  %o = kiln.attention %q, %kt, %v into %init
      : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// 16-bit buffers are the GPU path's (half storage); the CPU runtime's
// attention reads f32.
func.func @half(%q: memref<1x2x4x8xf16>, %kt: memref<1x2x8x4xf16>, %v: memref<1x2x4x8xf16>,
                %out: memref<1x2x4x8xf16>, %ctx: index {kiln.runtime_context}) {
  // expected-error @below {{kiln.attention on the CPU runtime takes f32 buffers, not 'memref<1x2x4x8xf16>'}}
  kiln.attention %q, %kt, %v into %out
      : memref<1x2x4x8xf16>, memref<1x2x8x4xf16>, memref<1x2x4x8xf16>, memref<1x2x4x8xf16>
  return
}
