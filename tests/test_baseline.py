"""Baselines: release (and every reason it refuses), history, the tag scheme, races."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from stdkit import __version__
from stdkit.baseline import (
    ReleaseRefused,
    history,
    parse_tag,
    release,
    set_fields,
    short_name,
    tag_name,
)
from stdkit.errors import StdkitError, UsageError
from stdkit.rules import catalogue
from tests.test_gitrepo import commit_all, edit, git, make_repo

META = "standards/rfia-0101/standard.yaml"
GENERAL = "standards/rfia-0101/general.yaml"


def tags(root: Path) -> list[str]:
    return git(root, "tag", "-l").split()


def test_tag_scheme() -> None:
    assert tag_name("rfia-0101", "draft-for-comment", 2) == "rfia-0101/draft-for-comment.2"
    assert short_name("rfia-0101", "draft-for-comment", 2) == "rfia-0101@draft-for-comment.2"
    assert parse_tag("rfia-0101", "rfia-0101/draft-for-comment.2") == ("draft-for-comment", 2)
    for other in ("rfia-0102/working-draft.1", "rfia-0101/unknown.1", "rfia-0101/working-draft",
                  "rfia-0101/working-draft.01", "v1.0"):
        assert parse_tag("rfia-0101", other) is None


def test_set_fields_edits_in_place() -> None:
    text = ("# The standard's metadata\nid: x   # the id\nstage: working-draft  # where it is\n"
            "revision: 3 # third pass\nedition: 1\ndate: '2026-01-02'  # keep the quotes\n"
            "parts: [a, b]\n")
    out = set_fields(text, "standard.yaml", {"revision": 4, "date": "2026-02-03"})
    assert out == text.replace("revision: 3 #", "revision: 4 #").replace(
        "'2026-01-02'", "'2026-02-03'")
    out = set_fields(text, "standard.yaml", {"stage": "draft-for-comment", "revision": 1})
    assert "stage: draft-for-comment  # where it is\nrevision: 1 # third pass\n" in out
    plain = set_fields("revision: 1\ndate: 2026-01-02\n", "s.yaml", {"date": "2026-03-04"})
    assert plain == "revision: 1\ndate: 2026-03-04\n"
    added = set_fields("revision: 1\n", "s.yaml", {"date": "2026-03-04"})
    assert added == 'revision: 1\ndate: "2026-03-04"\n'
    with pytest.raises(StdkitError):
        set_fields("revision: [1]\n", "s.yaml", {"revision": 2})


def three_baselines(root: Path) -> Path:
    """A repository with baselines working-draft.1, .2 and .3, edits between them."""
    make_repo(root)
    release(root, "rfia-0101", today="2026-11-20")
    edit(root, GENERAL, "的规定发送报文", "的规定周期性地发送报文")
    commit_all(root, "periodic")
    release(root, "rfia-0101", today="2026-11-27")
    edit(root, GENERAL, "Each node shall transmit", "Each node shall periodically transmit")
    commit_all(root, "periodic (en)")
    release(root, "rfia-0101", today="2026-12-04")
    return root


def test_three_releases_and_history(tmp_path: Path) -> None:
    root = three_baselines(tmp_path / "r")
    assert tags(root) == [f"rfia-0101/working-draft.{n}" for n in (1, 2, 3)]
    meta = (root / META).read_text(encoding="utf-8")
    assert "revision: 3\n" in meta and "date: '2026-12-04'\n" in meta
    assert git(root, "status", "--porcelain") == ""
    found = history(root, "rfia-0101")
    doc = found.as_json()
    assert doc["standard"] == "rfia-0101"
    baselines: Any = doc["baselines"]
    assert [(b["tag"], b["stage"], b["revision"], b["date"]) for b in baselines] == [
        ("rfia-0101/working-draft.1", "working-draft", 1, "2026-11-20"),
        ("rfia-0101/working-draft.2", "working-draft", 2, "2026-11-27"),
        ("rfia-0101/working-draft.3", "working-draft", 3, "2026-12-04"),
    ]
    for b in baselines:
        assert set(b) == {"tag", "stage", "revision", "date", "commit"}
        assert b["commit"] == git(root, "rev-list", "-n1", b["tag"]).strip()
    assert found.since == ()
    edit(root, GENERAL, "周期性地", "周期地")
    commit_all(root, "after the baseline")
    assert [c.subject for c in history(root, "rfia-0101").since] == ["after the baseline"]


def test_the_tag_records_stage_revision_and_tool(tmp_path: Path) -> None:
    root = three_baselines(tmp_path / "r")
    body = git(root, "tag", "-l", "--format=%(contents)", "rfia-0101/working-draft.2")
    assert "stage: working-draft\n" in body and "revision: 2\n" in body
    assert f"tool: stdkit {__version__}" in body and "date: 2026-11-27" in body
    subject = git(root, "log", "-1", "--format=%s", "rfia-0101/working-draft.2")
    assert subject.strip() == "rfia-0101: working-draft.2 (工作组讨论稿)"
    changed = git(root, "diff-tree", "--no-commit-id", "--name-only", "-r",
                  "rfia-0101/working-draft.2^{commit}").split()
    assert changed == [META]


def test_a_new_stage_restarts_the_revision(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    release(root, "rfia-0101", today="2026-11-20")
    edit(root, META, "edition: 1\n", "edition: 1\ncomment_deadline: '2027-01-31'\n"
         "drafting_units: [{zh: 衡远汽车, en: Hengyuan Automobile}]\n"
         "drafters: [{zh: 周立衡, en: ZHOU Liheng}]\n")
    commit_all(root, "cover data")
    done = release(root, "rfia-0101", stage="draft-for-comment", today="2026-12-01")
    assert (done.tag, done.stage, done.revision, done.committed) == (
        "rfia-0101/draft-for-comment.1", "draft-for-comment", 1, True)
    meta = (root / META).read_text(encoding="utf-8")
    assert "stage: draft-for-comment\nrevision: 1\n" in meta


def test_refused_with_uncommitted_changes(tmp_path: Path, invoke: Any) -> None:
    root = make_repo(tmp_path / "r")
    edit(root, GENERAL, "的规定发送报文", "的规定周期性地发送报文")
    result = invoke("release", "rfia-0101", cwd=root)
    assert result.exit_code == 2
    assert "uncommitted changes" in result.stderr and "general.yaml" in result.stderr
    git(root, "checkout", "--", GENERAL)
    (root / "standards/rfia-0101/extra.yaml").write_text("id: extra\n", encoding="utf-8")
    with pytest.raises(StdkitError, match="uncommitted"):
        release(root, "rfia-0101")
    assert tags(root) == []


def test_refused_with_validation_errors(tmp_path: Path, invoke: Any) -> None:
    root = make_repo(tmp_path / "r")
    edit(root, GENERAL, "kind: requirement", "kind: wish")
    commit_all(root, "broken")
    result = invoke("release", "rfia-0101", cwd=root)
    assert result.exit_code == 1
    assert "SCH001" in result.stderr and "not ready" in result.stderr
    assert tags(root) == []


def test_refused_with_warnings_from_draft_for_review(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    edit(root, META, "edition: 1\n", "edition: 1\ncomment_deadline: '2027-01-31'\n"
         "drafting_units: [{zh: 衡远汽车, en: Hengyuan Automobile}]\n"
         "drafters: [{zh: 周立衡, en: ZHOU Liheng}]\n")
    # a text in a language the standard does not declare: LANG002, a warning
    edit(root, GENERAL, "      en: Each node", "      fr: Chaque nœud émet.\n      en: Each node")
    commit_all(root, "a French sentence")
    done = release(root, "rfia-0101", stage="draft-for-comment", today="2026-12-01")
    assert done.tag == "rfia-0101/draft-for-comment.1"  # warnings allowed before review
    with pytest.raises(ReleaseRefused) as caught:
        release(root, "rfia-0101", stage="draft-for-review", today="2026-12-02")
    assert "warning" in caught.value.message
    assert any(d.code == "LANG002" for d in caught.value.diagnostics)
    assert "rfia-0101/draft-for-review.1" not in tags(root)
    assert "stage: draft-for-comment" in (root / META).read_text(encoding="utf-8")
    assert git(root, "status", "--porcelain") == ""


@pytest.mark.skipif("STG001" not in catalogue(), reason="stage demands not in the catalogue")
def test_refused_when_the_stage_demands_more(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    with pytest.raises(ReleaseRefused) as caught:
        release(root, "rfia-0101", stage="draft-for-comment")
    assert any(d.code.startswith("STG") for d in caught.value.diagnostics)
    assert tags(root) == []
    assert git(root, "status", "--porcelain") == ""


def test_refused_when_the_stage_goes_backwards(tmp_path: Path, invoke: Any) -> None:
    root = make_repo(tmp_path / "r")
    result = invoke("release", "rfia-0101", "--stage", "proposal", cwd=root)
    assert result.exit_code == 2
    assert "stages only move forward" in result.stderr
    release(root, "rfia-0101")
    edit(root, META, "stage: working-draft", "stage: preliminary")
    commit_all(root, "back")
    with pytest.raises(StdkitError, match="only move forward"):
        release(root, "rfia-0101")
    assert tags(root) == ["rfia-0101/working-draft.1"]


def test_refused_when_nothing_changed(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    release(root, "rfia-0101")
    with pytest.raises(StdkitError, match="nothing in standards/rfia-0101 has changed"):
        release(root, "rfia-0101")
    assert tags(root) == ["rfia-0101/working-draft.1"]


def test_refused_for_unknown_things(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    with pytest.raises(UsageError, match="unknown stage"):
        release(root, "rfia-0101", stage="final")
    with pytest.raises(UsageError, match="not a valid standard id"):
        release(root, "../etc")
    with pytest.raises(UsageError, match="no standard 'rfia-0999'"):
        release(root, "rfia-0999")


def test_a_failed_commit_leaves_the_work_tree_as_it_was(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    release(root, "rfia-0101")
    edit(root, GENERAL, "的规定发送报文", "的规定周期性地发送报文")
    commit_all(root, "edit")
    before = (root / META).read_text(encoding="utf-8")
    hook = root / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(StdkitError, match="git commit failed"):
        release(root, "rfia-0101")
    assert (root / META).read_text(encoding="utf-8") == before
    assert git(root, "status", "--porcelain") == ""
    assert tags(root) == ["rfia-0101/working-draft.1"]


def test_racing_releases_record_one_baseline(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    release(root, "rfia-0101")
    edit(root, GENERAL, "的规定发送报文", "的规定周期性地发送报文")
    commit_all(root, "edit")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(release(root, "rfia-0101", today="2026-12-01").tag)
        except StdkitError as exc:
            outcomes.append(f"refused: {exc.message}")

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refusals = [o for o in outcomes if o.startswith("refused")]
    assert len(refusals) == 3
    assert all("has changed since rfia-0101/working-draft.2" in o or "busy" in o
               for o in refusals)
    assert outcomes.count("rfia-0101/working-draft.2") == 1
    assert tags(root) == ["rfia-0101/working-draft.1", "rfia-0101/working-draft.2"]
    assert git(root, "log", "--format=%s").count("working-draft.2") == 1


def test_cli_release_and_history(tmp_path: Path, invoke: Any) -> None:
    root = make_repo(tmp_path / "r")
    result = invoke("release", "rfia-0101", cwd=root)
    assert result.exit_code == 0, result.output
    assert "tagged rfia-0101/working-draft.1" in result.stdout
    edit(root, GENERAL, "的规定发送报文", "的规定周期性地发送报文")
    commit_all(root, "edit")
    result = invoke("release", "rfia-0101", "--date", "2026-12-24", cwd=root)
    assert result.exit_code == 0, result.output
    assert "committed" in result.stdout and "working-draft revision 2" in result.stdout
    assert "next: stdkit diff rfia-0101@working-draft.1 rfia-0101@working-draft.2" \
        in result.stdout
    result = invoke("history", "rfia-0101", "--format", "json", cwd=root)
    doc = json.loads(result.stdout)
    assert [b["revision"] for b in doc["baselines"]] == [1, 2]
    assert doc["baselines"][1]["date"] == "2026-12-24"
    result = invoke("history", "rfia-0101", cwd=root)
    assert result.stdout.splitlines()[0].startswith("rfia-0101/working-draft.1 ")
    assert "no commits since rfia-0101/working-draft.2" in result.stdout
