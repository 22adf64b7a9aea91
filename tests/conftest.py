"""Shared test builders (a Document from surface strings, or from offsets) and the real Label Studio server.

Import the builders in a test module with `from conftest import doc_from_surfaces, doc_from_offsets`
(pytest puts tests/ on the path). `ls_server` and `session` (one server per test session) are fixtures for
test_annotation_server.py and test_browser.py."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from vnreorg.annotation.client import LabelStudioSession
from vnreorg.annotation.server import LabelStudioServer, find_label_studio, free_port
from vnreorg.errors import VnreorgError
from vnreorg.schema import Document, Relation, Span


def doc_from_surfaces(
    doc_id: str,
    text: str,
    spans: Sequence[tuple[str, str]] = (),
    relations: Iterable[tuple[int, int, str]] = (),
    *,
    sentences: list[tuple[int, int]] | str | None = "segment",
    paragraphs: list[tuple[int, int]] | None = None,
    meta: dict[str, Any] | None = None,
    provenance: list[dict[str, Any]] | None = None,
    first_id: int = 1,
    prefix: str = "T",
) -> Document:
    """Spans as (label, surface): the first occurrence of the surface at or after the end of the
    previous span, or `surface#k`: its k-th occurrence in the text. Relations as (head index, child
    index, label) into `spans`. Span ids are prefix + (first_id + index): T1, T2, ... by default.
    `sentences="segment"` takes the corpus segmenter's sentences; None leaves them empty."""
    if sentences == "segment":
        from vnreorg.corpus.segment import sentences as segment

        sentences = segment(text)
    doc = Document(
        id=doc_id,
        text=text,
        meta=dict(meta or {}),
        sentences=list(sentences or []),
        paragraphs=list(paragraphs or []),
        provenance=list(provenance or []),
    )
    pos = 0
    for i, (label, surface) in enumerate(spans):
        surface, _, nth = surface.partition("#")
        if nth:
            start = -1
            for _ in range(int(nth)):
                start = text.index(surface, start + 1)
        else:
            start = text.index(surface, pos)
        doc.spans.append(Span(f"{prefix}{first_id + i}", start, start + len(surface), label, text=surface))
        pos = start + len(surface)
    doc.relations = [Relation(f"{prefix}{first_id + h}", f"{prefix}{first_id + c}", lab) for h, c, lab in relations]
    return doc


# The sentence both the corpus validator's and the export's tests annotate: a combined title, a cut in
# numbers (Sóc Trăng, Resolution 18).
TEXT_NHAT_THE_HOA = (
    "Thành ủy Sóc Trăng thực hiện “nhất thể hóa” Bí thư Đảng ủy đồng thời là Chủ tịch UBND Phường 6. "
    "Thị xã giảm 03 tổ dân phố và 10% biên chế."
)


def doc_nhat_the_hoa(doc_id: str, **kwargs: Any) -> Document:
    """TEXT_NHAT_THE_HOA with its seven spans and four relations (keyword arguments as doc_from_surfaces)."""
    return doc_from_surfaces(
        doc_id,
        TEXT_NHAT_THE_HOA,
        [
            ("AGENCY", "Thành ủy Sóc Trăng"),
            ("MERGE_ACTION", "nhất thể hóa"),
            ("TITLE", "Bí thư Đảng ủy"),
            ("TITLE", "Chủ tịch UBND Phường 6"),
            ("MERGE_ACTION", "giảm"),
            ("NUMBER", "03"),
            ("NUMBER", "10%"),
        ],
        [(1, 2, "source"), (1, 3, "source"), (4, 5, "amount"), (4, 6, "amount")],
        **kwargs,
    )


def doc_from_offsets(
    doc_id: str,
    text: str,
    spans: Iterable[tuple[int, int, str]] = (),
    relations: Iterable[tuple[str, str, str]] = (),
    *,
    sentences: list[tuple[int, int]] | None = None,
    prefix: str = "s",
) -> Document:
    """Spans as (start, end, label) with ids prefix0, prefix1, ...; relations as (head id, child id, label)."""
    return Document(
        id=doc_id,
        text=text,
        sentences=list(sentences or []),
        spans=[Span(f"{prefix}{i}", s, e, lab) for i, (s, e, lab) in enumerate(spans)],
        relations=[Relation(h, c, lab) for h, c, lab in relations],
    )


# --------------------------------------------------------------------------- the real Label Studio server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (the browser tests take a screenshot when the call failed)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="session")
def ls_server(tmp_path_factory):
    """A real server on 127.0.0.1 (SQLite in a temporary folder), started once and stopped at the end.

    In CI (CI=true) a server that cannot be found fails the suite; elsewhere a missing install skips, and
    a server that is installed but does not start fails. For quick local runs, VNREORG_TEST_LS_DATA may name
    the data folder of a server already started with `vnreorg annotate serve` (never set in CI)."""
    running = os.environ.get("VNREORG_TEST_LS_DATA")
    if running and not IN_CI:
        from urllib.parse import urlparse

        from vnreorg.annotation.server import Credentials

        saved = Credentials.load(running)
        assert saved is not None, f"no credentials in {running}"
        yield LabelStudioServer(running, urlparse(saved.url).port, executable=find_label_studio())
        return
    try:
        executable = find_label_studio()
    except VnreorgError as exc:
        if IN_CI:
            pytest.fail(f"Label Studio is required in CI: {exc}")
        pytest.skip(f"Label Studio not installed: {exc}")
    server = LabelStudioServer(tmp_path_factory.mktemp("ls-data"), free_port(), executable=executable)
    try:
        server.start(timeout=300)
    except VnreorgError as exc:
        pytest.fail(f"the Label Studio server did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def session(ls_server) -> LabelStudioSession:
    return LabelStudioSession(ls_server.url, ls_server.credentials.token)
