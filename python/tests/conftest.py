"""Shared fixtures for the kiln Python tests (ctest `python`).

The package under test is the one the build made (<build>/python, put on
PYTHONPATH by the ctest) or, run by hand without KILN_BUILD_DIR, whatever
`import kiln` finds (e.g. a `pip install .`).
"""

import os
import pathlib
import sys

import numpy as np
import onnx
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "test" / "models").glob("*.onnx"))

sys.path.insert(0, str(ROOT / "tools"))
from check_numerics import make_inputs  # noqa: E402  (inputs as a tokenizer would give them)

import kiln  # noqa: E402

if os.environ.get("KILN_BUILD_DIR"):
    expected = pathlib.Path(os.environ["KILN_BUILD_DIR"]).resolve() / "python" / "kiln"
    found = pathlib.Path(kiln.__file__).resolve().parent
    if found != expected:
        raise RuntimeError(f"testing the kiln package at {found}, not the build's {expected}")


@pytest.fixture(scope="session")
def compiled(tmp_path_factory):
    """compiled(model_path) -> path of its library, compiled once per run
    with symbolic dims kept."""
    folder = tmp_path_factory.mktemp("compiled")
    cache = {}

    def get(model):
        model = pathlib.Path(model)
        if model not in cache:
            cache[model] = kiln.compile(model, folder / (model.stem + ".so"))
        return cache[model]

    return get


@pytest.fixture(scope="session")
def bert(compiled):
    return compiled(ROOT / "test" / "models" / "bert-tiny.dynamo.onnx")


@pytest.fixture(scope="session")
def vit(compiled):
    return compiled(ROOT / "test" / "models" / "vit-tiny.dynamo.onnx")


def feeds_for(model_path, batch=1, seq=8, seed=0):
    return make_inputs(onnx.load(str(model_path), load_external_data=False), batch, seq, seed)


def bert_feeds(batch=1, seq=8, seed=0):
    return feeds_for(ROOT / "test" / "models" / "bert-tiny.dynamo.onnx", batch, seq, seed)


def assert_close(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == e.shape and a.dtype == e.dtype
        np.testing.assert_allclose(a, e, atol=1e-4, rtol=1e-4)


def pytest_sessionfinish(session, exitstatus):
    """Under ctest (KILN_BUILD_DIR set) a skipped test fails the run: every
    test here must run on CI."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("KILN_BUILD_DIR") and reporter and reporter.stats.get("skipped"):
        reporter.write_line("error: tests were skipped; under ctest every test must run", red=True)
        session.exitstatus = 1
