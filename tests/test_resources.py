"""Knowledge resources (models/resources/): they load, they hold what the model stage needs, the
generated files are reproducible from the pinned package, and bad files fail with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vnreorg.errors import VnreorgError
from vnreorg.models import resources as R

UNIT_HEADER = "# source: test\n# version: 0\n" + "\t".join(R.ADMIN_UNIT_COLUMNS) + "\n"


@pytest.fixture()
def res_dir(tmp_path):
    """A copy of the written resources with a two-unit admin file and an empty mapping."""
    d = tmp_path / "res"
    d.mkdir()
    for name in (R.UNIT_ABBREVIATIONS_FILE, R.AGENCIES_FILE, R.TITLES_FILE):
        shutil.copy(R.RESOURCES_DIR / name, d / name)
    (d / R.ADMIN_UNITS_FILE).write_text(
        UNIT_HEADER
        + "\n".join(
            [
                "\t".join(["40", "tỉnh", "Nghệ An", "Tỉnh Nghệ An", "40", "Nghệ An", "", "province", "pre2025"]),
                "\t".join(["412", "thành phố", "Vinh", "Thành phố Vinh", "40", "Nghệ An", "", "district", "pre2025"]),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    (d / R.ADMIN_MAPPING_FILE).write_text(
        "# source: test\n# version: 0\n" + "\t".join(R.ADMIN_MAPPING_COLUMNS) + "\n", encoding="utf-8"
    )
    return d


def _append(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


def test_committed_resources_load_with_their_sources():
    res = R.load_resources()
    sizes = res.sizes()
    assert sizes["admin_units"] > 14000 and sizes["admin_mapping"] > 10000
    assert sizes["agencies"] >= 200 and sizes["titles"] >= 60
    for name, header in res.headers.items():
        assert header.get("source") and header.get("version"), name
    assert res.headers[R.ADMIN_UNITS_FILE]["version"] == "1.0.4"
    eras = {(u.era, u.level) for u in res.admin_units}
    assert eras == {
        ("pre2025", "province"),
        ("pre2025", "district"),
        ("pre2025", "commune"),
        ("post2025", "province"),
        ("post2025", "commune"),
    }
    assert sum(u.level == "province" and u.era == "post2025" for u in res.admin_units) == 34
    assert R.load_resources() is res  # cached


def test_forms_are_type_prefixed_and_abbreviated_never_bare():
    res = R.load_resources()
    forms = res.agency_forms()
    assert any(u.name == "Hợp Nhất" for u in res.admin_units)  # a real commune's name ...
    assert "hợp nhất" not in forms  # ... never a form on its own
    assert "xã hợp nhất" in forms
    for form in (
        "tp. vinh",
        "tp.vinh",
        "tx. hương thủy",
        "h. cần giờ",
        "h.cần giờ",
        "q. ba đình",
        "q. 1",
        "sở gd-đt",
        "ubnd",
        "tand",
        "vksnd",
        "mttq",
        "hđnd",
        "bộ nông nghiệp và môi trường",
        "ban tuyên giáo và dân vận trung ương",
        "sở văn hóa, thể thao và du lịch",
        "thành phố hồ chí minh",
    ):
        assert form in forms, form
    assert R.fold("Thị uỷ") == R.fold("thị ủy")
    assert "thành ủy viên" in res.title_forms()
    assert {t.form for t in res.titles_of("modifier")} >= {"Phó", "Quyền", "Nguyên", "Thường trực"}


def test_mapping_resolves_old_units_to_new_codes():
    res = R.load_resources()
    new_codes = {(u.level, u.code) for u in res.admin_units if u.era == "post2025"}
    old_codes = {(u.level, u.code) for u in res.admin_units if u.era == "pre2025"}
    for m in res.admin_mapping:
        assert (m.level, m.old_code) in old_codes
        assert ("province" if m.level == "province" else "commune", m.new_code) in new_codes
    long_an = [m for m in res.admin_mapping if m.level == "province" and m.old_full_name == "Tỉnh Long An"]
    assert [m.new_full_name for m in long_an] == ["Tỉnh Tây Ninh"]


def test_agency_coverage_counts_exact_and_head_matches():
    from vnreorg.schema import Document, Span

    text = "Sở Nội vụ tỉnh Nghệ An và UBND và Ban Quản lý chợ Đồng Xuân"
    doc = Document(
        id="d", text=text, spans=[Span("T1", 0, 22, "AGENCY"), Span("T2", 26, 30, "AGENCY"), Span("T3", 34, len(text), "AGENCY")]
    )
    cov = R.agency_coverage([doc], R.load_resources())
    assert (cov["agency_spans"], cov["exact"], cov["head_or_exact"]) == (3, 1, 2)


@pytest.mark.parametrize(
    "line, message",
    [
        ("Sở Mới\t\tprovincial-department\tprovince", "expected 5 tab-separated fields"),
        ("Sở Nội vụ\t\tprovincial-department\tprovince\tboth", "duplicate agency form"),
        ("Sở Mới\tSở GD-ĐT\tprovincial-department\tprovince\tboth", "duplicate agency form"),
        ("Hợp nhất\t\tprovincial-department\tprovince\tboth", "action trigger"),
        ("Sở Mới\tsáp nhập\tprovincial-department\tprovince\tboth", "action trigger"),
        ("Sở Mới\t\tprovincial-department\tprovince\tsometime", "expected one of"),
        ("\t\tprovincial-department\tprovince\tboth", "field 'name' is empty"),
    ],
)
def test_bad_agency_lines_name_file_and_line(res_dir, line, message):
    n = _append(res_dir / R.AGENCIES_FILE, line)
    with pytest.raises(VnreorgError) as exc:
        R.load_resources(res_dir)
    assert message in str(exc.value)
    assert f"{res_dir / R.AGENCIES_FILE}:{n}" in str(exc.value)


@pytest.mark.parametrize(
    "fields, message",
    [
        (["08014", "xã", "Hợp Nhất", "Hợp Nhất", "25", "Phú Thọ", "230", "commune", "pre2025"], "is not its type word"),
        (["412", "thành phố", "Vinh", "Thành phố Vinh", "40", "Nghệ An", "", "district", "pre2025"], "duplicate unit"),
        (["99", "tỉnh", "Giảm", "Tỉnh Giảm", "99", "Giảm", "", "province", "pre2025"], None),  # a trigger as a name: fine
        (["98", "tỉnh", "X", "Tỉnh X", "98", "X", "", "region", "pre2025"], "expected one of"),
    ],
)
def test_bad_admin_unit_lines_name_file_and_line(res_dir, fields, message):
    n = _append(res_dir / R.ADMIN_UNITS_FILE, "\t".join(fields))
    if message is None:
        assert len(R.load_resources(res_dir).admin_units) == 3
        return
    with pytest.raises(VnreorgError) as exc:
        R.load_resources(res_dir)
    assert message in str(exc.value) and f"{R.ADMIN_UNITS_FILE}:{n}" in str(exc.value)


def test_bad_titles_and_headers(res_dir):
    n = _append(res_dir / R.TITLES_FILE, "Phó\tmodifier\tprefix")
    with pytest.raises(VnreorgError, match=rf"titles.tsv:{n}: duplicate title"):
        R.load_resources(res_dir)
    shutil.copy(R.RESOURCES_DIR / R.TITLES_FILE, res_dir / R.TITLES_FILE)
    n = _append(res_dir / R.TITLES_FILE, "kiêm nhiệm\thead\t-")
    with pytest.raises(VnreorgError, match=rf"titles.tsv:{n}: .*action trigger"):
        R.load_resources(res_dir)
    (res_dir / R.TITLES_FILE).write_text("# version: 1\nform\tkind\tposition\n", encoding="utf-8")
    with pytest.raises(VnreorgError, match=r"titles.tsv:2: header lacks # source"):
        R.load_resources(res_dir)
    (res_dir / R.TITLES_FILE).write_text("# source: x\n# version: 1\nform\tkind\n", encoding="utf-8")
    with pytest.raises(VnreorgError, match=r"titles.tsv:3: expected the column line"):
        R.load_resources(res_dir)


def test_build_pins_the_package_version(monkeypatch, tmp_path):
    from importlib import metadata

    from vnreorg.models import resources_build as B

    monkeypatch.setattr(B.metadata, "version", lambda name: "1.0.3")
    with pytest.raises(VnreorgError, match="pinned to 1.0.4"):
        B.build_admin_resources(tmp_path)

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(B.metadata, "version", missing)
    with pytest.raises(VnreorgError, match=r"vnreorg\[resources\]"):
        B.build_admin_resources(tmp_path)
    assert not list(tmp_path.iterdir())


def test_build_reproduces_the_committed_files(tmp_path):
    pytest.importorskip("vietnamadminunits", reason="generation-time tool: pip install 'vnreorg[resources]'")
    from vnreorg.models.resources_build import build_admin_resources

    counts = build_admin_resources(tmp_path)
    assert counts["unresolved"] == 0
    for name in (R.ADMIN_UNITS_FILE, R.ADMIN_MAPPING_FILE):
        assert (tmp_path / name).read_bytes() == (R.RESOURCES_DIR / name).read_bytes(), name


def test_cli_lists_sizes_and_coverage(tmp_path):
    from typer.testing import CliRunner

    from vnreorg.cli import app

    result = CliRunner().invoke(app, ["model", "resources", "list"])
    assert result.exit_code == 0, result.output
    assert "admin_units" in result.output and "seed gold AGENCY spans covered" in result.output
    result = CliRunner().invoke(app, ["model", "resources", "show", "admin_units", "-c", "Thành phố Vinh"])
    assert "TP. Vinh" in result.output
