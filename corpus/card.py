"""The dataset card (corpus/export/hf/README.md): YAML metadata that `datasets` reads, then prose and tables.

Everything here is derived from gold, the schema, the folds, seeds/SOURCES.md and the files beside gold
(agreement.json, AGREEMENT.md, review.json), so the card is regenerated with every export and never edited
by hand.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from vnreorg.corpus.export_hf import META_FIELDS, PARQUET_NAME, SENTENCES_PARQUET_NAME
from vnreorg.corpus.stats import agreement_table, markdown_table, stats_tables
from vnreorg.schema import (
    ENTITY_DESCRIPTIONS,
    ENTITY_LABELS,
    RELATION_CHILD_LABELS,
    RELATION_HEAD_LABELS,
    RELATION_LABELS,
    SCHEMA_VERSION,
    Document,
    bio_tags,
)

LICENSE_NAME = "news-texts-copyright-of-their-outlets"

LICENSE_NOTE = """\
The texts are news and commentary articles published by Vietnamese outlets (see *Sources*); their
copyright stays with those outlets and authors. They are redistributed here, unchanged apart from
removing site navigation, footers and metadata lines and normalising to Unicode NFC (the wording is
not changed), only so that the annotations can be studied and reproduced
(research and evaluation of information extraction). No licence to the texts is granted by this
project: if you reuse the texts beyond research, ask the outlets. The annotations, the code and the
derived files are the project's own work (code under Apache-2.0)."""


def yaml_header(configs: dict) -> str:
    """YAML front matter; `configs` maps config name to (features, parquet glob, num_bytes, num_examples).

    The first config is the default one."""
    import yaml

    meta: dict[str, Any] = {
        "pretty_name": "vnreorg: restructuring of Vietnam's political-system apparatus (gold)",
        "language": ["vi"],
        "license": "other",
        "license_name": LICENSE_NAME,
        "multilinguality": "monolingual",
        "size_categories": ["n<1K"],
        "source_datasets": ["original"],
        "task_categories": ["token-classification"],
        "task_ids": ["named-entity-recognition"],
        "tags": ["relation-extraction", "vietnamese", "public-administration", "news"],
        "configs": [],
        "dataset_info": [],
    }
    for i, (name, (feats, glob, n_bytes, n_examples)) in enumerate(configs.items()):
        config: dict[str, Any] = {"config_name": name, "data_files": [{"split": "train", "path": glob}]}
        if i == 0:
            config["default"] = True
        meta["configs"].append(config)
        meta["dataset_info"].append(
            {
                "config_name": name,
                "features": feats._to_yaml_list(),
                "splits": [{"name": "train", "num_bytes": n_bytes, "num_examples": n_examples}],
            }
        )
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000) + "---\n"


def _schema_section() -> str:
    ents = markdown_table(["label", "meaning"], [[lab, ENTITY_DESCRIPTIONS.get(lab, "")] for lab in ENTITY_LABELS])
    rels = markdown_table(
        ["relation", "head", "child"],
        [
            [lab, " or ".join(sorted(RELATION_HEAD_LABELS)), " or ".join(sorted(RELATION_CHILD_LABELS[lab]))]
            for lab in RELATION_LABELS
        ],
    )
    return (
        f"Schema version {SCHEMA_VERSION} (`vnreorg/schema.py`). Flat, non-overlapping spans with character "
        "offsets into the NFC text (end exclusive), on token edges of the project tokenizer.\n\n"
        f"{ents}\n\nDirected relations within one sentence, from a MERGE_ACTION:\n\n{rels}\n\n"
        f"`ner_tags` use IOB2 with these ClassLabel names, in order: {', '.join(f'`{t}`' for t in bio_tags())}."
    )


FIELDS = [
    ("id", "document id (first 16 hex digits of the SHA-256 of the raw article)"),
    ("text", "the cleaned article, NFC; all offsets index into it"),
    ("tokens", "tokens of the project tokenizer (spaCy rule-based `vi` tokenizer, punctuation split, no pyvi)"),
    ("token_starts / token_ends", "character offsets of each token; `text[start:end] == token`"),
    ("ner_tags", "IOB2 tag per token (ClassLabel)"),
    ("sentences", "sentence offsets {start, end}"),
    ("spans", "gold spans {id, start, end, text, label (ClassLabel)}"),
    ("relations", "gold relations {head, child (span ids), label (ClassLabel)}"),
] + [(name, "article metadata as extracted from the raw page (may be empty)") for name in META_FIELDS]

SENTENCE_FIELDS = [
    ("id", "sentence id `<doc id>-<n>`, n the sentence's index in the document"),
    ("doc_id", "the document it comes from (folds are by document)"),
    ("sentence_start", "offset of the sentence in the document text; add it to map offsets back"),
    ("text", "the sentence text; offsets below index into it"),
    ("tokens, token_starts / token_ends, ner_tags", "as in `documents`, relative to the sentence"),
    ("spans, relations", "the gold spans and relations inside the sentence (span offsets relative to it)"),
]


def _sources_section(docs: list[Document], sources_md: str | None) -> str:
    table = markdown_table(
        ["document", "source file", "outlet", "date", "title"],
        [
            [d.id, d.meta.get("source_file"), d.meta.get("outlet"), d.meta.get("date"), d.meta.get("title")]
            for d in sorted(docs, key=lambda d: d.id)
        ],
    )
    text = f"As recorded in each document's metadata:\n\n{table}"
    if sources_md:
        body = "\n".join(("##" + line) if line.startswith("#") else line for line in sources_md.strip().splitlines())
        text += f"\n\nFrom `seeds/SOURCES.md`:\n\n{body}"
    return text


def _provenance_section(docs: list[Document], review: dict | None) -> str:
    """One row per document and annotation pass, columns from the provenance records themselves."""
    rows, columns = [], []
    for d in sorted(docs, key=lambda d: d.id):
        for p in d.provenance or [{"pass": "(none recorded)"}]:
            p = p if isinstance(p, dict) else {"pass": str(p)}
            columns += [c for c in p if c not in columns]
            rows.append((d.id, p))
    text = markdown_table(["document", *columns], [[doc_id, *(p.get(c) for c in columns)] for doc_id, p in rows])
    if review:
        text += "\n\nReview status (`corpus/gold/review.json`):\n\n" + agreement_table(review)
    return text


def _folds_section(folds: dict) -> str:
    return (
        f"Scheme: `{folds['scheme']}` (recorded in `corpus/gold/folds.json`; the spaCy export has one folder "
        "per fold).\n\n"
        + markdown_table(["fold", "test", "dev", "train"], [[f["name"], f["test"], f["dev"], f["train"]] for f in folds["folds"]])
    )


def reading_notes(agreement_md: str) -> str | None:
    """The "How to read ..." section of corpus/gold/AGREEMENT.md (its caveats), without its heading."""
    lines = agreement_md.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("## ") and "how to read" in line.lower()), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    body = "\n".join(lines[start + 1 : end]).strip()
    return body or None


def _agreement_section(agreement: dict | None, agreement_md: str | None) -> str:
    if not agreement:
        return "Not measured yet: `corpus/gold/agreement.json` did not exist when this card was generated."
    text = (
        "Agreement between independent annotation passes of the same documents, as computed by the agreement "
        "study (`corpus/gold/agreement.json`; the disagreements, their adjudication and the method are in "
        "[corpus/gold/AGREEMENT.md](../../gold/AGREEMENT.md))."
    )
    notes = reading_notes(agreement_md) if agreement_md else None
    if notes:
        text += "\n\nHow to read these figures (from AGREEMENT.md):\n\n" + notes
    return text + "\n\n" + agreement_table(agreement)


def _review_claim(review: dict | None) -> str:
    """Claim full coverage only when review.json says every document is complete."""
    if review and all(isinstance(v, dict) and v.get("complete") is True for v in review.values()):
        return (
            " Every sentence of every document has been read and annotated; review is complete for all "
            f"{len(review)} documents (`corpus/gold/review.json`)."
        )
    return ""


def _passes_note(docs: list[Document]) -> str:
    """How many documents have two or more annotation passes (not counting adjudication), from provenance."""

    def passes(d: Document) -> int:
        return sum(1 for p in d.provenance if isinstance(p, dict) and "adjudicat" not in str(p.get("pass", "")).lower())

    double = sum(1 for d in docs if passes(d) >= 2)
    if double == len(docs):
        return f"All {len(docs)} documents have at least two annotation passes (see provenance)."
    return f"{double} of {len(docs)} documents have at least two annotation passes (see provenance); the others rest on one."


def _annotators(docs: list[Document]) -> str:
    who = sorted({str(p.get("who")) for d in docs for p in d.provenance if isinstance(p, dict) and p.get("who")})
    return "; ".join(who) if who else "not recorded"


def render_card(
    docs: list[Document],
    configs: dict,
    stats: dict,
    folds: dict,
    gold_bytes: bytes,
    sources_md: str | None = None,
    review: dict | None = None,
    agreement_md: str | None = None,
    guidelines_link: str = "../../../annotation/GUIDELINES.md",
    synthetic_section: str | None = None,
) -> str:
    agreement = stats.get("agreement")
    agreement_text = _agreement_section(agreement, agreement_md)
    stats_text = stats_tables(stats, with_agreement=False).rstrip()
    fields = (
        "Config `documents`:\n\n"
        + markdown_table(["field", "content"], [[f"`{n}`", d] for n, d in FIELDS])
        + "\n\nConfig `sentences`:\n\n"
        + markdown_table(["field", "content"], [[n, d] for n, d in SENTENCE_FIELDS])
    )
    sha = hashlib.sha256(gold_bytes).hexdigest()
    sections = [
        yaml_header(configs),
        "# vnreorg gold corpus: restructuring of Vietnam's political-system apparatus\n",
        "Vietnamese news articles about merging, dissolving and streamlining Party, State and mass-organisation "
        "bodies (Resolution 18-NQ/TW and its follow-ups), annotated with agencies, titles, restructuring actions "
        "and numbers, and with the relations from each action to what it acts on (`source`), what results or "
        "receives (`target`) and how much (`amount`)." + _review_claim(review) + "\n\n"
        "This folder is generated from `corpus/gold/gold.jsonl` by `vnreorg corpus export`; do not edit it by hand. "
        f"Gold SHA-256: `{sha}`.",
        "## Loading\n\n```python\nimport datasets\n"
        'docs = datasets.load_dataset("corpus/export/hf")["train"]  # config "documents" (default)\n'
        'sents = datasets.load_dataset("corpus/export/hf", "sentences")["train"]\n'
        'tags = docs.features["ner_tags"].feature.names\n```\n\n'
        f"One split, `train`. Config `documents` has one row per document (`{PARQUET_NAME}`); config "
        f"`sentences` has one row per sentence (`{SENTENCES_PARQUET_NAME}`), for trainers with a length limit. "
        "Use the document-level folds below for cross-validation (never split sentences of one document "
        "between train and test). The same gold is also exported as spaCy DocBin files (`../spacy/all.spacy`, "
        "`../spacy/folds/<fold>/{train,dev,test}.spacy`; the format the project's models train on: one Doc "
        'per paragraph, `doc.user_data["doc_id"]` and `["char_offset"]` (the paragraph\'s offset in the document), '
        'relations in `doc._.rel` and mirrored in `doc.user_data["relations"]` as '
        "(head_start, head_end, child_start, child_end, label) character offsets in the paragraph) and as CoNLL-style IOB2 "
        "(`../conll/gold.conll`).",
        "## Schema\n\n" + _schema_section(),
        f"Annotation guidelines: [annotation/GUIDELINES.md]({guidelines_link}).",
        "## Fields\n\n" + fields,
        "## Statistics\n\n" + stats_text,
        *(["## Synthetic training corpus (config `synthetic`)\n\n" + synthetic_section] if synthetic_section else []),
        "## Agreement\n\n" + agreement_text,
        "## Cross-validation folds\n\n" + _folds_section(folds),
        "## Sources\n\n" + _sources_section(docs, sources_md),
        "## Annotation provenance\n\n" + _provenance_section(docs, review),
        "## Licence\n\n" + LICENSE_NOTE,
        "## Limitations\n\n"
        f"{len(docs)} documents is a very small corpus: scores measured on it have wide confidence intervals, and "
        "the articles come from a few local outlets and years, so names, styles and restructuring steps elsewhere "
        "may differ. Annotators, as recorded in the provenance: " + _annotators(docs) + ". " + _passes_note(docs),
    ]
    return "\n\n".join(s.rstrip("\n") for s in sections) + "\n"


def write_card(path: Path, text: str) -> Path:
    from vnreorg.jsonio import write_atomic

    write_atomic(path, text)
    return path
