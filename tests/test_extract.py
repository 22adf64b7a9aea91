"""`vnreorg extract` on large inputs (issue 12 point 2): streamed reading, parts of at most
1,000,000 characters cut at line ends with offsets relative to the whole text, nothing skipped or
truncated, segmentation that never rescans, and a stdin that never ends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnreorg.corpus.parts import iter_parts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
REPO = Path(__file__).resolve().parents[1]
SENTENCES = [
    "Thành phố đã sáp nhập Phòng Nội vụ thành phố vào Văn phòng HĐND và UBND thành phố.",
    "Thị xã tinh giản 45 cán bộ của Hội Chữ thập đỏ.",
    "Tỉnh đã giải thể Trung tâm Y tế huyện từ ngày 14/05/2018.",
    "Đồng chí Bí thư cho biết: “Việc sắp xếp đã xong. Bộ máy gọn hơn.” Nhiều cán bộ đồng tình.",
]


@pytest.fixture(scope="module")
def rules_model(tmp_path_factory):
    """A rules-only pipeline (entity ruler + relation rules): built in about a second."""
    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.models.train import train_model

    docs = synthetic_documents(n_docs=3, sentences_per_doc=12, seed=1)
    return str(train_model("rules", docs, tmp_path_factory.mktemp("rules") / "run", seed=0, quiet=True).model_path)


def _article(n_paragraphs: int, seed: int = 0) -> str:
    paras = []
    for i in range(n_paragraphs):
        k = (i + seed) % len(SENTENCES)
        paras.append(" ".join(SENTENCES[(k + j) % len(SENTENCES)] for j in range(1 + i % 3)))
    return "\n\n".join(paras) + "\n"


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------ parts


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "ệ", " ", "\n", "\r", "\r\n", "e", "\u0301", "ơ\u0323", "."]), max_size=200).map("".join),
    st.lists(st.integers(0, 300), max_size=6),
    st.integers(4, 60),
)
def test_parts_rejoin_to_the_normalised_text_within_the_limit(text, cuts, limit):
    """Law: however the input arrives in chunks, the parts concatenate to the normalised whole,
    each at most `limit` characters, numbered with their offsets, the last one marked."""
    cuts = sorted({min(c, len(text)) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
    parts = list(iter_parts(chunks, limit))
    whole = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    assert "".join(p.text for p in parts) == whole
    assert all(len(p.text) <= limit for p in parts)
    pos = 0
    for k, p in enumerate(parts):
        assert (p.index, p.start) == (k, pos)
        pos = p.end
    assert [p.last for p in parts] == [False] * (len(parts) - 1) + [True] * bool(parts)


def test_parts_end_at_line_ends_when_lines_are_shorter_than_a_part():
    text = _article(200)
    parts = list(iter_parts([text[i : i + 777] for i in range(0, len(text), 777)], 5000))
    assert len(parts) > 3
    assert all(p.text.endswith("\n") for p in parts) and not any(p.warnings for p in parts)


# ------------------------------------------------------------------ segmentation stays linear


def test_segmentation_of_the_seed_corpus_is_unchanged():
    """extract segments a text as `corpus build` did for the seed articles (paragraphs, sentences)."""
    from vnreorg.models.extract import segment_text

    for line in (REPO / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        seg = segment_text(doc["text"], doc["id"])
        assert [list(p) for p in seg.paragraphs] == doc["paragraphs"]
        assert [list(s) for s in seg.sentences] == doc["sentences"]


def test_segmenting_8x_more_text_costs_about_8x_not_64x():
    """The old path clipped every sentence against every paragraph: 1.25 MB took 6 s, 2.5 MB 28 s."""
    from vnreorg.models.extract import segment_text

    def cpu(n):
        text = _article(n)
        t0 = time.process_time()
        segment_text(text, "x")
        return time.process_time() - t0

    small = min(cpu(400) for _ in range(3))
    big = min(cpu(3200) for _ in range(2))
    assert big / max(small, 1e-3) < 20, (small, big)


def test_a_huge_paragraph_is_cut_into_pieces_with_sentences_inside_them():
    from vnreorg.models.extract import MAX_PIECE_CHARS, segment_text

    text = "Mở đầu.\n\n" + " ".join(SENTENCES * 600) + "\n\nKết thúc."
    warnings: list[str] = []
    doc = segment_text(text, "x", warnings=warnings)
    assert warnings and all(b - a <= MAX_PIECE_CHARS for a, b in doc.paragraphs)
    assert all(any(a <= s and e <= b for a, b in doc.paragraphs) for s, e in doc.sentences)
    covered = sum(b - a for a, b in doc.paragraphs)
    assert covered >= len(text.replace(" ", "")) - 5  # pieces lose only the spaces at their cuts


# ------------------------------------------------------------------ extract in parts


def test_a_text_over_the_part_limit_gives_part_records_with_offsets_into_the_whole(rules_model, tmp_path):
    """Never skipped, never truncated: cut into parts, the entities are those of the text taken whole,
    at the same offsets into the original text."""
    from vnreorg.models.extract import extract

    text = _article(120)
    src = tmp_path / "big.txt"
    src.write_text(text, encoding="utf-8")
    extract(rules_model, [str(src)], str(tmp_path / "whole.jsonl"), progress=False)
    extract(rules_model, [str(src)], str(tmp_path / "parts.jsonl"), progress=False, part_chars=1500)
    (whole,) = _records(tmp_path / "whole.jsonl")
    parts = _records(tmp_path / "parts.jsonl")
    assert "part" not in whole and len(parts) > 5
    assert [p["part"]["index"] for p in parts] == list(range(len(parts)))
    assert parts[0]["part"]["start"] == 0 and parts[-1]["part"]["end"] == len(text)
    assert all(a["part"]["end"] == b["part"]["start"] for a, b in zip(parts, parts[1:]))
    assert "processed in parts" in " ".join(parts[0]["warnings"])
    merged = [e for p in parts for e in p["entities"]]
    assert [(e["start"], e["end"], e["label"], e["id"]) for e in merged] == [
        (e["start"], e["end"], e["label"], e["id"]) for e in whole["entities"]
    ]
    assert all(text[e["start"] : e["end"]] == e["text"] for e in merged)
    assert [r for p in parts for r in p["relations"]] == whole["relations"]
    assert [ev["sentence"]["start"] for p in parts for ev in p["events"]] == [ev["sentence"]["start"] for ev in whole["events"]]
    assert all(
        text[ev["sentence"]["start"] : ev["sentence"]["end"]] == ev["sentence"]["text"] for p in parts for ev in p["events"]
    )


def test_bad_bytes_after_the_first_part_keep_what_was_read_and_say_where(rules_model, tmp_path, monkeypatch):
    from vnreorg.corpus import readers
    from vnreorg.models.extract import extract

    monkeypatch.setattr(readers, "READ_BYTES", 4096)  # the bad byte arrives after parts were given out

    good = _article(60).encode("utf-8")
    src = tmp_path / "mixed.txt"
    src.write_bytes(good + b"\xff tail\n")
    counts = extract(rules_model, [str(src)], str(tmp_path / "out.jsonl"), progress=False, part_chars=1000)
    recs = _records(tmp_path / "out.jsonl")
    assert recs[-1]["skipped"].startswith(f"not UTF-8 text (invalid byte 0xff at byte offset {len(good)})")
    assert "characters were extracted" in recs[-1]["skipped"]
    assert all("part" in r for r in recs[:-1]) and len(recs) > 2 and counts["texts"] == 1


def test_stdin_is_streamed_and_endless_input_ends_the_run(rules_model, tmp_path):
    """`extract - < /dev/zero` once read without limit until a MemoryError; now the first part
    decides (no words: skipped) and the run ends at once, exit 0."""
    with open("/dev/zero", "rb") as zero:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "vnreorg.cli", "extract", "-", "--model", rules_model, "--no-progress"],
            stdin=zero,
            capture_output=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    (rec,) = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert rec["source"] == "<stdin>" and rec["skipped"].startswith("no words")
    assert time.perf_counter() - t0 < 100


def test_a_parts_record_is_let_go_before_the_next_part_is_processed(rules_model, tmp_path, monkeypatch):
    """Peak memory must not grow with the input (issue 12.2): a part's record (megabytes for a part of
    1,000,000 characters) was held by the writing loop while the next part went through the pipeline."""
    import weakref

    from vnreorg.models import extract as ex

    class Record(dict):  # a dict that can be watched
        pass

    made, alive_at_next = [], []

    def watched_record_of(*args, **kwargs):
        alive_at_next.append(sum(ref() is not None for ref in made))
        rec = Record(real_record_of(*args, **kwargs))
        made.append(weakref.ref(rec))
        return rec

    real_record_of = ex.record_of
    monkeypatch.setattr(ex, "record_of", watched_record_of)
    src = tmp_path / "big.txt"
    src.write_text(_article(60), encoding="utf-8")
    ex.extract(rules_model, [str(src)], str(tmp_path / "out.jsonl"), progress=False, part_chars=1000)
    assert len(made) > 3
    assert alive_at_next == [0] * len(made)


def test_stale_temp_files_of_the_output_are_removed_on_start(rules_model, tmp_path):
    """Issue 12.5: a killed run leaves `.OUT.*.tmp` beside the output; the next run removes those of
    its own output name and nothing else."""
    from vnreorg.models.extract import extract

    src = tmp_path / "in.txt"
    src.write_text(_article(4), encoding="utf-8")
    out = tmp_path / "out" / "res.jsonl"
    out.parent.mkdir()
    stale = out.parent / ".res.jsonl.k1ll3d.tmp"
    stale.write_text('{"half": ')
    keep = [".other.jsonl.k1ll3d.tmp", "res.jsonl.notes", ".res.jsonl.txt"]
    for name in keep:
        (out.parent / name).write_text("not ours")
    extract(rules_model, [str(src)], str(out), progress=False)
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([*keep, "res.jsonl"])
    assert len(_records(out)) == 1


# ------------------------------------------------------------------ memory zones


@pytest.fixture(scope="module")
def scored_model(tmp_path_factory):
    """The shipped pipeline's components (entity_ruler, lexicon_matcher, span_scorer, relation_scorer),
    trained on a little synthetic text."""
    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.models.train import train_model

    docs = synthetic_documents(n_docs=3, sentences_per_doc=12, seed=1)
    run = tmp_path_factory.mktemp("scored") / "run"
    return str(train_model("scored", docs, run, seed=0, quiet=True, dev_fraction=0).model_path)


def _new_strings_text(n_paragraphs: int, first: int) -> str:
    """Paragraphs each bringing a number, a code and a date never seen before (from `first` on)."""
    paras = []
    for i in range(first, first + n_paragraphs):
        base = SENTENCES[i % len(SENTENCES)]
        paras.append(f"{base} Theo Quyết định số {7919 * i + 3}/QĐ-X{i} ngày {1 + i % 28}/{1 + i % 12}/{1000 + i}, chi {i * 37}.")
    return "\n\n".join(paras) + "\n"


def test_memory_zones_keep_the_string_store_bounded_and_change_no_output(scored_model, tmp_path, monkeypatch):
    """Issue 12.2: every new number or code of a text stayed in the model's StringStore and vocab (and
    the lexicon's folding cache) for the life of the process. With memory zones a 4x larger text of
    new strings leaves them no larger than a 1x one (after the warm-up outside zones); the output
    equals that of a run without zones."""
    from vnreorg.models import extract as ex
    from vnreorg.models.extract import extract
    from vnreorg.models.predict import load_model

    monkeypatch.setattr(ex, "WARM_CHARS", 10_000)  # the first group (20,000 characters) warms up
    nlp = load_model(scored_model)
    lexicon = nlp.get_pipe("lexicon_matcher")

    def sizes() -> tuple[int, int, int]:  # (len(nlp.vocab) counts lexemes ever added, freed ones too)
        return len(nlp.vocab.strings), sum(1 for _ in nlp.vocab), len(lexicon._fold_cache)

    one, four = tmp_path / "one.txt", tmp_path / "four.txt"
    one.write_text(_new_strings_text(150, 0), encoding="utf-8")  # ~40 KB
    four.write_text(_new_strings_text(600, 10_000), encoding="utf-8")  # ~160 KB, other numbers
    # Small parts and zones: many zones, each ending after a part; a text in several parts.
    opts = {"progress": False, "part_chars": 30_000, "zone_chars": 20_000}
    extract(nlp, [str(one)], str(tmp_path / "one.jsonl"), **opts)
    after_one = sizes()
    extract(nlp, [str(four), str(one)], str(tmp_path / "zoned.jsonl"), **opts)
    after_four = sizes()
    assert all(b <= a + 20 for a, b in zip(after_one, after_four, strict=True)), (after_one, after_four)

    extract(nlp, [str(four), str(one)], str(tmp_path / "plain.jsonl"), progress=False, part_chars=30_000, zone_chars=0)
    assert sizes()[0] > after_four[0] + 1000  # the text does bring new strings: without zones they stay
    zoned = (tmp_path / "zoned.jsonl").read_bytes()
    assert zoned == (tmp_path / "plain.jsonl").read_bytes()
    recs = _records(tmp_path / "zoned.jsonl")
    assert (
        len(recs) == 4 and "part" in recs[0] and sum(len(r["entities"]) for r in recs) > 500 and any(r["relations"] for r in recs)
    )


def test_a_run_left_unfinished_in_a_thread_is_an_error_not_a_hang(rules_model, tmp_path):
    """Zones must not nest: runs take turns per process. An iterator left open holds the turn; a new
    run in the same thread says so instead of waiting for ever, and works once it is closed."""
    from vnreorg.corpus.readers import ReadOptions, iter_inputs
    from vnreorg.errors import VnreorgError
    from vnreorg.models.extract import iter_records
    from vnreorg.models.predict import load_model

    nlp = load_model(rules_model)
    src = tmp_path / "a.txt"
    src.write_text(_article(6), encoding="utf-8")

    def run():
        return iter_records(nlp, iter_inputs([str(src)], None, ReadOptions(), frozenset()), zone_chars=100)

    first = run()
    next(first)
    with pytest.raises(VnreorgError, match="left unfinished"):
        list(run())
    first.close()
    assert len(list(run())) == 1
