"""Crash consistency (issue 12.5) and fault injection (issue 12.8).

The fault-injection tests run the real code paths of `vnreorg corpus export`, `vnreorg worksheet import
--force` and `annotate pull --write` (its write path, `_apply`, on an export built from the corpus: the
HTTP fetch before it writes nothing) in a child process and kill it with SIGKILL at seeded random
moments, in a temporary copy of the repository's data. After every kill: every output file parses, the
export folder is entirely the old or entirely the new set (by a content hash of the whole set), gold is
the old or the new file, review.json goes with it, a changed gold has a backup of the old one; after
the next (complete) run, no temporary file or staging folder is left.

The child is forked from the test process after the heavy imports (spaCy, datasets), so a run takes
seconds and the kills land in the work itself, not in interpreter start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from vnreorg.errors import VnreorgError
from vnreorg.fileset import JOURNAL, locked, recover_dir, recover_files, replace_dir, replace_files, staging_dir

REPO = Path(__file__).resolve().parents[1]
SEED = 20261130


# --------------------------------------------------------------------------- unit tests of the mechanisms


def test_replace_files_commits_a_set_and_a_kill_after_the_commit_point_rolls_forward(tmp_path, monkeypatch):
    a, b = tmp_path / "gold.jsonl", tmp_path / "review.json"
    a.write_text("old a")
    b.write_text("old b")
    import vnreorg.fileset as fs

    def crash(folder):  # die right after the journal (the commit point) is written
        raise KeyboardInterrupt

    monkeypatch.setattr(fs, "_roll_forward", crash)
    with pytest.raises(KeyboardInterrupt):
        replace_files({a: "new a", b: "new b"})
    assert (tmp_path / JOURNAL).exists() and a.read_text() == "old a"
    monkeypatch.undo()
    recover_files(tmp_path, ["gold.jsonl", "review.json"])  # what the next writer does first
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gold.jsonl", "review.json"]


def test_an_uncommitted_set_is_rolled_back_and_its_temp_files_removed(tmp_path, monkeypatch):
    a, b = tmp_path / "gold.jsonl", tmp_path / "review.json"
    a.write_text("old a")
    b.write_text("old b")
    import vnreorg.fileset as fs

    def crash(path, text):  # die before the commit point
        raise KeyboardInterrupt

    monkeypatch.setattr(fs, "_write_small_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        replace_files({a: "new a", b: "new b"})
    (tmp_path / ".gold.jsonl.abc.tmp").write_text("a stale single-file temp")
    (tmp_path / ".notes.txt.tmp").write_text("someone else's temporary file")
    monkeypatch.undo()
    recover_files(tmp_path, ["gold.jsonl", "review.json"])
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.txt.tmp", "gold.jsonl", "review.json"]


def test_stale_temps_of_a_file_are_removed_and_nothing_else(tmp_path):
    """Issue 12.5, temp files cleaned on start: a killed write's `.NAME.*.tmp` goes when NAME is
    written again; a live writer's temporary file, one a commit journal names, other files' temps
    and ordinary files stay."""
    from vnreorg.fileset import hold_temp, remove_stale_temps
    from vnreorg.jsonio import write_atomic

    for name in [".out.json.k1ll3d.tmp", ".out.json.bak.x1.tmp", ".out.json.c0mm1t.set.tmp", ".out.json.l1ve.tmp"]:
        (tmp_path / name).write_text("left by a run")
    keep = [".other.json.abc.tmp", ".out.json.txt", "out.json.notes.tmp", ".out.jsonl.abc.tmp", "notes.txt"]
    for name in keep:
        (tmp_path / name).write_text("not a temporary file of out.json")
    (tmp_path / JOURNAL).write_text(json.dumps({"renames": [[".out.json.c0mm1t.set.tmp", "out.json"]]}))
    live = os.open(tmp_path / ".out.json.l1ve.tmp", os.O_RDWR)
    try:
        hold_temp(live)
        write_atomic(tmp_path / "out.json", "new")  # cleans first
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted([*keep, JOURNAL, ".out.json.c0mm1t.set.tmp", ".out.json.l1ve.tmp", "out.json"])
    finally:
        os.close(live)  # the writer is gone: its file is stale now
    (tmp_path / JOURNAL).unlink()
    assert len(remove_stale_temps(tmp_path, ["out.json"])) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*keep, "out.json"])


def test_replace_dir_swaps_whole_folders_and_the_fallback_is_repaired(tmp_path, monkeypatch):
    target = tmp_path / "export"
    target.mkdir()
    (target / "x").write_text("old")
    stage = staging_dir(target)
    (stage / "x").write_text("new")
    replace_dir(stage, target)
    assert (target / "x").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    # without RENAME_EXCHANGE: two renames; a kill between them leaves no target, repaired on the next start
    import vnreorg.fileset as fs

    monkeypatch.setattr(fs, "_exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed between the two renames
        real_rename(src, dst)

    monkeypatch.setattr(fs.os, "rename", rename)
    stage = staging_dir(target)
    (stage / "x").write_text("newer")
    with pytest.raises(KeyboardInterrupt):
        replace_dir(stage, target)
    monkeypatch.undo()
    assert not target.exists()
    recover_dir(target)
    assert (target / "x").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_the_gold_lock_serialises_writers(tmp_path):
    """A second writer waits for the first; past its timeout it stops with a clear error."""
    order = []
    with locked(tmp_path):
        t = threading.Thread(target=lambda: locked_append(tmp_path, order))
        t.start()
        time.sleep(0.5)
        order.append("first done")
    t.join(10)
    assert order == ["first done", "second"]
    import subprocess

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from vnreorg.fileset import locked\n"
            f"with locked({str(tmp_path)!r}):\n print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(VnreorgError, match=rf"locked by another run \(pid {holder.pid}\)"):
            with locked(tmp_path, timeout=0.3):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_gold_writers_wait_for_the_lock(tmp_path, capsys):
    """`worksheet import` and `annotate pull --write` take the gold lock: with another run holding it,
    they wait (saying so) and write only after it is released."""
    import subprocess

    from test_corpus_export import gold_docs
    from vnreorg.annotation.cli import _apply
    from vnreorg.annotation.convert import tasks_for_documents
    from vnreorg.jsonio import write_documents

    gold = tmp_path / "gold" / "gold.jsonl"
    gold.parent.mkdir()
    docs = [d.with_span_texts() for d in gold_docs()]
    tasks = tasks_for_documents(docs)
    docs[0].spans = []  # doc-c without its spans: the pull brings them back
    write_documents(gold, docs)
    for n, task in enumerate(tasks, 1):
        task["id"] = n
        task["annotations"][0].update({"id": n, "completed_by": 1, "updated_at": "2026-11-30T10:00:00Z"})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from vnreorg.fileset import locked\n"
            f"with locked({str(gold.parent)!r}):\n print('held', flush=True); time.sleep(1.5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    t0 = time.perf_counter()
    _apply(
        tasks,
        gold=gold,
        documents=tmp_path / "none.jsonl",
        choose=None,
        write=True,
        all_annotations=None,
        quiet=True,
        users={},
        where="test",
    )
    waited = time.perf_counter() - t0
    holder.wait()
    assert waited > 0.8 and "waiting for the gold lock" in capsys.readouterr().err
    assert [len(d.spans) for d in read_documents_(gold)] == [3, 7, 5]


def read_documents_(path):
    from vnreorg.jsonio import read_documents

    return read_documents(path)


def locked_append(folder, order):
    with locked(folder):
        order.append("second")


# --------------------------------------------------------------------------- fault injection


def _copy_repo_data(dest: Path) -> Path:
    for rel in ("corpus/gold", "corpus/export", "annotation/worksheets"):
        shutil.copytree(REPO / rel, dest / rel, ignore=shutil.ignore_patterns(".lock", "*.bak-*"))
    shutil.copy2(REPO / "corpus/documents.jsonl", dest / "corpus/documents.jsonl")
    (dest / "seeds").mkdir()
    shutil.copy2(REPO / "seeds/SOURCES.md", dest / "seeds/SOURCES.md")
    # the next version of gold: the adjudicated worksheets with their first relation line taken out
    # (a valid gold that differs, so that import, pull and export all have an old and a new state)
    ws = dest / "annotation/worksheets/adjudicated/ws_000.txt"
    lines = ws.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(("source |", "target |", "amount |")))
    ws.with_name("ws_000.txt").write_text("".join(lines[:first] + lines[first + 1 :]), encoding="utf-8")
    return dest


IMPORT_NEXT = ("worksheet", "import", "annotation/worksheets/adjudicated", "--force")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_hash(folder: Path) -> str:
    """One hash for a whole folder: names and contents of every file."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + _sha(p).encode() + b"\n")
    return h.hexdigest()


FS_OPS = ("replace", "rename", "unlink", "fsync", "link")


def _arm(kill_before_op: int | None, count_file: Path | None) -> None:
    """In the child: count file-system steps (renames, unlinks, fsyncs and the folder exchange); with
    `kill_before_op`, SIGKILL this process just before that step: a kill at a chosen point of the
    commit protocol, where a timer would rarely land."""
    import atexit

    import vnreorg.fileset as fs

    count = [0]

    def step():
        count[0] += 1
        if kill_before_op is not None and count[0] == kill_before_op:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(fn):
        def wrapped(*args, **kwargs):
            step()
            return fn(*args, **kwargs)

        return wrapped

    for name in FS_OPS:
        setattr(os, name, wrap(getattr(os, name)))
    fs._exchange = wrap(fs._exchange)
    if count_file is not None:
        atexit.register(lambda: count_file.write_text(str(count[0])))
        _COUNT_FILE[0] = (count_file, count)


_COUNT_FILE: list = [None]


def _in_child(workdir: Path, fn, kill_before_op: int | None = None, count_file: Path | None = None) -> int:
    """Run fn() in a forked child inside workdir; return its pid (the parent keeps its own cwd)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.chdir(workdir)
            devnull = os.open(os.environ.get("VNREORG_CHILD_LOG", os.devnull), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            _arm(kill_before_op, count_file)
            fn()
            if _COUNT_FILE[0] is not None:
                path, count = _COUNT_FILE[0]
                path.write_text(str(count[0]))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()  # to the child's log (VNREORG_CHILD_LOG), for debugging a failed run
            code = 1
        finally:
            os._exit(code)
    return pid


def _run_to_end(workdir: Path, fn) -> tuple[float, int]:
    """Run fn to its end in a child; return its duration and its number of file-system steps."""
    count_file = workdir.parent / f".steps-{os.getpid()}"
    t0 = time.perf_counter()
    pid = _in_child(workdir, fn, count_file=count_file)
    status = _wait(pid, 180)
    assert os.waitstatus_to_exitcode(status) == 0, "the uninterrupted run failed"
    steps = int(count_file.read_text())
    count_file.unlink()
    return time.perf_counter() - t0, steps


def _wait(pid: int, timeout: float) -> int:
    """waitpid with a deadline: a child that hangs is killed and the test fails instead of hanging."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"the child run did not end within {timeout:.0f} s")


def _kill_at(workdir: Path, fn, point: tuple[str, float]) -> bool:
    """Start fn in a child and SIGKILL it at `point`: ("time", seconds after the start) or ("step", n:
    just before its n-th file-system step). True when the kill landed before the run ended."""
    kind, value = point
    if kind == "step":
        pid = _in_child(workdir, fn, kill_before_op=int(value))
        status = _wait(pid, 180)
        return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    pid = _in_child(workdir, fn)
    deadline = time.perf_counter() + value
    while time.perf_counter() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return True


def _cli(*argv: str):
    def run():
        from vnreorg.cli import main

        sys.argv = ["vnreorg", *argv]
        main()

    return run


def _leftovers(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.endswith(".tmp") or ".new-" in p.name or ".old-" in p.name or p.name == JOURNAL
    )


def _check_parses(root: Path) -> None:
    """Every output file of the work copy reads as what it claims to be."""
    from vnreorg.docbin import read_docbin
    from vnreorg.corpus.tokenize import blank_vi
    from vnreorg.jsonio import read_documents

    nlp = _NLP.setdefault("vi", blank_vi())

    for p in root.rglob("*"):
        if not p.is_file() or p.name.endswith(".tmp"):
            continue
        if p.suffix == ".jsonl" or ".jsonl.bak-" in p.name:
            read_documents(p)
        elif p.suffix == ".json" or ".json.bak-" in p.name:
            json.loads(p.read_text(encoding="utf-8"))
        elif p.suffix == ".spacy":
            read_docbin(p, nlp)
        elif p.suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.read_table(p)
        elif p.suffix in (".conll", ".md"):
            p.read_text(encoding="utf-8")


_NLP: dict = {}


@pytest.fixture(scope="module")
def heavy_imports():
    """Import what the children use before forking (so each run is the work, not the imports)."""
    import pyarrow.parquet  # noqa: F401

    import vnreorg.annotation.cli  # noqa: F401
    import vnreorg.cli  # noqa: F401
    import vnreorg.corpus.export  # noqa: F401
    from vnreorg.corpus.tokenize import blank_vi

    blank_vi()
    import datasets  # noqa: F401


def _kill_points(rng: random.Random, ref: tuple[float, int], n: int) -> list[tuple[str, float]]:
    """n seeded kill points: half at moments spread over a whole run (timer), half just before one of
    its file-system steps (renames, unlinks, fsyncs: the commit protocol itself)."""
    t_full, steps = ref
    timed = [("time", rng.uniform(0.0, 1.1 * t_full)) for _ in range(n - n // 2)]
    at_steps = [("step", rng.randint(1, steps)) for _ in range(n // 2)]
    return timed + at_steps


def test_kill_9_during_corpus_export_leaves_the_old_or_the_new_set(tmp_path, heavy_imports):
    rng = random.Random(SEED)
    work = _copy_repo_data(tmp_path / "work")
    export = work / "corpus" / "export"
    old = _set_hash(export)
    # new gold (the adjudicated worksheets less one relation, see _copy_repo_data), so that the export changes
    _run_to_end(work, _cli(*IMPORT_NEXT))
    ref = _copy_repo_data(tmp_path / "ref")
    shutil.copy2(work / "corpus/gold/gold.jsonl", ref / "corpus/gold/gold.jsonl")
    shutil.copy2(work / "corpus/gold/review.json", ref / "corpus/gold/review.json")
    ref_run = _run_to_end(ref, _cli("corpus", "export"))
    new = _set_hash(ref / "corpus" / "export")
    assert new != old
    landed = 0
    for point in _kill_points(rng, ref_run, 6):
        landed += _kill_at(work, _cli("corpus", "export"), point)
        state = _set_hash(export)
        assert state in (old, new), f"export is a mix of old and new files after a kill at {point}"
        _check_parses(work / "corpus")
    assert landed >= 3, "too few kills landed inside a run"
    _run_to_end(work, _cli("corpus", "export"))  # the next run
    assert _set_hash(export) == new
    assert _leftovers(work) == []


def _gold_state(gold_dir: Path, states: dict[str, tuple[str, str]]) -> str:
    """Which known (gold, review) pair the folder holds; fails on a mixed pair."""
    pair = (_sha(gold_dir / "gold.jsonl"), _sha(gold_dir / "review.json"))
    for name, known in states.items():
        if pair == known:
            return name
    gold_only = [n for n, k in states.items() if k[0] == pair[0]]
    raise AssertionError(f"gold/review.json are not a known pair (gold is {gold_only or 'unknown'})")


def _check_backups(gold_dir: Path, old_gold: str, state: str) -> None:
    backups = sorted(gold_dir.glob("gold.jsonl.bak-*"))
    assert all(_sha(b) == old_gold for b in backups), "a backup that is not the old gold"
    if state != "old":
        assert backups, "gold changed without a backup"


def test_kill_9_during_worksheet_import_and_pull_leaves_old_or_new_gold(tmp_path, heavy_imports):
    from vnreorg.annotation.convert import tasks_for_documents
    from vnreorg.jsonio import read_documents

    rng = random.Random(SEED + 1)
    pristine = _copy_repo_data(tmp_path / "pristine")
    gold_dir = pristine / "corpus" / "gold"
    old = (_sha(gold_dir / "gold.jsonl"), _sha(gold_dir / "review.json"))
    # the reference runs: what a complete import and a complete pull write
    ref = _copy_repo_data(tmp_path / "ref-import")
    ref_import = _run_to_end(ref, _cli(*IMPORT_NEXT))
    new_import = (_sha(ref / "corpus/gold/gold.jsonl"), _sha(ref / "corpus/gold/review.json"))
    tasks = tasks_for_documents(read_documents(ref / "corpus/gold/gold.jsonl"))
    for n, task in enumerate(tasks, 1):  # as a server export names them
        task["id"] = n
        task["annotations"][0].update({"id": 100 + n, "completed_by": 1, "updated_at": "2026-11-30T10:00:00Z"})

    def pull():
        from vnreorg.annotation.cli import _apply

        _apply(
            tasks,
            gold=Path("corpus/gold/gold.jsonl"),
            documents=Path("corpus/documents.jsonl"),
            choose=None,
            write=True,
            all_annotations=None,
            quiet=True,
            users={1: "a@example.com"},
            where="fault test",
        )

    ref_pull = _copy_repo_data(tmp_path / "ref-pull")
    ref_pull_run = _run_to_end(ref_pull, pull)
    new_pull = (_sha(ref_pull / "corpus/gold/gold.jsonl"), old[1])  # pull writes gold only
    assert len({old, new_import, new_pull}) == 3

    for name, fn, ref_run, new, n_kills in (
        ("import", _cli(*IMPORT_NEXT), ref_import, new_import, 10),
        ("pull", pull, ref_pull_run, new_pull, 10),
    ):
        states = {"old": old, "new": new}
        work = tmp_path / f"work-{name}"
        landed = 0
        for point in _kill_points(rng, ref_run, n_kills):
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(pristine, work)
            landed += _kill_at(work, fn, point)
            wgold = work / "corpus" / "gold"
            gold_sha = _sha(wgold / "gold.jsonl")
            assert gold_sha in (old[0], new[0]), f"{name}: gold is neither old nor new after a kill at {point}"
            _check_parses(wgold)
            recover_files(wgold, ["gold.jsonl", "review.json"])  # what the next writer does first
            state = _gold_state(wgold, states)
            _check_backups(wgold, old[0], state)
            assert _leftovers(wgold) == []
        assert landed >= 5, f"{name}: too few kills landed inside a run"
        _run_to_end(work, fn)  # the next run completes the job and leaves nothing behind
        assert _gold_state(work / "corpus" / "gold", states) == "new"
        assert _leftovers(work / "corpus" / "gold") == []
