// RUN: kiln-opt %s --kiln-gpu-unpack-dynamic-memrefs -split-input-file -verify-diagnostics

// A layout that is no strided one has no base, offset and strides to pass.
func.func @not_strided(%x: memref<4xf32, affine_map<(d0) -> (d0 mod 2)>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{a kernel uses a memref whose layout is not strided: 'memref<4xf32, affine_map<(d0) -> (d0 mod 2)>>'}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%c0] : memref<4xf32, affine_map<(d0) -> (d0 mod 2)>>
    gpu.terminator
  }
  return
}
