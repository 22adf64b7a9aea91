"""Training data of a fold (or of the final model): seeds + synthetic corpus + mention-replaced seeds.

- the fold's training seeds (real articles, `corpus/gold/gold.jsonl`);
- the synthetic training corpus written by the team (`corpus/synthetic/synthetic.jsonl`, built from the
  worksheets by `vnreorg worksheet synthetic`; when the file is absent it is imported from the worksheets
  in memory, invalid documents listed and left out);
- mention-replaced copies of the training seeds (`models/augment.py`), built here at training time from
  the training seeds only: the test documents are passed as `forbidden_ids` and refused.

Each source can be switched off (`DataSources`); the test seed of a fold is never in any of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.schema import Document

SYNTHETIC = Path("corpus/synthetic/synthetic.jsonl")
SYNTHETIC_WORKSHEETS = Path("corpus/synthetic/worksheets")


@dataclass(frozen=True)
class DataSources:
    """Which sources train a model. `augment_copies` mention-replaced copies per training seed."""

    seeds: bool = True
    synthetic: bool = True
    augment: bool = True
    augment_copies: int = 1

    @classmethod
    def parse(cls, text: str) -> DataSources:
        """ "seeds,synthetic,augment" (any subset; "all" = the three; "augment2" = two copies)."""
        items = {s.strip() for s in text.split(",") if s.strip()}
        if items == {"all"}:
            return cls()
        copies = 1
        for item in list(items):
            if item.startswith("augment") and item[7:].isdigit():
                copies = int(item[7:])
                items.discard(item)
                items.add("augment")
        unknown = items - {"seeds", "synthetic", "augment"}
        if unknown or not items:
            raise VnreorgError(f"training data sources are seeds, synthetic, augment[N] or all; got {text!r}")
        return cls("seeds" in items, "synthetic" in items, "augment" in items, copies)

    def describe(self) -> str:
        parts = [
            p
            for p, on in (
                ("seeds", self.seeds),
                ("synthetic", self.synthetic),
                (f"augment{self.augment_copies if self.augment_copies != 1 else ''}", self.augment),
            )
            if on
        ]
        return "+".join(parts) or "nothing"


SEEDS_ONLY = DataSources(seeds=True, synthetic=False, augment=False)


def load_synthetic(path: str | os.PathLike | None = None, *, log: Callable[[str], object] | None = None) -> list[Document]:
    """The synthetic training corpus: the JSONL when it exists, else imported from the worksheets
    (documents with problems are listed through `log` and left out, as `--skip-invalid` does)."""
    return list(_load_synthetic(str(path or SYNTHETIC), log))


@lru_cache(maxsize=4)
def _load_synthetic(path: str, log) -> tuple[Document, ...]:
    from vnreorg.corpus.synthetic import is_synthetic
    from vnreorg.jsonio import read_documents

    p = Path(path)
    if p.exists():
        docs = read_documents(p)
    else:
        folder = p.parent / "worksheets"
        if not folder.is_dir():
            raise VnreorgError(
                "no synthetic corpus and no worksheets to build it from (run `vnreorg worksheet synthetic`)", str(p)
            )
        from vnreorg.annotation.synthetic import import_synthetic

        imp = import_synthetic(sorted(folder.glob("*.txt")))
        docs = list(imp.documents)
        invalid = sorted(d for f in imp.files.values() for d in f.get("invalid_documents", []))
        if log is not None:
            log(f"   synthetic corpus built from {folder}: {len(docs)} documents; left out (invalid): {invalid}")
    bad = [d.id for d in docs if not is_synthetic(d)]
    if bad:
        raise VnreorgError(f"documents without synthetic provenance in the synthetic corpus: {bad[:5]}", str(p))
    return tuple(docs)


def training_documents(
    train_seeds: list[Document],
    *,
    sources: DataSources = DataSources(),
    synthetic: Iterable[Document] | None = None,
    test_ids: Iterable[str] = (),
    seed: int = 0,
) -> list[Document]:
    """The documents a model trains on: training seeds, synthetic corpus, augmented training seeds.
    A test document among the training seeds is an error; synthetic documents never are test documents."""
    from vnreorg.models.augment import replace_mentions

    test = set(test_ids)
    clash = sorted(d.id for d in train_seeds if d.id in test)
    if clash:
        raise VnreorgError(f"test documents among the training seeds: {clash}")
    out: list[Document] = []
    if sources.seeds:
        out += train_seeds
    if sources.synthetic:
        out += list(synthetic) if synthetic is not None else load_synthetic()
    if sources.augment and train_seeds:
        out += replace_mentions(train_seeds, seed=seed, copies=sources.augment_copies, forbidden_ids=test)
    if not out:
        raise VnreorgError(f"no training documents (sources: {sources.describe()})")
    return out
