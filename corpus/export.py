"""`export_all`: every derived file from gold in one call (the main job and `vnreorg corpus export`).

Gold is validated first; an invalid gold stops the export with the first problems located. Layout:

    <out>/hf/README.md                          dataset card (YAML metadata + prose + tables)
    <out>/hf/data/train-00000-of-00001.parquet  `datasets` config "documents" (default): a row per document
    <out>/hf/sentences/train-00000-of-00001.parquet   config "sentences": a row per sentence
    <out>/spacy/all.spacy                       DocBin of every document
    <out>/spacy/folds/<fold>/{train,dev,test}.spacy
    <out>/conll/gold.conll                      IOB2, token TAB tag
    <gold folder>/folds.json                    leave-one-document-out folds
    <out>/hf/synthetic/train-00000-of-00001.parquet   config "synthetic" (when corpus/synthetic/synthetic.jsonl
    <out>/spacy/synthetic.spacy                       exists; never in folds: corpus/synthetic.py)

The folder is replaced as a whole (a new sibling folder, then one atomic exchange): never a mix of old
and new files, even after kill -9. Files someone left in it that no export writes are carried over.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from vnreorg.corpus.card import render_card, write_card
from vnreorg.corpus.export_conll import write_conll
from vnreorg.corpus.export_folds import make_folds, write_folds
from vnreorg.corpus.export_hf import PARQUET_NAME, SENTENCES_PARQUET_NAME, features, sentence_features, write_parquet
from vnreorg.corpus.export_spacy import write_spacy_exports
from vnreorg.corpus.stats import corpus_stats, read_agreement, read_json_beside
from vnreorg.corpus.synthetic import card_section, default_synthetic_path, export_synthetic, shared_runs
from vnreorg.corpus.validate import load_valid
from vnreorg.errors import VnreorgError
from vnreorg.fileset import locked, recover_dir, replace_dir, staging_dir

DEFAULT_EXPORT = Path("corpus/export")
DEFAULT_SOURCES = Path("seeds/SOURCES.md")


EXPORT_PARTS = frozenset({"hf", "spacy", "conll"})
PRODUCT_SUFFIXES = (".spacy", ".parquet", ".conll")  # files an export writes (plus hf/README.md)


def _check_replaceable(out_dir: Path) -> None:
    """The export folder is replaced as a whole: refuse a folder that holds anything but an export."""
    if out_dir.exists() and not out_dir.is_dir():
        raise VnreorgError("exists and is not a folder", str(out_dir))
    if out_dir.is_dir():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in EXPORT_PARTS)
        if foreign:
            raise VnreorgError(
                f"does not look like an export folder (it holds {', '.join(foreign[:5])}); refusing to replace it", str(out_dir)
            )


def _carry_over(old: Path, stage: Path) -> None:
    """Files in the old export that no export writes (notes someone left) are kept in the new one; stale
    products (e.g. the fold folder of a document no longer in gold) are not."""
    if not old.is_dir():
        return
    for path in old.rglob("*"):
        rel = path.relative_to(old)
        if not path.is_file() or path.suffix in PRODUCT_SUFFIXES or rel == Path("hf/README.md"):
            continue
        if not (stage / rel).exists():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, stage / rel)


def _export_synthetic(gold_docs, path: Path, out_dir: Path, configs: dict) -> tuple[list[Path], str | None]:
    """The `synthetic` config and DocBin when the synthetic corpus exists; it must validate and share no
    8-token run with gold (the seeds are the test folds)."""
    path = Path(path)
    if not path.exists():
        return [], None
    syn_docs = load_valid(path)
    overlaps = shared_runs(syn_docs, gold_docs)
    if overlaps:
        first = overlaps[0]
        raise VnreorgError(
            f"{len(overlaps)} synthetic sentence(s) share a run of 8 tokens with a seed sentence, e.g. "
            f"{first['doc']} S{first['sentence']} with {first['seed']}: {first['run']!r}",
            str(path),
        )
    configs["synthetic"], written = export_synthetic(syn_docs, out_dir)
    return written, card_section(syn_docs, corpus_stats(syn_docs), read_json_beside(path, "agreement.json"))


def export_all(
    gold_path: str | os.PathLike = Path("corpus/gold/gold.jsonl"),
    out_dir: str | os.PathLike = DEFAULT_EXPORT,
    folds_path: str | os.PathLike | None = None,
    sources_path: str | os.PathLike | None = DEFAULT_SOURCES,
    synthetic_path: str | os.PathLike | None = None,
) -> dict[str, list[Path]]:
    """Validate gold and write every export; return the paths written, by kind.

    The export folder is written whole into a new sibling folder, then swapped in one step
    (`vnreorg.fileset.replace_dir`): after a kill at any moment it holds the old set or the new set."""
    gold_path, out_dir = Path(gold_path), Path(out_dir)
    with locked(gold_path.parent, create=False):  # gold and review.json read as one set, never mid-import
        docs = load_valid(gold_path)
        inputs = _read_inputs(gold_path, sources_path)
    folds = make_folds([d.id for d in docs])
    _check_replaceable(out_dir)
    recover_dir(out_dir)
    stage = staging_dir(out_dir)
    try:
        written = _write_exports(docs, folds, inputs, stage, synthetic_path or default_synthetic_path(gold_path))
        _carry_over(out_dir, stage)
        replace_dir(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    with locked(gold_path.parent):
        folds_file = write_folds(folds_path or gold_path.with_name("folds.json"), folds)
    result = {kind: [out_dir / p.relative_to(stage) for p in paths] for kind, paths in written.items()}
    return {"folds": [folds_file], **result}


def _read_inputs(gold_path: Path, sources_path) -> dict:
    """Everything besides the documents that the card quotes."""
    sources_md = None
    if sources_path is not None and Path(sources_path).exists():
        sources_md = Path(sources_path).read_text(encoding="utf-8")
    agreement_md_path = gold_path.with_name("AGREEMENT.md")
    return {
        "gold_bytes": gold_path.read_bytes(),
        "agreement": read_agreement(gold_path),
        "sources_md": sources_md,
        "review": read_json_beside(gold_path, "review.json"),
        "agreement_md": agreement_md_path.read_text(encoding="utf-8") if agreement_md_path.exists() else None,
    }


def _write_exports(docs, folds: dict, inputs: dict, out_dir: Path, synthetic_path: Path) -> dict[str, list[Path]]:
    written = write_parquet(docs, out_dir / "hf")
    configs = {
        "documents": (features(), "data/train-*.parquet", written["documents"]["train"].data.nbytes, len(docs)),
        "sentences": (
            sentence_features(),
            "sentences/train-*.parquet",
            written["sentences"]["train"].data.nbytes,
            len(written["sentences"]["train"]),
        ),
    }
    stats = corpus_stats(docs, inputs["agreement"])
    synthetic_written, synthetic_text = _export_synthetic(docs, Path(synthetic_path), out_dir, configs)
    card = render_card(
        docs,
        configs,
        stats,
        folds,
        inputs["gold_bytes"],
        inputs["sources_md"],
        inputs["review"],
        inputs["agreement_md"],
        synthetic_section=synthetic_text,
    )
    card_path = write_card(out_dir / "hf" / "README.md", card)
    spacy_paths = write_spacy_exports(docs, folds, out_dir / "spacy")
    conll_path = write_conll(out_dir / "conll" / "gold.conll", docs)
    return {
        "hf": [out_dir / "hf" / PARQUET_NAME, out_dir / "hf" / SENTENCES_PARQUET_NAME, card_path, *synthetic_written[:1]],
        "spacy": spacy_paths + synthetic_written[1:],
        "conll": [conll_path],
    }
