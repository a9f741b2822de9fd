"""The finer entries of the validation cache: part checks by part file, standards' indexes,
compiled schema validators. Each serves only what its key covers: a changed part file, a changed
standard.yaml (languages, kind) or a changed neighbour is checked again, and every report equals
the report without the cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stdkit import loader, schema
from stdkit import rules as rules_mod
from stdkit.cache import ValidationCache
from stdkit.diagnostics import format_text
from stdkit.loader import load_repository
from stdkit.rules import Context
from stdkit.validate import _indexed, validate_paths


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test signs its cache with its own key (and never touches the real ~/.cache)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("STDKIT_JOBS", "1")  # in this process, where the spies see everything


@pytest.fixture
def parts_checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The files whose part checks actually ran (not served from the cache)."""
    ran: list[str] = []
    real = rules_mod.check_part

    def spy(part: Any) -> Any:
        ran.append(part.part.origin.file)
        return real(part)

    monkeypatch.setattr(rules_mod, "check_part", spy)
    yield ran


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The standards read from their files."""
    names: set[str] = set()
    real = loader.load_standard

    def spy(repo: Any, name: str, **kwargs: Any) -> Any:
        names.add(name)
        return real(repo, name, **kwargs)

    monkeypatch.setattr(loader, "load_standard", spy)
    yield names


def _same_as_without_cache(root: Path) -> str:
    """The report through the cache, after checking it equals the report without it."""
    cached = validate_paths(root, [root])
    plain = validate_paths(root, [root], use_cache=False)
    assert cached.diagnostics == plain.diagnostics
    assert cached.summary == plain.summary
    return format_text(cached.diagnostics, cached.summary)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_only_the_edited_part_file_is_checked_again(
    shipped_repo: Path, parts_checked: list[str]
) -> None:
    clean = _same_as_without_cache(shipped_repo)
    assert "0 errors, 0 warnings" in clean
    assessment = shipped_repo / "standards" / "rfia-0301" / "assessment.yaml"
    # A requirement that no longer says "shall": its part's findings are new, not the cached.
    _edit(assessment, "the assessment sponsor shall establish",
          "the assessment sponsor establishes")
    parts_checked.clear()
    text = _same_as_without_cache(shipped_repo)
    assert "VF00" in text and "standards/rfia-0301/assessment.yaml" in text
    # The standard is checked again, but of its parts only the edited one (the first run
    # above; the second, without the cache, checks every part).
    first_run = parts_checked[: parts_checked.index("standards/rfia-0301/assessment.yaml") + 1]
    assert first_run == ["standards/rfia-0301/assessment.yaml"]
    # Back to the original bytes: that part again at most (its entry may have been pruned).
    _edit(assessment, "the assessment sponsor establishes",
          "the assessment sponsor shall establish")
    parts_checked.clear()
    assert validate_paths(shipped_repo, [shipped_repo]).summary.errors == 0
    assert set(parts_checked) <= {"standards/rfia-0301/assessment.yaml"}


def test_part_findings_follow_the_standards_kind_and_languages(
    shipped_repo: Path, parts_checked: list[str]
) -> None:
    _same_as_without_cache(shipped_repo)
    meta = shipped_repo / "standards" / "rfia-0301" / "standard.yaml"
    # Levels and evidence types belong to maturity standards: as an interface standard, the
    # same unchanged part files have findings (STD008), which the cache must not hide.
    _edit(meta, "kind: maturity", "kind: interface")
    parts_checked.clear()
    text = _same_as_without_cache(shipped_repo)
    assert "STD008" in text
    assert "standards/rfia-0301/levels.yaml" in parts_checked
    # English only: the Chinese texts of every part are now in an undeclared language.
    _edit(meta, "kind: interface", "kind: maturity")
    _edit(meta, "languages: [zh, en]", "languages: [en]")
    text = _same_as_without_cache(shipped_repo)
    assert "LANG002" in text and "standards/rfia-0301/levels.yaml" in text


def test_a_part_file_renamed_keeps_no_findings_of_the_other_name(shipped_repo: Path) -> None:
    """The key holds the file's path as well as its content (findings name their file)."""
    _same_as_without_cache(shipped_repo)
    folder = shipped_repo / "standards" / "rfia-0301"
    (folder / "scope.yaml").rename(folder / "range.yaml")
    _edit(folder / "standard.yaml", "- scope\n", "- range\n")
    text = _same_as_without_cache(shipped_repo)
    assert "standards/rfia-0301/scope.yaml" not in text


def test_unchanged_neighbours_are_looked_up_in_their_index_not_read(
    shipped_repo: Path, read: set[str]
) -> None:
    _same_as_without_cache(shipped_repo)
    cases = shipped_repo / "standards" / "rfia-0201" / "cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    read.clear()
    report = validate_paths(shipped_repo, [shipped_repo])
    # rfia-0201 verifies provisions of rfia-0101, which did not change: its index answers.
    assert read == {"rfia-0201"}
    plain = validate_paths(shipped_repo, [shipped_repo], use_cache=False)
    assert report.diagnostics == plain.diagnostics and report.summary == plain.summary
    # A case that verifies a provision rfia-0101 does not have is found through the index too.
    _edit(cases, 'REQ-ACC-REGEN-LIMIT, "rfia-0101:REQ-BMS-LIMITS"',
          'REQ-ACC-REGEN-LIMIT, "rfia-0101:REQ-BMS-NOTHING"')
    read.clear()
    assert validate_paths(shipped_repo, [shipped_repo]).summary.errors > 0
    assert read == {"rfia-0201"}
    text = _same_as_without_cache(shipped_repo)
    assert "rfia-0101:REQ-BMS-NOTHING" in text


def test_an_index_answers_lookups_as_the_standard_itself_does(shipped_repo: Path) -> None:
    repo = load_repository(shipped_repo)
    peers: dict[str, Context] = {}
    for sid, standard in repo.standards.items():
        full = Context.of(repo, standard, peers)
        index = [(k, type(v).__name__, getattr(v, "designation", None))
                 for k, v in full.index.items()]
        stub = _indexed(repo, sid, index, peers)
        assert stub is not None
        assert stub.standard.id == full.standard.id
        assert list(stub.index) == list(full.index)
        for key, obj in full.index.items():
            other = stub.index[key]
            assert type(other) is type(obj) and other.KIND == obj.KIND
            assert getattr(other, "designation", None) == getattr(obj, "designation", None)
    assert _indexed(repo, "rfia-0101", [("X", "NoSuchClass", None)], peers) is None


def test_compiled_schema_validators_are_kept_and_signed(
    shipped_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fastjsonschema

    compiled: list[str] = []
    real = fastjsonschema.compile_to_code

    def spy(*args: Any, **kwargs: Any) -> str:
        compiled.append("part")
        return real(*args, **kwargs)

    monkeypatch.setattr(fastjsonschema, "compile_to_code", spy)
    cache = ValidationCache.open(shipped_repo)
    assert cache is not None
    monkeypatch.setattr(schema, "_FAST", {})
    first = schema.fast_validator("part", cache)
    assert compiled == ["part"]
    cache.close()
    # Another process (no validator in memory) takes the compiled code from the cache.
    again = ValidationCache.open(shipped_repo)
    assert again is not None
    monkeypatch.setattr(schema, "_FAST", {})
    second = schema.fast_validator("part", again)
    assert compiled == ["part"]
    for data in ({}, {"id": "x", "type": "clause"}, {"id": 1}):
        assert first(data) == second(data)
    # An entry not signed with this user's key is compiled afresh, never run.
    for name, (pack, offset, _length) in again.entries().items():
        if name.startswith("code/"):
            with pack.open("r+b") as fh:
                fh.seek(offset)
                fh.write(b"\0" * 32)
    other = ValidationCache.open(shipped_repo)
    assert other is not None
    monkeypatch.setattr(schema, "_FAST", {})
    schema.fast_validator("part", other)
    assert compiled == ["part", "part"]
