"""The project tokenizer: spaCy's rule-based tokenizer with Vietnamese settings, punctuation split.

spaCy's `vi` language defaults to pyvi word segmentation (a span ending inside a pyvi word cannot
align) and, with `use_pyvi = false`, splits on whitespace only ("phố;" stays one token). We use
`spacy.Tokenizer.v1` with the `vi` punctuation rules instead: syllable tokens, punctuation split,
"887/888", "7.739", "14/05/2018" and "18-NQ/TW" kept whole. Every export and the model use this one
tokenizer, built from the config string below.
"""
from __future__ import annotations

from functools import lru_cache

TOKENIZER_CONFIG = """
[nlp]
lang = "vi"
pipeline = []

[nlp.tokenizer]
@tokenizers = "spacy.Tokenizer.v1"
"""


def blank_vi():
    """A blank `vi` pipeline with the project tokenizer (no pyvi, nothing downloaded)."""
    import spacy
    from spacy.util import load_config_from_str

    config = load_config_from_str(TOKENIZER_CONFIG)
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)


@lru_cache(maxsize=1)
def shared_blank_vi():
    return blank_vi()


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(token text, start, end) character offsets; whitespace tokens are dropped."""
    doc = shared_blank_vi().make_doc(text)
    return [(t.text, t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]
