"""Measurement behind the tokenizer choice (models/README.md): how many gold spans align to token
boundaries under the project tokenizer and under spaCy's `vi` tokenizer with pyvi word segmentation,
and how fast each tokenizes the corpus.

Run by hand, in an environment that has spaCy and pyvi (pyvi is not a project dependency):
    python -m venv /tmp/pyvi && /tmp/pyvi/bin/pip install spacy==3.8.* pyvi
    /tmp/pyvi/bin/python benchmarks/measure_tokenizers.py [--gold corpus/gold/gold.jsonl]
Writes benchmarks/RESULTS-tokenizers.md. Needs only spaCy and pyvi, not this project installed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tokenizers():
    import spacy

    # The project tokenizer's config (vnreorg.corpus.tokenize.TOKENIZER_CONFIG), built here so the
    # script runs without the project installed.
    project = spacy.blank("vi", config={"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}})
    try:
        import pyvi  # noqa: F401
    except ImportError:
        sys.exit("pyvi is not installed in this environment: see the docstring for how to make one")
    pyvi_nlp = spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": True}}})
    return {"project (syllables, punctuation split)": project, "spaCy vi + pyvi (words)": pyvi_nlp}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", default=str(REPO / "corpus/gold/gold.jsonl"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(REPO / "benchmarks/RESULTS-tokenizers.md"))
    args = ap.parse_args()
    docs = [json.loads(line) for line in Path(args.gold).read_text(encoding="utf-8").splitlines() if line.strip()]
    n_spans = sum(len(d["spans"]) for d in docs)
    rows, examples = [], {}
    for name, nlp in tokenizers().items():
        aligned, missed, by_label = 0, [], Counter()
        for d in docs:
            doc = nlp(d["text"])
            assert doc.text == d["text"], f"{name} changed the text of {d['id']}"
            for s in d["spans"]:
                if doc.char_span(s["start"], s["end"]) is not None:
                    aligned += 1
                else:
                    by_label[s["label"]] += 1
                    missed.append(d["text"][s["start"] : s["end"]])
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for d in docs:
                nlp(d["text"])
            times.append(time.perf_counter() - t0)
        tokens = sum(sum(1 for t in nlp(d["text"]) if not t.is_space) for d in docs)
        rows.append((name, aligned, dict(by_label), tokens, statistics.median(times)))
        examples[name] = missed[:8]
    lines = [
        "# Tokenizers: gold span alignment and speed",
        "",
        f"- Command: `python benchmarks/measure_tokenizers.py` (spaCy and pyvi in the environment)",
        f"- Gold: {len(docs)} documents, {n_spans} spans",
        "",
        "| tokenizer | spans on token boundaries | not aligned, by label | tokens (without whitespace) | seconds (median of "
        f"{args.repeat}) |",
        "|---|---:|---|---:|---:|",
    ]
    for name, aligned, by_label, tokens, secs in rows:
        lines.append(f"| {name} | {aligned}/{n_spans} ({aligned / n_spans:.1%}) | {by_label or '-'} | {tokens:,} | {secs:.3f} |")
    lines.append("")
    for name, missed in examples.items():
        if missed:
            lines.append(f"Examples not aligned under {name}: " + "; ".join(f"`{m}`" for m in missed))
    lines.append("")
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
