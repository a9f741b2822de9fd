"""Baselines: ``stdkit release`` records one, ``stdkit history`` lists them (DESIGN §7).

A baseline is a released (stage, revision) of one standard, kept in git as an annotated tag on
the commit whose ``standard.yaml`` carries that stage and revision. Tags are named

    <standard-id>/<stage>.<revision>          e.g. rfia-0101/draft-for-comment.2

so that ``git tag -l 'rfia-0101/*'`` lists one standard's baselines and a tag name never clashes
with another standard's. On the command line a baseline is named by its tag or by the short form
``rfia-0101@draft-for-comment.2``. The tag message records the stage, the revision, the date and
the version of stdkit that made it (docs/baselines.md).

Releasing holds the repository lock for its whole run and creates the tag in git's atomic ref
transaction, so two releases racing in one repository cannot both record the same baseline.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Any

from stdkit import __version__, stages, yamlio
from stdkit.diagnostics import Diagnostic, Severity
from stdkit.diff import DiffResult, diff
from stdkit.errors import EXIT_FINDINGS, RefusedError, StdkitError, UsageError
from stdkit.fsio import repository_lock, write_atomic
from stdkit.gitrepo import (
    WORKTREE_LABEL,
    CommitInfo,
    GitRepo,
    GitSource,
    ParsedBlobs,
    Revision,
    SameBlobs,
    TagInfo,
)
from stdkit.loader import (
    META_FILE,
    STANDARD_ID,
    STANDARDS_DIR,
    Repository,
    Source,
    load_repository,
)
from stdkit.model import Standard
from stdkit.validate import validate_repository

STRICT_FROM = "draft-for-review"  # from this stage on, warnings also block a release
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIELD = re.compile(r"^(stage|revision|date): *(.+?) *$", re.M)


def tag_name(standard_id: str, stage: str, revision: int) -> str:
    """The tag of a baseline: ``<id>/<stage>.<revision>``."""
    return f"{standard_id}/{stage}.{revision}"


def short_name(standard_id: str, stage: str, revision: int) -> str:
    """The short form of a baseline: ``<id>@<stage>.<revision>``."""
    return f"{standard_id}@{stage}.{revision}"


def parse_tag(standard_id: str, name: str) -> tuple[str, int] | None:
    """(stage, revision) of a baseline tag of ``standard_id`` (None for any other tag)."""
    head, sep, rest = name.partition("/")
    stage, dot, number = rest.rpartition(".")
    if head != standard_id or not sep or not dot or stages.stages().get(stage) is None:
        return None
    if not number.isdigit() or number.startswith("0"):
        return None
    return stage, int(number)


@dataclass(frozen=True, slots=True)
class Baseline:
    """One released (stage, revision) of a standard."""

    standard: str
    tag: str
    stage: str
    revision: int
    date: str
    commit: str

    @property
    def short(self) -> str:
        return short_name(self.standard, self.stage, self.revision)

    def as_json(self) -> dict[str, object]:
        return {"tag": self.tag, "stage": self.stage, "revision": self.revision,
                "date": self.date, "commit": self.commit}


@dataclass(frozen=True, slots=True)
class History:
    """The baselines of a standard, oldest first, and the commits since the last one."""

    standard: str
    baselines: tuple[Baseline, ...]
    since: tuple[CommitInfo, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "standard": self.standard,
            "baselines": [b.as_json() for b in self.baselines],
            "commits_since": [{"commit": c.commit, "date": c.date, "author": c.author,
                               "subject": c.subject} for c in self.since],
        }


@dataclass(frozen=True, slots=True)
class Released:
    """What a release did."""

    standard: str
    tag: str
    stage: str
    revision: int
    date: str
    commit: str
    committed: bool
    previous: str | None


class ReleaseRefused(StdkitError):
    """A release refused because of the draft's findings; carries them for the report."""

    exit_code = EXIT_FINDINGS

    def __init__(self, message: str, diagnostics: list[Diagnostic]) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


def _check_id(standard_id: str) -> None:
    if not STANDARD_ID.fullmatch(standard_id):
        raise UsageError(f"{standard_id!r} is not a valid standard id (e.g. rfia-0101)")


def _order(stage: str) -> int:
    entry = stages.stages().get(stage)
    return entry.order if entry is not None else -1


def _baseline(standard_id: str, tag: TagInfo) -> Baseline | None:
    parsed = parse_tag(standard_id, tag.name)
    if parsed is None:
        return None
    recorded = dict(_FIELD.findall(tag.message))
    day = recorded.get("date", "")
    return Baseline(standard_id, tag.name, parsed[0], parsed[1],
                    day if _DATE.fullmatch(day) else tag.date, tag.commit)


def baselines(git: GitRepo, standard_id: str) -> list[Baseline]:
    """The baselines of a standard, oldest first (stage order, then revision)."""
    _check_id(standard_id)
    found = [b for t in git.tags(standard_id) if (b := _baseline(standard_id, t)) is not None]
    return sorted(found, key=lambda b: (_order(b.stage), b.revision))


def history(root: Path, standard_id: str) -> History:
    """The baselines of a standard and the commits that touched it since the last one."""
    git = GitRepo(root)
    found = baselines(git, standard_id)
    since = git.log(found[-1].commit if found else None, f"{STANDARDS_DIR}/{standard_id}")
    return History(standard_id, tuple(found), tuple(since))


# -- editing standard.yaml in place ---------------------------------------------------------


def set_fields(text: str, file: str, values: dict[str, str | int]) -> str:
    """``text`` with top-level scalar fields replaced where they are written (comments kept)."""
    for key, value in values.items():
        doc = yamlio.parse(text, file)
        if not isinstance(doc.data, dict) or doc.diagnostics:
            raise StdkitError(f"cannot update {file}: it does not read as a YAML mapping")
        new = str(value)
        if key not in doc.data:
            sep = "" if text.endswith("\n") or not text else "\n"
            shown = f'"{new}"' if isinstance(value, str) and key == "date" else new
            text = f"{text}{sep}{key}: {shown}\n"
            continue
        if isinstance(doc.data[key], (dict, list)):
            raise StdkitError(f"cannot update {file}: {key} is not a single value")
        line, col = doc.at((key,))
        lines = text.splitlines(keepends=True)
        row = lines[line - 1]
        start = col - 1
        end = _scalar_end(row, start)
        quote = row[start] if row[start] in "'\"" else ""
        lines[line - 1] = f"{row[:start]}{quote}{new}{quote}{row[end:]}"
        text = "".join(lines)
    doc = yamlio.parse(text, file)
    if not isinstance(doc.data, dict) or any(doc.data.get(k) != v for k, v in values.items()):
        raise StdkitError(f"cannot update {file} in place; set {', '.join(values)} by hand")
    return text


def _scalar_end(row: str, start: int) -> int:
    """Where the scalar starting at ``row[start]`` ends (a quoted one: after its quote)."""
    quote = row[start] if start < len(row) else ""
    if quote in ("'", '"'):
        i = start + 1
        while i < len(row):
            if quote == '"' and row[i] == "\\":
                i += 2
                continue
            if row[i] == quote:
                if quote == "'" and row[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        return len(row.rstrip("\r\n"))
    end = len(row.rstrip("\r\n"))
    for stop in (" #", "\t#", ",", "]", "}"):
        at = row.find(stop, start)
        if 0 <= at < end:
            end = at
    return len(row[:end].rstrip())


class _Overlay:
    """A source with some files replaced (the edited standard.yaml, before it is written)."""

    def __init__(self, base: Source, files: dict[str, bytes]) -> None:
        self.base, self.files = base, files

    def is_dir(self, rel: str) -> bool:
        return self.base.is_dir(rel)

    def is_file(self, rel: str) -> bool:
        return rel in self.files or self.base.is_file(rel)

    def listdir(self, rel: str) -> list[str]:
        return self.base.listdir(rel)

    def escapes(self, rel: str) -> bool:
        return self.base.escapes(rel)

    def read(self, rel: str, max_bytes: int) -> bytes:
        data = self.files.get(rel)
        return data[: max_bytes + 1] if data is not None else self.base.read(rel, max_bytes)


# -- release --------------------------------------------------------------------------------


def release(
    root: Path, standard_id: str, *, stage: str | None = None, today: str | None = None,
) -> Released:
    """Record a baseline of a standard (DESIGN §7); refuses rather than record a bad one."""
    _check_id(standard_id)
    if stage is not None and stages.stages().get(stage) is None:
        raise UsageError(f"unknown stage {stage!r}; the stages are "
                         f"{', '.join(stages.stages())}")
    day = today or Date.today().isoformat()
    if not _DATE.fullmatch(day):
        raise UsageError(f"--date {day!r} is not YYYY-MM-DD")
    git = GitRepo(root)
    folder = f"{STANDARDS_DIR}/{standard_id}"
    meta = f"{folder}/{META_FILE}"
    with repository_lock(root):
        head = git.head()
        if head is None:
            raise UsageError(f"the repository has no commits yet; commit {folder} first")
        dirty = git.dirty(folder)
        if dirty:
            shown = ", ".join(dirty[:3]) + (" …" if len(dirty) > 3 else "")
            raise RefusedError(
                f"refused: {folder} has uncommitted changes ({shown}); commit them first, so"
                " that the baseline records them"
            )
        source = GitSource(git, head)
        repo = load_repository(root, source)
        std = repo.standards.get(standard_id)
        if std is None or repo.folders.get(standard_id) != standard_id:
            raise UsageError(f"no standard {standard_id!r} in the last commit ({meta})")
        current, revision = std.stage or "", std.revision
        if stages.stages().get(current) is None or revision is None or revision < 1:
            _refuse_findings(repo, standard_id, current or STRICT_FROM,
                             f"refused: {meta} needs a valid stage and revision")
        assert revision is not None
        existing = baselines(git, standard_id)
        latest = existing[-1] if existing else None
        if latest is not None and _order(current) < _order(latest.stage):
            raise RefusedError(
                f"refused: {meta} says stage {current}, but the baseline {latest.tag} is already"
                f" at {latest.stage}; stages only move forward"
            )
        if stage is not None and _order(stage) < _order(current):
            raise RefusedError(
                f"refused: {standard_id} is at {current}; stages only move forward and {stage}"
                " comes before it"
            )
        tags = {b.tag for b in existing}
        edit: dict[str, str | int] = {}
        if stage is not None and stage != current:
            target = (stage, 1)
            edit = {"stage": stage, "revision": 1, "date": day}
        elif tag_name(standard_id, current, revision) not in tags:
            target = (current, revision)
        else:
            if latest is not None and git.tree_id(head, folder) == git.tree_id(
                    latest.commit, folder):
                raise RefusedError(
                    f"refused: nothing in {folder} has changed since {latest.tag}; edit and"
                    " commit first, or move to a later stage with --stage"
                )
            target = (current, revision + 1)
            edit = {"revision": revision + 1, "date": day}
        tag = tag_name(standard_id, *target)
        if tag in tags or git.commit_of(f"refs/tags/{tag}") is not None:
            raise RefusedError(f"refused: the baseline {tag} already exists")

        check: Source = source
        old_text = new_text = ""
        if edit:
            old_text = source.read(meta, repo.settings.max_file_bytes).decode("utf-8")
            new_text = set_fields(old_text, meta, edit)
            check = _Overlay(source, {meta: new_text.encode("utf-8")})
            repo = load_repository(root, check)
        _refuse_findings(repo, standard_id, target[0], f"refused: {standard_id} is not ready"
                         f" for {short_name(standard_id, *target)}")

        entry = stages.stages().get(target[0])
        zh = f" ({entry.name('zh')})" if entry else ""
        body = (f"standard: {standard_id}\nstage: {target[0]}\nrevision: {target[1]}\n"
                f"date: {edit.get('date', std.date or day)}\ntool: stdkit {__version__}\n")
        commit = head
        if edit:
            path = root / meta
            mode = path.stat().st_mode & 0o7777
            write_atomic(path, new_text)
            path.chmod(mode)
            try:
                commit = git.commit_file(
                    meta, f"{standard_id}: {target[0]}.{target[1]}{zh}\n\n{body}")
            except BaseException:
                write_atomic(path, old_text)  # leave the work tree as it was found
                path.chmod(mode)
                raise
        git.create_tag(tag, commit, f"{short_name(standard_id, *target)}{zh}\n\n{body}")
        return Released(standard_id, tag, target[0], target[1],
                        str(edit.get("date", std.date or "")), commit, bool(edit),
                        latest.short if latest else None)


def _refuse_findings(repo: Repository, standard_id: str, stage: str, message: str) -> None:
    """Raise ReleaseRefused if the draft has errors (or, from STRICT_FROM on, warnings)."""
    report = validate_repository(repo, {standard_id})
    strict = _order(stage) >= _order(STRICT_FROM)
    blocking = [d for d in report.diagnostics if d.severity is Severity.ERROR
                or (strict and d.severity is Severity.WARNING)]
    if blocking:
        errors = sum(1 for d in blocking if d.severity is Severity.ERROR)
        warnings = len(blocking) - errors
        what = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
        if warnings:
            what.append(f"{warnings} warning{'s' if warnings != 1 else ''}"
                        f" (none are allowed from {STRICT_FROM} on)")
        raise ReleaseRefused(f"{message}: {' and '.join(what)}; nothing was released", blocking)


# -- comparing two revisions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """A diff with the two sides it was made from (the redline renders them)."""

    result: DiffResult
    old: dict[str, Standard]
    new: dict[str, Standard]
    problems: tuple[tuple[str, Diagnostic], ...]


def compare(
    root: Path, old: str | None = None, new: str | None = None, *, standard: str | None = None,
) -> Comparison:
    """Diff two revisions (default: HEAD against the working tree), one standard or all."""
    if standard is not None:
        _check_id(standard)
    git = GitRepo(root)
    # Both revisions are checked before anything is read, so a bad NEW costs nothing.
    old_rev = git.resolve(old if old is not None else "HEAD")
    new_rev = git.resolve(new) if new is not None else Revision(WORKTREE_LABEL, None)
    folders: set[str] | None = {standard} if standard is not None else None
    if folders is None and old_rev.commit is not None and new_rev.commit is not None:
        # A standard whose folder is the same object in both commits has no changes to read.
        folders = git.changed_standards(old_rev.commit, new_rev.commit)
    shared: dict[tuple[Any, ...], Any] = {}
    store = ParsedBlobs.open(root)  # parsed blobs kept across runs, by blob id
    sources = git.source(old_rev, folders), git.source(new_rev, folders)
    # Models and changes are trees with few cycles: collecting less often saves time.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    try:
        a, b = (load_repository(root, s, check=False, cache=SameBlobs(s, shared, store))
                for s in sources)
        if store is not None:
            store.close()
        if standard is not None and standard not in a.standards and standard not in b.standards:
            raise UsageError(f"no standard {standard!r} in {old_rev.label} or {new_rev.label}")
        result = diff(a.standards, b.standards, old_label=old_rev.label,
                      new_label=new_rev.label, only=standard, old_commit=old_rev.commit,
                      new_commit=new_rev.commit)
    finally:
        gc.set_threshold(*thresholds)
    problems = tuple((rev.label, d) for rev, repo in ((old_rev, a), (new_rev, b))
                     for d in repo.diagnostics if d.severity is Severity.ERROR)
    return Comparison(result, dict(a.standards), dict(b.standards), problems)
