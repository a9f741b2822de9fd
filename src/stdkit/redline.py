"""The redline: the standard with its changes marked, as RST and (through the renderer) HTML.

At the top, a "Changes since OLD" table lists every change with its numbers; below, the
standard's text (the new one, with removed objects kept where they stood) in every language it
carries. Inserted text is marked ``:ins:``, deleted text ``:del:`` (struck through), and every
added, removed, modified or moved object sits in a container that draws a change bar.

No docutils here: the RST is built as text. For HTML the same document is built with private-use
marker characters in place of the two roles and the container classes (the renderer's sanitiser
keeps only its own classes), converted by :mod:`stdkit.render_html`, and the markers then become
``<ins>``, ``<del>`` and change-bar classes. Marker characters are removed from draft text first,
so only stdkit's own markup can produce them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from stdkit.diff import (
    ADDED,
    MODIFIED,
    MOVED,
    REMOVED,
    Change,
    DiffResult,
    compared_fields,
    label,
    text_diff,
)
from stdkit.model import ROLE, Clause, Level, Message, Obj, Standard, Step, Text, Unit, numbering
from stdkit.model import role_target as _target

# Characters that can start inline markup, a link or a role ('@' and ':' make e-mail addresses
# and URIs); everything else is literal in running text.
_SPECIAL = re.compile(r"([\\`*_|<>\[\]:@])")
# A paragraph starting like a list item, an enumeration or a comment would become one.
_BLOCK_START = re.compile(r"^(?:[-+•#]|\d+[.)]|[A-Za-z][.)]\s|\(|\.\.)")
_MARKERS = re.compile("[\ue000-\ue01f]")
INS_OPEN, INS_CLOSE, DEL_OPEN, DEL_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_BAR = {ADDED: "\ue011", REMOVED: "\ue012", MODIFIED: "\ue013", MOVED: "\ue014"}
_BAR_KIND = {v: k for k, v in _BAR.items()}
_CHILDREN: dict[type, tuple[str, ...]] = {
    Clause: Clause.CONTENT, Message: ("signals",), Level: ("criteria",),
}
_HEADING_FIELDS = frozenset({"title"})
_STYLE = """
body{font-family:"Noto Serif CJK SC","Source Han Serif SC",Georgia,serif;max-width:60em;
margin:2em auto;padding:0 1.5em;line-height:1.55;color:#222}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .5em;
vertical-align:top;text-align:left}th{background:#f2f2f2}
ins{color:#05620f;background:#e3f7e3;text-decoration:underline}
del{color:#a1040f;background:#fde8e8;text-decoration:line-through}
.rubric{font-weight:bold;margin-top:1.2em}
.rl{border-left:4px solid #d39e00;padding-left:.8em;margin-left:-1.2em}
.rl-added{border-left-color:#1f8a1f}.rl-removed{border-left-color:#c0392b}
.rl-moved{border-left-color:#2a62c0}
.rl .rl{margin-left:0}
.rl-tag{font-size:.75em;letter-spacing:.05em;text-transform:uppercase;color:#777;margin:0}
"""


def _clean(text: str) -> str:
    return _MARKERS.sub("", text)


def escape(text: str) -> str:
    """Literal inline RST: markup characters escaped, whitespace collapsed, markers gone."""
    return _SPECIAL.sub(r"\\\1", " ".join(_clean(text).split()))


def _guard(paragraph: str) -> str:
    """A paragraph that cannot be read as a list, an enumeration or a comment."""
    return "\\" + paragraph if _BLOCK_START.match(paragraph) else paragraph


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


class _Writer:
    """Writes the redline of one comparison, in RST proper or in the marked form for HTML."""

    def __init__(self, result: DiffResult, old: Mapping[str, Standard],
                 new: Mapping[str, Standard], *, html_mode: bool) -> None:
        self.result, self.old, self.new, self.html = result, old, new, html_mode
        self.lines: list[str] = []

    # -- marks --------------------------------------------------------------------------

    def mark(self, text: str, op: str) -> str:
        """``text`` (already escaped) as an insertion or deletion."""
        core = text.strip()
        if not core:
            return text if op == "+" else ""
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()):]
        if self.html:
            opening, closing = (INS_OPEN, INS_CLOSE) if op == "+" else (DEL_OPEN, DEL_CLOSE)
            return f"{lead}{opening}{core}{closing}{trail}"
        role = "ins" if op == "+" else "del"
        return f"{lead}\\ :{role}:`{core}`\\ {trail}"

    def ops_inline(self, ops: Sequence[tuple[str, str]]) -> list[str]:
        """Paragraphs of inline RST for a text diff (a blank line splits paragraphs)."""
        paragraphs: list[list[str]] = [[]]
        for op, text in ops:
            chunks = re.split(r"\n[ \t]*\n", text)
            for k, chunk in enumerate(chunks):
                if k:
                    paragraphs.append([])
                piece = _SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", _clean(chunk)))
                paragraphs[-1].append(piece if op == "=" else self.mark(piece, op))
        return [" ".join("".join(p).split(" ")).strip() for p in paragraphs if "".join(p).strip()]

    def emit(self, line: str = "", ind: str = "") -> None:
        self.lines.append(f"{ind}{line}" if line else "")

    def para(self, text: str, ind: str) -> None:
        self.emit()
        self.emit(_guard(text), ind)
        self.emit()

    # -- the document -------------------------------------------------------------------

    def document(self) -> str:
        r = self.result
        if not self.html:
            self.lines += [".. role:: ins", "", ".. role:: del", ""]
        title = f"Changes since {r.old}"
        self.heading(title, "#", over=True)
        counts = (f"From {r.old} to {r.new}: {len(r.changes)} change"
                  f"{'s' if len(r.changes) != 1 else ''} ({r.normative} normative,"
                  f" {len(r.changes) - r.normative} editorial).")
        self.para(escape(counts), "")
        if r.changes:
            self.summary()
        if r.renumbered:
            shown = ", ".join(f"{x.id} {x.old_number} → {x.new_number}" for x in r.renumbered)
            self.para(escape(f"Renumbered as a result of these changes: {shown}."), "")
        for sid in self.standards():
            self.standard(sid)
        return "\n".join(self.lines).rstrip("\n") + "\n"

    def heading(self, text: str, char: str, *, over: bool = False) -> None:
        line = char * max(4, _width(text) + 2)
        self.emit()
        if over:
            self.emit(line)
        self.emit(escape(text))
        self.emit(line)
        self.emit()

    def standards(self) -> list[str]:
        changed = {c.standard for c in self.result.changes}
        ids = sorted(changed or (set(self.new) | set(self.old)))
        return [s for s in ids if s in self.new or s in self.old]

    def summary(self) -> None:
        self.emit(".. list-table::")
        self.emit("   :header-rows: 1")
        self.emit()
        rows = [["No.", "Object", "Change", "Details", "Kind"]]
        for c in self.result.changes:
            shift = c.change == MOVED or (
                c.old_number is not None and c.new_number is not None
                and c.old_number != c.new_number)
            number = (f"{c.old_number or '–'} → {c.new_number or '–'}" if shift
                      else c.new_number or c.old_number or "–")
            obj = f"{c.kind} {c.id}" + (f" — {c.label}" if c.label else "")
            details = ", ".join(c.fields)
            if c.change == MOVED and c.old_file != c.new_file:
                details += f" ({_base(c.old_file)} → {_base(c.new_file)})"
            if c.within:
                details = f"within {c.within}"
            rows.append([number, obj, c.change, details,
                         "normative" if c.normative else "editorial"])
        for row in rows:
            for i, cell in enumerate(row):
                self.emit(("   * - " if i == 0 else "     - ") + (escape(cell) or "\\ "))
        self.emit()

    # -- one standard -------------------------------------------------------------------

    def standard(self, sid: str) -> None:
        new, old = self.new.get(sid), self.old.get(sid)
        std = new or old
        assert std is not None
        self.langs = tuple(dict.fromkeys(std.languages + (old.languages if old else ())))
        self.changes: dict[str, list[Change]] = {}
        self.removed: dict[str, Change] = {}
        for c in self.result.changes:
            if c.standard != sid:
                continue
            if c.change == REMOVED:
                self.removed[c.id] = c
            else:
                self.changes.setdefault(c.id, []).append(c)
        self.old_std, self.new_std = old, new
        self.numbers_new = numbering(new) if new else {}
        self.numbers_old = numbering(old) if old else {}
        self.index_new = {o.id: o for o, _ in new.objects()} if new else {}
        self.index_old = {o.id: o for o, _ in old.objects()} if old else {}
        whole = self.changes.get(sid, [])
        name = f"{std.designation or sid} {label(std)}".strip()
        self.heading(name, "=")
        if new is None or old is None:
            self.para(escape(f"The whole standard was {'added' if old is None else 'removed'}."),
                      "")
        for c in whole:
            self.bar_start(c.change, "")
            for field, lang, ops in self.text_changes(c):
                for p in self.ops_inline(ops):
                    self.para(f"{escape(field)} ({lang}): {p}", "   ")
            for field, a, b in c.values:
                self.para(f"{escape(field)}: {self.mark(escape(_show(a)), '-')}"
                          f" {self.mark(escape(_show(b)), '+')}", "   ")
        parts_new = list(new.parts) if new else []
        old_parts = list(old.parts) if old else []
        for part, state in self.merge(parts_new, old_parts, None, "parts"):
            self.obj(part, state, "")

    def merge(self, new_items: Sequence[Any], old_items: Sequence[Any], parent: str | None,
              container: str) -> Iterator[tuple[Any, str]]:
        """New children in order, with removed old ones placed where they stood."""
        merged: list[tuple[Any, str]] = [(x, "new") for x in new_items]
        for i, item in enumerate(old_items):
            if isinstance(item, Obj | Unit) and item.id in self.removed and (
                    self.removed[item.id].within is None):
                merged.insert(min(i, len(merged)), (item, "removed"))
        yield from merged

    def text_changes(self, c: Change) -> Iterator[tuple[str, str, tuple[tuple[str, str], ...]]]:
        """Text diffs of a change, recomputed on texts with roles resolved for reading."""
        old = self.index_old.get(c.old_id or c.id) if c.id != self.std_id() else self.old_std
        new = self.index_new.get(c.id) if c.id != self.std_id() else self.new_std
        for t in c.texts:
            a = self.resolve(_string(getattr(old, t.field, None), t.lang), t.lang, True)
            b = self.resolve(_string(getattr(new, t.field, None), t.lang), t.lang, False)
            yield t.field, t.lang, text_diff(a, b)

    def std_id(self) -> str:
        std = self.new_std or self.old_std
        return std.id if std else ""

    def resolve(self, value: str, lang: str, old: bool) -> str:
        """Roles as plain words: a reference as its number or name, a term as the term."""
        index = self.index_old if old else self.index_new
        numbers = self.numbers_old if old else self.numbers_new

        def repl(m: re.Match[str]) -> str:
            role, content = m.group(1), m.group(2)
            target = _target(content)
            explicit = content[: content.rfind("<")].strip() if target != content.strip() else ""
            obj = index.get(target)
            if explicit or obj is None:
                return explicit or target
            if role == "term":
                term = getattr(obj, "term", None)
                return (term.get(lang) if isinstance(term, Text) else None) or target
            if role == "cite":
                return getattr(obj, "designation", None) or target
            return numbers.get(target) or label(obj, lang) or target

        return ROLE.sub(repl, value)

    def bar_start(self, change: str, ind: str) -> None:
        """Open a change-bar container; its content is indented three spaces more."""
        self.emit()
        if self.html:
            self.emit(".. container::", ind)
            self.emit()
            self.emit(f"{_BAR[change]}{change}", ind + "   ")
        else:
            self.emit(f".. container:: redline {change}", ind)
            self.emit()
            self.emit(f"*{change}*", ind + "   ")
        self.emit()

    # -- one object ---------------------------------------------------------------------

    def obj(self, obj: Any, state: str, ind: str) -> None:
        if state == "removed":
            change: Change | None = self.removed.get(obj.id)
            kind = REMOVED
        else:
            own = self.changes.get(obj.id, [])
            kinds = [c.change for c in own]
            kind = ADDED if ADDED in kinds else MOVED if MOVED in kinds else \
                MODIFIED if MODIFIED in kinds else ""
            change = next((c for c in own if c.change == MODIFIED), None)
        moved = next((c for c in self.changes.get(obj.id, []) if c.change == MOVED), None)
        inner = ind
        if kind:
            self.bar_start(kind, ind)
            inner = ind + "   "
        whole = "+" if kind == ADDED else "-" if kind == REMOVED else None
        old_obj = self.index_old.get(moved.old_id or obj.id if moved else obj.id)
        changed = set(change.fields) if change is not None and kind != REMOVED else set()
        self.head(obj, old_obj, changed, whole, inner, moved, state)
        for name in compared_fields(type(obj)):
            if name in _HEADING_FIELDS:
                continue
            self.field(obj, old_obj, name, name in changed, whole, inner)
        for container in _CHILDREN.get(type(obj), ()):
            new_kids = getattr(obj, container)
            if state == "removed":
                for kid in new_kids:
                    self.obj(kid, "removed", inner)
                continue
            old_kids = getattr(old_obj, container, ())
            for kid, kstate in self.merge(new_kids, old_kids, obj.id, container):
                self.obj(kid, kstate, inner)
        if isinstance(obj, Clause):
            for unit in obj.units:
                self.field_line(f"unit {unit.id}", _plain_text(unit.name, self.langs)
                                + (f" ({unit.quantity})" if unit.quantity else ""), whole,
                                inner)

    def head(self, obj: Any, old_obj: Any, changed: set[str], whole: str | None, ind: str,
             moved: Change | None, state: str) -> None:
        numbers = self.numbers_old if state == "removed" else self.numbers_new
        number = numbers.get(obj.id, "")
        if moved is not None and moved.old_number != moved.new_number:
            number = f"{number} (was {moved.old_number or '–'})".strip()
        title_field = getattr(obj, "title", None)
        if isinstance(obj, Clause):
            if "title" in changed:
                titles = [self.title_diff(old_obj, obj, lang) for lang in self.langs]
            else:
                titles = [self.wrap(escape(_string(title_field, lang)), whole)
                          for lang in self.langs if _string(title_field, lang)]
            names = _PART_NAMES.get(obj.type or "", {})
            fallback = " / ".join(names[x] for x in self.langs if x in names) or obj.id
            text = " / ".join(t for t in titles if t) or self.wrap(escape(fallback), whole)
            if obj.type == "annex":
                text = f"{text} ({escape(obj.annex or '')})"
            number_part = self.wrap(escape(number), whole) if number else ""
            self.emit()
            self.emit(f".. rubric:: {number_part} {text}".rstrip(), ind)
            self.emit()
            if moved is not None:
                self.para(escape(self.moved_text(moved)), ind)
            return
        kind = getattr(obj, "KIND", "unit")
        plain_name = getattr(obj, "name", None)
        head = f"{kind} {obj.id}" + (f" — {plain_name}" if isinstance(plain_name, str) else "")
        if isinstance(title_field, Text):
            if "title" in changed:
                titles = [self.title_diff(old_obj, obj, lang) for lang in self.langs]
                head_rst = self.wrap(escape(head), whole) + ": " + " / ".join(
                    t for t in titles if t)
            else:
                head_rst = self.wrap(escape(head + ": " + " / ".join(
                    _string(title_field, lang) for lang in self.langs
                    if _string(title_field, lang))), whole)
        else:
            head_rst = self.wrap(escape(head), whole)
        self.para(head_rst, ind)
        if moved is not None:
            self.para(escape(self.moved_text(moved)), ind)

    def moved_text(self, moved: Change) -> str:
        parts = []
        if "id" in moved.fields:
            parts.append(f"renamed from {moved.old_id}")
        if "parent" in moved.fields:
            parts.append(f"moved from {moved.old_parent or 'the top level'}"
                         f" ({moved.old_number or 'unnumbered'})")
        if "position" in moved.fields:
            parts.append(f"moved within {moved.new_parent or 'the top level'}")
        if "file" in moved.fields:
            parts.append(f"file {_base(moved.old_file)} → {_base(moved.new_file)}")
        return "(" + "; ".join(parts) + ")"

    def title_diff(self, old_obj: Any, obj: Any, lang: str) -> str:
        a = _string(getattr(old_obj, "title", None), lang)
        b = _string(getattr(obj, "title", None), lang)
        return " ".join(self.ops_inline(text_diff(a, b)))

    def wrap(self, rst: str, whole: str | None) -> str:
        return self.mark(rst, whole) if whole and rst else rst

    def field(self, obj: Any, old_obj: Any, name: str, changed: bool, whole: str | None,
              ind: str) -> None:
        value = getattr(obj, name)
        if name in ("waive", "type", "annex") and not changed:
            return
        if (value is None or value == () or value == {}) and not changed:
            return
        if name == "name" and isinstance(value, str) and not changed:
            return  # already in the object's heading
        if name == "under_test" and value is False and not changed:
            return
        caption = _CAPTIONS.get(name, name.replace("_", " "))
        if _is_texty(value) or (changed and _is_texty(getattr(old_obj, name, None))):
            for lang in self.langs:
                b = self.resolve(_string(value, lang), lang, False)
                if changed:
                    a = self.resolve(_string(getattr(old_obj, name, None), lang), lang, True)
                    if a == b:
                        continue
                    paragraphs = self.ops_inline(text_diff(a, b))
                else:
                    if not b:
                        continue
                    paragraphs = [self.wrap(p, whole) for p in self.ops_inline((("=", b),))]
                for k, p in enumerate(paragraphs):
                    self.para(f"{escape(caption)}: {p}" if k == 0 and name != "text" else p, ind)
            return
        shown = _show(value)
        if changed:
            old_value = getattr(old_obj, name, None)
            self.para(f"{escape(caption)}: {self.mark(escape(_show(old_value)), '-')}"
                      f" {self.mark(escape(shown), '+')}", ind)
        else:
            self.field_line(caption, shown, whole, ind)

    def field_line(self, caption: str, shown: str, whole: str | None, ind: str) -> None:
        if shown:
            self.para(self.wrap(escape(f"{caption}: {shown}"), whole), ind)


_PART_NAMES = {  # GB/T 1.1 element names, for parts written without a title
    "foreword": {"zh": "前言", "en": "Foreword"},
    "introduction": {"zh": "引言", "en": "Introduction"},
    "scope": {"zh": "范围", "en": "Scope"},
    "normative-references": {"zh": "规范性引用文件", "en": "Normative references"},
    "terms": {"zh": "术语和定义", "en": "Terms and definitions"},
    "symbols": {"zh": "符号和缩略语", "en": "Symbols and abbreviated terms"},
    "bibliography": {"zh": "参考文献", "en": "Bibliography"},
}
_CAPTIONS = {
    "text": "text", "kind": "kind", "start_bit": "start bit", "can_id": "CAN id",
    "dlc": "DLC", "cycle_ms": "cycle (ms)", "timeout_ms": "timeout (ms)",
    "invalid_raw": "invalid (raw)", "pass_criteria": "pass criteria",
}


def _base(file: str | None) -> str:
    return (file or "").rpartition("/")[2]


def _is_texty(value: Any) -> bool:
    if isinstance(value, (Text, Step)):
        return True
    return isinstance(value, tuple) and bool(value) and isinstance(value[0], (Text, Step))


def _string(value: Any, lang: str) -> str:
    """The prose of a field in one language; lists of texts one paragraph each."""
    if value is None:
        return ""
    if isinstance(value, Text):
        return value.values.get(lang) or value.values.get("", "")
    if isinstance(value, Step):
        action, expected = _string(value.action, lang), _string(value.expected, lang)
        return f"{action} → {expected}" if expected else action
    if isinstance(value, tuple):
        return "\n\n".join(s for v in value if (s := _string(v, lang)))
    return ""


def _plain_text(value: Text | None, langs: Sequence[str]) -> str:
    if value is None:
        return ""
    return " / ".join(v for lang in langs if (v := value.values.get(lang)))


def _show(value: Any) -> str:
    """A non-text value as a reader would write it."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, tuple):
        if len(value) == 2 and isinstance(value[1], str) and isinstance(value[0], int):
            return f"{value[0]} = {value[1]}"
        return ", ".join(_show(v) for v in value)
    if hasattr(value, "value") and hasattr(value, "name") and not isinstance(value, Obj):
        return f"{value.value} = {value.name}"
    if hasattr(value, "profile"):
        return (f"profile {value.profile}, data id {value.data_id}, counter {value.counter},"
                f" checksum {value.checksum}")
    if isinstance(value, tuple | list):
        return ", ".join(_show(v) for v in value)
    return str(value)


def redline_rst(result: DiffResult, old: Mapping[str, Standard],
                new: Mapping[str, Standard]) -> str:
    """The redline as reStructuredText (roles ``ins`` and ``del``; containers ``redline``)."""
    return _Writer(result, old, new, html_mode=False).document()


_BAR_RE = re.compile(
    r'<div class="([^"]*)">(\s*)<p>([\ue011-\ue014])([^<]*)</p>')


def redline_html(
    result: DiffResult, old: Mapping[str, Standard], new: Mapping[str, Standard],
    convert: Callable[[str, str], str] | None = None,
) -> str:
    """The redline as one self-contained HTML page (styles inline, pinned by the CSP)."""
    rst = _Writer(result, old, new, html_mode=True).document()
    stds = [*new.values(), *old.values()]
    lang = stds[0].languages[0] if stds and stds[0].languages else "en"
    body = (convert or _convert)(rst, lang)
    body = body.replace(INS_OPEN, "<ins>").replace(INS_CLOSE, "</ins>")
    body = body.replace(DEL_OPEN, "<del>").replace(DEL_CLOSE, "</del>")
    body = _BAR_RE.sub(
        lambda m: (f'<div class="{m.group(1)} rl rl-{_BAR_KIND[m.group(3)]}">{m.group(2)}'
                   f'<p class="rl-tag">{m.group(4)}</p>'), body)
    body = _MARKERS.sub("", body)  # anything the renderer moved out of place
    style = _STYLE
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    csp = f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    code = "zh-Hans" if lang == "zh" else lang
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(code)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="stdkit">\n'
        f"<title>{html.escape(f'Changes since {result.old}')}</title>\n"
        f"<style>{style}</style>\n</head>\n"
        f'<body class="redline">\n<main class="document">\n{body}\n</main>\n</body>\n</html>\n'
    )


_MAIN = re.compile(r"<main[^>]*>(.*)</main>", re.S)


def _convert(rst: str, lang: str) -> str:
    """RST to sanitised HTML by the renderer (the only module that runs docutils)."""
    from stdkit import render_html

    page = render_html.index_page(rst, lang)
    found = _MAIN.search(page)
    return found.group(1) if found else page
