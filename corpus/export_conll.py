"""Gold as CoNLL-style IOB2: `token<TAB>tag`, a blank line after each sentence.

Each document opens with `# doc_id = <id>`; each sentence with `# sent_id = <doc>-<n>` and
`# text = <sentence text on one line>`. Tokens come from the project tokenizer.
"""

from __future__ import annotations

import os
from pathlib import Path

from vnreorg.corpus.export_bio import bio_tags_for, doc_tokens, sentence_groups
from vnreorg.jsonio import write_atomic
from vnreorg.schema import Document


def doc_to_conll(doc: Document) -> str:
    tokens = doc_tokens(doc)
    tags = bio_tags_for(doc, tokens)
    lines = [f"# doc_id = {doc.id}"]
    for sent_id, idx in sentence_groups(doc, tokens):
        text = doc.text[tokens[idx[0]].start : tokens[idx[-1]].end]
        lines.append(f"# sent_id = {sent_id}")
        lines.append(f"# text = {' '.join(text.split())}")
        # A tag that continues across a sentence break would be invalid IOB2 for the new sentence.
        for j, i in enumerate(idx):
            tag = tags[i]
            if j == 0 and tag.startswith("I-"):
                tag = "B-" + tag[2:]
            lines.append(f"{tokens[i].text}\t{tag}")
        lines.append("")
    return "\n".join(lines) + "\n"


def to_conll(docs: list[Document]) -> str:
    return "".join(doc_to_conll(d) for d in sorted(docs, key=lambda d: d.id))


def read_conll(text: str) -> list[dict]:
    """Parse back: [{"doc_id", "sent_id", "tokens", "tags"}] per sentence (for tests and tools)."""
    sents, doc_id, cur = [], None, None
    for line in text.splitlines():
        if line.startswith("# doc_id = "):
            doc_id = line[len("# doc_id = ") :]
        elif line.startswith("# sent_id = "):
            cur = {"doc_id": doc_id, "sent_id": line[len("# sent_id = ") :], "tokens": [], "tags": []}
            sents.append(cur)
        elif line.startswith("# "):
            continue
        elif line == "":
            cur = None
        else:
            token, tag = line.rsplit("\t", 1)
            cur["tokens"].append(token)
            cur["tags"].append(tag)
    return sents


def write_conll(path: str | os.PathLike, docs: list[Document]) -> Path:
    path = Path(path)
    write_atomic(path, to_conll(docs))
    return path
