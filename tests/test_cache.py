"""The validation cache never serves a stale result, and changes no byte of any report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stdkit import cache as cache_mod
from stdkit import validate as validate_mod
from stdkit.fsio import CACHE_DIR
from stdkit.validate import validate_paths

CASES = Path(__file__).parent / "cases" / "validate"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test signs its cache with its own key (and never touches the real ~/.cache)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The ids of the standards whose rules actually ran (not served from the cache)."""
    ran: list[str] = []
    real = validate_mod.check_standard

    def spy(ctx: Any) -> Any:
        ran.append(ctx.standard.id)
        return real(ctx)

    monkeypatch.setattr(validate_mod, "check_standard", spy)
    monkeypatch.setenv("STDKIT_JOBS", "1")  # in this process, where the spy sees them
    yield ran


def _entries(root: Path) -> dict[str, tuple[Path, int, int]]:
    """The validation cache's entries on disk: name -> (pack, offset, length)."""
    cache = cache_mod.ValidationCache.open(root)
    assert cache is not None
    return cache.entries()


def _damage(root: Path, prefix: str = "") -> int:
    """Overwrite the signature of every entry whose name starts with ``prefix``; how many."""
    found = 0
    for name, (pack, offset, _length) in _entries(root).items():
        if name.startswith(prefix):
            with pack.open("r+b") as fh:
                fh.seek(offset)
                fh.write(b"\0" * 40)
            found += 1
    return found


def _report(root: Path, *, use_cache: bool = True) -> tuple[str, int]:
    from stdkit.diagnostics import format_json, format_text

    report = validate_paths(root, [root], use_cache=use_cache)
    return (format_text(report.diagnostics, report.summary)
            + format_json(report.diagnostics, report.summary), report.summary.errors)


@pytest.mark.parametrize("case", NAMES)
def test_golden_cases_identical_with_and_without_cache(
    case: str, invoke: Callable[..., Any], tmp_path: Path
) -> None:
    work = tmp_path / case
    shutil.copytree(CASES / case, work)
    for fmt in ("text", "json", "sarif", "junit"):
        plain = invoke("validate", "--no-cache", "--format", fmt, cwd=work)
        assert not (work / CACHE_DIR).exists(), "--no-cache wrote a cache"
        first = invoke("validate", "--format", fmt, cwd=work)   # fills the cache
        second = invoke("validate", "--format", fmt, cwd=work)  # served from it
        assert first.stdout == plain.stdout
        assert second.stdout == plain.stdout
        assert first.exit_code == second.exit_code == plain.exit_code
        shutil.rmtree(work / CACHE_DIR, ignore_errors=True)
    expected = (CASES / case / "expected.txt").read_text(encoding="utf-8")
    cached = invoke("validate", cwd=work)
    cached = invoke("validate", cwd=work)
    assert cached.stdout + f"exit {cached.exit_code}\n" == expected


def test_parallel_checks_give_the_same_report(
    shipped_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _report(shipped_repo, use_cache=False)
    monkeypatch.setattr(validate_mod, "PARALLEL_OBJECTS", 0)
    monkeypatch.setattr(validate_mod, "PARALLEL_BYTES", 0)
    monkeypatch.setenv("STDKIT_JOBS", "2")
    assert _report(shipped_repo, use_cache=False) == serial
    assert _report(shipped_repo) == serial  # standards checked by two processes
    scope = shipped_repo / "standards" / "rfia-0101" / "scope.yaml"
    scope.write_text(scope.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _report(shipped_repo) == serial  # two of them again (rfia-0201 refers to it)
    assert _report(shipped_repo) == serial  # served whole
    # Entries the workers wrote are kept when the parent prunes.
    entries = set(_entries(shipped_repo))
    monkeypatch.setattr(cache_mod.ValidationCache, "report", lambda self: None)
    assert _report(shipped_repo) == serial
    assert set(_entries(shipped_repo)) == entries


def test_unchanged_repository_is_served_whole(shipped_repo: Path, checked: list[str]) -> None:
    first = _report(shipped_repo)
    assert sorted(checked) == ["rfia-0101", "rfia-0201", "rfia-0301"]
    checked.clear()
    assert _report(shipped_repo) == first
    assert checked == []


def test_an_edited_file_is_checked_again(shipped_repo: Path, checked: list[str]) -> None:
    clean, errors = _report(shipped_repo)
    assert errors == 0
    scope = shipped_repo / "standards" / "rfia-0301" / "scope.yaml"
    original = scope.read_text(encoding="utf-8")
    scope.write_text(original + "colour: blue\n", encoding="utf-8")
    checked.clear()
    broken, errors = _report(shipped_repo)
    assert errors == 1 and "unknown key 'colour'" in broken
    assert checked == ["rfia-0301"]  # the other two were served from the cache
    # The same bytes as before: the earlier entries serve again, and say the same.
    scope.write_text(original, encoding="utf-8")
    assert _report(shipped_repo) == (clean, 0)
    # And without the cache the two reports read the same.
    scope.write_text(original + "colour: blue\n", encoding="utf-8")
    assert _report(shipped_repo) == _report(shipped_repo, use_cache=False) == (broken, 1)


def test_a_changed_rule_severity_in_settings_is_applied(shipped_repo: Path) -> None:
    settings = shipped_repo / "stdkit.yaml"
    settings.write_text("languages: [zh, en]\n", encoding="utf-8")
    scope = shipped_repo / "standards" / "rfia-0301" / "scope.yaml"
    scope.write_text(scope.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    text, errors = _report(shipped_repo)
    assert errors == 1
    settings.write_text("languages: [zh, en]\nrules: {SCH002: warning}\n", encoding="utf-8")
    text, errors = _report(shipped_repo)
    assert errors == 0 and "warning SCH002" in text
    settings.write_text("languages: [zh, en]\nrules: {SCH002: 'off'}\n", encoding="utf-8")
    text, errors = _report(shipped_repo)
    assert errors == 0 and "SCH002" not in text
    assert (text, errors) == _report(shipped_repo, use_cache=False)


def test_cross_standard_findings_follow_the_other_standard(
    shipped_repo: Path, checked: list[str]
) -> None:
    """rfia-0201 verifies and refers to provisions of rfia-0101: renaming one there breaks it."""
    _text, errors = _report(shipped_repo)
    assert errors == 0
    messages = shipped_repo / "standards" / "rfia-0101" / "messages.yaml"
    original = messages.read_text(encoding="utf-8")
    assert original.count("id: REQ-BMS-STATUS-CYCLE\n") == 1
    messages.write_text(original.replace("id: REQ-BMS-STATUS-CYCLE\n", "id: REQ-BMS-CYCLE\n"),
                        encoding="utf-8")
    checked.clear()
    text, errors = _report(shipped_repo)
    # rfia-0201's files did not change, yet its findings about rfia-0101 are recomputed.
    assert "rfia-0201" in checked
    assert "rfia-0101:REQ-BMS-STATUS-CYCLE" in text and errors > 0
    assert any(line.startswith("standards/rfia-0201/") for line in text.splitlines())
    assert (text, errors) == _report(shipped_repo, use_cache=False)
    # A change to a standard nobody refers to leaves the others' findings in the cache.
    checked.clear()
    levels = shipped_repo / "standards" / "rfia-0301" / "levels.yaml"
    levels.write_text(levels.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert _report(shipped_repo) == (text, errors)
    assert "rfia-0301" in checked and "rfia-0101" not in checked


def test_a_new_standard_invalidates_unknown_standard_findings(shipped_repo: Path) -> None:
    cases = shipped_repo / "standards" / "rfia-0201" / "cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace(
        '"rfia-0101:REQ-BMS-LIMITS"', '"rfia-0102:REQ-X"'), encoding="utf-8")
    text, _ = _report(shipped_repo)
    assert "unknown standard 'rfia-0102'" in text
    standards = shipped_repo / "standards"
    shutil.copytree(standards / "rfia-0101", standards / "rfia-0102")
    meta = shipped_repo / "standards" / "rfia-0102" / "standard.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("id: rfia-0101", "id: rfia-0102"),
                    encoding="utf-8")
    text, _ = _report(shipped_repo)
    assert "unknown standard 'rfia-0102'" not in text
    assert "rfia-0102:REQ-X" in text
    assert _report(shipped_repo) == _report(shipped_repo, use_cache=False)


def test_new_code_starts_afresh(
    shipped_repo: Path, checked: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _report(shipped_repo)
    monkeypatch.setattr(cache_mod, "_CODE_DIGEST", [b"another stdkit".ljust(32, b"\0")])
    checked.clear()
    assert _report(shipped_repo) == first
    assert sorted(checked) == ["rfia-0101", "rfia-0201", "rfia-0301"]


def test_entries_not_signed_with_this_users_key_are_ignored(
    shipped_repo: Path, checked: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = _report(shipped_repo)
    assert _entries(shipped_repo)
    # A contribution that commits a cache of its own (signed with another key) is not read.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-user"))
    checked.clear()
    assert _report(shipped_repo) == first
    assert sorted(checked) == ["rfia-0101", "rfia-0201", "rfia-0301"]
    # Nor is a damaged one.
    assert _damage(shipped_repo) > 0
    checked.clear()
    assert _report(shipped_repo) == first
    assert sorted(checked) == ["rfia-0101", "rfia-0201", "rfia-0301"]
    # Nor a damaged pack.
    for pack in (shipped_repo / CACHE_DIR / "validate").glob("*.pack"):
        pack.write_bytes(b"\0" * 40 + pack.read_bytes()[40:])
    checked.clear()
    assert _report(shipped_repo) == first
    assert sorted(checked) == ["rfia-0101", "rfia-0201", "rfia-0301"]


def test_narrowed_runs_are_not_served_the_whole_report(shipped_repo: Path) -> None:
    whole = validate_paths(shipped_repo, [shipped_repo])
    one = validate_paths(shipped_repo, [shipped_repo / "standards" / "rfia-0101"])
    assert one.summary.standards == 1 and whole.summary.standards == 3
    again = validate_paths(shipped_repo, [shipped_repo / "standards" / "rfia-0101"])
    assert again.summary == one.summary


def test_symlinks_turn_the_cache_off(shipped_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("id: x\n", encoding="utf-8")
    (shipped_repo / "standards" / "rfia-0101" / "extra.yaml").symlink_to(outside)
    first = _report(shipped_repo)
    assert not (shipped_repo / CACHE_DIR).exists()
    assert first == _report(shipped_repo, use_cache=False)


def test_no_cache_flag_reads_nothing(invoke: Callable[..., Any], shipped_repo: Path) -> None:
    invoke("validate", cwd=shipped_repo)
    entries = [p for p in (shipped_repo / CACHE_DIR).rglob("*") if p.is_file()]
    for path in entries:
        if path.name != ".gitignore":
            path.write_bytes(b"garbage")
    result = invoke("validate", "--no-cache", "--format", "json", cwd=shipped_repo)
    assert json.loads(result.stdout)["summary"]["errors"] == 0
    assert all(p.read_bytes() in (b"garbage",) for p in entries if p.name != ".gitignore")


def test_cache_folder_ignores_itself(shipped_repo: Path) -> None:
    _report(shipped_repo)
    assert (shipped_repo / CACHE_DIR / ".gitignore").read_text(encoding="utf-8").endswith("*\n")


def test_validate_imports_neither_docutils_nor_git(shipped_repo: Path, tmp_path: Path) -> None:
    """Checked with ``python -X importtime``: validate (cold, then cached) loads no renderer,
    no git, and no jsonschema while every document is valid."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "NO_COLOR": "1"}
    for args in (["--no-cache"], [], []):
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "stdkit", "validate",
                              *args], cwd=shipped_repo, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        modules = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()
                   if line.startswith("import time:")}
        assert not {m for m in modules if m.split(".")[0] in (
            "docutils", "git", "jsonschema", "referencing", "nh3")}, sorted(modules)


def test_only_the_standards_that_may_have_changed_are_read(
    shipped_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stdkit import loader

    read: set[str] = set()
    real = loader.load_standard

    def spy(repo: Any, name: str, **kwargs: Any) -> Any:
        read.add(name)
        return real(repo, name, **kwargs)

    monkeypatch.setattr(loader, "load_standard", spy)
    first = validate_paths(shipped_repo, [shipped_repo])
    assert read == {"rfia-0101", "rfia-0201", "rfia-0301"}
    levels = shipped_repo / "standards" / "rfia-0301" / "levels.yaml"
    levels.write_text(levels.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    read.clear()
    again = validate_paths(shipped_repo, [shipped_repo])
    assert read == {"rfia-0301"}
    assert again.diagnostics == first.diagnostics and again.summary == first.summary
    # rfia-0201 refers to rfia-0101: a change there reads (and checks) both, not rfia-0301.
    messages = shipped_repo / "standards" / "rfia-0101" / "messages.yaml"
    messages.write_text(messages.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    read.clear()
    third = validate_paths(shipped_repo, [shipped_repo])
    assert read == {"rfia-0101", "rfia-0201"}
    assert third.summary == first.summary
    plain = validate_paths(shipped_repo, [shipped_repo], use_cache=False)
    assert third.diagnostics == plain.diagnostics and third.summary == plain.summary
    # Nothing changed: nothing is read at all.
    read.clear()
    validate_paths(shipped_repo, [shipped_repo])
    assert read == set()


def test_a_file_edited_while_being_read_is_not_remembered(
    shipped_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stdkit import loader

    scope = shipped_repo / "standards" / "rfia-0301" / "scope.yaml"
    original = scope.read_text(encoding="utf-8")
    real = loader.load_standard

    def edit_then_read(repo: Any, name: str, **kwargs: Any) -> Any:
        if name == "rfia-0301":  # the drafter saves between the fingerprint and the reading
            scope.write_text(original + "colour: blue\n", encoding="utf-8")
        return real(repo, name, **kwargs)

    monkeypatch.setattr(loader, "load_standard", edit_then_read)
    validate_paths(shipped_repo, [shipped_repo])
    monkeypatch.setattr(loader, "load_standard", real)
    scope.write_text(original, encoding="utf-8")
    # The run above saw the edited file under the original's fingerprint: had it remembered
    # anything, this run (on the original again) could be served its findings.
    again = validate_paths(shipped_repo, [shipped_repo])
    plain = validate_paths(shipped_repo, [shipped_repo], use_cache=False)
    assert again.diagnostics == plain.diagnostics and again.summary == plain.summary
    assert again.summary.errors == 0


def test_benchmark_corpus_validates_cleanly_with_and_without_cache(tmp_path: Path) -> None:
    """bench/generate.py writes drafts that pass every rule (so the benchmarks time real work)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "bench_generate", Path(__file__).parent.parent / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generate  # its dataclasses look their module up
    try:
        spec.loader.exec_module(generate)
    finally:
        del sys.modules[spec.name]
    root = tmp_path / "syn"
    generate.generate(root, standards=3, clauses=150, seed=7)
    plain = validate_paths(root, [root], use_cache=False)
    assert (plain.summary.errors, plain.summary.warnings, plain.summary.standards) == (0, 0, 3)
    assert [d.code for d in plain.diagnostics] == []
    cached = validate_paths(root, [root])
    assert cached.diagnostics == plain.diagnostics and cached.summary == plain.summary
