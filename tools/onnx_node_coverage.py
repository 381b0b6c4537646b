#!/usr/bin/env python3
"""Imports every ONNX backend node test with `kiln import` and reports coverage.

The pinned onnx package ships one small model per operator test case
(onnx/backend/test/data/node/<test>/model.onnx). Each is imported with the
default pipeline and classified as

  imported       kiln import exited 0
  unsupported    the model uses an op type Kiln has no handler for
  opset          the model's default-domain opset is outside 13..23
  error          any other import error (its first error line is kept)
  crash          kiln died of a signal (always a failure)
  timeout        kiln ran longer than --timeout seconds (always a failure)

Kiln takes axes, split sizes and the like as compile-time constants (the
exporters always write them as constants), while some ONNX tests feed them
as graph inputs. A test that fails only because such an input is not
constant is imported again with its integer graph inputs turned into
initializers holding the test's own input values; if that imports it counts
as imported and the report says how many needed this.

An imported test's result types are also compared with the output types the
test model declares: a different element type, rank or static dim is an
import error (a `?` where ONNX knows the dim is accepted).

Tests are grouped by the op type of their node (a test's graph is a single
node; a `*_expanded` test holds the function body of the op it is named
after and is grouped under that op). The report (docs/onnx-node-coverage.md
by default) has a summary line and one table row per op.

With --check-model-ops DIR the script also fails (exit status 1) when a node
test of an op used by the committed models (DIR/*.onnx; a built-in list of
transformer ops when DIR holds none) does not import, unless the test is in
EXCLUSIONS below, or when any test crashes or times out.

  .venv/bin/python tools/onnx_node_coverage.py --kiln build/bin/kiln
  .venv/bin/python tools/onnx_node_coverage.py --kiln build/bin/kiln \\
      --check-model-ops test/models --output build/onnx-node-coverage.md
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import fnmatch
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile

import onnx

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "docs" / "onnx-node-coverage.md"
DEFAULT_DOMAINS = ("", "ai.onnx")

# Used when the models folder holds no .onnx file: the ops of the encoder
# transformers Kiln targets, as the TorchScript and dynamo exporters write them.
TRANSFORMER_OPS = """
    Add Sub Mul Div Pow Sqrt Erf Tanh MatMul Gemm Conv Softmax ReduceMean
    LayerNormalization Gather Reshape Transpose Slice Concat Unsqueeze Squeeze
    Shape Cast Where Equal Expand ConstantOfShape Range Constant Identity Split
    Flatten Trilu Neg Not Less Greater
""".split()

# Node tests of model ops that may fail to import without failing the check:
# each is a case where ONNX tests something outside Kiln's scope. Patterns are
# fnmatch patterns on the test name; every entry needs its reason. Crashes
# and timeouts are never excluded. The script notes entries that no longer
# match a failing test, so the table does not outlive its reasons.
EXCLUSIONS: list[tuple[str, str]] = [
    # --- Element types Kiln does not model (OnnxTensors.cpp getElementType):
    # strings, 8-bit and 4-bit floats, 4-bit integers.
    ("test_cast_*STRING*", "string tensors are outside Kiln's scope"),
    ("test_castlike_*STRING*", "string tensors are outside Kiln's scope"),
    ("test_equal_string*", "string tensors are outside Kiln's scope"),
    ("test_cast_*FLOAT8*", "float8 types are outside Kiln's scope"),
    ("test_castlike_*FLOAT8*", "float8 types are outside Kiln's scope"),
    ("test_cast_*FLOAT4*", "4-bit float types are outside Kiln's scope"),
    ("test_cast_*INT4*", "4-bit integer types are outside Kiln's scope"),
    ("test_*quantizelinear_e4m3fn*", "float8 types are outside Kiln's scope"),
    ("test_*quantizelinear_e5m2*", "float8 types are outside Kiln's scope"),
    ("test_*quantizelinear_float4e2m1", "4-bit float types are outside Kiln's scope"),
    ("test_*quantizelinear_*int4", "4-bit integer types are outside Kiln's scope"),
    # --- Non-tensor values: sequences and optionals.
    ("test_identity_sequence", "sequence values are outside Kiln's scope"),
    ("test_identity_opt", "optional values are outside Kiln's scope"),
    # --- Models below opset 13, the only form in which ONNX tests these ops;
    # Kiln imports opsets 13..23 (older models go through version_converter).
    ("test_and[0-9]d", "ONNX tests And only in opset 7 models"),
    ("test_and_bcast*", "ONNX tests And only in opset 7 models"),
    ("test_not_[0-9]d", "ONNX tests Not only in opset 1 models"),
    ("test_range_float_type_positive_delta*", "an opset 11 model"),
    ("test_range_int32_type_negative_delta*", "an opset 11 model"),
]


@dataclasses.dataclass
class Case:
    name: str
    path: pathlib.Path
    op: str
    expanded: bool
    opset: int | None
    status: str = ""
    reason: str = ""
    constant_inputs: list[str] = dataclasses.field(default_factory=list)


def node_test_dir() -> pathlib.Path:
    return pathlib.Path(onnx.__file__).parent / "backend" / "test" / "data" / "node"


def op_name(node: onnx.NodeProto) -> str:
    return node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}.{node.op_type}"


def default_opset(model: onnx.ModelProto) -> int | None:
    for entry in model.opset_import:
        if entry.domain in DEFAULT_DOMAINS:
            return entry.version
    return None


EXPANDED = re.compile(r"^(?P<base>.*)_expanded(_ver\d+)?$")


def collect_cases(root: pathlib.Path) -> list[Case]:
    models = {}
    for path in sorted(root.glob("*/model.onnx")):
        models[path.parent.name] = onnx.load(str(path), load_external_data=False)
    cases = []
    for name, model in models.items():
        match = EXPANDED.match(name)
        base = match and models.get(match.group("base"))
        source = base if base is not None else model
        ops = sorted({op_name(n) for n in source.graph.node}) or ["(no node)"]
        cases.append(Case(name, root / name / "model.onnx", "+".join(ops),
                          base is not None, default_opset(model)))
    return cases


def first_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if ": error: " in line:
            return line
    lines = [l for l in stderr.splitlines() if l.strip()]
    return lines[0] if lines else "(no message)"


def short_reason(line: str, model: pathlib.Path, shown: str = "model.onnx") -> str:
    """The error without the `kiln: error:` prefix, the file (`model`, shown
    as `shown`) or the node name."""
    line = line.replace(str(model), shown)
    line = re.sub(r"^kiln: error: ", "", line)
    line = re.sub(r"^(model\.onnx|node '[^']*'): ", "", line)
    return line.strip()


ELEMENT_TYPES = {
    onnx.TensorProto.FLOAT: "f32", onnx.TensorProto.DOUBLE: "f64",
    onnx.TensorProto.FLOAT16: "f16", onnx.TensorProto.BFLOAT16: "bf16",
    onnx.TensorProto.BOOL: "i1", onnx.TensorProto.INT8: "i8", onnx.TensorProto.INT16: "i16",
    onnx.TensorProto.INT32: "i32", onnx.TensorProto.INT64: "i64",
    onnx.TensorProto.UINT8: "ui8", onnx.TensorProto.UINT16: "ui16",
    onnx.TensorProto.UINT32: "ui32", onnx.TensorProto.UINT64: "ui64",
}
RESULT = re.compile(r'tensor<([^>]*)> \{kiln\.output_name = "((?:[^"\\]|\\.)*)"\}')


def result_type_problem(mlir: str, model: onnx.ModelProto) -> str | None:
    """How @main's result types differ from the outputs the model declares."""
    signature = next((l for l in mlir.splitlines() if "func.func @main(" in l), "")
    results = RESULT.findall(signature.partition(") -> ")[2])
    if len(results) != len(model.graph.output):
        return f"@main has {len(results)} results, the model {len(model.graph.output)} outputs"
    for (kiln_type, _), output in zip(results, model.graph.output):
        if not output.type.HasField("tensor_type"):
            continue
        declared = output.type.tensor_type
        *dims, element = kiln_type.split("x")
        expected = ELEMENT_TYPES.get(declared.elem_type)
        problem = expected is not None and element != expected
        if declared.HasField("shape"):
            onnx_dims = [d.dim_value if d.HasField("dim_value") else None
                         for d in declared.shape.dim]
            problem |= len(dims) != len(onnx_dims) or any(
                k != "?" and d is not None and int(k) != d for k, d in zip(dims, onnx_dims))
            shown = "x".join("?" if d is None else str(d) for d in onnx_dims)
        else:
            shown = "*"
        if problem:
            return (f"result '{output.name}' is tensor<{kiln_type}>, the model declares "
                    f"tensor<{shown}{'x' if shown else ''}{expected or declared.elem_type}>")
    return None


def run_kiln(command: list[str], path: pathlib.Path, timeout: float,
             shown: str = "model.onnx"):
    """(status, reason, stdout) of running `command` (a kiln tool) on the model
    at `path`. The status is "ok", "unsupported", "opset", "error", "crash" or
    "timeout"; the reason is the shortened first error line, which names
    `path` as `shown`."""
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"no result after {timeout:g} s", ""
    if result.returncode == 0:
        return "ok", "", result.stdout
    if result.returncode < 0:
        try:
            sig = signal.Signals(-result.returncode).name
        except ValueError:
            sig = f"signal {-result.returncode}"
        return "crash", f"killed by {sig}: " + short_reason(first_error(result.stderr), path,
                                                             shown), ""
    reason = short_reason(first_error(result.stderr), path, shown)
    if "unsupported ONNX op type" in reason:
        return "unsupported", reason, ""
    if "the model uses ONNX opset" in reason or "imports no opset" in reason:
        return "opset", reason, ""
    return "error", reason, ""


def import_model(kiln: str, path: pathlib.Path, timeout: float):
    """(status, reason, stdout) of `kiln import path`."""
    status, reason, stdout = run_kiln([kiln, "import", str(path)], path, timeout)
    return ("imported" if status == "ok" else status), reason, stdout


def with_constant_inputs(model: onnx.ModelProto, test_dir: pathlib.Path,
                         out: pathlib.Path, data_set: str = "test_data_set_0") -> list[str]:
    """Writes `model` with its integer graph inputs that feed a node's second
    or later input (axes, split, ...) turned into initializers holding the
    values of the test's data set `data_set` (by default its first). Returns
    their names."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    initializers = {t.name for t in model.graph.initializer}
    late_inputs = {name for node in model.graph.node for name in node.input[1:]}
    integer = {onnx.TensorProto.INT64, onnx.TensorProto.INT32}
    keep, made = [], []
    inputs = [i for i in model.graph.input if i.name not in initializers]
    for index, info in enumerate(inputs):
        data = test_dir / data_set / f"input_{index}.pb"
        if (info.name in late_inputs and info.type.HasField("tensor_type")
                and info.type.tensor_type.elem_type in integer and data.exists()):
            tensor = onnx.TensorProto.FromString(data.read_bytes())
            tensor.name = info.name
            model.graph.initializer.append(tensor)
            made.append(info.name)
        else:
            keep.append(info)
    if made:
        del model.graph.input[:]
        model.graph.input.extend(keep)
        onnx.save(model, str(out))
    return made


def run_case(case: Case, kiln: str, timeout: float, scratch: pathlib.Path) -> Case:
    case.status, case.reason, mlir = import_model(kiln, case.path, timeout)
    if case.status == "error" and "must be a compile-time constant" in case.reason:
        model = onnx.load(str(case.path), load_external_data=False)
        variant = scratch / f"{case.name}.onnx"
        made = with_constant_inputs(model, case.path.parent, variant)
        if made:
            status, reason, text = import_model(kiln, variant, timeout)
            if status == "imported" or status in ("crash", "timeout"):
                case.status, case.reason, mlir = status, reason, text
                case.constant_inputs = made
    if case.status == "imported":
        model = onnx.load(str(case.path), load_external_data=False)
        problem = result_type_problem(mlir, model)
        if problem:
            case.status, case.reason = "error", problem
    return case


STATUS_LABELS = {
    "imported": "imported",
    "unsupported": "unsupported op",
    "opset": "opset out of range",
    "error": "import error",
    "crash": "crash",
    "timeout": "timeout",
}


def model_ops(folder: pathlib.Path) -> tuple[set[str], str]:
    """The op types of the models in `folder` and a description of where they
    came from."""
    try:
        shown = folder.resolve().relative_to(REPO)
    except ValueError:
        shown = folder
    paths = sorted(folder.glob("*.onnx")) if folder.is_dir() else []
    if not paths:
        return set(TRANSFORMER_OPS), f"built-in transformer op list; {shown} holds no models"
    ops = set()
    for path in paths:
        model = onnx.load(str(path), load_external_data=False)
        ops.update(op_name(n) for n in model.graph.node)
    return ops, f"{len(paths)} model(s) in {shown}"


def exclusion_for(case: Case) -> str | None:
    """The reason a failing test is excluded from the model-op check, or None."""
    for pattern, reason in EXCLUSIONS:
        if fnmatch.fnmatchcase(case.name, pattern):
            return reason
    return None


def percent(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "-"


def summary_line(cases: list[Case]) -> str:
    counts = collections.Counter(c.status for c in cases)
    total = len(cases)
    parts = []
    for status, label in STATUS_LABELS.items():
        if status != "imported" and not counts[status]:
            continue
        part = f"{counts[status]} {label} ({percent(counts[status], total)})"
        if status == "imported":
            constant = sum(bool(c.constant_inputs) for c in cases if c.status == "imported")
            if constant:
                part += f" [{constant} of them with axes/split-like inputs given as constants]"
        parts.append(part)
    return f"{total} node tests: " + ", ".join(parts)


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def failure_cell(failed: list[Case]) -> str:
    by_reason: dict[str, list[str]] = collections.defaultdict(list)
    for case in failed:
        if case.status in ("unsupported", "opset"):
            key = STATUS_LABELS[case.status]
            if case.status == "opset":
                key += f" ({case.opset})" if case.opset is not None else " (no default-domain opset)"
        else:
            key = f"{STATUS_LABELS[case.status]}: {case.reason}"
        by_reason[key].append(case.name)
    items = []
    for key, names in sorted(by_reason.items()):
        shown = ", ".join(names[:4]) + (f", ... ({len(names)} tests)" if len(names) > 4 else "")
        items.append(f"{escape(key)}: {shown}" if key.startswith(("import", "crash", "timeout"))
                     else f"{escape(key)} ({len(names)})")
    return "<br>".join(items)


def write_report(path: pathlib.Path, cases: list[Case], check: dict | None) -> None:
    by_op: dict[str, list[Case]] = collections.defaultdict(list)
    for case in cases:
        by_op[case.op].append(case)
    lines = [
        "# ONNX backend node test coverage",
        "",
        f"Generated by `tools/onnx_node_coverage.py` from the node tests of onnx "
        f"{onnx.__version__} (`onnx/backend/test/data/node`); do not edit by hand. Each "
        "test's model is imported with `kiln import` (default pipeline). `*_expanded` "
        "tests (the op's function body) count under the op they expand. \"With constant "
        "inputs\": the test feeds axes, split sizes or the like as graph inputs, which "
        "Kiln needs as constants; it imported once they were made initializers holding "
        "the test's values.",
        "",
        f"**Summary:** {summary_line(cases)}.",
        "",
    ]
    if check is not None:
        lines += [
            f"**Model ops** ({check['source']}): {len(check['ops'])} op types, "
            f"{check['tests']} node tests, {check['imported']} imported, "
            f"{len(check['excluded'])} excluded, {len(check['failed'])} failing.",
            "",
        ]
        for case in check["failed"]:
            lines.append(f"- FAILING: {case.name} ({case.op}): {escape(case.reason)}")
        if check["failed"]:
            lines.append("")
    failing = [c for c in cases if c.status != "imported"]
    lines += [
        "## Exclusions",
        "",
        "Failing node tests of model ops that do not fail the `--check-model-ops` check, "
        "because ONNX tests something outside Kiln's scope there (the `EXCLUSIONS` table "
        "in the script):",
        "",
        "| Pattern | Reason | Failing tests matched |",
        "|---|---|---|",
    ]
    for pattern, reason in EXCLUSIONS:
        matched = [c.name for c in failing if fnmatch.fnmatchcase(c.name, pattern)]
        lines.append(f"| `{pattern}` | {escape(reason)} | {len(matched)} |")
    lines += ["", "## By op", ""]
    lines += ["| Op | Tests | Imported | Failures |", "|---|---:|---:|---|"]
    for op in sorted(by_op, key=str.lower):
        group = by_op[op]
        imported = [c for c in group if c.status == "imported"]
        constant = sum(bool(c.constant_inputs) for c in imported)
        cell = f"{len(imported)}" + (f" ({constant} with constant inputs)" if constant else "")
        failed = [c for c in group if c.status != "imported"]
        lines.append(f"| {escape(op)} | {len(group)} | {cell} | {failure_cell(failed)} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", default=str(REPO / "build" / "bin" / "kiln"))
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), type=pathlib.Path)
    parser.add_argument("--check-model-ops", type=pathlib.Path, metavar="DIR")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--filter", default="*", help="fnmatch pattern on test names")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every failing test and its reason")
    args = parser.parse_args()

    if not os.access(args.kiln, os.X_OK):
        print(f"onnx_node_coverage: no kiln binary at {args.kiln}", file=sys.stderr)
        return 2
    cases = [c for c in collect_cases(node_test_dir()) if fnmatch.fnmatchcase(c.name, args.filter)]
    with tempfile.TemporaryDirectory(prefix="kiln-node-coverage-") as scratch, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(lambda c: run_case(c, args.kiln, args.timeout, pathlib.Path(scratch)),
                      cases))

    check = None
    status = 0
    if args.check_model_ops is not None:
        ops, source = model_ops(args.check_model_ops)
        relevant = [c for c in cases if c.op in ops]
        check = {"source": source, "ops": ops, "tests": len(relevant),
                 "imported": sum(c.status == "imported" for c in relevant),
                 "excluded": [], "failed": []}
        for case in relevant:
            if case.status == "imported":
                continue
            reason = exclusion_for(case)
            if reason is not None and case.status not in ("crash", "timeout"):
                check["excluded"].append((case, reason))
            else:
                check["failed"].append(case)

    write_report(args.output, cases, check)
    print(summary_line(cases))
    print(f"report: {args.output}")
    crashes = [c for c in cases if c.status in ("crash", "timeout")]
    if args.verbose:
        for case in cases:
            if case.status != "imported":
                print(f"  {case.name} [{case.op}] {STATUS_LABELS[case.status]}: {case.reason}")
    if check is not None:
        print(f"model ops ({check['source']}): {check['tests']} tests, {check['imported']} "
              f"imported, {len(check['excluded'])} excluded, {len(check['failed'])} failing")
        for case in check["failed"]:
            print(f"FAIL {case.name} [{case.op}] {STATUS_LABELS[case.status]}: {case.reason}")
        if check["failed"]:
            status = 1
        failing = [c for c in cases if c.status != "imported"]
        for pattern, reason in EXCLUSIONS if args.filter == "*" else []:
            if not any(fnmatch.fnmatchcase(c.name, pattern) for c in failing):
                print(f"note: exclusion '{pattern}' ({reason}) matches no failing test; "
                      "remove it if its tests import now")
    for case in crashes:
        if check is None or case not in check["failed"]:
            print(f"FAIL {case.name} [{case.op}] {STATUS_LABELS[case.status]}: {case.reason}")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
