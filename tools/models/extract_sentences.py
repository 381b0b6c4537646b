#!/usr/bin/env python3
"""Picks the English sentences of data/sentences/ from The Devil's Dictionary.

The source is Debian's `dict-devil` package (Ambrose Bierce, 1911, public
domain; see data/sentences/README.md), file /usr/share/dictd/devil.dict.dz
(dictzip, which gzip reads). Without installing it:

    apt-get download dict-devil && dpkg-deb -x dict-devil_*.deb dict-devil
    python3 tools/models/extract_sentences.py dict-devil/usr/share/dictd/devil.dict.dz --out data/sentences

Only the prose is used (definitions and anecdotes, lines starting in column
0); the verse and the quoted passages (indented lines) and the preface are
left out. The text separates sentences with two spaces, which is where it
is split. A sentence is kept if it has 5-60 words, no underscores (the
text's italics), no unbalanced quotes or brackets, and none of the words in
EXCLUDED (the 1911 text's ethnic and sexist jokes have no place in a
test set). The kept sentences are shuffled with a fixed seed and dealt into
calibration.txt and eval.txt (--count each), one sentence a line, so that
both get the same spread of lengths: sorted by length, each consecutive pair
goes one to each file.
"""

import argparse
import gzip
import pathlib
import random
import re
import sys

EXCLUDED = re.compile(
    r"\b(negro\w*|nigger\w*|chinam[ae]n|chinese|jew\w*|savage\w*|aborigin\w*|slave\w*|squaw\w*|indians?"
    r"|african\w*|mohammed\w*|heathen\w*|turks?|mulatto\w*|race|races|women|woman|wife|wives|widow\w*"
    r"|girl\w*|female\w*|bride\w*|husband\w*|lady|ladies|rape\w*|kill\w*|murder\w*|hang\w*|suicide|"
    r"dead|death|die|dies|died|corpse\w*|god|christ\w*|religio\w*|pray\w*|bible|church\w*|priest\w*|"
    r"irish\w*|dutch\w*|scot\w*|yankee\w*|italian\w*|hindu\w*|cannibal\w*|idiot\w*|lunatic\w*|insane|fertilize|caucasian|mongolian|apache|cheyenne|tribe\w*|barbar\w*|feminine|zanzibar\w*)\b",
    re.IGNORECASE)
HEADWORD = re.compile(r"^[A-Z][A-Z' -]+(?:, [a-z. ]+?\.)?\s{2}")


def prose_paragraphs(text: str) -> list[str]:
    """The unindented paragraphs after the preface, each joined into one line."""
    body = text[text.index("\nABASEMENT, n."):]
    paragraphs, lines = [], []
    for line in body.splitlines() + [""]:
        if line.strip() and not line.startswith(" "):
            lines.append(line.rstrip())
            continue
        if lines:
            paragraphs.append(" ".join(lines))
            lines = []
    return paragraphs


def sentences(paragraph: str) -> list[str]:
    paragraph = HEADWORD.sub("", paragraph)
    return [s.strip() for s in re.split(r"(?<=[.!?\"'])\s{2,}", paragraph) if s.strip()]


def acceptable(sentence: str) -> bool:
    words = sentence.split()
    return (5 <= len(words) <= 60 and "_" not in sentence and sentence[0].isupper()
            and sentence[-1] in ".!?\"'" and sentence.count('"') % 2 == 0
            and sentence.count("(") == sentence.count(")") and sentence.count("[") == sentence.count("]")
            and not EXCLUDED.search(sentence) and not re.search(r"[A-Z]{3,}", sentence))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=pathlib.Path, help="devil.dict.dz from the dict-devil package")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--count", type=int, default=200, help="sentences per file")
    parser.add_argument("--seed", type=int, default=1911)
    args = parser.parse_args()
    text = gzip.open(args.source, "rt", encoding="latin-1").read()
    found = sorted({" ".join(s.split()) for p in prose_paragraphs(text) for s in sentences(p) if acceptable(s)})
    if len(found) < 2 * args.count:
        print(f"only {len(found)} sentences qualify, {2 * args.count} wanted", file=sys.stderr)
        return 1
    chosen = random.Random(args.seed).sample(found, 2 * args.count)
    chosen.sort(key=lambda s: (len(s.split()), s))
    pairs = [chosen[i:i + 2] for i in range(0, len(chosen), 2)]
    rng = random.Random(args.seed + 1)
    split = {"calibration": [], "eval": []}
    for pair in pairs:
        rng.shuffle(pair)
        split["calibration"].append(pair[0])
        split["eval"].append(pair[1])
    args.out.mkdir(parents=True, exist_ok=True)
    for name, lines in split.items():
        random.Random(args.seed + len(name)).shuffle(lines)
        (args.out / f"{name}.txt").write_text("\n".join(lines) + "\n")
        lengths = [len(s.split()) for s in lines]
        print(f"{name}.txt: {len(lines)} sentences, {min(lengths)}-{max(lengths)} words, "
              f"mean {sum(lengths) / len(lengths):.1f}")
    print(f"({len(found)} sentences qualified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
