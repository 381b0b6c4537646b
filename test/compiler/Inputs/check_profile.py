"""Checks a kiln profile: valid Chrome trace JSON, one run event, and node
events whose names are node names of the model (op types matching)."""
import json
import sys

import onnx

trace = json.load(open(sys.argv[1]))
model = onnx.load(sys.argv[2], load_external_data=False)
op_type = {node.name: node.op_type for node in model.graph.node}
events = [e for e in trace["traceEvents"] if e.get("ph") == "X"]
runs = [e for e in events if e["name"] == "run"]
nodes = [e for e in events if e["name"] != "run"]
assert len(runs) == 1, runs
assert len(nodes) > 50, len(nodes)
run = runs[0]
for e in nodes:
    assert e["name"] in op_type, f"{e['name']} is not a node of the model"
    assert e["cat"] == op_type[e["name"]], e
    assert run["ts"] <= e["ts"] and e["ts"] + e["dur"] <= run["ts"] + run["dur"] + 1e-3, e
timed = {e["cat"] for e in nodes}
# (Elementwise chains are fused: GELU's Erf runs inside its last Mul, and
# attention's softmax inside its first MatMul's region, kiln.attention.)
for op in ("MatMul", "Add", "LayerNormalization", "Gather"):
    assert op in timed, f"no {op} node in the profile"
print(f"ok: {len(nodes)} node events")
