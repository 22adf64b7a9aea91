"""The thinc architectures of the trainable relation extractor: `vnreorg.RelationModel.v1`,
`vnreorg.InstanceTensor.v1` (pooled token vectors of head, child and the tokens between, plus order
and distance features) and `vnreorg.RelationClassifier.v1` (a small feed-forward classifier)."""

from __future__ import annotations

from collections.abc import Callable

import numpy
from spacy.tokens import Doc, Span
from spacy.util import registry
from thinc.api import Linear, Logistic, Model, Relu, chain
from thinc.types import Floats2d

from .candidates import N_FEATURES, _between, _pair_features

# ---------------------------------------------------------------- model


@registry.architectures("vnreorg.RelationModel.v1")
def create_relation_model(
    create_instance_tensor: Model[list[Doc], Floats2d],
    classification_layer: Model[Floats2d, Floats2d],
) -> Model[list[Doc], Floats2d]:
    model = chain(create_instance_tensor, classification_layer)
    model.attrs["get_instances"] = create_instance_tensor.attrs["get_instances"]
    model.set_ref("instances", create_instance_tensor)
    model.set_ref("output_layer", classification_layer.get_ref("output_layer"))
    return model


@registry.architectures("vnreorg.RelationClassifier.v1")
def create_classification_layer(hidden_width: int = 64, dropout: float = 0.1, nO: int | None = None) -> Model[Floats2d, Floats2d]:
    output = Linear(nO=nO)
    if hidden_width > 0:
        model = chain(Relu(nO=hidden_width, dropout=dropout), output, Logistic())
    else:
        model = chain(output, Logistic())
    model.set_ref("output_layer", output)
    return model


@registry.architectures("vnreorg.InstanceTensor.v1")
def create_instance_tensor(tok2vec: Model[list[Doc], list[Floats2d]], get_instances: Callable) -> Model[list[Doc], Floats2d]:
    return Model(
        "rel_instance_tensor",
        _instance_forward,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        attrs={"get_instances": get_instances, "head_labels": [], "child_labels": []},
        init=_instance_init,
    )


def _instances(model: Model, docs: list[Doc]) -> list[list[tuple[Span, Span]]]:
    get = model.attrs["get_instances"]
    heads, children = model.attrs["head_labels"], model.attrs["child_labels"]
    return [get(doc, heads, children) for doc in docs]


def _instance_forward(model: Model, docs: list[Doc], is_train: bool):
    tok2vec = model.get_ref("tok2vec")
    all_instances = _instances(model, docs)
    tokvecs, bp_tokvecs = tok2vec(docs, is_train)
    width = tok2vec.get_dim("nO")
    n_rows = sum(len(inst) for inst in all_instances)
    out = numpy.zeros((n_rows, 3 * width + N_FEATURES), dtype="f")
    head_labels = set(model.attrs["head_labels"])
    pools = []  # (row, doc index, [(start, end, column)])
    row = 0
    for i, (doc, instances) in enumerate(zip(docs, all_instances)):
        if not instances:
            continue
        vecs = model.ops.to_numpy(tokvecs[i])
        head_starts = sorted(e.start for e in doc.ents if e.label_ in head_labels)
        # Mean pooling of many token ranges at once: differences of a cumulative sum.
        csum = numpy.vstack([numpy.zeros((1, width), dtype="f"), numpy.cumsum(vecs, axis=0, dtype="f")])
        bounds = numpy.array([[h.start, h.end, c.start, c.end, *_between(h, c)] for h, c in instances], dtype="i")
        rows = slice(row, row + len(instances))
        for k in range(3):
            lo, hi = bounds[:, 2 * k], bounds[:, 2 * k + 1]
            n = numpy.maximum(hi - lo, 1)[:, None].astype("f")
            out[rows, k * width : (k + 1) * width] = numpy.where((hi > lo)[:, None], (csum[hi] - csum[lo]) / n, 0.0)
        for r, (head, child) in enumerate(instances):
            out[row + r, 3 * width :] = _pair_features(head_starts, head, child)
            if not is_train:
                continue
            b = bounds[r]
            used = [(b[2 * k], b[2 * k + 1], k * width) for k in range(3) if b[2 * k + 1] > b[2 * k]]
            pools.append((row + r, i, used))
        row += len(instances)

    def backprop(d_out: Floats2d) -> list:
        d_out = model.ops.to_numpy(d_out)
        d_tokvecs = [numpy.zeros(model.ops.to_numpy(t).shape, dtype="f") for t in tokvecs]
        for r, i, used in pools:
            for start, end, col in used:
                d_tokvecs[i][start:end] += d_out[r, col : col + width] / (end - start)
        return bp_tokvecs([model.ops.asarray2f(d) for d in d_tokvecs])

    return model.ops.asarray2f(out), backprop


def _instance_init(model: Model, X=None, Y=None) -> Model:
    tok2vec = model.get_ref("tok2vec")
    if X is not None:
        tok2vec.initialize(X)
    return model
