"""get_inputs()/get_outputs() against onnxruntime's, and the other
attributes of kiln.Session."""

import numpy as np
import onnxruntime as ort
import pytest

import kiln
from conftest import MODELS


@pytest.mark.parametrize("model", MODELS, ids=[m.stem for m in MODELS])
def test_like_onnxruntime(model, compiled):
    session = kiln.Session(compiled(model))
    reference = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    for mine, theirs in [(session.get_inputs(), reference.get_inputs()),
                         (session.get_outputs(), reference.get_outputs())]:
        assert [a.name for a in mine] == [b.name for b in theirs]
        for a, b in zip(mine, theirs):
            assert a.type == b.type
            assert isinstance(a.dtype, np.dtype)
            assert len(a.shape) == len(b.shape)
            for mine_dim, their_dim in zip(a.shape, b.shape):
                if isinstance(their_dim, int):
                    assert mine_dim == their_dim
                else:  # symbolic in the model: a name, or None when unnamed
                    assert mine_dim is None or isinstance(mine_dim, str)


def test_bert_metadata(bert):
    session = kiln.Session(bert, threads=3)
    inputs = session.get_inputs()
    assert [(i.name, i.shape, i.type, i.dtype) for i in inputs] == [
        (name, ["batch", "sequence"], "tensor(int64)", np.dtype(np.int64))
        for name in ["input_ids", "attention_mask", "token_type_ids"]]
    outputs = session.get_outputs()
    assert [o.name for o in outputs] == ["last_hidden_state", "pooler_output"]
    assert outputs[0].shape[-1] == 128 and outputs[0].type == "tensor(float)"
    assert outputs[0].dtype == np.float32
    assert session.num_threads == 3
    assert session.producer.startswith("kiln ")
    assert "NodeArg(name='input_ids'" in repr(inputs[0])
    assert "bert-tiny" in repr(session)
    inputs.clear()  # a copy: the session's list is unchanged
    assert len(session.get_inputs()) == 3


def test_static_dims_and_float_input(vit):
    (pixels,) = kiln.Session(vit).get_inputs()
    assert pixels.type == "tensor(float)" and pixels.dtype == np.float32
    assert isinstance(pixels.shape[0], str) and all(isinstance(d, int) for d in pixels.shape[1:])


def test_module_attributes():
    assert kiln.runtime_version.count(".") == 2
    assert kiln.__version__
    assert issubclass(kiln.InvalidArgument, ValueError)
    assert issubclass(kiln.NotFound, FileNotFoundError)
    assert issubclass(kiln.RuntimeError, kiln.KilnError)
    assert kiln.InvalidArgument.__module__ == "kiln"
