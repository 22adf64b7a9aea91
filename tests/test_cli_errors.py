"""Every command, given bad paths or bad records, ends with one `error:` line and a non-zero exit (issue 12.4).

The table runs each command through the real entrance (`vnreorg.cli.main`, in-process: the same code as
the console script) with: a folder where a file is expected, a missing path, a FIFO (which must not
block), an output that cannot be written (its parent is a file: root ignores permission bits), an
output folder that is a file, and malformed records (a list or an integer as document id, JSON nested
100,000 deep, invalid JSON, bytes that are not UTF-8). It asserts exit code != 0, exactly one line on
stderr starting with `error:`, no traceback, and no temp file left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_corpus_export import gold_docs  # noqa: E402
from vnreorg.jsonio import write_documents, write_jsonl

VIETNAMESE = (
    "Sáng 14/5, Thành ủy Sóc Trăng tổ chức hội nghị sáp nhập Phòng Y tế vào Phòng Nội vụ thành phố. "
    "Theo đề án, thành phố giảm 03 tổ dân phố và giải thể Trung tâm Dân số.\n"
)

MALFORMED_JSONL = {
    "id-list": lambda good: json.dumps({**good, "id": ["a", "b"]}, ensure_ascii=False),
    "id-int": lambda good: json.dumps({**good, "id": 7}, ensure_ascii=False),
    "id-hostile": lambda good: json.dumps({**good, "id": "a/../../x"}, ensure_ascii=False),
    "spans-not-list": lambda good: json.dumps({**good, "spans": 5}, ensure_ascii=False),
    "deep": lambda good: "[" * 100_000 + "]" * 100_000,
    "bad-json": lambda good: '{"id": "x", "text": ',
    "not-utf8": lambda good: b"\xff\xfe{}".decode("latin-1"),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Valid inputs every command can start from, and a model for extract/predict."""
    root = tmp_path_factory.mktemp("cli")
    docs = [d.with_span_texts() for d in gold_docs()]
    write_documents(root / "gold.jsonl", docs)
    from vnreorg.annotation.worksheet import template

    (root / "ws").mkdir()
    for d in docs:
        (root / "ws" / f"ws_{d.meta['source_file'][:3]}.txt").write_text(template(d), encoding="utf-8")
    (root / "seeds").mkdir()
    (root / "seeds" / "000_a.txt").write_text("Tin thử\n\n" + VIETNAMESE, encoding="utf-8")
    (root / "article.txt").write_text(VIETNAMESE, encoding="utf-8")
    text = docs[1].text
    (root / "export.json").write_text(
        json.dumps([{"id": 1, "data": {"text": text, "doc_id": docs[1].id}, "annotations": []}], ensure_ascii=False),
        encoding="utf-8",
    )
    assert (
        run(
            [
                "evaluate",
                "--gold",
                str(root / "gold.jsonl"),
                "--pred",
                str(root / "gold.jsonl"),
                "--out",
                str(root / "report"),
                "--n-boot",
                "0",
            ]
        )[0]
        == 0
    )
    from vnreorg.models.train import train_model

    train_model("rules", docs, root / "model", seed=0)
    return root


def run(argv: list[str], capsys=None) -> tuple[int, str, str]:
    """`vnreorg <argv>` through the real entrance; returns (exit code, stdout, stderr)."""
    from vnreorg.cli import main

    old = sys.argv
    sys.argv = ["vnreorg", *argv]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    if capsys is None:
        return code, "", ""
    out, err = capsys.readouterr()
    return code, out, err


# kind of input -> how to make a bad one of each sort; {IN} is the bad input, {OUT} an output path.
# (command, argv template, input kind, kinds of trouble that apply)
B = "{BASE}"
COMMANDS = [
    ("corpus validate", ["corpus", "validate", "{IN}"], "jsonl", "dir missing fifo malformed"),
    ("corpus stats", ["corpus", "stats", "{IN}"], "jsonl", "dir missing fifo malformed"),
    (
        "corpus export",
        ["corpus", "export", "--gold", "{IN}", "--out", "{OUT}", "--folds", "{OUT2}"],
        "jsonl",
        "dir missing fifo malformed unwritable outfile",
    ),
    ("corpus folds", ["corpus", "folds", "{IN}", "--out", "{OUT}"], "jsonl", "dir missing fifo malformed unwritable"),
    ("corpus build", ["corpus", "build", "{IN}", "--out", "{OUT}", "--report", "{OUT2}"], "folder", "missing fifo unwritable"),
    (
        "evaluate --gold",
        ["evaluate", "--gold", "{IN}", "--pred", B + "/gold.jsonl", "--out", "{OUT}", "--n-boot", "0"],
        "jsonl",
        "dir missing fifo malformed unwritable outfile",
    ),
    (
        "evaluate --pred",
        ["evaluate", "--gold", B + "/gold.jsonl", "--pred", "{IN}", "--out", "{OUT}", "--n-boot", "0"],
        "jsonl",
        "dir missing fifo malformed",
    ),
    ("eval render", ["eval", "render", "{IN}", "--out", "{OUT}"], "report", "dir missing fifo malformed unwritable outfile"),
    (
        "extract",
        ["extract", "{IN}", "--model", B + "/model/model", "--out", "{OUT}", "--no-progress"],
        "text",
        "missing fifo unwritable outdir",
    ),
    (
        "model predict",
        ["model", "predict", "{IN}", "--model", B + "/model/model", "--out", "{OUT}"],
        "jsonl",
        "dir missing fifo malformed unwritable outdir",
    ),
    (
        "worksheet import (worksheets)",
        ["worksheet", "import", "{IN}", "--documents", B + "/gold.jsonl", "--gold", "{OUT}", "--provenance", "{OUT2}"],
        "worksheet",
        "missing fifo malformed",
    ),
    (
        "worksheet import (documents)",
        ["worksheet", "import", B + "/ws", "--documents", "{IN}", "--gold", "{OUT}", "--provenance", "{OUT2}"],
        "jsonl",
        "dir missing fifo malformed unwritable",
    ),
    (
        "worksheet template",
        ["worksheet", "template", "{OUT}", "--documents", "{IN}"],
        "jsonl",
        "dir missing fifo malformed unwritable outfile",
    ),
    (
        "worksheet agreement",
        ["worksheet", "agreement", B + "/ws", B + "/ws", "--documents", "{IN}", "--out", "{OUT}", "--report", "{OUT2}"],
        "jsonl",
        "dir missing fifo malformed unwritable",
    ),
    ("annotate convert (export)", ["annotate", "convert", "{IN}", "{OUT}"], "export", "missing fifo malformed unwritable"),
    ("annotate convert (corpus)", ["annotate", "convert", "{IN}", "{OUT}"], "jsonl-to-json", "missing fifo malformed unwritable"),
    (
        "annotate push",
        ["annotate", "push", "{IN}", "--url", "http://127.0.0.1:9", "--api-key", "x"],
        "jsonl",
        "dir missing fifo malformed",
    ),
    ("cv", ["cv", "--gold", "{IN}", "--out", "{OUT}", "--systems", "rules"], "jsonl", "dir missing fifo malformed"),
    ("train", ["train", "--config", "rules", "--gold", "{IN}", "--out", "{OUT}"], "jsonl", "dir missing fifo malformed"),
]
SUFFIX = {
    "jsonl": ".jsonl",
    "report": ".json",
    "export": ".json",
    "jsonl-to-json": ".jsonl",
    "text": ".txt",
    "worksheet": ".txt",
    "folder": "",
}
CASES = [
    (name, argv, kind, trouble, variant)
    for name, argv, kind, troubles in COMMANDS
    for trouble in troubles.split()
    for variant in (MALFORMED_JSONL if trouble == "malformed" and kind in ("jsonl", "jsonl-to-json") else [""])
]


def _valid_input(base: Path, kind: str) -> Path:
    return {
        "jsonl": base / "gold.jsonl",
        "jsonl-to-json": base / "gold.jsonl",
        "report": base / "report" / "report.json",
        "export": base / "export.json",
        "text": base / "article.txt",
        "worksheet": base / "ws" / "ws_000.txt",
        "folder": base / "seeds",
    }[kind]


def _malformed(path: Path, base: Path, kind: str, variant: str) -> None:
    if kind in ("jsonl", "jsonl-to-json"):
        good = json.loads((base / "gold.jsonl").read_text(encoding="utf-8").splitlines()[0])
        lines = (base / "gold.jsonl").read_text(encoding="utf-8").splitlines()
        bad = MALFORMED_JSONL[variant](good)
        path.write_bytes(
            ("\n".join([lines[1], bad, lines[2]]) + "\n").encode("utf-8") if variant != "not-utf8" else b"\xff\xfe{}\n"
        )
    elif kind in ("report", "export"):
        path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    elif kind == "worksheet":
        path.write_text("stray text before the header\n# doc: doc-a\n", encoding="utf-8")
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize(
    "name,argv,kind,trouble,variant", CASES, ids=[f"{c[0]}-{c[3]}{'-' + c[4] if c[4] else ''}" for c in CASES]
)
def test_every_command_fails_with_one_line(base, tmp_path, capsys, monkeypatch, name, argv, kind, trouble, variant):
    monkeypatch.chdir(tmp_path)
    suffix = SUFFIX[kind] if kind != "jsonl-to-json" else ".jsonl"
    inp = _valid_input(base, kind)
    out, out2 = tmp_path / "out" / ("o.json" if kind == "jsonl-to-json" else "o.jsonl"), tmp_path / "out" / "o2.json"
    if trouble == "dir":
        inp = tmp_path / f"adir{suffix}"
        inp.mkdir()
    elif trouble == "missing":
        inp = tmp_path / f"missing{suffix}"
    elif trouble == "fifo":
        inp = tmp_path / f"fifo{suffix}"
        os.mkfifo(inp)
    elif trouble == "malformed":
        inp = tmp_path / f"bad{suffix}"
        _malformed(inp, base, kind, variant)
    elif trouble == "unwritable":  # the output's parent is a regular file
        (tmp_path / "afile").write_text("x")
        out, out2 = tmp_path / "afile" / out.name, tmp_path / "afile" / out2.name
    elif trouble == "outfile":  # an output folder that is a file
        out = tmp_path / "afile"
        out.write_text("x")
    elif trouble == "outdir":  # an output file that is a folder
        out = tmp_path / "afolder"
        out.mkdir()
    args = [
        a.replace("{IN}", str(inp)).replace("{OUT2}", str(out2)).replace("{OUT}", str(out)).replace(B, str(base)) for a in argv
    ]
    code, stdout, stderr = run(args, capsys)
    assert code != 0, (args, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    if name == "corpus validate" and lines and lines[0].endswith("problem(s)"):  # records it can read are listed
        assert len(lines) == 1 and f"{inp}:2" in stdout, (stdout, stderr)  # on stdout, located
    else:
        assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert len(lines[0]) < 2000
    leftovers = [str(p) for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == [], leftovers


def test_the_console_script_gives_one_line_for_a_fifo_and_a_missing_path(tmp_path, base):
    """The installed entrance, as a user runs it: no blocking on a FIFO, exit 2, one line."""
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    exe = Path(sys.executable).with_name("vnreorg")
    for target in (fifo, tmp_path / "missing.txt"):
        proc = subprocess.run(
            [str(exe), "extract", str(target), "--model", str(base / "model" / "model")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("error: "), proc.stderr
        assert str(target) in proc.stderr
    assert (
        "FIFO" in subprocess.run([str(exe), "corpus", "validate", str(fifo)], capture_output=True, text=True, timeout=60).stderr
    )


def test_corpus_build_refuses_a_fifo_among_the_articles(tmp_path, capsys):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "000_a.txt").write_text("Tin thử\n\n" + VIETNAMESE, encoding="utf-8")
    os.mkfifo(seeds / "001_b.txt")
    code, _, err = run(
        ["corpus", "build", str(seeds), "--out", str(tmp_path / "d.jsonl"), "--report", str(tmp_path / "r.jsonl")], capsys
    )
    assert code == 2 and err.strip() == f"error: {seeds / '001_b.txt'}: is a FIFO, expected a regular file"
    assert not (tmp_path / "d.jsonl").exists()


def test_extract_out_to_a_folder_leaves_no_temp_file(tmp_path, base):
    (tmp_path / "outdir").mkdir()
    code, _, _ = run(
        [
            "extract",
            str(base / "article.txt"),
            "--model",
            str(base / "model" / "model"),
            "--out",
            str(tmp_path / "outdir"),
            "--no-progress",
        ]
    )
    assert code == 2
    assert list(tmp_path.rglob("*.tmp")) == [] and list((tmp_path / "outdir").iterdir()) == []
