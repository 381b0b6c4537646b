#!/usr/bin/env python3
"""Compiles and runs every ONNX backend node test and checks Kiln's results.

The pinned onnx package ships one small model per operator test case
(onnx/backend/test/data/node/<test>/model.onnx) with one or more data sets
(test_data_set_*/input_*.pb, output_*.pb). Each model is compiled with
`kiln compile` (default pipeline), each data set is run with `kiln-run`
(one thread) and every output is compared with the expected one. A test is

  pass           every output of every data set matches
  wrong          an output differs: its shape, its dtype class (float, int,
                 bool) or its values; the first differing output is named
                 with the largest absolute difference or the shapes
  compile        kiln compile failed for another reason than the two below
                 (its first error line is kept)
  unsupported    the model uses an op type Kiln has no handler for
  opset          the model's default-domain opset is outside 13..23
  run            kiln-run exited with an error (its first error line is kept)
  crash          kiln or kiln-run died of a signal (always a failure)
  timeout        kiln or kiln-run ran longer than --timeout (always a failure)

Floats match when np.allclose(got, want, rtol=1e-3, atol=1e-5) holds with
NaN equal to NaN (the ONNX backend test runner's default is rtol=1e-3,
atol=1e-7; RTOL and ATOL below). Integers and bools must match exactly.
kiln-run writes bfloat16 outputs as float32, so a float32 result for a
bfloat16 output is compared as such. A passing test whose output has another
dtype of the same class (float32 for float64, int32 for int64, ...) passes
and is listed in the report.

As in tools/onnx_node_coverage.py (whose functions this script uses), a test
that fails to compile only because an axes/split-like graph input is not
constant is compiled again with its integer graph inputs turned into
initializers holding the test's values (per data set when the data sets give
different values), and `*_expanded` tests count under the op they expand.

The report (docs/onnx-conformance.md by default) has a summary line, one
table row per op and a list of every failure other than unsupported ops.

With --check-model-ops DIR the script also fails (exit status 1) when a node
test of an op used by the committed models (DIR/*.onnx; a built-in list of
transformer ops when DIR holds none) does not pass, unless the test is in
EXCLUSIONS below, or when any test crashes or times out.

  .venv/bin/python tools/onnx_conformance.py --kiln build/bin/kiln \\
      --kiln-run build/bin/kiln-run
  .venv/bin/python tools/onnx_conformance.py --kiln build/bin/kiln \\
      --kiln-run build/bin/kiln-run --ops Add,MatMul,Softmax -v
  .venv/bin/python tools/onnx_conformance.py --kiln build/bin/kiln \\
      --kiln-run build/bin/kiln-run --check-model-ops test/models \\
      --only-model-ops --output build/onnx-conformance.md
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
import shutil
import sys
import tempfile
import threading

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import onnx_node_coverage as coverage  # noqa: E402

REPO = coverage.REPO
DEFAULT_OUTPUT = REPO / "docs" / "onnx-conformance.md"
RTOL = 1e-3
ATOL = 1e-5

# Node tests of model ops that may fail without failing the check: each is a
# case where ONNX tests something outside Kiln's scope. Patterns are fnmatch
# patterns on the test name; every entry needs its reason. Crashes and
# timeouts are never excluded. The import-level exclusions of
# tools/onnx_node_coverage.py apply here too. The script notes entries that
# no longer match a failing test, so the table does not outlive its reasons.
EXCLUSIONS: list[tuple[str, str]] = [
    *coverage.EXCLUSIONS,
    # --- Expected data that disagrees with the op's definition.
    ("test_cast_FLOAT_to_BFLOAT16", "the test data truncates float32 to bfloat16 (onnx "
     "backend/test/case/node/cast.py keeps the high 16 bits); Kiln rounds to nearest even"),
    ("test_castlike_FLOAT_to_BFLOAT16*", "the test data truncates float32 to bfloat16 (onnx "
     "backend/test/case/node/cast.py keeps the high 16 bits); Kiln rounds to nearest even"),
    ("test_qlinearmatmul_*_int8_*", "the test data wraps int8 results around (the reference "
     "ends in astype(int8): -236 becomes 20) where QLinearMatMul saturates; Kiln saturates "
     "and equals onnxruntime exactly on these models"),
    ("test_attention_3d*", "onnx 1.18's reference split 3-D heads by reshaping [B, S, H*D] "
     "straight to [B, H, S, D]; ONNX fixed it to reshape to [B, S, H, D] and transpose "
     "(onnx#7142), as PyTorch and onnxruntime compute; Kiln follows the fix and matches "
     "onnxruntime on these models to 2e-7 (the _expanded tests, whose function body has the "
     "old split, pass)"),
    ("test_attention_4d_gqa*", "onnx 1.18's reference tiled the kv heads for grouped-query "
     "attention; ONNX fixed it to give query head h the kv head h / group (onnx#7274), as "
     "PyTorch and onnxruntime compute; Kiln follows the fix and matches onnxruntime on these "
     "models to 2e-7"),
]

# The statuses in report order, with the labels the report uses.
STATUS_LABELS = {
    "pass": "pass",
    "wrong": "wrong result",
    "compile": "compile error",
    "unsupported": "unsupported op",
    "opset": "opset out of range",
    "run": "run error",
    "crash": "crash",
    "timeout": "timeout",
}
# The statuses that never pass the check, exclusions or not.
ALWAYS_FAIL = ("crash", "timeout")


@dataclasses.dataclass
class Result(coverage.Case):
    data_sets: int = 0
    # Passing outputs whose dtype differs from the expected one (same class).
    dtype_notes: list[str] = dataclasses.field(default_factory=list)


def dtype_class(dtype: np.dtype) -> str:
    if dtype.kind == "f":
        return "float"
    if dtype.kind in "iu":
        return "int"
    if dtype.kind == "b":
        return "bool"
    return str(dtype)


def expected_array(path: pathlib.Path, declared: int) -> np.ndarray:
    """The expected output in `path`, of the declared ONNX element type;
    bfloat16 is widened to float32, as kiln-run writes it. The node tests
    store bfloat16 data as UINT16 tensors of the same bits."""
    tensor = onnx.TensorProto.FromString(path.read_bytes())
    if tensor.data_type == onnx.TensorProto.BFLOAT16 or (
            declared == onnx.TensorProto.BFLOAT16 and tensor.data_type == onnx.TensorProto.UINT16):
        # onnx 1.18 gives bfloat16 as a structured uint16 dtype; widen it.
        bits = numpy_helper.to_array(tensor).view(np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32)
    return numpy_helper.to_array(tensor)


def short_number(x: float) -> str:
    return f"{x:.3g}"


def compare(name: str, got: np.ndarray, want: np.ndarray) -> str | None:
    """Why `got` does not match `want` (output `name`), or None."""
    if dtype_class(got.dtype) != dtype_class(want.dtype) or want.dtype.kind not in "fiub":
        return f"output '{name}' is {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"output '{name}' has shape {list(got.shape)}, expected {list(want.shape)}"
    if got.size == 0:
        return None
    if want.dtype.kind == "f":
        g, w = got.astype(np.float64), want.astype(np.float64)
        close = np.isclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True)
        if close.all():
            return None
        off = int((~close).sum())
        finite = np.isfinite(g) & np.isfinite(w)
        text = f"output '{name}': {off}/{g.size} elements off"
        if (finite & ~close).any():
            mask = finite & ~close
            diff = np.abs(g[mask] - w[mask])
            text += f", max abs diff {short_number(float(diff.max()))}"
        special = int((~finite & ~close).sum())
        if special:
            text += f", {special} NaN/Inf mismatches"
        return text
    if np.array_equal(got, want):
        return None
    differ = got != want
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    return (f"output '{name}': {int(differ.sum())}/{got.size} elements differ, "
            f"max abs diff {short_number(float(diff.max()))}")


def file_name_for(name: str) -> str:
    """kiln-run's output file name (fileNameFor in runtime/tools/kiln_run.cpp)."""
    out = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_"
                  for c in name)
    return "output" + out if out in ("", ".", "..") else out


OUTPUT_LINE = re.compile(r"^output (.*): (\S+) \[[-0-9,]*\] sum=")


def output_files(stdout: str) -> dict[str, str]:
    """Output name -> .npy file name (without suffix), from kiln-run's
    `output <name>: ...` lines, deduplicated as kiln-run does."""
    names = [m.group(1) for m in map(OUTPUT_LINE.match, stdout.splitlines()) if m]
    files, taken = {}, set()
    for index, name in enumerate(names):
        file = file_name_for(name)
        if file in taken:
            file += f"_{index}"
        taken.add(file)
        files[name] = file
    return files


def tidy(reason: str, *paths: tuple[pathlib.Path, str]) -> str:
    for path, shown in paths:
        reason = reason.replace(str(path), shown)
    reason = re.sub(r"^kiln-run: error: ", "", reason)
    return reason


def compile_model(kiln: str, model: pathlib.Path, library: pathlib.Path, timeout: float):
    status, reason, _ = coverage.run_kiln(
        [kiln, "compile", str(model), "-o", str(library)], model, timeout)
    return status, tidy(reason, (library, "model.so"))


def data_sets(test_dir: pathlib.Path) -> list[pathlib.Path]:
    """The test's test_data_set_<n> folders in the order of n."""
    def number(path: pathlib.Path) -> int:
        suffix = path.name.rpartition("_")[2]
        return int(suffix) if suffix.isdigit() else 1 << 30
    return sorted((p for p in test_dir.glob("test_data_set_*") if p.is_dir()), key=number)


def run_data_set(case: Result, kiln_run: str, library: pathlib.Path, model: onnx.ModelProto,
                 data: pathlib.Path, work: pathlib.Path, timeout: float) -> tuple[str, str]:
    """(status, reason) of running `library` on data set `data`."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    out_dir = work / f"out-{data.name}"
    command = [kiln_run, str(library), "--threads", "1", "--output-dir", str(out_dir)]
    for index, info in enumerate(inputs):
        name = info.name
        pb = data / f"input_{index}.pb"
        if name in case.constant_inputs or not pb.exists():
            continue
        if info.type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16:
            # The node tests store bfloat16 inputs as UINT16 tensors of the same bits.
            tensor = onnx.TensorProto.FromString(pb.read_bytes())
            if tensor.data_type == onnx.TensorProto.UINT16:
                tensor.data_type = onnx.TensorProto.BFLOAT16
                if not tensor.HasField("raw_data"):
                    tensor.raw_data = np.asarray(tensor.int32_data, np.uint16).tobytes()
                    del tensor.int32_data[:]
                pb = work / f"{data.name}-input_{index}.pb"
                pb.write_bytes(tensor.SerializeToString())
        command += ["--input", str(pb) if "=" in name else f"{name}={pb}"]
    status, reason, stdout = coverage.run_kiln(command, library, timeout, shown="model.so")
    if status != "ok":
        status = status if status in ("crash", "timeout") else "run"
        return status, tidy(reason, (data, data.name), (work, "."))
    files = output_files(stdout)
    names = list(files)
    compared = 0
    for index, output in enumerate(model.graph.output):
        expected = data / f"output_{index}.pb"
        if not expected.exists():
            continue
        compared += 1
        if not output.type.HasField("tensor_type"):
            return "wrong", f"output '{output.name}' is not a tensor"
        file = files.get(output.name)
        if file is None and len(names) == len(model.graph.output):
            file = files[names[index]]
        if file is None:
            return "wrong", f"no output '{output.name}' (kiln-run gave {', '.join(names)})"
        try:
            got = np.load(out_dir / f"{file}.npy", allow_pickle=False)
        except (OSError, ValueError) as error:
            return "run", f"cannot read output '{output.name}': {error}"
        try:
            want = expected_array(expected, output.type.tensor_type.elem_type)
        except Exception as error:  # an element type numpy_helper cannot give
            return "wrong", f"cannot read expected output '{output.name}': {error}"
        problem = compare(output.name, got, want)
        if problem:
            return "wrong", problem
        if got.dtype != want.dtype:
            case.dtype_notes.append(f"'{output.name}' {got.dtype}, expected {want.dtype}")
    if not compared:
        return "run", "the data set has no expected output (output_*.pb) to compare"
    return "pass", ""


def same_inputs(test_dir: pathlib.Path, a: str, b: str, names: list[str],
                model: onnx.ModelProto) -> bool:
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in initializers]
    for index, name in enumerate(inputs):
        if name in names:
            pa, pb = (test_dir / s / f"input_{index}.pb" for s in (a, b))
            if not pb.exists() or pa.read_bytes() != pb.read_bytes():
                return False
    return True


def run_case(case: Result, kiln: str, kiln_run: str, timeout: float,
             scratch: pathlib.Path) -> Result:
    work = scratch / case.name
    work.mkdir(parents=True, exist_ok=True)
    try:
        run_case_in(case, kiln, kiln_run, timeout, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return case


def run_case_in(case: Result, kiln: str, kiln_run: str, timeout: float,
                work: pathlib.Path) -> None:
    test_dir = case.path.parent
    model = onnx.load(str(case.path), load_external_data=False)
    library = work / "model.so"
    status, reason = compile_model(kiln, case.path, library, timeout)
    constant_variant = False
    if status == "error" and "must be a compile-time constant" in reason:
        variant = work / "variant.onnx"
        made = coverage.with_constant_inputs(model, test_dir, variant)
        if made:
            # The variant's result stands, whatever it is: the test's own
            # failure is the one that remains once the inputs are constant.
            status, reason = compile_model(kiln, variant, library, timeout)
            case.constant_inputs = made
            constant_variant = True
    if status != "ok":
        case.status = "compile" if status == "error" else status
        case.reason = reason
        return
    sets = data_sets(test_dir)
    case.data_sets = len(sets)
    if not sets:
        case.status, case.reason = "run", "the test has no data set"
        return
    for data in sets:
        lib = library
        if constant_variant and data.name != "test_data_set_0" and not same_inputs(
                test_dir, "test_data_set_0", data.name, case.constant_inputs, model):
            # This data set gives other axes/split values: compile them in.
            variant = work / f"variant-{data.name}.onnx"
            lib = work / f"model-{data.name}.so"
            coverage.with_constant_inputs(model, test_dir, variant, data.name)
            status, reason = compile_model(kiln, variant, lib, timeout)
            if status != "ok":
                case.status = "compile" if status == "error" else status
                case.reason = f"{data.name}: {reason}"
                return
        status, reason = run_data_set(case, kiln_run, lib, model, data, work, timeout)
        if status != "pass":
            case.status = status
            case.reason = f"{data.name}: {reason}" if len(sets) > 1 else reason
            case.dtype_notes.clear()
            return
    case.status = "pass"


def exclusion_for(case: Result) -> str | None:
    """The reason a failing test is excluded from the model-op check, or None."""
    for pattern, reason in EXCLUSIONS:
        if fnmatch.fnmatchcase(case.name, pattern):
            return reason
    return None


percent = coverage.percent
escape = coverage.escape


def summary_line(cases: list[Result]) -> str:
    counts = collections.Counter(c.status for c in cases)
    total = len(cases)
    parts = []
    for status, label in STATUS_LABELS.items():
        if status != "pass" and not counts[status]:
            continue
        part = f"{counts[status]} {label}"
        if status == "pass":
            part += f" ({percent(counts[status], total)})"
            constant = sum(bool(c.constant_inputs) for c in cases if c.status == "pass")
            if constant:
                part += f" [{constant} of them with axes/split-like inputs given as constants]"
        parts.append(part)
    return f"{total} node tests: " + ", ".join(parts)


def shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


MAX_GROUPS = 4


def failure_cell(failed: list[Result]) -> str:
    """Failing tests grouped by reason; wrong results name their detail."""
    by_reason: dict[str, list[str]] = collections.defaultdict(list)
    for case in failed:
        if case.status in ("unsupported", "opset"):
            key = STATUS_LABELS[case.status]
            if case.status == "opset":
                key += f" ({case.opset})" if case.opset is not None else " (no default-domain opset)"
            by_reason[key].append(case.name)
        elif case.status == "wrong":
            by_reason["wrong"].append(f"{case.name} ({shorten(case.reason, 90)})")
        else:
            by_reason[f"{STATUS_LABELS[case.status]}: {shorten(case.reason, 100)}"].append(case.name)
    items, hidden = [], 0
    # The largest groups first; at most MAX_GROUPS of them are spelled out.
    for key, names in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if key.startswith(("unsupported", "opset")):
            items.append(f"{escape(key)} ({len(names)})")
        elif len(items) >= MAX_GROUPS:
            hidden += len(names)
        else:
            shown = ", ".join(names[:3]) + (f", ... ({len(names)} tests)" if len(names) > 3 else "")
            items.append(f"{escape(key)}: {escape(shown)}")
    if hidden:
        items.append(f"{hidden} more (see Failures)")
    return "<br>".join(items)


def write_report(path: pathlib.Path, cases: list[Result], check: dict | None,
                 selection: str) -> None:
    by_op: dict[str, list[Result]] = collections.defaultdict(list)
    for case in cases:
        by_op[case.op].append(case)
    lines = [
        "# ONNX backend node test conformance",
        "",
        f"Generated by `tools/onnx_conformance.py` from the node tests of onnx "
        f"{onnx.__version__} (`onnx/backend/test/data/node`){selection}; do not edit by "
        "hand. Each test's model is compiled with `kiln compile` (default pipeline) and "
        "each of its data sets is run with `kiln-run --threads 1`; every output must "
        "have the expected shape and dtype class (float, int, bool) and match the "
        f"expected values: floats with `np.allclose(got, want, rtol={RTOL:g}, "
        f"atol={ATOL:g})` and NaN equal to NaN (the ONNX backend runner's default is "
        "rtol=1e-3, atol=1e-7), integers and bools exactly. `*_expanded` tests (the "
        "op's function body) count under the op they expand. \"With constant inputs\": "
        "the test feeds axes, split sizes or the like as graph inputs, which Kiln needs "
        "as constants; they were made initializers holding the test's values.",
        "",
        f"**Summary:** {summary_line(cases)}.",
        "",
    ]
    if check is not None:
        lines += [
            f"**Model ops** ({check['source']}): {len(check['ops'])} op types, "
            f"{check['tests']} node tests, {check['passed']} pass, "
            f"{len(check['excluded'])} excluded, {len(check['failed'])} failing.",
            "",
        ]
        for case in check["failed"]:
            lines.append(f"- FAILING: {case.name} ({case.op}): {STATUS_LABELS[case.status]}: "
                         f"{escape(case.reason)}")
        if check["failed"]:
            lines.append("")
    failing = [c for c in cases if c.status != "pass"]
    lines += [
        "## Exclusions",
        "",
        "Failing node tests of model ops that do not fail the `--check-model-ops` check, "
        "because ONNX tests something outside Kiln's scope there (the `EXCLUSIONS` table "
        "in the script, which includes that of `tools/onnx_node_coverage.py`):",
        "",
        "| Pattern | Reason | Failing tests matched |",
        "|---|---|---|",
    ]
    for pattern, reason in EXCLUSIONS:
        matched = [c.name for c in failing if fnmatch.fnmatchcase(c.name, pattern)]
        lines.append(f"| `{pattern}` | {escape(reason)} | {len(matched)} |")
    lines += ["", "## By op", "",
              "| Op | Tests | Pass | Wrong | Compile error | Unsupported | "
              "Run error/crash/timeout | Failures |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for op in sorted(by_op, key=str.lower):
        group = by_op[op]
        count = collections.Counter(c.status for c in group)
        passed = [c for c in group if c.status == "pass"]
        constant = sum(bool(c.constant_inputs) for c in passed)
        cell = f"{len(passed)}" + (f" ({constant} with constant inputs)" if constant else "")
        failed = [c for c in group if c.status != "pass"]
        lines.append(
            f"| {escape(op)} | {len(group)} | {cell} | {count['wrong']} | {count['compile']} | "
            f"{count['unsupported'] + count['opset']} | "
            f"{count['run'] + count['crash'] + count['timeout']} | {failure_cell(failed)} |")
    detailed = [c for c in cases if c.status not in ("pass", "unsupported", "opset")]
    lines += ["", "## Failures", "",
              "Every failing test except those of unsupported ops and opsets, with its "
              "reason (the first differing output of the first failing data set, or the "
              "first error line). \"Constant inputs\": the graph inputs made initializers "
              "before compiling.", ""]
    if detailed:
        lines += ["| Test | Op | Status | Reason | Constant inputs |", "|---|---|---|---|---|"]
        for case in sorted(detailed, key=lambda c: (c.op.lower(), c.name)):
            lines.append(f"| {case.name} | {escape(case.op)} | {STATUS_LABELS[case.status]} | "
                         f"{escape(case.reason)} | {escape(', '.join(case.constant_inputs))} |")
    else:
        lines.append("None.")
    noted = [c for c in cases if c.status == "pass" and c.dtype_notes]
    lines += ["", "## Passing with another dtype", "",
              "Passing tests with an output of another dtype than expected (same class):", ""]
    if noted:
        for case in sorted(noted, key=lambda c: c.name):
            lines.append(f"- {case.name} ({escape(case.op)}): "
                         f"{escape('; '.join(case.dtype_notes))}")
    else:
        lines.append("None.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", default=str(REPO / "build" / "bin" / "kiln"))
    parser.add_argument("--kiln-run", default=str(REPO / "build" / "bin" / "kiln-run"))
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), type=pathlib.Path)
    parser.add_argument("--check-model-ops", type=pathlib.Path, metavar="DIR")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds for each kiln compile and each kiln-run (default 60)")
    parser.add_argument("--filter", default="*", help="fnmatch pattern on test names")
    parser.add_argument("--ops", default="",
                        help="comma-separated op types: only their tests (as grouped in the "
                        "report, e.g. Add or LayerNormalization)")
    parser.add_argument("--only-model-ops", action="store_true",
                        help="with --check-model-ops: run only the tests of the ops the "
                        "models use (as if they were given with --ops)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print progress and every failing test and its reason")
    args = parser.parse_args()

    for tool, flag in ((args.kiln, "--kiln"), (args.kiln_run, "--kiln-run")):
        if not os.access(tool, os.X_OK):
            print(f"onnx_conformance: no executable at {tool} ({flag})", file=sys.stderr)
            return 2
    ops = {o.strip() for o in args.ops.split(",") if o.strip()}
    if args.only_model_ops:
        if args.check_model_ops is None:
            parser.error("--only-model-ops needs --check-model-ops DIR")
        model_op_set = coverage.model_ops(args.check_model_ops)[0]
        ops = ops & model_op_set if ops else model_op_set
    cases = [Result(**{f.name: getattr(c, f.name) for f in dataclasses.fields(c)})
             for c in coverage.collect_cases(coverage.node_test_dir())
             if fnmatch.fnmatchcase(c.name, args.filter) and (not ops or c.op in ops)]
    unknown = {o.strip() for o in args.ops.split(",") if o.strip()} - {c.op for c in cases}
    if unknown:
        print(f"onnx_conformance: no node test of op(s) {', '.join(sorted(unknown))}"
              + (f" matching '{args.filter}'" if args.filter != "*" else ""), file=sys.stderr)

    done = 0
    lock = threading.Lock()

    def work(case: Result) -> Result:
        nonlocal done
        run_case(case, args.kiln, args.kiln_run, args.timeout, pathlib.Path(scratch))
        with lock:
            done += 1
            if args.verbose and (done % 50 == 0 or done == len(cases)):
                print(f"[{done}/{len(cases)}]", file=sys.stderr, flush=True)
        return case

    try:
        with tempfile.TemporaryDirectory(prefix="kiln-conformance-") as scratch, \
                concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            list(pool.map(work, cases))
    except OSError as error:  # a tool vanished mid-run (a rebuild), say
        print(f"onnx_conformance: cannot run {error.filename}: {error.strerror}",
              file=sys.stderr)
        return 2

    check = None
    status = 0
    if args.check_model_ops is not None:
        model_op_set, source = coverage.model_ops(args.check_model_ops)
        relevant = [c for c in cases if c.op in model_op_set]
        check = {"source": source, "ops": model_op_set & {c.op for c in cases} if ops
                 else model_op_set,
                 "tests": len(relevant), "passed": sum(c.status == "pass" for c in relevant),
                 "excluded": [], "failed": []}
        for case in relevant:
            if case.status == "pass":
                continue
            reason = exclusion_for(case)
            if reason is not None and case.status not in ALWAYS_FAIL:
                check["excluded"].append((case, reason))
            else:
                check["failed"].append(case)

    selection = []
    if args.filter != "*":
        selection.append(f"tests matching `{args.filter}`")
    if ops:
        selection.append(f"tests of {len(ops)} op types")
    write_report(args.output, cases, check,
                 f", restricted to {' and '.join(selection)}" if selection else "")
    print(summary_line(cases))
    print(f"report: {args.output}")
    if args.verbose:
        for case in cases:
            if case.status != "pass":
                print(f"  {case.name} [{case.op}] {STATUS_LABELS[case.status]}: {case.reason}")
    if check is not None:
        print(f"model ops ({check['source']}): {check['tests']} tests, {check['passed']} "
              f"pass, {len(check['excluded'])} excluded, {len(check['failed'])} failing")
        for case in check["failed"]:
            print(f"FAIL {case.name} [{case.op}] {STATUS_LABELS[case.status]}: {case.reason}")
        if check["failed"]:
            status = 1
        relevant = [c for c in cases if c.op in model_op_set]
        for pattern, reason in EXCLUSIONS:
            matched = [c for c in relevant if fnmatch.fnmatchcase(c.name, pattern)]
            if matched and all(c.status == "pass" for c in matched):
                print(f"note: exclusion '{pattern}' ({reason}) matches no failing test; "
                      "remove it if its tests pass now")
    for case in cases:
        if case.status in ALWAYS_FAIL:
            if check is None or not any(case is c for c in check["failed"]):
                print(f"FAIL {case.name} [{case.op}] {STATUS_LABELS[case.status]}: "
                      f"{case.reason}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
