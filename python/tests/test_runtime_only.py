"""kiln.Session needs only the runtime module: importing kiln and running a
model loads neither kiln._compiler nor LLVM/MLIR, and the package works with
kiln._compiler removed (a runtime-only install)."""

import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import kiln

RUN_ONLY = textwrap.dedent("""
    import sys, numpy as np, kiln
    session = kiln.Session(sys.argv[1])
    ids = np.ones((1, 5), np.int64)
    out = session.run(None, {"input_ids": ids, "attention_mask": ids,
                             "token_type_ids": np.zeros_like(ids)})
    assert out[0].shape == (1, 5, 128)
    maps = open("/proc/self/maps").read()
    assert "libLLVM" not in maps and "libMLIR" not in maps, "LLVM/MLIR loaded"
    assert "kiln._compiler" not in sys.modules
    if len(sys.argv) > 2:  # no kiln._compiler: kiln.compile says so
        try:
            kiln.compile("m.onnx", "m.so")
        except ImportError as error:
            print("compile:", error)
    print("ran", kiln.__file__)
""")


def run_only(pythonpath, library, *extra):
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    return subprocess.run([sys.executable, "-c", RUN_ONLY, str(library), *extra], env=env,
                          capture_output=True, text=True, check=True).stdout


def test_session_loads_no_compiler(bert):
    package = pathlib.Path(kiln.__file__).parent
    out = run_only(package.parent, bert)
    assert "ran" in out


def test_without_the_compiler_module(bert, tmp_path):
    package = pathlib.Path(kiln.__file__).parent
    copy = tmp_path / "kiln"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("_compiler*", "__pycache__"))
    out = run_only(tmp_path, bert, "no-compiler")
    assert f"ran {copy / '__init__.py'}" in out
    assert "compile: kiln.compile needs the compiler module kiln._compiler" in out
