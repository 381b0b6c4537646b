# lit configuration for Kiln's FileCheck tests.
import os
import platform

import lit.formats
import lit.llvm

lit.llvm.initialize(lit_config, config)
llvm_config = lit.llvm.llvm_config

config.name = "Kiln"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "models",
                   "Inputs", "scripts"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.kiln_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# Under ASan (a -DKILN_ENABLE_SANITIZERS=ON build) a malloc too large to
# serve must return NULL as glibc's does, so that the tests of Kiln's own
# out-of-memory errors see them instead of ASan's abort. Without ASan the
# variable does nothing.
asan_options = os.environ.get("ASAN_OPTIONS", "")
config.environment["ASAN_OPTIONS"] = ":".join(
    filter(None, [asan_options, "allocator_may_return_null=1"]))

config.substitutions.append(("%kiln_src", config.kiln_src_root))
# use_default_substitutions() already maps %python to lit's own interpreter;
# substitutions apply in order, so replace that entry rather than add one.
config.substitutions = [(k, v) for k, v in config.substitutions if k != "%python"]
# In a sanitized build a script that loads the instrumented runtime (ctypes)
# needs the ASan runtime preloaded, as the Python ctests do.
python_env = getattr(config, "kiln_python_env", "")
config.substitutions.append(
    ("%python", f"env {python_env} {config.kiln_python}" if python_env else config.kiln_python))
config.substitutions.append(("%models", os.path.join(config.kiln_src_root, "test", "models")))

# Tests of x86 code generation and the runtime's x86 CPU checks.
if platform.machine() in ("x86_64", "AMD64"):
    config.available_features.add("x86_64")

# Importer tests need the venv's onnx to build their models.
if os.path.exists(config.kiln_python):
    config.available_features.add("onnx")

# The test CUDA driver (runtime/tests/fake_cuda.cpp) runs models compiled
# with --gpu-emulation: their kernels are CPU code (docs/gpu.md).
fake_cuda = os.path.join(config.kiln_obj_root, "runtime", "tests", "bin", "libkiln_fake_cuda.so")
if os.path.exists(fake_cuda):
    config.available_features.add("fake-cuda")
    config.substitutions.append(
        ("%emulated_gpu", f"env KILN_CUDA_DRIVER={fake_cuda} KILN_CUBLASLT={fake_cuda} "
                          "FAKE_CUDA_RACECHECK=1"))

# GPU tests compile kernels: they need the CUDA toolkit's libdevice (and use
# its ptxas when present), not a GPU.
cuda_toolkit = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
if os.path.exists(os.path.join(cuda_toolkit, "nvvm", "libdevice", "libdevice.10.bc")):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%cuda_toolkit", cuda_toolkit))
