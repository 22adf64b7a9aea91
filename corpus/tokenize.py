"""The project tokenizer: spaCy's rule-based tokenizer with Vietnamese settings, punctuation split.

spaCy's `vi` language defaults to pyvi word segmentation (a span ending inside a pyvi word cannot
align) and, with `use_pyvi = false`, splits on whitespace only ("phố;" stays one token). We use
`spacy.Tokenizer.v1` with the `vi` punctuation rules instead: syllable tokens, punctuation split,
"887/888", "7.739", "14/05/2018" and "18-NQ/TW" kept whole. Every export and the model use this one
tokenizer, built from the config string below.

One change to spaCy's rules: its shared exceptions keep a lower-case letter and its full stop as
one token ("y.", "a."), meant for English initials. In Vietnamese a lower-case single letter is a
syllable ("Thú y", "ở", "à"), and a sentence-final "Chi cục Thú y." must end on the token "y", so
those exceptions are dropped (`drop_lowercase_initials`). Initials stay whole only where they are
upper case ("Nguyễn Văn A."), by spaCy's suffix rules, which split a full stop after a lower-case
letter or after two upper-case letters ("TP.") but not after one upper-case letter. A single upper-case
letter that carries a Vietnamese diacritic ("Châu Ổ.", "Bình Á.") is a syllable, never an initial (initials
are plain A-Z, Đ), so its full stop is split too (`_VIETNAMESE_UPPER_STOP`). Model configs
apply the same change through `[initialize.before_init]` (`vnreorg.project_tokenizer.v1`); the
tokenizer's rules are saved with a trained pipeline, so a loaded model needs no project code.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from spacy.util import registry

from vnreorg.invisible import (  # noqa: F401  (the corpus stage's names for the shared helpers)
    INVISIBLE_FORMAT_CHARS,
    VisibleText,
    invisible_offsets,
    invisible_warning,
    without_invisible,
)

TOKENIZER_CONFIG = """
[nlp]
lang = "vi"
pipeline = []

[nlp.tokenizer]
@tokenizers = "spacy.Tokenizer.v1"
"""


def _is_lowercase_initial(orth: str) -> bool:
    return len(orth) == 2 and orth[1] == "." and orth[0].isalpha() and orth[0].islower()


# Upper-case vowels with a Vietnamese diacritic: a one-letter syllable such as "Ổ", never an initial.
_VIETNAMESE_UPPER = "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
_VIETNAMESE_UPPER_STOP = rf"(?<=^[{_VIETNAMESE_UPPER}])\."


def drop_lowercase_initials(nlp):
    """Remove the tokenizer exceptions that glue a full stop to one lower-case letter ("y." → "y", "."),
    and split the full stop after a one-letter upper-case syllable with a diacritic ("Ổ." → "Ổ", ".")."""
    from spacy.util import compile_suffix_regex

    rules = nlp.tokenizer.rules
    kept = {orth: value for orth, value in rules.items() if not _is_lowercase_initial(orth)}
    if len(kept) != len(rules):
        nlp.tokenizer.rules = kept
    suffixes = list(nlp.Defaults.suffixes or [])
    if _VIETNAMESE_UPPER_STOP not in suffixes:
        nlp.tokenizer.suffix_search = compile_suffix_regex([_VIETNAMESE_UPPER_STOP, *suffixes]).search
    return nlp


@registry.callbacks("vnreorg.project_tokenizer.v1")
def make_project_tokenizer_callback() -> Callable:
    """`[initialize.before_init]` of every model config: the project tokenizer's rules on the pipeline."""
    return drop_lowercase_initials


def blank_vi():
    """A blank `vi` pipeline with the project tokenizer (no pyvi, nothing downloaded)."""
    import spacy
    from spacy.util import load_config_from_str

    config = load_config_from_str(TOKENIZER_CONFIG)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    return drop_lowercase_initials(nlp)


@lru_cache(maxsize=1)
def shared_blank_vi():
    return blank_vi()


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(token text, start, end) character offsets; whitespace tokens are dropped.

    Invisible format characters do not split or join tokens: the visible text is tokenized and the
    offsets mapped back (a token's text is the original slice; such characters at a token's edge fall
    between tokens), the same tokens the model stage reads (`vnreorg/docbin.py`)."""
    vis = VisibleText.of(text)
    doc = shared_blank_vi().make_doc(vis.text)
    if not vis.removed:
        return [(t.text, t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]
    out = []
    for t in doc:
        if t.is_space:
            continue
        start, end = vis.to_original_start(t.idx), vis.to_original_end(t.idx + len(t.text))
        out.append((text[start:end], start, end))
    return out
