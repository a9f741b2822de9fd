"""The facts the cache keeps of each part file (stdkit.rules.facts), and the packs it keeps them in.

A standard checked again because one of its files changed reads that file only: the entries of
the others stand in for them. Each test below changes a file so that a fact of *another*,
unchanged file matters differently (an id, a role, a term, a citation, a provision under test,
a number, a waiver …), and checks that the finding appears or goes exactly as it does without
the cache, at the same line and column, while the unchanged file stood in.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stdkit import cache as cache_mod
from stdkit import loader
from stdkit.diagnostics import format_json, format_text
from stdkit.fsio import CACHE_DIR
from stdkit.validate import validate_paths

CASES = Path(__file__).parent / "cases" / "validate"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test signs its cache with its own key (and never touches the real ~/.cache)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("STDKIT_JOBS", "1")  # in this process, where the spy sees everything


@pytest.fixture
def stood_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The part files the cache stood in for (not read) in the runs since it was cleared."""
    files: set[str] = set()
    real = loader._stand_in

    def spy(repo: Any, source: Any, file: str, *args: Any) -> None:
        files.add(file)
        real(repo, source, file, *args)

    monkeypatch.setattr(loader, "_stand_in", spy)
    yield files


@pytest.fixture
def repo(invoke: Callable[..., Any], tmp_path: Path) -> Path:
    """A repository of three fresh drafts (one of each kind) that validates cleanly."""
    root = tmp_path / "repo"
    invoke("init", str(root))
    for kind, sid in (("verification", "rfia-0900"), ("interface", "rfia-0901"),
                      ("maturity", "rfia-0902")):
        result = invoke("new", kind, sid, "--title-en", f"A {kind} draft", "--date",
                        "2026-11-24", cwd=root)
        assert result.exit_code == 0, result.stdout
    return root


def _same(root: Path) -> str:
    """The report through the cache, after checking it equals the report without it."""
    cached = validate_paths(root, [root])
    plain = validate_paths(root, [root], use_cache=False)
    assert format_json(cached.diagnostics, cached.summary) == format_json(
        plain.diagnostics, plain.summary)
    return format_text(cached.diagnostics, cached.summary)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _add_part(root: Path, sid: str, pid: str, text: str, *, after: str) -> None:
    """A new part file, listed in standard.yaml after the part ``after``."""
    folder = root / "standards" / sid
    (folder / f"{pid}.yaml").write_text(text, encoding="utf-8")
    _edit(folder / "standard.yaml", f"  - {after}\n", f"  - {after}\n  - {pid}\n")


def _touch(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")


@pytest.mark.parametrize("case", NAMES)
def test_golden_cases_with_the_parts_standing_in(case: str, tmp_path: Path) -> None:
    work = tmp_path / case
    shutil.copytree(CASES / case, work)
    _same(work)
    # Every standard checked again, every part file standing in ...
    for meta in work.glob("standards/*/standard.yaml"):
        _touch(meta)
    _same(work)
    # ... and again with one part file of each read.
    for meta in work.glob("standards/*/standard.yaml"):
        parts = sorted(p for p in meta.parent.glob("*.yaml") if p.name != "standard.yaml")
        if parts:
            _touch(parts[0])
    _same(work)


def test_the_parts_of_a_standard_checked_again_stand_in(repo: Path, stood_in: set[str]) -> None:
    _same(repo)
    _edit(repo / "standards" / "rfia-0900" / "scope.yaml", "verification draft", "draft")
    stood_in.clear()
    assert "0 errors, 0 warnings" in _same(repo)
    folder = "standards/rfia-0900/"
    assert {f for f in stood_in if f.startswith(folder)} == {
        folder + name for name in ("foreword.yaml", "normative-references.yaml", "terms.yaml",
                                   "requirements.yaml", "environments.yaml", "cases.yaml")}


def test_an_id_of_an_unchanged_file_used_again(repo: Path, stood_in: set[str]) -> None:
    _same(repo)
    folder = repo / "standards" / "rfia-0900"
    _edit(folder / "requirements.yaml", "id: REQ-EXAMPLE-1", "id: ENV-HIL")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0900/environments.yaml" in stood_in
    assert text.count("ID001") == 2
    assert "standards/rfia-0900/environments.yaml:" in text
    _edit(folder / "requirements.yaml", "id: ENV-HIL", "id: REQ-EXAMPLE-1")
    assert "ID001" not in _same(repo)


def test_a_reference_from_an_unchanged_file_that_no_longer_resolves(
    repo: Path, stood_in: set[str]
) -> None:
    _same(repo)
    folder = repo / "standards" / "rfia-0900"
    _edit(folder / "requirements.yaml", "id: REQ-EXAMPLE-1", "id: REQ-EXAMPLE-2")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0900/cases.yaml" in stood_in
    # The objective's :ref: and the case's verifies, both in the file that did not change; and
    # the renamed provision is under test with no case.
    assert "standards/rfia-0900/cases.yaml" in text and "REF001" in text
    assert "VER002" in text and "VER001" in text
    _edit(folder / "requirements.yaml", "id: REQ-EXAMPLE-2", "id: REQ-EXAMPLE-1")
    assert "0 errors, 0 warnings" in _same(repo)


def test_a_provision_under_test_in_an_unchanged_file(repo: Path, stood_in: set[str]) -> None:
    _same(repo)
    cases = repo / "standards" / "rfia-0900" / "cases.yaml"
    _edit(cases, "    verifies:\n      - REQ-EXAMPLE-1\n", "    verifies: []\n")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0900/requirements.yaml" in stood_in
    assert "standards/rfia-0900/requirements.yaml:" in text and "VER001" in text


def test_a_message_of_an_unchanged_file_meets_another(repo: Path, stood_in: set[str]) -> None:
    _same(repo)
    _add_part(repo, "rfia-0901", "more", (
        "id: more\ntype: clause\ntitle: More messages\nmessages:\n"
        "  - id: MSG-MORE\n    name: More_Status\n    can_id: '0x100'\n    dlc: 8\n"
        "    sender: NODE-A\n    transmission: event\n    signals: []\n"), after="messages")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0901/messages.yaml" in stood_in
    assert "IF010" in text and "MSG-EXAMPLE" in text  # the first is in the unchanged file


def test_a_unit_an_unchanged_file_uses_goes_away(repo: Path, stood_in: set[str]) -> None:
    messages = repo / "standards" / "rfia-0901" / "messages.yaml"
    _edit(messages, "unit: V", "unit: millivolt")
    _add_part(repo, "rfia-0901", "units", (
        "id: units\ntype: clause\ntitle: Units\nunits:\n"
        "  - id: millivolt\n    name: millivolt\n    quantity: voltage\n"), after="messages")
    assert "IF001" not in _same(repo)
    _edit(repo / "standards" / "rfia-0901" / "units.yaml", "id: millivolt", "id: microvolt")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0901/messages.yaml" in stood_in
    assert "standards/rfia-0901/messages.yaml:" in text and "IF001" in text


def test_a_term_used_in_an_unchanged_file_changes_its_designation(
    repo: Path, stood_in: set[str]
) -> None:
    folder = repo / "standards" / "rfia-0900"
    _edit(folder / "terms.yaml", "terms: []", (
        "terms:\n  - id: term-bench\n    term: test bench\n"
        "    definition: equipment on which an item is verified"))
    _edit(folder / "scope.yaml", "for a verification draft.",
          "for a verification draft on a test bench.")
    assert "TRM001" not in _same(repo)
    _edit(folder / "terms.yaml", "term: test bench", "term: proving ground")
    stood_in.clear()
    assert "TRM001" in _same(repo)
    assert "standards/rfia-0900/scope.yaml" in stood_in
    # Back again (the standard's earlier result may serve, or the parts stand in again).
    _edit(folder / "terms.yaml", "term: proving ground", "term: test bench")
    assert "TRM001" not in _same(repo)


def test_citations_in_and_of_unchanged_files(repo: Path, stood_in: set[str]) -> None:
    folder = repo / "standards" / "rfia-0900"
    _edit(folder / "normative-references.yaml", "references: []", (
        "references:\n  - id: ref-iso\n    designation: ISO 26262-8:2018\n"
        "    title: Road vehicles — Functional safety — Part 8"))
    _edit(folder / "scope.yaml", "for a verification draft.",
          "for a verification draft (see :cite:`ref-iso`, 9.4).")
    assert "CIT00" not in _same(repo)
    # The reference loses its year: the citation with a clause number, in the unchanged scope.
    _edit(folder / "normative-references.yaml", "ISO 26262-8:2018", "ISO 26262-8")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0900/scope.yaml" in stood_in
    assert "CIT002" in text and "standards/rfia-0900/scope.yaml:" in text
    # The citation goes: the reference, in its unchanged file, is cited nowhere.
    _edit(folder / "scope.yaml", " (see :cite:`ref-iso`, 9.4)", "")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0900/normative-references.yaml" in stood_in
    assert "CIT001" in text and "CIT002" not in text


def test_numbers_of_unchanged_parts_follow_the_order(repo: Path, stood_in: set[str]) -> None:
    annex = ("id: {0}\ntype: annex\nannex: informative\ntitle: Annex {0}\n"
             "text: Informative material.\n")
    _add_part(repo, "rfia-0900", "annex-x", annex.format("annex-x"), after="cases")
    _add_part(repo, "rfia-0900", "annex-y", annex.format("annex-y"), after="annex-x")
    text = _same(repo)
    assert "annex A ('annex-x')" in text and "annex B ('annex-y')" in text
    meta = repo / "standards" / "rfia-0900" / "standard.yaml"
    _edit(meta, "  - annex-x\n  - annex-y\n", "  - annex-y\n  - annex-x\n")
    stood_in.clear()
    text = _same(repo)
    assert {"standards/rfia-0900/annex-x.yaml", "standards/rfia-0900/annex-y.yaml"} <= stood_in
    assert "annex B ('annex-x')" in text and "annex A ('annex-y')" in text


def test_a_waiver_in_an_unchanged_file_goes_stale(repo: Path, stood_in: set[str]) -> None:
    folder = repo / "standards" / "rfia-0900"
    _edit(folder / "terms.yaml", "terms: []", (
        "terms:\n  - id: term-rig\n    term: endurance rig\n"
        "    definition: equipment on which an item is run for a long time\n"
        "    waive:\n      TRM001: defined for the next edition"))
    assert "WAIVE" not in _same(repo)
    _edit(folder / "scope.yaml", "for a verification draft.",
          "for a verification draft on an endurance rig.")
    stood_in.clear()
    text = _same(repo)
    assert "standards/rfia-0900/terms.yaml" in stood_in
    assert "WAIVE002" in text and "standards/rfia-0900/terms.yaml:" in text


def test_what_reading_an_unchanged_file_gave_is_kept(repo: Path, stood_in: set[str]) -> None:
    folder = repo / "standards" / "rfia-0900"
    _edit(folder / "environments.yaml", "id: environments", "id: settings")
    _edit(folder / "cases.yaml", "    method: test\n", "    method: test\n    method: test\n")
    first = _same(repo)
    assert "STD004" in first and "YAML003" in first
    _touch(folder / "standard.yaml")
    stood_in.clear()
    assert _same(repo) == first
    assert {"standards/rfia-0900/environments.yaml", "standards/rfia-0900/cases.yaml"} <= stood_in


# -- packs --------------------------------------------------------------------------------------


def _packs(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR / "validate").glob("*.pack"))


def test_entries_are_kept_in_a_few_packs(shipped_repo: Path) -> None:
    _same(shipped_repo)
    cache = cache_mod.ValidationCache.open(shipped_repo)
    assert cache is not None
    entries = cache.entries()
    files = sorted(p for p in (shipped_repo / CACHE_DIR / "validate").rglob("*") if p.is_file())
    assert len(entries) > 40
    assert files == _packs(shipped_repo) and len(files) < 10
    assert {p for p, _o, _n in entries.values()} == set(files)


def test_pruning_keeps_what_is_used_and_bounds_the_packs(
    shipped_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_mod.Packs, "MANY", 3)
    monkeypatch.setattr(cache_mod.Packs, "SMALL", 1 << 30)
    first = _same(shipped_repo)
    scope = shipped_repo / "standards" / "rfia-0101" / "scope.yaml"
    for i in range(6):
        scope.write_text(scope.read_text(encoding="utf-8") + f"\n# edit {i}\n",
                         encoding="utf-8")
        assert _same(shipped_repo) == first
        assert len(_packs(shipped_repo)) <= 3 + 1
    # What a run used is all still there: the same run again reads every entry it needs.
    before = set(cache_mod.ValidationCache.open(shipped_repo).entries())  # type: ignore[union-attr]
    monkeypatch.setattr(cache_mod.ValidationCache, "report", lambda self: None)
    assert _same(shipped_repo) == first
    after = set(cache_mod.ValidationCache.open(shipped_repo).entries())  # type: ignore[union-attr]
    assert after == before


def test_a_pack_written_by_another_process_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "validate"
    mine, other = cache_mod.Packs(folder), cache_mod.Packs(folder)
    assert mine.get("doc/a") is None
    other.write({"doc/a": b"first"})
    assert mine.get("doc/a") == b"first"
    other.write({"doc/b": b"second", "part/c": b"third"})
    assert mine.get("part/c") == b"third" and mine.get("doc/b") == b"second"
    # A pack another run pruned meanwhile is a miss, not an error.
    for pack in folder.glob("*.pack"):
        pack.unlink()
    fresh = cache_mod.Packs(folder)
    assert fresh.get("doc/a") is None
    assert not list(folder.glob(".*.tmp"))
