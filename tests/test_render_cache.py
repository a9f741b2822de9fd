"""The render cache: a cached render is byte for byte the uncached one, and never stale."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stdkit import render, render_html
from stdkit.diagnostics import Diagnostic
from stdkit.fsio import CACHE_DIR
from stdkit.loader import load_repository


def _site(root: Path, out: str = "site") -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / out).iterdir()}


def _both(invoke: Callable[..., Any], root: Path, *args: str) -> dict[str, bytes]:
    """Render with the cache (filled as it goes) and without; assert they are the same."""
    cached = invoke("render", *args, "--out", "cached", cwd=root)
    assert cached.exit_code == 0, cached.output
    plain = invoke("render", *args, "--no-cache", "--out", "plain", cwd=root)
    assert plain.exit_code == 0, plain.output
    assert cached.output.replace("cached", "plain") == plain.output
    a, b = _site(root, "cached"), _site(root, "plain")
    assert a == b
    return a


def _pages_rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []
    real = render_html.page_of

    def spy(doc: render.RstDocument, kind: str | None) -> tuple[str, list[Diagnostic]]:
        ran.append(doc.standard_id)
        return real(doc, kind)

    monkeypatch.setattr(render_html, "page_of", spy)
    monkeypatch.setenv("STDKIT_JOBS", "1")  # in this process, where the spy sees them
    return ran


def test_unchanged_repository_is_served_whole(invoke: Callable[..., Any], shipped_repo: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first = _both(invoke, shipped_repo)
    assert (shipped_repo / CACHE_DIR / "render").is_dir()
    ran = _pages_rendered(monkeypatch)
    again = invoke("render", "--out", "cached", cwd=shipped_repo)
    assert again.exit_code == 0, again.output
    assert ran == []
    assert _site(shipped_repo, "cached") == first


def test_no_cache_writes_no_cache(invoke: Callable[..., Any], shipped_repo: Path) -> None:
    result = invoke("render", "--no-cache", cwd=shipped_repo)
    assert result.exit_code == 0, result.output
    # (the write lock lives there too; no entries do)
    assert not (shipped_repo / CACHE_DIR / "render").exists()
    assert not (shipped_repo / CACHE_DIR / "validate").exists()


def test_editing_a_file_renders_that_page_again(invoke: Callable[..., Any], shipped_repo: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    before = _both(invoke, shipped_repo)
    scope = shipped_repo / "standards" / "rfia-0301" / "scope.yaml"
    text = scope.read_text(encoding="utf-8")
    assert "    本文件规定了" in text
    scope.write_text(text.replace("    本文件规定了", "    已编辑。本文件规定了", 1),
                     encoding="utf-8")
    ran = _pages_rendered(monkeypatch)
    assert invoke("render", "--out", "cached", cwd=shipped_repo).exit_code == 0
    assert ran == ["rfia-0301"]  # the two other pages came from the page cache
    after = _both(invoke, shipped_repo)
    assert after["rfia-0301.html"] != before["rfia-0301.html"]
    assert after["rfia-0101.html"] == before["rfia-0101.html"]
    assert "已编辑。".encode() in after["rfia-0301.html"]
    # Text of another language changes the key of that language's page only.
    scope.write_text(scope.read_text(encoding="utf-8").replace(
        "  en: |\n    This document", "  en: |\n    Edited. This document", 1), encoding="utf-8")
    ran.clear()
    assert invoke("render", "--out", "cached", cwd=shipped_repo).exit_code == 0
    assert ran == []  # the Chinese pages are unchanged: served from the page cache
    assert _both(invoke, shipped_repo) == after
    english = _both(invoke, shipped_repo, "--lang", "en")
    assert b"Edited. This document" in english["rfia-0301.html"]


def test_editing_a_referenced_standard_changes_the_referring_page(
    invoke: Callable[..., Any], shipped_repo: Path
) -> None:
    before = _both(invoke, shipped_repo)
    meta = shipped_repo / "standards" / "rfia-0101" / "standard.yaml"
    text = meta.read_text(encoding="utf-8")
    assert "designation: T/RFIA 0101" in text
    meta.write_text(text.replace("designation: T/RFIA 0101", "designation: T/RFIA 0199"),
                    encoding="utf-8")
    after = _both(invoke, shipped_repo)
    # rfia-0201 refers to rfia-0101 by its designation: its page is never served stale.
    assert after["rfia-0201.html"] != before["rfia-0201.html"]
    assert b"0199" in after["rfia-0201.html"]
    assert b"0199" not in before["rfia-0201.html"]


def test_another_language_is_not_served_from_the_cache(invoke: Callable[..., Any],
                                                       shipped_repo: Path) -> None:
    zh = _both(invoke, shipped_repo, "--lang", "zh")
    en = _both(invoke, shipped_repo, "--lang", "en")
    assert zh["rfia-0101.html"] != en["rfia-0101.html"]
    assert _both(invoke, shipped_repo, "--lang", "zh") == zh
    rst = _both(invoke, shipped_repo, "--format", "rst")
    assert "rfia-0101.rst" in rst


def test_a_selection_is_cached_apart(invoke: Callable[..., Any], shipped_repo: Path) -> None:
    whole = _both(invoke, shipped_repo)
    one = _both(invoke, shipped_repo, "rfia-0101")
    assert sorted(one) == [".stdkit-site", "index.html", "rfia-0101.html", "style.css"]
    assert _both(invoke, shipped_repo) == whole


def test_errors_still_refuse_a_cached_site(invoke: Callable[..., Any],
                                           shipped_repo: Path) -> None:
    assert invoke("render", "--force", cwd=shipped_repo).exit_code == 0
    meta = shipped_repo / "standards" / "rfia-0301" / "standard.yaml"
    meta.write_text(meta.read_text().replace("kind: maturity", "kind: nonsense"))
    assert invoke("render", "--force", "--out", "forced", cwd=shipped_repo).exit_code == 0
    refused = invoke("render", "--out", "refused", cwd=shipped_repo)  # the site is cached
    assert refused.exit_code == 1
    assert not (shipped_repo / "refused").exists()


def test_a_forged_entry_is_ignored(invoke: Callable[..., Any], shipped_repo: Path) -> None:
    first = _both(invoke, shipped_repo)
    for path in (shipped_repo / CACHE_DIR / "render").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\0" * 32 + path.read_bytes()[32:])
    assert invoke("render", "--out", "again", cwd=shipped_repo).exit_code == 0
    assert _site(shipped_repo, "again") == first


def test_page_cache_in_render_site(shipped_repo: Path) -> None:
    repo = load_repository(shipped_repo)

    class Memory:
        def __init__(self) -> None:
            self.store: dict[bytes, tuple[str, list[Diagnostic]]] = {}
            self.hits = 0

        def page(self, key: bytes) -> tuple[str, list[Diagnostic]] | None:
            found = self.store.get(key)
            self.hits += found is not None
            return found

        def store_page(self, key: bytes, page: str, diagnostics: list[Diagnostic]) -> None:
            self.store[key] = (page, diagnostics)

        def keep_page(self, key: bytes) -> None:
            assert key in self.store

    plain = render.render_site(repo.standards)
    memory = Memory()
    assert render.render_site(repo.standards, cache=memory) == plain
    assert len(memory.store) == 3 and memory.hits == 0
    assert render.render_site(repo.standards, cache=memory) == plain
    assert memory.hits == 3
    en = render.render_site(repo.standards, lang="en", cache=memory)
    assert en == render.render_site(repo.standards, lang="en")


def test_pages_made_in_two_processes_are_the_same(shipped_repo: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers build each page's RST and HTML; the parent stores misses and keeps hits."""
    import os

    pids = tmp_path / "pids"
    repo = load_repository(shipped_repo)
    monkeypatch.setenv("STDKIT_JOBS", "1")
    alone = render.render_site(repo.standards)

    class Memory:
        def __init__(self) -> None:
            self.store: dict[bytes, tuple[str, list[Diagnostic]]] = {}
            self.kept: list[bytes] = []

        def page(self, key: bytes) -> tuple[str, list[Diagnostic]] | None:
            with pids.open("a") as f:  # which process asks (workers append to the same file)
                f.write(f"{os.getpid()}\n")
            return self.store.get(key)

        def store_page(self, key: bytes, page: str, diagnostics: list[Diagnostic]) -> None:
            self.store[key] = (page, diagnostics)

        def keep_page(self, key: bytes) -> None:
            self.kept.append(key)

    monkeypatch.setenv("STDKIT_JOBS", "2")
    monkeypatch.setattr(render, "PARALLEL_OBJECTS", 0)
    memory = Memory()
    seen: list[tuple[str, int, int]] = []
    first = render.render_site(repo.standards, cache=memory,
                               progress=lambda *a: seen.append(a))
    assert first == alone
    assert len(memory.store) == 3 and memory.kept == []
    askers = set(pids.read_text().split())
    assert askers and str(os.getpid()) not in askers  # made by the workers only
    assert sorted(s for s, _i, _n in seen) == sorted(repo.standards)
    assert [i for _s, i, _n in seen] == [1, 2, 3]
    again = render.render_site(repo.standards, cache=memory)  # hits found in the workers
    assert again == alone
    assert sorted(memory.kept) == sorted(memory.store)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_validation_gate_makes_the_first_pass(
    invoke: Callable[..., Any], shipped_repo: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    """A whole render's validation gate surveys the standards it reads whole (in its worker
    processes too), the same as render's own first pass; a standard read with parts standing
    in, or served from the cache, is left to render; and the site is the same either way."""
    from stdkit import validate as validate_mod

    monkeypatch.setenv("STDKIT_JOBS", jobs)
    monkeypatch.setattr(validate_mod, "PARALLEL_BYTES", 0)
    expected = {sid: render.survey(std)
                for sid, std in load_repository(shipped_repo).standards.items()}
    report = validate_mod.validate_paths(shipped_repo, [shipped_repo], collect=render.survey)
    assert report.collected == expected
    part = shipped_repo / "standards" / "rfia-0301" / "assessment.yaml"
    part.write_text(part.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    again = validate_mod.validate_paths(shipped_repo, [shipped_repo], collect=render.survey)
    assert "rfia-0301" not in again.collected
    assert validate_mod.validate_paths(shipped_repo, [shipped_repo],
                                       collect=render.survey).collected == {}
    surveyed: list[list[str]] = []
    real = render._surveys

    def spy(standards: Any, chosen: list[str]) -> Any:
        surveyed.append(list(chosen))
        return real(standards, chosen)

    monkeypatch.setattr(render, "_surveys", spy)
    shutil.rmtree(shipped_repo / CACHE_DIR)
    _both(invoke, shipped_repo)
    # The cached render's gate surveyed all three; the uncached render surveyed them itself.
    assert surveyed == [[], sorted(expected)]
