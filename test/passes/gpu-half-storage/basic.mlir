// RUN: kiln-opt %s --kiln-gpu-half-storage -split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-gpu-half-storage="type=bf16" -split-input-file | FileCheck %s --check-prefix=BF16

#rows = affine_map<(m, n, k) -> (m, k)>
#cols = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>

// A transformer block's shape: layer norm, a GEMM with its bias and
// residual epilogue, layer norm again (returned). The first norm's result
// is read by the GEMM and as the residual: 16-bit. The GEMM's sums stay f32;
// a truncation follows it (which kiln-contraction-to-runtime-gemm folds
// into the GEMM's store). The weight and the bias are rounded to f16 now;
// the returned norm stays f32.
// CHECK-LABEL: func.func @block
// CHECK-DAG: %[[W16:.*]] = arith.constant dense<{{.*}}> : tensor<4x4xf16>
// CHECK-DAG: %[[B16:.*]] = arith.constant dense<{{.*}}> : tensor<4xf16>
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<2x4xf16>
// CHECK: %[[N1:.*]] = kiln.layer_norm_rows %{{.*}}, %{{.*}} into %[[E1]] {{.*}} -> tensor<2x4xf16>
// CHECK: %[[MM:.*]] = linalg.generic {{.*}} ins(%[[N1]], %[[W16]] : tensor<2x4xf16>, tensor<4x4xf16>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f16, %[[B:.*]]: f16, %[[ACC:.*]]: f32):
// CHECK-DAG: %[[BX:.*]] = arith.extf %[[B]] : f16 to f32
// CHECK-DAG: %[[AX:.*]] = arith.extf %[[A]] : f16 to f32
// CHECK: %[[P:.*]] = arith.mulf %[[AX]], %[[BX]] : f32
// CHECK: arith.addf %[[ACC]], %[[P]] : f32
// CHECK: %[[EPI:.*]] = linalg.generic {{.*}} ins(%[[MM]], %[[B16]], %[[N1]] : tensor<2x4xf32>, tensor<4xf16>, tensor<2x4xf16>) outs(%[[MM]] : tensor<2x4xf32>) attrs = {kiln.gemm_epilogue
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<2x4xf16>
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%[[EPI]] : tensor<2x4xf32>) outs(%[[E2]] : tensor<2x4xf16>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f16):
// CHECK-NEXT: %[[R:.*]] = arith.truncf %[[IN]] : f32 to f16
// CHECK-NEXT: linalg.yield %[[R]] : f16
// CHECK: %[[N2:.*]] = kiln.layer_norm_rows %[[T]], {{.*}} -> tensor<2x4xf32>
// CHECK: return %[[N2]] : tensor<2x4xf32>
// BF16-LABEL: func.func @block
// BF16: kiln.layer_norm_rows {{.*}} -> tensor<2x4xbf16>
// BF16: ins({{.*}} : tensor<2x4xbf16>, tensor<4x4xbf16>) outs({{.*}} : tensor<2x4xf32>)
func.func @block(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 1.0], [1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]]> : tensor<4x4xf32>
  %b = arith.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %n1 = kiln.layer_norm_rows %x, %g into %e {epsilon = 1.0e-5 : f32}
      : tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %mm = linalg.generic {indexing_maps = [#rows, #cols, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%n1, %w : tensor<2x4xf32>, tensor<4x4xf32>) outs(%z : tensor<2x4xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  %epi = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b, %n1 : tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) outs(%mm : tensor<2x4xf32>)
      attrs = {kiln.gemm_epilogue = #kiln.gemm_epilogue<gemm = 0, bias = 1, residual = 2, activation = none>} {
  ^bb0(%v: f32, %bi: f32, %r: f32, %o: f32):
    %s = arith.addf %v, %bi : f32
    %t = arith.addf %s, %r : f32
    linalg.yield %t : f32
  } -> tensor<2x4xf32>
  %n2 = kiln.layer_norm_rows %epi, %g into %e {epsilon = 1.0e-5 : f32}
      : tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %n2 : tensor<2x4xf32>
}

// -----

#id = affine_map<(m, n) -> (m, n)>
#row = affine_map<(m, n) -> (m)>

// An elementwise result rounds as it is stored: finite values beyond f16's
// range saturate to its largest (attention's -FLT_MAX mask stays finite),
// infinities and NaN are kept. Its consumer, a reduction, extends what it
// reads and keeps its f32 accumulator; the softmax reads its 16-bit x and
// writes a result that is returned: f32.
// CHECK-LABEL: func.func @mask_and_reduction
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x8xf16>
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x8xf32>) outs(%[[E]] : tensor<2x8xf16>)
// CHECK: %[[V:.*]] = arith.mulf
// CHECK-DAG: %[[HI:.*]] = arith.constant 6.550400e+04 : f32
// CHECK-DAG: %[[LO:.*]] = arith.constant -6.550400e+04 : f32
// CHECK: %[[UP:.*]] = arith.maxnumf %[[V]], %[[LO]] : f32
// CHECK: %[[CL:.*]] = arith.minnumf %[[UP]], %[[HI]] : f32
// CHECK: %[[ABS:.*]] = math.absf %[[V]] : f32
// CHECK: %[[FIN:.*]] = arith.cmpf olt, %[[ABS]], %{{.*}} : f32
// CHECK: %[[KEEP:.*]] = arith.select %[[FIN]], %[[CL]], %[[V]] : f32
// CHECK: %[[H:.*]] = arith.truncf %[[KEEP]] : f32 to f16
// CHECK: linalg.yield %[[H]] : f16
// CHECK: linalg.generic {{.*}} ins(%[[M]] : tensor<2x8xf16>) outs(%{{.*}} : tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f16, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[X:.*]] = arith.extf %[[IN]] : f16 to f32
// CHECK-NEXT: arith.addf %[[X]], %[[ACC]] : f32
// CHECK: kiln.softmax_rows %[[M]] into %{{.*}} : tensor<2x8xf16>, tensor<2x8xf32> -> tensor<2x8xf32>
func.func @mask_and_reduction(%x: tensor<2x8xf32>) -> (tensor<2xf32>, tensor<2x8xf32>) {
  %big = arith.constant -3.40282347E+38 : f32
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %m = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.mulf %in, %big : f32
    linalg.yield %v : f32
  } -> tensor<2x8xf32>
  %er = tensor.empty() : tensor<2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%er : tensor<2xf32>) -> tensor<2xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%m : tensor<2x8xf32>) outs(%z : tensor<2xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  %p = kiln.softmax_rows %m into %e : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  return %sum, %p : tensor<2xf32>, tensor<2x8xf32>
}

// -----

#id = affine_map<(m, n) -> (m, n)>

// A value some use cannot read in 16 bits stays f32: here an in-place
// init (the second generic reads its destination), and a function result.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: f16
// CHECK: return
func.func @kept(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %e = tensor.empty() : tensor<2x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.mulf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<2x8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x8xf32>) outs(%a : tensor<2x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.addf %in, %o : f32
    linalg.yield %v : f32
  } -> tensor<2x8xf32>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.subf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<2x8xf32>
  return %b, %c : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

#rows = affine_map<(m, n, k) -> (m, k)>
#cols = affine_map<(m, n, k) -> (n, k)>
#out = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>

// A weight read through a view (ViT's patch embedding reshapes its
// convolution's kernel): the 16-bit copy goes through the same view, and
// the GEMM reads both operands in f16.
// CHECK-LABEL: func.func @weight_view
// CHECK: %[[W16:.*]] = arith.constant dense<{{.*}}> : tensor<2x2x2xf16>
// CHECK: %[[V16:.*]] = tensor.collapse_shape %[[W16]] {{\[}}[0], [1, 2]] : tensor<2x2x2xf16> into tensor<2x4xf16>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[V16]] : tensor<3x4xf16>, tensor<2x4xf16>) outs(%{{.*}} : tensor<3x2xf32>)
func.func @weight_view(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]> : tensor<2x2x2xf32>
  %wv = tensor.collapse_shape %w [[0], [1, 2]] : tensor<2x2x2xf32> into tensor<2x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<3x4xf32>
  %e2 = tensor.empty() : tensor<3x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e2 : tensor<3x2xf32>) -> tensor<3x2xf32>
  %mm = linalg.generic {indexing_maps = [#rows, #cols, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%r, %wv : tensor<3x4xf32>, tensor<2x4xf32>) outs(%z : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<3x2xf32>
  return %mm : tensor<3x2xf32>
}

// -----

#id4 = affine_map<(a, b, c, d) -> (a, b, c, d)>

// Attention (--gpu-attention=fused) reads q, kt, v and its addend in
// either type: the elementwise results feeding it are stored in 16 bits;
// its own result, which an elementwise generic reads, is stored in 16
// bits too (a 16-bit init); the one only returned stays f32.
// CHECK-LABEL: func.func @attention
// CHECK: %[[X:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x8x16xf16>)
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x2x8x16xf16>
// CHECK: %[[O:.*]] = kiln.attention %[[X]], %{{.*}}, %[[X]] into %[[INIT]] : tensor<1x2x8x16xf16>, tensor<1x2x16x8xf32>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16> -> tensor<1x2x8x16xf16>
// CHECK: linalg.generic {{.*}} ins(%[[O]] : tensor<1x2x8x16xf16>)
// CHECK: kiln.attention {{.*}} -> tensor<1x2x8x16xf32>
// BF16-LABEL: func.func @attention
// BF16: kiln.attention {{.*}} : tensor<1x2x8x16xbf16>, tensor<1x2x16x8xf32>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16> -> tensor<1x2x8x16xbf16>
func.func @attention(%x: tensor<1x2x8x16xf32>, %kt: tensor<1x2x16x8xf32>)
    -> (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) {
  %e = tensor.empty() : tensor<1x2x8x16xf32>
  %s = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x2x8x16xf32>) outs(%e : tensor<1x2x8x16xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.mulf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<1x2x8x16xf32>
  %i0 = tensor.empty() : tensor<1x2x8x16xf32>
  %a = kiln.attention %s, %kt, %s into %i0
      : tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %e2 = tensor.empty() : tensor<1x2x8x16xf32>
  %y = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<1x2x8x16xf32>) outs(%e2 : tensor<1x2x8x16xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.addf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<1x2x8x16xf32>
  %i1 = tensor.empty() : tensor<1x2x8x16xf32>
  %r = kiln.attention %s, %kt, %s into %i1
      : tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %y, %r : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
}

// -----

#id3 = affine_map<(a, b, c) -> (a, b, c)>
#id4 = affine_map<(a, b, c, d) -> (a, b, c, d)>

// Symbolic shapes (no --input-shape): a stored result's tensor.dim reads
// no element, and a tensor.reshape to a shape computed at run time and a
// tensor.cast between static and symbolic dims are views. The producer is
// stored in 16 bits through them; the views take the 16-bit type, the dim
// reads the 16-bit tensor.
// CHECK-LABEL: func.func @symbolic
// CHECK: %[[S:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?x128xf16>)
// CHECK: tensor.dim %[[S]], %{{.*}} : tensor<?x?x128xf16>
// CHECK: %[[R:.*]] = tensor.reshape %[[S]](%{{.*}}) : (tensor<?x?x128xf16>, tensor<4xindex>) -> tensor<?x?x?x64xf16>
// CHECK: %[[C:.*]] = tensor.cast %[[R]] : tensor<?x?x?x64xf16> to tensor<?x?x2x64xf16>
// CHECK: linalg.generic {{.*}} ins(%[[C]] : tensor<?x?x2x64xf16>)
// CHECK: ^bb0(%[[IN:.*]]: f16, %{{.*}}: f32):
// CHECK-NEXT: arith.extf %[[IN]] : f16 to f32
func.func @symbolic(%x: tensor<?x?x128xf32>) -> tensor<?x?x2x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %b = tensor.dim %x, %c0 : tensor<?x?x128xf32>
  %n = tensor.dim %x, %c1 : tensor<?x?x128xf32>
  %e = tensor.empty(%b, %n) : tensor<?x?x128xf32>
  %s = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<?x?x128xf32>) outs(%e : tensor<?x?x128xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.mulf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<?x?x128xf32>
  %sb = tensor.dim %s, %c0 : tensor<?x?x128xf32>
  %shape = tensor.from_elements %sb, %n, %c2, %c64 : tensor<4xindex>
  %r = tensor.reshape %s(%shape) : (tensor<?x?x128xf32>, tensor<4xindex>) -> tensor<?x?x?x64xf32>
  %c = tensor.cast %r : tensor<?x?x?x64xf32> to tensor<?x?x2x64xf32>
  %e2 = tensor.empty(%sb, %n) : tensor<?x?x2x64xf32>
  %y = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<?x?x2x64xf32>) outs(%e2 : tensor<?x?x2x64xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.addf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<?x?x2x64xf32>
  return %y : tensor<?x?x2x64xf32>
}

// -----

#id1 = affine_map<(i) -> (i)>

// A value that one reader quantizes (round half to even of x / scale, then
// to i8) keeps fp32 storage: rounded to f16 first, a quotient near .5
// (9.5019 from 1.6361513 / 0.172192; 9.4995 from its f16) would land one
// step off. It stays fp32 for its other reader too; a value read only by
// arithmetic is stored in 16 bits.
// CHECK-LABEL: func.func @quantized_reader
// CHECK: %[[W:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[W]] : tensor<8xf32>) outs(%{{.*}} : tensor<8xi8>)
// CHECK: %[[M:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8xf16>)
// CHECK: linalg.generic {{.*}} ins(%[[M]] : tensor<8xf16>)
// BF16-LABEL: func.func @quantized_reader
// BF16: linalg.generic {{.*}} outs(%{{.*}} : tensor<8xf32>)
func.func @quantized_reader(%x: tensor<8xf32>) -> (tensor<8xi8>, tensor<8xf32>, tensor<8xf32>) {
  %scale = arith.constant 0.172192 : f32
  %e = tensor.empty() : tensor<8xf32>
  %w = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.addf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %eq = tensor.empty() : tensor<8xi8>
  %q = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%w : tensor<8xf32>) outs(%eq : tensor<8xi8>) {
  ^bb0(%in: f32, %o: i8):
    %d = arith.divf %in, %scale : f32
    %r = math.roundeven %d : f32
    %i = arith.fptosi %r : f32 to i8
    linalg.yield %i : i8
  } -> tensor<8xi8>
  %n = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%w : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.negf %in : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %m = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.mulf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %p = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%m : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.subf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  return %q, %n, %p : tensor<8xi8>, tensor<8xf32>, tensor<8xf32>
}
