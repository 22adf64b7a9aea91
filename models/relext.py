"""`relation_extractor` (factory): the trainable relation classifier in the shape of spaCy's
`rel_component` tutorial; candidates from `vnreorg.action_candidates.v1`, one probability per label,
a threshold tuned on dev by the trainer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.pipeline.trainable_pipe import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Floats2d

from .docext import doc_rels, score_relations
from .pipe_base import _factory, allowed_relations
from .relext_model import _instances

# ---------------------------------------------------------------- trainable component


@_factory(
    "relation_extractor",
    requires=["doc.ents", "token.ent_iob", "token.ent_type"],
    assigns=["doc._.rel"],
    default_config={"threshold": 0.5},
    default_score_weights={"rel_micro_p": None, "rel_micro_r": None, "rel_micro_f": 0.5},
)
def make_relation_extractor(nlp: Language, name: str, model: Model, threshold: float) -> "RelationExtractor":
    return RelationExtractor(nlp.vocab, model, name, threshold=threshold)


class RelationExtractor(TrainablePipe):
    """Classifies candidate (action, entity) pairs into relation labels (multi-label, sigmoid)."""

    def __init__(self, vocab: Vocab, model: Model, name: str = "rel", *, threshold: float = 0.5):
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg = {"labels": [], "threshold": threshold, "allowed": {}}

    # labels and the schema of allowed (relation, head label, child label) ------------------
    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def threshold(self) -> float:
        return float(self.cfg["threshold"])

    def add_label(self, label: str) -> int:
        if label in self.cfg["labels"]:
            return 0
        self.cfg["labels"] = list(self.labels) + [label]
        return 1

    def _sync_model_attrs(self) -> None:
        allowed = self.cfg.get("allowed") or {}
        heads = sorted({h for spec in allowed.values() for h in spec["heads"]})
        children = sorted({c for spec in allowed.values() for c in spec["children"]})
        inst = self.model.get_ref("instances")
        inst.attrs["head_labels"] = heads
        inst.attrs["child_labels"] = children

    def _label_mask(self, instances: list[tuple[Span, Span]]) -> numpy.ndarray:
        """1 where a label may connect the pair's entity types, else 0."""
        allowed = self.cfg.get("allowed") or {}
        mask = numpy.ones((len(instances), len(self.labels)), dtype="f")
        for r, (head, child) in enumerate(instances):
            for j, label in enumerate(self.labels):
                spec = allowed.get(label)
                if spec and (head.label_ not in spec["heads"] or child.label_ not in spec["children"]):
                    mask[r, j] = 0.0
        return mask

    # prediction ---------------------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> Floats2d:
        docs = list(docs)
        if not any(len(doc.ents) for doc in docs):
            return numpy.zeros((0, len(self.labels)), dtype="f")
        return self.model.predict(docs)

    def set_annotations(self, docs: Iterable[Doc], scores: Floats2d) -> None:
        docs = list(docs)
        scores = self.model.ops.to_numpy(scores)
        inst_model = self.model.get_ref("instances")
        row = 0
        for doc, instances in zip(docs, _instances(inst_model, docs) if len(scores) else [[] for _ in docs]):
            rels = {}
            mask = self._label_mask(instances)
            for r, (head, child) in enumerate(instances):
                probs = scores[row] * mask[r]
                row += 1
                kept = {label: float(p) for label, p in zip(self.labels, probs) if p >= self.threshold}
                if kept:
                    best = max(kept, key=kept.get)  # one label per pair: the most probable
                    rels[(head.start, child.start)] = {best: kept[best]}
            doc._.rel = rels

    def pair_scores(self, docs: list[Doc]) -> list[tuple[Doc, Span, Span, dict[str, float]]]:
        """Every candidate pair with all its label probabilities (for threshold tuning)."""
        scores = self.model.ops.to_numpy(self.predict(docs))
        inst_model = self.model.get_ref("instances")
        out, row = [], 0
        if not len(scores):
            return out
        for doc, instances in zip(docs, _instances(inst_model, docs)):
            mask = self._label_mask(instances)
            for r, (head, child) in enumerate(instances):
                out.append((doc, head, child, dict(zip(self.labels, (scores[row] * mask[r]).tolist()))))
                row += 1
        return out

    # training -----------------------------------------------------------------------------
    def _with_gold_ents(self, examples: Iterable[Example]) -> list[Doc]:
        """Training sees the gold entities on the predicted docs (same tokenizer, same tokens)."""
        docs = []
        for eg in examples:
            pred, ref = eg.predicted, eg.reference
            if len(pred) != len(ref):
                raise ValueError(
                    f"relation_extractor: predicted and gold docs tokenise differently ({len(pred)} vs {len(ref)} tokens)"
                )
            pred.ents = [Span(pred, e.start, e.end, label=e.label_) for e in ref.ents]
            if ref.has_annotation("SENT_START"):
                pred.from_array([SENT_START], ref.to_array([SENT_START]))
            docs.append(pred)
        return docs

    def _truth(self, examples: list[Example], docs: list[Doc]) -> numpy.ndarray:
        inst_model = self.model.get_ref("instances")
        rows = []
        for eg, instances in zip(examples, _instances(inst_model, docs)):
            gold = doc_rels(eg.reference)
            for head, child in instances:
                labels = gold.get((head.start, child.start), {})
                rows.append([float(labels.get(label, 0.0)) for label in self.labels])
        return numpy.asarray(rows, dtype="f").reshape((-1, len(self.labels)))

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd=None, losses: dict | None = None) -> dict:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_get_examples(lambda: examples, "RelationExtractor.update")
        docs = self._with_gold_ents(examples)
        # The shared tok2vec listener expects to be called on every batch it was given.
        scores, backprop = self.model.begin_update(docs)
        if len(scores):
            loss, gradient = self.get_loss(examples, scores, docs)
            backprop(gradient)
            if sgd is not None:
                self.finish_update(sgd)
            losses[self.name] += loss
        else:
            backprop(self.model.ops.alloc2f(0, len(self.labels)))
        return losses

    def get_loss(self, examples: Iterable[Example], scores, docs: list[Doc] | None = None) -> tuple[float, Floats2d]:
        examples = list(examples)
        docs = docs if docs is not None else self._with_gold_ents(examples)
        truth = self._truth(examples, docs)
        inst_model = self.model.get_ref("instances")
        mask = numpy.concatenate(
            [self._label_mask(i) for i in _instances(inst_model, docs)] or [numpy.zeros((0, len(self.labels)), dtype="f")]
        )
        scores = self.model.ops.to_numpy(scores)
        gradient = (scores - truth) * mask
        loss = float((gradient**2).sum())
        return loss, self.model.ops.asarray2f(gradient)

    def initialize(
        self, get_examples: Callable[[], Iterable[Example]], *, nlp: Language | None = None, labels=None, allowed=None
    ) -> None:
        """Labels and the allowed (head, child) entity labels per relation: from `allowed`
        (relation -> {"heads": [...], "children": [...]}, the project schema) or from the data."""
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        examples = list(get_examples())
        self.cfg["allowed"] = allowed_relations(examples, allowed)
        for label in labels or sorted(self.cfg["allowed"]):
            self.add_label(label)
        if not self.labels:
            raise ValueError("relation_extractor: no relation labels found in the training data")
        self._sync_model_attrs()
        sample = list(islice(examples, 10))
        docs = self._with_gold_ents(sample)
        truth = self._truth(sample, docs)
        self.model.get_ref("output_layer").set_dim("nO", len(self.labels))
        self.model.initialize(X=docs, Y=truth if len(truth) else None)

    # scoring (spaCy's training loop shows it) ------------------------------------------
    def score(self, examples: Iterable[Example], **kwargs) -> dict[str, float]:
        return score_relations(examples)

    # serialisation: keep model attrs in sync with cfg after loading ------------------------
    def from_disk(self, path, *, exclude=tuple()):
        out = super().from_disk(path, exclude=exclude)
        self._sync_model_attrs()
        return out

    def from_bytes(self, bytes_data, *, exclude=tuple()):
        out = super().from_bytes(bytes_data, exclude=exclude)
        self._sync_model_attrs()
        return out
