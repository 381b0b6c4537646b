// RUN: kiln-opt %s --kiln-gpu-attention-kernels -split-input-file -verify-diagnostics

// The head size must fill whole m16n8k16 steps.
func.func @head_size(%q: memref<1x2x8x24xf16>, %kt: memref<1x2x24x8xf16>, %v: memref<1x2x8x8xf16>,
                     %out: memref<1x2x8x8xf16>) {
  // expected-error@+1 {{cannot run this attention as a GPU kernel: the head size (24) must be a multiple of 16 up to 256}}
  kiln.attention %q, %kt, %v into %out
      : memref<1x2x8x24xf16>, memref<1x2x24x8xf16>, memref<1x2x8x8xf16>, memref<1x2x8x8xf16>
  return
}

// -----

func.func @value_size(%q: memref<1x2x8x16xf16>, %kt: memref<1x2x16x8xf16>, %v: memref<1x2x8x12xf16>,
                      %out: memref<1x2x8x12xf16>) {
  // expected-error@+1 {{v's head size (12) must be a multiple of 8 up to 256}}
  kiln.attention %q, %kt, %v into %out
      : memref<1x2x8x16xf16>, memref<1x2x16x8xf16>, memref<1x2x8x12xf16>, memref<1x2x8x12xf16>
  return
}

// -----

// The head sizes are static (the kernel unrolls its loops over them).
func.func @dynamic_head_size(%q: memref<?x2x8x?xf16>, %kt: memref<?x2x?x8xf16>,
                             %v: memref<?x2x8x8xf16>, %out: memref<?x2x8x8xf16>) {
  // expected-error@+1 {{cannot run this attention as a GPU kernel: its head sizes (q's and v's last dims) must be static}}
  kiln.attention %q, %kt, %v into %out
      : memref<?x2x8x?xf16>, memref<?x2x?x8xf16>, memref<?x2x8x8xf16>, memref<?x2x8x8xf16>
  return
}

// -----

// bf16 storage with f16 tensor cores: not what the pipeline makes.
func.func @types(%q: memref<1x2x8x16xbf16>, %kt: memref<1x2x16x8xbf16>, %v: memref<1x2x8x8xbf16>,
                 %out: memref<1x2x8x8xbf16>) {
  // expected-error@+1 {{its operands must be f32 or the tensor cores' type}}
  kiln.attention %q, %kt, %v into %out
      : memref<1x2x8x16xbf16>, memref<1x2x16x8xbf16>, memref<1x2x8x8xbf16>, memref<1x2x8x8xbf16>
  return
}

// -----

// The pass runs after bufferization.
func.func @tensors(%q: tensor<1x2x8x16xf16>, %kt: tensor<1x2x16x8xf16>, %v: tensor<1x2x8x8xf16>,
                   %init: tensor<1x2x8x8xf16>) -> tensor<1x2x8x8xf16> {
  // expected-error@+1 {{it runs after bufferization; this op is on tensors}}
  %o = kiln.attention %q, %kt, %v into %init
      : tensor<1x2x8x16xf16>, tensor<1x2x16x8xf16>, tensor<1x2x8x8xf16>, tensor<1x2x8x8xf16> -> tensor<1x2x8x8xf16>
  return %o : tensor<1x2x8x8xf16>
}


// -----

// No keys: the output is zeros, not a softmax's quotient (the three ops
// stay unfused for it).
func.func @no_keys(%q: memref<1x2x8x16xf16>, %kt: memref<1x2x16x0xf16>, %v: memref<1x2x0x8xf16>,
                   %out: memref<1x2x8x8xf16>) {
  // expected-error@+1 {{cannot run this attention as a GPU kernel: attention over no keys}}
  kiln.attention %q, %kt, %v into %out
      : memref<1x2x8x16xf16>, memref<1x2x16x0xf16>, memref<1x2x0x8xf16>, memref<1x2x8x8xf16>
  return
}
