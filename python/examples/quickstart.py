import numpy as np
import kiln
kiln.compile("test/models/bert-tiny.dynamo.onnx", "bert-tiny.so")  # symbolic dims kept
session = kiln.Session("bert-tiny.so", threads=2)
for i in session.get_inputs():
    print(i.name, i.shape, i.type)  # input_ids ['batch', 'sequence'] tensor(int64)
ids = np.array([[1, 17, 42, 2]], dtype=np.int64)  # token ids (this tiny model has a small vocabulary)
feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
last_hidden_state, pooler_output = session.run(None, feeds)
print(last_hidden_state.shape, pooler_output.shape)  # (1, 4, 128) (1, 128)
