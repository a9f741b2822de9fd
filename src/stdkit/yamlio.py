"""Safe YAML reading with positions (and plain YAML writing); the only module that imports yaml.

Drafts are untrusted. The reader works on libyaml's event stream and builds plain Python values
itself, so that nothing YAML can express beyond plain data ever reaches the program:

* anchors, aliases and merge keys are rejected (no alias bombs: nothing is ever expanded);
* duplicate keys and non-string keys are rejected;
* tags other than the core ones (``!!str``, ``!!int`` …) are rejected;
* only ``true``/``false``, ``null``/``~``/empty, decimal integers without leading zeros and decimal
  floats are typed; everything else (``OFF``, ``0x1A0``, ``2026-11-24``) stays a string;
* size, nesting depth and number length are bounded.

Every rejection is a diagnostic with file, line and column; the caller never sees a yaml exception.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from stdkit.diagnostics import Diagnostic, Severity
from stdkit.errors import StdkitError
from stdkit.gcpause import collector_paused

Path_ = tuple[str | int, ...]
Mark = tuple[int, int]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_INT_DIGITS = 20

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)")
_NULLS = frozenset({"null", "~", ""})
_CORE = "tag:yaml.org,2002:"
_CORE_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))
# A plain scalar whose first character is none of these is a string whatever follows.
_TYPED_FIRST = frozenset("-0123456789tfn~")
_SCALAR = yaml.ScalarEvent

if not getattr(yaml, "__with_libyaml__", False) and not os.environ.get("STDKIT_ALLOW_PURE_YAML"):
    _PARSER: Any = None
else:
    _PARSER = getattr(yaml, "CBaseLoader", None) or yaml.BaseLoader


@dataclass(slots=True)
class Document:
    """A YAML file read into plain values, with the position of every key and value."""

    file: str
    data: Any = None
    marks: dict[Path_, Mark] = field(default_factory=dict)
    key_marks: dict[Path_, Mark] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)
    block: set[Path_] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ok: bool = True
    source: str = ""
    _lines: list[str] | None = None

    def at(self, path: Path_, *, key: bool = False) -> Mark:
        """Position of the value (or key) at ``path``; the nearest enclosing one if absent."""
        if key and path in self.key_marks:
            return self.key_marks[path]
        while path:
            mark = self.marks.get(path)
            if mark is not None:
                return mark
            path = path[:-1]
        return self.marks.get((), (1, 1))

    def text_line(self, path: Path_, offset: int) -> Mark:
        """Line and column of character ``offset`` inside the string at ``path``."""
        line, col = self.at(path)
        value = _get(self.data, path)
        if not isinstance(value, str):
            return line, col
        before = value[:offset]
        newlines = before.count("\n")
        if path in self.block:
            # Literal block: content starts on the next line, indented; column from the source.
            target = line + 1 + newlines
            src = self.source_line(target)
            indent = len(src) - len(src.lstrip(" "))
            return target, indent + 1 + (offset - (before.rfind("\n") + 1))
        if newlines:
            return line + newlines, 1
        quoted = self.source_line(line)[col - 1 : col] in ("'", '"')
        return line, col + offset + (1 if quoted else 0)

    def source_line(self, line: int) -> str:
        """The text of source line ``line`` (1-based), or "" when unknown."""
        if not self.source:
            return ""
        if self._lines is None:
            self._lines = self.source.split("\n")
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""

    def holds(self, path: Path_) -> bool:
        """Whether a value was read at ``path``."""
        return path in self.marks


class LazyDocument(Document):
    """A document known (from the validation cache) to have been read as a mapping, whose parse
    is read only when a position in it is asked for.

    Until then ``data`` is an empty mapping and ``ok`` is what the cache knows; the first call
    of :meth:`at`, :meth:`text_line`, :meth:`source_line` or :meth:`holds` reads the document
    through ``load`` and takes over its values.
    """

    __slots__ = ("_load",)

    def __init__(self, file: str, *, ok: bool, load: Any) -> None:
        super().__init__(file, data={}, ok=ok)
        self._load = load

    def fill(self) -> LazyDocument:
        """Read the document now (once); ``self``."""
        load = self._load
        if load is not None:
            self._load = None
            doc: Document = load()
            self.data, self.marks, self.key_marks = doc.data, doc.marks, doc.key_marks
            self.raw, self.block, self.source = doc.raw, doc.block, doc.source
        return self

    def at(self, path: Path_, *, key: bool = False) -> Mark:
        self.fill()
        return Document.at(self, path, key=key)

    def text_line(self, path: Path_, offset: int) -> Mark:
        self.fill()
        return Document.text_line(self, path, offset)

    def source_line(self, line: int) -> str:
        self.fill()
        return Document.source_line(self, line)

    def holds(self, path: Path_) -> bool:
        self.fill()
        return Document.holds(self, path)


def _get(data: Any, path: Path_) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


class _Frame:
    __slots__ = ("container", "expect_value", "is_key", "key", "key_mark", "key_ok", "mark", "path")

    def __init__(self, container: Any, path: Path_, mark: Mark, *, is_key: bool = False) -> None:
        self.container = container
        self.path = path
        self.mark = mark
        self.is_key = is_key  # a complex mapping key: read, reported, thrown away
        self.expect_value = False
        self.key: str = ""
        self.key_ok = False
        self.key_mark: Mark = mark


def _position(offset_text: str, index: int) -> Mark:
    line = offset_text.count("\n", 0, index) + 1
    col = index - (offset_text.rfind("\n", 0, index) + 1) + 1
    return line, col


def decode(raw: bytes, file: str) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 text of ``raw`` (BOM removed), or a located diagnostic for bad bytes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(raw[: exc.start].decode("utf-8", "replace"), exc.start)
        return None, Diagnostic(
            "YAML001", Severity.ERROR,
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            file, line, col, hint="save the file as UTF-8",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        line, col = _position(text, nul)
        return None, Diagnostic(
            "YAML001", Severity.ERROR, "the file contains a NUL byte", file, line, col,
            hint="remove the control character",
        )
    return text, None


def read_file(
    path: os.PathLike[str] | str, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Document:
    """Read and parse one YAML file; every problem becomes a diagnostic on the document."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        doc = Document(file, ok=False)
        doc.diagnostics.append(Diagnostic(
            "FILE001", Severity.ERROR, f"cannot read the file: {exc.strerror or exc}", file))
        return doc
    return read_bytes(raw, file, max_bytes=max_bytes)


def read_bytes(raw: bytes, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Parse the bytes of one YAML file (at most ``max_bytes`` of them)."""
    doc = Document(file)
    if len(raw) > max_bytes:
        doc.ok = False
        doc.diagnostics.append(Diagnostic(
            "YAML007", Severity.ERROR,
            f"the file is larger than the limit of {max_bytes} bytes", file,
            hint="split it into several part files, or raise max_file_bytes in stdkit.yaml"))
        return doc
    text, problem = decode(raw, file)
    if problem is not None or text is None:
        doc.ok = False
        if problem:
            doc.diagnostics.append(problem)
        return doc
    return parse(text, file, doc=doc)


def parse(text: str, file: str, *, doc: Document | None = None) -> Document:
    """Parse YAML ``text`` into a :class:`Document` (see the module docstring for the subset)."""
    if _PARSER is None:
        raise StdkitError(
            "PyYAML is installed without its libyaml C extension, which stdkit needs for speed;"
            " reinstall it from a wheel (pip install --force-reinstall pyyaml)"
            " or set STDKIT_ALLOW_PURE_YAML=1 to run slowly"
        )
    doc = doc or Document(file)
    doc.source = text
    # A document is a tree of fresh dicts and lists, without cycles: the cyclic garbage
    # collector would only walk it again and again while it grows.
    parser = None
    with collector_paused():
        try:
            parser = _PARSER(text)
            # The parser's events one by one, until it gives None (iterated in C: no generator
            # frame to resume for each of the half a million events of 10,000 clauses).
            _build(doc, iter(parser.get_event, None))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            hint = None
            if "\t" in problem or "tab" in problem.lower():
                hint = "indent with spaces, not tabs"
            doc.diagnostics.append(Diagnostic(
                "YAML001", Severity.ERROR, f"YAML syntax error: {problem}", file, line, col,
                hint=hint))
            doc.ok = False
            doc.data = None
        except yaml.YAMLError as exc:
            doc.diagnostics.append(Diagnostic(
                "YAML001", Severity.ERROR, f"YAML syntax error: {exc}", file))
            doc.ok = False
            doc.data = None
        finally:
            dispose = getattr(parser, "dispose", None) if parser is not None else None
            if dispose:
                dispose()
    return doc


def _shorthand(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _resolve_scalar(ev: Any, doc: Document, path: Path_, mark: Mark) -> Any:
    value: str = ev.value
    tag = ev.tag
    plain = not ev.style and ev.implicit[0]
    if tag is None or tag == "!":
        if not plain:
            return value
        kind = None
    else:
        kind = tag[len(_CORE):] if tag in _CORE_TAGS else None
        if kind is None:
            doc.diagnostics.append(Diagnostic(
                "YAML005", Severity.ERROR, f"the tag {_shorthand(tag)} is not allowed", doc.file,
                *mark,
                hint="remove the tag; stdkit reads plain data only"))
            return None
        if kind == "str":
            return value
    if kind in (None, "null") and value in _NULLS:
        return None
    if kind in (None, "bool") and value in ("true", "false"):
        return value == "true"
    if kind in (None, "int") and _INT.fullmatch(value):
        digits = len(value.lstrip("-"))
        if digits > MAX_INT_DIGITS:
            doc.diagnostics.append(Diagnostic(
                "YAML007", Severity.ERROR,
                f"an integer of {digits} digits is longer than the limit of {MAX_INT_DIGITS}",
                doc.file, *mark, hint="quote it if it is meant as text"))
            return value
        doc.raw[path] = value
        return int(value)
    if kind in (None, "float") and (_FLOAT.fullmatch(value) or (kind and _INT.fullmatch(value))):
        number = float(value)
        if not math.isfinite(number):
            doc.diagnostics.append(Diagnostic(
                "YAML007", Severity.ERROR, f"the number {value} is out of range", doc.file, *mark))
            return value
        doc.raw[path] = value
        return number
    if kind is not None and kind not in ("map", "seq"):
        doc.diagnostics.append(Diagnostic(
            "YAML005", Severity.ERROR, f"{value!r} is not a valid !!{kind}", doc.file, *mark))
        return None
    return value


def _build(doc: Document, events: Iterator[Any]) -> None:
    stack: list[_Frame] = []
    documents = 0
    file = doc.file
    diags = doc.diagnostics

    def complain(code: str, message: str, mark: Mark, hint: str | None = None) -> None:
        diags.append(Diagnostic(code, Severity.ERROR, message, file, *mark, hint=hint))

    def place(value: Any, mark: Mark, path: Path_) -> None:
        """Attach a finished value to the innermost container (or the document)."""
        if not stack:
            doc.marks[path] = mark
            doc.data = value
            return
        top = stack[-1]
        if isinstance(top.container, list):
            doc.marks[path] = mark
            top.container.append(value)
            return
        if top.key_ok:
            doc.marks[path] = mark
            doc.key_marks[path] = top.key_mark
            top.container[top.key] = value
        top.expect_value = False
        top.key_ok = False

    def push(frame: _Frame) -> bool:
        stack.append(frame)
        if len(stack) > MAX_DEPTH:
            complain("YAML007", f"nesting deeper than {MAX_DEPTH} levels", frame.mark,
                     hint="flatten the structure")
            doc.ok = False
            doc.data = None
            return False
        return True

    marks, key_marks = doc.marks, doc.key_marks
    for ev in events:
        # Fast path for the bulk of a draft: an untagged, unanchored scalar that is a plain
        # string (or quoted) as a key, a value or a list item. It does exactly what the general
        # path below does for such a scalar, minus the dispatching.
        if (type(ev) is _SCALAR and stack and ev.anchor is None and ev.tag is None
                and (ev.style or (ev.value and ev.value[0] not in _TYPED_FIRST))):
            last = stack[-1]
            held = last.container
            sm = ev.start_mark
            at: Mark = (sm.line + 1, sm.column + 1) if sm is not None else (1, 1)
            text: str = ev.value
            if type(held) is dict:
                if not last.expect_value:
                    if text != "<<" or ev.style:
                        last.key_mark = at
                        last.expect_value = True
                        last.key_ok = False
                        if text in held:
                            first = key_marks.get((*last.path, text), last.mark)
                            complain("YAML003", f"duplicate key {text!r} (first defined at line"
                                     f" {first[0]})", at, hint="remove or rename one of them")
                        else:
                            last.key, last.key_ok = text, True
                        continue
                else:
                    where: Path_ = (*last.path, last.key)
                    if ev.style in ("|", ">"):
                        doc.block.add(where)
                    if last.key_ok:
                        marks[where] = at
                        key_marks[where] = last.key_mark
                        held[last.key] = text
                    last.expect_value = False
                    last.key_ok = False
                    continue
            elif type(held) is list:
                where = (*last.path, len(held))
                if ev.style in ("|", ">"):
                    doc.block.add(where)
                marks[where] = at
                held.append(text)
                continue
        if isinstance(ev, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                complain(
                    "YAML006", "the file holds more than one YAML document",
                    (ev.start_mark.line + 1, ev.start_mark.column + 1) if ev.start_mark else (1, 1),
                    hint="remove the second '---'; one file holds one part")
                return
            continue
        if isinstance(ev, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            continue
        mark = (ev.start_mark.line + 1, ev.start_mark.column + 1)
        if isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if frame.is_key:
                parent = stack[-1]
                parent.expect_value, parent.key_ok = True, False
            elif frame.container is None:
                pass  # inside a discarded complex key
            else:
                place(frame.container, frame.mark, frame.path)
            continue

        if isinstance(ev, yaml.AliasEvent):
            complain("YAML002", f"aliases (*{ev.anchor}) are not allowed", mark,
                     hint="write the value out in full")
        elif ev.anchor is not None:
            complain("YAML002", f"anchors (&{ev.anchor}) are not allowed", mark,
                     hint="remove the anchor; write repeated values out in full")

        top = stack[-1] if stack else None
        if top is not None and top.container is None:
            # Inside a complex key that was reported and is being thrown away.
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)) and not push(
                _Frame(None, top.path, mark)
            ):
                return
            continue

        if top is not None and isinstance(top.container, dict) and not top.expect_value:
            # A mapping key.
            top.key_mark = mark
            top.expect_value = True
            top.key_ok = False
            if isinstance(ev, yaml.ScalarEvent):
                key = _resolve_scalar(ev, doc, (*top.path, "<key>"), mark)
                doc.raw.pop((*top.path, "<key>"), None)
                if key == "<<" and not ev.style:
                    complain("YAML002", "merge keys (<<) are not allowed", mark,
                             hint="write the merged keys out in full")
                elif not isinstance(key, str):
                    complain("YAML004", f"the key {ev.value!r} is not a string", mark,
                             hint=f'quote it: "{ev.value}"')
                elif key in top.container:
                    first = doc.key_marks.get((*top.path, key), top.mark)
                    complain("YAML003",
                             f"duplicate key {key!r} (first defined at line {first[0]})", mark,
                             hint="remove or rename one of them")
                else:
                    top.key, top.key_ok = key, True
            elif isinstance(ev, yaml.AliasEvent):
                pass
            else:
                complain("YAML004", "a mapping key must be a plain string", mark)
                top.expect_value = False
                if not push(_Frame(None, top.path, mark, is_key=True)):
                    return
            continue

        if top is None:
            path: Path_ = ()
        elif isinstance(top.container, list):
            path = (*top.path, len(top.container))
        else:
            path = (*top.path, top.key)

        if isinstance(ev, yaml.ScalarEvent):
            value = _resolve_scalar(ev, doc, path, mark)
            if ev.style in ("|", ">"):
                doc.block.add(path)
            place(value, mark, path)
        elif isinstance(ev, yaml.AliasEvent):
            place(None, mark, path)
        else:
            tag = ev.tag
            if tag is not None and tag != "!" and tag not in _CORE_TAGS:
                complain("YAML005", f"the tag {_shorthand(tag)} is not allowed", mark,
                         hint="remove the tag; stdkit reads plain data only")
            container: Any = {} if isinstance(ev, yaml.MappingStartEvent) else []
            if not push(_Frame(container, path, mark)):
                return


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key, as people write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump(data: Any) -> str:
    """Plain YAML for a value made of dicts, lists, strings, numbers and booleans."""
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
        default_flow_style=False,
    )
