#!/usr/bin/env python3
"""Kiln vs ONNX Runtime on the same model and inputs.

For each model: `kiln compile` it once (symbolic dims kept; with --static once
per sequence length, every input shape fixed), then for each
sequence length make inputs (fixed seed), run onnxruntime and `kiln-run` on
them, and compare every output with atol = rtol = 1e-4 (fp32).

With --float16 each model is first made float16 (tools/float16_model.py:
its float32 inputs, outputs, weights and constants) and compared with
onnxruntime's run of that float16 model (no graph optimisations: its fusions
fail to load the dynamo exports made float16), or, where onnxruntime cannot
load it (GPT-2's torchscript export: its inserted casts do not type-check),
of the float32 model only. Both compute in f32 and round the outputs to
float16: they must agree within atol = rtol = 4e-3 (a few ulps), and Kiln's
mean error against onnxruntime's float32 model on the same (rounded) inputs
must be at most ACCURACY_SLACK times onnxruntime's float16 run's. Computed
in float16 (before Kiln widened such models) it was about twice as large.
Without the float16 run, within FLOAT32_TOLERANCE (relative to 1 + |x|)
of the float32 model.

With --convert-opset N each model is first converted down to opset N
(7..12) by onnx.version_converter into the temporary folder, and both Kiln
(which converts it back up to 13 itself) and onnxruntime run the converted file.

Exits non-zero if any output differs, printing the worst element.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort

from float16_model import float16_model  # tools/, beside this

ROOT = pathlib.Path(__file__).resolve().parent.parent
# --float16: Kiln's mean error against the float32 model may exceed
# onnxruntime's float16 run's by this factor (their f32 arithmetic differs:
# GEMM order, exp and erf); without that run, the float32 model's outputs
# are matched within this tolerance relative to 1 + |x|.
ACCURACY_SLACK, FLOAT32_TOLERANCE = 1.25, 4e-3


def make_inputs(model: onnx.ModelProto, batch: int, seq: int, seed: int) -> dict:
    """Random inputs the way a tokenizer would give them: ids below the
    smallest embedding table, a mask of ones with padding at the end of the
    second half of the batch, token types 0; images uniform in [-1, 1)."""
    rng = np.random.default_rng(seed)
    vocab = min((init.dims[0] for init in model.graph.initializer if len(init.dims) == 2),
                default=100)
    initializers = {init.name for init in model.graph.initializer}
    feeds = {}
    for info in model.graph.input:
        if info.name in initializers:
            continue
        dims = []
        for i, d in enumerate(info.type.tensor_type.shape.dim):
            if d.HasField("dim_value"):
                dims.append(d.dim_value)
            else:
                dims.append(batch if i == 0 else seq)
        elem = info.type.tensor_type.elem_type
        if elem in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
            feeds[info.name] = rng.uniform(-1, 1, dims).astype(
                np.float16 if elem == onnx.TensorProto.FLOAT16 else np.float32)
        elif "mask" in info.name:
            mask = np.ones(dims, dtype=np.int64)
            if len(dims) == 2 and dims[1] > 2:
                mask[dims[0] // 2:, -2:] = 0  # some padding
            feeds[info.name] = mask
        elif "type" in info.name:
            feeds[info.name] = np.zeros(dims, dtype=np.int64)
        else:
            feeds[info.name] = rng.integers(0, min(vocab, 100), dims).astype(np.int64)
    return feeds


# Down-conversion for --convert-opset. onnx.version_converter has adapters
# for the ops whose meaning changed (below), but none for the many ops whose
# newer versions only accept more types (bfloat16, integer exponents) or gained
# an attribute that is absent here, so it refuses models that use them. Those
# nodes are hidden from it in a private domain and put back unchanged.
CONVERTER_ADAPTS = {"Softmax", "LogSoftmax", "Squeeze", "Unsqueeze", "Split", "ReduceSum"}
SAME_MEANING_SINCE = {
    14: {"Add", "Sub", "Mul", "Div", "Relu", "Reshape"},  # Reshape: allowzero = 0
    13: {"Add", "Sub", "Mul", "Div", "Cast", "Concat", "Constant", "Equal", "Erf",
         "Expand", "Flatten", "Gather", "Gemm", "Greater", "Less", "MatMul", "Pow", "ReduceMean", "Reshape",
         "Shape", "Slice", "Sqrt", "Tanh", "Transpose"},
    12: {"Pow", "Constant"},  # Constant: only with a `value` attribute
}
HIDDEN_DOMAIN = "kiln.test.unchanged"


def bypass_identities(graph: onnx.GraphProto) -> None:
    """Removes Identity nodes (onnx.version_converter cannot take them below
    opset 14); their consumers read the Identity's input instead."""
    outputs = {o.name for o in graph.output}
    source = {n.output[0]: n.input[0] for n in graph.node
              if n.op_type == "Identity" and n.output[0] not in outputs}

    def resolve(name):
        while name in source:
            name = source[name]
        return name
    kept = [n for n in graph.node if not (n.op_type == "Identity" and n.output[0] in source)]
    for node in kept:
        for i, name in enumerate(node.input):
            node.input[i] = resolve(name)
    del graph.node[:]
    graph.node.extend(kept)


def replace_or_equal(graph: onnx.GraphProto) -> None:
    """LessOrEqual and GreaterOrEqual (new in opset 12) as Not(Greater) and
    Not(Less): the same on the integer masks these models compare."""
    nodes = []
    for node in graph.node:
        if node.op_type in ("LessOrEqual", "GreaterOrEqual"):
            strict = "Greater" if node.op_type == "LessOrEqual" else "Less"
            nodes.append(onnx.helper.make_node(strict, list(node.input), [node.output[0] + "_strict"],
                                               name=node.name + "_strict"))
            nodes.append(onnx.helper.make_node("Not", [node.output[0] + "_strict"],
                                               list(node.output), name=node.name))
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)


def convert_down(model_path: pathlib.Path, opset: int, tmp: pathlib.Path) -> pathlib.Path:
    """The model converted to `opset` by onnx.version_converter, saved in tmp."""
    model = onnx.load(str(model_path))
    version = next(e.version for e in model.opset_import if e.domain in ("", "ai.onnx"))
    bypass_identities(model.graph)
    if opset < 12:
        replace_or_equal(model.graph)
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type in CONVERTER_ADAPTS:
            continue
        changed = [v for v in range(opset + 1, version + 1)
                   if onnx.defs.get_schema(node.op_type, v).since_version == v]
        if not changed:
            continue
        unknown = [v for v in changed if node.op_type not in SAME_MEANING_SINCE.get(v, ())]
        attributes = {a.name: a for a in node.attribute}
        if (unknown or (node.op_type == "Reshape" and attributes.get("allowzero", onnx.AttributeProto()).i)
                or (node.op_type == "Constant" and set(attributes) != {"value"})):
            raise RuntimeError(f"{model_path.name}: cannot convert {node.op_type} node "
                               f"'{node.name}' from opset {version} to {opset}")
        if "allowzero" in attributes:
            node.attribute.remove(attributes["allowzero"])
        node.domain = HIDDEN_DOMAIN
    model.opset_import.append(onnx.helper.make_opsetid(HIDDEN_DOMAIN, 1))
    converted = onnx.version_converter.convert_version(model, opset)
    for node in converted.graph.node:
        if node.domain == HIDDEN_DOMAIN:
            node.domain = ""
    imports = [e for e in converted.opset_import if e.domain != HIDDEN_DOMAIN]
    del converted.opset_import[:]
    converted.opset_import.extend(imports)
    onnx.checker.check_model(converted)
    path = tmp / f"{model_path.stem}.opset{opset}.onnx"
    onnx.save(converted, str(path))
    return path


def run_kiln(kiln_run: str, library: pathlib.Path, feeds: dict, tmp: pathlib.Path,
             env=None) -> dict:
    args = [kiln_run, str(library), "--output-dir", str(tmp / "out")]
    for name, value in feeds.items():
        path = tmp / f"{name}.npy"
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"kiln-run failed:\n{result.stderr}")
    return {p.stem: np.load(p) for p in (tmp / "out").glob("*.npy")}


def compile_model(model_path: pathlib.Path, library: pathlib.Path, args,
                  extra: list) -> bool:
    compile_cmd = [args.kiln, "compile", str(model_path), "-o", str(library),
                   *args.compile_arg, *extra]
    result = subprocess.run(compile_cmd, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"FAILED {model_path.name}: {' '.join(compile_cmd[1:])} failed:\n{result.stderr}")
        return False
    return True


def fake_cuda_env(args):
    """kiln-run's environment for --fake-cuda (gpu_check.emulation_env: the
    test CUDA driver as driver and cuBLASLt), for GPU models compiled with
    --gpu-emulation; None (inherit) otherwise."""
    if not args.fake_cuda:
        return None
    from gpu_check import emulation_env  # tools/, beside this
    return dict(os.environ, **emulation_env(args.fake_cuda, race_check=False))


def float16_sessions(model_path: pathlib.Path, args):
    """--float16's references: onnxruntime on the float16 model (None if it
    cannot load it) and on its float32 original."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    original = ort.InferenceSession(str(args.float32_originals[model_path]),
                                    providers=["CPUExecutionProvider"])
    try:
        return ort.InferenceSession(str(model_path), options,
                                    providers=["CPUExecutionProvider"]), original
    except Exception as error:  # noqa: BLE001 -- any load failure: float32 only
        print(f"note   {model_path.name}: onnxruntime cannot load the float16 model "
              f"({str(error).splitlines()[0][:120]}); compared with the float32 model only")
        return None, original


def run_references(session, original, feeds):
    """Expected outputs by name: `session`'s on `feeds`, and with --float16
    (`original` set) the float32 model's on the same values widened."""
    names = [o.name for o in (session or original).get_outputs()]
    expected = dict(zip(names, session.run(None, feeds))) if session else {}
    if original is None:
        return expected, {}
    widened = {name: value.astype(np.float32) if value.dtype == np.float16 else value
               for name, value in feeds.items()}
    return expected, dict(zip(names, original.run(None, widened)))


def compare(label, got, want, want32, args) -> bool:
    """Prints and returns whether `got` matches `want` (atol, rtol) and,
    with --float16, is no less accurate than onnxruntime's float16 run
    against the float32 model's `want32` (see above)."""
    if got is None or got.shape != (want if want is not None else want32).shape:
        print(f"FAILED {label}: shape {None if got is None else got.shape}")
        return False
    got = got.astype(np.float64)
    if want is None:  # --float16 without onnxruntime's float16 run
        want32 = want32.astype(np.float64)
        diff = np.abs(got - want32)
        ok = not (diff > FLOAT32_TOLERANCE * (1 + np.abs(want32))).any()
        print(f"{'ok' if ok else 'FAILED':6} {label} {list(want32.shape)} "
              f"max|diff|={diff.max():.2e} vs the float32 model")
        return ok
    want = want.astype(np.float64)
    diff = np.abs(got - want)
    ok = not (diff > args.atol + args.rtol * np.abs(want)).any()
    detail = f"max|diff|={diff.max():.2e}"
    if want32 is not None:
        ours, theirs = (float(np.abs(v - want32).mean()) for v in (got, want))
        ok &= ours <= ACCURACY_SLACK * theirs + 1e-7
        detail += f", mean error vs float32 {ours:.2e} (onnxruntime's {theirs:.2e})"
    print(f"{'ok' if ok else 'FAILED':6} {label} {list(want.shape)} {detail}")
    return ok


def check(model_path: pathlib.Path, args, tmp: pathlib.Path) -> bool:
    library = tmp / (model_path.stem + ".so")
    if not args.static and not compile_model(model_path, library, args, []):
        return False
    model = onnx.load(str(model_path))
    if args.float16:
        session, original = float16_sessions(model_path, args)
    else:
        session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        original = None
    ok = True
    for batch, seq in ((b, s) for b in args.batch for s in args.seq):
        feeds = make_inputs(model, batch, seq, seed=seq)
        expected, expected32 = run_references(session, original, feeds)
        run_dir = tmp / f"{model_path.stem}.{batch}.{seq}"
        run_dir.mkdir()
        if args.static:
            # One library per shape, every input dim fixed at compile time.
            library = run_dir / (model_path.stem + ".so")
            shapes = ",".join(f"{name}={'x'.join(map(str, value.shape))}"
                              for name, value in feeds.items())
            if not compile_model(model_path, library, args, ["--input-shape", shapes]):
                ok = False
                continue
        try:
            actual = run_kiln(args.kiln_run, library, feeds, run_dir, env=fake_cuda_env(args))
        except RuntimeError as error:
            print(f"FAILED {model_path.name} batch={batch} seq={seq}: {error}")
            ok = False
            continue
        for name in expected or expected32:
            ok &= compare(f"{model_path.name} batch={batch} seq={seq} {name}", actual.get(name),
                          expected.get(name), expected32.get(name), args)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", type=pathlib.Path)
    parser.add_argument("--kiln", default=str(ROOT / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(ROOT / "build/bin/kiln-run"))
    parser.add_argument("--seq", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--batch", type=int, nargs="+", default=[1],
                        help="batch sizes (each with each --seq)")
    parser.add_argument("--atol", type=float, help="default 1e-4 (4e-3 with --float16)")
    parser.add_argument("--rtol", type=float, help="default 1e-4 (4e-3 with --float16)")
    parser.add_argument("--compile-arg", action="append", default=[],
                        help="an extra `kiln compile` argument, e.g. --compile-arg=--mcpu=haswell "
                             "(repeatable)")
    parser.add_argument("--fake-cuda", metavar="LIB",
                        help="run on the test CUDA driver LIB (libkiln_fake_cuda.so), for GPU "
                             "models compiled with --compile-arg=--target=cuda "
                             "--compile-arg=--gpu-emulation")
    parser.add_argument("--static", action="store_true",
                        help="compile once per sequence length with every input shape fixed "
                             "(--input-shape) instead of once with symbolic dims")
    parser.add_argument("--convert-opset", type=int, metavar="N",
                        help="convert each model down to ONNX opset N (onnx.version_converter) "
                             "and check the converted model")
    parser.add_argument("--float16", action="store_true",
                        help="check each model made float16 (see above)")
    args = parser.parse_args()
    default_tolerance = 4e-3 if args.float16 else 1e-4
    args.atol = default_tolerance if args.atol is None else args.atol
    args.rtol = default_tolerance if args.rtol is None else args.rtol
    models = args.models or sorted((ROOT / "test/models").glob("*.onnx"))
    with tempfile.TemporaryDirectory() as tmp:
        if args.convert_opset is not None:
            models = [convert_down(m, args.convert_opset, pathlib.Path(tmp)) for m in models]
        if args.float16:
            args.float32_originals = {}
            for i, original in enumerate(models):
                models[i] = pathlib.Path(tmp) / (original.stem + ".float16.onnx")
                onnx.save(float16_model(onnx.load(str(original))), str(models[i]))
                args.float32_originals[models[i]] = original
        results = [check(m, args, pathlib.Path(tmp)) for m in models]
    print(f"{sum(results)}/{len(results)} models match onnxruntime "
          f"(atol={args.atol}, rtol={args.rtol})")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
