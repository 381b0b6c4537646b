// RUN: kiln-opt %s --kiln-lower-to-linalg -split-input-file | FileCheck %s

// max_pool: the input padded with the lowest value (0 for unsigned
// integers), then a generic with reduction loops over the kernel (a
// tensor.empty of its shape) reading o * stride + k * dilation.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @max_pool_unsigned
// CHECK: %[[P:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: } : tensor<1x3x5x5xui8> to tensor<1x3x7x7xui8>
// CHECK: %[[W:.*]] = tensor.empty() : tensor<3x3xui8>
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[WIN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[P]], %[[W]] : tensor<1x3x7x7xui8>, tensor<3x3xui8>) outs(%[[INIT]] : tensor<1x3x3x3xui8>)
// CHECK: arith.maxui %{{.*}}, %{{.*}} : i8
func.func @max_pool_unsigned(%x: tensor<1x3x5x5xui8>) -> tensor<1x3x3x3xui8> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>,
         pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x5x5xui8>) -> tensor<1x3x3x3xui8>
  return %0 : tensor<1x3x3x3xui8>
}

// -----

// A float max starts from -inf.
// CHECK-LABEL: func.func @max_pool_float
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad
// CHECK: tensor.yield %[[NINF]] : f32
// CHECK: arith.maximumf
func.func @max_pool_float(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>,
         pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// ceil_mode: the last window runs past the input, so the end is padded
// (with zeros) far enough; each output divides by the number of its window's
// elements inside the input, from the output position o: with start = 2o,
// max(0, -start) .. min(2, 3 - start).
// CHECK-LABEL: func.func @average_pool_ceil
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[P:.*]] = tensor.pad %{{.*}} low[0, 0, 0] high[0, 0, 1]
// CHECK: } : tensor<?x3x4xf32> to tensor<?x3x5xf32>
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<?x3x2xf32>)
// CHECK: %[[O:.*]] = linalg.index 2 : index
// CHECK: %[[START:.*]] = arith.muli %[[O]], %[[C2]] : index
// CHECK: %[[LO:.*]] = arith.subi %[[C0]], %[[START]] : index
// CHECK: %[[FIRST:.*]] = arith.maxsi %[[LO]], %[[C0]] : index
// CHECK: %[[HI:.*]] = arith.subi %[[C3]], %[[START]] : index
// CHECK: %[[LAST:.*]] = arith.minsi %[[HI]], %[[C2]] : index
// CHECK: %[[SPAN:.*]] = arith.subi %[[LAST]], %[[FIRST]] : index
// CHECK: %[[N:.*]] = arith.addi %[[SPAN]], %[[C1]] : index
// CHECK: %[[COUNT:.*]] = arith.maxsi %[[N]], %[[C0]] : index
// CHECK: %[[I64:.*]] = arith.index_cast %[[COUNT]] : index to i64
// CHECK: %[[F:.*]] = arith.sitofp %[[I64]] : i64 to f32
// CHECK: arith.divf %{{.*}}, %[[F]] : f32
func.func @average_pool_ceil(%x: tensor<?x3x4xf32>) -> tensor<?x3x2xf32> {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3>, strides = array<i64: 2>,
         pads = array<i64: 0, 0>, dilations = array<i64: 1>, ceil_mode = true} : (tensor<?x3x4xf32>) -> tensor<?x3x2xf32>
  return %0 : tensor<?x3x2xf32>
}

// -----

// When every window lies inside the input the divisor is the kernel size.
// CHECK-LABEL: func.func @average_pool_whole
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: arith.divf %{{.*}}, %[[TWO]] : f32
func.func @average_pool_whole(%x: tensor<1x3x4xf32>) -> tensor<1x3x2xf32> {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 2>,
         pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x3x4xf32>) -> tensor<1x3x2xf32>
  return %0 : tensor<1x3x2xf32>
}

// -----

// lp_pool sums |x|^p (here p = 3, a float power), then takes the p-th root.
// CHECK-LABEL: func.func @lp_pool
// CHECK-DAG: %[[P:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-DAG: %[[INV:.*]] = arith.constant 0.33333{{[0-9]*}} : f32
// CHECK: linalg.generic
// CHECK: %[[ABS:.*]] = math.absf %{{.*}} : f32
// CHECK: %[[POW:.*]] = math.powf %[[ABS]], %[[P]] : f32
// CHECK: arith.addf %{{.*}}, %[[POW]] : f32
// CHECK: linalg.generic
// CHECK: math.powf %{{.*}}, %[[INV]] : f32
func.func @lp_pool(%x: tensor<1x3x5xf32>) -> tensor<1x3x4xf32> {
  %0 = kiln.lp_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>,
         dilations = array<i64: 1>, p = 3 : i64} : (tensor<1x3x5xf32>) -> tensor<1x3x4xf32>
  return %0 : tensor<1x3x4xf32>
}
