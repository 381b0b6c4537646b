#!/usr/bin/env python3
"""Generates Kiln's test models: HuggingFace transformers exported to ONNX.

Every model is built from a configuration (nothing is downloaded; weights are
random with a fixed seed per model), put in eval mode with eager attention
(plain MatMul/Softmax) and exported with torch.onnx.export in every form the
installed torch offers:

  dynamo       torch.export-based exporter (dynamo=True), opset 18; LayerNorm
               becomes LayerNormalization; weights inside the single .onnx file.
  torchscript  legacy TorchScript exporter (dynamo=False), opset 14; LayerNorm
               is written out as ReduceMean/Sub/Pow/Sqrt/Div/...

Each exported model is checked with onnx.checker and run with onnxruntime at
two sequence lengths (and a second batch size); its outputs must match torch
within --atol, or the script fails. The models and a MANIFEST.json describing
them (inputs, outputs, opset, op types, config, seed, ...) go to --out.

  python tools/models/generate_models.py --size tiny --out test/models
  python tools/models/generate_models.py --size full --out build/models --families bert

Needs the pinned packages in tools/models/requirements-export.txt; torch is
needed only to regenerate the models, never to build or test Kiln.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
import time
import traceback
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers

FORMS = {
    # form name -> (torch.onnx.export's dynamo flag, opset)
    "dynamo": (True, 18),
    "torchscript": (False, 14),
}

# A model whose weights exceed this is written with external data (none of the
# models here comes close: BERT-base is ~0.4 GB).
EXTERNAL_DATA_THRESHOLD = 2_000_000_000


@dataclasses.dataclass(frozen=True)
class Family:
    """One model family: which transformers classes, inputs, outputs, sizes."""

    name: str
    config_class: str
    model_class: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    seed: int
    configs: dict[str, dict]  # size ("tiny", "full") -> config keyword arguments

    @property
    def is_vision(self) -> bool:
        return "pixel_values" in self.inputs


# The one table of models. The tiny configs are committed under test/models;
# the full ones are the standard base sizes, generated on demand.
FAMILIES = (
    Family(
        name="bert",
        config_class="BertConfig",
        model_class="BertModel",
        inputs=("input_ids", "attention_mask", "token_type_ids"),
        outputs=("last_hidden_state", "pooler_output"),
        seed=1001,
        configs={
            "tiny": dict(vocab_size=512, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=512, max_position_embeddings=128),
            "full": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072, max_position_embeddings=512),
        },
    ),
    Family(
        name="distilbert",
        config_class="DistilBertConfig",
        model_class="DistilBertModel",
        inputs=("input_ids", "attention_mask"),
        outputs=("last_hidden_state",),
        seed=1002,
        configs={
            "tiny": dict(vocab_size=512, dim=128, n_layers=2, n_heads=2, hidden_dim=256,
                         max_position_embeddings=128),
            "full": dict(vocab_size=30522, dim=768, n_layers=6, n_heads=12, hidden_dim=3072,
                         max_position_embeddings=512),
        },
    ),
    Family(
        name="gpt2",
        config_class="GPT2Config",
        model_class="GPT2Model",
        inputs=("input_ids", "attention_mask"),
        outputs=("last_hidden_state",),
        seed=1003,
        configs={
            "tiny": dict(vocab_size=512, n_embd=128, n_layer=2, n_head=2, n_inner=256, n_positions=128,
                         bos_token_id=511, eos_token_id=511, activation_function="gelu_new", use_cache=False),
            "full": dict(vocab_size=50257, n_embd=768, n_layer=12, n_head=12, n_inner=3072, n_positions=1024,
                         bos_token_id=50256, eos_token_id=50256, activation_function="gelu_new", use_cache=False),
        },
    ),
    Family(
        name="vit",
        config_class="ViTConfig",
        model_class="ViTModel",
        inputs=("pixel_values",),
        outputs=("last_hidden_state", "pooler_output"),
        seed=1004,
        configs={
            "tiny": dict(image_size=32, patch_size=8, num_channels=3, hidden_size=128, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=256),
            "full": dict(image_size=224, patch_size=16, num_channels=3, hidden_size=768, num_hidden_layers=12,
                         num_attention_heads=12, intermediate_size=3072),
        },
    ),
)

# (batch, sequence) at which the export is traced: not 1, which torch.export
# would specialize. And the shapes at which onnxruntime is checked against torch
# (sequence is ignored for vision models, whose only dynamic dim is batch).
TRACE_SHAPE = (2, 8)
CHECK_SHAPES = ((1, 8), (1, 16), (2, 16))


class OutputTuple(torch.nn.Module):
    """Calls the model with named inputs and returns the chosen outputs as a tuple."""

    def __init__(self, model: torch.nn.Module, inputs: tuple[str, ...], outputs: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.input_names = inputs
        self.output_names = outputs

    def forward(self, *args):
        result = self.model(**dict(zip(self.input_names, args)), return_dict=True)
        return tuple(getattr(result, name) for name in self.output_names)


def build_model(family: Family, size: str) -> tuple[torch.nn.Module, transformers.PretrainedConfig]:
    config = getattr(transformers, family.config_class)(**family.configs[size], attn_implementation="eager")
    torch.manual_seed(family.seed)
    model = getattr(transformers, family.model_class)(config).eval()
    return OutputTuple(model, family.inputs, family.outputs).eval(), config


def make_inputs(family: Family, config, batch: int, seq: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Random inputs; when batch > 1 the last row's attention_mask pads its last quarter."""
    gen = torch.Generator().manual_seed(seed)
    tensors = []
    for name in family.inputs:
        if name == "input_ids":
            tensors.append(torch.randint(0, config.vocab_size, (batch, seq), generator=gen))
        elif name == "token_type_ids":
            tensors.append(torch.randint(0, 2, (batch, seq), generator=gen))
        elif name == "attention_mask":
            mask = torch.ones(batch, seq, dtype=torch.int64)
            if batch > 1:
                mask[-1, seq - seq // 4:] = 0
            tensors.append(mask)
        elif name == "pixel_values":
            shape = (batch, config.num_channels, config.image_size, config.image_size)
            tensors.append(torch.randn(shape, generator=gen))
        else:
            raise ValueError(f"no input generator for {name}")
    return tuple(tensors)


def symbolic_dims(family: Family, name: str) -> tuple[str, ...]:
    """Names of the dynamic dims of an input or output, in order from dim 0."""
    if family.is_vision or name == "pooler_output":
        return ("batch",)
    return ("batch", "sequence")


def export(family: Family, form: str, model, config, path: pathlib.Path) -> None:
    dynamo, opset = FORMS[form]
    args = make_inputs(family, config, *TRACE_SHAPE, seed=family.seed)
    kwargs = dict(input_names=list(family.inputs), output_names=list(family.outputs), opset_version=opset)
    if dynamo:
        max_len = getattr(config, "max_position_embeddings", None)
        dims = {"batch": torch.export.Dim("batch"), "sequence": torch.export.Dim("sequence", max=max_len)}
        # One entry for OutputTuple.forward's *args: a tuple with one dict per input.
        dynamic_shapes = (tuple(
            {axis: dims[dim] for axis, dim in enumerate(symbolic_dims(family, name))} for name in family.inputs
        ),)
        program = torch.onnx.export(model, args, dynamo=True, dynamic_shapes=dynamic_shapes, **kwargs)
        # Stack traces name files on this machine: keep them out of the committed models.
        for graph in (program.model.graph, *program.model.functions.values()):
            for node in graph.all_nodes():
                node.metadata_props.pop("pkg.torch.onnx.stack_trace", None)
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        program.save(str(path), external_data=weight_bytes > EXTERNAL_DATA_THRESHOLD)
    else:
        dynamic_axes = {name: dict(enumerate(symbolic_dims(family, name)))
                        for name in family.inputs + family.outputs}
        torch.onnx.export(model, args, str(path), dynamo=False, dynamic_axes=dynamic_axes, **kwargs)


def value_infos(values) -> list[dict]:
    infos = []
    for value in values:
        tensor = value.type.tensor_type
        infos.append({
            "name": value.name,
            "dtype": str(onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)),
            "shape": [d.dim_param if d.HasField("dim_param") else d.dim_value for d in tensor.shape.dim],
        })
    return infos


def op_types(model: onnx.ModelProto) -> list[str]:
    """Every op type in the model (subgraphs and local functions included); domain::Op off the default domain."""
    found = set()

    def walk(nodes):
        for node in nodes:
            found.add(f"{node.domain}::{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type)
            for attr in node.attribute:
                if attr.HasField("g"):
                    walk(attr.g.node)
                for graph in attr.graphs:
                    walk(graph.node)

    walk(model.graph.node)
    for function in model.functions:
        walk(function.node)
    return sorted(found)


def check_against_torch(family: Family, model, config, path: pathlib.Path, atol: float) -> dict[str, float]:
    """Runs the ONNX model with onnxruntime and torch at CHECK_SHAPES; raises on a mismatch."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    diffs = {}
    shapes = sorted({(batch, 0) for batch, _ in CHECK_SHAPES}) if family.is_vision else CHECK_SHAPES
    for batch, seq in shapes:
        inputs = make_inputs(family, config, batch, seq, seed=family.seed + 7 * batch + seq)
        with torch.no_grad():
            expected = model(*inputs)
        actual = session.run(list(family.outputs), {n: t.numpy() for n, t in zip(family.inputs, inputs)})
        label = f"batch={batch}" + (f",seq={seq}" if not family.is_vision else "")
        diff = max(float(np.max(np.abs(a - e.numpy()))) for a, e in zip(actual, expected))
        diffs[label] = float(f"{diff:.2g}")
        print(f"    onnxruntime vs torch at {label}: max abs diff {diff:.3g}")
        if not diff <= atol:
            raise RuntimeError(f"{path.name}: onnxruntime output differs from torch at {label} "
                               f"by {diff:.3g} (atol {atol})")
    return diffs


def model_path(out: pathlib.Path, family: Family, size: str, form: str) -> pathlib.Path:
    return out / f"{family.name}-{size}.{form}.onnx"


def remove_model(path: pathlib.Path) -> None:
    for file in (path, path.with_name(path.name + ".data")):
        file.unlink(missing_ok=True)


def generate(family: Family, form: str, size: str, out: pathlib.Path, atol: float) -> dict:
    """Exports one family in one form, checks it and returns its manifest entry."""
    path = model_path(out, family, size, form)
    remove_model(path)
    model, config = build_model(family, size)
    print(f"== {path.name}: exporting ({form}, opset {FORMS[form][1]})", flush=True)
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export(family, form, model, config, path)
    seconds = time.monotonic() - start
    onnx.checker.check_model(str(path), full_check=True)
    loaded = onnx.load(str(path), load_external_data=False)
    external = sorted({entry.value for t in loaded.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
                       for entry in t.external_data if entry.key == "location"})
    if external and size == "tiny":
        raise RuntimeError(f"{path.name}: a tiny model must hold its weights, not {external}")
    diffs = check_against_torch(family, model, config, path, atol)
    ops = op_types(loaded)
    size_bytes = path.stat().st_size
    print(f"    {size_bytes} bytes, exported in {seconds:.1f} s, {len(ops)} op types: {' '.join(ops)}")
    opset = next(o.version for o in loaded.opset_import if o.domain in ("", "ai.onnx"))
    return {
        "file": path.name,
        "external_data": external,
        "family": family.name,
        "model_class": family.model_class,
        "size": size,
        "form": form,
        "exporter": f"torch.onnx.export(dynamo={FORMS[form][0]})",
        "opset": opset,
        "inputs": value_infos(loaded.graph.input),
        "outputs": value_infos(loaded.graph.output),
        "size_bytes": size_bytes,
        "config_class": family.config_class,
        "config": {**family.configs[size], "attn_implementation": "eager"},
        "seed": family.seed,
        "trace_shapes": {name: list(t.shape) for name, t in
                         zip(family.inputs, make_inputs(family, config, *TRACE_SHAPE, seed=family.seed))},
        "max_abs_diff_vs_torch": diffs,
        "op_types": ops,
    }


def short_error(error: Exception) -> str:
    """One line for an error; for the dynamo exporter's long errors, the line under its exception summary."""
    text = str(error)
    if "## Exception summary" in text:
        text = text.split("## Exception summary", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:500]


def torchscript_available() -> bool:
    try:
        from torch.onnx._internal.torchscript_exporter import utils  # noqa: F401
        return True
    except ImportError:
        return False


def write_manifest(out: pathlib.Path, entries: list[dict], failures: list[dict], unavailable: list[dict]) -> None:
    """Merges the new entries into out/MANIFEST.json (by file), dropping entries whose file is gone."""
    manifest_path = out / "MANIFEST.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    models = {m["file"]: m for m in old.get("models", []) if (out / m["file"]).exists()}
    models.update({m["file"]: m for m in entries})
    manifest = {
        "generator": "tools/models/generate_models.py",
        "versions": {pkg.__name__: pkg.__version__ for pkg in (torch, transformers, onnx, ort)},
        "forms": {form: {"dynamo": dynamo, "opset": opset} for form, (dynamo, opset) in FORMS.items()},
        "unavailable_forms": unavailable,
        "failures": failures,
        # The union of op types over the models, per form and overall: what the importer must handle.
        "op_types": {
            **{form: sorted({op for m in models.values() if m["form"] == form for op in m["op_types"]})
               for form in FORMS},
            "all": sorted({op for m in models.values() for op in m["op_types"]}),
        },
        "models": sorted(models.values(), key=lambda m: m["file"]),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("tiny", "full"), default="tiny")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("test/models"))
    parser.add_argument("--families", nargs="+", choices=[f.name for f in FAMILIES],
                        default=[f.name for f in FAMILIES])
    parser.add_argument("--forms", nargs="+", choices=list(FORMS), default=list(FORMS))
    parser.add_argument("--atol", type=float, default=1e-4, help="onnxruntime vs torch tolerance")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    forms, unavailable = list(args.forms), []
    if "torchscript" in forms and not torchscript_available():
        print(f"!! the TorchScript exporter (dynamo=False) is not in torch {torch.__version__}: "
              "the torchscript form is unavailable", file=sys.stderr)
        forms.remove("torchscript")
        unavailable.append({"form": "torchscript", "reason": f"not in torch {torch.__version__}"})

    entries, failures = [], []
    for family in (f for f in FAMILIES if f.name in args.families):
        for form in forms:
            try:
                entries.append(generate(family, form, args.size, args.out, args.atol))
            except Exception as error:  # report and go on with the other models
                traceback.print_exc()
                remove_model(model_path(args.out, family, args.size, form))
                message = short_error(error)
                print(f"!! {family.name} ({form}) FAILED: {message}", file=sys.stderr)
                failures.append({"family": family.name, "form": form, "size": args.size, "error": message})
    write_manifest(args.out, entries, failures, unavailable)

    print("\n== summary")
    for entry in entries:
        print(f"{entry['file']:36} {entry['size_bytes']:>11,} B  opset {entry['opset']}  {len(entry['op_types'])} ops")
    for form in forms:
        union = sorted({op for e in entries if e["form"] == form for op in e["op_types"]})
        print(f"op types, {form} ({len(union)}): {' '.join(union)}")
    union = sorted({op for e in entries for op in e["op_types"]})
    print(f"op types, all ({len(union)}): {' '.join(union)}")
    for failure in failures:
        print(f"FAILED {failure['family']} ({failure['form']}): {failure['error']}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
