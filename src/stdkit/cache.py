"""The validation cache under ``.stdkit-cache/``: never a stale result, never trusted blindly.

Entries of these kinds, each keyed by everything its result depends on:

* a whole report, by the content of every file the loader could read (``stdkit.yaml`` and every
  name, type and YAML file under ``standards/``) and the code digest;
* a read document (parse) and its schema findings, by the file's path and content, the size
  limit and the code digest;
* the findings of the part checks of one part (see :mod:`stdkit.rules`: verbal forms, languages
  … of one part file), with the facts the standard checks need of the part
  (:mod:`stdkit.rules.facts`) and what reading the file gave (the loader's findings, whether it
  read cleanly), by the part file's path and content, the size limit, the standard's languages
  and kind and the code digest: none of them depends on anything else. A standard checked
  again because one of its files changed reads that file only; the entries of the others stand
  in for them (:meth:`ValidationCache.stand_in`);
* the index of one standard (the id, class and designation of each of its objects, what the
  checks of other standards look up in it), by the content of its folder, the settings and the
  code digest: a standard whose folder did not change is not read to answer those lookups;
* the compiled code of a fastjsonschema validator, by the schema's name and the code digest;
* the rule findings of one standard, and its whole part of a report (waivers and settings
  applied, waived findings and files counted), by the content of its folder, the settings, the
  ids and folders of all standards and the code digest, and by the content of every other
  standard its checks looked at while they ran (recorded through the peers they asked for).

The code digest covers every file of the installed package (code, schemas, rules, lexicons, the
unit catalogue), the versions of the libraries whose answers reach the report and Python's, so
a new stdkit, an edited rule or lexicon, or a hand-patched installation all start afresh.

Entries are written by stdkit only: each is signed with a key kept outside the repository
(``$XDG_CACHE_HOME/stdkit/cache-key``), and one whose signature does not match, which a
contribution could have committed, is ignored rather than read. A repository holding symbolic
links under ``standards/`` is not cached at all (what a link shows can change with nothing in the
repository changing). Every failure to read or write the cache is a miss, never an error.

A run writes its new entries a standard's worth at a time, each batch as one pack file under
``.stdkit-cache/validate/`` (see :class:`Packs`): a first run makes a few dozen files, not
thousands, and a lookup is one read at an offset.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stdkit import schema
from stdkit.diagnostics import Diagnostic, Severity, Summary
from stdkit.fsio import CACHE_DIR
from stdkit.loader import SETTINGS_FILE, STANDARDS_DIR, Repository, Source, StandIn
from stdkit.yamlio import Document, decode

if TYPE_CHECKING:
    from stdkit.rules import PartMemo
    from stdkit.rules.facts import PartFacts

# An entry of a standard's index: (object id, class name, designation of a reference).
IndexEntry = tuple[str, str, str | None]

FORMAT = b"stdkit-cache-2"
_LEGACY = ("report", "doc", "code", "part", "index", "rules", "result")
_SUFFIXES = (".yaml", ".yml")


def _diag_out(d: Diagnostic) -> tuple[Any, ...]:
    return (d.code, d.severity.value, d.message, d.file, d.line, d.column, d.object, d.hint)


def _diag_in(t: tuple[Any, ...]) -> Diagnostic:
    return Diagnostic(t[0], Severity(t[1]), t[2], t[3], t[4], t[5], t[6], t[7])


def _secret() -> bytes | None:
    """This user's signing key (created on first use), or None when it cannot be had."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "stdkit" / "cache-key"
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    except FileExistsError:
        pass  # another run made it first
    except OSError:
        return None
    try:
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) >= 32 else None


INVALID = object()


def seal(key: bytes, value: Any) -> bytes:
    """``value`` marshalled, preceded by its MAC under this user's key."""
    payload = marshal.dumps(value)
    return hashlib.blake2b(payload, key=key[:64], digest_size=32).digest() + payload


def unseal(key: bytes, blob: bytes) -> Any:
    """The value of a sealed entry, or ``INVALID`` if its MAC or content is wrong."""
    mac, payload = blob[:32], blob[32:]
    if hashlib.blake2b(payload, key=key[:64], digest_size=32).digest() != mac:
        return INVALID
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return INVALID


_CODE_DIGEST: list[bytes] = []


def code_digest() -> bytes:
    """A digest of the installed package (every file) and the versions that shape a report."""
    if _CODE_DIGEST:
        return _CODE_DIGEST[0]
    from importlib import metadata

    h = hashlib.blake2b(FORMAT, digest_size=32)
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        h.update(path.relative_to(package).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    for dist in ("pyyaml", "jsonschema", "fastjsonschema", "referencing"):
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{dist}={version}\0".encode())
    h.update(sys.version.encode())
    _CODE_DIGEST.append(h.digest())
    return _CODE_DIGEST[0]


class _CheckedSource:
    """The working tree, noting whether each file read still has the content fingerprinted.

    A file edited between the fingerprint and its reading would otherwise have its new findings
    filed under its old content; when that happens the run writes nothing to the cache.
    """

    def __init__(self, base: Source, cache: ValidationCache) -> None:
        self.base = base
        self.cache = cache

    def is_dir(self, rel: str) -> bool:
        return self.base.is_dir(rel)

    def is_file(self, rel: str) -> bool:
        return self.base.is_file(rel)

    def listdir(self, rel: str) -> list[str]:
        return self.base.listdir(rel)

    def escapes(self, rel: str) -> bool:
        return self.base.escapes(rel)

    def read(self, rel: str, max_bytes: int) -> bytes:
        data = self.base.read(rel, max_bytes)
        expected = self.cache.hashes.get(rel)
        if expected is not None and (
                len(data) > max_bytes
                or hashlib.blake2b(data, digest_size=32).digest() != expected):
            self.cache.changed = True
        return data


class ValidationCache:
    """One validation run's view of the cache: lookups, then new entries written at the end."""

    def __init__(self, root: Path, key: bytes) -> None:
        self.root = root
        self.dir = root / CACHE_DIR / "validate"
        self._key = key
        self.code = code_digest()
        self.hashes: dict[str, bytes] = {}
        self.changed = False  # a file changed while this run was reading it
        self._source: Source | None = None
        self.folders: dict[str, bytes] = {}  # folder name -> digest of its names and files
        self.tree = b""
        # Documents read and not yet schema-checked: (entry name, document, state, schema
        # findings, whether the entry is to be written).
        self._pending: dict[str, tuple[str, Document, Any, dict[str, Any], bool]] = {}
        self._peers_used: dict[str, list[tuple[str, bytes]]] = {}
        self._parts_of: dict[str, list[str]] = {}  # standard id -> its part entries' names
        # What reading each part file gave, by file: (the document's findings, its schema
        # findings, whether it read cleanly), kept in its part entry.
        self._read_as: dict[str, tuple[list[Any], list[Any], bool]] = {}
        self._new: dict[str, bytes] = {}
        self._used: set[str] = set()
        self._packs = Packs(self.dir)

    # -- opening and fingerprinting ------------------------------------------------------------

    @classmethod
    def open(cls, root: Path) -> ValidationCache | None:
        """The cache of ``root``, or None where caching is off (no key, links, unreadable)."""
        key = _secret()
        if key is None:
            return None
        cache = cls(root, key)
        try:
            if not cache._scan():
                return None
        except OSError:
            return None
        return cache

    def _scan(self) -> bool:
        """Read and hash every file the loader could read; False when links make it unsafe."""
        h = hashlib.blake2b(b"tree", digest_size=32)
        settings = self.root / SETTINGS_FILE
        if settings.is_symlink():
            return False
        if settings.is_file():
            h.update(b"settings\0" + self._read(SETTINGS_FILE))
        elif settings.exists():
            h.update(b"settings-not-a-file\0")
        base = self.root / STANDARDS_DIR
        if base.is_symlink():
            return False
        if not base.is_dir():
            h.update(b"no-standards\0" if not base.exists() else b"standards-not-a-dir\0")
            self.tree = h.digest()
            return True
        with os.scandir(base) as entries:
            folders = sorted(entries, key=lambda e: e.name)
        for entry in folders:
            if entry.is_symlink():
                return False
            if not entry.is_dir(follow_symlinks=False):
                h.update(f"entry {entry.name}\0".encode())
                continue
            fh = hashlib.blake2b(b"folder", digest_size=32)
            with os.scandir(entry.path) as inner:
                files = sorted(inner, key=lambda e: e.name)
            for f in files:
                if f.is_symlink():
                    return False
                rel = f"{STANDARDS_DIR}/{entry.name}/{f.name}"
                if f.is_file(follow_symlinks=False) and f.name.endswith(_SUFFIXES):
                    fh.update(f"file {f.name}\0".encode() + self._read(rel) + b"\0")
                else:
                    kind = "dir" if f.is_dir(follow_symlinks=False) else "other"
                    fh.update(f"{kind} {f.name}\0".encode())
            self.folders[entry.name] = fh.digest()
            h.update(f"folder {entry.name}\0".encode() + self.folders[entry.name])
        self.tree = h.digest()
        return True

    def _read(self, rel: str) -> bytes:
        data = (self.root / rel).read_bytes()
        digest = hashlib.blake2b(data, digest_size=32).digest()
        self.hashes[rel] = digest
        return digest

    def source(self, base: Source) -> Source:
        """``base``, checking that what is read is what was fingerprinted."""
        self._source = _CheckedSource(base, self)
        return self._source

    # -- entries -------------------------------------------------------------------------------

    def _name(self, kind: str, *parts: bytes | str) -> str:
        h = hashlib.blake2b(self.code, digest_size=20)
        for part in parts:
            h.update(part.encode() if isinstance(part, str) else part)
            h.update(b"\0")
        return f"{kind}/{h.hexdigest()}"

    def _get(self, name: str) -> Any:
        blob = self._new.get(name)
        if blob is None:
            blob = self._packs.get(name)
            if blob is None:
                return None
        value = unseal(self._key, blob)
        if value is INVALID:
            return None  # not written by this user's stdkit (or damaged): never read it
        self._used.add(name)
        return value

    def _put(self, name: str, value: Any) -> None:
        self._new[name] = seal(self._key, value)
        self._used.add(name)

    def entries(self) -> dict[str, tuple[Path, int, int]]:
        """Every entry on disk: its name, the pack holding it, its offset and length there."""
        return {name: (self.dir / pack, offset, length)
                for name, (pack, offset, length) in self._packs.listing().items()}

    # -- level 1: the whole report ---------------------------------------------------------------

    def report(self) -> tuple[list[Diagnostic], Summary] | None:
        """The report of an earlier run on exactly this repository and code, if there is one."""
        value = self._get(self._name("report", self.tree))
        if not isinstance(value, tuple) or len(value) != 2:
            return None
        diags, counts = value
        return [_diag_in(d) for d in diags], Summary(*counts)

    def store_report(self, diagnostics: list[Diagnostic], summary: Summary) -> None:
        counts = (summary.errors, summary.warnings, summary.infos, summary.files,
                  summary.standards, summary.waived)
        self._put(self._name("report", self.tree), ([_diag_out(d) for d in diagnostics], counts))

    # -- level 2: documents and their schema findings --------------------------------------------

    def document(self, file: str, max_bytes: int, read: Callable[[], Document]) -> Document:
        digest = self.hashes.get(file)
        if digest is None:
            return read()
        name = self._name("doc", file, digest, str(max_bytes))
        pending = self._pending.get(file)
        if pending is not None and pending[0] == name:
            return pending[1]  # read a moment ago (standard.yaml, to learn the standard's id)
        value = self._get(name)
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict):
            state, schemas = value
            data, marks, key_marks, raw, block, diags, ok, has_source = state
            doc = Document(file, data, marks, key_marks, raw, set(block),
                           [_diag_in(d) for d in diags], ok)
            if has_source and self._source is not None:
                # The text itself (for columns inside texts) is read again: cheaper than
                # keeping it in the cache, and it checks the file is still the same.
                doc.source = decode(self._source.read(file, max_bytes), file)[0] or ""
            elif has_source:
                return read()
            self._pending[file] = (name, doc, state, schemas, False)
        else:
            doc = read()
            state = (doc.data, doc.marks, doc.key_marks, doc.raw, tuple(doc.block),
                     [_diag_out(d) for d in doc.diagnostics], doc.ok, bool(doc.source))
            # Written with its schema findings, once they are known (see schema()).
            self._pending[file] = (name, doc, state, {}, True)
        return doc

    def schema(
        self, doc: Document, kind: str, check: Callable[[], list[Diagnostic]]
    ) -> list[Diagnostic]:
        """The schema findings of a document read through :meth:`document`, kept beside it."""
        entry = self._pending.pop(doc.file, None)
        if entry is None or entry[1] is not doc:
            return check()
        name, _doc, state, schemas, dirty = entry
        if kind in schemas:
            found = [_diag_in(d) for d in schemas[kind]]
        else:
            schema.fast_validator(kind, self)  # compiled in an earlier run, if there was one
            found = check()
            schemas[kind] = [_diag_out(d) for d in found]
            dirty = True
        if dirty:
            self._put(name, (state, schemas))
        if kind == "part":
            self._read_as[doc.file] = (state[5], schemas[kind], state[6])
        return found

    # -- compiled schema validators (see stdkit.schema.fast_validator) -------------------------

    def compiled(self, name: str) -> Any:
        return self._get(self._name("code", name))

    def store_compiled(self, name: str, value: Any) -> None:
        self._put(self._name("code", name), value)

    # -- the findings of one part's checks ------------------------------------------------------

    def _part_name(
        self, file: str, digest: bytes, max_bytes: int, languages: tuple[str, ...],
        kind: str | None,
    ) -> str:
        return self._name("part", file, digest, str(max_bytes), repr(languages), repr(kind))

    def part_memo(self, standard_id: str, max_bytes: int) -> PartMemo:
        """What :func:`stdkit.rules.check_standard` asks for the part checks of one standard:
        their findings about a part, from an earlier run on the same part file (and languages
        and kind), or worked out and remembered with the part's facts."""
        names = self._parts_of[standard_id] = []

        def memo(
            part: PartFacts, languages: tuple[str, ...], kind: str | None,
            compute: Callable[[], list[Diagnostic]],
        ) -> list[Diagnostic]:
            digest = self.hashes.get(part.file)
            if digest is None or part.doc is None:
                return part.found if part.found is not None else compute()
            name = self._part_name(part.file, digest, max_bytes, languages, kind)
            names.append(name)
            if part.found is not None:  # its entry stood in for the file
                self._used.add(name)
                return part.found
            value = self._get(name)
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], list):
                return [_diag_in(d) for d in value[0]]
            found = compute()
            read_as = self._read_as.get(part.file)
            stand_in = None if read_as is None else (
                part.id, read_as[0] + read_as[1], read_as[2], part.dump())
            self._put(name, ([_diag_out(d) for d in found], stand_in))
            return found

        return memo

    def stand_in(
        self, file: str, max_bytes: int, languages: tuple[str, ...], kind: str | None
    ) -> StandIn | None:
        """What the loader needs of a part file it need not read (see
        :func:`stdkit.loader.load_standard`): from the file's part entry, if there is one."""
        digest = self.hashes.get(file)
        if digest is None:
            return None
        value = self._get(self._part_name(file, digest, max_bytes, languages, kind))
        if not isinstance(value, tuple) or len(value) != 2 or not isinstance(value[1], tuple):
            return None
        found, (part_id, read, ok, facts) = value
        # The parse stays in the cache (pruning keeps what is used): a finding that needs a
        # position in the file reads it from there, and so does the renderer.
        self._used.add(self._name("doc", file, digest, str(max_bytes)))
        return StandIn(part_id, [_diag_in(d) for d in read], ok, facts,
                       [_diag_in(d) for d in found])

    def part_entries(self, standard_id: str) -> tuple[list[str], dict[str, bytes]]:
        """The names of a standard's part entries, and those of them written by this process
        and not yet on disk (a worker process hands them to its parent)."""
        names = self._parts_of.get(standard_id, [])
        return names, {name: self._new[name] for name in names if name in self._new}

    def adopt_parts(self, standard_id: str, names: list[str], new: dict[str, bytes]) -> None:
        """Take in the part entries a worker process used and wrote for a standard."""
        self._parts_of[standard_id] = names
        self._new.update(new)
        self._used.update(names)

    # -- the index of one standard ----------------------------------------------------------------

    def _index_name(self, repo: Repository, standard_id: str) -> str | None:
        folder = repo.folders.get(standard_id)
        own = self.folders.get(folder) if folder is not None else None
        if own is None or folder is None:
            return None
        return self._name("index", self.hashes.get(SETTINGS_FILE, b"-"), standard_id, folder, own)

    def index(self, repo: Repository, standard_id: str) -> list[IndexEntry] | None:
        """The index of a standard whose folder has not changed since it was stored."""
        name = self._index_name(repo, standard_id)
        value = self._get(name) if name else None
        return value if isinstance(value, list) else None

    def store_index(self, repo: Repository, standard_id: str, index: list[IndexEntry]) -> None:
        name = self._index_name(repo, standard_id)
        if name is not None and name not in self._new and not self._packs.has(name):
            self._put(name, index)
        elif name is not None:
            self._used.add(name)

    # -- level 3: the rule findings of one standard ----------------------------------------------

    def _rules_name(self, repo: Repository, standard_id: str) -> str | None:
        folder = repo.folders.get(standard_id)
        own = self.folders.get(folder) if folder is not None else None
        if own is None or folder is None:
            return None
        return self._name("rules", self.hashes.get(SETTINGS_FILE, b"-"),
                          repr(sorted(repo.folders.items())), standard_id, folder, own)

    def rules(self, repo: Repository, standard_id: str) -> list[Diagnostic] | None:
        """The rule findings of a standard from an earlier run, if nothing they used changed."""
        name = self._rules_name(repo, standard_id)
        value = self._get(name) if name else None
        if not isinstance(value, tuple) or len(value) != 3:
            return None
        used, found, parts = value
        if all(self._peer_digest(repo, sid) == digest for sid, digest in used):
            self._peers_used[standard_id] = used
            self._keep_parts(standard_id, parts)
            return [_diag_in(d) for d in found]
        return None

    def _keep_parts(self, standard_id: str, parts: list[str]) -> None:
        # A result served from the cache keeps the part entries it was made from: the next
        # edit of one part file of the standard checks that part only.
        self._parts_of[standard_id] = parts
        self._used.update(parts)

    def store_rules(
        self, repo: Repository, standard_id: str, found: list[Diagnostic], asked: set[str] | None
    ) -> None:
        """Remember a standard's findings with the peers its checks asked for (None: all)."""
        name = self._rules_name(repo, standard_id)
        if name is None:
            return
        used = [(sid, self._peer_digest(repo, sid))
                for sid in sorted(repo.folders if asked is None else asked)]
        self._peers_used[standard_id] = used
        self._put(name, (used, [_diag_out(d) for d in found], self._parts_of.get(standard_id, [])))

    # -- level 4: what a whole-repository run reports about one standard -----------------------

    def result(
        self, repo: Repository, standard_id: str
    ) -> tuple[list[Diagnostic], int, int] | None:
        """The final findings (waivers and settings applied), waived count and file count of
        one standard, from an earlier run, if neither it nor a peer its checks used changed."""
        name = self._rules_name(repo, standard_id)
        value = self._get(f"result{name[5:]}") if name else None
        if not isinstance(value, tuple) or len(value) != 5:
            return None
        used, found, waived, files, parts = value
        if not all(self._peer_digest(repo, sid) == digest for sid, digest in used):
            return None
        self._keep_parts(standard_id, parts)
        index = self._index_name(repo, standard_id)
        if index is not None:
            self._used.add(index)
        # What this result was made from stays in the cache (pruning keeps what is used):
        # the next edit of one file of the standard re-reads that file only.
        folder = f"{STANDARDS_DIR}/{repo.folders.get(standard_id, standard_id)}/"
        max_bytes = str(repo.settings.max_file_bytes)
        self._used.update(self._name("doc", file, digest, max_bytes)
                          for file, digest in self.hashes.items() if file.startswith(folder))
        if name is not None:
            self._used.add(name)
        return [_diag_in(d) for d in found], waived, files

    def store_result(
        self, repo: Repository, standard_id: str, found: list[Diagnostic], waived: int, files: int
    ) -> None:
        name = self._rules_name(repo, standard_id)
        used = self._peers_used.get(standard_id)
        if name is None or used is None:
            return
        self._put(f"result{name[5:]}", (used, [_diag_out(d) for d in found], waived, files,
                                         self._parts_of.get(standard_id, [])))

    def _peer_digest(self, repo: Repository, standard_id: str) -> bytes:
        folder = repo.folders.get(standard_id)
        return self.folders.get(folder, b"-") if folder is not None else b"-"

    # -- writing --------------------------------------------------------------------------------

    def flush(self) -> set[str]:
        """Write the new entries now, and forget them (memory holds a few standards' worth);
        the names of the entries used so far."""
        self.close()
        self._new.clear()
        return set(self._used)

    def merge(self, used: set[str], changed: bool) -> None:
        """Take in what a worker process used (so that pruning keeps it) and saw."""
        self._used |= used
        self.changed = self.changed or changed

    def close(self, *, prune: bool = False) -> None:
        """Write the new entries (each atomically); with ``prune``, drop entries not used now."""
        if self.changed:
            return  # what was read is not what was fingerprinted: remember nothing
        for file, (name, _doc, state, schemas, dirty) in list(self._pending.items()):
            # Read, never schema-checked here: keep the parse, unless another process already
            # wrote the entry (with its schema findings too).
            if dirty and not self._packs.has(name):
                self._put(name, (state, schemas))
            self._pending[file] = (name, _doc, state, schemas, False)
        if not self._new and not prune:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            ignore = self.root / CACHE_DIR / ".gitignore"
            if not ignore.exists():
                _write(ignore, b"# stdkit's cache: never commit it\n*\n")
            self._packs.write(self._new)
            if prune:
                self._packs.prune(self._used)
                for sub in _LEGACY:  # entries one a file, as earlier versions kept them
                    shutil.rmtree(self.dir / sub, ignore_errors=True)
        except OSError:
            return  # a read-only tree, a full disk: the next run recomputes


class Recording(dict[str, Any]):
    """The peers of a standard's checks, noting which ones the checks asked for.

    It holds nothing itself: every question goes to ``peers`` (which may load a standard only
    when it is first asked for), and is written down on the way.
    """

    def __init__(self, peers: Mapping[str, Any]) -> None:
        super().__init__()
        self._peers = peers
        self.asked: set[str] = set()
        self.everything = False

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return self._peers[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return self._peers.get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return key in self._peers

    def __iter__(self) -> Iterator[str]:
        self.everything = True
        return iter(self._peers)

    def __len__(self) -> int:
        self.everything = True
        return len(self._peers)

    def keys(self) -> Any:
        self.everything = True
        return self._peers.keys()

    def values(self) -> Any:
        self.everything = True
        return self._peers.values()

    def items(self) -> Any:
        self.everything = True
        return self._peers.items()


def _write(path: Path, data: bytes) -> None:
    """Atomic (temporary file, rename) but not durable: a lost entry is only a miss."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class Packs:
    """Where the entries of a cache are kept (validation, diff): pack files of many entries each.

    A run writes its new entries a few at a time (a standard's worth), each batch as one pack:
    ``MAGIC``, the length of the header, the header (a marshalled mapping from entry name to
    offset and length) and the sealed entries one after the other. A pack is named after a
    digest of its content and written to a temporary file first, then renamed: it is there
    whole or not at all. Making a file costs the file system far more than filling it
    (much more so right after many were deleted), so a first run makes dozens of files, not
    thousands; and a lookup is one read at an offset. Each entry stays sealed on its own, so a
    damaged or foreign pack is only a miss.

    The header of each pack is read on the first lookup, and the folder is listed again when a
    lookup misses and the folder changed since (another process may have written the entry
    meanwhile). Pruning drops the packs none of whose entries were used, and rewrites the used
    entries of packs that are mostly unused, or small when there are many, into one (a first
    run's packs, a standard's worth each and all used, stay as they are).
    """

    MAGIC = b"stdkit-pack-1\n"
    SUFFIX = ".pack"
    MANY = 32  # small packs beyond this many are merged when pruning, smallest first
    SMALL = 1 << 20  # bytes

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.where: dict[str, tuple[str, int, int]] = {}  # entry -> (pack, offset, length)
        self.packs: dict[str, dict[str, tuple[int, int]]] = {}  # pack -> its entries
        self._listed: int | None = None  # the folder's mtime when it was last listed
        self._fds: dict[str, int] = {}

    def _refresh(self) -> None:
        try:
            stamp = os.stat(self.folder).st_mtime_ns
        except OSError:
            return
        if stamp == self._listed:
            return
        self._listed = stamp
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        for name in sorted(names):
            if name.endswith(self.SUFFIX) and not name.startswith(".") \
                    and name not in self.packs:
                self._read_header(name)

    def _read_header(self, name: str) -> None:
        magic = self.MAGIC
        try:
            with open(os.path.join(self.folder, name), "rb") as fh:
                head = fh.read(len(magic) + 4)
                size = int.from_bytes(head[len(magic):], "little")
                if head[:len(magic)] != magic or size > 1 << 28:
                    return
                header = marshal.loads(fh.read(size))
        except (OSError, EOFError, ValueError, TypeError):
            return
        if not isinstance(header, dict):
            return
        base = len(magic) + 4 + size
        entries: dict[str, tuple[int, int]] = {}
        for entry, place in header.items():
            if (isinstance(entry, str) and isinstance(place, tuple) and len(place) == 2
                    and all(isinstance(x, int) for x in place)):
                entries[entry] = (base + place[0], place[1])
                self.where.setdefault(entry, (name, base + place[0], place[1]))
        self.packs[name] = entries

    def listing(self) -> dict[str, tuple[str, int, int]]:
        """Every entry of the packs on disk now: (pack, offset, length) by name."""
        self._refresh()
        return dict(self.where)

    def has(self, entry: str) -> bool:
        if entry not in self.where:
            self._refresh()
        return entry in self.where

    def get(self, entry: str) -> bytes | None:
        """The sealed entry ``entry``, or None."""
        place = self.where.get(entry)
        if place is None:
            self._refresh()
            place = self.where.get(entry)
            if place is None:
                return None
        pack, offset, length = place
        try:
            data = self._read(pack, offset, length)
        except OSError:
            data = b""
        if len(data) != length:
            self.where.pop(entry, None)  # the pack went away (pruned by another run)
            return None
        return data

    def _read(self, pack: str, offset: int, length: int) -> bytes:
        path = os.path.join(self.folder, pack)
        if not hasattr(os, "pread"):
            with open(path, "rb") as fh:
                fh.seek(offset)
                return fh.read(length)
        # One descriptor a pack, read at offsets: worker processes share them safely.
        fd = self._fds.get(pack)
        if fd is None:
            fd = self._fds[pack] = os.open(path, os.O_RDONLY)
        return os.pread(fd, length, offset)

    def write(self, entries: Mapping[str, bytes]) -> str | None:
        """Write ``entries`` (name -> sealed entry) as one pack; its name."""
        if not entries:
            return None
        header: dict[str, tuple[int, int]] = {}
        offset = 0
        for entry, blob in entries.items():
            header[entry] = (offset, len(blob))
            offset += len(blob)
        head = marshal.dumps(header)
        parts = [self.MAGIC, len(head).to_bytes(4, "little"), head, *entries.values()]
        digest = hashlib.blake2b(digest_size=20)
        for part in parts:
            digest.update(part)
        name = digest.hexdigest() + self.SUFFIX
        self.folder.mkdir(parents=True, exist_ok=True)
        path = os.path.join(self.folder, name)
        tmp = os.path.join(self.folder, f".{name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.writelines(parts)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        base = len(self.MAGIC) + 4 + len(head)
        self.packs[name] = {e: (base + o, n) for e, (o, n) in header.items()}
        for entry, (o, n) in header.items():
            self.where[entry] = (name, base + o, n)
        return name

    def prune(self, used: set[str]) -> None:
        """Drop what ``used`` does not name (see the class docstring)."""
        self._refresh()
        keep: dict[str, list[str]] = {}
        for pack, entries in list(self.packs.items()):
            mine = [e for e in entries if e in used and self.where.get(e, ("",))[0] == pack]
            if mine:
                keep[pack] = mine
            else:
                self._drop(pack)
        sizes = {pack: sum(n for _o, n in self.packs[pack].values()) for pack in keep}
        live = {pack: sum(self.packs[pack][e][1] for e in keep[pack]) for pack in keep}
        merge = [pack for pack in keep if live[pack] * 2 < sizes[pack]]
        rest = sorted((p for p in keep if p not in merge), key=lambda p: sizes[p])
        while len(rest) > self.MANY and sizes[rest[0]] < self.SMALL:
            merge.append(rest.pop(0))
        if len(merge) < 2 and not any(live[p] * 2 < sizes[p] for p in merge):
            return
        moved: dict[str, bytes] = {}
        for pack in merge:
            for entry in keep[pack]:
                blob = self.get(entry)
                if blob is not None:
                    moved[entry] = blob
        # The merged pack is named after its content: it may be one of those it merges.
        merged = self.write(moved)
        for pack in merge:
            if pack != merged:
                self._drop(pack)

    def _drop(self, pack: str) -> None:
        fd = self._fds.pop(pack, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(self.folder, pack))
        for entry in self.packs.pop(pack, {}):
            if self.where.get(entry, ("",))[0] == pack:
                del self.where[entry]


class RenderCache:
    """The render cache under ``.stdkit-cache/render/``, on the fingerprint of a validation cache.

    Two levels, both keyed by content only, so that an entry can never be stale:

    * a whole site, by the digest of every file the loader could read (the validation cache's
      tree digest), the options (format, language, selected standards), the code digest and
      the versions of docutils and nh3;
    * one HTML page, by its RST document as a whole (the text and everything the HTML step reads
      from it: anchors, rows, sources, own lines, title, language, standard's kind), the code
      digest and the same versions. The RST already holds every link, number and traceability
      row taken from other standards, so a change in a referenced standard changes the key.

    Entries are signed like the validation cache's; a file that changed while it was read makes
    the run write nothing.
    """

    def __init__(self, base: ValidationCache) -> None:
        self.base = base
        self.dir = base.root / CACHE_DIR / "render"
        self._new: dict[str, bytes] = {}
        self._used: set[str] = set()
        self.libs = _render_libraries()

    @classmethod
    def open(cls, root: Path) -> RenderCache | None:
        base = ValidationCache.open(root)
        return cls(base) if base is not None else None

    def _name(self, kind: str, *parts: bytes | str) -> str:
        return self.base._name(kind, self.libs, *parts)

    def _get(self, name: str) -> Any:
        blob = self._new.get(name)
        if blob is None:
            try:
                blob = (self.dir / name).read_bytes()
            except OSError:
                return None
        value = unseal(self.base._key, blob)
        if value is INVALID:
            return None
        self._used.add(name)
        return value

    def _put(self, name: str, value: Any) -> None:
        self._new[name] = seal(self.base._key, value)
        self._used.add(name)

    def _site_name(self, options: str) -> str:
        return self._name("site", self.base.tree, options)

    def site(self, options: str) -> tuple[
            dict[str, bytes], tuple[list[Diagnostic], Summary], list[Diagnostic]] | None:
        """The files, validation gate report and diagnostics of an earlier render of exactly
        this tree, code and options."""
        value = self._get(self._site_name(options))
        if not isinstance(value, tuple) or len(value) != 4:
            return None
        files, gate, counts, diags = value
        if not isinstance(files, dict):
            return None
        return (dict(files), ([_diag_in(d) for d in gate], Summary(*counts)),
                [_diag_in(d) for d in diags])

    def store_site(self, options: str, files: Mapping[str, bytes],
                   diagnostics: list[Diagnostic],
                   gate: tuple[list[Diagnostic], Summary]) -> None:
        """Keep a site, with the report that let it be rendered (the same for the same tree
        and code: validation reads nothing else)."""
        summary = gate[1]
        counts = (summary.errors, summary.warnings, summary.infos, summary.files,
                  summary.standards, summary.waived)
        self._put(self._site_name(options), (dict(files), [_diag_out(d) for d in gate[0]],
                                             counts, [_diag_out(d) for d in diagnostics]))

    def page(self, key: bytes) -> tuple[str, list[Diagnostic]] | None:
        value = self._get(self._name("page", key))
        if not isinstance(value, tuple) or len(value) != 2 or not isinstance(value[0], str):
            return None
        return value[0], [_diag_in(d) for d in value[1]]

    def store_page(self, key: bytes, page: str, diagnostics: list[Diagnostic]) -> None:
        self._put(self._name("page", key), (page, [_diag_out(d) for d in diagnostics]))

    def keep_page(self, key: bytes) -> None:
        """The page of ``key`` was found (by a worker process): keep it when pruning."""
        self._used.add(self._name("page", key))

    def close(self, *, prune: bool = False) -> None:
        """Write the new entries; with ``prune``, drop the entries this run did not use."""
        if self.base.changed:
            return
        try:
            if self._new:
                self.dir.mkdir(parents=True, exist_ok=True)
                ignore = self.base.root / CACHE_DIR / ".gitignore"
                if not ignore.exists():
                    _write(ignore, b"# stdkit's cache: never commit it\n*\n")
                for name, blob in self._new.items():
                    _write(self.dir / name, blob)
            if prune:
                for sub in ("site", "page"):
                    folder = self.dir / sub
                    if not folder.is_dir():
                        continue
                    for path in folder.iterdir():
                        if path.is_file() and not path.name.startswith(".") and \
                                f"{sub}/{path.name}" not in self._used:
                            path.unlink(missing_ok=True)
        except OSError:
            return


def _render_libraries() -> bytes:
    from importlib import metadata

    out = []
    for dist in ("docutils", "nh3"):
        try:
            out.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{dist}=-")
    return "\0".join(out).encode()
