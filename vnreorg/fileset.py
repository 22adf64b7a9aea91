"""Outputs of several files committed as a set, and the lock on gold (issue 12.5).

A kill -9 may come at any instruction. Single files are already written to a temporary file and renamed
(`vnreorg.jsonio.write_atomic`); this module keeps *sets* of files consistent:

- `replace_dir`: a generated folder (the corpus export) is written whole into a new sibling folder and
  exchanged with the old one by one atomic `renameat2(RENAME_EXCHANGE)`, so a reader sees the old set or
  the new set, never a mix. Where the exchange is not available, two renames are used and a kill between
  them is repaired by `recover_dir` on the next start.
- `replace_files`: a few files in one folder (gold.jsonl + review.json) are written as temporary files,
  then a journal naming the renames is written atomically (the commit point), then the renames are done
  and the journal removed. `recover_files` on the next start rolls a committed set forward and removes
  the temporary files of a set that was never committed.
- `locked`: an exclusive `fcntl.flock` on `<folder>/.lock` around every writer of gold
  (`worksheet import`, `annotate pull --write`); a second writer waits, then gives up with a clear error.
- `remove_stale_temps`: before a file is written, the temporary files a killed writer left for that
  file name are removed (`write_atomic`, `extract --out`, the Label Studio credentials); a writer marks
  its own with `hold_temp` (an flock) so a run started meanwhile never takes it for stale.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from vnreorg.errors import VnreorgError

JOURNAL = ".commit.json"
LOCK = ".lock"
SET_TMP = ".set.tmp"  # suffix of the temporary files of a set
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


# --------------------------------------------------------------------------- lock


@contextlib.contextmanager
def locked(folder: str | os.PathLike, timeout: float = 60.0, what: str = "gold", create: bool = True) -> Iterator[None]:
    """Hold the exclusive lock of `folder` (created if needed, unless `create` is false: a reader of a
    folder that does not exist has nothing to lock); wait up to `timeout` seconds for it."""
    folder = Path(folder)
    if not create and not folder.is_dir():
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                if time.monotonic() >= deadline:
                    raise VnreorgError(
                        f"{what} is locked by another run (pid {holder}) for more than {timeout:.0f} s; "
                        "try again when it has finished",
                        str(path),
                    ) from None
                if not announced:
                    import sys

                    print(f"waiting for the {what} lock held by pid {holder} ({path}) ...", file=sys.stderr)
                    announced = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


# --------------------------------------------------------------------------- a set of files in one folder


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_files(files: dict[Path, str | bytes]) -> None:
    """Replace every file of `files` (all in one folder) with its new content, all or none across a kill.

    Call under `locked(folder)`; `recover_files` is run first for these files."""
    folders = {Path(p).parent for p in files}
    if len(folders) != 1:
        raise ValueError("replace_files: all files must be in one folder")
    folder = folders.pop()
    folder.mkdir(parents=True, exist_ok=True)
    recover_files(folder, [Path(p).name for p in files])
    renames = []
    try:
        for path, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{Path(path).name}.", suffix=SET_TMP)
            renames.append((tmp, str(path)))
            os.fchmod(fd, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        journal = json.dumps({"pid": os.getpid(), "renames": [[os.path.basename(t), os.path.basename(p)] for t, p in renames]})
        _write_small_atomic(folder / JOURNAL, journal)  # the commit point
    except BaseException:
        for tmp, _ in renames:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    _roll_forward(folder)


def _write_small_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=SET_TMP)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _roll_forward(folder: Path) -> None:
    journal = folder / JOURNAL
    entries = json.loads(journal.read_text(encoding="utf-8"))["renames"]
    for tmp, name in entries:
        if (folder / tmp).exists():
            os.replace(folder / tmp, folder / name)
    _fsync_dir(folder)
    journal.unlink()
    _fsync_dir(folder)


def recover_files(folder: str | os.PathLike, names: Iterable[str] = ()) -> list[str]:
    """After a kill: finish a committed set (journal present), then delete leftover temporary files of
    the files `names` (of uncommitted sets, of atomic writes and of backups) and of the journal; other
    files in the folder are never touched. Returns what was done, for a message."""
    folder = Path(folder)
    prefixes = tuple(f".{n}." for n in names) + (f"{JOURNAL}.",)
    done = []
    if not folder.is_dir():
        return done
    if (folder / JOURNAL).exists():
        try:
            _roll_forward(folder)
            done.append(f"completed an interrupted commit in {folder}")
        except (ValueError, KeyError, TypeError):  # cannot happen (written atomically): keep it for a human
            raise VnreorgError("unreadable commit journal; inspect it and remove it by hand", str(folder / JOURNAL))
    return done + _remove_temps(folder, prefixes)


def hold_temp(fd: int) -> None:
    """Mark a temporary file as in use by this process (a lock released when `fd` is closed):
    `remove_stale_temps` of another run leaves it alone."""
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it


def remove_stale_temps(folder: str | os.PathLike, names: Iterable[str]) -> list[str]:
    """Before writing the files `names` of `folder`: delete the temporary files a killed writer left
    for them (`.NAME.*.tmp`: atomic writes, backups, sets not committed). Other files, temporaries a
    live writer holds (`hold_temp`) and those a commit journal names (`recover_files` rolls them
    forward) are kept. Returns what was done, for a message."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return _remove_temps(folder, tuple(f".{n}." for n in names))


def _remove_temps(folder: Path, prefixes: tuple[str, ...]) -> list[str]:
    done: list[str] = []
    journaled: set[str] = set()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        journaled = {tmp for tmp, _ in json.loads((folder / JOURNAL).read_text(encoding="utf-8"))["renames"]}
    for p in folder.iterdir():
        if not (p.name.startswith(prefixes) and p.name.endswith(".tmp")) or p.name in journaled:
            continue
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:  # gone meanwhile, or a link: not ours to follow
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a live writer's
                continue
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                done.append(f"removed stale temporary file {p}")
        finally:
            os.close(fd)
    return done


# --------------------------------------------------------------------------- a whole folder


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def staging_dir(target: str | os.PathLike) -> Path:
    """A new, empty sibling folder to write the next version of `target` into."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.new-"))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(stage, 0o777 & ~mask)  # mkdtemp makes 0700; the export is an ordinary folder
    return stage


def replace_dir(stage: Path, target: Path) -> None:
    """Make the fully written `stage` folder the `target` folder in one step; the old one is removed."""
    target = Path(target)
    if target.exists():
        _fsync_dir(stage)
        if _exchange(stage, target):
            _fsync_dir(target.parent)
            shutil.rmtree(stage)  # now the old version
            return
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)  # a kill here leaves `old` and `stage`: recover_dir puts `old` back
        os.rename(stage, target)
        _fsync_dir(target.parent)
        shutil.rmtree(old)
    else:
        os.rename(stage, target)
        _fsync_dir(target.parent)


def recover_dir(target: str | os.PathLike) -> list[str]:
    """After a kill: put back an old version left aside by the two-rename fallback, and remove stale
    staging folders of `target`."""
    target = Path(target)
    done = []
    if not target.parent.is_dir():
        return done
    olds = sorted(target.parent.glob(f".{target.name}.old-*"))
    if olds and not target.exists():
        os.rename(olds[0], target)
        done.append(f"restored {target} from {olds[0]}")
        olds = olds[1:]
    for p in [*olds, *target.parent.glob(f".{target.name}.new-*")]:
        shutil.rmtree(p, ignore_errors=True)
        done.append(f"removed stale folder {p}")
    return done
