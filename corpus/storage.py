"""Where input files are: local paths, or URLs of object storage (s3://, gs://, ...) read through fsspec.

Why: on a cluster the archive lives in a bucket, not on a shared disk; the readers open every input
through `open_binary` and list folders and globs through `expand`, so the same command reads
`s3://bucket/crawl/*.warc.gz` or a local folder. fsspec comes with Dask; the driver of a scheme (s3fs
for s3://, gcsfs for gs://, adlfs for az://) is a separate package: a missing one is one clear error
naming the package, checked before any work, and no driver is imported until a URL needs it (so
importing this module makes no network call). Web URLs (http, ftp) are refused: the project does not
fetch from the network.
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any, BinaryIO

from vnreorg.errors import VnreorgError

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+)://")
# Storage schemes we read (fsspec's names); the package each needs when it is not fsspec itself.
STORES = {
    "file": None,
    "memory": None,
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
}
GLOB_CHARS = "*?["


def scheme_of(path: str) -> str | None:
    """The URL scheme of an input ("s3"), or None for a local path."""
    m = _SCHEME.match(path)
    return m.group(1).lower() if m else None


def is_url(path: str) -> bool:
    return scheme_of(path) is not None


def check_url(url: str) -> None:
    """One clear error, before any work, if the URL's scheme is not a store we read or its driver
    package is not installed (found without importing it)."""
    scheme = scheme_of(url)
    if scheme is None:
        return
    if scheme not in STORES:
        raise VnreorgError(
            f"{scheme}:// inputs are not read (object storage only: {', '.join(s + '://' for s in STORES)}); "
            "download web pages first",
            url,
        )
    package = STORES[scheme]
    if package and importlib.util.find_spec(package) is None:
        raise VnreorgError(f"reading {scheme}:// needs the {package} package: pip install {package}", url)


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of a URL and the path inside it (credentials: the driver's usual ones,
    e.g. AWS_* variables or ~/.aws for s3fs)."""
    check_url(url)
    from fsspec.core import url_to_fs

    return url_to_fs(url)


def open_binary(path: str) -> BinaryIO:
    """A local file or a URL, opened for reading bytes (seekable: the WARC and Parquet readers seek)."""
    if not is_url(path):
        return open(path, "rb")  # noqa: SIM115 (the caller closes it)
    fs, inner = filesystem(path)
    return fs.open(inner, "rb")


def expand(url: str) -> tuple[list[tuple[str, str]], bool]:
    """The files a URL names, as (URL, path relative to the folder or glob it was found by), sorted,
    and whether it named several (a folder or a glob). A file is (url, its name)."""
    fs, inner = filesystem(url)
    if any(c in inner for c in GLOB_CHARS):
        found = sorted(p for p in fs.glob(inner) if fs.isfile(p))
        return [(fs.unstrip_protocol(p), p.rsplit("/", 1)[-1]) for p in found], True
    if fs.isdir(inner):
        root = inner.rstrip("/")
        found = sorted(fs.find(root))
        return [(fs.unstrip_protocol(p), p[len(root) :].lstrip("/")) for p in found], True
    return [(url, inner.rsplit("/", 1)[-1])], False


def exists(url: str) -> bool:
    fs, inner = filesystem(url)
    if any(c in inner for c in GLOB_CHARS):
        return bool(fs.glob(inner))
    return fs.exists(inner)


def size(path: str) -> int:
    if not is_url(path):
        import os

        return os.stat(path).st_size
    fs, inner = filesystem(path)
    return fs.size(inner)


def local_output(out: str) -> str:
    """The local path of an output: a path, or a file:// URL. Other URLs are refused: the dataset's
    partitions are committed by renaming temporary files, and object stores have no rename."""
    scheme = scheme_of(out)
    if scheme is None:
        return out
    if scheme == "file":
        return filesystem(out)[1]
    raise VnreorgError(
        f"--out must be a local or shared folder, not {scheme}:// (object stores have no atomic rename, which the "
        "dataset's resume relies on); write to a local folder, then copy the finished dataset to the bucket",
        out,
    )
