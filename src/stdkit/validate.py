"""Validation: loading, schema and semantic rules, waivers and settings, as one report."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from stdkit.diagnostics import Diagnostic, Severity, Summary, sort_diagnostics
from stdkit.errors import UsageError
from stdkit.loader import (
    SETTINGS_FILE,
    STANDARDS_DIR,
    DiskSource,
    Repository,
    Settings,
    StandIn,
    load_repository,
)
from stdkit.model import (
    Obj,
    Origin,
    Reference,
    Standard,
)
from stdkit.rules import Context, catalogue, check_standard
from stdkit.rules.drafting import stage_gate

if TYPE_CHECKING:
    from stdkit.cache import IndexEntry, ValidationCache
    from stdkit.rules.facts import PartFacts


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of one validation run."""

    diagnostics: list[Diagnostic]
    summary: Summary
    repo: Repository
    # What ``collect`` (see validate_paths) made of each standard the run read whole, by id.
    collected: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.summary.errors == 0

    def failed(self, *, strict: bool = False) -> bool:
        return self.summary.errors > 0 or (strict and self.summary.warnings > 0)

    def for_standard(self, standard_id: str) -> list[Diagnostic]:
        folder = self.repo.folders.get(standard_id, standard_id)
        prefix = f"{STANDARDS_DIR}/{folder}/"
        return [d for d in self.diagnostics if d.file.startswith(prefix)]


def validate(root: Path, only: Iterable[str] | None = None) -> Report:
    """Validate the repository at ``root`` (or only the standards named in ``only``)."""
    repo = load_repository(root)
    return validate_repository(repo, only)


def select(repo: Repository, paths: Iterable[Path]) -> tuple[set[str] | None, set[str] | None]:
    """The standards (None: all) and files (None: all of theirs) that command-line paths name.

    A folder names whole standards (the repository or ``standards/``: all of them); a file
    narrows the report to that file.
    """
    root = repo.root.resolve()
    standards: set[str] = set()
    whole: set[str] = set()
    files: set[str] = set()
    everything = False
    for path in paths:
        path = path.resolve()
        if not path.is_relative_to(root):
            raise UsageError(f"{path} is outside the repository {root}")
        parts = path.relative_to(root).parts
        if len(parts) < 2 or parts[0] != STANDARDS_DIR:
            if path.is_dir():
                everything = True
            else:
                files.add("/".join(parts))
            continue
        folder = parts[1]
        ids = {sid for sid, f in repo.folders.items() if f == folder}
        known = ids or any(d.file.startswith(f"{STANDARDS_DIR}/{folder}") for d in repo.diagnostics)
        if not known:
            raise UsageError(f"no standard {folder!r} in {root}")
        found = ids or {folder}
        standards |= found
        if path.is_dir():
            whole |= found
        else:
            files.add("/".join(parts))
    chosen = None if everything or not standards else standards
    if not files or everything:
        return chosen, None
    prefixes = tuple(f"{STANDARDS_DIR}/{repo.folders.get(s, s)}/" for s in whole)
    return chosen, files | {f for f in repo.documents if prefixes and f.startswith(prefixes)}


def whole(root: Path, paths: Iterable[Path]) -> bool:
    """Whether command-line ``paths`` name the whole repository (what :func:`select` says)."""
    root = root.resolve()
    for path in paths:
        path = path.resolve()
        if not path.is_dir() or not path.is_relative_to(root):
            return False
        parts = path.relative_to(root).parts
        if len(parts) >= 2 and parts[0] == STANDARDS_DIR:
            return False
    return True


def validate_paths(root: Path, paths: Iterable[Path], *, use_cache: bool = True,
                   collect: Callable[[Standard], Any] | None = None) -> Report:
    """Validate what command-line ``paths`` name, through the cache unless ``use_cache`` is off.

    The report is the same with and without the cache (see :mod:`stdkit.cache`); a run over the
    whole repository is served whole when nothing at all changed since an earlier one.

    ``collect`` is run, in the processes that check them, on the standards the run reads
    whole (not those it serves from the cache), and its results are in ``Report.collected``
    (for ``render``, which would otherwise read every standard again for its first pass).
    """
    paths = list(paths)
    cache: ValidationCache | None = None
    if use_cache:
        from stdkit.cache import ValidationCache

        cache = ValidationCache.open(root)
    everything = whole(root, paths)
    if cache is not None and everything:
        hit = cache.report()
        if hit is not None:
            return Report(hit[0], hit[1], Repository(root=root, settings=Settings()))
    source = cache.source(DiskSource(root)) if cache is not None else None
    if cache is not None and everything:
        lazy = _validate_lazily(root, cache, collect)
        if lazy is not None:
            cache.store_report(lazy.diagnostics, lazy.summary)
            cache.close(prune=True)
            return lazy
    repo = load_repository(root, source, cache=cache)
    standards, files = select(repo, paths)
    report = validate_repository(repo, standards, files=files)
    if cache is not None:
        full = everything and standards is None and files is None
        if full:
            cache.store_report(report.diagnostics, report.summary)
        cache.close(prune=full)
    return report


def _validate_lazily(root: Path, cache: ValidationCache,
                     collect: Callable[[Standard], Any] | None = None) -> Report | None:
    """The whole-repository report, reading only the standards whose findings may have changed.

    Each standard's part of the report (its findings with waivers and settings applied, its
    waived findings and files) is cached; a standard is read and checked again when its files,
    the settings, the set of standards, or a standard its checks used has changed. Standards
    are checked one at a time, reading the standards they refer to as their checks ask for
    them and forgetting them afterwards, so memory holds a few standards, never the repository;
    with more than one to check, processes share the work. Only for repositories where every
    folder under standards/ holds a standard.yaml naming that folder (None otherwise: the
    caller reads everything the usual way).
    """
    repo = load_repository(root, cache.source(DiskSource(root)), cache=cache, standards=False)
    names = _regular_folders(repo)
    if names is None:
        return None
    parts: dict[str, tuple[list[Diagnostic], int, int]] = {}
    repo.folders = {name: name for name in names}
    for name in names:
        hit = cache.result(repo, name)
        if hit is not None:
            parts[name] = hit
    todo = [name for name in names if name not in parts]
    # Standards whose folder changed go first. Once they are checked, the cache holds their
    # index, and the standards checked again only because they refer to one of them answer
    # those lookups from it, without reading it again.
    changed = [name for name in todo if cache.index(repo, name) is None]
    collected: dict[str, Any] = {}
    for batch in (changed, [name for name in todo if name not in changed]):
        if batch:
            parts.update(_check_standards(root, cache, names, batch, collect, collected))
    repo.standards = _LazyStandards(repo, names)
    rest = validate_repository(repo, set())  # the settings' own findings
    found = [d for mine, _w, _f in parts.values() for d in mine] + rest.diagnostics
    diagnostics = sort_diagnostics(found)
    files = (1 if SETTINGS_FILE in repo.documents else 0) + sum(f for _d, _w, f in parts.values())
    summary = Summary.of(diagnostics, files=files, standards=len(names),
                         waived=sum(w for _d, w, _f in parts.values()))
    return Report(diagnostics, summary, repo, collected)


# Below this many bytes of YAML to check, starting processes costs more than it saves.
PARALLEL_BYTES = 1_000_000
_TASK: dict[str, Any] = {}


def _check_standards(
    root: Path, cache: ValidationCache, names: list[str], todo: list[str],
    collect: Callable[[Standard], Any] | None = None,
    collected: dict[str, Any] | None = None,
) -> dict[str, tuple[list[Diagnostic], int, int]]:
    """Each standard's part of the report, checked in parallel processes where it pays (and
    what ``collect`` made of each standard read whole, into ``collected``)."""
    weight = {name: _folder_bytes(root, name) for name in todo}
    jobs = min(_jobs(), len(todo))
    if jobs < 2 or sum(weight.values()) < PARALLEL_BYTES:
        return _check_chunk(root, cache, names, todo, collect=collect, collected=collected)
    # Neighbouring standards (which usually refer to each other) go to the same process, in
    # contiguous runs of about equal size: each to the process in whose share its middle
    # byte falls.
    chunks: list[list[str]] = [[] for _ in range(jobs)]
    total = sum(weight.values()) or 1
    done = 0.0
    for name in todo:
        chunks[min(jobs - 1, int((done + weight[name] / 2) * jobs / total))].append(name)
        done += weight[name]
    import gc
    import multiprocessing

    tasks = [c for c in chunks if c]
    context = multiprocessing.get_context("fork")
    # Every process checks its own standards first, and leaves a standard whose checks ask
    # about another process's standard (not yet indexed) until all have indexed theirs: see
    # _check_chunk.
    _TASK.update(root=root, cache=cache, names=names, barrier=context.Barrier(len(tasks)),
                 collect=collect)
    gc.freeze()
    try:
        with context.Pool(len(tasks)) as pool:
            results = pool.map(_check_task, tasks, chunksize=1)
    except (OSError, RuntimeError):
        return _check_chunk(root, cache, names, todo, collect=collect, collected=collected)
    finally:
        gc.unfreeze()
        _TASK.clear()
    out: dict[str, tuple[list[Diagnostic], int, int]] = {}
    for found, used, changed, made in results:
        out.update(found)
        cache.merge(used, changed)
        if collected is not None:
            collected.update(made)
    return out


def _check_task(
    chunk: list[str],
) -> tuple[dict[str, tuple[list[Diagnostic], int, int]], set[str], bool, dict[str, Any]]:
    """A worker process's share: check ``chunk``, write its cache entries, report back."""
    cache: ValidationCache = _TASK["cache"]
    collected: dict[str, Any] = {}
    found = _check_chunk(_TASK["root"], cache, _TASK["names"], chunk, _TASK["barrier"],
                         collect=_TASK["collect"], collected=collected)
    return found, cache.flush(), cache.changed, collected


# How long a process waits for the others to index their standards before it reads the
# standards it needs itself (a process that died, a machine far too busy).
BARRIER_SECONDS = 300.0


def _check_chunk(
    root: Path, cache: ValidationCache, names: list[str], chunk: list[str],
    barrier: threading.Barrier | None = None, *,
    collect: Callable[[Standard], Any] | None = None,
    collected: dict[str, Any] | None = None,
) -> dict[str, tuple[list[Diagnostic], int, int]]:
    """Each standard of ``chunk``'s part of the report, its cache entries written as it goes.

    With a ``barrier`` (one process of several, each with its own chunk), in two phases, so
    that no process reads a standard another one reads for itself. First each standard of the
    chunk is read, indexed (into the cache, where the other processes find it) and checked,
    except that a standard whose checks ask about a standard of another chunk that is not
    indexed yet is left for later (its part checks done and kept meanwhile). Once every
    process is past the first phase, the standards left are checked, the others' standards
    answered from their indexes.
    """
    import gc

    repo = load_repository(root, cache.source(DiskSource(root)), cache=cache, standards=False)
    standards = _LazyStandards(repo, names)
    repo.standards = standards
    repo.folders = {name: name for name in names}
    out: dict[str, tuple[list[Diagnostic], int, int]] = {}
    own = set(chunk) if barrier is not None else None
    later: list[str] = []

    def check(name: str, readable: set[str] | None) -> None:
        try:
            one = validate_repository(repo, {name}, readable=readable)
        except _Unindexed:
            _check_parts(repo, cache, standards[name])
            later.append(name)
        else:
            mine = [d for d in one.diagnostics if d.file != SETTINGS_FILE]
            out[name] = (mine, one.summary.waived, one.summary.files)
            cache.store_result(repo, name, *out[name])
            if name in later:
                later.remove(name)
            if collect is not None and collected is not None and standards.whole(name):
                collected[name] = collect(standards[name])
        # In memory: the standard just checked and the next one (read ahead when this one's
        # checks asked about it), and those left for the second phase. The standards checked
        # before are indexed in the cache by now, which answers for them.
        standards.forget(keep=2, hold=later)
        cache.flush()

    # Models and findings are trees with few cycles: collecting less often saves time (and
    # the standards forgotten below are freed by reference counting anyway). Each standard read
    # is frozen (see _LazyStandards), so that the collections there are do not walk it again.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    standards.freeze = True
    try:
        try:
            for name in chunk:
                check(name, own)
        except BaseException:
            if barrier is not None:
                barrier.abort()  # the other processes go on at once, reading for themselves
            raise
        if barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(BARRIER_SECONDS)
        for name in list(later):
            check(name, None)
    finally:
        gc.set_threshold(*thresholds)
        if standards.froze:
            gc.unfreeze()
    return out


def _check_parts(repo: Repository, cache: ValidationCache, standard: Standard) -> None:
    """Work out (and keep in the cache) the part checks' findings of a standard now."""
    from stdkit.rules import part_findings
    from stdkit.rules.facts import part_facts

    memo = cache.part_memo(standard.id, repo.settings.max_file_bytes)
    lazy = repo.standards
    parts = (lazy.facts(standard.id) if isinstance(lazy, _LazyStandards)
             else part_facts(standard))
    for part in parts:
        part_findings(part, standard.languages, standard.kind, memo)


def _folder_bytes(root: Path, name: str) -> int:
    try:
        with os.scandir(root / STANDARDS_DIR / name) as entries:
            return sum(e.stat(follow_symlinks=False).st_size for e in entries)
    except OSError:
        return 0


def _regular_folders(repo: Repository) -> list[str] | None:
    """The standard folders, if each holds a standard.yaml whose id is the folder's name."""
    from stdkit import yamlio
    from stdkit.loader import META_FILE

    source = repo.source
    assert source is not None and repo.cache is not None
    if not source.is_dir(STANDARDS_DIR):
        return [] if not source.escapes(STANDARDS_DIR) else None
    names = []
    for name in source.listdir(STANDARDS_DIR):
        folder = f"{STANDARDS_DIR}/{name}"
        if name.startswith(".") or not source.is_dir(folder):
            continue
        if source.escapes(folder) or META_FILE not in source.listdir(folder):
            return None
        file = f"{folder}/{META_FILE}"
        max_bytes = repo.settings.max_file_bytes

        def read(file: str = file, max_bytes: int = max_bytes) -> yamlio.Document:
            assert source is not None
            return yamlio.read_bytes(source.read(file, max_bytes), file, max_bytes=max_bytes)

        doc = repo.cache.document(file, max_bytes, read)
        data = doc.data if isinstance(doc.data, dict) else {}
        if (data["id"] if isinstance(data.get("id"), str) else name) != name:
            return None
        names.append(name)
    return names


_UNREAD: Any = object()


class _LazyStandards(dict[str, Standard]):
    """Every standard of the repository by id (its folder's name), each read when first used.

    A part file whose entry in the cache can stand in for it is not read (see
    :func:`stdkit.loader.load_standard`); :meth:`facts` gives the facts of each part of a
    standard read, whichever way it came.
    """

    def __init__(self, repo: Repository, names: list[str]) -> None:
        super().__init__(dict.fromkeys(names, _UNREAD))
        self._repo = repo
        self._recent: dict[str, None] = {}  # read standards, least recently used first
        self._stand_ins: dict[str, dict[str, StandIn | None]] = {}
        self._facts: dict[str, list[PartFacts]] = {}
        # Whether to move each standard read (a tree without cycles, freed by reference
        # counting) out of the garbage collector's sight (gc.freeze), and whether it did.
        self.freeze = False
        self.froze = False

    def forget(self, *, keep: int, hold: Iterable[str] = ()) -> None:
        """Drop all but the ``keep`` most recently used standards (and what was read for them),
        and those in ``hold``."""
        held = set(hold)
        recent = [key for key in self._recent if key not in held]
        drop = recent[: max(0, len(recent) - keep)]
        for key in drop:
            del self._recent[key]
            self._stand_ins.pop(key, None)
            self._facts.pop(key, None)
            super().__setitem__(key, _UNREAD)
        if drop:
            prefixes = tuple(f"{STANDARDS_DIR}/{key}/" for key in drop)
            repo = self._repo
            repo.documents = {f: d for f, d in repo.documents.items()
                              if not f.startswith(prefixes)}
            repo.diagnostics = [d for d in repo.diagnostics if not d.file.startswith(prefixes)]

    def facts(self, key: str) -> list[PartFacts]:
        """The facts of each part of the standard ``key`` (read if it is not in memory)."""
        found = self._facts.get(key)
        if found is None:
            from stdkit.rules.facts import part_facts

            standard = self[key]
            found = self._facts[key] = part_facts(standard, self._stand_ins.get(key))
        return found

    def read(self, key: str) -> bool:
        """Whether the standard ``key`` is in memory (read, and not forgotten since)."""
        return super().get(key, _UNREAD) is not _UNREAD

    def whole(self, key: str) -> bool:
        """Whether the standard ``key`` is in memory with every part read (none stood in)."""
        return self.read(key) and not any(self._stand_ins.get(key, {}).values())

    def __getitem__(self, key: str) -> Standard:
        value = super().__getitem__(key)
        if key in self._recent:
            del self._recent[key]
        self._recent[key] = None
        if value is _UNREAD:
            import gc

            from stdkit.loader import load_standard

            # The collector stays off until the standard is frozen: enabled in between, its
            # first collection would walk the whole standard just read, for nothing. What is
            # garbage now is collected first (cheap: what was read before is frozen), so that
            # it is not frozen with the standard.
            collecting = gc.isenabled() and self.freeze
            if collecting:
                gc.collect()
                gc.disable()
            try:
                stand_ins: dict[str, StandIn | None] = {}
                loaded = load_standard(self._repo, key, stand_ins=stand_ins)
                self._stand_ins[key] = stand_ins
                if loaded is None or loaded.id != key:  # pragma: no cover - checked beforehand
                    raise RuntimeError(f"standards/{key} changed while it was being validated")
                super().__setitem__(key, loaded)
                if self.freeze:
                    gc.freeze()
                    self.froze = True
            finally:
                if collecting:
                    gc.enable()
            return loaded
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def values(self) -> Any:
        return [self[key] for key in self]

    def items(self) -> Any:
        return [(key, self[key]) for key in self]


class _Peers(dict[str, Context]):
    """The check contexts of a repository's standards, each made when first asked for.

    A standard that is not being checked answers the lookups of another's checks from its index
    when the cache holds one (see :func:`_indexed`): it is not read for them, and if it is in
    memory, its context is not worked out again.
    """

    def __init__(
        self, repo: Repository, checked: set[str] | None = None,
        readable: set[str] | None = None,
    ) -> None:
        super().__init__()
        self._repo = repo
        self._checked = checked
        # The standards that may be read to answer a lookup (None: all): asking about another
        # one that is neither read nor indexed raises _Unindexed.
        self._readable = readable

    def __getitem__(self, key: str) -> Context:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        repo = self._repo
        cache = repo.cache if _is_validation_cache(repo.cache) else None
        standards = repo.standards
        ctx: Context | None = None
        if (cache is not None and self._checked is not None and key not in self._checked
                and isinstance(standards, _LazyStandards)):
            index = cache.index(repo, key)
            if index is not None:
                ctx = _indexed(repo, key, index, self)
        if ctx is None:
            if (self._readable is not None and key not in self._readable
                    and dict.__contains__(standards, key)
                    and not (isinstance(standards, _LazyStandards) and standards.read(key))):
                raise _Unindexed(key)
            standard = standards[key]  # KeyError for an unknown standard
            parts = standards.facts(key) if isinstance(standards, _LazyStandards) else None
            ctx = Context.of(repo, standard, self, parts)
            if cache is not None:
                cache.store_index(repo, key, [
                    (obj_id, type(obj).__name__,
                     obj.designation if isinstance(obj, Reference) else None)
                    for obj_id, obj in ctx.index.items()])
        dict.__setitem__(self, key, ctx)
        return ctx

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._repo.standards else default

    def __contains__(self, key: object) -> bool:
        return key in self._repo.standards

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._repo.standards))

    def __len__(self) -> int:
        return len(self._repo.standards)

    def keys(self) -> Any:
        return list(self._repo.standards)

    def values(self) -> Any:
        return [self[key] for key in self]

    def items(self) -> Any:
        return [(key, self[key]) for key in self]


class _Unindexed(Exception):
    """A check asked about a standard that may not be read now and has no index yet."""


def _indexed(
    repo: Repository, standard_id: str, index: list[IndexEntry], peers: dict[str, Context]
) -> Context | None:
    """The context of a standard made from its index, for the lookups of other standards'
    checks: each object is a bare one of the right class (and, for a reference, designation),
    all that a lookup into another standard reads (None if the index names an unknown class).
    """
    from stdkit.rules.facts import CLASSES, bare

    folder = repo.folders.get(standard_id, standard_id)
    origin = Origin(f"{STANDARDS_DIR}/{folder}/standard.yaml")
    objects: dict[str, Obj] = {}
    for obj_id, kind, designation in index:
        cls = CLASSES.get(kind)
        if cls is None:
            return None
        objects[obj_id] = bare(cls, obj_id, origin, designation if cls is Reference else None)
    standard = Standard(id=standard_id, folder=folder, origin=origin)
    return Context(repo, standard, peers, index=objects)


def _is_validation_cache(cache: object) -> TypeGuard[ValidationCache]:
    from stdkit.cache import ValidationCache

    return isinstance(cache, ValidationCache)


def validate_repository(
    repo: Repository, only: Iterable[str] | None = None, *, files: set[str] | None = None,
    readable: set[str] | None = None,
) -> Report:
    """Validate a loaded repository; ``only`` narrows to standards, ``files`` to files.

    ``readable`` (None: all) are the standards that may be read to answer the checks' lookups
    into other standards; a lookup into another one, neither read nor indexed in the cache,
    raises ``_Unindexed`` (see _check_chunk).
    """
    selected = set(only) if only is not None else None
    # Contexts are made as checks ask for them: a repository read lazily (see validate_paths)
    # reads a standard only when it is checked or a checked one refers to it (and then, where
    # the cache holds the other's index, not even that).
    peers = _Peers(repo, selected, readable)
    try:
        chosen = [peers[sid] for sid in repo.standards if selected is None or sid in selected]
        found: list[Diagnostic] = list(repo.diagnostics)  # the loader's, of what was read
        for findings in _checked(repo, chosen):
            found.extend(findings)
        holders = {ctx.standard.id: list(_waivers(ctx)) for ctx in chosen}
    finally:
        # Each context refers to the others through ``peers``: break the cycle, so that the
        # standards are freed as soon as they are done with, not at the next collection.
        dict.clear(peers)
        chosen = []
    if selected is not None:
        prefixes = tuple(f"{STANDARDS_DIR}/{repo.folders.get(s, s)}/" for s in selected)
        found = [d for d in found if d.file.startswith(prefixes) or d.file == SETTINGS_FILE]
        standards = [repo.standards[sid] for sid in repo.standards if sid in selected]
    else:
        standards = list(repo.standards.values())
    # A finding reported twice is one finding: it is waived (and counted) once.
    found, waived = _apply_waivers(list(dict.fromkeys(found)), standards, holders)
    found = _apply_settings(found, repo)
    # The no-warnings demand of later stages looks at the findings as they finally stand.
    found += _override(stage_gate(standards, found), repo)
    if files is not None:
        found = [d for d in found if d.file in files]
    diagnostics = sort_diagnostics(found)
    counted = [f for f in repo.documents if (selected is None or f.startswith(prefixes))
               and (files is None or f in files)]
    summary = Summary.of(diagnostics, files=len(counted), standards=len(standards), waived=waived)
    return Report(diagnostics, summary, repo)


# An object's waivers: (its id, its waive mapping, its origin when asked for).
_Holder = tuple[str, Mapping[str, Any], Callable[[], Origin]]


def _waivers(ctx: Context) -> Iterator[_Holder]:
    """The objects of a standard that carry waivers, from the facts of its parts."""
    for part in ctx.parts:
        for index, obj_id, waive in part.waivers:
            yield obj_id, waive, partial(_origin, part.object, index)


def _origin(read: Callable[[int], Obj], index: int) -> Origin:
    return read(index).origin


def _apply_waivers(
    found: list[Diagnostic], standards: list[Standard], holders: dict[str, list[_Holder]]
) -> tuple[list[Diagnostic], int]:
    rules = catalogue()
    # (folder, object id) -> {code: (reason, origin)}
    waivers: dict[tuple[str, str], dict[str, tuple[object, Callable[[], Origin]]]] = {}
    extra: list[Diagnostic] = []
    for std in standards:
        mine: list[_Holder] = [(std.id, std.waive, partial(getattr, std, "origin"))]
        for obj_id, waive, origin_of in mine + holders.get(std.id, []):
            for code, reason in waive.items():
                if code not in rules:
                    origin = origin_of()
                    extra.append(Diagnostic(
                        "WAIVE003", rules["WAIVE003"].severity, f"waiver of unknown rule {code!r}",
                        origin.file, *origin.at("waive", code, key=True), obj_id,
                        hint="run 'stdkit rules' for the codes"))
                    continue
                if not isinstance(reason, str) or not reason.strip():
                    origin = origin_of()
                    extra.append(Diagnostic(
                        "WAIVE001", rules["WAIVE001"].severity,
                        f"the waiver of {code} gives no reason", origin.file,
                        *origin.at("waive", code, key=True), obj_id,
                        hint=f'{code}: "why the rule does not apply here"'))
                    continue
                waivers.setdefault((std.folder, obj_id), {})[code] = (reason, origin_of)
    used: set[tuple[str, str, str]] = set()
    kept: list[Diagnostic] = []
    waived = 0
    for d in found:
        parts = d.file.split("/")
        folder = parts[1] if len(parts) > 2 and parts[0] == STANDARDS_DIR else ""
        entry = waivers.get((folder, d.object or "")) if d.object else None
        if entry and d.code in entry:
            used.add((folder, d.object or "", d.code))
            waived += 1
            continue
        kept.append(d)
    for (folder, obj_id), codes in waivers.items():
        for code, (_reason, origin_of) in codes.items():
            if (folder, obj_id, code) not in used:
                origin = origin_of()
                line, col = origin.at("waive", code, key=True)
                kept.append(Diagnostic(
                    "WAIVE002", rules["WAIVE002"].severity,
                    f"the waiver of {code} suppresses nothing here", origin.file, line, col,
                    obj_id, hint="remove the stale waiver"))
    return kept + extra, waived


def _apply_settings(found: list[Diagnostic], repo: Repository) -> list[Diagnostic]:
    rules = catalogue()
    overrides = repo.settings.rules
    out: list[Diagnostic] = []
    doc = repo.documents.get(SETTINGS_FILE)
    for code in overrides:
        if code not in rules:
            line, col = doc.at(("rules", code), key=True) if doc else (1, 1)
            out.append(Diagnostic("CFG001", Severity.ERROR, f"unknown rule code {code!r}",
                                  SETTINGS_FILE, line, col, None,
                                  hint="run 'stdkit rules' for the codes"))
    return out + _override(found, repo)


def _override(found: list[Diagnostic], repo: Repository) -> list[Diagnostic]:
    """The findings with the severities stdkit.yaml gives (rules turned off dropped)."""
    overrides = repo.settings.rules
    out: list[Diagnostic] = []
    for d in found:
        level = overrides.get(d.code)
        if level is None or d.code.startswith(("YAML", "FILE")):
            out.append(d)
        elif level != "off":
            out.append(d.with_severity(Severity(level)))
    return out


# Checking standards in parallel pays when there is enough to check: below this many objects
# (clauses, provisions, signals …) starting the processes costs more than it saves.
PARALLEL_OBJECTS = 2000
_WORK: list[Context] = []


def _jobs() -> int:
    value = os.environ.get("STDKIT_JOBS", "")
    if value.isdigit():
        return int(value)
    # fork() keeps the loaded repository shared with the workers; only Linux forks safely here.
    return min(os.cpu_count() or 1, 4) if sys.platform == "linux" else 1


# What checking one standard gives: its findings, the peers its checks asked for (None: all of
# them), and the part entries of the cache it used and wrote (see ValidationCache.part_entries).
_Checked = tuple[list[Diagnostic], set[str] | None, tuple[list[str], dict[str, bytes]] | None]


def _check_one(index: int) -> _Checked:
    """Check one standard of ``_WORK`` (in this process or a worker)."""
    from stdkit.cache import Recording

    ctx = _WORK[index]
    seen = Recording(ctx.peers)
    found = list(check_standard(replace(ctx, peers=seen)))
    cache = ctx.repo.cache
    parts = cache.part_entries(ctx.standard.id) if _is_validation_cache(cache) else None
    return found, None if seen.everything else seen.asked, parts


def _checked(repo: Repository, chosen: list[Context]) -> list[list[Diagnostic]]:
    """The rule findings of each chosen standard: from the cache, or checked (in parallel)."""
    cache = repo.cache if _is_validation_cache(repo.cache) else None
    out: list[list[Diagnostic] | None] = [
        cache.rules(repo, ctx.standard.id) if cache is not None else None for ctx in chosen]
    todo = [i for i, found in enumerate(out) if found is None]
    if cache is not None:
        for i in todo:
            ctx = chosen[i]
            ctx.memo = cache.part_memo(ctx.standard.id, repo.settings.max_file_bytes)
    _WORK[:] = [chosen[i] for i in todo]
    try:
        results = _run(_WORK)
    finally:
        _WORK.clear()
    for i, (found, asked, parts) in zip(todo, results, strict=True):
        out[i] = found
        if cache is not None:
            sid = chosen[i].standard.id
            if parts is not None:
                cache.adopt_parts(sid, *parts)
            cache.store_rules(repo, sid, found, asked)
    return [found or [] for found in out]


def _run(work: list[Context]) -> list[_Checked]:
    size = sum(len(part.objects) for ctx in work for part in ctx.parts)
    jobs = min(_jobs(), len(work))
    if jobs < 2 or size < PARALLEL_OBJECTS:
        return [_check_one(i) for i in range(len(work))]
    import gc
    import multiprocessing

    # Largest standards first, so that the processes finish together.
    order = sorted(range(len(work)), key=lambda i: -len(work[i].index))
    # Frozen objects are not walked by the collector in the workers, so the pages holding the
    # repository stay shared instead of being copied into each process.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            done = pool.map(_check_one, order, chunksize=1)
    except (OSError, RuntimeError):
        return [_check_one(i) for i in range(len(work))]
    finally:
        gc.unfreeze()
    results: list[Any] = [None] * len(work)
    for i, result in zip(order, done, strict=True):
        results[i] = result
    return results
