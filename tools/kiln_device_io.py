"""Device I/O through the Kiln runtime's C API (kiln.h) with ctypes: a GPU
model run on inputs and outputs in GPU memory, for the device check's
PyTorch interop stage, on a machine where Kiln's Python module was not
built for its Python (only libkiln_runtime.so travels there).

    runtime = Runtime(bindir / "libkiln_runtime.so")
    session = runtime.session(library, device_io=True, cuda_stream=None)
    session.run({"input_ids": (shape, numpy dtype, device pointer)},
                {"last_hidden_state": (device pointer, bytes)})

Errors raise RuntimeError with the runtime's status message. kiln.h's
structs are mirrored below; kiln_session_options grows at the end and its
struct_size (set by kiln_session_options_initialize) says how much of it
this caller knows.
"""

import ctypes

import numpy as np

# enum kiln_dtype (kiln_abi.h), for the dtypes model inputs take.
DTYPES = {np.dtype(np.float32): 1, np.dtype(np.int32): 6, np.dtype(np.int64): 7,
          np.dtype(np.bool_): 9, np.dtype(np.float16): 10}
COPY_HOST_TO_DEVICE, COPY_DEVICE_TO_HOST = 0, 1  # enum kiln_gpu_copy_kind


class _Tensor(ctypes.Structure):  # kiln_tensor
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("dims", ctypes.POINTER(ctypes.c_int64)), ("data", ctypes.c_void_p),
                ("byte_size", ctypes.c_size_t)]


class _SessionOptions(ctypes.Structure):  # kiln_session_options
    _fields_ = [("struct_size", ctypes.c_uint32), ("num_threads", ctypes.c_uint32),
                ("profile", ctypes.c_uint32), ("keep_denormals", ctypes.c_uint32),
                ("device_io", ctypes.c_uint32), ("cuda_stream", ctypes.c_void_p)]


class Runtime:
    def __init__(self, path):
        lib = self.lib = ctypes.CDLL(str(path))
        lib.kiln_status_message.restype = ctypes.c_char_p
        lib.kiln_status_message.argtypes = [ctypes.c_void_p]
        lib.kiln_status_free.argtypes = [ctypes.c_void_p]
        for name, args in (
                ("kiln_model_load", [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
                ("kiln_session_create", [ctypes.c_void_p, ctypes.POINTER(_SessionOptions),
                                         ctypes.POINTER(ctypes.c_void_p)]),
                ("kiln_session_run", [ctypes.c_void_p, ctypes.POINTER(_Tensor), ctypes.c_size_t,
                                      ctypes.POINTER(_Tensor), ctypes.c_size_t]),
                ("kiln_session_device_alloc", [ctypes.c_void_p, ctypes.c_size_t,
                                               ctypes.POINTER(ctypes.c_void_p)]),
                ("kiln_session_device_copy", [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                              ctypes.c_size_t, ctypes.c_int32]),
                ("kiln_session_wait_stream", [ctypes.c_void_p, ctypes.c_void_p])):
            getattr(lib, name).restype = ctypes.c_void_p  # kiln_status_t
            getattr(lib, name).argtypes = args
        lib.kiln_session_options_initialize.argtypes = [ctypes.POINTER(_SessionOptions)]
        lib.kiln_session_device_free.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.kiln_session_release.argtypes = [ctypes.c_void_p]
        lib.kiln_model_release.argtypes = [ctypes.c_void_p]

    def check(self, status, what):
        if status:
            message = self.lib.kiln_status_message(status).decode()
            self.lib.kiln_status_free(status)
            raise RuntimeError(f"{what}: {message}")

    def session(self, library, device_io=True, cuda_stream=None):
        return Session(self, library, device_io, cuda_stream)


class Session:
    """A model and one session on it (released with close())."""

    def __init__(self, runtime, library, device_io, cuda_stream):
        self.runtime, lib = runtime, runtime.lib
        self.model, self.handle = ctypes.c_void_p(), ctypes.c_void_p()
        runtime.check(lib.kiln_model_load(str(library).encode(), ctypes.byref(self.model)),
                      f"loading {library}")
        options = _SessionOptions()
        lib.kiln_session_options_initialize(ctypes.byref(options))
        options.device_io = int(device_io)
        options.cuda_stream = cuda_stream or None
        try:
            runtime.check(lib.kiln_session_create(self.model, ctypes.byref(options),
                                                  ctypes.byref(self.handle)),
                          "creating a session")
        except RuntimeError:
            lib.kiln_model_release(self.model)
            raise

    def close(self):
        self.runtime.lib.kiln_session_release(self.handle)
        self.runtime.lib.kiln_model_release(self.model)

    def wait_stream(self, stream: int):
        """The next runs after the work queued on `stream` (a CUstream) so far."""
        self.runtime.check(self.runtime.lib.kiln_session_wait_stream(self.handle, stream or None),
                           "waiting for a stream")

    def run(self, inputs: dict, outputs: dict):
        """inputs: {name: (shape, numpy dtype, device pointer)}; outputs:
        {name: (device pointer, bytes)}, written on the GPU."""
        keep = []  # what the C structs point into, alive for the call

        def tensor(name, dtype=0, shape=None, data=None, byte_size=0):
            # An output's dims: NULL, the runtime points them at its own.
            dims = (ctypes.c_int64 * max(len(shape), 1))(*shape) if shape is not None else None
            keep.append(dims)
            return _Tensor(name.encode(), dtype, len(shape or ()), dims, data, byte_size)

        ins = (_Tensor * len(inputs))(*[
            tensor(name, DTYPES[np.dtype(dtype)], shape, pointer,
                   int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize)
            for name, (shape, dtype, pointer) in inputs.items()])
        outs = (_Tensor * len(outputs))(*[tensor(name, data=pointer, byte_size=size)
                                          for name, (pointer, size) in outputs.items()])
        self.runtime.check(self.runtime.lib.kiln_session_run(self.handle, ins, len(inputs), outs,
                                                             len(outputs)), "the run")

    # GPU memory through the session (kiln_session_device_*), for callers
    # without PyTorch or CuPy (the test on the fake driver).
    def device_array(self, array: np.ndarray) -> int:
        pointer = ctypes.c_void_p()
        self.runtime.check(self.runtime.lib.kiln_session_device_alloc(
            self.handle, max(array.nbytes, 1), ctypes.byref(pointer)), "device memory")
        self.runtime.check(self.runtime.lib.kiln_session_device_copy(
            self.handle, pointer, array.ctypes.data, array.nbytes, COPY_HOST_TO_DEVICE),
            "copying to the GPU")
        return pointer.value

    def read(self, pointer: int, shape, dtype) -> np.ndarray:
        host = np.empty(shape, dtype)
        self.runtime.check(self.runtime.lib.kiln_session_device_copy(
            self.handle, host.ctypes.data, pointer, host.nbytes, COPY_DEVICE_TO_HOST),
            "copying from the GPU")
        return host

    def free(self, pointer: int):
        self.runtime.lib.kiln_session_device_free(self.handle, pointer)
