"""What the project's pipes share: a factory decorator that tolerates a second copy of the code
(project and wheel), the relation schema seen by a pipe, and serialisation of a pipe whose whole state
is its `cfg`."""

from __future__ import annotations

from pathlib import Path

import catalogue
import numpy
import srsly
from spacy.language import Language
from spacy.training import Example
from spacy.util import registry

from .docext import doc_rels


def _factory(name: str, **kwargs):
    """Language.factory that tolerates a second copy of this module (the packaged model and the
    installed project both register the same names; the first registration wins)."""

    def wrap(fn):
        # Look only at what is registered in memory: asking `Language.has_factory` would load the
        # installed project's entry points, and `spacy package` would then list `vnreorg` as a
        # requirement of the wheel.
        key = (*registry.factories.namespace, Language.get_factory_name(name))
        if key in catalogue.REGISTRY:
            return fn
        return Language.factory(name, **kwargs)(fn)

    return wrap


def allowed_relations(examples: list[Example], allowed: dict | None) -> dict[str, dict[str, list[str]]]:
    """Which entity labels each relation connects ({relation: {"heads": [...], "children": [...]}}):
    `allowed` (the project schema) when given, else what the gold relations of the examples show."""
    if allowed:
        return {k: {"heads": sorted(v["heads"]), "children": sorted(v["children"])} for k, v in allowed.items()}
    found: dict[str, dict[str, set]] = {}
    for eg in examples:
        starts = {e.start: e for e in eg.reference.ents}
        for (h, c), labs in doc_rels(eg.reference).items():
            for label, value in labs.items():
                if value >= 0.5 and h in starts and c in starts:
                    spec = found.setdefault(label, {"heads": set(), "children": set()})
                    spec["heads"].add(starts[h].label_)
                    spec["children"].add(starts[c].label_)
    return {k: {"heads": sorted(v["heads"]), "children": sorted(v["children"])} for k, v in found.items()}


class _FittedCfg:
    """Serialisation of a component whose whole state is `self.cfg` (fitted weights included), as
    JSON on disk and msgpack in bytes; `_loaded()` drops caches derived from it."""

    cfg: dict

    def _loaded(self) -> None:
        pass

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return srsly.msgpack_dumps(self.cfg)

    def from_bytes(self, data: bytes, *, exclude=tuple()):
        self.cfg = srsly.msgpack_loads(data)
        self._loaded()
        return self

    def to_disk(self, path, *, exclude=tuple()):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.cfg)

    def from_disk(self, path, *, exclude=tuple()):
        self.cfg = srsly.read_json(Path(path) / "cfg.json")
        self._loaded()
        return self


def _fit_logistic(X: list[list[str]], y: list[int], c: float) -> tuple[dict[str, float], float]:
    """L2 logistic regression over binary features (scikit-learn, liblinear: deterministic);
    returns {feature: weight} without the zero weights, and the bias."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    matrix = vec.fit_transform([dict.fromkeys(f, 1.0) for f in X]).tocsr()
    matrix.indices = matrix.indices.astype(numpy.int32)  # liblinear refuses 64-bit indices
    matrix.indptr = matrix.indptr.astype(numpy.int32)
    clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=0)
    clf.fit(matrix, y)
    coef = clf.coef_[0]
    return {name: float(coef[i]) for name, i in sorted(vec.vocabulary_.items()) if coef[i] != 0.0}, float(clf.intercept_[0])
