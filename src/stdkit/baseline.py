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
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Any

from stdkit import __version__, stages, yamlio
from stdkit.diagnostics import Diagnostic, Severity
from stdkit.diff import (
    Change,
    DiffResult,
    Renumbered,
    change_of,
    change_state,
    diff_standards,
)
from stdkit.errors import EXIT_FINDINGS, RefusedError, StdkitError, UsageError
from stdkit.fsio import repository_lock, write_atomic
from stdkit.gcpause import collector_paused
from stdkit.gitrepo import (
    WORKTREE_LABEL,
    CommitInfo,
    GitRepo,
    GitSource,
    ParsedBlobs,
    Revision,
    SameBlobs,
    Selected,
    TagInfo,
    diagnostic_of,
    diagnostic_state,
)
from stdkit.loader import (
    META_FILE,
    STANDARD_ID,
    STANDARDS_DIR,
    DiskSource,
    Repository,
    Source,
    load_repository,
    load_standard,
)
from stdkit.model import Standard

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
    from stdkit.validate import validate_repository  # the rules: only a release needs them

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


# Below this many bytes of YAML to read, starting worker processes costs more than it saves.
PARALLEL_BYTES = 1_000_000


class _MetaOnly:
    """A loader cache that reads ``standard.yaml`` files only: enough to learn which folder
    holds which standard (part files read as empty, and are never parsed)."""

    def document(self, file: str, max_bytes: int,
                 read: Callable[[], yamlio.Document]) -> yamlio.Document:
        return read() if file.endswith(f"/{META_FILE}") else yamlio.Document(file)

    def schema(self, doc: yamlio.Document, kind: str,
               check: Callable[[], list[Diagnostic]]) -> list[Diagnostic]:
        return check()


@dataclass(slots=True)
class _Side:
    """One revision as the diff reads it: settings first, then one standard at a time."""

    revision: Revision
    source: Source
    repo: Repository  # the settings; each standard is read into it, then let go
    head: list[Diagnostic]  # what reading the settings (and finding standards/) gave
    folders: list[str]  # the folders the loader reads, in its order
    owners: dict[str, str]  # standard id -> the folder it is read from (the first holding it)

    def tree(self, folder: str) -> str | None:
        """The tree id of a standard's folder (None in the working tree)."""
        base = self.source.base if isinstance(self.source, Selected) else self.source
        return base.tree_oid(f"{STANDARDS_DIR}/{folder}") if isinstance(base, GitSource) \
            else None

    def size(self, folder: str) -> int:
        base = self.source.base if isinstance(self.source, Selected) else self.source
        if isinstance(base, GitSource):
            return base.size(f"{STANDARDS_DIR}/{folder}")
        return _folder_bytes(self.repo.root / STANDARDS_DIR / folder)


def _side(root: Path, git: GitRepo, revision: Revision, standard: str | None) -> _Side:
    """Settings and the folder of every standard of a revision (only standard.yaml is read)."""
    base: Source = DiskSource(root) if revision.commit is None \
        else GitSource(git, revision.commit, by_folder=True)
    source: Source = base if standard is None else Selected(base, {standard})
    repo = load_repository(root, source, check=False, cache=_MetaOnly())
    # The folders the loader walks, as load_repository walks them.
    folders: list[str] = []
    if source.is_dir(STANDARDS_DIR) and not source.escapes(STANDARDS_DIR):
        folders = [n for n in source.listdir(STANDARDS_DIR)
                   if not n.startswith(".") and source.is_dir(f"{STANDARDS_DIR}/{n}")]
    # Findings of the folders come again when each is read in full; keep the others.
    head = [d for d in repo.diagnostics if not d.file.startswith(f"{STANDARDS_DIR}/")]
    owners = dict(repo.folders)
    repo.standards, repo.folders, repo.documents, repo.diagnostics = {}, {}, {}, []
    repo.cache = None
    return _Side(revision, source, repo, head, folders, owners)


@dataclass(frozen=True, slots=True)
class _Unit:
    """A piece of a comparison: one standard on both sides, or folders read for their
    problems only (``sid`` None: no standard, or another folder has the same standard id)."""

    sid: str | None
    old: str | None
    new: str | None
    weight: int


@dataclass(slots=True)
class _Outcome:
    """What a unit found: its changes and the problems of the folders it read."""

    changes: list[Change]
    renumbered: list[Renumbered]
    problems: list[tuple[int, str, list[Diagnostic]]]  # (side, folder, findings)
    models: tuple[Standard | None, Standard | None]
    used: set[str]  # cache entries read or written
    wrote: bool  # whether new cache entries were written


def _units(sides: tuple[_Side, _Side], standard: str | None) -> list[_Unit]:
    """What has to be read: standards that may differ, and folders whose problems count."""
    old, new = sides
    both = old.revision.commit is not None and new.revision.commit is not None
    same_settings = both and old.repo.settings == new.repo.settings
    units: list[_Unit] = []

    def unchanged(a: str | None, b: str | None) -> bool:
        # Identical folders (one tree id) under identical settings give identical models.
        return same_settings and a is not None and a == b and old.tree(a) is not None \
            and old.tree(a) == new.tree(b)

    for sid in sorted(set(old.owners) | set(new.owners)):
        if standard is not None and sid != standard:
            continue
        a, b = old.owners.get(sid), new.owners.get(sid)
        if standard is None and unchanged(a, b):
            continue
        units.append(_Unit(sid, a, b, (old.size(a) if a else 0) + (new.size(b) if b else 0)))
    # Folders holding no standard, or one whose id an earlier folder has: read only for their
    # problems, as the loader reads them, unless the folder is the same on both sides.
    for i, side in enumerate(sides):
        owned = set(side.owners.values())
        other = sides[1 - i]
        for folder in side.folders:
            if folder in owned or (standard is None and unchanged(
                    *((folder, folder) if folder in other.folders else (folder, None)))):
                continue
            units.append(_Unit(None, folder if i == 0 else None, folder if i == 1 else None,
                               side.size(folder)))
    return units


_TASK: dict[str, Any] = {}


def _run_unit(unit: _Unit, sides: tuple[_Side, _Side], store: ParsedBlobs | None,
              models: bool) -> _Outcome:
    """Read one unit's folders on both sides, diff its standard, and let the models go."""
    # Documents, models and changes are trees without cycles, freed by reference counting
    # when the unit is done: the collector would only walk them again and again. It comes back
    # once they are gone (a collection now would walk everything the unit read).
    with collector_paused():
        return _read_and_diff(unit, sides, store, models)


def _unit_key(unit: _Unit, sides: tuple[_Side, _Side]) -> tuple[str, ...] | None:
    """What a unit's outcome depends on, when both its sides are git trees: the standard, each
    folder's name and tree id, and the settings (None: a side is the working tree)."""
    key = ["diff-unit", unit.sid or ""]
    for side, folder in zip(sides, (unit.old, unit.new), strict=True):
        tree = side.tree(folder) if folder is not None else "-"
        if tree is None:
            return None
        key += [folder or "-", tree, repr(side.repo.settings)]
    return tuple(key)


def _kept(unit: _Unit, sides: tuple[_Side, _Side], store: ParsedBlobs) -> _Outcome | None:
    """The outcome of an earlier comparison of the same two trees, if one was kept."""
    key = _unit_key(unit, sides)
    store.used = set()
    kept = store.value(key) if key is not None else None
    if not isinstance(kept, tuple) or len(kept) != 3:
        return None
    try:
        return _Outcome([change_of(c) for c in kept[0]], [Renumbered(*r) for r in kept[1]],
                        [(i, f, [diagnostic_of(d) for d in ds]) for i, f, ds in kept[2]],
                        (None, None), set(store.used), False)
    except (TypeError, ValueError):
        return None  # not the shape this stdkit writes: read the standard again


def _read_and_diff(unit: _Unit, sides: tuple[_Side, _Side], store: ParsedBlobs | None,
                   models: bool) -> _Outcome:
    if store is not None:
        store.used, store.wrote = set(), False
    # Outcomes are kept by the runs that can use them again: those that keep no models.
    key = _unit_key(unit, sides) if store is not None and not models else None
    shared: dict[tuple[Any, ...], Any] = {}  # documents and parts both revisions hold
    found: list[Standard | None] = [None, None]
    problems: list[tuple[int, str, list[Diagnostic]]] = []
    for i, (side, folder) in enumerate(zip(sides, (unit.old, unit.new), strict=True)):
        if folder is None:
            continue
        repo = side.repo
        repo.cache = SameBlobs(side.source, shared, store)
        try:
            std = load_standard(repo, folder, check=False)
        finally:
            problems.append((i, folder, repo.diagnostics))
            repo.cache, repo.documents, repo.diagnostics = None, {}, []
        if unit.sid is not None and std is not None and std.id == unit.sid:
            found[i] = std
    changes: list[Change] = []
    renumbered: list[Renumbered] = []
    if unit.sid is not None:
        changes, renumbered = diff_standards(found[0], found[1])
    if store is not None:
        if key is not None:
            store.keep(key, ([change_state(c) for c in changes],
                             [(r.standard, r.id, r.kind, r.old_number, r.new_number)
                              for r in renumbered],
                             [(i, f, [diagnostic_state(d) for d in ds]) for i, f, ds in problems]))
        store.close()
    return _Outcome(changes, renumbered, problems,
                    (found[0], found[1]) if models else (None, None),
                    set(store.used) if store is not None else set(),
                    store.wrote if store is not None else False)


def _unit_task(index: int) -> _Outcome:
    """A worker process's share: one unit (the sides were read before the fork)."""
    units: list[_Unit] = _TASK["units"]
    return _run_unit(units[index], _TASK["sides"], _TASK["store"], False)


def _jobs() -> int:
    value = os.environ.get("STDKIT_JOBS", "")
    if value.isdigit():
        return int(value)
    # fork() hands the sides read so far to the workers; only Linux forks safely here.
    return min(os.cpu_count() or 1, 4) if sys.platform == "linux" else 1


def _run_units(units: list[_Unit], sides: tuple[_Side, _Side], store: ParsedBlobs | None,
               models: bool) -> list[_Outcome]:
    """Every unit's outcome, in order: kept from an earlier run, or read and compared (in
    worker processes when there is enough to read)."""
    out: list[_Outcome | None] = [
        _kept(u, sides, store) if store is not None and not models else None for u in units]
    todo = [i for i, o in enumerate(out) if o is None]
    jobs = min(_jobs(), len(todo))
    if models or jobs < 2 or sum(units[i].weight for i in todo) < PARALLEL_BYTES:
        for i in todo:
            out[i] = _run_unit(units[i], sides, store, models)
        return [o for o in out if o is not None]
    import multiprocessing

    # Largest first, so that the processes finish together.
    order = sorted(todo, key=lambda i: -units[i].weight)
    _TASK.update(units=units, sides=sides, store=store)
    # Frozen objects are not walked by the collector in the workers, so the pages holding
    # what was read before the fork stay shared instead of being copied into each process.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            done = pool.map(_unit_task, order, chunksize=1)
    except (OSError, RuntimeError):
        done = [_run_unit(units[i], sides, store, models) for i in order]
    finally:
        gc.unfreeze()
        _TASK.clear()
    for i, outcome in zip(order, done, strict=True):
        out[i] = outcome
    return [o for o in out if o is not None]


def compare(
    root: Path, old: str | None = None, new: str | None = None, *, standard: str | None = None,
    models: bool = True, use_cache: bool = True,
) -> Comparison:
    """Diff two revisions (default: HEAD against the working tree), one standard or all.

    Standards are read and compared one at a time (in worker processes when there is enough
    to read), so memory holds the largest standard, not the repository. A standard whose
    folder is the same git tree in both commits, under the same settings, is not read at all.
    ``models`` keeps the models of the standards read (the redline needs them; text and JSON
    do not); ``use_cache`` reads and writes parsed blobs under ``.stdkit-cache/diff/``.
    """
    if standard is not None:
        _check_id(standard)
    git = GitRepo(root)
    # Both revisions are checked before anything is read, so a bad NEW costs nothing.
    old_rev = git.resolve(old if old is not None else "HEAD")
    new_rev = git.resolve(new) if new is not None else Revision(WORKTREE_LABEL, None)
    sides = (_side(root, git, old_rev, standard), _side(root, git, new_rev, standard))
    if standard is not None and all(standard not in s.owners for s in sides):
        raise UsageError(f"no standard {standard!r} in {old_rev.label} or {new_rev.label}")
    store = ParsedBlobs.open(root) if use_cache else None  # parsed blobs, by blob id
    units = _units(sides, standard)
    # Models and changes are trees with few cycles: collecting less often saves time.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    try:
        outcomes = _run_units(units, sides, store, models)
    finally:
        gc.set_threshold(*thresholds)
        for side in sides:
            base = side.source.base if isinstance(side.source, Selected) else side.source
            if isinstance(base, GitSource):
                base.close()
    if store is not None and any(o.wrote for o in outcomes):
        # Only a run that wrote can have made the folder too large.
        store.prune(set().union(*(o.used for o in outcomes)))
    changes: list[Change] = []
    renumbered: list[Renumbered] = []
    for o in outcomes:  # units of standards come first, by standard id: the diff's order
        changes += o.changes
        renumbered += o.renumbered
    result = DiffResult(old_rev.label, new_rev.label, tuple(changes), tuple(renumbered),
                        old_rev.commit, new_rev.commit)
    # Problems and models in the order the loader reads folders, old revision first.
    read: dict[tuple[int, str], list[Diagnostic]] = {}
    kept: dict[tuple[int, str], Standard] = {}
    for o in outcomes:
        for i, folder, found in o.problems:
            read[(i, folder)] = found
        for i, std in enumerate(o.models):
            if std is not None:
                kept[(i, sides[i].owners[std.id])] = std
    problems: list[tuple[str, Diagnostic]] = []
    stds: tuple[dict[str, Standard], dict[str, Standard]] = ({}, {})
    for i, side in enumerate(sides):
        found_here = list(side.head)
        for folder in side.folders:
            found_here += read.get((i, folder), [])
            std = kept.get((i, folder))
            if std is not None:
                stds[i][std.id] = std
        problems += [(side.revision.label, d) for d in found_here
                     if d.severity is Severity.ERROR]
    return Comparison(result, stds[0], stds[1], tuple(problems))


def _folder_bytes(folder: Path) -> int:
    try:
        with os.scandir(folder) as entries:
            return sum(e.stat(follow_symlinks=False).st_size for e in entries
                       if e.is_file(follow_symlinks=False))
    except OSError:
        return 0
