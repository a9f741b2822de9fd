"""``compare`` reads one standard at a time: the same result as reading both revisions whole.

Each scenario is checked against a reference that loads both revisions completely and diffs
them in one go (what ``compare`` did before it read standards one by one): read serially, in
two worker processes, from the kept outcomes of an earlier run, and without any cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stdkit import baseline
from stdkit.baseline import compare
from stdkit.diff import DiffResult, diff, format_json, format_text
from stdkit.gitrepo import WORKTREE_LABEL, GitRepo, ParsedBlobs, Revision
from stdkit.loader import load_repository
from stdkit.scaffold import new_standard
from tests.test_gitrepo import commit_all, edit, git, make_repo

STD = "standards/rfia-0101/standard.yaml"


def reference(root: Path, old: str, new: str | None = None) -> tuple[DiffResult, list[str]]:
    """Both revisions loaded whole, then diffed: the result and the error messages."""
    repo = GitRepo(root)
    o = repo.resolve(old)
    n = repo.resolve(new) if new is not None else Revision(WORKTREE_LABEL, None)
    a, b = (load_repository(root, repo.source(rev), check=False) for rev in (o, n))
    result = diff(a.standards, b.standards, old_label=o.label, new_label=n.label,
                  old_commit=o.commit, new_commit=n.commit)
    errors = [f"{d.file}: {d.message}" for r in (a, b) for d in r.diagnostics
              if d.severity.value == "error"]
    return result, errors


def entries(root: Path) -> set[Path]:
    folder = root / ".stdkit-cache" / "diff"
    return {p for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Four standards, then one commit that changes them in every way that matters here."""
    root = make_repo(tmp_path / "r")
    for sid, kind in (("rfia-0102", "interface"), ("rfia-0201", "verification"),
                      ("rfia-0301", "maturity")):
        new_standard(root, kind, sid, title_en=f"Standard {sid}", today="2026-11-20")
    commit_all(root, "four standards")
    git(root, "tag", "first")
    # rfia-0101: a new part file before 'general', which renumbers the clauses of the part
    # files after it (unchanged files), and a part file that no longer parses.
    (root / "standards/rfia-0101/overview.yaml").write_text(
        "id: overview\ntype: clause\ntitle:\n  en: Overview\n  zh: 概述\n"
        "text:\n  en: This clause gives an overview.\n  zh: 本章给出概述。\n", encoding="utf-8")
    edit(root, STD, "  - general\n", "  - overview\n  - general\n")
    (root / "standards/rfia-0101/broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    edit(root, STD, "  - messages\n", "  - messages\n  - broken\n")
    # rfia-0102 gives its messages part file to rfia-0201 (a part file moved between
    # standards); rfia-0301 stays as it is; rfia-0401 is new and rfia-0201's id stays.
    (root / "standards/rfia-0102/messages.yaml").rename(root / "standards/rfia-0201/messages.yaml")
    edit(root, "standards/rfia-0102/standard.yaml", "  - messages\n", "")
    meta = root / "standards/rfia-0201/standard.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "  - messages\n", encoding="utf-8")
    new_standard(root, "interface", "rfia-0401", title_en="Added later", today="2026-11-21")
    commit_all(root, "changes")
    git(root, "tag", "second")
    # A third revision: rfia-0102 is gone.
    shutil.rmtree(root / "standards/rfia-0102")
    commit_all(root, "gone")
    git(root, "tag", "third")
    return root


def same(found: baseline.Comparison, expected: tuple[DiffResult, list[str]], *,
         problems: bool = True) -> None:
    """The same result; with ``problems``, the same errors (when every folder was read)."""
    result, errors = expected
    assert found.result == result
    assert format_text(found.result) == format_text(result)
    assert format_json(found.result) == format_json(result)
    if problems:
        assert [f"{d.file}: {d.message}" for _label, d in found.problems] == errors


def test_one_standard_at_a_time_gives_the_whole_result(history: Path) -> None:
    expected = reference(history, "first", "second")
    found = compare(history, "first", "second", models=False, use_cache=False)
    same(found, expected)
    assert found.old == {} and found.new == {}  # no models kept for text and JSON
    ids = {(c.standard, c.id, c.change) for c in found.result.changes}
    assert ("rfia-0401", "rfia-0401", "added") in ids  # a standard only in the new revision
    assert ("rfia-0102", "messages", "removed") in ids  # a part file moved out …
    assert ("rfia-0201", "messages", "added") in ids  # … and into another standard
    assert ("rfia-0101", "overview", "added") in ids
    assert not {c for c in ids if c[0] == "rfia-0301"}  # unchanged
    # The clauses of unchanged part files after the new one are renumbered, once each.
    assert {r.id for r in found.result.renumbered} >= {"general", "messages"}
    assert any("broken.yaml" in e for e in expected[1])


def test_a_standard_only_in_the_old_revision(history: Path) -> None:
    found = compare(history, "second", "third", models=False, use_cache=False)
    same(found, reference(history, "second", "third"), problems=False)
    assert [(c.standard, c.change) for c in found.result.changes] == [("rfia-0102", "removed")]
    assert found.problems == ()  # rfia-0101 (with its broken file) is the same: not read


def test_an_unchanged_standard_is_not_read(history: Path) -> None:
    found = compare(history, "first", "second", use_cache=False)
    # Models are kept for the redline: only those of the standards that were read.
    assert "rfia-0301" not in found.old and "rfia-0301" not in found.new
    assert {"rfia-0101", "rfia-0102", "rfia-0201"} <= set(found.old)
    assert "rfia-0401" in found.new
    same(found, reference(history, "first", "second"))


def test_worker_processes_give_the_same_result(
        history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline, "PARALLEL_BYTES", 0)
    monkeypatch.setenv("STDKIT_JOBS", "2")
    expected = reference(history, "first", "second")
    same(compare(history, "first", "second", models=False), expected)  # cold, in 2 processes
    assert entries(history)
    same(compare(history, "first", "second", models=False), expected)  # kept outcomes


def test_kept_outcomes_give_the_same_result(history: Path) -> None:
    expected = reference(history, "first", "second")
    same(compare(history, "first", "second", models=False), expected)
    stored = entries(history)
    same(compare(history, "first", "second", models=False), expected)
    assert entries(history) == stored  # nothing new to keep
    # The redline reads the models again, through the parsed blobs.
    same(compare(history, "first", "second"), expected)


def test_the_working_tree_is_read_whole(history: Path) -> None:
    edit(history, "standards/rfia-0301/standard.yaml", "title:", "committee: Others\ntitle:")
    found = compare(history, "second", models=False)
    same(found, reference(history, "second"))
    assert [c.standard for c in found.result.changes] == ["rfia-0102", "rfia-0301"]


def test_two_folders_with_one_standard_id(history: Path) -> None:
    # The first folder that holds an id is the standard (as the loader reads a repository).
    edit(history, "standards/rfia-0401/standard.yaml", "id: rfia-0401", "id: rfia-0301")
    commit_all(history, "a second rfia-0301")
    for old, new in (("second", "HEAD"), ("first", "HEAD"), ("HEAD", None)):
        # Against the working tree every folder is read, so every problem is reported.
        same(compare(history, old, new, models=False, use_cache=False),
             reference(history, old, new), problems=new is None)


def test_no_cache_reads_and_writes_nothing(history: Path, invoke: object) -> None:
    run = invoke  # type: ignore[assignment]
    result = run("diff", "first", "second", "--no-cache", cwd=history)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert not (history / ".stdkit-cache" / "diff").exists()
    assert "rfia-0401" in result.output


def test_the_cache_is_pruned_beyond_its_limit(
        history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compare(history, "first", "second", models=False)
    before = entries(history)
    assert before
    monkeypatch.setattr(ParsedBlobs, "LIMIT", 0)
    found = compare(history, "second", "third", models=False)  # writes new entries, then prunes
    after = entries(history)
    assert after and not after >= before  # what the first run alone used is gone
    assert found.result == reference(history, "second", "third")[0]
    monkeypatch.setattr(ParsedBlobs, "LIMIT", 1 << 40)
    compare(history, "first", "second", models=False)
    assert entries(history) >= after  # under the limit nothing is dropped
