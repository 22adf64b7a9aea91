"""Rules from the annotation guidelines, as spaCy EntityRuler token patterns, and the relation schema.

Used only at initialisation (the patterns are serialised with the trained pipeline, so a packaged
model needs none of this code). Registered as `@misc` functions so configs can name them:
`vnreorg.rule_patterns.v1` (patterns for all labels) and `vnreorg.relation_schema.v1` (which entity
labels each relation may connect, from vnreorg.schema).
"""

from __future__ import annotations

from spacy.util import registry

from vnreorg.schema import ENTITY_LABELS, RELATION_CHILD_LABELS, RELATION_HEAD_LABELS, RELATION_LABELS

# Trigger words of concrete restructuring actions (guidelines: MERGE_ACTION).
ACTION_TRIGGERS = [
    "hợp nhất",
    "sáp nhập",
    "giải thể",
    "thành lập",
    "đổi tên",
    "nhất thể hóa",
    "nhất thể hoá",
    "kiêm",
    "kiêm nhiệm",
    "đồng thời là",
    "giảm",
    "tinh giản",
    "chuyển đổi",
    "chuyển chức năng",
    "chuyển giao",
    "hợp nhất, sáp nhập",
    "sáp nhập, hợp nhất",
    "kết thúc hoạt động",
    "thu gọn",
    # Listed in the guidelines' trigger table (v1.1): the verb with what is transferred, and the
    # "becomes another unit" / "forms a named body" verbs.
    "chuyển chức năng, nhiệm vụ",
    "chuyển chức năng nhiệm vụ",
    "chuyển nhiệm vụ",
    "nâng lên",
    "hình thành",
    # Guidelines v2 (3.1): the 2024-2025 wave. The span scorer learns when they are slogans.
    "cắt giảm",
    "chấm dứt hoạt động",
    "thôi hoạt động",
    "tổ chức lại",
    "chia tách",
    "tách",
    "tiếp nhận chức năng, nhiệm vụ",
    "tiếp nhận chức năng nhiệm vụ",
    "tiếp nhận nguyên trạng",
    "điều chuyển",
    "sắp xếp",
    "không tổ chức",
]
# Agency heads that name a body on their own ("Thành ủy", "UBND") and heads that need a name after them.
AGENCY_HEADS_ALONE = [
    "ubnd",
    "hđnd",
    "thành ủy",
    "thành uỷ",
    "tỉnh ủy",
    "tỉnh uỷ",
    "huyện ủy",
    "huyện uỷ",
    "thị ủy",
    "thị uỷ",
    "đảng ủy",
    "đảng uỷ",
    "ủy ban mttq",
    "uỷ ban mttq",
    "mttq",
    "ban thường vụ",
    "ban chấp hành",
]
AGENCY_HEADS_NAMED = [
    "ban",
    "phòng",
    "trung tâm",
    "ủy ban",
    "uỷ ban",
    "sở",
    "văn phòng",
    "hội",
    "đài",
    "trường",
    "chi bộ",
    "đảng bộ",
    "thanh tra",
    "công an",
    "chi cục",
    "cục",
    "viện",
    "bệnh viện",
    "trạm",
    "đội",
    "đoàn",
    "xã",
    "phường",
    "thị trấn",
    "thôn",
    "khu",
    "tổ dân phố",
    "huyện",
    "thị xã",
    "thành phố",
    "tỉnh",
    "liên đoàn lao động",
    "hội đồng",
    "bộ",
    "tp",
    "tp.",
]
# Bodies a title may name after itself ("Chủ tịch UBND Phường 6", "Trưởng Ban Tuyên giáo Thành ủy").
TITLE_BODY_HEADS = ["ban", "phòng", "trung tâm", "ủy ban", "uỷ ban", "hội", "chi bộ", "xã", "phường", "thôn"]
LOCALITY_WORDS = ["thành phố", "tỉnh", "huyện", "thị xã", "xã", "phường", "thị trấn", "quận", "thôn"]
TITLE_HEADS = [
    "bí thư",
    "phó bí thư",
    "chủ tịch",
    "phó chủ tịch",
    "giám đốc",
    "phó giám đốc",
    "trưởng ban",
    "phó trưởng ban",
    "trưởng phòng",
    "phó trưởng phòng",
    "chánh văn phòng",
    "chánh thanh tra",
    "trưởng thôn",
    "tổ trưởng",
    "trưởng công an",
    "chỉ huy trưởng",
    "trưởng",
    "phó",
    "thủ trưởng",
    "bí thư chi bộ",
    "chủ nhiệm",
    "hiệu trưởng",
    "chánh án",
    "viện trưởng",
]
# Shapes of counts, fractions and thousands ("03", "887/888", "7.739", "2,5"); not years ("dddd") or dates.
NUMBER_SHAPES = [
    "d",
    "dd",
    "ddd",
    "d/d",
    "d/dd",
    "dd/dd",
    "ddd/ddd",
    "dd/ddd",
    "d.ddd",
    "dd.ddd",
    "ddd.ddd",
    "d,d",
    "d,dd",
    "dd,d",
]
NUMBER_UNITS = ["tỷ", "triệu", "nghìn", "ngàn", "trăm"]
# Guidelines v2 (C1, C2): ranges and ratios are one NUMBER ("15-20%", "2.500-3.000"), measures keep their unit.
NUMBER_MEASURES = ["%", "km2", "km²", "ha", "lần", "triệu"]
NUMBER_JOINERS = ["-", "–"]

# Token shapes (spaCy's word_shape: X upper, x lower, d digit, runs cut after 4) of a capitalised word or
# a number inside a name. `SHAPE IN` is a hash look-up; a REGEX predicate is a Python call per token
# and made the ruler three times slower.
CAP_SHAPES = ["X", "Xx", "Xxx", "Xxxx", "Xxxxx", "XX", "XXX", "XXXX", "XXXXX", "d", "dd", "ddd", "XxX", "XXx"]
_CAP = {"SHAPE": {"IN": CAP_SHAPES}}
# Lower-case words that end a name rather than continue it ("Thành ủy Sóc Trăng đã ...",
# "sáp nhập khu Cầu Sến vào ..."): a name's lower-case syllable is never one of these.
NAME_STOP_WORDS = sorted(
    set(
        "đã đang sẽ vào và với làm về được bị thành có là các của cho để từ theo tại trong do "
        "đặc nên mà thì khi sau trước nay này đó cùng hoặc hay như trên dưới ra lên đến tới".split()
    )
)
_LOW = {"IS_LOWER": True, "LOWER": {"NOT_IN": NAME_STOP_WORDS}, "OP": "?"}
LOCALITY_LAST = sorted({w.split()[-1] for w in LOCALITY_WORDS})


def _words(phrase: str) -> list[dict]:
    return [{"LOWER": w} for w in phrase.split()]


def _heads(phrases: list[str]) -> list[list[dict]]:
    """Token patterns for head phrases, one per phrase length, each position an `IN` set of the
    syllables seen there. A few hundred patterns would make the Matcher (which tries every pattern
    at every token) ten times slower; the over-generation ("tỉnh bộ") does not occur in news text."""
    by_len: dict[int, list[list[str]]] = {}
    for phrase in phrases:
        by_len.setdefault(len(phrase.split()), []).append(phrase.split())
    out = []
    for n in sorted(by_len):
        out.append([{"LOWER": {"IN": sorted({words[i] for words in by_len[n]})}} for i in range(n)])
    return out


def _agency_tails() -> list[list[dict]]:
    """What follows an agency head: a capitalised name of 1-3 units (a capitalised token and an
    optional lower-case one, "Tuyên giáo"), a locality ("thành phố"), or both."""
    n1 = [dict(_CAP), dict(_LOW)]
    loc = [{"LOWER": {"IN": ["thành", "thị"]}, "OP": "?"}, {"LOWER": {"IN": LOCALITY_LAST}}]
    return [n1, n1 * 2, n1 * 3, loc, loc + n1, n1 + loc, n1 * 2 + loc]


def agency_patterns(heads_named: list[str] | None = None, tails: list[list[dict]] | None = None) -> list[list[dict]]:
    heads_named = AGENCY_HEADS_NAMED if heads_named is None else heads_named
    out = [list(h) for h in _heads(AGENCY_HEADS_ALONE)]
    for head in _heads(AGENCY_HEADS_ALONE + heads_named):
        for tail in _agency_tails() if tails is None else tails:
            out.append(head + tail)
    return out


def rule_patterns_list() -> list[dict]:
    """EntityRuler patterns for every label of the schema that has rules."""
    agencies = agency_patterns()
    # The body after a title: fewer tail shapes than for agencies (the Matcher tries every pattern at
    # every token; 99 title patterns cost half the ruler's time, 57 cost a third).
    title_bodies = agency_patterns(TITLE_BODY_HEADS, [t for i, t in enumerate(_agency_tails()) if i in (0, 1, 3, 4, 5)])
    per_label: dict[str, list[list[dict]]] = {
        "MERGE_ACTION": [_words(t) for t in ACTION_TRIGGERS if " " in t] + _heads([t for t in ACTION_TRIGGERS if " " not in t]),
        "AGENCY": agencies,
        "TITLE": [h + a for h in _heads(TITLE_HEADS) for a in title_bodies] + _heads([h for h in TITLE_HEADS if " " in h]),
        "NUMBER": [
            [{"SHAPE": {"IN": NUMBER_SHAPES}}],
            [{"SHAPE": {"IN": NUMBER_SHAPES}}, {"ORTH": "%"}],
            [{"SHAPE": {"IN": NUMBER_SHAPES}}, {"LOWER": {"IN": NUMBER_UNITS}}, {"LOWER": "đồng"}],
            [{"SHAPE": {"IN": NUMBER_SHAPES}}, {"LOWER": {"IN": NUMBER_MEASURES}}],
            [
                {"SHAPE": {"IN": NUMBER_SHAPES}},
                {"ORTH": {"IN": NUMBER_JOINERS}},
                {"SHAPE": {"IN": NUMBER_SHAPES}},
                {"LOWER": {"IN": NUMBER_MEASURES}, "OP": "?"},
            ],
        ],
    }
    unknown = set(per_label) - set(ENTITY_LABELS)
    if unknown:
        raise ValueError(f"rule labels not in the schema: {sorted(unknown)}")
    return [{"label": label, "pattern": p} for label, patterns in per_label.items() for p in patterns]


@registry.misc("vnreorg.rule_patterns.v1")
def rule_patterns() -> list[dict]:
    return rule_patterns_list()


# Extra heads for the span scorer's candidate starts: bodies named by a common noun ("cơ quan tham mưu
# ...", "bộ phận chuyên trách ...", "Khối vận") and the usual abbreviations of bodies and titles.
SCORER_EXTRA_AGENCY_HEADS = [
    "cơ quan",
    "bộ phận",
    "khối",
    "cấp ủy",
    "cấp uỷ",
    "btv",
    "bch",
    "ubkt",
    "ủy ban kiểm tra",
    "tòa án",
    "viện kiểm sát",
    "mặt trận",
    "ban chỉ đạo",
    "ban quản lý",
    "hội đồng nhân dân",
    "ủy ban nhân dân",
    "uỷ ban nhân dân",
]
SCORER_EXTRA_TITLE_HEADS = ["tbt", "tổng bí thư", "trưởng khối", "chủ nhiệm", "ủy viên", "uỷ viên"]


def scorer_heads_dict() -> dict[str, list[str]]:
    """Head phrases that start an AGENCY or TITLE candidate for the span scorer (any case)."""
    return {
        "AGENCY": sorted(set(AGENCY_HEADS_ALONE + AGENCY_HEADS_NAMED + SCORER_EXTRA_AGENCY_HEADS)),
        "TITLE": sorted(set(TITLE_HEADS + SCORER_EXTRA_TITLE_HEADS)),
    }


@registry.misc("vnreorg.scorer_heads.v1")
def scorer_heads() -> dict[str, list[str]]:
    return scorer_heads_dict()


def relation_schema_dict() -> dict[str, dict[str, list[str]]]:
    return {
        label: {"heads": sorted(RELATION_HEAD_LABELS), "children": sorted(RELATION_CHILD_LABELS[label])}
        for label in RELATION_LABELS
    }


@registry.misc("vnreorg.relation_schema.v1")
def relation_schema() -> dict[str, dict[str, list[str]]]:
    return relation_schema_dict()


@registry.misc("vnreorg.entity_labels.v1")
def entity_labels() -> dict[str, list[str]]:
    """The NER label set from the schema (for `[initialize.components.ner.labels]`)."""
    return {"ner": list(ENTITY_LABELS)}
