"""The project tokenizer: a lower-case one-letter syllable never keeps a sentence-final full stop;
upper-case initials do; model configs apply the same rules and a saved pipeline keeps them."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from vnreorg.corpus.tokenize import blank_vi, tokenize

CONFIG_DIR = Path(__file__).resolve().parents[1] / "models" / "configs"

VOWELS = "aăâeêioôơuưy"
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # none, huyền, sắc, hỏi, ngã, nặng
ONE_LETTER = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES]
# Syllables written without a consonant, with several tones (real words).
VOWEL_ONLY = [
    "ai",
    "ái",
    "ải",
    "ao",
    "áo",
    "ảo",
    "âu",
    "ấu",
    "ây",
    "ấy",
    "eo",
    "éo",
    "êu",
    "ếu",
    "ia",
    "ỉa",
    "iu",
    "oa",
    "òa",
    "oe",
    "oi",
    "ói",
    "ôi",
    "ối",
    "ổi",
    "ơi",
    "ới",
    "ua",
    "úa",
    "ùa",
    "uê",
    "uể",
    "ui",
    "ủi",
    "uy",
    "ưa",
    "ừa",
    "ửa",
    "ưu",
    "yêu",
    "yếu",
    "oai",
    "oái",
    "uôi",
    "ươi",
    "ười",
    "uya",
    "uyên",
]


def test_every_vowel_with_every_tone_is_listed():
    assert len(ONE_LETTER) == 72 and len(set(ONE_LETTER)) == 72
    assert all(len(s) == 1 for s in ONE_LETTER)  # NFC composes each into one code point


@pytest.mark.parametrize("syllable", ONE_LETTER + VOWEL_ONLY)
def test_lower_case_syllable_at_sentence_end_leaves_the_full_stop_alone(syllable):
    text = f"Chi cục Thú {syllable}. Hôm nay họp."
    words = [t for t, _, _ in tokenize(text)]
    assert words[3:6] == [syllable, ".", "Hôm"], words


@pytest.mark.parametrize("syllable", ONE_LETTER)
def test_lower_case_syllable_alone_and_at_text_end(syllable):
    assert [t for t, _, _ in tokenize(f"{syllable}.")] == [syllable, "."]
    assert [t for t, _, _ in tokenize(f"Đó là {syllable}.")][-2:] == [syllable, "."]


def test_agency_ending_a_sentence_aligns():
    text = "Sáp nhập Chi cục Chăn nuôi và Thú y."
    ends = {e for _, _, e in tokenize(text)}
    assert text.index(" y.") + 2 in ends


def test_upper_case_initials_stay_whole():
    assert [t for t, _, _ in tokenize("Ông Nguyễn Văn A. Hôm nay")][3] == "A."
    # two upper-case letters are an abbreviation whose full stop splits, as before
    assert [t for t, _, _ in tokenize("TP. Sóc Trăng")][:2] == ["TP", "."]


UPPER_WITH_DIACRITIC = [s.upper() for s in ONE_LETTER if not s.isascii()]


@pytest.mark.parametrize("syllable", UPPER_WITH_DIACRITIC)
def test_upper_case_syllable_with_a_diacritic_is_not_an_initial(syllable):
    """ "UBND thị trấn Châu Ổ." must end on the token "Ổ": initials are plain letters (A-Z)."""
    words = [t for t, _, _ in tokenize(f"Thị trấn Châu {syllable}. Hôm nay")]
    assert words[3:5] == [syllable, "."], words


def test_every_model_config_applies_the_project_tokenizer_rules():
    from spacy.util import load_config

    configs = sorted(CONFIG_DIR.glob("*.cfg"))
    assert configs
    for cfg in configs:
        before = load_config(cfg, interpolate=False)["initialize"].get("before_init") or {}
        assert before.get("@callbacks") == "vnreorg.project_tokenizer.v1", cfg.name


def test_a_pipeline_initialised_from_a_config_saves_and_reloads_the_rules(tmp_path):
    """A trained pipeline is initialised from its config (the callback runs once) and loaded later
    from disk by plain spaCy, where the saved tokenizer rules must hold."""
    import spacy
    from spacy.util import load_config_from_str, load_model_from_config

    cfg = load_config_from_str(
        '[nlp]\nlang = "vi"\npipeline = []\n\n[nlp.tokenizer]\n@tokenizers = "spacy.Tokenizer.v1"\n\n'
        '[initialize]\n\n[initialize.before_init]\n@callbacks = "vnreorg.project_tokenizer.v1"\n'
    )
    nlp = load_model_from_config(cfg, auto_fill=True, validate=True)
    assert [t.text for t in nlp.make_doc("Thú y.")] == ["Thú", "y."]  # spaCy's own rules, before initialising
    nlp.initialize()
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert [t.text for t in loaded.make_doc("Chi cục Thú y.")][-2:] == ["y", "."]
    assert [t.text for t in blank_vi().make_doc("Thú y.")] == ["Thú", "y", "."]
