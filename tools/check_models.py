#!/usr/bin/env python3
"""Imports every committed test model and checks the IR.

For each test/models/*.onnx (every exporter form):
  * `kiln import` with symbolic dims: the IR must verify under kiln-opt and
    the graph inputs must keep their symbolic dims as `?`;
  * `kiln import --input-shape` at two sequence lengths: the IR must verify
    and every shape computation must have folded away (no kiln.shape left,
    static result types).
Exits non-zero on the first model that fails, printing why.
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

import onnx

SEQUENCE_LENGTHS = (8, 16)


def input_shapes(model: onnx.ModelProto, seq: int) -> str:
    """--input-shape text fixing batch=1 and every other symbolic dim to seq."""
    initializers = {init.name for init in model.graph.initializer}
    entries = []
    for info in model.graph.input:
        if info.name in initializers:
            continue
        dims = []
        for i, dim in enumerate(info.type.tensor_type.shape.dim):
            if dim.HasField("dim_value"):
                dims.append(dim.dim_value)
            else:
                dims.append(1 if i == 0 else seq)
        entries.append(f"{info.name}={'x'.join(map(str, dims))}")
    return ",".join(entries)


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def check_model(path: pathlib.Path, kiln: str, kiln_opt: str, tmp: pathlib.Path) -> list:
    problems = []
    model = onnx.load(str(path), load_external_data=False)
    variants = [("symbolic", [])] + [
        (f"seq={seq}", ["--input-shape", input_shapes(model, seq)]) for seq in SEQUENCE_LENGTHS
    ]
    for label, extra in variants:
        out = tmp / f"{path.stem}.{label}.mlir"
        code, _, err = run([kiln, "import", str(path), "-o", str(out)] + extra)
        if code != 0:
            problems.append(f"{label}: kiln import failed:\n{err}")
            continue
        code, _, err = run([kiln_opt, str(out), "--verify-each", "-o", "/dev/null"])
        if code != 0:
            problems.append(f"{label}: kiln-opt rejects the IR:\n{err}")
            continue
        text = out.read_text()
        signature = re.search(r"func\.func @main\((.*?)\) ->", text, re.S)
        if label == "symbolic":
            if signature and "?" not in signature.group(1) and any(
                not d.HasField("dim_value")
                for i in model.graph.input
                for d in i.type.tensor_type.shape.dim
            ):
                problems.append("symbolic: symbolic input dims did not stay `?`")
        else:
            if "kiln.shape" in text:
                problems.append(f"{label}: shape computations did not fold away")
            body = text.split("{-#")[0]
            if re.search(r"tensor<[^>]*\?", body):
                problems.append(f"{label}: a `?` dim is left after specialisation")
    return problems


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kiln", default=str(root / "build/bin/kiln"))
    parser.add_argument("--kiln-opt", default=str(root / "build/bin/kiln-opt"))
    parser.add_argument("models", nargs="*", default=sorted((root / "test/models").glob("*.onnx")))
    args = parser.parse_args()
    if not args.models:
        print("check_models: no models in test/models", file=sys.stderr)
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in map(pathlib.Path, args.models):
            problems = check_model(path, args.kiln, args.kiln_opt, pathlib.Path(tmp))
            status = "ok" if not problems else "FAILED"
            print(f"{status:6} {path.name}")
            for p in problems:
                print("       " + p.replace("\n", "\n       "))
            failed += bool(problems)
    print(f"{len(args.models) - failed}/{len(args.models)} models import and verify")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
