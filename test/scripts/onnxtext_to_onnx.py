#!/usr/bin/env python3
"""Turns a lit test holding an ONNX model in textual syntax into a .onnx file.

The input is a lit test file: lines whose first non-blank character is `#`
(the RUN/CHECK lines) are dropped and the rest is parsed with
onnx.parser.parse_model. Optional post-processing makes the malformed or
unusual files the importer must handle, from the same readable text:

  --set-opset K             rewrite the default-domain opset import to K
  --rename OLD=NEW          rename a value (input, output, initializer, node
                            input or output) or a node, for names the text
                            syntax cannot spell ("/encoder/weight")
  --raw-data                store every initializer as raw_data
  --raw-data-length NAME=N  store initializer NAME as raw_data cut (or padded
                            with zeros) to N bytes
  --external-data           move every initializer and Constant value to one
                            side file, <output name>.data next to the model
                            (the name is relative, as ONNX stores it)
  --external-data-length N  then cut that side file to N bytes
  --remove-external-data    then delete that side file
  --external-data-entry K=V then set external_data entry K (location,
                            offset, length) of every initializer to V, or
                            remove it when V is empty
  --set-op-type NODE=T      set the op_type of node NODE to T (may be empty)
  --set-inputs NODE=JSON    set the inputs of node NODE to a JSON list of
                            names ('[]' for none, '[""]' for one empty name)
  --set-outputs NODE=JSON   likewise its outputs
  --set-attribute NODE.ATTR=JSON
                            replace (or add) attribute ATTR of node NODE with
                            one of the JSON value's type: 1.5 is a FLOAT, 1 an
                            INT, "s" a STRING, [1, 2] INTS, [1.0] FLOATS
  --add-attribute NODE.ATTR=JSON
                            the same, but added even if ATTR is there already
  --set-attribute-type NODE.ATTR=T
                            set the type field of attribute ATTR of node NODE
                            to T (INT, FLOAT, ..., UNDEFINED), leaving its
                            value where it is
  --truncate N              keep only the first N bytes of the .onnx file
  --random-bytes N          ignore the text; write N pseudo-random bytes
                            (fixed seed, so the file is the same every run)
  --check                   run onnx.checker on the model before saving

  %python %kiln_src/test/scripts/onnxtext_to_onnx.py %s %t.onnx [flags]
"""

import argparse
import json
import os
import random
import sys

import onnx
import onnx.external_data_helper
import onnx.helper
import onnx.numpy_helper
import onnx.parser


def model_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def rename(model: onnx.ModelProto, old: str, new: str) -> bool:
    """Renames value or node `old` to `new` everywhere; False if unused."""
    found = False
    graph = model.graph
    for info in list(graph.input) + list(graph.output) + list(graph.value_info):
        if info.name == old:
            info.name, found = new, True
    for tensor in graph.initializer:
        if tensor.name == old:
            tensor.name, found = new, True
    for node in graph.node:
        for names in (node.input, node.output):
            for i, name in enumerate(names):
                if name == old:
                    names[i], found = new, True
        if node.name == old:
            node.name, found = new, True
    return found


def to_raw_data(tensor: onnx.TensorProto) -> None:
    """Re-stores `tensor` (typed fields or raw) as raw_data."""
    array = onnx.numpy_helper.to_array(tensor)
    tensor.CopyFrom(onnx.numpy_helper.from_array(array, tensor.name))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="lit test file with the model as ONNX text")
    parser.add_argument("output", help=".onnx file to write")
    parser.add_argument("--set-opset", type=int, metavar="K")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW")
    parser.add_argument("--raw-data", action="store_true")
    parser.add_argument("--raw-data-length", action="append", default=[], metavar="NAME=N")
    parser.add_argument("--external-data", action="store_true")
    parser.add_argument("--external-data-length", type=int, metavar="N")
    parser.add_argument("--remove-external-data", action="store_true")
    parser.add_argument("--external-data-entry", action="append", default=[], metavar="K=V")
    parser.add_argument("--set-op-type", action="append", default=[], metavar="NODE=T")
    parser.add_argument("--set-inputs", action="append", default=[], metavar="NODE=JSON")
    parser.add_argument("--set-outputs", action="append", default=[], metavar="NODE=JSON")
    parser.add_argument("--set-attribute", action="append", default=[],
                        metavar="NODE.ATTR=JSON")
    parser.add_argument("--add-attribute", action="append", default=[],
                        metavar="NODE.ATTR=JSON")
    parser.add_argument("--set-attribute-type", action="append", default=[],
                        metavar="NODE.ATTR=T")
    parser.add_argument("--truncate", type=int, metavar="N")
    parser.add_argument("--random-bytes", type=int, metavar="N")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    if args.random_bytes is not None:
        data = random.Random(0x4B494C4E).randbytes(args.random_bytes)
        with open(args.output, "wb") as f:
            f.write(data)
        return 0

    try:
        model = onnx.parser.parse_model(model_text(args.input))
    except onnx.parser.ParseError as e:
        print(f"{args.input}: cannot parse the ONNX text: {e}", file=sys.stderr)
        return 1

    if args.set_opset is not None:
        for entry in model.opset_import:
            if entry.domain in ("", "ai.onnx"):
                entry.version = args.set_opset
    for entry in args.rename:
        old, _, new = entry.partition("=")
        if not rename(model, old, new):
            print(f"--rename: nothing is named '{old}'", file=sys.stderr)
            return 1
    nodes = {node.name: node for node in model.graph.node if node.name}

    def node_named(name: str) -> onnx.NodeProto:
        if name not in nodes:
            sys.exit(f"no node named '{name}'")
        return nodes[name]

    for entry in args.set_op_type:
        name, _, op_type = entry.partition("=")
        node_named(name).op_type = op_type
    for which, entries in (("input", args.set_inputs), ("output", args.set_outputs)):
        for entry in entries:
            name, _, values = entry.partition("=")
            field = getattr(node_named(name), which)
            del field[:]
            field.extend(json.loads(values))
    for entry, replace in [(e, True) for e in args.set_attribute] + \
                          [(e, False) for e in args.add_attribute]:
        target, _, value = entry.partition("=")
        name, _, attr_name = target.partition(".")
        node = node_named(name)
        if replace:
            kept = [a for a in node.attribute if a.name != attr_name]
            del node.attribute[:]
            node.attribute.extend(kept)
        node.attribute.append(onnx.helper.make_attribute(attr_name, json.loads(value)))
    for entry in args.set_attribute_type:
        target, _, type_name = entry.partition("=")
        name, _, attr_name = target.partition(".")
        attrs = [a for a in node_named(name).attribute if a.name == attr_name]
        if not attrs:
            sys.exit(f"--set-attribute-type: node '{name}' has no attribute '{attr_name}'")
        attrs[0].type = onnx.AttributeProto.AttributeType.Value(type_name)
    if args.check:
        onnx.checker.check_model(model, full_check=True)

    initializers = {t.name: t for t in model.graph.initializer}
    if args.raw_data:
        for tensor in initializers.values():
            to_raw_data(tensor)
    for entry in args.raw_data_length:
        name, _, length = entry.rpartition("=")
        if name not in initializers:
            print(f"--raw-data-length: no initializer '{name}'", file=sys.stderr)
            return 1
        tensor = initializers[name]
        to_raw_data(tensor)
        n = int(length)
        tensor.raw_data = tensor.raw_data[:n].ljust(n, b"\0")

    data_path = None
    if args.external_data:
        location = os.path.basename(args.output) + ".data"
        data_path = os.path.join(os.path.dirname(os.path.abspath(args.output)), location)
        # onnx appends to an existing side file; start from an empty one.
        if os.path.exists(data_path):
            os.remove(data_path)
        # Only raw_data moves out; the parser writes typed fields.
        tensors = list(model.graph.initializer) + [
            attr.t for node in model.graph.node for attr in node.attribute
            if attr.type == onnx.AttributeProto.TENSOR]
        for tensor in tensors:
            to_raw_data(tensor)
        onnx.external_data_helper.convert_model_to_external_data(
            model, all_tensors_to_one_file=True, location=location, size_threshold=0,
            convert_attribute=True)
    onnx.save(model, args.output)

    if data_path is not None:
        if args.external_data_length is not None:
            with open(data_path, "r+b") as f:
                f.truncate(args.external_data_length)
        if args.remove_external_data:
            os.remove(data_path)
        if args.external_data_entry:
            # Rewrite the model alone: onnx.save would recompute the entries.
            model = onnx.load(args.output, load_external_data=False)
            for entry in args.external_data_entry:
                key, _, value = entry.partition("=")
                for tensor in model.graph.initializer:
                    entries = {e.key: e for e in tensor.external_data}
                    if not value:
                        kept = [e for e in tensor.external_data if e.key != key]
                        del tensor.external_data[:]
                        tensor.external_data.extend(kept)
                    elif key in entries:
                        entries[key].value = value
                    else:
                        tensor.external_data.add(key=key, value=value)
            with open(args.output, "wb") as f:
                f.write(model.SerializeToString())
    if args.truncate is not None:
        with open(args.output, "r+b") as f:
            f.truncate(args.truncate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
