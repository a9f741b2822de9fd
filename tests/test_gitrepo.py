"""The git module: revisions checked before git sees them, files read from objects in one batch."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from stdkit.errors import UsageError
from stdkit.gitrepo import GitRepo, GitSource, Revision, baseline_tag, check_revision
from stdkit.loader import load_repository
from stdkit.scaffold import init_repository, new_standard

HOSTILE = ["--output=/tmp/x", "-p", "HEAD;rm -rf .", "../../etc", "HEAD..main", "a b", "",
           "HEAD:standards", "$(touch x)", "`id`", "HEAD|cat", "rev\nHEAD", "main^{/x}..HEAD"]


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` with a fixed identity and no user or system configuration."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_DATE": "2026-11-20T10:00:00Z", "GIT_COMMITTER_DATE": "2026-11-20T10:00:00Z"}
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


def make_repo(root: Path, standard_id: str = "rfia-0101", *, zh: bool = True) -> Path:
    """A standards repository in git: init, one new bilingual draft, one commit."""
    init_repository(root, prefix="T/RFIA")
    new_standard(root, "interface", standard_id, title_en="Battery status messages",
                 title_zh="电池状态报文" if zh else None, today="2026-11-20")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Drafter")
    git(root, "config", "user.email", "drafter@example.org")
    git(root, "config", "commit.gpgsign", "false")
    commit_all(root, "new draft")
    return root


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_revisions_are_refused_before_git(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_revision(text)
    assert "\n" not in caught.value.message.replace(repr(text), "")


@pytest.mark.parametrize("text", ["HEAD", "HEAD~2", "main^", "v1.0", "@", "HEAD@{1}",
                                  "rfia-0101/draft-for-comment.2", "0123abc",
                                  "rfia-0101@working-draft.1"])
def test_ordinary_revisions_pass_the_check(text: str) -> None:
    assert check_revision(text) == text


def test_baseline_short_form() -> None:
    assert baseline_tag("rfia-0101@draft-for-comment.2") == "rfia-0101/draft-for-comment.2"
    assert baseline_tag("rfia-0101@nonsense.2") is None
    assert baseline_tag("rfia-0101@working-draft.0") is None
    assert baseline_tag("HEAD@{1}") is None


def test_not_a_git_repository(tmp_path: Path) -> None:
    init_repository(tmp_path / "plain")
    with pytest.raises(UsageError, match="not inside a git repository"):
        GitRepo(tmp_path / "plain")


def test_resolve(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    repo = GitRepo(root)
    head = repo.resolve("HEAD")
    assert head.commit == git(root, "rev-parse", "HEAD").strip()
    assert len(head.commit or "") == 40
    with pytest.raises(UsageError, match="unknown revision 'nosuchtag'"):
        repo.resolve("nosuchtag")
    with pytest.raises(UsageError, match="unknown baseline"):
        repo.resolve("rfia-0101@working-draft.7")
    # a tree or blob is not a commit
    tree = git(root, "rev-parse", "HEAD^{tree}").strip()
    with pytest.raises(UsageError):
        repo.resolve(tree)


def test_git_source_reads_what_the_working_tree_holds(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    repo = GitRepo(root)
    from_git = load_repository(root, repo.source(repo.resolve("HEAD")))
    from_disk = load_repository(root)
    assert from_git.standards == from_disk.standards
    assert [d.code for d in from_git.diagnostics] == [d.code for d in from_disk.diagnostics]


def test_blobs_are_read_in_one_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "r")
    new_standard(root, "maturity", "rfia-0301", title_en="Maturity", today="2026-11-20")
    commit_all(root, "second standard")
    repo = GitRepo(root)
    calls: list[int] = []
    real = GitRepo.blobs

    def counting(self: GitRepo, oids: list[str]) -> dict[str, bytes]:
        calls.append(len(oids))
        return real(self, oids)

    monkeypatch.setattr(GitRepo, "blobs", counting)
    loaded = load_repository(root, GitSource(repo, repo.resolve("HEAD").commit or ""))
    assert set(loaded.standards) == {"rfia-0101", "rfia-0301"}
    assert len(calls) == 1 and calls[0] >= 10


def test_an_old_revision_is_read_without_touching_the_work_tree(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    first = git(root, "rev-parse", "HEAD").strip()
    edit(root, "standards/rfia-0101/scope.yaml", "本文件规定了", "本文件规定了新的")
    commit_all(root, "edit")
    edit(root, "standards/rfia-0101/scope.yaml", "本文件规定了新的", "本文件规定了更新的")
    before = git(root, "status", "--porcelain")
    repo = GitRepo(root)
    old = load_repository(root, repo.source(Revision("first", first)))
    scope = old.standards["rfia-0101"].parts[1]
    assert "新的" not in (scope.text.values["zh"] if scope.text else "")
    assert git(root, "status", "--porcelain") == before
    assert git(root, "rev-parse", "HEAD").strip() != first


def test_a_symlink_in_the_tree_is_refused_unread(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: scope\ntype: scope\ntext: SECRET-CONTENT\n", encoding="utf-8")
    scope = root / "standards/rfia-0101/scope.yaml"
    scope.unlink()
    scope.symlink_to(secret)
    commit_all(root, "a link")
    repo = GitRepo(root)
    loaded = load_repository(root, repo.source(repo.resolve("HEAD")))
    found = [d for d in loaded.diagnostics if d.file.endswith("scope.yaml")]
    assert [d.code for d in found] == ["FILE002"]
    assert "SECRET" not in repr(loaded.standards)
    source = GitSource(repo, repo.resolve("HEAD").commit or "")
    assert source.escapes("standards/rfia-0101/scope.yaml")
    with pytest.raises(OSError):
        source.read("standards/rfia-0101/scope.yaml", 1000)


def test_a_standards_repository_in_a_subfolder(tmp_path: Path) -> None:
    top = tmp_path / "top"
    top.mkdir()
    git(top, "init", "-q")
    git(top, "config", "user.name", "T")
    git(top, "config", "user.email", "t@example.org")
    (top / "README").write_text("x\n")
    sub = top / "drafts"
    init_repository(sub)
    new_standard(sub, "interface", "rfia-0101", title_en="Sub", today="2026-11-20")
    commit_all(top, "drafts")
    repo = GitRepo(sub)
    assert repo.prefix == "drafts/"
    loaded = load_repository(sub, repo.source(repo.resolve("HEAD")))
    assert set(loaded.standards) == {"rfia-0101"}
    assert loaded.standards == load_repository(sub).standards


def test_changed_standards(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    new_standard(root, "maturity", "rfia-0301", title_en="Maturity", today="2026-11-20")
    first = commit_all(root, "second standard")
    edit(root, "standards/rfia-0301/scope.yaml", "This document specifies", "This document sets")
    second = commit_all(root, "edit one")
    repo = GitRepo(root)
    assert repo.changed_standards(first, second) == {"rfia-0301"}
    assert repo.changed_standards(first, first) == set()
    edit(root, "stdkit.yaml", "rules: {}", "rules: {DR001: warning}")
    third = commit_all(root, "settings")
    assert repo.changed_standards(second, third) is None
