"""kiln.Session: run a compiled model, onnxruntime.InferenceSession-style."""

import os

import numpy as np

from . import _runtime
from ._errors import InvalidArgument

# kiln dtype (ONNX TensorProto code) -> (ORT type string, numpy dtype).
_DTYPES = {
    1: ("tensor(float)", np.dtype(np.float32)),
    2: ("tensor(uint8)", np.dtype(np.uint8)),
    3: ("tensor(int8)", np.dtype(np.int8)),
    4: ("tensor(uint16)", np.dtype(np.uint16)),
    5: ("tensor(int16)", np.dtype(np.int16)),
    6: ("tensor(int32)", np.dtype(np.int32)),
    7: ("tensor(int64)", np.dtype(np.int64)),
    9: ("tensor(bool)", np.dtype(np.bool_)),
    10: ("tensor(float16)", np.dtype(np.float16)),
    11: ("tensor(double)", np.dtype(np.float64)),
    12: ("tensor(uint32)", np.dtype(np.uint32)),
    13: ("tensor(uint64)", np.dtype(np.uint64)),
    # numpy has no bfloat16: such tensors travel as their uint16 bit patterns.
    16: ("tensor(bfloat16)", np.dtype(np.uint16)),
}


class NodeArg:
    """A model input or output, like onnxruntime's NodeArg.

    name:  the ONNX value name.
    shape: a list with an int for each static dim and, for a symbolic dim,
           its name (``"batch"``), or None when it has none.
    type:  the ONNX type as onnxruntime writes it, e.g. ``"tensor(float)"``.
    dtype: the numpy dtype of the arrays it takes or gives.
    """

    __slots__ = ("name", "shape", "type", "dtype")

    def __init__(self, name, dims, dim_names, kiln_dtype):
        self.name = name
        self.shape = [d if d >= 0 else (n or None) for d, n in zip(dims, dim_names)]
        self.type, self.dtype = _DTYPES.get(kiln_dtype, ("tensor(unknown)", None))

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


class Session(_runtime.Session):
    """A compiled model (the shared library kiln.compile or `kiln compile`
    wrote) loaded by the Kiln runtime, with one session on it.

    Session(path, threads=None, device_io=False, cuda_stream=None): threads
    is the number of threads that work on one run, counting the caller's;
    None uses every core. device_io (GPU models): inputs and outputs are GPU
    memory (run_device). cuda_stream (GPU models): None, the session's own
    stream, which waits for the work queued on CUDA's legacy default stream
    (PyTorch's and CuPy's unless told otherwise) before each run reads its
    device inputs; or the stream to queue every run's work on, after the
    caller's there (a torch.cuda.Stream, a cupy.cuda.Stream or a handle
    int, e.g. torch.cuda.current_stream()).

    run(output_names, input_feed, run_options=None) -> list of numpy arrays:
    output_names is None (every output, in model order) or a list of names;
    input_feed maps every input name to a numpy array (anything numpy can
    convert is accepted; see coerce_input). The GIL is released while the
    model runs. Several Python threads may call run on one session: the
    runtime serializes runs on a session (so they are safe but not parallel);
    for parallel runs use one Session per thread.
    """

    def __init__(self, path, threads=None, device_io=False, cuda_stream=None):
        if threads is None:
            threads = 0
        elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int or None, not {threads!r}")
        handle = _stream_handle(cuda_stream)
        super().__init__(os.fspath(path), threads, bool(device_io), handle)
        self._cuda_stream = handle
        self._device_io = bool(device_io)
        self._path = os.fspath(path)
        self._inputs = [NodeArg(*t) for t in self._input_info()]
        self._outputs = [NodeArg(*t) for t in self._output_info()]

    def get_inputs(self):
        """The model's inputs, in order: a list of NodeArg."""
        return list(self._inputs)

    def get_outputs(self):
        """The model's outputs, in order: a list of NodeArg."""
        return list(self._outputs)

    def run_device(self, output_buffers, input_feed):
        """A GPU model's run on GPU memory (the session made with
        device_io=True): input_feed maps every input name, and output_buffers
        some output names, to arrays in GPU memory, anything with
        ``__cuda_array_interface__`` (a PyTorch CUDA tensor, a CuPy array, a
        kiln.DeviceArray), C-contiguous, of the model's dtypes. The outputs
        are written into their buffers; nothing crosses the PCIe bus. The GIL
        is released while the model runs. The run follows (on the GPU) the
        work queued on the legacy default stream (a session on its own
        stream), on the session's cuda_stream, and on every stream an
        array's __cuda_array_interface__ (version 3) names."""
        if not self._device_io:
            raise InvalidArgument("run_device needs a session made with device_io=True")
        by_name = {t.name: t for t in self._inputs + self._outputs}
        streams = set()  # the producers' streams (__cuda_array_interface__ v3)

        def describe(kind, name, value):
            if name not in by_name:
                names = ", ".join(t.name for t in (self._inputs if kind == "input"
                                                   else self._outputs))
                raise InvalidArgument(f"unknown {kind} '{name}' (the model's {kind}s are: "
                                      f"{names})")
            interface = getattr(value, "__cuda_array_interface__", None)
            if interface is None:
                raise InvalidArgument(f"{kind} '{name}' is a {type(value).__name__}, not GPU "
                                      f"memory (no __cuda_array_interface__)")
            # Version 3 names the stream its producer queued it on: the run
            # must follow that work.
            if interface.get("stream") is not None:
                streams.add(int(interface["stream"]))
            shape = tuple(int(d) for d in interface["shape"])
            dtype = np.dtype(interface["typestr"])
            if dtype != by_name[name].dtype:
                raise InvalidArgument(f"{kind} '{name}' has dtype {dtype}, but the model's is "
                                      f"{by_name[name].dtype}")
            strides = interface.get("strides")
            if strides is not None and tuple(strides) != _c_strides(shape, dtype.itemsize):
                raise InvalidArgument(f"{kind} '{name}' is not C-contiguous (strides {strides})")
            nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
            return shape, int(interface["data"][0]), nbytes

        inputs = []
        for name, value in input_feed.items():
            shape, address, nbytes = describe("input", name, value)
            inputs.append((name, _kiln_dtype(by_name[name].dtype), list(shape), address, nbytes))
        outputs = []
        for name, value in output_buffers.items():
            _, address, nbytes = describe("output", name, value)
            outputs.append((name, address, nbytes))
        for stream in sorted(streams - {self._cuda_stream}):
            self._wait_stream(stream)  # kiln_session_wait_stream: on the GPU
        self._run_device(inputs, outputs)

    def wait_stream(self, stream):
        """A GPU model's session: its next runs start (on the GPU; this does
        not block) after the work queued on `stream` so far, a
        torch.cuda.Stream, cupy.cuda.Stream or handle: for inputs made on a
        stream the session does not otherwise wait for (PyTorch's arrays do
        not name theirs). kiln_session_wait_stream."""
        self._wait_stream(_stream_handle(stream))

    def __repr__(self):
        return f"kiln.Session({self._path!r}, threads={self.num_threads})"


def _stream_handle(stream):
    """A CUDA stream as the C API takes it (0: the session's own): None, an
    int (a cudaStream_t's value), a torch.cuda.Stream (.cuda_stream) or a
    cupy.cuda.Stream (.ptr)."""
    if stream is None:
        return 0
    handle = stream if isinstance(stream, int) else getattr(
        stream, "cuda_stream", getattr(stream, "ptr", stream))
    if isinstance(handle, bool) or not isinstance(handle, int) or not 0 <= handle < 1 << 64:
        raise ValueError("cuda_stream must be None, a CUDA stream handle (int), a "
                         f"torch.cuda.Stream or a cupy.cuda.Stream, not {stream!r}")
    return handle


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= dim
    return tuple(reversed(strides))


def _kiln_dtype(dtype):
    for code, (_, np_dtype) in _DTYPES.items():
        if np_dtype == dtype and code != 16:
            return code
    raise InvalidArgument(f"dtype {dtype} has no kiln code")


class DeviceArray:
    """GPU memory of a session's device (kiln_session_device_alloc), for
    Session.run_device without PyTorch or CuPy: ``DeviceArray(session,
    shape, dtype)``, filled from a numpy array with ``copy_from(array)``
    and read back with ``numpy()``. It exposes
    ``__cuda_array_interface__``, so other GPU libraries can read it too,
    and is freed with the object (keep the session alive until then)."""

    def __init__(self, session, shape, dtype=np.float32):
        self._session = session
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.nbytes = self.dtype.itemsize * int(np.prod(self.shape, dtype=np.int64))
        self._address = session._device_alloc(self.nbytes)

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "strides": None,
                "data": (self._address, False), "version": 3}

    def copy_from(self, array):
        array = np.ascontiguousarray(array, dtype=self.dtype)
        if array.shape != self.shape:
            raise InvalidArgument(f"copy_from: shape {array.shape}, but the DeviceArray's is "
                                  f"{self.shape}")
        self._session._device_copy(self._address, array.ctypes.data, self.nbytes,
                                   _runtime.COPY_HOST_TO_DEVICE)
        return self

    def numpy(self):
        array = np.empty(self.shape, dtype=self.dtype)
        self._session._device_copy(array.ctypes.data, self._address, self.nbytes,
                                   _runtime.COPY_DEVICE_TO_HOST)
        return array

    def __del__(self):
        address, self._address = getattr(self, "_address", 0), 0
        if address:
            self._session._device_free(address)


def coerce_input(name, value, kiln_dtype):
    """The array kiln_session_run gets for input `name` when `value` is not
    already a C-contiguous, aligned array of the model's dtype (kiln._runtime
    calls this only then): a copy, converted if needed.

    A numpy array (or numpy scalar) of another dtype is converted only if
    numpy's "safe" casting allows it (int32 -> int64, float16 -> float32);
    float64 -> float32 or int64 -> int32 would lose data and raise
    kiln.InvalidArgument naming the input. Other values (lists, Python
    numbers) are converted with the "same_kind" rule, so [0.5, 1.0] feeds a
    float32 input."""
    type_name, dtype = _DTYPES.get(kiln_dtype, (None, None))
    if dtype is None:
        raise InvalidArgument(f"input '{name}' has a dtype numpy cannot hold "
                              f"({_runtime.dtype_name(kiln_dtype)})")
    is_numpy = isinstance(value, (np.ndarray, np.generic))
    try:
        array = value if is_numpy else np.asarray(value)
    except Exception as error:
        raise InvalidArgument(f"input '{name}' cannot be converted to an array: {error}") from None
    if array.dtype == object:
        raise InvalidArgument(f"input '{name}' is a {type(value).__name__} that numpy holds as "
                              f"objects, not numbers; the model expects {dtype} ({type_name})")
    if array.dtype != dtype:
        rule = "safe" if is_numpy else "same_kind"
        if not np.can_cast(array.dtype, dtype, casting=rule):
            raise InvalidArgument(
                f"input '{name}' has dtype {array.dtype}, but the model expects {dtype} "
                f"({type_name}), and {array.dtype} -> {dtype} is not a safe conversion; "
                f"convert it yourself (e.g. x.astype(np.{dtype}))")
    return np.ascontiguousarray(array, dtype=dtype)
