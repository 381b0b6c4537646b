// Integer math in GPU kernels: an integer power becomes a helper function
// (convert-math-to-funcs) that outlining copies into the kernels' module,
// kept once there (kiln-gpu-launch-to-runtime), and an integer abs an LLVM
// intrinsic NVPTX has (convert-math-to-llvm after convert-gpu-to-nvvm).
// Both once failed to translate to LLVM IR (found by compiling the
// differential tester's random graphs for the GPU).
// REQUIRES: cuda-toolkit
// RUN: rm -rf %t.toolkit && mkdir -p %t.toolkit/nvvm/libdevice
// RUN: ln -s %cuda_toolkit/nvvm/libdevice/libdevice.10.bc %t.toolkit/nvvm/libdevice/
// RUN: kiln compile %s --target cuda --cuda-toolkit %t.toolkit --emit=llvm -o %t.ll
// RUN: FileCheck %s < %t.ll

// The PTX (no ptxas in %t.toolkit): the power's multiplications (its helper
// inlined into the kernel) and abs.
// CHECK: @.kiln.gpu_image = private constant {{.*}}mul.lo.s64{{.*}}abs.s64{{.*}}\00"
module {
  func.func @main(%x: tensor<4x8xi64> {kiln.dim_names = ["", ""], kiln.input_name = "x"},
                  %e: tensor<4x8xi64> {kiln.dim_names = ["", ""], kiln.input_name = "e"})
      -> (tensor<4x8xi64> {kiln.output_name = "y"}) {
    %p = kiln.pow %x, %e : (tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi64>
    %y = kiln.abs %p : tensor<4x8xi64>
    return %y : tensor<4x8xi64>
  }
}
