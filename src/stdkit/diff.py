"""Clause-level diff: two models of a standard in, the changes in the standard's own terms out.

Pure: no I/O, no git. Objects are matched by id, never by position or file (docs/diff.md):

* ``added`` / ``removed``: an id on one side only (every object of an added or removed subtree is
  listed; those below its root carry ``within``);
* ``modified``: the same id with different content; ``fields`` names the changed keys, and texts
  carry word-level changes per language (character-level for Chinese, Japanese and Korean);
* ``moved``: a new parent (``fields`` has ``parent``, and ``file`` when it crossed part files), a
  new place among its siblings (``position``), or a new id for a container whose children stayed
  with it (``id``: a renamed part file). An object both moved and modified has two entries.

Renumbering that follows from an insertion, removal or move is not a change of every later
clause: such clauses are listed once, in ``renumbered``. Each change is marked normative or
editorial by the table in :data:`NORMATIVE_FIELDS` (see docs/diff.md).
"""

from __future__ import annotations

import difflib
import json
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from stdkit.model import (
    E2E,
    Clause,
    Level,
    Message,
    Obj,
    Origin,
    Standard,
    Step,
    Text,
    Unit,
    ValueEntry,
    numbering,
)

ADDED, REMOVED, MODIFIED, MOVED = "added", "removed", "modified", "moved"

# The fields whose change alters what a conforming product must do (docs/diff.md). Everything
# else (titles, notes, examples, descriptions, names written as prose) is editorial, and so is
# everything inside the foreword, the introduction, the bibliography and informative annexes.
NORMATIVE_FIELDS: dict[str, frozenset[str]] = {
    "clause": frozenset({"type", "annex", "text", "under_test"}),
    "provision": frozenset({"kind", "text", "verification", "asil"}),
    "term": frozenset({"term", "definition"}),
    "reference": frozenset({"designation"}),
    "node": frozenset(),
    "value_table": frozenset({"entries"}),
    "unit": frozenset({"quantity"}),
    "message": frozenset({"name", "can_id", "dlc", "sender", "receivers", "transmission",
                          "cycle_ms", "timeout_ms", "e2e"}),
    "signal": frozenset({"name", "start_bit", "length", "byte_order", "signed", "factor",
                         "offset", "min", "max", "unit", "initial", "invalid_raw",
                         "value_table"}),
    "environment": frozenset({"type"}),
    "case": frozenset({"verifies", "method", "level", "environment", "asil", "preconditions",
                       "steps", "pass_criteria"}),
    "evidence_type": frozenset(),
    "level": frozenset({"level"}),
    "criterion": frozenset({"text", "mandatory", "evidence"}),
    "standard": frozenset(),
}
# Objects whose meaning depends on where they sit: moving one to a new parent is normative.
PLACE_MATTERS = frozenset({"provision", "signal", "criterion", "case", "term"})
INFORMATIVE_PARTS = frozenset({"foreword", "introduction", "bibliography"})
# Bookkeeping that every release changes; the baseline names say it already.
METADATA_SKIPPED = frozenset({"id", "folder", "origin", "revision", "date", "parts", "part_ids"})

_CHILDREN: dict[type, tuple[str, ...]] = {
    Clause: Clause.CONTENT, Message: ("signals",), Level: ("criteria",),
}
_NOT_COMPARED = frozenset({"id", "origin"}) | frozenset(Clause.CONTENT) | {
    "signals", "criteria", "units"}


@dataclass(frozen=True, slots=True)
class TextChange:
    """Word-level changes of one text field in one language: ops are ``=``, ``-`` or ``+``."""

    field: str
    lang: str
    ops: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one object (DESIGN §8), with what a reader needs to see it."""

    standard: str
    id: str
    kind: str
    change: str
    fields: tuple[str, ...]
    old_number: str | None
    new_number: str | None
    normative: bool
    label: str = ""
    old_parent: str | None = None
    new_parent: str | None = None
    old_file: str | None = None
    new_file: str | None = None
    old_id: str | None = None
    within: str | None = None
    texts: tuple[TextChange, ...] = ()
    values: tuple[tuple[str, Any, Any], ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "standard": self.standard, "id": self.id, "kind": self.kind, "change": self.change,
            "fields": list(self.fields), "old_number": self.old_number,
            "new_number": self.new_number, "normative": self.normative, "label": self.label,
        }
        if self.change == MOVED:
            out |= {"old_parent": self.old_parent, "new_parent": self.new_parent,
                    "old_file": self.old_file, "new_file": self.new_file}
            if self.old_id is not None:
                out["old_id"] = self.old_id
        if self.within is not None:
            out["within"] = self.within
        if self.texts:
            out["texts"] = [{"field": t.field, "lang": t.lang, "ops": [list(op) for op in t.ops]}
                            for t in self.texts]
        if self.values:
            out["values"] = [{"field": f, "old": _plain(o), "new": _plain(n)}
                             for f, o, n in self.values]
        return out


def change_state(c: Change) -> tuple[Any, ...]:
    """A change as plain values (tuples, strings, numbers), for a cache to keep."""
    return (c.standard, c.id, c.kind, c.change, c.fields, c.old_number, c.new_number,
            c.normative, c.label, c.old_parent, c.new_parent, c.old_file, c.new_file, c.old_id,
            c.within, tuple((t.field, t.lang, t.ops) for t in c.texts), c.values)


def change_of(state: tuple[Any, ...]) -> Change:
    """The change of :func:`change_state`."""
    (standard, oid, kind, change, names, old_number, new_number, normative, title, old_parent,
     new_parent, old_file, new_file, old_id, within, texts, values) = state
    return Change(standard, oid, kind, change, names, old_number, new_number, normative, title,
                  old_parent, new_parent, old_file, new_file, old_id, within,
                  tuple(TextChange(*t) for t in texts), values)


@dataclass(frozen=True, slots=True)
class Renumbered:
    """A numbered object that kept its place but got a new number from changes around it."""

    standard: str
    id: str
    kind: str
    old_number: str
    new_number: str


@dataclass(frozen=True, slots=True)
class DiffResult:
    """All changes between two revisions, in document order."""

    old: str
    new: str
    changes: tuple[Change, ...]
    renumbered: tuple[Renumbered, ...] = ()
    old_commit: str | None = None
    new_commit: str | None = None

    @property
    def normative(self) -> int:
        return sum(1 for c in self.changes if c.normative)

    def as_json(self) -> dict[str, Any]:
        return {
            "old": self.old, "new": self.new,
            "changes": [c.as_json() for c in self.changes],
            "old_commit": self.old_commit, "new_commit": self.new_commit,
            "renumbered": [{"standard": r.standard, "id": r.id, "kind": r.kind,
                            "old_number": r.old_number, "new_number": r.new_number}
                           for r in self.renumbered],
            "summary": {"changes": len(self.changes), "normative": self.normative,
                        "editorial": len(self.changes) - self.normative},
        }


# -- the index of one side ------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    obj: Obj | Unit
    kind: str
    parent: str | None
    container: str
    index: int
    file: str
    number: str | None
    own_number: bool
    normative: bool
    order: int


def _index(std: Standard) -> tuple[dict[str, _Entry], dict[str, _Entry]]:
    """Every object (and, apart, every unit) of a standard by id, in document order."""
    numbers = numbering(std)
    objects: dict[str, _Entry] = {}
    units: dict[str, _Entry] = {}
    order = 0
    for i, part in enumerate(std.parts):
        normative = part.type not in INFORMATIVE_PARTS and not (
            part.type == "annex" and part.annex == "informative")
        file = part.origin.file
        stack: list[tuple[Obj, str | None, str, int, str | None]] = [
            (part, None, "parts", i, None)]
        while stack:
            obj, parent, container, idx, inherited = stack.pop()
            own = numbers.get(obj.id) if isinstance(obj, Clause) or obj.KIND == "term" else None
            number = own or inherited
            if obj.id not in objects:  # a duplicate id (ID001) keeps its first occurrence
                objects[obj.id] = _Entry(obj, obj.KIND, parent, container, idx, file, number,
                                         own is not None, normative, order)
                order += 1
            if isinstance(obj, Clause):
                for j, unit in enumerate(obj.units):
                    units.setdefault(unit.id, _Entry(unit, "unit", obj.id, "units", j, file,
                                                     number, False, normative, order))
            names = _CHILDREN.get(type(obj), ())
            for name in reversed(names):
                kids = getattr(obj, name)
                for j in range(len(kids) - 1, -1, -1):
                    stack.append((kids[j], obj.id, name, j, number))
    return objects, units


# -- comparing values -----------------------------------------------------------------------

_FIELDS: dict[type, tuple[str, ...]] = {}


def compared_fields(cls: type) -> tuple[str, ...]:
    """The fields of a model class that a diff compares (not ids, positions or children)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls) if f.name not in _NOT_COMPARED)
        _FIELDS[cls] = names
    return names


def _norm(value: Any) -> Any:
    """A comparable value: texts by language, positions dropped."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Text):
        return tuple(sorted(value.values.items()))
    if isinstance(value, tuple):
        if len(value) == 2 and isinstance(value[1], Origin):
            return value[0]
        return tuple(_norm(v) for v in value)
    if isinstance(value, Step):
        return (_norm(value.action), _norm(value.expected))
    if isinstance(value, ValueEntry):
        return (value.value, value.name)
    if isinstance(value, E2E):
        return (value.profile, value.data_id, value.counter, value.checksum)
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), repr(v)) for k, v in value.items()))
    return repr(value)


_SCALARS = (str, int, float, bool, type(None))


def _same(a: Any, b: Any) -> bool:
    """Equal content, decided without building normalised copies (the common case)."""
    if a is b:
        return True
    if isinstance(a, Text) and isinstance(b, Text):
        return a.values == b.values
    if isinstance(a, _SCALARS) and isinstance(b, _SCALARS):
        return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return bool(a == b)
    if isinstance(a, Origin) and isinstance(b, Origin):
        return True  # where something is written is not what it says
    if isinstance(a, Step) and isinstance(b, Step):
        return _same(a.action, b.action) and _same(a.expected, b.expected)
    if isinstance(a, ValueEntry) and isinstance(b, ValueEntry):
        return a.value == b.value and a.name == b.name
    return bool(_norm(a) == _norm(b))


def _plain(value: Any) -> Any:
    """A JSON value for a normalised one."""
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str)
                         for v in value) and not isinstance(value[0][1], tuple):
            return dict(value)
        return [_plain(v) for v in value]
    return value


def _is_text(value: Any) -> bool:
    if isinstance(value, (Text, Step)):
        return True
    return isinstance(value, tuple) and bool(value) and isinstance(value[0], (Text, Step))


def _strings(value: Any) -> dict[str, str]:
    """The prose of a field per language (lists of texts joined by blank lines)."""
    if isinstance(value, Text):
        return dict(value.values)
    if isinstance(value, Step):
        out: dict[str, str] = {}
        for part, sep in ((value.action, ""), (value.expected, " → ")):
            for lang, text in (part.values.items() if part else ()):
                out[lang] = out.get(lang, "") + sep + text if lang in out else text
        return out
    joined: dict[str, list[str]] = {}
    for item in value or ():
        for lang, text in _strings(item).items():
            joined.setdefault(lang, []).append(text)
    return {lang: "\n\n".join(texts) for lang, texts in joined.items()}


def _compare(old: Any, new: Any, names: tuple[str, ...], langs: tuple[str, ...]) -> tuple[
        list[str], list[TextChange], list[tuple[str, Any, Any]]]:
    changed: list[str] = []
    texts: list[TextChange] = []
    values: list[tuple[str, Any, Any]] = []
    for name in names:
        a, b = getattr(old, name), getattr(new, name)
        if _same(a, b):
            continue
        na, nb = _norm(a), _norm(b)
        if na == nb:
            continue
        changed.append(name)
        if _is_text(a) or _is_text(b):
            sa, sb = _strings(a), _strings(b)
            for lang in _languages(sa, sb, langs):
                x, y = sa.get(lang, ""), sb.get(lang, "")
                if x != y:
                    texts.append(TextChange(name, lang, text_diff(x, y)))
        else:
            values.append((name, na, nb))
    return changed, texts, values


def _languages(a: Mapping[str, str], b: Mapping[str, str], first: tuple[str, ...]) -> list[str]:
    seen = [lang for lang in first if lang in a or lang in b]
    return seen + sorted((set(a) | set(b)) - set(seen))


# -- word-level text diff -------------------------------------------------------------------

_CJK = "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(
    r":(?:ref|term|cite):`[^`\n]*`"  # a role is one token: never split a reference
    r"|``[^`\n]+``"
    rf"|[{_CJK}\u3000-\u303f\uff00-\uffef]"  # Chinese, Japanese, Korean: one character each
    rf"|[^\W{_CJK}]+"  # a word of any other script
    r"|\s+|.",
    re.S,
)


def tokens(text: str) -> list[str]:
    """Words, spaces and punctuation; every Chinese character is a token of its own."""
    return _TOKEN.findall(text)


def text_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """The changes from ``old`` to ``new`` as (``=``/``-``/``+``, text) runs."""
    a, b = tokens(old), tokens(new)
    ops: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            ops.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            ops.append(("+", "".join(b[j1:j2])))
    return _tidy(ops)


def _tidy(ops: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Fold lone spaces between two changes into them, and merge neighbours of one kind."""
    out: list[tuple[str, str]] = []
    for i, (op, text) in enumerate(ops):
        if (op == "=" and not text.strip() and 0 < i < len(ops) - 1
                and ops[i - 1][0] != "=" and ops[i + 1][0] != "="):
            ops[i + 1:i + 1] = []  # keep the list length stable for the look-ahead
            out.append(("-", text))
            out.append(("+", text))
            continue
        out.append((op, text))
    merged: list[list[str]] = []
    dels: list[str] = []
    ins: list[str] = []
    for op, text in out:
        if op == "=":
            if dels or ins:
                merged.extend([["-", "".join(dels)]] if dels else [])
                merged.extend([["+", "".join(ins)]] if ins else [])
                dels, ins = [], []
            if merged and merged[-1][0] == "=":
                merged[-1][1] += text
            else:
                merged.append(["=", text])
        elif op == "-":
            dels.append(text)
        else:
            ins.append(text)
    merged.extend([["-", "".join(dels)]] if dels else [])
    merged.extend([["+", "".join(ins)]] if ins else [])
    return tuple((op, text) for op, text in merged if text)


# -- the diff -------------------------------------------------------------------------------


def label(obj: Any, lang: str | None = None) -> str:
    """A short human name for an object: its title, term or name."""
    for name in ("title", "term", "name", "designation"):
        value = getattr(obj, name, None)
        if isinstance(value, Text):
            return (value.get(lang) if lang else None) or value.first()
        if isinstance(value, str):
            return value
    if isinstance(getattr(obj, "level", None), int):
        return f"level {obj.level}"
    return ""


def diff_standards(old: Standard | None, new: Standard | None) -> tuple[
        list[Change], list[Renumbered]]:
    """The changes of one standard (either side may be absent)."""
    if old is None and new is None:
        return [], []
    if old is None or new is None:
        std = new or old
        assert std is not None
        return [Change(std.id, std.id, "standard", ADDED if old is None else REMOVED, (),
                       None, None, True, label(std))], []
    return _Differ(old, new).run()


def diff(
    old: Mapping[str, Standard], new: Mapping[str, Standard], *, old_label: str = "",
    new_label: str = "", only: str | None = None, old_commit: str | None = None,
    new_commit: str | None = None,
) -> DiffResult:
    """The changes between two sets of standards (by standard id), in document order."""
    changes: list[Change] = []
    renumbered: list[Renumbered] = []
    for sid in sorted(set(old) | set(new)):
        if only is not None and sid != only:
            continue
        c, r = diff_standards(old.get(sid), new.get(sid))
        changes += c
        renumbered += r
    return DiffResult(old_label, new_label, tuple(changes), tuple(renumbered),
                      old_commit, new_commit)


class _Differ:
    def __init__(self, old: Standard, new: Standard) -> None:
        self.old, self.new = old, new
        self.sid = new.id
        self.langs = tuple(dict.fromkeys(new.languages + old.languages))
        self.a, self.a_units = _index(old)
        self.b, self.b_units = _index(new)
        self.keyed: list[tuple[tuple[int, int, int, int], Change]] = []
        self.renames: dict[str, str] = {}
        self.renamed_new: dict[str, str] = {}

    def emit(self, key: tuple[int, int, int, int], change: Change) -> None:
        self.keyed.append((key, change))

    def old_of(self, nid: str) -> str | None:
        """The old id of the object now called ``nid`` (None: it is new)."""
        oid = self.renamed_new.get(nid)
        if oid is not None:
            return oid
        return nid if nid in self.a and nid not in self.renames else None

    def new_of(self, oid: str) -> str | None:
        """The new id of the object that was called ``oid`` (None: it was removed)."""
        nid = self.renames.get(oid)
        if nid is not None:
            return nid
        return oid if oid in self.b and oid not in self.renamed_new else None

    def run(self) -> tuple[list[Change], list[Renumbered]]:
        a, b = self.a, self.b
        self._metadata()
        self.renames = self._renames()
        self.renamed_new = {n: o for o, n in self.renames.items()}
        moved = self._moves()
        renumbered: list[Renumbered] = []
        for nid, e in b.items():
            oid = self.old_of(nid)
            if oid is None:
                within = None
                parent = e.parent
                while parent is not None and self.old_of(parent) is None:
                    within, parent = parent, b[parent].parent
                self.emit((e.order, 0, 0, 0), Change(
                    self.sid, nid, e.kind, ADDED, (), None, e.number, e.normative,
                    label(e.obj), new_parent=e.parent, new_file=e.file, within=within))
                continue
            old = a[oid]
            if nid in moved:
                self.emit((e.order, 0, 1, 0), moved[nid])
            elif e.own_number and old.own_number and old.number != e.number:
                renumbered.append(Renumbered(self.sid, nid, e.kind, old.number or "",
                                             e.number or ""))
            self._modified(old, e, (e.order, 0, 2, 0))
        self._removed()
        self._units()
        self.keyed.sort(key=lambda kc: kc[0])
        return [c for _, c in self.keyed], renumbered

    def _metadata(self) -> None:
        names = tuple(n for n in compared_fields(Standard) if n not in METADATA_SKIPPED)
        changed, texts, values = _compare(self.old, self.new, names, self.langs)
        if changed:
            self.emit((-1, 0, 0, 0), Change(
                self.sid, self.sid, "standard", MODIFIED, tuple(changed), None, None, False,
                label(self.new), texts=tuple(texts), values=tuple(values)))

    def _renames(self) -> dict[str, str]:
        """Old id → new id of containers whose children went with them to a new id."""
        a, b = self.a, self.b
        removed = {oid for oid in a if oid not in b}
        if not removed:
            return {}
        votes: dict[tuple[str, str], int] = {}
        sizes: dict[str, int] = {}
        for nid, e in b.items():
            if e.parent is None or e.parent in a:
                continue  # only the children of a new id can vote for a rename
            old = a.get(nid)
            sizes[e.parent] = sizes.get(e.parent, 0) + 1
            if old is not None and old.parent in removed and a[old.parent].kind == \
                    b[e.parent].kind:
                key = (old.parent, e.parent)
                votes[key] = votes.get(key, 0) + 1
        renames: dict[str, str] = {}
        taken: set[str] = set()
        old_sizes: dict[str, int] = {}
        for e in a.values():
            if e.parent is not None:
                old_sizes[e.parent] = old_sizes.get(e.parent, 0) + 1
        for (oid, nid), n in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
            if oid in renames or nid in taken:
                continue
            if 2 * n >= max(old_sizes.get(oid, 0), sizes.get(nid, 0)):
                renames[oid] = nid
                taken.add(nid)
        # A part file renamed without children to vote: the same type and title, once each.
        def part_key(e: _Entry) -> tuple[Any, ...] | None:
            obj = e.obj
            if e.parent is not None or not isinstance(obj, Clause) or obj.title is None:
                return None
            return (obj.type, obj.annex, _norm(obj.title))

        gone = [(k, oid) for oid in removed if oid not in renames
                and (k := part_key(a[oid])) is not None]
        new_parts = [(k, nid) for nid, e in b.items() if nid not in a and nid not in taken
                     and (k := part_key(e)) is not None]
        for k, oid in gone:
            same = [nid for k2, nid in new_parts if k2 == k]
            if len(same) == 1 and sum(1 for k3, _ in gone if k3 == k) == 1:
                renames[oid] = same[0]
        return renames

    def _moves(self) -> dict[str, Change]:
        a, b = self.a, self.b
        moved: dict[str, Change] = {}
        siblings: dict[tuple[str | None, str], list[tuple[int, str]]] = {}
        for nid, e in b.items():
            oid = self.old_of(nid)
            if oid is None:
                continue
            old = a[oid]
            old_parent = self.new_of(old.parent) if old.parent is not None else None
            names: list[str] = []
            if oid != nid:
                names.append("id")
            if old_parent != e.parent or old.container != e.container:
                names.append("parent")
            else:
                siblings.setdefault((e.parent, e.container), []).append((old.index, nid))
            if old.file != e.file and names:
                # Only the root of a move names the file: what moved with it is not a change.
                names.append("file")
            if names:
                moved[nid] = self._move(old, e, nid, oid, names)
        for group in siblings.values():
            # Siblings that kept their relative order are a longest increasing run of old
            # places in new order; only the others moved (an insertion moves nobody).
            group.sort(key=lambda t: b[t[1]].index)
            keep = _increasing([i for i, _ in group])
            for k, (_, nid) in enumerate(group):
                if k in keep:
                    continue
                oid = self.old_of(nid) or nid
                prior = moved.get(nid)
                names = [*prior.fields, "position"] if prior else ["position"]
                moved[nid] = self._move(a[oid], b[nid], nid, oid, names)
        return moved

    def _move(self, old: _Entry, new: _Entry, nid: str, oid: str, names: list[str]) -> Change:
        normative = old.normative != new.normative or (
            "parent" in names and new.kind in PLACE_MATTERS and (old.normative or new.normative))
        return Change(
            self.sid, nid, new.kind, MOVED, tuple(names), old.number, new.number, normative,
            label(new.obj), old_parent=old.parent, new_parent=new.parent, old_file=old.file,
            new_file=new.file, old_id=oid if oid != nid else None)

    def _modified(self, old: _Entry, new: _Entry, key: tuple[int, int, int, int]) -> None:
        if old.obj is new.obj:
            return  # one model for a file both revisions hold: nothing differs
        if type(old.obj) is not type(new.obj):
            names: tuple[str, ...] = ("kind",)
            texts: list[TextChange] = []
            values: list[tuple[str, Any, Any]] = [("kind", old.kind, new.kind)]
            normative = old.normative or new.normative
        else:
            changed, texts, values = _compare(old.obj, new.obj, compared_fields(type(new.obj)),
                                              self.langs)
            if not changed:
                return
            names = tuple(changed)
            table = NORMATIVE_FIELDS.get(new.kind, frozenset())
            normative = (bool(table.intersection(names)) and (old.normative or new.normative)
                         ) or ("annex" in names or "type" in names)
        self.emit(key, Change(
            self.sid, new.obj.id, new.kind, MODIFIED, names, old.number, new.number, normative,
            label(new.obj), texts=tuple(texts), values=tuple(values)))

    def _removed(self) -> None:
        a, b = self.a, self.b
        last = -1  # where the last surviving object stands in the new document
        for oid, e in a.items():
            nid = self.new_of(oid)
            if nid is not None:
                last = b[nid].order
                continue
            within = None
            parent = e.parent
            while parent is not None and self.new_of(parent) is None:
                within, parent = parent, a[parent].parent
            self.emit((last, 1, e.order, 0), Change(
                self.sid, oid, e.kind, REMOVED, (), e.number, None, e.normative, label(e.obj),
                old_parent=e.parent, old_file=e.file, within=within))

    def _units(self) -> None:
        a, b = self.a_units, self.b_units
        for uid, e in b.items():
            old = a.get(uid)
            if old is None:
                self.emit((e.order, 0, 3, 0), Change(
                    self.sid, uid, "unit", ADDED, (), None, e.number, e.normative,
                    label(e.obj), new_parent=e.parent, new_file=e.file))
            else:
                self._modified(old, e, (e.order, 0, 3, 1))
        for uid, e in a.items():
            if uid not in b:
                self.emit((e.order, 1, 3, 0), Change(
                    self.sid, uid, "unit", REMOVED, (), e.number, None, e.normative,
                    label(e.obj), old_parent=e.parent, old_file=e.file))


def _increasing(values: list[int]) -> set[int]:
    """Positions (in ``values``) of one longest strictly increasing subsequence, O(n log n)."""
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(values)
    for i, v in enumerate(values):
        k = bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_at.append(i)
        else:
            tails[k] = v
            tail_at[k] = i
        back[i] = tail_at[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(i)
        i = back[i]
    return keep


# -- formats --------------------------------------------------------------------------------

Paint = Callable[[str, str], str]
_SIGNS = {ADDED: "+", REMOVED: "-", MODIFIED: "~", MOVED: ">"}


def format_json(result: DiffResult) -> str:
    """DESIGN §8: ``{"old", "new", "changes": [...]}`` (plus renumbered and a summary)."""
    return json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n"


def _number(change: Change) -> str:
    if change.change == MOVED or (change.change == MODIFIED
                                  and change.old_number != change.new_number):
        return f"{change.old_number or '–'} → {change.new_number or '–'}"
    return change.new_number or change.old_number or "–"


def inline(ops: tuple[tuple[str, str], ...], paint: Paint | None = None) -> str:
    """A text diff on one line: ``[-deleted-]{+inserted+}`` (or coloured)."""
    out = []
    last = len(ops) - 1
    for i, (op, text) in enumerate(ops):
        text = text.replace("\n", "⏎ " if op != "=" else " ")
        if op == "=":
            out.append(_elide(text, head=i > 0, tail=i < last))
        elif paint is not None:
            out.append(paint(text, "delete" if op == "-" else "insert"))
        else:
            out.append(f"[-{text}-]" if op == "-" else f"{{+{text}+}}")
    return "".join(out)


CONTEXT = 40  # characters of unchanged text kept beside a change in the text report


def _elide(text: str, *, head: bool, tail: bool) -> str:
    """Unchanged text shortened to the context a reader needs around the changes."""
    if len(text) <= 2 * CONTEXT + 5:
        return text
    start = text[:CONTEXT] if head else ""
    end = text[-CONTEXT:] if tail else ""
    return f"{start}…{end}"


def format_text(result: DiffResult, paint: Paint | None = None) -> str:
    """The changes for a terminal: one line per change, then the text changes under it."""
    def p(text: str, role: str) -> str:
        return paint(text, role) if paint else text

    lines = [p(f"changes from {result.old} to {result.new}", "header")]
    if not result.changes:
        lines.append("no changes")
        return "\n".join(lines) + "\n"
    by_std: dict[str, list[Change]] = {}
    for c in result.changes:
        by_std.setdefault(c.standard, []).append(c)
    for sid, changes in by_std.items():
        n = sum(1 for c in changes if c.normative)
        lines.append(p(f"{sid}: {len(changes)} change{'s' if len(changes) != 1 else ''}"
                       f" ({n} normative, {len(changes) - n} editorial)", "header"))
        for c in changes:
            what = f"{_SIGNS[c.change]} {c.change:<8} {c.kind:<13} {c.id}"
            extra = []
            if c.fields:
                extra.append(", ".join(c.fields))
            if c.change == MOVED:
                if "id" in c.fields:
                    extra.append(f"was {c.old_id}")
                if "parent" in c.fields:
                    extra.append(f"from {c.old_parent or 'the top level'} to"
                                 f" {c.new_parent or 'the top level'}")
                if c.old_file != c.new_file:
                    extra.append(f"{_base(c.old_file)} → {_base(c.new_file)}")
            if c.within:
                extra.append(f"within {c.within}")
            tail = f"  {c.label}" if c.label else ""
            line = (f"  {p(what, c.change)}  [{_number(c)}]"
                    f" {'normative' if c.normative else 'editorial'}"
                    f"{' (' + '; '.join(extra) + ')' if extra else ''}{tail}")
            lines.append(line)
            for t in c.texts:
                lines.append(f"      {t.field} [{t.lang}]: {inline(t.ops, paint)}")
            for name, old, new in c.values:
                lines.append(f"      {name}: {_show(old)} → {_show(new)}")
    if result.renumbered:
        shown = ", ".join(f"{r.id} {r.old_number}→{r.new_number}" for r in result.renumbered[:8])
        more = len(result.renumbered) - 8
        lines.append(p(f"renumbered as a result of the changes above: {shown}"
                       f"{f' and {more} more' if more > 0 else ''}", "dim"))
    return "\n".join(lines) + "\n"


def _base(file: str | None) -> str:
    return (file or "").rpartition("/")[2]


def _show(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False)


def walk_changes(result: DiffResult) -> Iterator[tuple[str, list[Change]]]:
    """Changes grouped by standard, in order."""
    by_std: dict[str, list[Change]] = {}
    for c in result.changes:
        by_std.setdefault(c.standard, []).append(c)
    yield from by_std.items()


__all__ = [
    "ADDED", "MODIFIED", "MOVED", "NORMATIVE_FIELDS", "REMOVED", "Change", "DiffResult",
    "Renumbered", "TextChange", "change_of", "change_state", "compared_fields", "diff",
    "diff_standards", "format_json", "format_text", "inline", "label", "text_diff", "tokens",
    "walk_changes",
]

