"""Train a pipeline from a config and corpus Documents; tune the relation threshold on dev.

Documents become paragraph Docs (DocBin files beside the model, so `spacy train` could be rerun on
them by hand); a deterministic share of the training paragraphs is held out as dev (used by
spaCy to pick `model-best` and by us to tune the relation threshold) unless dev documents are
given. Same config, data and seed give the same model and the same scores.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.metrics import prf_of_sets
from vnreorg.models import components, rules  # noqa: F401  (register factories and @misc functions)
from vnreorg.models.convert import documents_to_docs, write_docbin
from vnreorg.schema import SCHEMA_VERSION, Document

CONFIG_DIR = Path(__file__).parent / "configs"
DEFAULT_TRAINED = Path("models/trained")
MODEL_NAME = "vnreorg"
MODEL_VERSION = "0.1.0"
RELATION_PIPES = ("relation_extractor", "relation_scorer")
THRESHOLD_GRID = [round(0.05 * i, 2) for i in range(1, 20)]


@dataclass
class TrainResult:
    model_path: Path
    config: str
    seed: int
    seconds: float
    threshold: float | None = None
    dev_scores: dict = field(default_factory=dict)


def config_path(name_or_path: str | Path) -> Path:
    """`full`, `ner`, `rules`, `tiny` name a config in models/configs/; anything else is a path."""
    p = Path(name_or_path)
    if p.exists():
        return p
    named = CONFIG_DIR / f"{name_or_path}.cfg"
    if named.exists():
        return named
    raise VnreorgError(
        f"no such config (known: {', '.join(sorted(c.stem for c in CONFIG_DIR.glob('*.cfg')))})", str(name_or_path)
    )


def corpus_version(documents: list[Document]) -> str:
    """A short content hash of the training documents: texts, spans and relations."""
    h = hashlib.sha256()
    for d in sorted(documents, key=lambda d: d.id):
        h.update(json.dumps(d.to_dict(), ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()[:12]


def split_dev(docs: list, fraction: float) -> tuple[list, list]:
    """Every k-th paragraph Doc (k = round(1/fraction)) goes to dev; deterministic, no randomness."""
    if fraction <= 0 or len(docs) < 2:
        return docs, docs
    k = max(2, round(1 / fraction))
    dev = [d for i, d in enumerate(docs) if i % k == k - 1]
    train = [d for i, d in enumerate(docs) if i % k != k - 1]
    return train, dev


def _pipeline_facts(config_file: Path) -> tuple[bool, list[str]]:
    """Whether the config has a training loop (a trainable component), and the span keys its `spancat`
    components learn from."""
    from spacy.util import load_config

    cfg = load_config(config_file)
    pipes = [cfg["components"][c] for c in cfg["nlp"]["pipeline"]]
    trainable = "training" in cfg and any(p.get("factory") in {"ner", "relation_extractor", "tok2vec"} for p in pipes)
    return trainable, sorted({p.get("spans_key", "sc") for p in pipes if p.get("factory") == "spancat"})


def train_model(
    config: str | Path,
    train_docs: list[Document],
    output_dir: str | Path,
    *,
    dev_docs: list[Document] | None = None,
    dev_fraction: float = 0.2,
    seed: int = 0,
    overrides: dict | None = None,
    quiet: bool = False,
    tune: bool = True,
) -> TrainResult:
    """Train (or, for a rules-only config, just initialise) and save the final model to
    `<output_dir>/model`; returns where it is, the tuned threshold and the dev scores."""
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.training import Example
    from spacy.util import load_config, load_model_from_config

    from vnreorg.corpus.tokenize import blank_vi

    if not train_docs:
        raise VnreorgError("no training documents", str(config))
    cfg_file = config_path(config)
    output_dir = Path(output_dir)
    if output_dir.exists() and any(output_dir.iterdir()):
        ours = {"model", "model-best", "model-last", "corpus"}
        if not {p.name for p in output_dir.iterdir()} <= ours:
            raise VnreorgError("output folder exists and is not a previous training output; not overwriting it", str(output_dir))
        shutil.rmtree(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tok = blank_vi()
    train_spacy = documents_to_docs(tok, train_docs)
    if dev_docs:
        dev_spacy = documents_to_docs(tok, dev_docs)
    else:
        train_spacy, dev_spacy = split_dev(train_spacy, dev_fraction)
    trainable, span_keys = _pipeline_facts(cfg_file)
    for key in span_keys:  # spancat learns from doc.spans[key]: the gold entities, as spans
        for d in (*train_spacy, *dev_spacy):
            d.spans[key] = list(d.ents)
    data_dir = output_dir / "corpus"
    write_docbin(train_spacy, data_dir / "train.spacy")
    write_docbin(dev_spacy, data_dir / "dev.spacy")
    all_overrides = {"paths.train": str(data_dir / "train.spacy"), "paths.dev": str(data_dir / "dev.spacy"), "system.seed": seed}
    all_overrides.update(overrides or {})
    final = output_dir / "model"
    if trainable:
        if quiet:
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                spacy_train(cfg_file, output_dir, use_gpu=-1, overrides=all_overrides)
        else:
            spacy_train(cfg_file, output_dir, use_gpu=-1, overrides=all_overrides)
        best = output_dir / "model-best"
        nlp = spacy.load(best)
    else:
        from spacy.util import fix_random_seed

        fix_random_seed(seed)
        # No training loop: overrides of [training] (epochs, batches) do not apply to this config.
        cfg = load_config(
            cfg_file,
            overrides={k: v for k, v in all_overrides.items() if not k.startswith(("training.", "system."))},
            interpolate=False,
        )
        nlp = load_model_from_config(cfg, auto_fill=True, validate=True)
        # Components fitted at initialisation (span_scorer, relation_scorer) learn from these.
        examples = [Example(components.tokens_copy(nlp.vocab, d), d) for d in train_spacy]
        nlp.initialize(get_examples=lambda: examples)
    threshold = None
    rel_name = next((n for n in RELATION_PIPES if n in nlp.pipe_names), None)
    if rel_name is not None and tune:
        threshold = tune_threshold(nlp, dev_spacy, rel_name)
        nlp.get_pipe(rel_name).cfg["threshold"] = threshold
    dev_scores = _dev_scores(nlp, dev_spacy)
    nlp.meta.update(
        {
            "name": MODEL_NAME,
            "version": MODEL_VERSION,
            "description": "Vietnamese apparatus-restructuring facts: AGENCY, TITLE, MERGE_ACTION, NUMBER and source/target/amount relations.",
            "license": "Apache-2.0",
            "author": "vnreorg",
        }
    )
    nlp.meta.setdefault("vnreorg", {}).update(
        {
            "config": cfg_file.name,
            "seed": seed,
            "corpus_version": corpus_version(train_docs + (dev_docs or [])),
            "schema_version": SCHEMA_VERSION,
            "train_documents": sorted(d.id for d in train_docs),
            "relation_threshold": threshold,
            "dev_scores": dev_scores,
        }
    )
    nlp.meta["performance"] = {k: v for k, v in dev_scores.items() if isinstance(v, (int, float))}
    nlp.to_disk(final)
    return TrainResult(final, cfg_file.name, seed, time.perf_counter() - t0, threshold, dev_scores)


def _predict_docs(nlp, gold_docs: list) -> list:
    """Run the pipeline on copies of gold Docs' tokens and sentence starts (no gold entities)."""
    return list(nlp.pipe([components.tokens_copy(nlp.vocab, g) for g in gold_docs]))


def tune_threshold(nlp, dev_docs: list, name: str = "relation_extractor") -> float:
    """The relation threshold with the best strict relation F1 on dev (ties: the lowest)."""
    rel = nlp.get_pipe(name)
    saved = rel.cfg["threshold"]
    rel.cfg["threshold"] = 0.0
    preds = _predict_docs(nlp, dev_docs)
    rel.cfg["threshold"] = saved
    pairs = rel.pair_scores(preds)
    gold = {(i, *t) for i, g in enumerate(dev_docs) for t in components.relation_tuples(g)}
    index = {id(p): i for i, p in enumerate(preds)}
    best_t, best_f = 0.5, -1.0
    for t in THRESHOLD_GRID:
        pred = set()
        for doc, head, child, probs in pairs:
            label = max(probs, key=probs.get)
            if probs[label] >= t:
                pred.add((index[id(doc)], head.start, head.end, head.label_, child.start, child.end, child.label_, label))
        f = prf_of_sets(gold, pred).f1
        if f > best_f + 1e-9:
            best_t, best_f = t, f
    return best_t


def _dev_scores(nlp, dev_docs: list) -> dict:
    from spacy.scorer import Scorer
    from spacy.training import Example

    preds = _predict_docs(nlp, dev_docs)
    examples = [Example(p, g) for p, g in zip(preds, dev_docs)]
    scores: dict = {}
    ents = Scorer.score_spans(examples, "ents")
    scores.update({k: v for k, v in ents.items() if k != "ents_per_type"})
    scores["ents_per_type"] = ents.get("ents_per_type") or {}
    scores.update(components.score_relations(examples))
    return scores
