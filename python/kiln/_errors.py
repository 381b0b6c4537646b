"""Kiln's exceptions.

Every error Kiln raises is a :class:`KilnError`. Runtime errors carry the C
API's status code (``code``, e.g. ``"INVALID_ARGUMENT"``) and its one-line
message, which names the input, output or file at fault; each code has its
own class, and the common ones also derive from the matching Python built-in
exception, so ``except ValueError`` and ``except FileNotFoundError`` work.
"""

import builtins


class KilnError(Exception):
    """Base class of every exception Kiln raises."""


class CompileError(KilnError):
    """kiln.compile failed: the message is the compiler's diagnostics, as
    `kiln compile` prints them. Nothing is written to the output path."""


class UnsupportedError(KilnError, NotImplementedError):
    """A feature Kiln, or its Python API, does not have yet (nothing raises
    it today; kept for programs that catch it)."""


class RuntimeError(KilnError, builtins.RuntimeError):
    """An error status from the Kiln runtime (kiln.h)."""

    code = "INTERNAL"

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidArgument(RuntimeError, ValueError):
    """Inputs or outputs that do not match the model: an unknown, missing or
    repeated name, a dtype that cannot be converted safely, a wrong rank or
    shape, symbolic dims that disagree between inputs."""

    code = "INVALID_ARGUMENT"


class NotFound(RuntimeError, FileNotFoundError):
    """The model file does not exist."""

    code = "NOT_FOUND"


class InvalidModel(RuntimeError):
    """The file is not a compiled Kiln model (e.g. an .onnx file)."""

    code = "INVALID_MODEL"


class AbiMismatch(RuntimeError):
    """A model compiled by another Kiln, for another model ABI version."""

    code = "ABI_MISMATCH"


class UnsupportedCpu(RuntimeError):
    """The model uses instructions this CPU lacks; recompile it."""

    code = "UNSUPPORTED_CPU"


class DeviceUnavailable(RuntimeError):
    """A GPU model on a machine without a usable GPU."""

    code = "DEVICE_UNAVAILABLE"


class ResourceExhausted(RuntimeError, MemoryError):
    """Out of memory or threads."""

    code = "RESOURCE_EXHAUSTED"


_BY_CODE = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, InvalidModel, AbiMismatch, UnsupportedCpu,
                DeviceUnavailable, ResourceExhausted)
}


def status_error(code, message):
    """The exception for a runtime status (called by kiln._runtime)."""
    return _BY_CODE.get(code, RuntimeError)(message, code)

# Shown as kiln.InvalidArgument (where users catch them), not kiln._errors.
for _cls in (KilnError, CompileError, UnsupportedError, RuntimeError, *_BY_CODE.values()):
    _cls.__module__ = "kiln"
