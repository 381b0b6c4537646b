"""An ONNX model with its float32 tensors made float16.

What a float16 export of a float32 model looks like, for checking Kiln's
float16 models against onnxruntime on the same graph (tools/difftest.py
--float16-model, tools/check_numerics.py --float16): both compute such a
model in f32 and round its outputs.
"""

import numpy as np
import onnx
from onnx import TensorProto as TP, numpy_helper


def float16_model(model):
    """`model` with every float32 tensor float16: inputs, outputs, value
    infos, initializers, tensor attributes (Constant's, ConstantOfShape's)
    and Casts to float. Values beyond float16's range become infinities (a
    mask's -3.4e38 is -inf). Float attributes (alpha, epsilon) stay f32, as
    ONNX has them, and so do Resize's roi and scales (float32 only); other
    ops that need f32 (QuantizeLinear before opset 19) make a model the
    checker rejects."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    resize_parameters = {n for node in m.graph.node if node.op_type == "Resize"
                         for n in node.input[1:3]}
    for info in [*m.graph.input, *m.graph.output, *m.graph.value_info]:
        if info.type.tensor_type.elem_type == TP.FLOAT:
            info.type.tensor_type.elem_type = TP.FLOAT16

    def halve(tensor):
        if tensor.data_type == TP.FLOAT:
            tensor.CopyFrom(numpy_helper.from_array(
                numpy_helper.to_array(tensor).astype(np.float16), tensor.name))
    for tensor in m.graph.initializer:
        if tensor.name not in resize_parameters:
            halve(tensor)
    for node in m.graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and not set(node.output) & resize_parameters:
                halve(a.t)
            elif node.op_type == "Cast" and a.name == "to" and a.i == TP.FLOAT:
                a.i = TP.FLOAT16
    return m
