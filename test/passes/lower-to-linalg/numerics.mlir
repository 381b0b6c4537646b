// REQUIRES: mlir-runner
// RUN: kiln-opt %s --kiln-lower-to-linalg \
// RUN: | mlir-opt --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --finalize-memref-to-llvm \
// RUN:     --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// Runs the lowered data movement and shape ops on values whose shapes are
// `?` in the kiln functions and whose shape operands (reshape's shape, slice
// bounds, expand's shape, tile's repeats, trilu's k, range's scalars) are
// function arguments, so that everything is computed at run time. The
// expected values are ONNX's (onnx.reference on the same inputs).
// finalize-memref-to-llvm lowers the memref.reshape of a reshape to a
// run-time shape with several `?` dims, which convert-to-llvm leaves.

func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}
func.func private @printMemrefI64(tensor<*xi64>) attributes {llvm.emit_c_interface}

func.func @gather(%d: tensor<?x?xf32>, %i: tensor<?x?xi64>) -> tensor<?x?x?xf32> {
  %0 = kiln.gather %d, %i {axis = 1 : i64} : (tensor<?x?xf32>, tensor<?x?xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

func.func @slice(%x: tensor<?x?xf32>, %s: tensor<2xi64>, %e: tensor<2xi64>, %a: tensor<2xi64>,
                 %st: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<?x?xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

func.func @slice_const_axes(%x: tensor<?x?xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>,
                            %st: tensor<1xi64>) -> tensor<?x?xf32> {
  %a = kiln.constant dense<[-1]> : tensor<1xi64>
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<?x?xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

func.func @reshape(%x: tensor<?x?x?xf32>, %s: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %0 = kiln.reshape %x, %s : (tensor<?x?x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

func.func @reshape_one_dynamic(%x: tensor<?x?x?xf32>, %s: tensor<2xi64>) -> tensor<?x4xf32> {
  %0 = kiln.reshape %x, %s : (tensor<?x?x?xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

func.func @reshape_views(%x: tensor<?x?x4xf32>, %y: tensor<?x2x2xf32>) -> (tensor<?x?x2x2xf32>, tensor<?x4xf32>) {
  %d = kiln.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x?x4xf32>) -> tensor<2xi64>
  %c22 = kiln.constant dense<[2, 2]> : tensor<2xi64>
  %s4 = kiln.concat %d, %c22 {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %0 = kiln.reshape %x, %s4 : (tensor<?x?x4xf32>, tensor<4xi64>) -> tensor<?x?x2x2xf32>
  %e = kiln.shape %y {start = 0 : i64, end = 1 : i64} : (tensor<?x2x2xf32>) -> tensor<1xi64>
  %c4 = kiln.constant dense<[4]> : tensor<1xi64>
  %s2 = kiln.concat %e, %c4 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %1 = kiln.reshape %y, %s2 : (tensor<?x2x2xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  return %0, %1 : tensor<?x?x2x2xf32>, tensor<?x4xf32>
}

func.func @expand(%x: tensor<?x1xf32>, %s: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %0 = kiln.expand %x, %s : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

func.func @tile(%x: tensor<?x?xf32>, %r: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = kiln.tile %x, %r : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

func.func @triu(%x: tensor<?x?xf32>, %k: tensor<i64>) -> tensor<?x?xf32> {
  %0 = kiln.trilu %x, %k {upper = true} : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

func.func @tril(%x: tensor<?x?xf32>, %k: tensor<i64>) -> tensor<?x?xf32> {
  %0 = kiln.trilu %x, %k {upper = false} : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

func.func @concat(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<2x1xf32>) -> tensor<?x?xf32> {
  %0 = kiln.concat %a, %b, %c {axis = 1 : i64} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<2x1xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

func.func @range_i64(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>) -> tensor<?xi64> {
  %0 = kiln.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

func.func @range_f32(%s: tensor<f32>, %l: tensor<f32>, %d: tensor<f32>) -> tensor<?xf32> {
  %0 = kiln.range %s, %l, %d : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

func.func @shape_size(%x: tensor<?x?x?xf32>) -> (tensor<3xi64>, tensor<i64>) {
  %0 = kiln.shape %x {start = 0 : i64, end = 3 : i64} : (tensor<?x?x?xf32>) -> tensor<3xi64>
  %1 = kiln.size %x : (tensor<?x?x?xf32>) -> tensor<i64>
  return %0, %1 : tensor<3xi64>, tensor<i64>
}

func.func @constant_of_shape(%s: tensor<2xi64>) -> tensor<?x?xi64> {
  %0 = kiln.constant_of_shape %s {value = 7 : i64} : (tensor<2xi64>) -> tensor<?x?xi64>
  return %0 : tensor<?x?xi64>
}

func.func @split_transpose(%x: tensor<?x6xf32>) -> tensor<2x?xf32> {
  %0:3 = kiln.split %x {axis = 1 : i64, sizes = array<i64: 1, 2, 3>} : (tensor<?x6xf32>) -> (tensor<?x1xf32>, tensor<?x2xf32>, tensor<?x3xf32>)
  %1 = kiln.transpose %0#1 {perm = array<i64: 1, 0>} : (tensor<?x2xf32>) -> tensor<2x?xf32>
  return %1 : tensor<2x?xf32>
}

func.func @unsqueeze_squeeze(%x: tensor<?x?xf32>) -> (tensor<1x?x1x?xf32>, tensor<?x?xf32>) {
  %0 = kiln.unsqueeze %x {axes = array<i64: 0, 2>} : (tensor<?x?xf32>) -> tensor<1x?x1x?xf32>
  %1 = kiln.squeeze %0 {axes = array<i64: 0, 2>} : (tensor<1x?x1x?xf32>) -> tensor<?x?xf32>
  return %0, %1 : tensor<1x?x1x?xf32>, tensor<?x?xf32>
}

// The expected values, in the order main prints them, are generated by
// Inputs/numerics_expected.py from onnx.reference:
// gather, axis 1, negative indices
// CHECK: sizes = [3, 2, 2]
// CHECK-NEXT: [2, 3]
// CHECK-NEXT: [0, 1]
// CHECK-NEXT: [6, 7]
// CHECK-NEXT: [4, 5]
// CHECK-NEXT: [10, 11]
// CHECK-NEXT: [8, 9]
// slice, run-time axes, negative steps, clamped ends
// CHECK: sizes = [2, 3]
// CHECK-NEXT: [18, 17, 16]
// CHECK-NEXT: [8, 7, 6]
// slice, constant axes, end past the dim
// CHECK: sizes = [4, 2]
// CHECK-NEXT: [1, 3]
// CHECK-NEXT: [6, 8]
// CHECK-NEXT: [11, 13]
// CHECK-NEXT: [16, 18]
// reshape to [0, -1, 2]
// CHECK: sizes = [2, 6, 2]
// CHECK-NEXT: [0, 1]
// CHECK-NEXT: [2, 3]
// CHECK-NEXT: [4, 5]
// CHECK-NEXT: [6, 7]
// CHECK-NEXT: [8, 9]
// CHECK-NEXT: [10, 11]
// CHECK-NEXT: [12, 13]
// CHECK-NEXT: [14, 15]
// CHECK-NEXT: [16, 17]
// CHECK-NEXT: [18, 19]
// CHECK-NEXT: [20, 21]
// CHECK-NEXT: [22, 23]
// reshape 2x3x4 to [-1, 4] (one `?` dim: through 1-D)
// CHECK: sizes = [6, 4]
// CHECK-NEXT: [0, 1, 2, 3]
// CHECK-NEXT: [4, 5, 6, 7]
// CHECK-NEXT: [8, 9, 10, 11]
// CHECK-NEXT: [12, 13, 14, 15]
// CHECK-NEXT: [16, 17, 18, 19]
// CHECK-NEXT: [20, 21, 22, 23]
// reshape 2x3x4 to [shape(x)[0:2], 2, 2] (an expand_shape)
// CHECK: sizes = [2, 3, 2, 2]
// CHECK-NEXT: [0, 1]
// CHECK-NEXT: [2, 3]
// CHECK-NEXT: [4, 5]
// CHECK-NEXT: [6, 7]
// CHECK-NEXT: [8, 9]
// CHECK-NEXT: [10, 11]
// CHECK-NEXT: [12, 13]
// CHECK-NEXT: [14, 15]
// CHECK-NEXT: [16, 17]
// CHECK-NEXT: [18, 19]
// CHECK-NEXT: [20, 21]
// CHECK-NEXT: [22, 23]
// reshape 3x2x2 to [shape(y)[0], 4] (a collapse_shape)
// CHECK: sizes = [3, 4]
// CHECK-NEXT: [0, 1, 2, 3]
// CHECK-NEXT: [4, 5, 6, 7]
// CHECK-NEXT: [8, 9, 10, 11]
// expand 3x1 to [2, 3, 4]
// CHECK: sizes = [2, 3, 4]
// CHECK-NEXT: [1, 1, 1, 1]
// CHECK-NEXT: [2, 2, 2, 2]
// CHECK-NEXT: [3, 3, 3, 3]
// CHECK-NEXT: [1, 1, 1, 1]
// CHECK-NEXT: [2, 2, 2, 2]
// CHECK-NEXT: [3, 3, 3, 3]
// tile 2x3 by [2, 2]
// CHECK: sizes = [4, 6]
// CHECK-NEXT: [1, 2, 3, 1, 2, 3]
// CHECK-NEXT: [4, 5, 6, 4, 5, 6]
// CHECK-NEXT: [1, 2, 3, 1, 2, 3]
// CHECK-NEXT: [4, 5, 6, 4, 5, 6]
// trilu upper, k = 1
// CHECK: sizes = [3, 4]
// CHECK-NEXT: [0, 1, 2, 3]
// CHECK-NEXT: [0, 0, 6, 7]
// CHECK-NEXT: [0, 0, 0, 11]
// trilu lower, k = -1
// CHECK: sizes = [3, 4]
// CHECK-NEXT: [0, 0, 0, 0]
// CHECK-NEXT: [4, 0, 0, 0]
// CHECK-NEXT: [8, 9, 0, 0]
// concat along axis 1 (2x2, 2x3, 2x1)
// CHECK: sizes = [2, 6]
// CHECK-NEXT: [1, 2, 5, 6, 7, 11]
// CHECK-NEXT: [3, 4, 8, 9, 10, 12]
// range 10 down to 1 by -3
// CHECK: sizes = [3]
// CHECK-NEXT: [10, 7, 4]
// range 0.5 to 2.0 by 0.625
// CHECK: sizes = [3]
// CHECK-NEXT: [0.5, 1.125, 1.75]
// shape of 2x3x4
// CHECK: sizes = [3]
// CHECK-NEXT: [2, 3, 4]
// size of 2x3x4
// CHECK: sizes = []
// CHECK-NEXT: [24]
// constant_of_shape [2, 3] of 7
// CHECK: sizes = [2, 3]
// CHECK-NEXT: [7, 7, 7]
// CHECK-NEXT: [7, 7, 7]
// split 3x6 into [1, 2, 3], transpose the middle
// CHECK: sizes = [2, 3]
// CHECK-NEXT: [1, 7, 13]
// CHECK-NEXT: [2, 8, 14]
// unsqueeze 3x4 at [0, 2]
// CHECK: sizes = [1, 3, 1, 4]
// CHECK-NEXT: [0, 1, 2, 3]
// CHECK-NEXT: [4, 5, 6, 7]
// CHECK-NEXT: [8, 9, 10, 11]
// squeeze it back
// CHECK: sizes = [3, 4]
// CHECK-NEXT: [0, 1, 2, 3]
// CHECK-NEXT: [4, 5, 6, 7]
// CHECK-NEXT: [8, 9, 10, 11]

func.func @main() {
  %m34 = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]> : tensor<3x4xf32>
  %x34 = tensor.cast %m34 : tensor<3x4xf32> to tensor<?x?xf32>
  %m45 = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0],
                               [10.0, 11.0, 12.0, 13.0, 14.0], [15.0, 16.0, 17.0, 18.0, 19.0]]> : tensor<4x5xf32>
  %x45 = tensor.cast %m45 : tensor<4x5xf32> to tensor<?x?xf32>
  %m234 = arith.constant dense<[[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]],
                                [[12.0, 13.0, 14.0, 15.0], [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0]]]> : tensor<2x3x4xf32>
  %x234 = tensor.cast %m234 : tensor<2x3x4xf32> to tensor<?x?x?xf32>

  %gi = arith.constant dense<[[2, -1], [0, -3]]> : tensor<2x2xi64>
  %gid = tensor.cast %gi : tensor<2x2xi64> to tensor<?x?xi64>
  %g = func.call @gather(%x34, %gid) : (tensor<?x?xf32>, tensor<?x?xi64>) -> tensor<?x?x?xf32>
  %gu = tensor.cast %g : tensor<?x?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%gu) : (tensor<*xf32>) -> ()

  %ss = arith.constant dense<[-1, 3]> : tensor<2xi64>
  %se = arith.constant dense<[-100, 0]> : tensor<2xi64>
  %sa = arith.constant dense<[0, -1]> : tensor<2xi64>
  %sst = arith.constant dense<[-2, -1]> : tensor<2xi64>
  %s = func.call @slice(%x45, %ss, %se, %sa, %sst) : (tensor<?x?xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xf32>
  %su = tensor.cast %s : tensor<?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%su) : (tensor<*xf32>) -> ()

  %cs = arith.constant dense<[1]> : tensor<1xi64>
  %ce = arith.constant dense<[9223372036854775807]> : tensor<1xi64>
  %cst = arith.constant dense<[2]> : tensor<1xi64>
  %c = func.call @slice_const_axes(%x45, %cs, %ce, %cst) : (tensor<?x?xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  %cu = tensor.cast %c : tensor<?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%cu) : (tensor<*xf32>) -> ()

  %rs = arith.constant dense<[0, -1, 2]> : tensor<3xi64>
  %r = func.call @reshape(%x234, %rs) : (tensor<?x?x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %ru = tensor.cast %r : tensor<?x?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%ru) : (tensor<*xf32>) -> ()

  %od = arith.constant dense<[-1, 4]> : tensor<2xi64>
  %o1 = func.call @reshape_one_dynamic(%x234, %od) : (tensor<?x?x?xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  %o1u = tensor.cast %o1 : tensor<?x4xf32> to tensor<*xf32>
  func.call @printMemrefF32(%o1u) : (tensor<*xf32>) -> ()

  %x234v = tensor.cast %m234 : tensor<2x3x4xf32> to tensor<?x?x4xf32>
  %m322 = arith.constant dense<[[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]], [[8.0, 9.0], [10.0, 11.0]]]> : tensor<3x2x2xf32>
  %x322 = tensor.cast %m322 : tensor<3x2x2xf32> to tensor<?x2x2xf32>
  %rv4, %rv2 = func.call @reshape_views(%x234v, %x322) : (tensor<?x?x4xf32>, tensor<?x2x2xf32>) -> (tensor<?x?x2x2xf32>, tensor<?x4xf32>)
  %rv4u = tensor.cast %rv4 : tensor<?x?x2x2xf32> to tensor<*xf32>
  func.call @printMemrefF32(%rv4u) : (tensor<*xf32>) -> ()
  %rv2u = tensor.cast %rv2 : tensor<?x4xf32> to tensor<*xf32>
  func.call @printMemrefF32(%rv2u) : (tensor<*xf32>) -> ()

  %em = arith.constant dense<[[1.0], [2.0], [3.0]]> : tensor<3x1xf32>
  %ex = tensor.cast %em : tensor<3x1xf32> to tensor<?x1xf32>
  %es = arith.constant dense<[2, 3, 4]> : tensor<3xi64>
  %e = func.call @expand(%ex, %es) : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %eu = tensor.cast %e : tensor<?x?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%eu) : (tensor<*xf32>) -> ()

  %tm = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %tx = tensor.cast %tm : tensor<2x3xf32> to tensor<?x?xf32>
  %tr = arith.constant dense<[2, 2]> : tensor<2xi64>
  %t = func.call @tile(%tx, %tr) : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %tu = tensor.cast %t : tensor<?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%tu) : (tensor<*xf32>) -> ()

  %k1 = arith.constant dense<1> : tensor<i64>
  %up = func.call @triu(%x34, %k1) : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  %upu = tensor.cast %up : tensor<?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%upu) : (tensor<*xf32>) -> ()

  %km1 = arith.constant dense<-1> : tensor<i64>
  %lo = func.call @tril(%x34, %km1) : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  %lou = tensor.cast %lo : tensor<?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%lou) : (tensor<*xf32>) -> ()

  %ca = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %cad = tensor.cast %ca : tensor<2x2xf32> to tensor<?x?xf32>
  %cb = arith.constant dense<[[5.0, 6.0, 7.0], [8.0, 9.0, 10.0]]> : tensor<2x3xf32>
  %cbd = tensor.cast %cb : tensor<2x3xf32> to tensor<?x?xf32>
  %cc = arith.constant dense<[[11.0], [12.0]]> : tensor<2x1xf32>
  %cat = func.call @concat(%cad, %cbd, %cc) : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<2x1xf32>) -> tensor<?x?xf32>
  %catu = tensor.cast %cat : tensor<?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%catu) : (tensor<*xf32>) -> ()

  %r10 = arith.constant dense<10> : tensor<i64>
  %r1 = arith.constant dense<1> : tensor<i64>
  %rm3 = arith.constant dense<-3> : tensor<i64>
  %ri = func.call @range_i64(%r10, %r1, %rm3) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %riu = tensor.cast %ri : tensor<?xi64> to tensor<*xi64>
  func.call @printMemrefI64(%riu) : (tensor<*xi64>) -> ()

  %fs = arith.constant dense<0.5> : tensor<f32>
  %fl = arith.constant dense<2.0> : tensor<f32>
  %fd = arith.constant dense<0.625> : tensor<f32>
  %rf = func.call @range_f32(%fs, %fl, %fd) : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  %rfu = tensor.cast %rf : tensor<?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%rfu) : (tensor<*xf32>) -> ()

  %sh, %sz = func.call @shape_size(%x234) : (tensor<?x?x?xf32>) -> (tensor<3xi64>, tensor<i64>)
  %shu = tensor.cast %sh : tensor<3xi64> to tensor<*xi64>
  func.call @printMemrefI64(%shu) : (tensor<*xi64>) -> ()
  %szu = tensor.cast %sz : tensor<i64> to tensor<*xi64>
  func.call @printMemrefI64(%szu) : (tensor<*xi64>) -> ()

  %os = arith.constant dense<[2, 3]> : tensor<2xi64>
  %o = func.call @constant_of_shape(%os) : (tensor<2xi64>) -> tensor<?x?xi64>
  %ou = tensor.cast %o : tensor<?x?xi64> to tensor<*xi64>
  func.call @printMemrefI64(%ou) : (tensor<*xi64>) -> ()

  %m36 = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0, 11.0],
                               [12.0, 13.0, 14.0, 15.0, 16.0, 17.0]]> : tensor<3x6xf32>
  %x36 = tensor.cast %m36 : tensor<3x6xf32> to tensor<?x6xf32>
  %sp = func.call @split_transpose(%x36) : (tensor<?x6xf32>) -> tensor<2x?xf32>
  %spu = tensor.cast %sp : tensor<2x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%spu) : (tensor<*xf32>) -> ()

  %un, %sq = func.call @unsqueeze_squeeze(%x34) : (tensor<?x?xf32>) -> (tensor<1x?x1x?xf32>, tensor<?x?xf32>)
  %unu = tensor.cast %un : tensor<1x?x1x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%unu) : (tensor<*xf32>) -> ()
  %squ = tensor.cast %sq : tensor<?x?xf32> to tensor<*xf32>
  func.call @printMemrefF32(%squ) : (tensor<*xf32>) -> ()
  return
}
