"""The agreement report says what the passes given to it are, not what this corpus's passes were."""

from __future__ import annotations

from conftest import doc_from_offsets

from vnreorg.annotation.agreement import agreement, agreement_markdown
from vnreorg.annotation.worksheet_cli import pass_records
from vnreorg.schema import Document

TEXT = "Sáp nhập Phòng Nội vụ vào Văn phòng."


def _doc(doc_id: str, spans) -> Document:
    return doc_from_offsets(doc_id, TEXT, spans, sentences=[(0, len(TEXT))])


def test_report_sentences_derive_from_the_passes_given():
    ref = [_doc("d1", [(0, 8, "MERGE_ACTION"), (9, 21, "AGENCY")]), _doc("d2", [(0, 8, "MERGE_ACTION")])]
    other = [_doc("d1", [(0, 8, "MERGE_ACTION")]), _doc("d2", [(0, 8, "MERGE_ACTION")])]
    result = agreement(ref, other)
    result["documents"] = [{"id": d.id, "source_file": f"{d.id}.txt", "second_pass": "Lan"} for d in ref]
    result["guideline_example_overlap"] = {"spans": 3, "quoted_in_guidelines": 1, "share": 1 / 3}
    provenance = {"d1": {"passes": [{"who": "Lan, a human annotator", "guidelines": "v2.0", "worksheet": "w/lan_d1.txt"}]}}
    result["passes"] = pass_records(provenance, [("Lan", {"d1": "w/lan_d1.txt", "d2": "w/lan_d2.txt"})])
    md = agreement_markdown(result, ref, other)
    assert "1 independent second pass (Lan)" in md
    assert "over these 2 documents" in md
    assert "Lan, 2 documents: Lan, a human annotator (guidelines v2.0)" in md
    for fixed in ("five", "B and C", "All three", "v1.1", "AI model"):
        assert fixed not in md
