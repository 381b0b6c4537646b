"""Input sets for text models: token ids -> directories of .npy files.

The one place that turns tokenized sentences into model inputs, shared by
tools/models/tokenize_sentences.py (which writes the sets) and the tools that
read them (tools/minilm_accuracy.py); the layout is docs/datasets.md's:

    DIR/
      000/  input_ids.npy  attention_mask.npy  token_type_ids.npy
      001/  ...

a directory of sets, one subdirectory each (taken in name order), each set
one .npy file per model input, named after the input; every array in a set
has the same [batch, sequence] shape. Files whose name is not an input's
(such as sentences.txt, the text a set was made from) are ignored.

A `.ids` file (data/sentences/*.ids) holds one tokenized sentence per line:
its token ids, [CLS] and [SEP] included, separated by spaces.

Only numpy and the standard library: this runs in .venv and .venv-export.
"""

from __future__ import annotations

import pathlib

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PAD_ID = 0  # BERT's [PAD]


def read_ids(path: pathlib.Path) -> list[list[int]]:
    return [[int(t) for t in line.split()] for line in pathlib.Path(path).read_text().splitlines() if line.strip()]


def write_ids(path: pathlib.Path, ids: list[list[int]]) -> None:
    pathlib.Path(path).write_text("".join(" ".join(map(str, row)) + "\n" for row in ids))


def batch_feeds(rows: list[list[int]], seq: int | None = None) -> dict[str, np.ndarray]:
    """One set: the rows padded at the end with [PAD] (attention_mask 0) to
    the longest row, or to `seq` (rows longer than `seq` are an error)."""
    length = seq if seq is not None else max(len(r) for r in rows)
    if any(len(r) > length for r in rows):
        raise ValueError(f"a row of {max(len(r) for r in rows)} tokens does not fit sequence {length}")
    ids = np.full((len(rows), length), PAD_ID, dtype=np.int64)
    mask = np.zeros((len(rows), length), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
        mask[i, :len(row)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def run_together(ids: list[list[int]], seq: int, batch: int) -> list[list[int]]:
    """`batch` rows of exactly `seq` tokens of real text: the sentences'
    tokens without their [CLS]/[SEP], run together in order and cut, each row
    [CLS] + seq - 2 tokens + [SEP] (no padding). For latency measurements."""
    cls, sep = ids[0][0], ids[0][-1]
    stream = [t for row in ids for t in row[1:-1]]
    body = seq - 2
    if len(stream) < batch * body:
        raise ValueError(f"{len(stream)} tokens, {batch} x {body} wanted")
    return [[cls, *stream[i * body:(i + 1) * body], sep] for i in range(batch)]


def make_sets(ids: list[list[int]], batch: int, seq: int | None = None) -> list[dict[str, np.ndarray]]:
    """Consecutive rows, `batch` to a set (the last set may be smaller)."""
    return [batch_feeds(ids[i:i + batch], seq) for i in range(0, len(ids), batch)]


def write_sets(directory: pathlib.Path, sets: list[dict[str, np.ndarray]],
               texts: list[list[str]] | None = None) -> None:
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for index, feeds in enumerate(sets):
        sub = directory / f"{index:03d}"
        sub.mkdir(exist_ok=True)
        for name, value in feeds.items():
            np.save(sub / f"{name}.npy", value)
        if texts is not None:
            (sub / "sentences.txt").write_text("".join(t + "\n" for t in texts[index]))


def read_sets(directory: pathlib.Path, inputs=INPUTS) -> list[tuple[str, dict[str, np.ndarray]]]:
    """(set name, {input: array}) for every subdirectory holding all `inputs`, in name order."""
    found = []
    for sub in sorted(p for p in pathlib.Path(directory).iterdir() if p.is_dir()):
        if all((sub / f"{name}.npy").is_file() for name in inputs):
            found.append((sub.name, {name: np.load(sub / f"{name}.npy") for name in inputs}))
    if not found:
        raise FileNotFoundError(f"{directory}: no subdirectory holds {', '.join(n + '.npy' for n in inputs)}")
    return found


def main() -> int:
    """`python tools/sentence_sets.py --ids data/sentences/eval.ids --out DIR`:
    writes the sets that tools/minilm_accuracy.py measures on, in the layout
    above, for `kiln compile --eval-data DIR` (no tokenizer needed)."""
    import argparse
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--ids", type=pathlib.Path, default=root / "data/sentences/eval.ids",
                        help="tokenized sentences, one a line (default: data/sentences/eval.ids)")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="the directory of sets to write")
    parser.add_argument("--batch", type=int, default=8, help="sentences per set (default 8)")
    parser.add_argument("--limit", type=int, help="only the first N sentences")
    args = parser.parse_args()
    ids = read_ids(args.ids)[:args.limit]
    sets = make_sets(ids, args.batch)
    write_sets(args.out, sets)
    print(f"{args.out}: {len(sets)} sets of up to {args.batch} sentences from {args.ids}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
