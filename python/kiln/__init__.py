"""Kiln for Python: compile ONNX Transformer models ahead of time and run them.

    import kiln
    kiln.compile("model.onnx", "model.so")
    session = kiln.Session("model.so")
    outputs = session.run(None, {"input_ids": ids, "attention_mask": mask})

kiln.Session uses only the runtime extension (kiln._runtime: the Kiln runtime,
no LLVM); kiln.compile loads the compiler extension (kiln._compiler, which
links LLVM and MLIR) on first use. See docs/python.md.
"""

from ._errors import (AbiMismatch, CompileError, DeviceUnavailable, InvalidArgument,
                      InvalidModel, KilnError, NotFound, ResourceExhausted, RuntimeError,
                      UnsupportedCpu, UnsupportedError)
from ._runtime import runtime_version
from ._session import DeviceArray, NodeArg, Session
from ._compile import compile

__version__ = "0.1.0"

__all__ = [
    "compile", "Session", "NodeArg", "DeviceArray", "runtime_version",
    "KilnError", "CompileError", "UnsupportedError", "RuntimeError", "InvalidArgument",
    "NotFound", "InvalidModel", "AbiMismatch", "UnsupportedCpu", "DeviceUnavailable",
    "ResourceExhausted",
]
