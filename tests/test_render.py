"""stdkit render: golden RST and HTML per kind, determinism, the CLI, and the atomic site swap."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from docutils.core import publish_string

from stdkit import render
from stdkit.loader import load_repository
from stdkit.model import Text
from stdkit.render import Catalogue, render_site, standard_rst

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases" / "render"
REPO_ROOT = HERE.parent
UPDATE = os.environ.get("STDKIT_UPDATE_GOLDEN") == "1"
MAIN = re.compile(r"<main\b.*</main>", re.S)


def _cases() -> list[tuple[str, Path]]:
    found = [(p.name, p) for p in sorted(CASES.iterdir()) if (p / "standards").is_dir()]
    return [*found, ("shipped", REPO_ROOT)]


def _golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing; run with STDKIT_UPDATE_GOLDEN=1 to write it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs; rerun with STDKIT_UPDATE_GOLDEN=1 if intended"


@pytest.mark.parametrize(("name", "root"), _cases(), ids=[c[0] for c in _cases()])
def test_golden(name: str, root: Path) -> None:
    """Every case renders to its expected RST and HTML fragment, with no diagnostics."""
    repo = load_repository(root)
    rst = render_site(repo.standards, fmt="rst")
    html = render_site(repo.standards, fmt="html")
    assert not rst.diagnostics and not html.diagnostics, html.diagnostics
    expected = CASES / name / "expected"
    for sid in sorted(repo.standards):
        _golden(expected / f"{sid}.rst", rst.files[f"{sid}.rst"].decode("utf-8"))
        page = html.files[f"{sid}.html"].decode("utf-8")
        fragment = MAIN.search(page)
        assert fragment is not None
        _golden(expected / f"{sid}.html", fragment.group(0) + "\n")
    index = MAIN.search(html.files["index.html"].decode("utf-8"))
    assert index is not None
    _golden(expected / "index.html", index.group(0) + "\n")


@pytest.mark.parametrize(("name", "root"), _cases(), ids=[c[0] for c in _cases()])
def test_rst_is_plain_docutils(name: str, root: Path) -> None:
    """The RST converts with plain docutils without a warning: nothing stdkit-specific left."""
    repo = load_repository(root)
    site = render_site(repo.standards, fmt="rst")
    for fname, data in site.files.items():
        text = data.decode("utf-8")
        assert ":ref:`" not in text and ":term:`" not in text and ":cite:`" not in text
        warnings = io.StringIO()
        publish_string(text, writer="html5", settings_overrides={
            "_disable_config": True, "warning_stream": warnings, "report_level": 2,
            "halt_level": 5})
        assert warnings.getvalue() == "", f"{name}/{fname}: {warnings.getvalue()}"


def test_render_twice_is_byte_identical() -> None:
    repo = load_repository(REPO_ROOT)
    for fmt in ("html", "rst"):
        first = render_site(repo.standards, fmt=fmt).files
        again = render_site(load_repository(REPO_ROOT).standards, fmt=fmt).files
        assert first == again


def test_english_page_of_a_bilingual_standard() -> None:
    repo = load_repository(CASES / "interface")
    doc = standard_rst(Catalogue(repo.standards, repo.standards), "tst-if", "en")
    assert doc.lang == "en"
    assert "Battery interface for tests" in doc.text
    assert ":alt:`测试用电池接口`" not in doc.text
    assert "Draft for comment :alt:`征求意见稿`" in doc.text
    assert "NOTE 1" in doc.text and "EXAMPLE" in doc.text
    assert "Note 1 to entry:" in doc.text
    # a term shows both languages
    assert "**battery management system**\u2003:alt:`电池管理系统`" in doc.text


def test_cover_of_a_draft_and_of_a_published_standard() -> None:
    repo = load_repository(CASES / "interface")
    draft = standard_rst(Catalogue(repo.standards, repo.standards), "tst-if").text
    assert "T/TEST 0001—××××" in draft
    assert "征求意见稿 :alt:`Draft for comment`" in draft
    assert "第2稿\u3000本稿完成日期：2026-03-01" in draft
    assert "征求意见截止日期：2026-04-30" in draft
    repo = load_repository(CASES / "maturity")
    published = standard_rst(Catalogue(repo.standards, repo.standards), "tst-mat").text
    assert "T/TEST 0003—2027" in published
    assert "Supersedes T/TEST 0003—2025" in published
    assert "draft" not in published.split(".. container:: toc")[0].lower()


def test_notes_and_examples_are_numbered_per_clause() -> None:
    repo = load_repository(CASES / "interface")
    text = standard_rst(Catalogue(repo.standards, repo.standards), "tst-if").text
    assert ":label:`注1：`\\ 第一条注" in text
    assert ":label:`注2：`" in text
    assert ":label:`注：`\\ 唯一的注" in text  # a single note is not numbered
    assert ":label:`示例：`\\ 计数器" in text


def _page(cat: Catalogue, sid: str = "x") -> render._Page:
    page = render._Page(cat, cat.standards[sid], cat.standards[sid].languages[0])
    return page


def test_roles_between_chinese_characters(write_tree: Callable[..., Path]) -> None:
    """A role written directly between Chinese characters still becomes a link."""
    repo = load_repository(CASES / "interface")
    cat = Catalogue(repo.standards, repo.standards)
    page = render._Page(cat, repo.standards["tst-if"], "zh")
    out = page.resolve("见:ref:`messages`和:cite:`ref-can`，参见 :ref:`annex-a` 。")
    assert out == ("见\\ `第4章 <#messages>`__\\ 和\\ `ISO 11898-1:2015 <#ref-can>`__，"
                   "参见\\ `附录A <#annex-a>`__\\ 。")
    html = render_site(repo.standards, fmt="html").files["tst-if.html"].decode()
    assert '见<a class="reference external" href="#messages">第4章</a>和' in html


def test_cross_standard_links_go_to_the_other_page() -> None:
    repo = load_repository(CASES / "verification")
    site = render_site(repo.standards, fmt="html")
    html = site.files["tst-vf.html"].decode()
    assert 'href="tst-if.html#REQ-IF-CYCLE"' in html
    assert 'href="tst-if.html#general"' in html
    # the interface standard's provision links back to the case that verifies it
    assert 'href="tst-vf.html#TC-001"' in site.files["tst-if.html"].decode()
    # rendered alone, the other standard is not in the site: text, no dead link
    alone = render_site(repo.standards, ["tst-vf"], fmt="html").files["tst-vf.html"].decode()
    assert "tst-if.html" not in alone
    assert "T/TEST 0001 REQ-IF-CYCLE" in alone


def test_anchors_are_object_ids() -> None:
    repo = load_repository(CASES / "interface")
    html = render_site(repo.standards, fmt="html").files["tst-if.html"].decode()
    for oid in ("scope", "msg-status", "MSG-STATUS", "SIG-STATE", "VT-STATE", "BMS",
                "REQ-STATUS-CYCLE", "term-bms", "ref-can", "ref-vss", "annex-a"):
        assert f'id="{oid}"' in html, oid
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for href in re.findall(r'href="#([^"]+)"', html):
        assert href in ids, href


def test_traceability_matrix_lists_cross_standard_requirements() -> None:
    repo = load_repository(CASES / "verification")
    text = standard_rst(Catalogue(repo.standards, repo.standards), "tst-vf").text
    matrix = text.split("traceability")[-1]
    assert "`REQ-VF-A <#REQ-VF-A>`__" in matrix
    assert "`T/TEST 0001 REQ-IF-CYCLE <tst-if.html#REQ-IF-CYCLE>`__" in matrix
    assert "`REQ-VF-B <#REQ-VF-B>`__" in matrix  # uncovered requirements are listed too


def _many_cases(tmp_path: Path, count: int) -> Path:
    """The verification case with ``count`` cases, each verifying REQ-VF-A (and some B)."""
    import shutil

    root = tmp_path / "many"
    shutil.copytree(CASES / "verification", root, ignore=shutil.ignore_patterns("expected"))
    cases = ["id: cases", "type: clause", "title: {zh: 验证用例, en: Verification cases}",
             "cases:"]
    for n in range(1, count + 1):
        verifies = "[REQ-VF-A, REQ-VF-B]" if n % 2 else "[REQ-VF-A]"
        cases += [f"  - id: TC-{n:03}", "    title: {zh: 响应时间, en: Response time}",
                  f"    verifies: {verifies}",
                  f"    method: {'analysis' if n % 3 == 0 else 'test'}",
                  "    level: system", "    environment: ENV-HIL", "    steps:",
                  "      - action: {zh: 发送请求。, en: Send a request.}",
                  "        expected: {zh: 收到响应。, en: A response arrives.}"]
    (root / "standards" / "tst-vf" / "cases.yaml").write_text("\n".join(cases) + "\n",
                                                             encoding="utf-8")
    return root


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_traceability_of_many_cases_is_a_list(tmp_path: Path, lang: str) -> None:
    root = _many_cases(tmp_path, render.MATRIX_MAX_CASES + 1)
    repo = load_repository(root)
    doc = standard_rst(Catalogue(repo.standards, repo.standards), "tst-vf", lang)
    annex = doc.text.split(":class: trace-list")[1]
    assert ":class: traceability" not in doc.text
    rows = re.findall(r"^      \* - (.*)$", annex, re.M)
    # One row a requirement (not a column a case), the header first.
    assert len(rows) == 3 and rows[1] == "`REQ-VF-A <#REQ-VF-A>`__"
    a_cases = annex.split("`REQ-VF-A <#REQ-VF-A>`__")[1].split("\n")[1]
    if lang == "zh":
        assert a_cases.startswith("        - `TC-001 <#TC-001>`__\\ （T）、`TC-002 <#TC-002>`__")
        assert "`TC-003 <#TC-003>`__\\ （A）" in a_cases
    else:
        assert a_cases.startswith("        - `TC-001 <#TC-001>`__ (T), `TC-002 <#TC-002>`__")
    assert a_cases.count("`TC-") == render.MATRIX_MAX_CASES + 1
    assert re.search(r"`REQ-VF-B <#REQ-VF-B>`__\n.*\n        - 11\n", annex)
    site = render_site(repo.standards, fmt="html")
    assert not [d for d in site.diagnostics if d.code == "RST001"]
    page = site.files["tst-vf.html"].decode()
    assert 'class="trace-list' in page and page.count('href="#TC-001"') >= 2


def test_traceability_of_few_cases_is_a_matrix(tmp_path: Path) -> None:
    root = _many_cases(tmp_path, render.MATRIX_MAX_CASES)
    repo = load_repository(root)
    text = standard_rst(Catalogue(repo.standards, repo.standards), "tst-vf").text
    header = text.split(":class: traceability")[1].split("* - `REQ-VF-A")[0]
    assert header.count("`TC-") == render.MATRIX_MAX_CASES


def test_warnings_point_at_the_yaml_line(write_tree: Callable[..., Path]) -> None:
    root = _hostile_repo(write_tree, "First line.\n\nAn *unclosed emphasis.\n")
    site = render_site(load_repository(root).standards, fmt="html")
    [d] = site.diagnostics
    assert d.code == "RST001"
    assert d.file == "standards/x/scope.yaml"
    assert d.line == 6 and d.object == "scope"
    assert "without end-string" in d.message


def test_text_of_falls_back_to_another_language() -> None:
    from stdkit.model import Origin

    text = Text({"en": "hello"}, Origin("f.yaml"))
    assert render._plain(text, "zh", ("en",)) == "hello"


# -- hostile payloads: each must come out inert ----------------------------------------------

STANDARD = """\
    id: x
    designation: T/X 0001
    kind: interface
    languages: [en]
    title: Hostile
    stage: working-draft
    revision: 1
    date: "2026-01-01"
    parts: [scope, general]
"""


def _hostile_repo(write_tree: Callable[..., Path], payload: str) -> Path:
    body = "\n".join("  " + line if line else "" for line in payload.split("\n"))
    return write_tree({
        "standards/x/standard.yaml": STANDARD,
        "standards/x/scope.yaml": "id: scope\ntype: scope\ntext: |\n" + body + "\n",
        "standards/x/general.yaml": "id: general\ntype: clause\ntitle: General\n"
                                    "text: Plain text.\n",
    })


def _render(root: Path) -> tuple[str, list[str]]:
    site = render_site(load_repository(root).standards, fmt="html")
    return site.files["x.html"].decode("utf-8"), [d.message for d in site.diagnostics]


def assert_inert(page: str) -> None:
    lower = page.lower()
    squeezed = re.sub(r"\s", "", lower)
    assert "<script" not in lower
    assert "root:x:0:0" not in page
    assert "secret-svg-content" not in lower
    assert 'href="javascript:' not in squeezed and 'src="javascript:' not in squeezed
    assert 'href="data:' not in squeezed and 'src="data:' not in squeezed
    assert "http-equiv=\"refresh\"" not in lower and "<meta http-equiv=\"refresh" not in lower
    assert not re.search(r"<[^>]+\son\w+\s*=", lower)
    assert "<iframe" not in lower and "<object" not in lower and "<embed" not in lower


def test_raw_html_is_refused(write_tree: Callable[..., Path]) -> None:
    page, messages = _render(_hostile_repo(
        write_tree, ".. raw:: html\n\n   <script>alert(1)</script>\n"))
    assert_inert(page)
    assert any("raw" in m for m in messages)


def test_include_is_refused(write_tree: Callable[..., Path]) -> None:
    page, messages = _render(_hostile_repo(write_tree, ".. include:: /etc/passwd\n"))
    assert_inert(page)
    assert any("include" in m for m in messages)


def test_csv_table_file_is_refused(write_tree: Callable[..., Path]) -> None:
    page, messages = _render(_hostile_repo(
        write_tree, ".. csv-table:: Leak\n   :file: /etc/passwd\n"))
    assert_inert(page)
    assert any("File and URL access deactivated" in m for m in messages)


def test_csv_table_url_is_refused(write_tree: Callable[..., Path]) -> None:
    page, messages = _render(_hostile_repo(
        write_tree, ".. csv-table:: Leak\n   :url: file:///etc/passwd\n"))
    assert_inert(page)
    assert any("File and URL access deactivated" in m for m in messages)


def test_embedded_image_is_not_read(write_tree: Callable[..., Path], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET-SVG-CONTENT</text></svg>')
    root = _hostile_repo(write_tree, ".. image:: ../../secret.svg\n   :loading: embed\n")
    monkeypatch.chdir(root / "standards")  # so that ../../secret.svg names the secret
    assert (Path.cwd() / "../../secret.svg").resolve() == (tmp_path / "secret.svg")
    page, _messages = _render(root)
    assert_inert(page)
    assert "<svg" not in page


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "JaVaScRiPt:alert(1)",
                                 "java\tscript:alert(1)", " javascript:alert(1)"])
def test_javascript_links_are_unlinked(write_tree: Callable[..., Path], uri: str) -> None:
    payload = f"`click <{uri}>`__ and a target `here`_.\n\n.. _here: {uri}\n"
    page, messages = _render(_hostile_repo(write_tree, payload))
    assert_inert(page)
    assert "click" in page
    assert any("only http, https, mailto and relative links" in m for m in messages)


def test_data_uri_is_unlinked(write_tree: Callable[..., Path]) -> None:
    page, _messages = _render(_hostile_repo(
        write_tree, "`x <data:text/html,<script>alert(1)</script>>`__\n"))
    assert_inert(page)


def test_meta_refresh_is_removed(write_tree: Callable[..., Path]) -> None:
    page, messages = _render(_hostile_repo(
        write_tree, ".. meta::\n   :http-equiv=refresh: 0; url=http://evil.example/\n"))
    assert_inert(page)
    assert "evil.example" not in page
    assert any("meta" in m for m in messages)


def test_docutils_conf_in_the_working_directory_is_ignored(
        write_tree: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = _hostile_repo(write_tree, ".. raw:: html\n\n   <script>alert(1)</script>\n\n"
                                     ".. include:: /etc/passwd\n")
    (root / "docutils.conf").write_text(
        "[general]\nraw_enabled: yes\nfile_insertion_enabled: yes\n"
        "[restructuredtext parser]\nraw_enabled: yes\nfile_insertion_enabled: yes\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("DOCUTILSCONFIG", str(root / "docutils.conf"))
    page, _messages = _render(root)
    assert_inert(page)


def test_200_nested_block_quotes(write_tree: Callable[..., Path]) -> None:
    payload = "\n\n".join(" " * i + f"level {i}" for i in range(200)) + "\n"
    page, messages = _render(_hostile_repo(write_tree, payload))
    assert_inert(page)
    assert "level 199" in page
    assert any("nests more than" in m for m in messages)


def test_unclosed_emphasis(write_tree: Callable[..., Path]) -> None:
    page, messages = _render(_hostile_repo(write_tree, "An *unclosed emphasis.\n"))
    assert_inert(page)
    assert "An *unclosed emphasis." in page
    assert not re.search(r'href="#_', page)  # no dangling link to a removed message
    assert messages


def test_classes_and_section_numbering_of_a_draft_are_dropped(
        write_tree: Callable[..., Path]) -> None:
    payload = (".. sectnum::\n\n.. class:: provision requirement\n\nFake requirement.\n\n"
               ".. container:: cover\n\n   Fake cover.\n")
    page, messages = _render(_hostile_repo(write_tree, payload))
    assert_inert(page)
    assert page.count('class="cover docutils container"') == 1  # only the real cover
    assert '<p class="provision' not in page
    assert "sectnum" in " ".join(messages)


def test_safe_uri() -> None:
    from stdkit.render_html import safe_uri

    for good in ("https://a.example/x", "http://a", "mailto:a@b.c", "#REQ-1", "other.html#x",
                 "../x.html"):
        assert safe_uri(good), good
    for bad in ("javascript:x", "JAVASCRIPT:x", "java\nscript:x", "\x01javascript:x",
                "data:text/html,x", "vbscript:x", "file:///etc/passwd", "//evil.example/"):
        assert not safe_uri(bad), bad


# -- the command ------------------------------------------------------------------------------

def test_cli_renders_the_shipped_standards(invoke: Callable[..., object],
                                           shipped_repo: Path) -> None:
    result = invoke("render", cwd=shipped_repo)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    site = shipped_repo / "site"
    names = sorted(p.name for p in site.iterdir())
    assert names == [".stdkit-site", "index.html", "rfia-0101.html", "rfia-0201.html",
                     "rfia-0301.html", "style.css"]
    index = (site / "index.html").read_text()
    for sid in ("rfia-0101", "rfia-0201", "rfia-0301"):
        assert f'href="{sid}.html"' in index
    first = {p.name: p.read_bytes() for p in site.iterdir()}
    result = invoke("render", cwd=shipped_repo)
    assert result.exit_code == 0
    assert {p.name: p.read_bytes() for p in site.iterdir()} == first
    assert not [p for p in shipped_repo.iterdir() if p.name.startswith(".site.")]


def test_cli_rst_and_lang(invoke: Callable[..., object], shipped_repo: Path) -> None:
    result = invoke("render", "rfia-0101", "--format", "rst", "--lang", "en", "--out", "out",
                    cwd=shipped_repo)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = (shipped_repo / "out" / "rfia-0101.rst").read_text()
    assert "Controller area network interface" in text.split(".. container:: toc")[0]
    assert sorted(p.name for p in (shipped_repo / "out").iterdir()) == [
        ".stdkit-site", "index.rst", "rfia-0101.rst"]


def test_cli_refuses_a_standard_with_errors(invoke: Callable[..., object],
                                            shipped_repo: Path) -> None:
    meta = shipped_repo / "standards" / "rfia-0301" / "standard.yaml"
    meta.write_text(meta.read_text().replace("kind: maturity", "kind: nonsense"))
    result = invoke("render", "rfia-0301", cwd=shipped_repo)
    assert result.exit_code == 1
    assert "standards/rfia-0301/standard.yaml" in result.output  # type: ignore[attr-defined]
    assert "--force" in result.output  # type: ignore[attr-defined]
    assert not (shipped_repo / "site").exists()
    # the other standards are fine
    assert invoke("render", "rfia-0101", cwd=shipped_repo).exit_code == 0  # type: ignore
    forced = invoke("render", "rfia-0301", "--force", cwd=shipped_repo)
    assert forced.exit_code == 0  # type: ignore[attr-defined]
    assert (shipped_repo / "site" / "rfia-0301.html").is_file()


def test_cli_usage_errors(invoke: Callable[..., object], shipped_repo: Path) -> None:
    result = invoke("render", "nope", cwd=shipped_repo)
    assert result.exit_code == 2
    assert "no standard 'nope'" in result.output  # type: ignore[attr-defined]
    assert invoke("render", "--lang", "fr", cwd=shipped_repo).exit_code == 2  # type: ignore


def test_cli_never_replaces_a_folder_it_did_not_write(invoke: Callable[..., object],
                                                      shipped_repo: Path) -> None:
    (shipped_repo / "docs").mkdir()
    (shipped_repo / "docs" / "keep.txt").write_text("mine")
    result = invoke("render", "--out", "docs", cwd=shipped_repo)
    assert result.exit_code == 2
    assert "not written by 'stdkit render'" in result.output  # type: ignore[attr-defined]
    assert (shipped_repo / "docs" / "keep.txt").read_text() == "mine"


def test_failed_render_leaves_the_previous_site(invoke: Callable[..., object],
                                                shipped_repo: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("render", cwd=shipped_repo).exit_code == 0  # type: ignore[attr-defined]
    site = shipped_repo / "site"
    before = {p.name: p.read_bytes() for p in site.iterdir()}
    calls = []
    real = Path.write_bytes

    def flaky(self: Path, data: bytes) -> int:
        calls.append(self)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky)
    result = invoke("render", cwd=shipped_repo)
    assert result.exit_code == 2
    assert "No space left" in result.output  # type: ignore[attr-defined]
    assert {p.name: p.read_bytes() for p in site.iterdir()} == before
    assert [p.name for p in shipped_repo.iterdir() if p.name.startswith(".site")] == []


def test_validate_does_not_import_docutils() -> None:
    import subprocess
    import sys

    code = ("import sys; from stdkit.cli import app; from typer.testing import CliRunner;"
            "CliRunner().invoke(app, ['validate', '--format', 'json']);"
            "print('docutils' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_lazily_read_standards_render_the_same_site(tmp_path: Path) -> None:
    """A site made from standards read one at a time (a few held) is the site made from all."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(CASES / "verification", root, ignore=shutil.ignore_patterns("expected"))
    shutil.copytree(REPO_ROOT / "standards", root / "standards", dirs_exist_ok=True)
    eager = load_repository(root)
    assert len(eager.standards) == 5
    repo = load_repository(root, standards=False)
    lazy = render.LazyStandards(repo, sorted(eager.standards), keep=2)
    reads: list[str] = []
    real = render.LazyStandards.__getitem__

    def counting(self: render.LazyStandards, sid: str) -> render.Standard:
        before = set(self._held)
        found = real(self, sid)
        if sid not in before:
            reads.append(sid)
        assert len(self._held) <= 2
        return found

    render.LazyStandards.__getitem__ = counting  # type: ignore[method-assign]
    try:
        for fmt in ("rst", "html"):
            assert render_site(lazy, fmt=fmt, keep=2) == render_site(eager.standards, fmt=fmt)
    finally:
        render.LazyStandards.__getitem__ = real  # type: ignore[method-assign]
    assert set(reads) == set(eager.standards)
    # Only the held standards' documents stay in the repository.
    assert {f.split("/")[1] for f in repo.documents if f.startswith("standards/")} <= set(
        lazy._held)


def test_lazy_standards_refuse_a_folder_whose_id_changed(tmp_path: Path) -> None:
    import shutil

    from stdkit.errors import InputError

    root = tmp_path / "repo"
    shutil.copytree(CASES / "verification", root, ignore=shutil.ignore_patterns("expected"))
    lazy = render.LazyStandards(load_repository(root, standards=False), ["tst-if", "gone"])
    assert "gone" in lazy and "other" not in lazy and len(lazy) == 2
    assert lazy["tst-if"].id == "tst-if"
    with pytest.raises(InputError, match="standards/gone changed"):
        lazy["gone"]
    with pytest.raises(KeyError):
        lazy["other"]


def test_first_pass_shared_between_processes(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue's first pass over lazily read standards, in two processes, finds what
    one process finds (metadata, sizes, who verifies what) and the site is the same."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(CASES / "verification", root, ignore=shutil.ignore_patterns("expected"))
    shutil.copytree(REPO_ROOT / "standards", root / "standards", dirs_exist_ok=True)
    ids = sorted(load_repository(root).standards)
    monkeypatch.setenv("STDKIT_JOBS", "1")
    alone = Catalogue(render.LazyStandards(load_repository(root, standards=False), ids), ids)
    one_site = render_site(render.LazyStandards(load_repository(root, standards=False), ids),
                           keep=2)
    monkeypatch.setenv("STDKIT_JOBS", "2")
    monkeypatch.setattr(render, "PARALLEL_SURVEY", 2)
    shared = Catalogue(render.LazyStandards(load_repository(root, standards=False), ids), ids)
    assert shared.facts == alone.facts and shared.sizes == alone.sizes
    assert shared.verifiers == alone.verifiers and shared.verifiers
    assert shared.cards == alone.cards and shared.cards.keys() == set(ids)
    monkeypatch.setattr(render, "PARALLEL_OBJECTS", 0)
    two_site = render_site(render.LazyStandards(load_repository(root, standards=False), ids),
                           keep=2)
    assert two_site == one_site


def test_first_pass_taken_from_surveys_made_before() -> None:
    """Standards surveyed already (by the validation gate) are not surveyed again, and the
    catalogue is the same as one that surveyed them all itself."""
    repo = load_repository(CASES / "verification")
    ids = sorted(repo.standards)
    made = {sid: render.survey(repo.standards[sid]) for sid in ids[::2]}
    seen: list[str] = []

    class Watched(dict[str, render.Standard]):
        def __getitem__(self, sid: str) -> render.Standard:
            seen.append(sid)
            return super().__getitem__(sid)

    mixed = Catalogue(Watched(repo.standards), ids, surveyed=made)
    alone = Catalogue(repo.standards, ids)
    assert not set(seen) & set(made)
    assert mixed.facts == alone.facts and mixed.sizes == alone.sizes
    assert mixed.verifiers == alone.verifiers and mixed.cards == alone.cards
