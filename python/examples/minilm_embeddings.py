import numpy as np
import kiln
kiln.compile("build/models/minilm-l6.onnx", "minilm.so", quantize="int8")  # model: tools/models/ensure_minilm.sh
session = kiln.Session("minilm.so")
ids = [[int(t) for t in line.split()] for line in open("data/sentences/eval.ids").read().splitlines()[:3]]
input_ids = np.array([s + [0] * (max(map(len, ids)) - len(s)) for s in ids], np.int64)  # pad with [PAD] = 0
feeds = {"input_ids": input_ids, "attention_mask": (input_ids != 0).astype(np.int64), "token_type_ids": np.zeros_like(input_ids)}
(embeddings,) = session.run(["sentence_embedding"], feeds)  # float32, 384 per sentence
unit = embeddings / np.linalg.norm(embeddings.astype(np.float64), axis=1, keepdims=True)
print(embeddings.shape, (unit @ unit.T).round(2).tolist())  # cosine similarities of the 3 sentences
