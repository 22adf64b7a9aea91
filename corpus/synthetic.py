"""The synthetic training corpus (corpus/synthetic/): what marks a record synthetic, the checks that keep
it apart from gold, and its exports.

Synthetic text trains, real text tests. A synthetic record (id `syn-...`, `meta.synthetic`, or a
provenance entry saying synthetic) must carry a provenance entry `{"synthetic": true, "writer", "guidelines",
"file", ...}`; it never appears in `gold.jsonl` (so never in folds.json or a test fold), and no synthetic
sentence may share a run of 8 tokens with a seed sentence (the seeds are the test folds). The records
are written by `vnreorg worksheet synthetic` (annotation/synthetic.py) from the writers' worksheets.

Exports (`vnreorg corpus export`, when `corpus/synthetic/synthetic.jsonl` exists beside the gold folder):
the `datasets` config `synthetic` (one row per document, the features of the `documents` config) at
`hf/synthetic/train-00000-of-00001.parquet`, and the DocBin `spacy/synthetic.spacy`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from vnreorg.schema import Document

SYNTHETIC_PREFIX = "syn-"
PROVENANCE_KEYS = ("writer", "guidelines", "file")
SYNTHETIC_PARQUET_NAME = "synthetic/train-00000-of-00001.parquet"
SYNTHETIC_DOCBIN = "synthetic.spacy"
NGRAM = 8


def default_synthetic_path(gold_path: str | os.PathLike) -> Path:
    """corpus/synthetic/synthetic.jsonl for corpus/gold/gold.jsonl."""
    return Path(gold_path).parent.parent / "synthetic" / "synthetic.jsonl"


def is_synthetic(doc: Document) -> bool:
    return (
        str(doc.id).startswith(SYNTHETIC_PREFIX)
        or doc.meta.get("synthetic") is True
        or any(isinstance(p, dict) and p.get("synthetic") for p in doc.provenance)
    )


def synthetic_provenance(doc: Document) -> dict | None:
    return next((p for p in doc.provenance if isinstance(p, dict) and p.get("synthetic") is True), None)


def synthetic_problems(doc: Document, path: str | os.PathLike) -> list[tuple[str, str]]:
    """(code, message) for a record in the wrong file or without its synthetic provenance."""
    problems = []
    in_gold = Path(path).name == "gold.jsonl"
    if is_synthetic(doc):
        if in_gold:
            problems.append(
                (
                    "synthetic-in-gold",
                    "a synthetic record inside gold.jsonl: synthetic text trains, "
                    "real text tests (it belongs in corpus/synthetic/synthetic.jsonl)",
                )
            )
        prov = synthetic_provenance(doc)
        if prov is None:
            problems.append(
                ("provenance", 'synthetic record without a provenance entry {"synthetic": true, "writer", "guidelines", "file"}')
            )
        else:
            missing = [k for k in PROVENANCE_KEYS if not prov.get(k)]
            if missing:
                problems.append(("provenance", f"synthetic provenance lacks {', '.join(missing)}"))
        if not str(doc.id).startswith(SYNTHETIC_PREFIX):
            problems.append(("synthetic-id", f"synthetic record id must start with {SYNTHETIC_PREFIX!r}"))
    elif Path(path).name == "synthetic.jsonl":
        problems.append(("not-synthetic", "a record not marked synthetic inside synthetic.jsonl"))
    return problems


def sentence_tokens(doc: Document) -> list[tuple[int, list[str]]]:
    """(sentence index, case-folded project tokens) per sentence."""
    from vnreorg.corpus.tokenize import tokenize

    return [(i, [t[0].casefold() for t in tokenize(doc.text[s:e])]) for i, (s, e) in enumerate(doc.sentences)]


def ngrams(tokens: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def seed_ngrams(seeds: Iterable[Document], n: int = NGRAM) -> dict[tuple[str, ...], str]:
    """Every run of n tokens of the seed sentences -> where it first occurs ("<doc id> S<k>")."""
    index: dict[tuple[str, ...], str] = {}
    for doc in seeds:
        for i, toks in sentence_tokens(doc):
            for g in ngrams(toks, n):
                index.setdefault(g, f"{doc.id} S{i}")
    return index


def runs_in(doc: Document, index: dict[tuple[str, ...], str], n: int = NGRAM) -> list[dict]:
    """The sentences of `doc` that share a run of n tokens with the indexed seeds."""
    found = []
    for i, toks in sentence_tokens(doc):
        hits = sorted(g for g in ngrams(toks, n) if g in index)
        if hits:
            found.append(
                {
                    "doc": doc.id,
                    "sentence": i,
                    "run": " ".join(hits[0]),
                    "seed": index[hits[0]],
                    "file": (synthetic_provenance(doc) or {}).get("file"),
                }
            )
    return found


def shared_runs(synthetic: Iterable[Document], seeds: Iterable[Document], n: int = NGRAM) -> list[dict]:
    """Every synthetic sentence sharing a run of n tokens (project tokenizer, case-folded) with a seed sentence."""
    index = seed_ngrams(seeds, n)
    return [hit for doc in synthetic for hit in runs_in(doc, index, n)]


def export_synthetic(docs: list[Document], out_dir: str | os.PathLike) -> tuple[tuple, list[Path]]:
    """Write the `synthetic` Parquet config and DocBin; return (card config tuple, paths written)."""
    from vnreorg.corpus.export_hf import _parquet_bytes, build_dataset, features
    from vnreorg.corpus.tokenize import blank_vi
    from vnreorg.docbin import write_documents_docbin
    from vnreorg.jsonio import write_atomic

    out_dir = Path(out_dir)
    dataset = build_dataset(docs)["train"]
    parquet = out_dir / "hf" / SYNTHETIC_PARQUET_NAME
    write_atomic(parquet, _parquet_bytes(dataset))
    docbin = write_documents_docbin(blank_vi(), docs, out_dir / "spacy" / SYNTHETIC_DOCBIN)
    config = (features(), "synthetic/train-*.parquet", dataset.data.nbytes, len(docs))
    return config, [parquet, docbin]


def agreement_text(agreement: dict | None) -> str:
    """The second-pass agreement figures (corpus/synthetic/agreement.json) for the card."""
    from vnreorg.corpus.stats import markdown_table

    if not agreement:
        return "Second pass: not measured yet (`vnreorg worksheet synthetic-agreement` writes `corpus/synthetic/agreement.json`)."
    cov, spans, rels = agreement["coverage"], agreement["spans"], agreement["relations"]
    rows = [
        [lab, spans["per_label"][lab]["strict_f1"], spans["per_label"][lab]["overlap_f1"], agreement["token_kappa"].get(lab)]
        for lab in spans["per_label"]
    ]
    rows.append(["micro", spans["micro"]["strict_f1"], spans["micro"]["overlap_f1"], agreement["token_kappa"]["overall"]])
    rel_rows = [[lab, rels["per_label"][lab]["f1"]] for lab in rels["per_label"]] + [["micro", rels["micro"]["f1"]]]
    verdict = "meets" if spans["micro"]["strict_f1"] >= 0.90 else "does NOT meet"
    return (
        f"Second pass: an independent annotator, given only the guidelines and the sentences, annotated "
        f"{cov['documents']} of the {cov['corpus_documents']} articles ({cov['sentences']} of {cov['corpus_sentences']} "
        f"sentences, {cov['share_of_sentences']:.1%}); agreement with the first pass (computed "
        f"{agreement.get('computed', '?')}, `corpus/synthetic/AGREEMENT.md`) {verdict} the bar of span F1 >= 0.90:\n\n"
        + markdown_table(["span label", "strict F1", "overlap F1", "token kappa"], rows)
        + "\n\n"
        + markdown_table(["relation", "F1"], rel_rows)
        + "\n\nBoth passes were made by AI model sessions (the team's writer and second-pass sessions), whose errors may correlate: read the figures as an upper bound, not a human ceiling."
    )


def card_section(docs: list[Document], stats: dict, agreement: dict | None = None) -> str:
    """The card's description of the synthetic config."""
    from vnreorg.corpus.stats import markdown_table

    writers: dict[str, int] = {}
    guidelines = set()
    for d in docs:
        p = synthetic_provenance(d) or {}
        writers[str(p.get("writer"))] = writers.get(str(p.get("writer")), 0) + 1
        guidelines.add(str(p.get("guidelines")))
    levels: dict[str, int] = {}
    for d in docs:
        key = f"{d.meta.get('level')} / {d.meta.get('period')}"
        levels[key] = levels.get(key, 0) + 1
    return (
        "Config `synthetic` (`" + SYNTHETIC_PARQUET_NAME + "`, DocBin `../spacy/" + SYNTHETIC_DOCBIN + "`): "
        f"{stats['documents']} synthetic articles, {stats['sentences']} sentences, written sentence by sentence by "
        "the project team (no program or template generated them) and annotated under guidelines "
        f"{', '.join(sorted(guidelines))} through the same worksheets and validator as gold. **Training data only**: "
        "the records are marked synthetic (id `syn-...`, `provenance` with writer, guidelines and worksheet file), "
        "kept out of `gold.jsonl`, out of `folds.json` and out of every test fold; no synthetic sentence shares a "
        f"run of {NGRAM} tokens with a seed sentence (tested). The features are those of the `documents` config; "
        '`source_file` names the worksheet. Load it with `datasets.load_dataset("corpus/export/hf", "synthetic")`; '
        "the default config stays gold only.\n\n"
        + markdown_table(["span label", "count"], [[k, v] for k, v in stats["spans_per_label"].items()])
        + "\n\n"
        + markdown_table(["relation label", "count"], [[k, v] for k, v in stats["relations_per_label"].items()])
        + "\n\n"
        + markdown_table(["level / period", "articles"], sorted(levels.items()))
        + "\n\n"
        + markdown_table(["writer", "articles"], sorted(writers.items()))
        + "\n\n"
        + agreement_text(agreement)
    )
