"""Every committed model, compiled by kiln.compile and run by kiln.Session,
matches onnxruntime (atol = rtol = 1e-4), like tools/check_numerics.py does
through the CLI."""

import onnxruntime as ort
import pytest

import kiln
from conftest import MODELS, ROOT, assert_close, bert_feeds, feeds_for


@pytest.mark.parametrize("model", MODELS, ids=[m.stem for m in MODELS])
def test_matches_onnxruntime(model, compiled):
    session = kiln.Session(compiled(model), threads=2)
    reference = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    for batch, seq in [(1, 8), (2, 5)]:
        feeds = feeds_for(model, batch, seq, seed=seq)
        assert_close(session.run(None, feeds), reference.run(None, feeds))


def test_output_subset_and_order(bert):
    session = kiln.Session(bert)
    feeds = bert_feeds()
    everything = session.run(None, feeds)
    (pooled,) = session.run(["pooler_output"], feeds)
    assert_close([pooled], [everything[1]])
    swapped = session.run(["pooler_output", "last_hidden_state"], feeds)
    assert_close(swapped, everything[::-1])
    assert session.run([], feeds) == []


def test_outputs_are_owned_writable_arrays(bert):
    session = kiln.Session(bert)
    out = session.run(None, bert_feeds())[0]
    assert out.flags.c_contiguous and out.flags.writeable
    out[...] = 0  # the buffer is the caller's, not the session's
    again = session.run(None, bert_feeds())[0]
    assert abs(again).max() > 0


def test_inputs_converted_when_safe(bert):
    """int32 ids (safely widened), non-contiguous and read-only arrays, and
    Python lists give the same outputs as the exact int64 arrays."""
    session = kiln.Session(bert)
    feeds = bert_feeds(batch=2, seq=6)
    expected = session.run(None, feeds)
    widened = {k: v.astype("int32") for k, v in feeds.items()}
    assert_close(session.run(None, widened), expected)
    strided = {k: v.T.copy().T for k, v in feeds.items()}  # Fortran order
    assert not strided["input_ids"].flags.c_contiguous
    assert_close(session.run(None, strided), expected)
    for v in feeds.values():
        v.flags.writeable = False
    assert_close(session.run(None, feeds), expected)
    lists = {k: v.tolist() for k, v in feeds.items()}
    assert_close(session.run(None, lists), expected)


def test_float_model_takes_lists_and_float16(vit):
    session = kiln.Session(vit)
    feeds = feeds_for(ROOT / "test/models/vit-tiny.dynamo.onnx", 1, 8)
    (name, value), = feeds.items()
    half = value.astype("float16")
    exact = session.run(None, {name: half.astype("float32")})
    assert_close(session.run(None, {name: half}), exact)
    assert_close(session.run(None, {name: value.tolist()}), session.run(None, feeds))


def test_zero_copy_only_when_possible(bert, monkeypatch):
    """Exact arrays go to the runtime as they are; only the others pass
    through kiln._session.coerce_input (which copies)."""
    import kiln._session
    converted = []
    original = kiln._session.coerce_input

    def counting(name, value, dtype):
        converted.append(name)
        return original(name, value, dtype)

    monkeypatch.setattr(kiln._session, "coerce_input", counting)
    session = kiln.Session(bert)
    feeds = bert_feeds()
    session.run(None, feeds)
    assert converted == []
    feeds["attention_mask"] = feeds["attention_mask"].astype("int32")
    feeds["token_type_ids"] = feeds["token_type_ids"][:, ::-1]  # a strided view
    session.run(None, feeds)
    assert sorted(converted) == ["attention_mask", "token_type_ids"]
