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

    Session(path, threads=None): threads is the number of threads that work
    on one run, counting the caller's; None uses every core.

    run(output_names, input_feed, run_options=None) -> list of numpy arrays:
    output_names is None (every output, in model order) or a list of names;
    input_feed maps every input name to a numpy array (anything numpy can
    convert is accepted; see coerce_input). The GIL is released while the
    model runs. Several Python threads may call run on one session: the
    runtime serializes runs on a session (so they are safe but not parallel);
    for parallel runs use one Session per thread.
    """

    def __init__(self, path, threads=None):
        if threads is None:
            threads = 0
        elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int or None, not {threads!r}")
        super().__init__(os.fspath(path), threads)
        self._path = os.fspath(path)
        self._inputs = [NodeArg(*t) for t in self._input_info()]
        self._outputs = [NodeArg(*t) for t in self._output_info()]

    def get_inputs(self):
        """The model's inputs, in order: a list of NodeArg."""
        return list(self._inputs)

    def get_outputs(self):
        """The model's outputs, in order: a list of NodeArg."""
        return list(self._outputs)

    def __repr__(self):
        return f"kiln.Session({self._path!r}, threads={self.num_threads})"


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
