#!/usr/bin/env python3
"""Tokenizes data/sentences/*.txt for all-MiniLM-L6-v2 into Kiln input sets.

Runs in .venv-export (the tokenizer is the `tokenizers` one that
transformers loads from the model directory that
tools/models/ensure_minilm.sh unpacks; uncased WordPiece, vocab 30522).

Writes, for each of calibration.txt and eval.txt:

  data/sentences/<name>.ids      (committed) the token ids, one sentence a
                                 line, [CLS] ... [SEP], at most --max-length
  OUT/<name>/NNN/*.npy           --batch sentences a set (file order), padded
                                 with [PAD] to the longest in the set
                                 (attention_mask 0 there), token_type_ids 0;
                                 sentences.txt beside the arrays

and OUT/bench-s128/000/*.npy: --bench-batch rows of exactly 128 real tokens
each (eval sentences run together, [CLS] first and [SEP] last, no padding),
the input for latency measurements at sequence 128.

The layout is docs/datasets.md's; tools/sentence_sets.py writes and reads
it (and rebuilds the same sets from the committed .ids files without a
tokenizer).

  .venv-export/bin/python tools/models/tokenize_sentences.py \\
      --model-dir "$(tools/models/ensure_minilm.sh --dir | tail -1)" --out build/datasets/minilm
"""

import argparse
import pathlib
import sys

import transformers

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import sentence_sets  # noqa: E402

SPLITS = ("calibration", "eval")
BENCH_SEQ = 128


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=pathlib.Path, required=True,
                        help="the all-MiniLM-L6-v2 directory (tokenizer.json, tokenizer_config.json)")
    parser.add_argument("--sentences", type=pathlib.Path, default=ROOT / "data/sentences")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--batch", type=int, default=8, help="sentences per calibration/eval set")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per sentence at most (truncated)")
    parser.add_argument("--bench-batch", type=int, default=1)
    args = parser.parse_args()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(args.model_dir))
    for split in SPLITS:
        texts = args.sentences.joinpath(f"{split}.txt").read_text().splitlines()
        ids = tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
        sentence_sets.write_ids(args.sentences / f"{split}.ids", ids)
        sets = sentence_sets.make_sets(ids, args.batch)
        sentence_sets.write_sets(args.out / split, sets,
                                 [texts[i:i + args.batch] for i in range(0, len(texts), args.batch)])
        lengths = [len(r) for r in ids]
        print(f"{split}: {len(ids)} sentences, {min(lengths)}-{max(lengths)} tokens "
              f"(mean {sum(lengths) / len(lengths):.1f}), {len(sets)} sets of {args.batch} -> {args.out / split}")
    # bench-s128: the eval sentences' tokens run together, cut into rows.
    rows = sentence_sets.run_together(sentence_sets.read_ids(args.sentences / "eval.ids"), BENCH_SEQ,
                                      args.bench_batch)
    sentence_sets.write_sets(args.out / "bench-s128", [sentence_sets.batch_feeds(rows, BENCH_SEQ)])
    print(f"bench-s128: {args.bench_batch} x {BENCH_SEQ} tokens -> {args.out / 'bench-s128'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
