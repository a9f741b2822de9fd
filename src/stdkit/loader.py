"""From a repository on disk to the model: find the root, read settings and standards safely.

Paths never leave the repository: ids are checked with a full match before they become file
names, and a file or folder that resolves (through a symlink) outside the repository is refused
without being read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stdkit import schema, yamlio
from stdkit.diagnostics import Diagnostic, Severity
from stdkit.errors import UsageError
from stdkit.gcpause import collector_paused
from stdkit.model import (
    E2E,
    Case,
    Clause,
    Criterion,
    Environment,
    EvidenceType,
    Level,
    Message,
    Node,
    Origin,
    Provision,
    Reference,
    Signal,
    Standard,
    Step,
    Term,
    Text,
    Unit,
    ValueEntry,
    ValueTable,
)

STANDARD_ID = re.compile(r"[a-z][a-z0-9-]{1,63}")
OBJECT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,79}")
SETTINGS_FILE = "stdkit.yaml"
STANDARDS_DIR = "standards"
META_FILE = "standard.yaml"


@dataclass(frozen=True, slots=True)
class Settings:
    """Repository settings from ``stdkit.yaml`` (all optional)."""

    languages: tuple[str, ...] = ("en",)
    designation_prefix: str | None = None
    rules: dict[str, str] = field(default_factory=dict)
    max_file_bytes: int = yamlio.DEFAULT_MAX_BYTES


class DocumentCache(Protocol):
    """Remembers what reading and schema-checking a file gave, by the file's content."""

    def document(
        self, file: str, max_bytes: int, read: Callable[[], yamlio.Document]
    ) -> yamlio.Document: ...

    def schema(
        self, doc: yamlio.Document, kind: str, check: Callable[[], list[Diagnostic]]
    ) -> list[Diagnostic]: ...


@dataclass(slots=True)
class StandIn:
    """A part file the validation cache knows by its content, standing in for reading it.

    It holds what reading the file gave (the loader's findings, whether it read cleanly, the
    id of the part it holds) and what the rules know of the part (``facts`` and the part
    checks' findings ``found``, opaque here). The loader files a :class:`yamlio.LazyDocument`
    for it (``doc``) and a way to build the part after all (``build``), for the rare finding
    that needs a position in it.
    """

    part_id: str
    diagnostics: list[Diagnostic]
    ok: bool
    facts: Any
    found: list[Diagnostic]
    doc: yamlio.LazyDocument | None = None
    build: Callable[[], Clause] | None = None


class Source(Protocol):
    """Where a repository's files come from: the working tree, or a git revision."""

    def is_dir(self, rel: str) -> bool: ...

    def is_file(self, rel: str) -> bool: ...

    def listdir(self, rel: str) -> list[str]: ...

    def escapes(self, rel: str) -> bool:
        """Whether ``rel`` is (or passes through) a link that leads outside the repository."""
        ...

    def read(self, rel: str, max_bytes: int) -> bytes: ...


class DiskSource:
    """Files of the working tree under ``root``; nothing outside it is ever opened."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._resolved = root.resolve()

    def _path(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def is_dir(self, rel: str) -> bool:
        return self._path(rel).is_dir()

    def is_file(self, rel: str) -> bool:
        return self._path(rel).is_file()

    def listdir(self, rel: str) -> list[str]:
        return sorted(p.name for p in self._path(rel).iterdir())

    def escapes(self, rel: str) -> bool:
        try:
            return not self._path(rel).resolve().is_relative_to(self._resolved)
        except (OSError, RuntimeError):
            return True

    def read(self, rel: str, max_bytes: int) -> bytes:
        path = self._path(rel)
        # O_NOFOLLOW on the last step: the file was checked by escapes(), and a link swapped in
        # since then is refused rather than followed.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)) \
            if not path.is_symlink() else os.open(path, os.O_RDONLY)
        with os.fdopen(fd, "rb") as fh:
            return fh.read(max_bytes + 1)


@dataclass(slots=True)
class Repository:
    """Everything read from one repository: settings, standards, and what went wrong reading."""

    root: Path
    settings: Settings
    standards: dict[str, Standard] = field(default_factory=dict)
    documents: dict[str, yamlio.Document] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    folders: dict[str, str] = field(default_factory=dict)
    source: Source | None = None
    cache: DocumentCache | None = None


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``stdkit.yaml`` or ``standards/``."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file() or (folder / STANDARDS_DIR).is_dir():
            return folder
    raise UsageError(
        f"{start} is not inside a standards repository (no {SETTINGS_FILE} or {STANDARDS_DIR}/"
        " found here or above); run 'stdkit init' to make one"
    )


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (after resolving symlinks) stays inside ``root``."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def read_settings(
    root: Path, source: Source | None = None
) -> tuple[Settings, list[Diagnostic], yamlio.Document | None]:
    """The settings of the repository at ``root`` (defaults when there is no stdkit.yaml)."""
    source = source or DiskSource(root)
    if not source.is_file(SETTINGS_FILE):
        if source.escapes(SETTINGS_FILE):
            return Settings(), [_escape(SETTINGS_FILE)], None
        return Settings(), [], None
    if source.escapes(SETTINGS_FILE):
        return Settings(), [_escape(SETTINGS_FILE)], None
    doc = _read_doc(source, SETTINGS_FILE, yamlio.DEFAULT_MAX_BYTES)
    diags = list(doc.diagnostics) + schema.check(doc, "stdkit")
    data = doc.data if isinstance(doc.data, dict) else {}
    langs = data.get("languages")
    rules = data.get("rules")
    max_bytes = data.get("max_file_bytes")
    settings = Settings(
        languages=tuple(x for x in langs if isinstance(x, str)) if isinstance(langs, list) and langs
        else ("en",),
        designation_prefix=data.get("designation_prefix")
        if isinstance(data.get("designation_prefix"), str) else None,
        rules={k: v for k, v in rules.items() if isinstance(v, str)}
        if isinstance(rules, dict) else {},
        max_file_bytes=max_bytes if isinstance(max_bytes, int) and max_bytes >= 1024
        else yamlio.DEFAULT_MAX_BYTES,
    )
    return settings, diags, doc


def _read_doc(source: Source, rel: str, max_bytes: int) -> yamlio.Document:
    try:
        raw = source.read(rel, max_bytes)
    except OSError as exc:
        doc = yamlio.Document(rel, ok=False)
        doc.diagnostics.append(Diagnostic(
            "FILE001", Severity.ERROR, f"cannot read the file: {exc.strerror or exc}", rel))
        return doc
    return yamlio.read_bytes(raw, rel, max_bytes=max_bytes)


def _escape(file: str) -> Diagnostic:
    return Diagnostic(
        "FILE002", Severity.ERROR,
        "refused: this path is a symbolic link that leads outside the repository", file,
        hint="replace the link with the file itself",
    )


def load_repository(
    root: Path, source: Source | None = None, *, check: bool = True,
    cache: DocumentCache | None = None, standards: bool = True,
) -> Repository:
    """Read every standard under ``standards/``; problems become diagnostics, not errors.

    ``check=False`` skips the JSON Schema checks (most of the loading time) for callers that
    only need the model, such as diff. ``standards=False`` reads the settings only; the
    standards are then read one by one with :func:`load_standard`.
    """
    source = source or DiskSource(root)
    settings, diags, settings_doc = read_settings(root, source)
    repo = Repository(root=root, settings=settings, diagnostics=diags, source=source,
                      cache=cache)
    if settings_doc is not None:
        repo.documents[SETTINGS_FILE] = settings_doc
    if not standards:
        return repo
    if not source.is_dir(STANDARDS_DIR):
        return repo
    if source.escapes(STANDARDS_DIR):
        repo.diagnostics.append(_escape(STANDARDS_DIR))
        return repo
    for name in source.listdir(STANDARDS_DIR):
        rel_folder = f"{STANDARDS_DIR}/{name}"
        if name.startswith(".") or not source.is_dir(rel_folder):
            continue
        standard = load_standard(repo, name, check=check)
        if standard is not None and standard.id not in repo.standards:
            repo.standards[standard.id] = standard
            repo.folders[standard.id] = name
    return repo


def load_standard(
    repo: Repository, name: str, *, check: bool = True,
    stand_ins: dict[str, StandIn | None] | None = None,
) -> Standard | None:
    """Read the standard in folder ``standards/NAME`` (its documents and findings join
    ``repo``); the caller files it under its id.

    With ``stand_ins``, a part file the cache can stand in for (``repo.cache.stand_in``) is not
    read: it is left out of the standard's ``parts``, and ``stand_ins`` gets, in the order of
    the parts, each part's file with its :class:`StandIn` (None for a part that was read).
    """
    assert repo.source is not None
    return _load_standard(repo, repo.source, f"{STANDARDS_DIR}/{name}", check=check,
                          stand_ins=stand_ins)


def _read(repo: Repository, source: Source, file: str) -> yamlio.Document:
    if source.escapes(file):
        doc = yamlio.Document(file, ok=False)
        doc.diagnostics.append(_escape(file))
    else:
        max_bytes = repo.settings.max_file_bytes
        doc = (repo.cache.document(file, max_bytes, lambda: _read_doc(source, file, max_bytes))
               if repo.cache else _read_doc(source, file, max_bytes))
    repo.documents[file] = doc
    repo.diagnostics.extend(doc.diagnostics)
    return doc


def _check(repo: Repository, doc: yamlio.Document, kind: str) -> list[Diagnostic]:
    if repo.cache is None:
        return schema.check(doc, kind)
    return repo.cache.schema(doc, kind, lambda: schema.check(doc, kind))


def _load_standard(
    repo: Repository, source: Source, folder: str, *, check: bool = True,
    stand_ins: dict[str, StandIn | None] | None = None,
) -> Standard | None:
    # A standard is a tree of new objects without cycles (documents, frozen model objects):
    # the cyclic garbage collector would only walk the growing heap again and again while it
    # is built (about half the time of reading a standard from the cache).
    with collector_paused():
        return _build_standard(repo, source, folder, check=check, stand_ins=stand_ins)


def _build_standard(
    repo: Repository, source: Source, folder: str, *, check: bool = True,
    stand_ins: dict[str, StandIn | None] | None = None,
) -> Standard | None:
    name = folder.rpartition("/")[2]
    meta_file = f"{folder}/{META_FILE}"
    if source.escapes(folder):
        repo.diagnostics.append(_escape(folder))
        return None
    files = source.listdir(folder)
    if META_FILE not in files:
        if any(f.endswith((".yaml", ".yml")) for f in files):
            repo.diagnostics.append(Diagnostic(
                "STD009", Severity.ERROR, f"the folder {name!r} has part files but no {META_FILE}",
                folder, hint="run 'stdkit new' or add standard.yaml"))
        return None
    doc = _read(repo, source, meta_file)
    if check:
        repo.diagnostics.extend(_check(repo, doc, "standard"))
    data = doc.data if isinstance(doc.data, dict) else {}
    origin = Origin(meta_file, (), 1, 1, doc)

    std_id: str = data["id"] if isinstance(data.get("id"), str) else name
    if not STANDARD_ID.fullmatch(name):
        repo.diagnostics.append(Diagnostic(
            "STD001", Severity.ERROR,
            f"the folder name {name!r} is not a valid standard id", meta_file,
            object=std_id, hint="rename the folder: 2–64 lower-case letters, digits and '-'"))
    elif isinstance(data.get("id"), str) and data["id"] != name:
        line, col = doc.at(("id",))
        repo.diagnostics.append(Diagnostic(
            "STD001", Severity.ERROR,
            f"the standard's id {data['id']!r} differs from its folder name {name!r}",
            meta_file, line, col, std_id, hint=f"set id: {name} or rename the folder"))

    settings_langs = repo.settings.languages
    langs_value = data.get("languages")
    languages = (
        tuple(x for x in langs_value if isinstance(x, str))
        if isinstance(langs_value, list) and langs_value else settings_langs
    )
    build = _Builder(languages)
    kind = _s(data.get("kind"))
    stand_in = getattr(repo.cache, "stand_in", None) if stand_ins is not None else None

    part_ids: list[tuple[str, Origin]] = []
    raw_parts = data.get("parts")
    if isinstance(raw_parts, list):
        for i, pid in enumerate(raw_parts):
            if isinstance(pid, str):
                part_ids.append((pid, origin.child("parts", i)))

    parts: list[Clause] = []
    listed: set[str] = set()
    for pid, porigin in part_ids:
        if pid in listed:
            repo.diagnostics.append(Diagnostic(
                "STD005", Severity.ERROR, f"the part {pid!r} is listed twice", meta_file,
                porigin.line, porigin.column, pid, hint="remove the second entry"))
            continue
        listed.add(pid)
        if not OBJECT_ID.fullmatch(pid):
            continue  # the schema reports it; never turn it into a path
        file = f"{folder}/{pid}.yaml"
        if f"{pid}.yaml" not in files:
            hint = (f"rename {pid}.yml to {pid}.yaml" if f"{pid}.yml" in files
                    else f"create {file} or remove '{pid}' from parts")
            repo.diagnostics.append(Diagnostic(
                "STD002", Severity.ERROR, f"the part {pid!r} has no file {pid}.yaml", meta_file,
                porigin.line, porigin.column, pid, hint=hint))
            continue
        if stand_in is not None and stand_ins is not None and not source.escapes(file):
            known: StandIn | None = stand_in(file, repo.settings.max_file_bytes, languages, kind)
            if known is not None:
                _stand_in(repo, source, file, pid, known, build)
                stand_ins[file] = known
                continue
        pdoc = _read(repo, source, file)
        if check:
            repo.diagnostics.extend(_check(repo, pdoc, "part"))
        if not isinstance(pdoc.data, dict):
            continue
        # A cache that hands out one document for identical files (diff's two sides) may
        # also share its model: a part is built from its document and the languages only.
        def make(pdoc: yamlio.Document = pdoc) -> Clause:
            return build.clause(pdoc.data, Origin(pdoc.file, (), 1, 1, pdoc), top=True)

        shared = getattr(repo.cache, "part", None)
        part = shared(pdoc, languages, make) if shared is not None else make()
        if part.id != pid:
            line, col = pdoc.at(("id",))
            repo.diagnostics.append(Diagnostic(
                "STD004", Severity.ERROR,
                f"the part file {pid}.yaml holds the part {part.id!r}", pdoc.file, line, col,
                part.id, hint=f"set id: {pid}, or rename the file to {part.id}.yaml"))
        parts.append(part)
        if stand_ins is not None:
            stand_ins[file] = None

    for fname in files:
        stem, dot, ext = fname.rpartition(".")
        if dot and ext in ("yaml", "yml") and fname != META_FILE and stem not in listed:
            repo.diagnostics.append(Diagnostic(
                "STD003", Severity.ERROR,
                f"the file {fname} is not listed in parts, so it is not part of the standard",
                f"{folder}/{fname}", object=stem,
                hint=f"add '{stem}' to parts in {META_FILE}, or delete the file"))

    def texts(key: str) -> tuple[Text, ...]:
        value = data.get(key)
        if isinstance(value, list):
            return tuple(t for i, v in enumerate(value)
                         if (t := build.text(v, origin.child(key, i))) is not None)
        t = build.text(value, origin.child(key))
        return (t,) if t is not None else ()

    supersedes = data.get("supersedes")
    return Standard(
        id=std_id,
        folder=name,
        origin=origin,
        designation=_s(data.get("designation")),
        kind=kind,
        title=build.text(data.get("title"), origin.child("title")),
        languages=languages,
        stage=_s(data.get("stage")),
        revision=_i(data.get("revision")),
        edition=_i(data.get("edition")) or 1,
        date=_s(data.get("date")),
        committee=texts("committee"),
        drafting_units=texts("drafting_units"),
        drafters=texts("drafters"),
        proposer=texts("proposer"),
        supersedes=(supersedes,) if isinstance(supersedes, str)
        else tuple(x for x in supersedes if isinstance(x, str))
        if isinstance(supersedes, list) else (),
        comment_deadline=_s(data.get("comment_deadline")),
        part_ids=tuple(part_ids),
        parts=tuple(parts),
        waive=_waive(data.get("waive")),
    )


def _stand_in(
    repo: Repository, source: Source, file: str, pid: str, known: StandIn, build: _Builder
) -> None:
    """File a part the cache stands in for as :func:`_build_standard` files a part it reads."""
    max_bytes = repo.settings.max_file_bytes

    def read() -> yamlio.Document:
        return _read_doc(source, file, max_bytes)

    def load() -> yamlio.Document:
        return repo.cache.document(file, max_bytes, read) if repo.cache else read()

    doc = yamlio.LazyDocument(file, ok=known.ok, load=load)

    def part() -> Clause:
        return build.clause(doc.fill().data, Origin(file, (), 1, 1, doc), top=True)

    known.doc, known.build = doc, part
    repo.documents[file] = doc
    repo.diagnostics.extend(known.diagnostics)
    if known.part_id != pid:
        line, col = doc.at(("id",))
        repo.diagnostics.append(Diagnostic(
            "STD004", Severity.ERROR,
            f"the part file {pid}.yaml holds the part {known.part_id!r}", file, line, col,
            known.part_id, hint=f"set id: {pid}, or rename the file to {known.part_id}.yaml"))


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _i(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _n(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _waive(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _strings(value: Any, origin: Origin, key: str) -> tuple[tuple[str, Origin], ...]:
    if not isinstance(value, list):
        return ()
    return tuple((v, origin.child(key, i)) for i, v in enumerate(value) if isinstance(v, str))


class _Builder:
    """Builds model objects from schema-shaped data, tolerating anything the schema reports."""

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages = languages
        self.single = languages[0] if len(languages) == 1 else None
        # The lists of objects a clause may hold, and how each object is built.
        self._contents: dict[str, Callable[[dict[str, Any], Origin], Any]] = {
            "provisions": self.provision, "clauses": self.clause,
            "references": self.reference, "terms": self.term, "nodes": self.node,
            "value_tables": self.value_table, "units": self.unit, "messages": self.message,
            "environments": self.environment, "cases": self.case,
            "evidence_types": self.evidence_type, "levels": self.level,
        }

    def text(self, value: Any, origin: Origin) -> Text | None:
        if isinstance(value, str):
            return Text({self.single or "": value}, origin, plain=True)
        if isinstance(value, dict):
            values = {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
            return Text(values, origin) if values else None
        return None

    def text_of(self, d: dict[str, Any], key: str, o: Origin) -> Text | None:
        """The text under ``key`` of mapping ``d`` at ``o`` (its origin worked out only when
        there is one)."""
        value = d.get(key)
        return None if value is None else self.text(value, o.child(key))

    def texts_of(self, d: dict[str, Any], key: str, o: Origin) -> tuple[Text, ...]:
        """The list of texts under ``key`` of mapping ``d`` at ``o``."""
        value = d.get(key)
        return self.texts(value, o.child(key)) if isinstance(value, list) else ()

    def texts(self, value: Any, origin: Origin) -> tuple[Text, ...]:
        if not isinstance(value, list):
            return ()
        out = []
        for i, item in enumerate(value):
            t = self.text(item, origin.child(i))
            if t is not None:
                out.append(t)
        return tuple(out)

    def _list(
        self, data: dict[str, Any], key: str, origin: Origin,
        make: Callable[[dict[str, Any], Origin], Any],
    ) -> tuple[Any, ...]:
        value = data.get(key)
        if not isinstance(value, list):
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                out.append(make(item, origin.child(key, i)))
        return tuple(out)

    def clause(self, d: dict[str, Any], o: Origin, *, top: bool = False) -> Clause:
        # Of the eleven lists a clause may hold, a clause holds two or three: only the keys
        # present are looked at (an absent one is an empty list either way).
        lists = {key: self._list(d, key, o, make)
                 for key, make in self._contents.items() if key in d}
        return Clause(
            id=_s(d.get("id")) or "",
            origin=o,
            waive=_waive(d.get("waive")),
            type=_s(d.get("type")) if top else None,
            annex=_s(d.get("annex")),
            title=self.text_of(d, "title", o),
            text=self.text_of(d, "text", o),
            notes=self.texts_of(d, "notes", o),
            examples=self.texts_of(d, "examples", o),
            under_test=d.get("under_test") is True,
            **lists,
        )

    def provision(self, d: dict[str, Any], o: Origin) -> Provision:
        ver = d.get("verification")
        return Provision(
            id=d["id"], origin=o, waive=_waive(d.get("waive")), kind=_s(d.get("kind")),
            text=self.text_of(d, "text", o),
            verification=tuple(v for v in ver if isinstance(v, str)) if isinstance(ver, list)
            else (),
            asil=_s(d.get("asil")),
        )

    def reference(self, d: dict[str, Any], o: Origin) -> Reference:
        return Reference(
            id=d["id"], origin=o, waive=_waive(d.get("waive")),
            designation=_s(d.get("designation")), title=self.text_of(d, "title", o),
        )

    def term(self, d: dict[str, Any], o: Origin) -> Term:
        return Term(
            id=d["id"], origin=o, waive=_waive(d.get("waive")),
            term=self.text_of(d, "term", o),
            definition=self.text_of(d, "definition", o),
            abbreviation=_s(d.get("abbreviation")), source=_s(d.get("source")),
            notes=self.texts_of(d, "notes", o),
        )

    def node(self, d: dict[str, Any], o: Origin) -> Node:
        return Node(id=d["id"], origin=o, waive=_waive(d.get("waive")),
                    name=self.text_of(d, "name", o))

    def value_table(self, d: dict[str, Any], o: Origin) -> ValueTable:
        entries = d.get("entries")
        items: Iterable[Any] = entries if isinstance(entries, list) else ()
        return ValueTable(
            id=d["id"], origin=o, waive=_waive(d.get("waive")),
            entries=tuple(
                ValueEntry(_i(e.get("value")), _s(e.get("name")), o.child("entries", i))
                for i, e in enumerate(items) if isinstance(e, dict)
            ),
        )

    def unit(self, d: dict[str, Any], o: Origin) -> Unit:
        return Unit(id=d["id"], name=self.text_of(d, "name", o),
                    quantity=_s(d.get("quantity")), origin=o)

    def message(self, d: dict[str, Any], o: Origin) -> Message:
        e2e = d.get("e2e")
        recv = d.get("receivers")
        return Message(
            id=d["id"], origin=o, waive=_waive(d.get("waive")), name=_s(d.get("name")),
            can_id=_s(d.get("can_id")), dlc=_i(d.get("dlc")), sender=_s(d.get("sender")),
            receivers=tuple(r for r in recv if isinstance(r, str)) if isinstance(recv, list)
            else (),
            transmission=_s(d.get("transmission")),
            cycle_ms=_n(d.get("cycle_ms")), timeout_ms=_n(d.get("timeout_ms")),
            e2e=E2E(_s(e2e.get("profile")), _i(e2e.get("data_id")), _s(e2e.get("counter")),
                    _s(e2e.get("checksum")), o.child("e2e")) if isinstance(e2e, dict) else None,
            signals=self._list(d, "signals", o, self.signal),
        )

    def signal(self, d: dict[str, Any], o: Origin) -> Signal:
        signed = d.get("signed")
        return Signal(
            id=d["id"], origin=o, waive=_waive(d.get("waive")), name=_s(d.get("name")),
            description=self.text_of(d, "description", o),
            start_bit=_i(d.get("start_bit")), length=_i(d.get("length")),
            byte_order=_s(d.get("byte_order")),
            signed=signed if isinstance(signed, bool) else None,
            factor=_n(d.get("factor")), offset=_n(d.get("offset")),
            min=_n(d.get("min")), max=_n(d.get("max")), unit=_s(d.get("unit")),
            initial=_n(d.get("initial")), invalid_raw=_i(d.get("invalid_raw")),
            value_table=_s(d.get("value_table")), vss_path=_s(d.get("vss_path")),
        )

    def environment(self, d: dict[str, Any], o: Origin) -> Environment:
        return Environment(id=d["id"], origin=o, waive=_waive(d.get("waive")),
                           type=_s(d.get("type")),
                           description=self.text_of(d, "description", o))

    def case(self, d: dict[str, Any], o: Origin) -> Case:
        steps = d.get("steps")
        return Case(
            id=d["id"], origin=o, waive=_waive(d.get("waive")),
            title=self.text_of(d, "title", o),
            objective=self.text_of(d, "objective", o),
            verifies=_strings(d.get("verifies"), o, "verifies"),
            method=_s(d.get("method")), level=_s(d.get("level")),
            environment=_s(d.get("environment")), asil=_s(d.get("asil")),
            preconditions=self.texts_of(d, "preconditions", o),
            steps=tuple(
                Step(self.text(s.get("action"), o.child("steps", i, "action")),
                     self.text(s.get("expected"), o.child("steps", i, "expected")),
                     o.child("steps", i))
                for i, s in enumerate(steps if isinstance(steps, list) else ())
                if isinstance(s, dict)
            ),
            pass_criteria=self.texts_of(d, "pass_criteria", o),
        )

    def evidence_type(self, d: dict[str, Any], o: Origin) -> EvidenceType:
        return EvidenceType(id=d["id"], origin=o, waive=_waive(d.get("waive")),
                            name=self.text_of(d, "name", o),
                            description=self.text_of(d, "description", o))

    def criterion(self, d: dict[str, Any], o: Origin) -> Criterion:
        mandatory = d.get("mandatory")
        return Criterion(id=d["id"], origin=o, waive=_waive(d.get("waive")),
                         text=self.text_of(d, "text", o),
                         mandatory=mandatory if isinstance(mandatory, bool) else None,
                         evidence=_strings(d.get("evidence"), o, "evidence"))

    def level(self, d: dict[str, Any], o: Origin) -> Level:
        return Level(
            id=d["id"], origin=o, waive=_waive(d.get("waive")), level=_i(d.get("level")),
            name=self.text_of(d, "name", o),
            description=self.text_of(d, "description", o),
            environment=self.text_of(d, "environment", o),
            criteria=self._list(d, "criteria", o, self.criterion),
        )
