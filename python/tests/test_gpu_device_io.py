"""Session(device_io=True).run_device and kiln.DeviceArray on a GPU model.

No GPU is needed: a hand-written GPU model (runtime/tests/fake_gpu_model.c:
y = 3 x + 1 over 64 floats) runs on the fake CUDA driver of
runtime/tests/fake_cuda.cpp, which executes its kernels on the CPU. The
driver is chosen when the runtime first loads one, once per process, so the
checks run in a child process with KILN_CUDA_DRIVER set."""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

BUILD = pathlib.Path(os.environ.get("KILN_BUILD_DIR", pathlib.Path(__file__).parents[2] / "build"))
FAKE_DRIVER = BUILD / "runtime" / "tests" / "bin" / "libkiln_fake_cuda.so"
GPU_MODEL = BUILD / "runtime" / "tests" / "models" / "fake_gpu_model.so"
CPU_MODEL = BUILD / "runtime" / "tests" / "models" / "fake_model.so"

def emulated_env():
    """The child's environment: the fake driver as the CUDA driver and as
    cuBLASLt."""
    return dict(os.environ, KILN_CUDA_DRIVER=str(FAKE_DRIVER), KILN_CUBLASLT=str(FAKE_DRIVER))


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import kiln

    gpu_model, cpu_model = sys.argv[1], sys.argv[2]
    session = kiln.Session(gpu_model, device_io=True)
    x = kiln.DeviceArray(session, (64,), np.float32)
    y = kiln.DeviceArray(session, (64,), np.float32)
    for run in range(4):  # the third is captured as a CUDA graph, the fourth replays it
        host = np.linspace(-1, 1, 64, dtype=np.float32) * (run + 1)
        session.run_device({"y": y}, {"x": x.copy_from(host)})
        np.testing.assert_array_equal(y.numpy(), (2 * host + 1) + host)
    print("interface", y.__cuda_array_interface__["typestr"], y.__cuda_array_interface__["shape"])

    def error(call):
        try:
            call()
        except kiln.KilnError as e:
            return f"{type(e).__name__}: {e}"
        return "no error"

    print(error(lambda: session.run_device({"y": y}, {"x": np.zeros(64, np.float32)})))
    print(error(lambda: session.run_device({"y": y}, {"x": kiln.DeviceArray(session, (64,), np.int64)})))
    print(error(lambda: session.run_device({"z": y}, {"x": x})))
    host_session = kiln.Session(gpu_model)  # host I/O: numpy in and out, as for the CPU
    print("host", float(host_session.run(None, {"x": np.ones(64, np.float32)})[0].sum()))
    print(error(lambda: host_session.run_device({"y": y}, {"x": x})))
    print(error(lambda: kiln.Session(cpu_model, device_io=True)))

    # A caller's stream (the fake driver takes any handle; PyTorch's and
    # CuPy's stream objects give theirs as .cuda_stream and .ptr).
    class TorchLikeStream:
        cuda_stream = 0x5000
    on_stream = kiln.Session(gpu_model, device_io=True, cuda_stream=TorchLikeStream())
    host = np.arange(64, dtype=np.float32)
    on_stream.run_device({"y": y}, {"x": x.copy_from(host)})
    np.testing.assert_array_equal(y.numpy(), 3 * host + 1)
    print("stream ok")
    print(error(lambda: kiln.Session(cpu_model, cuda_stream=0x5000)))
    try:
        kiln.Session(gpu_model, cuda_stream="default")
    except ValueError as e:
        print(f"ValueError: {e}")

    # An input still being written on another stream (the test driver's
    # legacy stream: its work runs when something waits for it), which
    # the session on its caller's stream does not wait for by itself: its
    # __cuda_array_interface__ (version 3) names the stream, and the run
    # follows that stream's work.
    import ctypes, os
    driver = ctypes.CDLL(os.environ["KILN_CUDA_DRIVER"])
    Work = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    fresh = np.arange(64, dtype=np.float32) + 100
    write = Work(lambda _: ctypes.memmove(x.__cuda_array_interface__["data"][0],
                                          fresh.ctypes.data, fresh.nbytes))

    class OnLegacyStream:
        def __init__(self, array, stream):
            self.__cuda_array_interface__ = dict(array.__cuda_array_interface__, version=3,
                                                 stream=stream)
    for stream in (None, 1):
        x.copy_from(np.zeros(64, np.float32))
        driver.fake_cuda_queue_on_legacy_stream(write, None)
        on_stream.run_device({"y": y}, {"x": OnLegacyStream(x, stream)})
        print("stream", stream, "fresh" if np.array_equal(y.numpy(), 3 * fresh + 1) else "stale")
    # Or the caller says which stream to wait for (PyTorch's interface
    # names none): the legacy stream's handle is 1.
    x.copy_from(np.zeros(64, np.float32))
    driver.fake_cuda_queue_on_legacy_stream(write, None)
    on_stream.wait_stream(1)
    on_stream.run_device({"y": y}, {"x": x})
    print("wait_stream", "fresh" if np.array_equal(y.numpy(), 3 * fresh + 1) else "stale")
    print(error(lambda: kiln.Session(cpu_model).wait_stream(1)))
""")


def test_device_io_through_the_fake_driver():
    env = dict(os.environ, KILN_CUDA_DRIVER=str(FAKE_DRIVER))
    result = subprocess.run([sys.executable, "-c", CHILD, str(GPU_MODEL), str(CPU_MODEL)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "interface <f4 (64,)"
    assert lines[1] == ("InvalidArgument: input 'x' is a ndarray, not GPU memory "
                        "(no __cuda_array_interface__)")
    assert lines[2] == "InvalidArgument: input 'x' has dtype int64, but the model's is float32"
    assert lines[3].startswith("InvalidArgument: unknown output 'z' (the model's outputs are: y")
    assert lines[4] == "host 256.0"
    assert lines[5] == "InvalidArgument: run_device needs a session made with device_io=True"
    assert lines[6].startswith("InvalidArgument: kiln_session_create: device_io is for GPU "
                               "models"), lines[6]
    assert lines[7] == "stream ok"
    assert lines[8].startswith("InvalidArgument: kiln_session_create: cuda_stream is for GPU "
                               "models"), lines[8]
    assert lines[9] == ("ValueError: cuda_stream must be None, a CUDA stream handle (int), a "
                        "torch.cuda.Stream or a cupy.cuda.Stream, not 'default'")
    # Without a stream in the interface the caller's-stream session reads
    # the input before the write (stale); naming the legacy stream orders it.
    assert lines[10:13] == ["stream None stale", "stream 1 fresh", "wait_stream fresh"], lines[10:]
    assert lines[13] == ("InvalidArgument: kiln_session_wait_stream: the session's model is not "
                         "a GPU model"), lines[13]


COMPILED_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import kiln

    gpu_model, cpu_model = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(0, 100, (2, 16)).astype(np.int64),
             "attention_mask": np.ones((2, 16), np.int64),
             "token_type_ids": np.zeros((2, 16), np.int64)}
    want = kiln.Session(cpu_model).run(None, feeds)[0]
    device = kiln.Session(gpu_model, device_io=True)
    inputs = {name: kiln.DeviceArray(device, value.shape, value.dtype).copy_from(value)
              for name, value in feeds.items()}
    hidden = kiln.DeviceArray(device, want.shape, np.float32)
    pooled = kiln.DeviceArray(device, (2, 128), np.float32)
    for run in range(4):  # the fourth replays the CUDA graph
        device.run_device({"last_hidden_state": hidden, "pooler_output": pooled}, inputs)
    host = kiln.Session(gpu_model).run(None, feeds)[0]
    print(float(np.abs(hidden.numpy() - want).max()), float(np.abs(host - want).max()))
    # An id past the vocabulary (512) fails the run (the check computed on
    # the device, read back after the graph's replay), and the next run,
    # with good ids again, replays the graph as before.
    bad = feeds["input_ids"].copy()
    bad[1, 7] = 512
    inputs["input_ids"].copy_from(bad)
    try:
        device.run_device({"last_hidden_state": hidden, "pooler_output": pooled}, inputs)
        print("no error")
    except kiln.KilnError as e:
        print(f"{type(e).__name__}: {e}")
    inputs["input_ids"].copy_from(feeds["input_ids"])
    device.run_device({"last_hidden_state": hidden, "pooler_output": pooled}, inputs)
    print(float(np.abs(hidden.numpy() - want).max()))
""")


def test_compiled_model_with_device_io_emulated(tmp_path):
    """bert-tiny compiled for the GPU with --gpu-emulation (its kernels
    compiled for the CPU, run by the fake driver): device inputs and outputs
    through DeviceArray give what host I/O and the CPU build give; an id out
    of range fails the run with the CPU's message, also on a graph replay."""
    model = pathlib.Path(__file__).parents[2] / "test" / "models" / "bert-tiny.dynamo.onnx"
    shapes = "input_ids=2x16,attention_mask=2x16,token_type_ids=2x16"
    for name, extra in (("gpu.so", ["--target", "cuda", "--gpu-emulation"]), ("cpu.so", [])):
        subprocess.run([str(BUILD / "bin" / "kiln"), "compile", str(model), "-o",
                        str(tmp_path / name), "--input-shape", shapes, *extra],
                       check=True, capture_output=True, timeout=300)
    env = dict(os.environ, KILN_CUDA_DRIVER=str(FAKE_DRIVER))
    result = subprocess.run([sys.executable, "-c", COMPILED_CHILD, str(tmp_path / "gpu.so"),
                             str(tmp_path / "cpu.so")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    device_diff, host_diff = map(float, lines[0].split())
    assert device_diff <= 1e-4 and host_diff <= 1e-4, result.stdout
    assert lines[1] == ("InvalidArgument: node 'node_embedding' (Gather): indices element out of "
                        "data bounds (an index outside [-dim, dim) of the axis it indexes)"), lines[1]
    assert float(lines[2]) <= 1e-4, result.stdout


HALF_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import kiln

    gpu_model, cpu_model = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(4)
    feeds = {"input_ids": rng.integers(0, 100, (2, 16)),
             "attention_mask": np.ones((2, 16), np.int64),
             "token_type_ids": np.zeros((2, 16), np.int64)}
    gpu, cpu = kiln.Session(gpu_model), kiln.Session(cpu_model)
    for got, want in zip(gpu.run(None, feeds), cpu.run(None, feeds)):
        print(float(np.abs(got - want).max()))
""")


@pytest.mark.parametrize("attention, contiguous, gelu",
                         [("gemms", None, None), ("fused", None, "tanh"), ("gemms", 1, None)])
def test_python_compile_of_an_fp16_gpu_model(tmp_path, attention, contiguous, gelu):
    """kiln.compile's GPU options: bert-tiny for the GPU with cuBLASLt GEMMs
    in fp16 and half storage, attention as GEMMs (with contiguous copies of
    their operands from 1 call on: gpu_contiguous_batches=1) or one fused
    kernel (and GELU in its tanh form, gpu_gelu="tanh"), emulated (gpu_emulation, the fake driver and its cuBLASLt),
    runs within fp16's tolerance of the CPU build."""
    import kiln
    model = pathlib.Path(__file__).parents[2] / "test" / "models" / "bert-tiny.dynamo.onnx"
    shapes = "input_ids=2x16,attention_mask=2x16,token_type_ids=2x16"
    gpu = kiln.compile(model, tmp_path / "gpu.so", input_shapes=shapes, target="cuda",
                       gpu_gemm="cublas", precision="fp16", gpu_storage="half",
                       gpu_attention=attention, gpu_gelu=gelu, gpu_contiguous_batches=contiguous,
                       gpu_emulation=True)
    cpu = kiln.compile(model, tmp_path / "cpu.so", input_shapes=shapes)
    env = emulated_env()
    result = subprocess.run([sys.executable, "-c", HALF_CHILD, str(gpu), str(cpu)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    diffs = [float(line) for line in result.stdout.split()]
    assert len(diffs) == 2 and max(diffs) <= 1e-2, result.stdout


SHAPES_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import kiln

    gpu_model, cpu_model = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(5)
    gpu, cpu = kiln.Session(gpu_model), kiln.Session(cpu_model)
    # Shapes change between runs, and repeat (runs 3-5 the same work: a CUDA
    # graph captured and replayed) before changing again.
    for batch, seq in ((2, 16), (1, 8), (2, 16), (2, 16), (2, 16), (3, 33), (1, 1), (2, 16)):
        mask = np.ones((batch, seq), np.int64)
        mask[batch // 2:, seq - seq // 4:] = 0  # padding at the end of some rows
        feeds = {"input_ids": rng.integers(0, 100, (batch, seq)),
                 "attention_mask": mask,
                 "token_type_ids": np.zeros((batch, seq), np.int64)}
        got, want = gpu.run(None, feeds), cpu.run(None, feeds)
        print(batch, seq, *(float(np.abs(g - w).max()) if g.shape == w.shape else float("inf")
                            for g, w in zip(got, want)))
""")


@pytest.mark.parametrize("options, tolerance", [
    ({}, 1e-4),
    ({"gpu_gemm": "cublas", "precision": "fp16", "gpu_storage": "half"}, 1e-2)])
def test_one_gpu_session_over_several_shapes(tmp_path, options, tolerance):
    """bert-tiny compiled for the GPU with its batch and sequence dims
    symbolic (no input_shapes), emulated: one session runs it at several
    shapes in turn, each within the variant's tolerance of the CPU build."""
    import kiln
    model = pathlib.Path(__file__).parents[2] / "test" / "models" / "bert-tiny.dynamo.onnx"
    gpu = kiln.compile(model, tmp_path / "gpu.so", target="cuda", gpu_emulation=True, **options)
    cpu = kiln.compile(model, tmp_path / "cpu.so")
    env = emulated_env()
    result = subprocess.run([sys.executable, "-c", SHAPES_CHILD, str(gpu), str(cpu)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 8, result.stdout
    for line in lines:
        batch, seq, *diffs = line.split()
        assert len(diffs) == 2 and max(map(float, diffs)) <= tolerance, result.stdout
