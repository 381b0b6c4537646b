#!/usr/bin/env python3
"""Prints the FileCheck lines of numerics.mlir from ONNX's reference evaluator.

Each case runs one ONNX node (onnx.reference) on the inputs that numerics.mlir
passes to the lowered kiln op, and prints the result the way printMemref*
does: the `sizes = [...]` of the header line, then one CHECK-NEXT per
innermost row (FileCheck ignores the amount of whitespace).

  .venv/bin/python test/passes/lower-to-linalg/Inputs/numerics_expected.py
"""

import numpy as np
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

F32 = np.float32
I64 = np.int64
INT64_MAX = np.iinfo(np.int64).max


def run(op, inputs, n_out=1, **attrs):
    names = [f"in{i}" for i in range(len(inputs))]
    outs = [f"out{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, **attrs)
    graph = helper.make_graph(
        [node], "case",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for n, v in zip(names, inputs)],
        [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    return ReferenceEvaluator(model).run(None, dict(zip(names, inputs)))


def fmt(v):
    if isinstance(v, (np.floating, float)):
        return format(float(v), "g")
    return str(int(v))


def checks(title, value):
    value = np.asarray(value)
    print(f"// {title}")
    print(f"// CHECK: sizes = [{', '.join(str(d) for d in value.shape)}]")
    rows = value.reshape(-1, value.shape[-1]) if value.ndim else value.reshape(1, 1)
    for row in rows:
        print(f"// CHECK-NEXT: [{', '.join(fmt(v) for v in row)}]")


m34 = np.arange(12, dtype=F32).reshape(3, 4)
m45 = np.arange(20, dtype=F32).reshape(4, 5)
m234 = np.arange(24, dtype=F32).reshape(2, 3, 4)

checks("gather, axis 1, negative indices",
       run("Gather", [m34, np.array([[2, -1], [0, -3]], I64)], axis=1)[0])
checks("slice, run-time axes, negative steps, clamped ends",
       run("Slice", [m45, np.array([-1, 3], I64), np.array([-100, 0], I64),
                     np.array([0, -1], I64), np.array([-2, -1], I64)])[0])
checks("slice, constant axes, end past the dim",
       run("Slice", [m45, np.array([1], I64), np.array([INT64_MAX], I64),
                     np.array([-1], I64), np.array([2], I64)])[0])
checks("reshape to [0, -1, 2]",
       run("Reshape", [m234, np.array([0, -1, 2], I64)])[0])
checks("reshape 2x3x4 to [-1, 4] (one `?` dim: through 1-D)",
       run("Reshape", [m234, np.array([-1, 4], I64)])[0])
checks("reshape 2x3x4 to [shape(x)[0:2], 2, 2] (an expand_shape)",
       run("Reshape", [m234, np.array([2, 3, 2, 2], I64)])[0])
checks("reshape 3x2x2 to [shape(y)[0], 4] (a collapse_shape)",
       run("Reshape", [np.arange(12, dtype=F32).reshape(3, 2, 2), np.array([3, 4], I64)])[0])
checks("expand 3x1 to [2, 3, 4]",
       run("Expand", [np.array([[1], [2], [3]], F32), np.array([2, 3, 4], I64)])[0])
checks("tile 2x3 by [2, 2]",
       run("Tile", [np.arange(1, 7, dtype=F32).reshape(2, 3), np.array([2, 2], I64)])[0])
checks("trilu upper, k = 1",
       run("Trilu", [m34, np.array(1, I64)], upper=1)[0])
checks("trilu lower, k = -1",
       run("Trilu", [m34, np.array(-1, I64)], upper=0)[0])
checks("concat along axis 1 (2x2, 2x3, 2x1)",
       run("Concat", [np.array([[1, 2], [3, 4]], F32),
                      np.array([[5, 6, 7], [8, 9, 10]], F32),
                      np.array([[11], [12]], F32)], axis=1)[0])
checks("range 10 down to 1 by -3",
       run("Range", [np.array(10, I64), np.array(1, I64), np.array(-3, I64)])[0])
checks("range 0.5 to 2.0 by 0.625",
       run("Range", [np.array(0.5, F32), np.array(2.0, F32), np.array(0.625, F32)])[0])
checks("shape of 2x3x4", run("Shape", [m234])[0])
checks("size of 2x3x4", run("Size", [m234])[0])
checks("constant_of_shape [2, 3] of 7",
       run("ConstantOfShape", [np.array([2, 3], I64)],
           value=helper.make_tensor("v", TensorProto.INT64, [1], [7]))[0])
m36 = np.arange(18, dtype=F32).reshape(3, 6)
middle = run("Split", [m36, np.array([1, 2, 3], I64)], n_out=3, axis=1)[1]
checks("split 3x6 into [1, 2, 3], transpose the middle",
       run("Transpose", [middle], perm=[1, 0])[0])
unsq = run("Unsqueeze", [m34, np.array([0, 2], I64)])[0]
checks("unsqueeze 3x4 at [0, 2]", unsq)
checks("squeeze it back", run("Squeeze", [unsq, np.array([0, 2], I64)])[0])
