"""A small synthetic annotated corpus in the project's format, for tests and benchmarks.

Sentences are built from templates in the style of the seed articles, so their spans and relations
are known exactly. This is not a substitute for gold: it exists so the model stage can be tested
(train, cross-validate, package) in seconds without the real corpus.
"""

from __future__ import annotations

import random

from vnreorg.schema import Document, Relation, Span

AGENCIES = [
    "Phòng Nội vụ thành phố",
    "Văn phòng HĐND và UBND thành phố",
    "Ban Tuyên giáo Thành ủy",
    "Trung tâm Y tế huyện",
    "Đài Truyền thanh",
    "Hội Chữ thập đỏ",
    "Ủy ban MTTQ thành phố",
    "Phòng Văn hóa và Thông tin",
    "Trung tâm Bồi dưỡng chính trị",
    "Ban Dân vận Thị ủy",
    "xã Điền Công",
    "phường Trưng Vương",
    "Thanh tra thành phố",
    "Trường THCS Nam Khê",
]
TITLES = [
    "Bí thư Đảng ủy",
    "Chủ tịch UBND Phường 6",
    "Trưởng Ban Tuyên giáo Thành ủy",
    "bí thư chi bộ",
    "trưởng thôn",
    "Giám đốc Trung tâm Y tế",
    "Chủ tịch Ủy ban MTTQ xã",
]
NUMBERS = ["03", "10%", "887/888", "12", "11 tỷ đồng", "45", "2/3"]
FILLER = [
    "Đây là bước đi quan trọng trong thời gian tới.",
    "Công tác này được triển khai đồng bộ, hiệu quả.",
    "Nhiều cán bộ, công chức đã đồng tình với chủ trương.",
    "Kết quả bước đầu cho thấy bộ máy hoạt động hiệu lực hơn.",
]

# (template, relations): {A}, {B} are agencies, {T}, {U} titles, {N} a number; {ACT:...} the trigger.
TEMPLATES = [
    ("Thành phố đã {ACT:sáp nhập} {A} vào {B}.", [("source", "A"), ("target", "B")]),
    ("Năm 2018, tỉnh {ACT:hợp nhất} {A} và {B} thành {C}.", [("source", "A"), ("source", "B"), ("target", "C")]),
    ("Huyện quyết định {ACT:giải thể} {A} từ ngày 14/05/2018.", [("source", "A")]),
    ("Đảng bộ đã {ACT:giảm} {N} biên chế so với năm 2015.", [("amount", "N")]),
    ("Thành ủy thực hiện {ACT:nhất thể hóa} {T} đồng thời là {U}.", [("source", "T"), ("target", "U")]),
    ("Tỉnh đã {ACT:thành lập} {A} trên cơ sở {B}.", [("target", "A"), ("source", "B")]),
    ("Thị xã {ACT:tinh giản} {N} cán bộ của {A}.", [("amount", "N"), ("source", "A")]),
    ("UBND tỉnh đồng ý {ACT:đổi tên} {A} thành {B}.", [("source", "A"), ("target", "B")]),
    ("{T} {ACT:kiêm} {U} theo Nghị quyết số 18-NQ/TW.", [("source", "T"), ("target", "U")]),
]


def _fill(template: str, rng: random.Random) -> tuple[str, list[tuple[str, int, int, str]]]:
    """Render a template; returns the text and (slot, start, end, label) for each slot."""
    out, slots, i = "", [], 0
    while i < len(template):
        if template[i] == "{":
            j = template.index("}", i)
            key = template[i + 1 : j]
            if key.startswith("ACT:"):
                value, label, slot = key[4:], "MERGE_ACTION", "ACT"
            elif key in ("A", "B", "C"):
                value, label, slot = rng.choice(AGENCIES), "AGENCY", key
            elif key in ("T", "U"):
                value, label, slot = rng.choice(TITLES), "TITLE", key
            else:
                value, label, slot = rng.choice(NUMBERS), "NUMBER", key
            slots.append((slot, len(out), len(out) + len(value), label))
            out += value
            i = j + 1
        else:
            out += template[i]
            i += 1
    return out[0].upper() + out[1:], slots


def synthetic_documents(n_docs: int = 5, sentences_per_doc: int = 24, seed: int = 0) -> list[Document]:
    """`n_docs` annotated documents of paragraphs of 1-3 sentences, reproducible from `seed`."""
    rng = random.Random(seed)
    docs = []
    for d in range(n_docs):
        text, paragraphs, sentences, spans, relations = "", [], [], [], []
        n = 0
        while n < sentences_per_doc:
            if text:
                text += "\n\n"
            p_start = len(text)
            for k in range(rng.randint(1, 3)):
                if k:
                    text += " "
                s_start = len(text)
                if rng.random() < 0.25:
                    text += rng.choice(FILLER)
                else:
                    template, rels = rng.choice(TEMPLATES)
                    sentence, slots = _fill(template, rng)
                    ids = {}
                    for slot, a, b, label in slots:
                        sid = f"s{len(spans)}"
                        spans.append(Span(sid, s_start + a, s_start + b, label))
                        ids[slot] = sid
                    for label, slot in rels:
                        relations.append(Relation(ids["ACT"], ids[slot], label))
                    text += sentence
                sentences.append((s_start, len(text)))
                n += 1
            paragraphs.append((p_start, len(text)))
        docs.append(
            Document(
                id=f"synthetic-{seed}-{d}",
                text=text,
                paragraphs=paragraphs,
                sentences=sentences,
                spans=spans,
                relations=relations,
                meta={"synthetic": True},
            )
        )
    return docs
