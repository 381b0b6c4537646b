"""Every error path: the exception class, and a message that names the
culprit (file, input, output, option)."""

import os
import pathlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import kiln
from conftest import ROOT, bert_feeds

BERT_ONNX = ROOT / "test" / "models" / "bert-tiny.dynamo.onnx"


# --- kiln.Session ------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(kiln.NotFound, match="no-such.so") as info:
        kiln.Session(tmp_path / "no-such.so")
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.code == "NOT_FOUND"


def test_onnx_file_given_to_session():
    with pytest.raises(kiln.InvalidModel, match=r"not a shared library.*from Python: kiln\.compile\("):
        kiln.Session(BERT_ONNX)


def test_not_a_library(tmp_path):
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"not an ELF file")
    with pytest.raises(kiln.InvalidModel, match="junk.so"):
        kiln.Session(junk)


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2", True])
def test_bad_threads(bert, threads):
    with pytest.raises(ValueError, match="threads"):
        kiln.Session(bert, threads=threads)


def test_too_many_threads(bert):
    with pytest.raises(kiln.InvalidArgument, match="1024"):
        kiln.Session(bert, threads=5000)


@pytest.fixture(scope="module")
def session(bert):
    return kiln.Session(bert, threads=1)


def test_wrong_input_name(session):
    feeds = bert_feeds()
    feeds["input_idz"] = feeds.pop("input_ids")
    with pytest.raises(kiln.InvalidArgument,
                       match=r"unknown input 'input_idz' \(the model's inputs are: input_ids, "
                             r"attention_mask, token_type_ids\)"):
        session.run(None, feeds)


def test_missing_input(session):
    feeds = bert_feeds()
    del feeds["attention_mask"]
    with pytest.raises(kiln.InvalidArgument, match="missing input 'attention_mask'"):
        session.run(None, feeds)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint64, np.complex64])
def test_wrong_dtype(session, dtype):
    feeds = bert_feeds()
    feeds["token_type_ids"] = feeds["token_type_ids"].astype(dtype)
    with pytest.raises(kiln.InvalidArgument,
                       match=rf"input 'token_type_ids' has dtype {np.dtype(dtype)}, but the model "
                             r"expects int64 \(tensor\(int64\)\).*not a safe conversion"):
        session.run(None, feeds)


def test_unconvertible_value(session):
    feeds = bert_feeds()
    feeds["input_ids"] = "hello"
    with pytest.raises(kiln.InvalidArgument, match="input 'input_ids' has dtype <U5"):
        session.run(None, feeds)
    feeds["input_ids"] = [[1, 2], [3]]  # ragged
    with pytest.raises(kiln.InvalidArgument, match="input 'input_ids' cannot be converted"):
        session.run(None, feeds)
    feeds["input_ids"] = [[1, None]]
    with pytest.raises(kiln.InvalidArgument, match="input 'input_ids' is a list that numpy holds as objects"):
        session.run(None, feeds)


def test_wrong_rank(session):
    feeds = bert_feeds()
    feeds["input_ids"] = feeds["input_ids"][0]
    with pytest.raises(kiln.InvalidArgument,
                       match="input 'input_ids' has rank 1, but the model expects rank 2"):
        session.run(None, feeds)


def test_symbolic_dims_disagree(session):
    feeds = bert_feeds(seq=8)
    feeds["attention_mask"] = bert_feeds(seq=9)["attention_mask"]
    with pytest.raises(kiln.InvalidArgument, match="symbolic dim 'sequence' is 8 in input "
                                                   "'input_ids'.* but 9 in input 'attention_mask'"):
        session.run(None, feeds)


def test_wrong_static_dim(vit):
    session = kiln.Session(vit)
    (pixels,) = session.get_inputs()
    shape = [2] + [d + 1 if i == 1 else d for i, d in enumerate(pixels.shape[1:], 1)]
    with pytest.raises(kiln.InvalidArgument,
                       match=rf"input '{pixels.name}' has shape .*dim 1 must be {pixels.shape[1]}"):
        session.run(None, {pixels.name: np.zeros(shape, np.float32)})


def test_bad_output_names(session):
    feeds = bert_feeds()
    with pytest.raises(kiln.InvalidArgument,
                       match=r"unknown output 'logits' \(the model's outputs are: "
                             r"last_hidden_state, pooler_output\)"):
        session.run(["logits"], feeds)
    with pytest.raises(kiln.InvalidArgument, match="pooler_output"):
        session.run(["pooler_output", "pooler_output"], feeds)
    with pytest.raises(TypeError, match="not a str"):
        session.run("pooler_output", feeds)
    with pytest.raises(TypeError, match="output names must be str"):
        session.run([0], feeds)


def test_bad_feeds(session):
    with pytest.raises(TypeError, match="input_feed must be a dict"):
        session.run(None, list(bert_feeds().items()))
    with pytest.raises(TypeError, match="input names must be str"):
        session.run(None, {0: np.zeros((1, 8), np.int64)})
    with pytest.raises(TypeError, match="run_options"):
        session.run(None, bert_feeds(), object())


def test_run_time_check_in_the_model(session):
    """An index out of the embedding table: the model's own check, through
    the status, with the ONNX node's name."""
    feeds = bert_feeds()
    feeds["input_ids"][0, 0] = 10**6
    with pytest.raises(kiln.InvalidArgument, match=r"\(Gather\): indices element out of data bounds"):
        session.run(None, feeds)


def test_session_still_works_after_errors(session):
    feeds = bert_feeds()
    with pytest.raises(kiln.InvalidArgument):
        session.run(None, {})
    assert session.run(None, feeds)[0].shape == (1, 8, 128)


# --- kiln.compile --------------------------------------------------------------

def test_compile_missing_model(tmp_path):
    out = tmp_path / "m.so"
    with pytest.raises(kiln.CompileError, match="does-not-exist.onnx"):
        kiln.compile(tmp_path / "does-not-exist.onnx", out)
    assert not out.exists()


def unsupported_op_model(path):  # Unique: an op the importer does not know
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [])
    node = helper.make_node("Unique", ["x"], ["y"], name="the_unique")
    graph = helper.make_graph([node], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_compile_unsupported_op(tmp_path):
    model, out = tmp_path / "unique.onnx", tmp_path / "unique.so"
    unsupported_op_model(model)
    with pytest.raises(kiln.CompileError) as info:
        kiln.compile(model, out)
    message = str(info.value)
    assert message.startswith(f"failed to compile '{model}':\nerror: ")
    assert "unsupported ONNX op type(s): Unique (1 node: 'the_unique')" in message
    assert not out.exists() and os.listdir(tmp_path) == ["unique.onnx"]


def test_compile_output_folder_missing(tmp_path):
    with pytest.raises(kiln.CompileError, match="the folder '.*no-such-dir' does not exist"):
        kiln.compile(BERT_ONNX, tmp_path / "no-such-dir" / "m.so")


@pytest.mark.parametrize("kwargs, message", [
    ({"mcpu": "foo"}, "--mcpu=foo is not a CPU LLVM knows"),
    ({"mattr": "avx2"}, "'avx2' needs a sign"),
    ({"opt_level": 7}, "opt_level must be 0, 1, 2 or 3"),
    ({"opt_level": "2"}, "opt_level must be an int"),
    ({"target": "tpu"}, "tpu"),
    ({"input_shapes": "input_ids=1xq"}, "input_ids"),
    ({"input_shapes": {"input_ids": ["a"]}}, r"input_shapes\['input_ids'\] must be a list of ints"),
    ({"input_shapes": [1, 2]}, "input_shapes must be None, a dict"),
    ({"input_shapes": {"nope": [1, 8]}}, "nope"),
    ({"dims": {"batsh": 1}}, "--dim names 'batsh', which no input's dims are called"),
    ({"dims": {"batch": "1"}}, r"dims\['batch'\] must be an int"),
    ({"dims": "batch=-1"}, "bad --dim entry 'batch=-1'"),
    ({"dims": {"batch": 1}, "input_shapes": {"input_ids": [2, 8]}},
     "dim 'batch' is 1 by --dim but 2 by --input-shape input_ids"),
])
def test_compile_bad_options(tmp_path, kwargs, message):
    out = tmp_path / "m.so"
    with pytest.raises(kiln.CompileError, match=message):
        kiln.compile(BERT_ONNX, out, **kwargs)
    assert not out.exists()


GPU_SHAPES = "input_ids=2x16,attention_mask=2x16,token_type_ids=2x16"


@pytest.mark.parametrize("kwargs, message", [
    ({"precision": "fp16"}, "--precision applies to --target cuda only"),
    ({"target": "cuda", "precision": "fp16"}, "--precision fp16 needs --gpu-gemm=cublas"),
    ({"target": "cuda", "gpu_gemm": "cublas", "precision": "fp8"},
     "--precision must be fp32, tf32, fp16 or bf16, not 'fp8'"),
    ({"target": "cuda", "gpu_gemm": "cuBLAS"}, "--gpu-gemm must be kernels or cublas"),
    ({"gpu_gemm": "cublas"}, "--gpu-gemm applies to --target cuda only"),
    ({"target": "cuda", "gpu_gemm": "cublas", "gpu_storage": "half"},
     "--gpu-storage applies to --precision fp16 or bf16 only"),
    ({"target": "cuda", "gpu_gemm": "cublas", "precision": "fp16", "gpu_storage": "f8"},
     "--gpu-storage must be half or fp32"),
    ({"target": "cuda", "gpu_gemm": "cublas", "gpu_attention": "fused"},
     "--gpu-attention=fused needs --precision fp16 or bf16"),
    ({"target": "cuda", "gpu_gemm": "cublas", "precision": "fp16", "gpu_attention": "flash"},
     "--gpu-attention must be fused or gemms"),
    ({"target": "cuda", "gpu_gemm": "cublas", "gpu_gelu": "tanh"},
     "--gpu-gelu=tanh needs --precision fp16 or bf16"),
    ({"target": "cuda", "gpu_gemm": "cublas", "precision": "fp16", "gpu_gelu": "fast"},
     "--gpu-gelu must be erf or tanh"),
    ({"target": "cuda", "gpu_contiguous_batches": 0},
     "--gpu-contiguous-batches applies to --gpu-gemm=cublas only"),
    ({"target": "cuda", "gpu_gemm": "cublas", "gpu_contiguous_batches": -1},
     "gpu_contiguous_batches must be None or a count of calls >= 0"),
    ({"gpu_elements_per_thread": 4}, "--gpu-elements-per-thread applies to --target cuda only"),
    ({"target": "cuda", "gpu_elements_per_thread": 17},
     "--gpu-elements-per-thread must be a count from 1 to 16, not 17"),
    ({"target": "cuda", "gpu_elements_per_thread": 2.0},
     "gpu_elements_per_thread must be None or a count from 1 to 16"),
    ({"gpu_emulation": True}, "--gpu-emulation applies to --target cuda only"),
    ({"gpu_emulation": 1}, "gpu_emulation must be True or False"),
    ({"precision": 16}, "precision must be None or a str such as 'fp16'"),
])
def test_compile_bad_gpu_options(tmp_path, kwargs, message):
    kwargs.setdefault("input_shapes", GPU_SHAPES)
    out = tmp_path / "m.so"
    with pytest.raises(kiln.CompileError, match=message):
        kiln.compile(BERT_ONNX, out, **kwargs)
    assert not out.exists()


def calibration_sets(folder, count=3, seq=12):
    """`count` input sets for BERT-tiny in the layout of docs/datasets.md."""
    rng = np.random.default_rng(1)
    for i in range(count):
        d = folder / f"set{i}"
        d.mkdir(parents=True)
        np.save(d / "input_ids.npy", rng.integers(0, 100, (1, seq)))
        np.save(d / "attention_mask.npy", np.ones((1, seq), np.int64))
        np.save(d / "token_type_ids.npy", np.zeros((1, seq), np.int64))
    return folder


@pytest.mark.parametrize("kwargs, message", [
    ({"quantize": "int8-static"}, "--quantize int8-static needs --calibration-data DIR"),
    ({"quantize": "int8", "calibration_data": "x"}, "go with --quantize int8-static"),
    ({"quantize": "int8-static", "calibration_data": "x", "calibration_method": "median"},
     "minmax, percentile or entropy"),
    ({"quantize": "int8-static", "calibration_data": "x", "calibration_method": 3},
     "calibration_method must be None"),
    ({"quantize": "int8-static", "calibration_data": "x", "calibration_percentile": 99.9},
     "--calibration-percentile goes with --calibration-method percentile"),
    ({"quantize": "int8-static", "calibration_data": "x", "calibration_method": "percentile",
      "calibration_percentile": 40}, r"must be in \(50, 100\]"),
    ({"quantize": "int8-static", "calibration_data": "no-such-folder"}, "no-such-folder"),
])
def test_compile_calibration_bad_options(tmp_path, kwargs, message):
    with pytest.raises(kiln.CompileError, match=message):
        kiln.compile(BERT_ONNX, tmp_path / "m.so", **kwargs)
    assert not (tmp_path / "m.so").exists()


def test_compile_calibration_bad_set(tmp_path):
    """A set without one of the model's inputs is named in the error."""
    sets = calibration_sets(tmp_path / "sets")
    (sets / "set1" / "token_type_ids.npy").unlink()
    with pytest.raises(kiln.CompileError, match="set1.*token_type_ids"):
        kiln.compile(BERT_ONNX, tmp_path / "m.so", quantize="int8-static", calibration_data=sets)
    assert not (tmp_path / "m.so").exists()


def test_compile_quantize_int8_static(tmp_path):
    """quantize="int8-static" calibrates on the sets as `kiln compile` does
    and makes a library close to fp32 (random-weight BERT-tiny; trained
    models: tools/minilm_accuracy.py --kiln-int8-static)."""
    sets = calibration_sets(tmp_path / "sets")
    fp32 = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "fp32.so"))
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(0, 100, (1, 12)), "attention_mask": np.ones((1, 12), np.int64),
             "token_type_ids": np.zeros((1, 12), np.int64)}
    want = fp32.run(None, feeds)[0].ravel()
    for method in ("minmax", "percentile", "entropy"):
        lib = kiln.compile(BERT_ONNX, tmp_path / f"{method}.so", quantize="int8-static",
                           calibration_data=sets, calibration_method=method,
                           quantize_exclude="Gemm")
        got = kiln.Session(lib).run(None, feeds)[0].ravel()
        cosine = float(want @ got / (np.linalg.norm(want) * np.linalg.norm(got)))
        assert 0.97 < cosine < 1.0, method


@pytest.mark.parametrize("kwargs, message", [
    ({"quantize": "int4"}, "--quantize must be none, int8, int8-static or bf16, not 'int4'"),
    ({"quantize": "bf16", "opt_level": 0}, "needs -O1 or higher"),
    ({"quantize": "int8", "opt_level": 0}, "needs -O1 or higher"),
    ({"quantize_exclude": ["Gemm"]}, "--quantize-exclude needs --quantize int8 or bf16"),
])
def test_compile_quantize_bad_options(tmp_path, kwargs, message):
    with pytest.raises(kiln.CompileError, match=message):
        kiln.compile(BERT_ONNX, tmp_path / "m.so", **kwargs)
    assert not (tmp_path / "m.so").exists()


def test_compile_quantize_int8(tmp_path):
    """quantize="int8" makes a library whose outputs stay close to fp32's
    (random-weight BERT-tiny; trained models: tools/minilm_accuracy.py)."""
    fp32 = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "fp32.so"))
    int8 = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "int8.so", quantize="int8",
                                     quantize_exclude="Gemm"))
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(0, 100, (1, 12)), "attention_mask": np.ones((1, 12), np.int64),
             "token_type_ids": np.zeros((1, 12), np.int64)}
    want, got = fp32.run(None, feeds)[0].ravel(), int8.run(None, feeds)[0].ravel()
    cosine = float(want @ got / (np.linalg.norm(want) * np.linalg.norm(got)))
    assert 0.99 < cosine < 1.0


def test_compile_quantize_bf16(tmp_path):
    """quantize="bf16" makes a library whose outputs stay close to fp32's
    (random-weight BERT-tiny; exact arithmetic: tools/check_quantization.py
    --bf16)."""
    fp32 = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "fp32.so"))
    bf16 = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "bf16.so", quantize="bf16"))
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(0, 100, (1, 12)), "attention_mask": np.ones((1, 12), np.int64),
             "token_type_ids": np.zeros((1, 12), np.int64)}
    want, got = fp32.run(None, feeds)[0].ravel(), bf16.run(None, feeds)[0].ravel()
    cosine = float(want @ got / (np.linalg.norm(want) * np.linalg.norm(got)))
    assert 0.999 < cosine < 1.0


def test_compile_options_that_work(tmp_path):
    """input_shapes as a dict and as the CLI's text, mcpu, opt_level: the
    library is made, and fixes the dims it was given."""
    out = kiln.compile(BERT_ONNX, tmp_path / "static.so", opt_level=1, mcpu="x86-64-v3",
                       input_shapes={"input_ids": [1, 8], "attention_mask": (1, 8),
                                     "token_type_ids": [1, 8]})
    session = kiln.Session(out)
    assert [i.shape for i in session.get_inputs()] == [[1, 8]] * 3
    assert session.run(None, bert_feeds())[0].shape == (1, 8, 128)
    with pytest.raises(kiln.InvalidArgument, match="dim 1 must be 8"):
        session.run(None, bert_feeds(seq=9))
    text = kiln.compile(BERT_ONNX, pathlib.Path(tmp_path, "text.so"),
                        input_shapes="input_ids=1x8,attention_mask=1x8,token_type_ids=1x8")
    assert [i.shape for i in kiln.Session(text).get_inputs()] == [[1, 8]] * 3
    # One input's shape sizes the same-named dims of the others; dims= names them.
    shared = kiln.compile(BERT_ONNX, tmp_path / "shared.so", input_shapes={"input_ids": [1, 8]})
    assert [i.shape for i in kiln.Session(shared).get_inputs()] == [[1, 8]] * 3
    named = kiln.compile(BERT_ONNX, tmp_path / "named.so", dims={"batch": 2})
    assert [i.shape for i in kiln.Session(named).get_inputs()] == [[2, "sequence"]] * 3


@pytest.mark.parametrize("kwargs, message", [
    ({"prune": "0.8"}, "--prune '0.8' has 1 field"),
    ({"prune": "0.8:block1x4:everywhere"}, "has scope 'everywhere'"),
    ({"prune": "4:4"}, "is not N:M with 1 <= N < M <= 64"),
    ({"prune_exclude": ["Gemm"]}, "--prune-exclude needs --prune"),
    ({"prune": "heads=1"}, "has heads='1', not a fraction in"),
])
def test_compile_prune_bad_options(tmp_path, kwargs, message):
    with pytest.raises(kiln.CompileError, match=message):
        kiln.compile(BERT_ONNX, tmp_path / "m.so", **kwargs)
    assert not (tmp_path / "m.so").exists()


def test_compile_prune(tmp_path):
    """prune= gives the outputs of the model pruned by tools/prune_onnx.py
    (the numpy twin; every pattern: tools/check_pruning.py)."""
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import prune_onnx
    model = onnx.load(BERT_ONNX)
    pruned = prune_onnx.prune_model(model, prune_onnx.parse_spec("0.8:block1x4:global"), ["Gemm"])
    assert pruned
    onnx.save(model, tmp_path / "pruned.onnx")
    in_kiln = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "k.so", prune="0.8:block1x4:global",
                                        prune_exclude="Gemm"))
    in_numpy = kiln.Session(kiln.compile(tmp_path / "pruned.onnx", tmp_path / "n.so"))
    dense = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "d.so"))
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(0, 100, (1, 12)), "attention_mask": np.ones((1, 12), np.int64),
             "token_type_ids": np.zeros((1, 12), np.int64)}
    got, want = in_kiln.run(None, feeds)[0], in_numpy.run(None, feeds)[0]
    assert np.abs(got - want).max() <= 1e-4
    assert np.abs(got - dense.run(None, feeds)[0]).max() > 1e-3


def test_compile_prune_structured(tmp_path):
    """prune="heads=..,ffn=.." removes units (weight magnitude from Python):
    the same output shapes, other values (tools/check_structured_pruning.py
    checks them against the numpy twin)."""
    pruned = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "s.so", prune="heads=0.5,ffn=0.5"))
    dense = kiln.Session(kiln.compile(BERT_ONNX, tmp_path / "d.so"))
    feeds = {"input_ids": np.arange(1, 13).reshape(1, 12), "attention_mask": np.ones((1, 12), np.int64),
             "token_type_ids": np.zeros((1, 12), np.int64)}
    got, want = pruned.run(None, feeds)[0], dense.run(None, feeds)[0]
    assert got.shape == want.shape
    assert np.abs(got - want).max() > 1e-3
