"""Diff's parsed-blob cache (.stdkit-cache/diff/) and the models shared by both revisions.

Entries are keyed by git blob id (content), path, size limit and code digest, and signed: a warm
run gives exactly the cold run's result, a tampered entry is ignored, and a part file both
revisions hold is built (and compared) once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from stdkit.baseline import compare
from stdkit.cache import Packs
from stdkit.diff import format_json, format_text
from stdkit.gitrepo import GitRepo, ParsedBlobs, SameBlobs
from stdkit.loader import load_repository
from stdkit.redline import redline_rst
from tests.test_diff import GENERAL, MESSAGES, repo_with_baselines
from tests.test_gitrepo import commit_all, edit

OLD, NEW = "rfia-0101@working-draft.1", "rfia-0101@working-draft.3"


def outputs(root: Path) -> tuple[str, str, str]:
    found = compare(root, OLD, NEW)
    return (format_text(found.result), format_json(found.result),
            redline_rst(found.result, found.old, found.new))


def _listing(root: Path) -> dict[str, tuple[str, int, int]]:
    """The cache's entries: name -> (pack file, offset, length)."""
    return Packs(root / ".stdkit-cache" / "diff" / "packs").listing()


def entries(root: Path) -> list[str]:
    return sorted(_listing(root))


def damage(root: Path, change: Callable[[bytes], bytes]) -> None:
    """Rewrite every entry in place (its length kept)."""
    folder = root / ".stdkit-cache" / "diff" / "packs"
    for pack, offset, length in _listing(root).values():
        with (folder / pack).open("r+b") as fh:
            fh.seek(offset)
            data = change(fh.read(length))
            assert len(data) == length
            fh.seek(offset)
            fh.write(data)


def test_warm_run_gives_the_cold_result(tmp_path: Path) -> None:
    root = repo_with_baselines(tmp_path / "r")
    cold = outputs(root)
    stored = entries(root)
    assert stored, "the first run keeps the parsed blobs"
    packs = list((root / ".stdkit-cache" / "diff" / "packs").iterdir())
    assert len(packs) < len(stored)  # a standard's entries a pack, not a file an entry
    assert (root / ".stdkit-cache" / ".gitignore").is_file()
    assert outputs(root) == cold
    assert entries(root) == stored  # nothing new to keep
    assert "SIG-EXAMPLE-VOLTAGE" in cold[0] and "REQ-GEN-1" in cold[0]


def test_tampered_or_foreign_entries_are_ignored(tmp_path: Path) -> None:
    root = repo_with_baselines(tmp_path / "r")
    cold = outputs(root)
    assert entries(root)
    # A payload its signature no longer covers.
    damage(root, lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]))
    assert outputs(root) == cold
    damage(root, lambda data: b"\0" * 40 + data[40:])  # a signature of nobody
    assert outputs(root) == cold


def test_new_content_is_a_new_entry(tmp_path: Path) -> None:
    root = repo_with_baselines(tmp_path / "r")
    outputs(root)
    before = set(entries(root))
    edit(root, MESSAGES, "        max: 800\n", "        max: 700\n")
    edit(root, GENERAL, "Each node shall periodically", "Each node shall always periodically")
    commit_all(root, "more")
    found = compare(root, NEW, "HEAD")
    assert {c.id for c in found.result.changes} == {"SIG-EXAMPLE-VOLTAGE", "REQ-GEN-1"}
    assert len(set(entries(root)) - before) == 2  # the two changed part files


def test_unwritable_cache_is_only_a_miss(tmp_path: Path) -> None:
    root = repo_with_baselines(tmp_path / "r")
    (root / ".stdkit-cache").mkdir(exist_ok=True)
    (root / ".stdkit-cache" / "diff").write_text("not a folder")
    cold = outputs(root)
    assert outputs(root) == cold


def test_a_file_both_sides_hold_is_built_once(tmp_path: Path) -> None:
    root = repo_with_baselines(tmp_path / "r")
    git = GitRepo(root)
    sources = [git.source(git.resolve(rev), None) for rev in (OLD, NEW)]
    shared: dict[tuple[object, ...], object] = {}
    store = ParsedBlobs.open(root)
    a, b = (load_repository(root, s, check=False, cache=SameBlobs(s, shared, store))
            for s in sources)
    old = {p.id: p for p in a.standards["rfia-0101"].parts}
    new = {p.id: p for p in b.standards["rfia-0101"].parts}
    same = [pid for pid in old if pid in new and old[pid] is new[pid]]
    assert same and "general" not in same and "messages" not in same
    assert old["general"] is not new["general"]
