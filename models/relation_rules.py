"""`relation_rules` (factory): the rules-only baseline for relations (nearest entities after the
trigger; "vào / thành / về / là ..." before a child marks a target; an agency or title just before
the trigger is its source)."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from .candidates import TARGET_CUES
from .pipe_base import _factory

# ---------------------------------------------------------------- rules baseline


@_factory(
    "relation_rules",
    requires=["doc.ents"],
    assigns=["doc._.rel"],
    default_config={
        "max_length": 12,
        "head_label": "MERGE_ACTION",
        "amount_label": "NUMBER",
        "agent_labels": ["AGENCY", "TITLE"],
    },
    default_score_weights={"rel_micro_f": 1.0},
)
def make_relation_rules(nlp: Language, name: str, max_length: int, head_label: str, amount_label: str, agent_labels: list[str]):
    return RelationRules(name, max_length, head_label, amount_label, agent_labels)


class RelationRules:
    """Rules-only relations: after each action trigger, up to the next trigger or the sentence end,
    the first number within reach is its amount; agencies and titles are sources, or targets once
    a target cue ("vào", "thành", "về", "là", ...) has been passed; one agency or title just before
    the trigger (at most 3 tokens away) is a source."""

    def __init__(self, name: str, max_length: int, head_label: str, amount_label: str, agent_labels: list[str]):
        self.name = name
        self.max_length = max_length
        self.head_label = head_label
        self.amount_label = amount_label
        self.agent_labels = set(agent_labels)

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        rels: dict = {}
        has_sents = doc.has_annotation("SENT_START")
        for k, head in enumerate(ents):
            if head.label_ != self.head_label:
                continue
            limit = min(len(doc), head.end + self.max_length)
            if has_sents:
                limit = min(limit, head.sent.end)
            nxt = next((e.start for e in ents[k + 1 :] if e.label_ == self.head_label), len(doc))
            limit = min(limit, nxt)
            found_amount = False
            for child in ents[k + 1 :]:
                if child.start >= limit:
                    break
                between = {t.lower_ for t in doc[head.end : child.start]}
                if child.label_ == self.amount_label and not found_amount:
                    rels[(head.start, child.start)] = {"amount": 1.0}
                    found_amount = True
                elif child.label_ in self.agent_labels:
                    label = "target" if between & TARGET_CUES else "source"
                    rels[(head.start, child.start)] = {label: 1.0}
            if k > 0:
                prev = ents[k - 1]
                same_sent = not has_sents or prev.sent.start == head.sent.start
                if prev.label_ in self.agent_labels and head.start - prev.end <= 3 and same_sent:
                    rels.setdefault((head.start, prev.start), {"source": 1.0})
        doc._.rel = rels
        return doc

    def to_disk(self, path, *, exclude=tuple()):
        pass

    def from_disk(self, path, *, exclude=tuple()):
        return self

    def to_bytes(self, *, exclude=tuple()):
        return b""

    def from_bytes(self, data, *, exclude=tuple()):
        return self
