"""The resources as a token-trie lexicon (models/lexicon.py) and its span-scorer features."""

import time

import pytest

from vnreorg.corpus.tokenize import blank_vi
from vnreorg.models import lexicon, resources


@pytest.fixture(scope="module")
def nlp():
    nlp = blank_vi()
    nlp.add_pipe("lexicon_matcher", config={"set_ents": True})
    nlp.initialize()
    return nlp


def test_fold_is_the_resources_fold():
    for text in ["Thị uỷ Hương Thủy", "HOÁ", "  Sở  Y tế ", "Ủy ban", "khoẻ"]:
        assert lexicon.lexicon_fold(text) == resources.fold(text)


def test_matches_long_names_abbreviations_and_units(nlp):
    doc = nlp("Sở Văn hóa, Thể thao và Du lịch tỉnh Nghệ An và UBND TP.Vinh; quyền Giám đốc Sở Nội vụ.")
    spans = {(doc[s:e].text, kind) for s, e, kind in doc.user_data[lexicon.LEXICON_KEY]}
    assert ("Sở Văn hóa, Thể thao và Du lịch", "agency") in spans
    assert ("TP.Vinh", "unit") in spans and ("tỉnh Nghệ An", "unit") in spans
    assert ("quyền", "title_mod") in spans
    ents = [(e.text, e.label_) for e in doc.ents]
    assert ("Sở Văn hóa, Thể thao và Du lịch", "AGENCY") in ents  # set_ents: the longest form
    assert "TP.Vinh" not in [e.text for e in doc.ents]  # a unit alone is left to the ruler (often a place)


def test_a_bare_unit_name_is_not_a_form(nlp):
    doc = nlp("Hai xã hợp nhất thành xã Hợp Nhất.")
    spans = [doc[s:e].text for s, e, _ in doc.user_data[lexicon.LEXICON_KEY]]
    assert "Hợp Nhất" not in spans


def test_features_and_candidates(nlp):
    doc = nlp("Sở Văn hóa, Thể thao và Du lịch giảm 15-20% biên chế.")
    assert (0, "AGENCY") in lexicon.lexicon_candidate_starts(doc)
    cut = lexicon.lexicon_end_features(doc, 0, 3, "AGENCY")  # "Sở Văn hóa" | ", Thể thao"
    assert "AGENCY|lex_cut_inside" in cut and "AGENCY|coord_next=," in cut and "AGENCY|coord_next_field_head=," in cut
    whole = lexicon.lexicon_end_features(doc, 0, 9, "AGENCY")
    assert "AGENCY|lex_exact=agency" in whole and "AGENCY|lex_delta=0" in whole and "AGENCY|lex_cut_inside" not in whole
    i = [t.text for t in doc].index("15")
    assert "NUMBER|num_shape=d-d%" not in lexicon.lexicon_end_features(doc, i, i + 4, "NUMBER")  # "%" is a unit: 'u'
    assert "NUMBER|num_shape=d-du" in lexicon.lexicon_end_features(doc, i, i + 4, "NUMBER")


def test_trie_is_fast_with_thousands_of_forms(nlp):
    assert sum(len(v) for v in nlp.get_pipe("lexicon_matcher").cfg["forms"].values()) > 10000
    text = "Sáng nay UBND huyện Cần Giờ và Sở Nội vụ TP.HCM đã tổ chức hội nghị về sắp xếp bộ máy. " * 200
    t0 = time.perf_counter()
    doc = nlp(text)
    secs = time.perf_counter() - t0
    assert len(doc) / secs > 20000, f"{len(doc) / secs:.0f} tokens/s"
