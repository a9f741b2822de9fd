"""Git, safely: revisions checked before git sees them, files read from objects, never checked out.

The only module that imports GitPython (lazily, so that commands without git do not pay for it).
A revision from the command line is first checked against a conservative syntax (nothing
starting with ``-``, no shell or path characters, no ranges), then resolved with
``git rev-parse --verify --end-of-options REV^{commit}``; only the full commit id it yields is
ever passed on to other git commands. The working tree is a pseudo-revision (``commit`` None).

Files of a commit are listed with one ``git ls-tree`` and read through ``git cat-file --batch``
(one run for a whole revision, or one process kept open that reads a standard's folder at a
time); a symbolic link in the tree (mode 120000) is refused as an escape, whatever it points to.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stdkit.diagnostics import Diagnostic, Severity
from stdkit.errors import StdkitError, UsageError
from stdkit.fsio import CACHE_DIR
from stdkit.gcpause import collector_paused
from stdkit.loader import (
    META_FILE,
    SETTINGS_FILE,
    STANDARD_ID,
    STANDARDS_DIR,
    DiskSource,
    Source,
)
from stdkit.stages import stages
from stdkit.yamlio import Document, decode

WORKTREE_LABEL = "working tree"

# Branch names, tags (``rfia-0101/draft-for-comment.2``), ``HEAD~2``, ``main^``, ``@{1}``,
# abbreviated ids. No ':' (``rev:path``), no whitespace or shell characters, no ``..`` ranges.
_REVISION = re.compile(r"[A-Za-z0-9@_][A-Za-z0-9._/@{}^~+-]{0,254}")
_BASELINE = re.compile(r"([a-z][a-z0-9-]{1,63})@([a-z][a-z-]*)\.([1-9][0-9]{0,5})")
_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_SYMLINK = "120000"
_GITLINK = "160000"


class GitError(StdkitError):
    """A git command failed in a way the user has to resolve (identity, hooks, locks)."""


@dataclass(frozen=True, slots=True)
class Revision:
    """A resolved revision: what the user wrote, and its full commit id (None: working tree)."""

    label: str
    commit: str | None

    @property
    def worktree(self) -> bool:
        return self.commit is None


@dataclass(frozen=True, slots=True)
class TagInfo:
    """An entry of ``refs/tags``: name, the commit it marks, its message and creation date."""

    name: str
    commit: str
    annotated: bool
    message: str
    date: str


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """One commit of a log: id, author date (YYYY-MM-DD), author and subject line."""

    commit: str
    date: str
    author: str
    subject: str


def baseline_tag(text: str) -> str | None:
    """The tag named by a short form ``ID@STAGE.REVISION`` (None if ``text`` is not one)."""
    match = _BASELINE.fullmatch(text)
    if match is None or match.group(2) not in stages():
        return None
    return f"{match.group(1)}/{match.group(2)}.{match.group(3)}"


def check_revision(text: str) -> str:
    """``text`` if it may be shown to git as a revision; a one-line UsageError otherwise."""
    if text.startswith("-"):
        raise UsageError(
            f"refused: {text!r} is not a revision (revisions never start with '-';"
            " was it meant as an option?)"
        )
    if not _REVISION.fullmatch(text) or ".." in text or text.endswith((".", "/")):
        raise UsageError(
            f"refused: {text!r} is not a revision: use a commit id, branch, tag or baseline"
            " such as rfia-0101@draft-for-comment.2"
        )
    return text


class GitRepo:
    """The git repository holding a standards repository (which may be a subfolder of it)."""

    def __init__(self, root: Path) -> None:
        import git

        self.root = root.resolve()
        try:
            self._repo = git.Repo(self.root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise UsageError(
                f"{self.root} is not inside a git repository; run 'git init' and commit the"
                " standards first"
            ) from None
        if self._repo.bare or self._repo.working_tree_dir is None:
            raise UsageError(f"{self.root} is in a bare git repository")
        self.top = Path(self._repo.working_tree_dir).resolve()
        rel = self.root.relative_to(self.top).as_posix()
        # Paths inside the stdkit root, as git names them from the top of the work tree.
        self.prefix = "" if rel == "." else f"{rel}/"
        self._git_error: type[Exception] = git.GitCommandError

    # -- running git --------------------------------------------------------------------------

    def run(self, *args: str, check: bool = True) -> str:
        """Output of ``git ARGS`` (run at the top of the work tree, never through a shell)."""
        try:
            out = self._repo.git.execute(["git", *args], strip_newline_in_stdout=False)
        except self._git_error as exc:
            if not check:
                return ""
            raise GitError(_first_line(getattr(exc, "stderr", "") or str(exc), args)) from None
        return str(out)

    def _try(self, *args: str) -> str | None:
        status, out, _err = self._repo.git.execute(
            ["git", *args], with_extended_output=True, with_exceptions=False,
            strip_newline_in_stdout=False,
        )
        return str(out) if status == 0 else None

    def _spawn(self, args: Sequence[str], *, stdin: bool) -> tuple[Any, subprocess.Popen[bytes]]:
        # GitPython's handle kills the process when collected: callers keep it while reading.
        handle = self._repo.git.execute(
            ["git", *args], as_process=True, istream=subprocess.PIPE if stdin else None)
        proc = handle.proc
        if proc is None or proc.stdout is None:  # pragma: no cover - GitPython always sets them
            raise GitError(f"cannot run git {args[0]}")
        return handle, proc

    def _batch(self, args: Sequence[str], data: bytes) -> bytes:
        """Feed ``data`` to one ``git ARGS`` process and return all it printed."""
        _handle, proc = self._spawn(args, stdin=True)
        out, err = proc.communicate(data)
        if proc.returncode:
            raise GitError(_first_line(err.decode("utf-8", "replace"), args))
        return bytes(out)

    # -- revisions ----------------------------------------------------------------------------

    def resolve(self, text: str) -> Revision:
        """The commit a revision or baseline names; a one-line UsageError if there is none."""
        check_revision(text)
        tag = baseline_tag(text)
        if tag is not None:
            commit = self.commit_of(f"refs/tags/{tag}")
            if commit is None:
                sid = tag.partition("/")[0]
                raise UsageError(
                    f"unknown baseline {text!r}: there is no tag {tag};"
                    f" 'stdkit history {sid}' lists the baselines"
                )
            return Revision(text, commit)
        commit = self.commit_of(text)
        if commit is None:
            raise UsageError(
                f"unknown revision {text!r}: no commit, branch, tag or baseline of that name"
            )
        return Revision(text, commit)

    def commit_of(self, checked: str) -> str | None:
        """Full id of the commit ``checked`` names (it must have passed check_revision)."""
        out = self._try("rev-parse", "--verify", "--quiet", "--end-of-options",
                        f"{checked}^{{commit}}")
        commit = out.strip() if out else ""
        return commit if _COMMIT.fullmatch(commit) else None

    def head(self) -> str | None:
        """The commit HEAD names, or None in a repository without commits."""
        return self.commit_of("HEAD")

    # -- reading files of a revision ----------------------------------------------------------

    def source(self, revision: Revision, folders: Iterable[str] | None = None) -> Source:
        """The files of ``revision`` (only the standards in ``folders`` when given)."""
        base: Source = DiskSource(self.root) if revision.commit is None \
            else GitSource(self, revision.commit)
        return base if folders is None else Selected(base, folders)

    def tree(
        self, commit: str, paths: Sequence[str], *, recursive: bool = True
    ) -> list[tuple[str, str, str, int, str]]:
        """(mode, type, object id, size, path from the stdkit root) below ``paths`` of a commit."""
        _need_commit(commit)
        deep = ["-r", "-t"] if recursive else []
        out = self.run("ls-tree", *deep, "-l", "-z", "--full-tree", commit, "--",
                       *(f"{self.prefix}{p}" for p in paths))
        entries = []
        cut = len(self.prefix)
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, kind, oid, size = meta.split()
            entries.append((mode, kind, oid, int(size) if size.isdigit() else 0, path[cut:]))
        return entries

    def changed_standards(self, old: str, new: str) -> set[str] | None:
        """Folders under standards/ that differ between two commits (None: settings differ)."""
        sides = []
        for commit in (old, new):
            entries = self.tree(commit, [SETTINGS_FILE, f"{STANDARDS_DIR}/"], recursive=False)
            sides.append({path: oid for _mode, _kind, oid, _size, path in entries})
        if sides[0].get(SETTINGS_FILE) != sides[1].get(SETTINGS_FILE):
            return None
        names = (set(sides[0]) | set(sides[1])) - {SETTINGS_FILE}
        return {n.partition("/")[2] for n in names if sides[0].get(n) != sides[1].get(n)}

    def blobs(self, oids: Sequence[str]) -> dict[str, bytes]:
        """The contents of many blobs, read in one ``git cat-file --batch`` run."""
        if not oids:
            return {}
        for oid in oids:
            _need_commit(oid)  # object ids have the same shape; never pass anything else
        out = self._batch(["cat-file", "--batch"], "".join(f"{o}\n" for o in oids).encode())
        found: dict[str, bytes] = {}
        pos = 0
        for oid in oids:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode("ascii", "replace").split()
            pos = end + 1
            if len(header) != 3:  # "<oid> missing"
                continue
            size = int(header[2])
            found[oid] = out[pos:pos + size]
            pos += size + 1
        return found

    def reader(self) -> BlobReader:
        """A ``git cat-file --batch`` process kept open, for reading blobs batch after batch."""
        return BlobReader(self)

    def blob_head(self, oid: str, limit: int) -> bytes:
        """The first ``limit`` bytes of one (large) blob, without reading the rest."""
        _need_commit(oid)
        _handle, proc = self._spawn(["cat-file", "blob", oid], stdin=False)
        assert proc.stdout is not None
        try:
            data = proc.stdout.read(limit)
        finally:
            proc.kill()
            proc.wait()
        return bytes(data)

    # -- state of the work tree ---------------------------------------------------------------

    def dirty(self, path: str) -> list[str]:
        """Files below ``path`` (from the stdkit root) that differ from HEAD, untracked included."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all",
                       "--ignored=no", "--", f"{self.prefix}{path}")
        # -z records are "XY path"; a rename adds its old path as a record of its own.
        return [r[3:] for r in out.split("\0") if len(r) > 3 and r[2] == " "]

    def tree_id(self, commit: str, path: str) -> str | None:
        """The object id of a folder in a commit (equal ids: identical contents)."""
        _need_commit(commit)
        out = self._try("rev-parse", "--verify", "--quiet", "--end-of-options",
                        f"{commit}:{self.prefix}{path}")
        return out.strip() if out else None

    def commit_file(self, path: str, message: str) -> str:
        """Commit the work-tree contents of one file (and nothing else that is staged)."""
        self.run("commit", "--only", "--quiet", "-m", message, "--", f"{self.prefix}{path}")
        head = self.head()
        if head is None:  # pragma: no cover - git said it committed
            raise GitError("git commit reported success but HEAD names no commit")
        return head

    # -- tags and logs ------------------------------------------------------------------------

    def tags(self, prefix: str) -> list[TagInfo]:
        """The tags whose names start with ``prefix/`` (annotated or not)."""
        fmt = ("%(refname)%1f%(objecttype)%1f%(objectname)%1f%(*objectname)%1f"
               "%(creatordate:short)%1f%(contents)%1e")
        out = self.run("for-each-ref", f"--format={fmt}", f"refs/tags/{prefix}/")
        found = []
        for record in out.split("\x1e"):
            record = record.lstrip("\n")
            if not record:
                continue
            ref, kind, oid, peeled, date, message = (record.split("\x1f", 5) + [""] * 6)[:6]
            commit = peeled if kind == "tag" else oid
            if kind not in ("tag", "commit") or not _COMMIT.fullmatch(commit):
                continue
            found.append(TagInfo(ref.removeprefix("refs/tags/"), commit, kind == "tag",
                                 message, date))
        return found

    def create_tag(self, name: str, commit: str, message: str) -> None:
        """An annotated tag; fails (atomically, in git's ref transaction) if it exists."""
        _need_commit(commit)
        if self._try("check-ref-format", f"refs/tags/{name}") is None:
            raise UsageError(f"{name!r} is not a valid tag name")
        try:
            self._repo.git.execute(["git", "tag", "-a", "-m", message, name, commit])
        except self._git_error as exc:
            text = getattr(exc, "stderr", "") or str(exc)
            if "already exists" in text:
                raise StdkitError(
                    f"refused: the baseline {name} already exists (another release made it"
                    " first); nothing was tagged"
                ) from None
            raise GitError(_first_line(text, ("tag",))) from None

    def log(self, since: str | None, path: str) -> list[CommitInfo]:
        """Commits reachable from HEAD (after ``since``) that touch ``path``, newest first."""
        head = self.head()
        if head is None:
            return []
        span = head if since is None else f"{_need_commit(since)}..{head}"
        out = self.run("log", "--format=%H%x1f%ad%x1f%an%x1f%s%x1e", "--date=short",
                       span, "--", f"{self.prefix}{path}")
        commits = []
        for record in out.split("\x1e"):
            fields = record.strip("\n").split("\x1f")
            if len(fields) == 4:
                commits.append(CommitInfo(*fields))
        return commits


def _need_commit(oid: str) -> str:
    if not _COMMIT.fullmatch(oid):
        raise UsageError(f"internal: {oid!r} is not a full object id")
    return oid


def _first_line(text: str, args: Sequence[str]) -> str:
    for line in text.splitlines():
        line = line.strip().removeprefix("stderr:").strip().strip("'").strip()
        if line and not line.startswith(("Cmd(", "cmdline:")):
            return f"git {args[0] if args else ''} failed: {line.removeprefix('fatal: ')}"
    return f"git {args[0] if args else ''} failed"


class BlobReader:
    """One ``git cat-file --batch`` process kept open: blobs read on demand, a batch at a time.

    Requests go in chunks that fit in a pipe, and every answer of a chunk is read before the
    next chunk is written, so neither side ever waits on the other. A reader belongs to the
    process that started it: a forked process starts its own (see :meth:`GitSource.read`).
    """

    CHUNK = 512  # 512 ids of 41 bytes: well within a pipe's 64 KB

    def __init__(self, repo: GitRepo) -> None:
        self.pid = os.getpid()
        # GitPython's handle kills the process when collected: it is kept as long as the reader.
        self._handle, self._proc = repo._spawn(["cat-file", "--batch"], stdin=True)

    def read(self, oids: Sequence[str]) -> dict[str, bytes]:
        """The contents of ``oids`` (blob ids); a missing object is simply absent."""
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        found: dict[str, bytes] = {}
        for start in range(0, len(oids), self.CHUNK):
            chunk = oids[start:start + self.CHUNK]
            stdin.write("".join(f"{_need_commit(o)}\n" for o in chunk).encode())
            stdin.flush()
            for oid in chunk:
                header = stdout.readline().split()
                if not header:
                    raise GitError("git cat-file --batch stopped answering")
                if len(header) != 3:  # "<oid> missing"
                    continue
                found[oid] = _read_exactly(stdout, int(header[2]) + 1)[:-1]  # and its newline
        return found

    def close(self) -> None:
        if self.pid != os.getpid():
            return  # another process's reader: only its owner may end it
        stdin = self._proc.stdin
        if stdin is not None and not stdin.closed:
            stdin.close()
        self._proc.wait()


def _read_exactly(stream: Any, size: int) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise GitError("git cat-file --batch ended in the middle of an object")
        data += more
    return bytes(data)


class GitSource:
    """The files of one commit, as the loader's :class:`~stdkit.loader.Source`.

    By default the first read fetches every YAML file of the revision in one batch. With
    ``by_folder``, a read under ``standards/<folder>/`` fetches that folder's files only (and
    forgets the folder read before), so that memory holds one standard at a time.
    """

    def __init__(self, repo: GitRepo, commit: str, *, by_folder: bool = False) -> None:
        self.repo = repo
        self.commit = _need_commit(commit)
        self.by_folder = by_folder
        self._entries: dict[str, tuple[str, str, str, int]] | None = None
        self._children: dict[str, list[str]] = {}
        self._cache: dict[str, bytes] = {}
        self._fetched = False
        self._folder: str | None = None
        # One reader per process: a forked process never writes to its parent's git (and keeps
        # the parent's reader referenced, so that collecting it never ends the parent's git).
        self._readers: dict[int, BlobReader] = {}

    def _index(self) -> dict[str, tuple[str, str, str, int]]:
        if self._entries is None:
            entries: dict[str, tuple[str, str, str, int]] = {}
            children: dict[str, list[str]] = {"": []}
            for mode, kind, oid, size, path in self.repo.tree(
                self.commit, [SETTINGS_FILE, STANDARDS_DIR]
            ):
                entries[path] = (mode, kind, oid, size)
                parent, _, name = path.rpartition("/")
                children.setdefault(parent, []).append(name)
                if kind == "tree":
                    children.setdefault(path, [])
            self._entries, self._children = entries, children
        return self._entries

    def _entry(self, rel: str) -> tuple[str, str, str, int] | None:
        return self._index().get(rel)

    def is_dir(self, rel: str) -> bool:
        if rel == "":
            return True
        entry = self._entry(rel)
        # A link may name a folder; say yes so that the loader asks escapes() and refuses it.
        return entry is not None and (entry[1] == "tree" or entry[0] == _SYMLINK)

    def is_file(self, rel: str) -> bool:
        entry = self._entry(rel)
        return entry is not None and entry[1] == "blob"

    def listdir(self, rel: str) -> list[str]:
        self._index()
        return sorted(self._children.get(rel, []))

    def escapes(self, rel: str) -> bool:
        steps = rel.split("/")
        for i in range(1, len(steps) + 1):
            entry = self._entry("/".join(steps[:i]))
            if entry is not None and entry[0] in (_SYMLINK, _GITLINK):
                return True
        return False

    def read(self, rel: str, max_bytes: int) -> bytes:
        entry = self._entry(rel)
        if entry is None or entry[1] != "blob" or entry[0] == _SYMLINK:
            raise FileNotFoundError(2, "no such file in this revision", rel)
        if self.by_folder:
            self._fetch_folder(rel, max_bytes)
        elif not self._fetched:
            self._prefetch(max_bytes)
        data = self._cache.get(rel)
        if data is None:
            if self.by_folder and entry[3] <= max_bytes:
                data = self._reader().read([entry[2]]).get(entry[2])
                if data is None:
                    raise FileNotFoundError(2, "object missing from the repository", rel)
            else:
                data = self.repo.blob_head(entry[2], max_bytes + 1)
        return data[: max_bytes + 1]

    def oid(self, rel: str) -> str | None:
        """The blob id of a file of this commit (equal ids: identical contents)."""
        entry = self._entry(rel)
        return entry[2] if entry is not None and entry[1] == "blob" else None

    def tree_oid(self, rel: str) -> str | None:
        """The tree id of a folder of this commit (equal ids: identical contents)."""
        entry = self._entry(rel)
        return entry[2] if entry is not None and entry[1] == "tree" else None

    def size(self, folder: str) -> int:
        """Bytes of the files directly in ``folder`` (what reading it costs)."""
        entries = self._index()
        return sum(entries[f"{folder}/{name}"][3] for name in self._children.get(folder, ()))

    def close(self) -> None:
        """End this process's ``git cat-file`` (the next read starts another)."""
        reader = self._readers.pop(os.getpid(), None)
        if reader is not None:
            reader.close()

    def _reader(self) -> BlobReader:
        reader = self._readers.get(os.getpid())
        if reader is None:
            reader = self._readers[os.getpid()] = self.repo.reader()
        return reader

    def _fetch_folder(self, rel: str, max_bytes: int) -> None:
        """Read the YAML files of the folder holding the part file ``rel``, in one batch."""
        steps = rel.split("/")
        if len(steps) != 3 or steps[0] != STANDARDS_DIR or steps[2] == META_FILE:
            return  # standard.yaml alone tells which standard a folder holds: read it alone
        folder = f"{STANDARDS_DIR}/{steps[1]}"
        if folder == self._folder:
            return
        entries = self._index()
        wanted: dict[str, str] = {}
        for name in self._children.get(folder, ()):
            path = f"{folder}/{name}"
            mode, kind, oid, size = entries[path]
            if kind == "blob" and mode != _SYMLINK and size <= max_bytes and path.endswith(
                    (".yaml", ".yml")):
                wanted[path] = oid
        self._cache = {}  # the folder read before is done with: let it go
        contents = self._reader().read(sorted(set(wanted.values())))
        self._cache = {path: contents[oid] for path, oid in wanted.items() if oid in contents}
        self._folder = folder

    def _prefetch(self, max_bytes: int) -> None:
        """Read every YAML file the loader may ask for, in one batch."""
        self._fetched = True
        wanted: dict[str, str] = {}
        for path, (mode, kind, oid, size) in self._index().items():
            if kind != "blob" or mode == _SYMLINK or size > max_bytes:
                continue
            steps = path.split("/")
            if path == SETTINGS_FILE or (
                len(steps) == 3 and steps[0] == STANDARDS_DIR and path.endswith((".yaml", ".yml"))
            ):
                wanted[path] = oid
        contents = self.repo.blobs(sorted(set(wanted.values())))
        self._cache = {path: contents[oid] for path, oid in wanted.items() if oid in contents}


class ParsedBlobs:
    """Parsed documents of git blobs kept across runs, under ``.stdkit-cache/diff/``.

    An entry is keyed by the blob id (a hash of the content, so an entry can never be stale),
    the file's path, the size limit and the code digest of the validation cache (a new or
    patched stdkit starts afresh). Entries are signed with the validation cache's per-user key:
    one that this user's stdkit did not write is ignored. Any failure is a miss, never an error.

    The same folder keeps plain values under keys of git object ids (:meth:`value`,
    :meth:`keep`): the diff keeps there what it found between two git trees of a standard.

    Entries are written a standard's worth at a time into pack files (:class:`stdkit.cache.Packs`):
    a first diff of a repository makes a few dozen files, not one per file it parsed. The
    folder is bounded: once it holds more than :data:`LIMIT` bytes, a run that wrote new
    entries drops the packs none of whose entries it used, and merges those it used little
    (:meth:`prune`).
    """

    LIMIT = 256 * 1024 * 1024

    def __init__(self, root: Path, key: bytes, code: bytes) -> None:
        from stdkit.cache import Packs

        self.root = root
        self.dir = root / CACHE_DIR / "diff" / "packs"
        self._packs = Packs(self.dir)
        self._key = key[:64]
        self.code = code
        self._new: dict[str, bytes] = {}
        self.used: set[str] = set()  # entries this run read or wrote, as names under dir
        self.wrote = False

    @classmethod
    def open(cls, root: Path) -> ParsedBlobs | None:
        from stdkit.cache import _secret, code_digest

        key = _secret()
        return cls(root, key, code_digest()) if key is not None else None

    def _name(self, *parts: str) -> str:
        h = hashlib.blake2b(self.code, digest_size=20)
        for part in parts:
            h.update(part.encode() + b"\0")
        name = h.hexdigest()
        return f"{name[:2]}/{name[2:]}"

    def _read(self, name: str) -> Any:
        """The value of an entry (INVALID: none, damaged, or not this user's)."""
        from stdkit.cache import INVALID, unseal

        blob = self._packs.get(name)
        if blob is None:
            return INVALID
        with collector_paused():  # a fresh tree of plain values has no cycles to look for
            return unseal(self._key, blob)  # INVALID unless this user's stdkit wrote it

    def _keep(self, name: str, value: Any) -> None:
        from stdkit.cache import seal

        try:
            self._new[name] = seal(self._key, value)
        except ValueError:
            return  # not a marshallable value: simply not kept
        self.used.add(name)

    def value(self, key: tuple[str, ...]) -> Any:
        """The plain value kept under ``key`` (None if there is none)."""
        from stdkit.cache import INVALID

        name = self._name("value", *key)
        found = self._read(name)
        if found is INVALID:
            return None
        self.used.add(name)
        return found

    def keep(self, key: tuple[str, ...], value: Any) -> None:
        """Keep a plain (marshallable) value under ``key``, written by :meth:`close`."""
        self._keep(self._name("value", *key), value)

    def get(self, file: str, oid: str, max_bytes: int, source: GitSource) -> Document | None:
        from stdkit.cache import INVALID

        name = self._name("blob", file, oid, str(max_bytes))
        state = self._read(name)
        if state is INVALID:
            return None
        try:
            with collector_paused():
                data, marks, key_marks, raw, block, diags, ok, has_source = state
                doc = Document(file, data, marks, key_marks, raw, set(block),
                               [diagnostic_of(d) for d in diags], ok)
        except (ValueError, TypeError):
            return None
        if has_source:
            # The text itself (for columns inside texts) comes from the blob already read.
            try:
                doc.source = decode(source.read(file, max_bytes), file)[0] or ""
            except OSError:
                return None
        self.used.add(name)
        return doc

    def put(self, file: str, oid: str, max_bytes: int, doc: Document) -> None:
        diags = [diagnostic_state(d) for d in doc.diagnostics]
        self._keep(self._name("blob", file, oid, str(max_bytes)),
                   (doc.data, doc.marks, doc.key_marks, doc.raw, tuple(doc.block), diags,
                    doc.ok, bool(doc.source)))

    def close(self) -> None:
        """Write the new entries (each atomically); a read-only tree simply keeps nothing."""
        if not self._new:
            return
        from stdkit.cache import _write

        try:
            ignore = self.root / CACHE_DIR / ".gitignore"
            if not ignore.exists():
                _write(ignore, b"# stdkit's cache: never commit it\n*\n")
            self._packs.write(self._new)
            self.wrote = True
        except OSError:
            pass
        self._new.clear()

    def prune(self, used: Iterable[str] = ()) -> None:
        """Once the folder holds more than :data:`LIMIT` bytes, drop what neither this run nor
        ``used`` (what worker processes used) read or wrote (see :meth:`Packs.prune`)."""
        # Entries of stdkit versions that kept one file an entry: gone with the first prune.
        shutil.rmtree(self.root / CACHE_DIR / "diff" / "doc", ignore_errors=True)
        try:
            with os.scandir(self.dir) as found:
                size = sum(f.stat(follow_symlinks=False).st_size for f in found
                           if f.is_file(follow_symlinks=False))
        except OSError:
            return
        if size > self.LIMIT:
            self._packs.prune(self.used | set(used))


def diagnostic_state(d: Diagnostic) -> tuple[Any, ...]:
    """A diagnostic as plain values (for the cache)."""
    return (d.code, d.severity.value, d.message, d.file, d.line, d.column, d.object, d.hint)


def diagnostic_of(state: Sequence[Any]) -> Diagnostic:
    """The diagnostic of :func:`diagnostic_state`."""
    return Diagnostic(state[0], Severity(state[1]), *state[2:])


class SameBlobs:
    """A loader cache for the two sides of a diff: a blob both commits hold is parsed once,
    and with ``store``, once across runs."""

    def __init__(self, source: Source, shared: dict[tuple[Any, ...], Any],
                 store: ParsedBlobs | None = None) -> None:
        base = source.base if isinstance(source, Selected) else source
        self.source = base if isinstance(base, GitSource) else None
        self.shared = shared
        self.store = store

    def document(self, file: str, max_bytes: int, read: Callable[[], Document]) -> Document:
        oid = self.source.oid(file) if self.source is not None else None
        if oid is None or self.source is None:
            return read()
        key = (file, oid, max_bytes)
        doc = self.shared.get(key)
        if doc is None:
            doc = self.store.get(file, oid, max_bytes, self.source) if self.store else None
            if doc is None:
                doc = read()
                if self.store is not None:
                    self.store.put(file, oid, max_bytes, doc)
            self.shared[key] = self.shared[("held", id(doc))] = doc
        return doc

    def part(self, doc: Document, languages: tuple[str, ...], build: Callable[[], Any]) -> Any:
        """The model of a part file, built once for a document both sides share (frozen)."""
        # Only documents held by ``shared`` (alive, so their ids are never reused) qualify.
        if self.shared.get(("held", id(doc))) is not doc:
            return build()
        key = ("part", id(doc), languages)
        part = self.shared.get(key)
        if part is None:
            part = self.shared[key] = build()
        return part

    def schema(self, doc: Document, kind: str,
               check: Callable[[], list[Diagnostic]]) -> list[Diagnostic]:
        return check()


class Selected:
    """A source showing only some standards' folders (diff of one standard reads no others)."""

    def __init__(self, base: Source, folders: Iterable[str]) -> None:
        self.base = base
        self.folders = {f for f in folders if STANDARD_ID.fullmatch(f)}

    def _hidden(self, rel: str) -> bool:
        steps = rel.split("/")
        return len(steps) >= 2 and steps[0] == STANDARDS_DIR and steps[1] not in self.folders

    def is_dir(self, rel: str) -> bool:
        return not self._hidden(rel) and self.base.is_dir(rel)

    def is_file(self, rel: str) -> bool:
        return not self._hidden(rel) and self.base.is_file(rel)

    def listdir(self, rel: str) -> list[str]:
        names = self.base.listdir(rel)
        if rel == STANDARDS_DIR:
            return [n for n in names if n in self.folders]
        return names

    def escapes(self, rel: str) -> bool:
        return self.base.escapes(rel)

    def read(self, rel: str, max_bytes: int) -> bytes:
        if self._hidden(rel):
            raise FileNotFoundError(2, "not selected", rel)
        return self.base.read(rel, max_bytes)
