"""The spaCy components and architectures of the vnreorg pipeline, gathered (as spaCy's own
`registrations.py` gathers its functions): importing this module registers all of them.

Each lives in a module of its own; they import only spaCy, thinc, numpy and each other (relatively),
because `package.py` bundles them into the one `components.py` that the packaged model carries
(`spacy package --code`), which must load without this repository:

- `docext.py`: `doc._.rel` ({(head_start_token, child_start_token): {label: prob}}), relation tuples and scores;
- `pipe_base.py`: the factory decorator, the relation schema a pipe sees, `cfg`-only serialisation, logistic fits;
- `candidates.py`: candidate (action, entity) pairs (`vnreorg.action_candidates.v1`), pair features, cue words;
- `lexicon.py`: `lexicon_matcher`, the knowledge resources as a token trie, and its span-scorer features;
- `span_scorer.py`: `span_scorer`, learned decisions over the ruler's and a head lexicon's candidates;
- `spans_ents.py`: `spans_to_ents`, spancat's scored spans as non-overlapping entities (the `spancat` system);
- `relation_scorer.py`: `relation_scorer`, a logistic regression over pair features;
- `relext_model.py`: the thinc architectures `vnreorg.RelationModel.v1`, `vnreorg.InstanceTensor.v1`,
  `vnreorg.RelationClassifier.v1`;
- `relext.py`: `relation_extractor`, the trainable relation classifier (spaCy's `rel_component` shape);
- `relation_rules.py`: `relation_rules`, the rules-only relation baseline.
"""

from __future__ import annotations

from .candidates import action_candidates, make_action_candidates
from .docext import ENT_SCORE_KEY, REL_USER_DATA, doc_rels, relation_tuples, score_relations, tokens_copy
from .lexicon import LexiconMatcher, make_lexicon_matcher
from .pipe_base import allowed_relations
from .relation_rules import RelationRules, make_relation_rules
from .relation_scorer import DIRECTED, RelationScorer, guideline_direction, make_relation_scorer
from .relext import RelationExtractor, make_relation_extractor
from .relext_model import create_classification_layer, create_instance_tensor, create_relation_model
from .span_scorer import SpanScorer, make_span_scorer
from .spans_ents import SpansToEnts, make_spans_to_ents

# The modules the packaged model carries, in dependency order (package.py bundles them for `spacy package --code`).
CODE_MODULES = (
    "docext",
    "pipe_base",
    "candidates",
    "lexicon",
    "span_scorer",
    "spans_ents",
    "relation_scorer",
    "relext_model",
    "relext",
    "relation_rules",
    "components",
)

__all__ = [
    "ENT_SCORE_KEY",
    "REL_USER_DATA",
    "DIRECTED",
    "LexiconMatcher",
    "make_lexicon_matcher",
    "RelationExtractor",
    "RelationRules",
    "RelationScorer",
    "SpanScorer",
    "SpansToEnts",
    "action_candidates",
    "allowed_relations",
    "create_classification_layer",
    "create_instance_tensor",
    "create_relation_model",
    "doc_rels",
    "guideline_direction",
    "make_action_candidates",
    "make_relation_extractor",
    "make_relation_rules",
    "make_relation_scorer",
    "make_span_scorer",
    "make_spans_to_ents",
    "relation_tuples",
    "score_relations",
    "tokens_copy",
]
