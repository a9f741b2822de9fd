"""HTML from the RST of :mod:`stdkit.render`: one locked-down docutils run per page, sanitised.

Drafts are untrusted, so docutils runs with raw HTML, file insertion, configuration files and
image embedding off; after parsing, anchors are set on the tree, links other than http, https,
mailto and relative ones are unlinked, and docutils' own warnings become diagnostics at the YAML
line the text came from. The HTML docutils writes is then cleaned by nh3 against the short list
of tags, attributes and classes this module emits, and served under a strict CSP.

The page's RST is the one source: what stdkit wrote around the drafts' texts (containers,
classes, headings, rubrics, plain paragraphs, links) is parsed here into the nodes docutils
would make of it, the rest by docutils' own parser, and docutils transforms and writes the
tree. ``tests/test_render_fast.py`` holds the two parses equal.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from importlib import resources
from types import SimpleNamespace
from typing import Any

import nh3
from docutils import frontend, nodes, utils
from docutils.io import StringOutput
from docutils.parsers.rst import Parser, directives, roles, states
from docutils.parsers.rst.directives import tables
from docutils.readers.standalone import Reader
from docutils.transforms import Transform, misc, parts, references, universal, writer_aux
from docutils.utils import SystemMessagePropagation, punctuation_chars
from docutils.writers.html5_polyglot import HTMLTranslator, Writer

from stdkit.diagnostics import Diagnostic, Severity, sort_diagnostics
from stdkit.gcpause import collector_paused
from stdkit.render import Catalogue, RstDocument, Where, labels

SAFE_LINK = re.compile(r"^(?:https?|mailto)$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' https: http:; base-uri 'none';"
       " form-action 'none'")

TAGS = frozenset({
    "a", "abbr", "aside", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "img", "kbd", "li", "main", "nav", "ol", "p", "pre", "section",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul", "var", "samp", "dfn", "q", "s", "del", "ins", "mark", "b", "i", "u",
})
ATTRIBUTES = {
    "*": {"id", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "col": {"span"},
}
# Classes docutils writes for standard constructs, and the ones stdkit writes. A draft's own
# classes (``.. class::``, ``:class:``) are dropped, so it cannot dress text as a provision.
_CLASS_NAMES = """
    docutils container reference external internal self-link simple arabic loweralpha
    upperalpha lowerroman upperroman field-list option-list footnote footnote-list
    footnote-reference citation citation-list citation-reference brackets backrefs fn-backref
    literal literal-block doctest code line-block line rubric topic topic-title sidebar
    sidebar-title sidebar-subtitle epigraph highlights pull-quote attribution compound
    compound-first compound-middle compound-last caption legend figure align-left align-center
    align-right align-top align-middle align-bottom formula math first last head stub
    colwidths-auto colwidths-given abbreviation acronym title-reference subscript superscript
    admonition admonition-title attention caution danger error hint important note tip warning
    field-name field-body colon classifier option option-group option-argument description
    kbd menuselection guilabel contents local
    text example provision requirement recommendation permission statement cover cover-type
    cover-designation cover-supersedes cover-title cover-title-alt cover-stage cover-facts
    cover-deadline cover-notice cover-dates cover-committee toc references term-entry
    term-name term-abbreviation term-source definition table-wrap message messages signals
    nodes units value-tables environments evidence-types levels level criteria case case-facts
    objective steps traceability deep-clause label alt annex annex-normative
    annex-informative generated foreword introduction scope normative-references terms
    symbols clause bibliography subclause index index-title environment site-nav document
    site-footer uncovered trace-list
"""
CLASSES = frozenset(_CLASS_NAMES.split())
# stdkit's own classes, which only the elements stdkit writes may carry ("note", "label" and
# "alt" are harmless: docutils writes the first two itself).
OWN_CLASSES = frozenset(_CLASS_NAMES.split("kbd menuselection guilabel contents local")[1]
                        .split()) - {"note", "label", "alt"}


# Docutils builds a new nested state machine (15 states, each compiling its transition table)
# for every bullet, enumerated, field or definition list it parses and throws it away after:
# on stdkit's pages, where every list-table row is a nested list, that was a quarter of the
# parse. Docutils already keeps finished "Body" machines for reuse (``nested_sm_cache``); this
# keeps the list machines the same way, by initial state. A machine is taken out of the pool
# while it runs (nested lists take others) and every attribute a run depends on is set before
# it starts, as docutils does for its own cache.
_LIST_MACHINES: dict[str, list[Any]] = {}
_plain_nested_list_parse = states.RSTState.nested_list_parse


def _pooled_nested_list_parse(self: Any, block: Any, input_offset: int, node: Any,
                              initial_state: str, blank_finish: bool,
                              blank_finish_state: str | None = None,
                              extra_settings: dict[str, Any] | None = None,
                              match_titles: bool = False,
                              state_machine_class: Any = None,
                              state_machine_kwargs: Any = None) -> tuple[int, bool]:
    if (match_titles or state_machine_class is not None or state_machine_kwargs is not None
            or self.nested_sm is not states.NestedStateMachine
            or self.nested_sm_kwargs.get("state_classes") is not states.state_classes):
        return _plain_nested_list_parse(  # type: ignore[no-any-return]
            self, block, input_offset, node, initial_state, blank_finish,
            blank_finish_state, extra_settings or {}, match_titles, state_machine_class,
            state_machine_kwargs)
    pool = _LIST_MACHINES.setdefault(initial_state, [])
    if pool:
        machine = pool.pop()
        machine.parent_state_machine = self.state_machine
    else:
        machine = states.NestedStateMachine(
            state_classes=states.state_classes, initial_state=initial_state,
            debug=self.debug, parent_state_machine=self.state_machine)
    finish_state = blank_finish_state or initial_state
    machine.states[finish_state].blank_finish = blank_finish
    for key, value in (extra_settings or {}).items():
        setattr(machine.states[initial_state], key, value)
    machine.run(block, input_offset, memo=self.memo, node=node, match_titles=False)
    blank_finish = machine.states[finish_state].blank_finish
    offset = machine.abs_line_offset()
    # Drop the references to this document before the machine waits for the next list.
    machine.node = machine.memo = machine.document = machine.reporter = None
    machine.parent_state_machine = machine.input_lines = None
    pool.append(machine)
    return offset, blank_finish


states.RSTState.nested_list_parse = _pooled_nested_list_parse  # type: ignore[method-assign]

# A run of explicit markup (directives, comments, targets) is parsed by a nested machine that
# docutils hands the rest of the document, copied (``input_lines[offset:]``): once for every
# run, so a page of N clauses, each with its ``.. class::`` and containers at the top level,
# copied O(N) lines O(N) times. The run can only reach as far as the first line at the left
# margin that starts no explicit markup (the machine stops there and steps back a line), so
# it is handed the lines up to and including that one: the same parse, without the copies.
_EXPLICIT_START = re.compile(r"(?:\.\.|__)(?: +|$)")
_plain_explicit_list = states.Body.explicit_list


def _windowed_explicit_list(self: Any, blank_finish: bool) -> None:
    machine = self.state_machine
    lines = machine.input_lines
    offset = machine.line_offset + 1  # next line
    end, count = offset, len(lines)
    data = lines.data
    while end < count:
        line = data[end]
        if line and not line[0].isspace() and not _EXPLICIT_START.match(line):
            end += 1  # the line that ends the run: the nested machine reads it, steps back
            break
        end += 1
    newline_offset, blank_finish = self.nested_list_parse(
        lines[offset:end], input_offset=machine.abs_line_offset() + 1, node=self.parent,
        initial_state="Explicit", blank_finish=blank_finish)
    self.goto_line(newline_offset)
    if not blank_finish:
        self.parent += self.unindent_warning("Explicit markup")


states.Body.explicit_list = _windowed_explicit_list  # type: ignore[method-assign]

# A list-table is parsed as a two-level bullet list: a nested parse of each row and of each
# cell, most of a table's cost. Written the way stdkit writes them ("* - " starts a row,
# "  - " a cell, four spaces continue it), the rows and cells are split here instead, each
# cell's lines parsed on their own as the bullet list would parse them, and a cell of plain
# words (nothing inline markup or a block could start with) becomes its paragraph directly.
# Any other form goes to docutils' own list-table.
_PLAIN_CELL = re.compile(r"[^*`_|\\:@<>\[\]/\s][^*`_|\\:@<>\[\]]*")
_CELL_BLOCK_START = re.compile(r"[-+*•‣⁃#(.=~^'\"]|[0-9A-Za-z]+[.)](?:\s|$)")
_WORD = re.compile(r"\w")


def _list_table_cells(lines: list[str]) -> list[list[tuple[int, int]]] | None:
    """The rows of a list-table in stdkit's own form, each cell as (first, end) line indexes
    into ``lines``; None for any other form."""
    rows: list[list[tuple[int, int]]] = []
    start = None
    for i, line in enumerate(lines):
        if line[4:5].isspace() and line.startswith(("* - ", "  - ")):
            return None  # more spaces after the bullet: the cell is indented further
        if line.startswith("* - ") or line == "* -":
            if start is not None:
                rows[-1].append((start, i))
            rows.append([])
            start = i
        elif line.startswith("  - ") or line == "  -":
            if start is None:
                return None
            rows[-1].append((start, i))
            start = i
        elif line and not line.startswith("    "):
            return None
        elif line and start is not None and lines[start] in ("* -", "  -") and \
                all(not x for x in lines[start + 1:i]):
            return None  # an empty first line then text: not the form stdkit writes
    if start is None:
        return None
    rows[-1].append((start, len(lines)))
    return rows


class _ListTable(tables.ListTable):
    """docutils' list-table, with rows and cells split without a nested list parse."""

    def run(self) -> Sequence[nodes.table | nodes.system_message]:
        lines = list(self.content.data) if self.content else []
        cells = _list_table_cells(lines)
        if cells is None or len({len(row) for row in cells}) != 1:
            return super().run()
        title, messages = self.make_title()  # type: ignore[no-untyped-call]
        table_data = [[self._cell(first, end) for first, end in row] for row in cells]
        try:
            col_widths = self.get_column_widths(len(cells[0]))  # type: ignore[no-untyped-call]
            header_rows = self.options.get("header-rows", 0)
            stub_columns = self.options.get("stub-columns", 0)
            self.check_table_dimensions(table_data, header_rows, stub_columns)
        except SystemMessagePropagation as detail:
            return [detail.args[0]]
        table_node = self.build_table_from_list(table_data, col_widths, header_rows,
                                                stub_columns)
        if "align" in self.options:
            table_node["align"] = self.options.get("align")
        table_node["classes"] += self.options.get("class", [])
        self.set_table_width(table_node)
        self.add_name(table_node)
        if title:
            table_node.insert(0, title)
        return [table_node, *messages]

    def _cell(self, first: int, end: int) -> list[nodes.Node]:
        block = self.content[first:end]
        block.trim_left(4)
        while block and not block[-1].strip():
            block.trim_end()
        if not block:
            return []
        offset = self.content_offset + first
        text = block[0]
        if (len(block) == 1 and _PLAIN_CELL.fullmatch(text) and text == text.strip()
                and not _CELL_BLOCK_START.match(text) and _WORD.search(text)):
            paragraph = nodes.paragraph(text, "", nodes.Text(text))
            paragraph.source, paragraph.line = \
                self.state_machine.get_source_and_line(offset + 1)
            return [paragraph]
        holder = nodes.Element()
        self.state.nested_parse(block, offset, holder)
        return list(holder.children)


_plain_list_table = tables.ListTable
directives.register_directive("list-table", _ListTable)


# Docutils' inline parser searches every text for every kind of inline markup, then for
# standalone URIs, e-mail addresses and the like, with large regular expressions; on stdkit's
# pages that is most of the parse. Most texts are plain words with the two constructs stdkit
# writes itself: anonymous links (`label <uri>`__, every reference a draft makes) and the
# :label:/:alt: roles. Such a text -- and nothing else: no character that could start any
# other markup, no "scheme:" or "@" docutils could read as a link -- is split here into the
# nodes docutils would make (the same constructors, the same context rules for where markup
# may start and end); any other text goes to docutils' parser. ``tests/test_render_fast.py``
# compares the two on random texts.
_INLINE_TOKEN = re.compile(
    # Words: nothing inline markup can start with; a colon only before a space or the end
    # (so no role and no URI scheme); "\ " (an escaped space, as docutils keeps it).
    r"(?P<plain>(?:[^`*_|\[\]:@\x00]|:(?=\s|$)|\x00 )+)"
    # An anonymous link to a URI of plain characters (no "_", no "@": no alias, no e-mail).
    r"|(?P<link>`(?P<label>[^`<>\x00\s](?:[^`<>\x00\n]*[^`<>\x00\s])?) +"
    r"<(?P<uri>[A-Za-z0-9#./:?=&%~+-]*[A-Za-z0-9#/=&%~+-])>`__)"
    # A role of stdkit's own form around plain characters.
    r"|(?P<role>:(?P<name>label|alt):`(?P<content>[^`\x00\s](?:[^`\x00]*[^`\x00\s])?)`)")


class _Inliner(states.Inliner):
    """docutils' inline parser, with the plain texts and stdkit's links and roles split here."""

    def init_customizations(self, settings: Any) -> None:
        super().init_customizations(settings)
        from docutils.utils import punctuation_chars as p

        self._start_ok = frozenset(p.openers + p.delimiters)
        self._end_ok = frozenset("\x00" + p.closing_delimiters + p.delimiters + p.closers)
        self._implicit = len(self.implicit_dispatch) == 1  # standalone URIs only

    def parse(self, text: str, lineno: int, memo: Any,
              parent: nodes.Element) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        found = self._split(text, memo) if self._implicit else None
        if found is None:
            return super().parse(text, lineno, memo, parent)
        return found, []

    def _split(self, text: str, memo: Any) -> list[nodes.Node] | None:
        remaining = utils.escape2null(text)
        out: list[nodes.Node] = []
        pos, end = 0, len(remaining)
        match = _INLINE_TOKEN.match
        start_ok, end_ok = self._start_ok, self._end_ok
        while pos < end:
            m = match(remaining, pos)
            if m is None:
                return None
            kind = m.lastgroup
            if kind == "plain":
                out.append(nodes.Text(m.group()))
                pos = m.end()
                continue
            # Markup may start only at the start, after a space or opening punctuation (not
            # "quoted" by a matching pair), and end only before a space, punctuation or the end.
            if pos:
                before = remaining[pos - 1]
                if not before.isspace() and before not in start_ok:
                    return None
            after = m.end()
            if after < end and not remaining[after].isspace() and remaining[after] not in end_ok:
                return None
            if kind == "link":
                label = m.group("label")
                if pos and punctuation_chars.match_chars(remaining[pos - 1], label[0]):
                    return None
                reference = nodes.reference(m.group(), label,
                                            name=nodes.whitespace_normalize_name(label))
                reference["refuri"] = m.group("uri")
                out.append(reference)
            else:
                role: Any
                role, found = roles.role(m.group("name"), memo.language, 0,
                                         memo.document.reporter)
                if role is None or found:
                    return None
                made, found = role(m.group("name"), m.group(), m.group("content"), 0, self)
                if found:
                    return None
                out.extend(made)
            pos = after
        return out


# The roles docutils knows in this process, ".. role::" definitions included.
_LOCAL_ROLES: dict[str, Any] = vars(roles)["_roles"]


# Docutils' init_customizations formats its patterns from the class's own namespace.
for _name, _value in vars(states.Inliner).items():
    if isinstance(_value, str) and not _name.startswith("__"):
        setattr(_Inliner, _name, _value)


# A page is a few thousand containers, classes and section headings that stdkit writes around
# the drafts' texts. Docutils parses each through its directive machinery and a nested state
# machine; this parses the ones stdkit wrote itself (the lines the page lists in ``own``) by
# building the same nodes directly, and hands every other run of lines -- the drafts' texts,
# stdkit's tables, lists and paragraphs -- to docutils' own nested parse, at its line in the
# page. The tree is the one docutils builds from the whole page (``tests/test_render_fast.py``
# compares them); anything this does not expect falls back to docutils' parse of the page.
_CONTAINER = re.compile(r"\.\. container:: (\S.*)$")
_CLASS = re.compile(r"\.\. class:: (\S.*)$")
_RUBRIC = re.compile(r"\.\. rubric:: +(\S.*)$")
# A title's underline as stdkit writes it (four or more of one punctuation character), and any
# line docutils may read as a transition or an underline (one of them, repeated).
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1{3,}$")
_LINE = re.compile(r"([!-/:-@\[-`{-~])\1* *$")


class _Fallback(Exception):
    """The page has something the structural parse does not expect: docutils parses it whole."""


class _StructuralParse:
    """Parses ``lines`` (a page's RST, split as docutils splits it) into ``document``."""

    def __init__(self, lines: list[str], document: nodes.document, own: frozenset[int]) -> None:
        from docutils.parsers.rst import languages
        from docutils.statemachine import StringList

        self.document = document
        self.own = own
        self.data = lines
        self.indent = [len(x) - len(x.lstrip(" ")) if x.strip() else -1 for x in lines]
        self.lines = StringList(lines, source=document["source"])
        machine: Any = states.RSTStateMachine(state_classes=states.state_classes,
                                              initial_state="Body",
                                              debug=document.reporter.debug_flag)
        # What RSTStateMachine.run sets up before it reads the first line.
        machine.language = languages.get_language(document.settings.language_code,
                                                  document.reporter)
        machine.match_titles = True
        inliner = _Inliner()
        inliner.init_customizations(document.settings)
        self.memo = machine.memo = SimpleNamespace(
            document=document, reporter=document.reporter, language=machine.language,
            title_styles=[], section_level=0, section_bubble_up_kludge=False,
            inliner=inliner)
        machine.document = document
        machine.attach_observer(document.note_source)
        machine.reporter = document.reporter
        machine.node = document
        machine.runtime_init()
        machine.input_lines = self.lines
        machine.input_offset = 0
        machine.line_offset = 0
        self.machine = machine
        self.body: Any = machine.get_state("Body")
        # What a line docutils reads as more than a paragraph starts with: a list, a field,
        # an option, a table, explicit markup, a transition.
        self.starts = [self.body.transitions[name][0]
                       for name in self.body.transition_order if name != "text"]
        self.current: nodes.Element = document  # the section the next top-level lines go in
        self.flush: Callable[[], None] = lambda: None
        self.ended_on_heading = False  # whether the last thing at the top was a heading

    def run(self) -> None:
        try:
            self.block(0, len(self.data), top=True)
            # Where docutils' machine leaves the document: past the last line (nodes that
            # transforms add later read it).
            self.document.note_source(self.document["source"], None)  # type: ignore[arg-type]
            # The reporter asks it for the line of messages made later: docutils' machine
            # ends past the last line, a line further after explicit markup (stepping over
            # the block it read).
            self.machine.line_offset = len(self.data) + (not self.ended_on_heading)
        finally:
            self.machine.unlink()

    def block(self, start: int, end: int, parent: nodes.Element | None = None, *,
              top: bool = False) -> None:
        """Lines ``start:end`` (a page, or a container's content) into ``parent``."""
        indent = self.indent
        while start < end and indent[start] < 0:
            start += 1
        while end > start and indent[end - 1] < 0:
            end -= 1
        if start == end:
            return
        base = min(x for x in indent[start:end] if x >= 0)
        run: list[int] = []  # where the lines not parsed here yet start

        def flush() -> None:
            """Hand the lines before a construct of ours to docutils first (document order)."""
            if run:
                self.delegate(run.pop(), i, base, parent, top)

        saved, self.flush = self.flush, flush
        try:
            i = start
            while i < end:
                if indent[i] == base and (i == start or indent[i - 1] < 0):
                    after = self.construct(i, end, base, parent, top)
                    if after is not None:
                        i = after
                        continue
                if not run and indent[i] >= 0:
                    run.append(i)
                i += 1
            flush()
        finally:
            self.flush = saved

    def construct(self, i: int, end: int, base: int, parent: nodes.Element | None,
                  top: bool) -> int | None:
        """Parse the construct of stdkit's own at line ``i`` and return the line after it;
        None when line ``i`` does not start one."""
        data, indent, own = self.data, self.indent, self.own
        line = data[i][base:]
        flush = self.flush
        if line.startswith(".. container::") and i + 1 in own:
            m = _CONTAINER.match(line)
            if m is None or i + 1 >= end or indent[i + 1] >= 0:
                raise _Fallback("container")
            stop = i + 1
            while stop < end and (indent[stop] < 0 or indent[stop] > base):
                stop += 1
            node = nodes.container()
            node["classes"].extend(directives.class_option(m.group(1)))
            node.source, node.line = self.document["source"], i + 1
            flush()
            self.block(i + 1, stop, node)
            if len(node.children) == 0:
                raise _Fallback("empty container")
            self.target(parent).append(node)
            return stop
        if line.startswith(".. class::"):
            following = i + 1
            while following < end and indent[following] < 0:
                following += 1
            if following == i + 1 or following + 1 not in own or indent[following] != base:
                return None
            m = _CLASS.match(line)
            if m is None:
                raise _Fallback("class")
            pending = nodes.pending(misc.ClassAttribute, {
                "class": directives.class_option(m.group(1)), "directive": "class"},
                data[i][base:])
            flush()
            self.document.note_pending(pending)
            # Docutils is on the blank line after the directive when it adds the pending node.
            self.document.note_source(self.document["source"], following - 1)
            self.target(parent).append(pending)
            return following
        if top and i + 1 in own and i + 2 <= end:
            under = data[i + 1] if i + 1 < end else ""
            if _ADORNMENT.match(under):
                if i + 2 < end and indent[i + 2] >= 0:
                    raise _Fallback("heading")
                flush()
                self.section(line.rstrip(), under, i + 1)
                self.ended_on_heading = True
                return i + 2
        return None

    def target(self, parent: nodes.Element | None) -> nodes.Element:
        if parent is None:
            self.ended_on_heading = False
            return self.current
        return parent

    def section(self, title: str, underline: str, lineno: int) -> None:
        """A section heading at ``lineno``, placed as docutils' check_subsection places it."""
        if utils.column_width(title) > len(underline) or not title:
            raise _Fallback("underline")
        styles = self.memo.title_styles
        parents = self.current.section_hierarchy()
        old = len(parents)
        style = underline[0]
        new = styles.index(style) + 1 if style in styles else len(styles) + 1
        if new > old + 1:
            raise _Fallback("title level")
        if new <= old:
            self.current = parents[new - old - 1].parent
            self.memo.section_level = new - 1
        if new > len(styles):
            styles.append(style)
        section = nodes.section()
        parent = self.current
        # Docutils is on the underline when it adds the section (setup_child reads the line).
        self.document.note_source(self.document["source"], lineno)
        parent += section
        textnodes, messages = self.memo.inliner.parse(title, lineno, self.memo, parent)
        heading = nodes.title(title, "", *textnodes)
        section["names"].append(nodes.fully_normalize_name(heading.astext()))
        section += heading
        section += messages
        self.document.note_implicit_target(section, section)
        self.current = section
        self.memo.section_level += 1

    def delegate(self, start: int, end: int, base: int, parent: nodes.Element | None,
                 top: bool) -> None:
        """Lines ``start:end`` parsed by docutils, at their place in the page."""
        if top:
            for k in range(start, end - 1):
                if self.indent[k] == 0 and _ADORNMENT.match(self.data[k + 1]):
                    raise _Fallback("a title docutils would read as a section")
        start = self.paragraphs(start, end, base, self.target(parent))
        if start >= end:
            return
        block = self.lines[start:end]
        if base:
            block.trim_left(base)
        self.machine.line_offset = start
        self.body.nested_parse(block, start, self.target(parent), match_titles=False)

    def paragraphs(self, start: int, end: int, base: int, parent: nodes.Element) -> int:
        """Parse the plain paragraphs that lines ``start:end`` begin with; return where the
        first thing that is not one starts (docutils parses the rest)."""
        data, indent = self.data, self.indent
        while start < end:
            if indent[start] < 0:
                start += 1
                continue
            stop = start
            while stop < end and indent[stop] == base:
                stop += 1
            if stop < end and indent[stop] >= 0:
                return start  # an indented line follows: a definition list, a quote, ...
            lines = [data[k][base:] for k in range(start, stop)]
            first = lines[0]
            rubric = _RUBRIC.match(first) if stop == start + 1 else None
            if rubric is not None:
                # A rubric of one line: what docutils' rubric directive makes of it.
                text = rubric.group(1)
                textnodes, messages = self.memo.inliner.parse(text, start + 1, self.memo,
                                                              parent)
                node: nodes.Element = nodes.rubric(text, "", *textnodes)
            else:
                if any(pattern.match(first) for pattern in self.starts) or \
                        any(_LINE.match(x) for x in lines):
                    return start
                text = "\n".join(lines).rstrip()
                if text.endswith("::"):
                    return start
                textnodes, messages = self.memo.inliner.parse(text, start + 1, self.memo,
                                                              parent)
                node = nodes.paragraph(text, "", *textnodes)
            node.source, node.line = self.document["source"], start + 1
            parent += node
            parent += messages
            start = stop
        return start


class _Translator(HTMLTranslator):
    """docutils' HTML5 translator, finding its method for each node once per node class.

    docutils looks the method up by name for every node it visits and leaves, and formats a
    debug message each time that is only shown with debugging on (never, here).
    """

    def __init__(self, document: nodes.document) -> None:
        super().__init__(document)
        self._visits: dict[type, Callable[[nodes.Node], Any]] = {}
        self._departures: dict[type, Callable[[nodes.Node], Any]] = {}

    def dispatch_visit(self, node: nodes.Node) -> Any:
        method = self._visits.get(type(node))
        if method is None:
            method = getattr(self, "visit_" + type(node).__name__, self.unknown_visit)
            self._visits[type(node)] = method
        return method(node)

    def dispatch_departure(self, node: nodes.Node) -> Any:
        method = self._departures.get(type(node))
        if method is None:
            method = getattr(self, "depart_" + type(node).__name__, self.unknown_departure)
            self._departures[type(node)] = method
        return method(node)


def _writer() -> Writer:
    writer = Writer()
    writer.translator_class = _Translator
    return writer


def _settings(lang: str) -> Any:
    """Docutils settings for untrusted input: no raw, no files, no config files, no embedding."""
    settings = frontend.get_default_settings(Parser, Reader, Writer)
    safe = {
        "_disable_config": True,
        "raw_enabled": False,
        "file_insertion_enabled": False,
        "report_level": 2,
        "halt_level": 5,  # never raise: every problem becomes a diagnostic
        "warning_stream": io.StringIO(),
        "doctitle_xform": False,
        "sectsubtitle_xform": False,
        "docinfo_xform": False,
        "id_prefix": "_",  # docutils' ids start with "_", object ids with a letter: no clash
        "section_self_link": True,
        "image_loading": "link",
        "syntax_highlight": "none",
        "math_output": "HTML",
        "strip_comments": True,
        "smart_quotes": False,
        "language_code": "zh_cn" if lang == "zh" else lang,
        "output_encoding": "unicode",
        "initial_header_level": 2,
        "cloak_email_addresses": False,
        "traceback": True,
        "tab_width": 8,
    }
    for key, value in safe.items():
        setattr(settings, key, value)
    return settings


class _Ids:
    """Object ids set on a parsed page, with docutils' name table brought up to date once."""

    def __init__(self, document: nodes.document) -> None:
        self.document = document
        self.moved: dict[str, str] = {}

    def set(self, node: nodes.Element, new: str) -> None:
        ids = self.document.ids
        if new in ids and ids[new] is not node:
            return  # a duplicate object id (validation reports it): keep the first anchor
        for oid in node["ids"]:
            ids.pop(oid, None)
            self.moved[oid] = new
        node["ids"] = [new]
        ids[new] = node

    def finish(self) -> None:
        """Point the names that named a replaced id at its new one (one pass, not one a node)."""
        if not self.moved:
            return
        nameids = self.document.nameids
        for name, oid in nameids.items():
            seen = 0
            while oid in self.moved and seen < len(self.moved):
                oid, seen = self.moved[oid], seen + 1
            nameids[name] = oid


class _Anchors(Transform):
    """Object ids onto the sections, containers and rows that stand for them (before links)."""

    default_priority = 100

    def apply(self, **kwargs: Any) -> None:
        doc: RstDocument = kwargs["doc"]
        report: Callable[[str, nodes.Node], None] = kwargs["report"]
        document = self.document
        ids = _Ids(document)
        sections: list[nodes.Element] = []
        placed: list[nodes.Element] = []
        pendings: list[nodes.pending] = []
        unwanted: list[nodes.Element] = []
        kinds: set[type] = set()
        named = False  # a reference (or footnote, citation) to a name, or an anonymous one
        for element in _elements(document):
            kinds.add(type(element))
            if not named and ("refname" in element.attributes
                              or "anonymous" in element.attributes):
                named = True
            if isinstance(element, nodes.section):
                sections.append(element)
            elif isinstance(element, (nodes.container, nodes.list_item)):
                if element.line is not None:
                    placed.append(element)
            elif isinstance(element, nodes.pending):
                pendings.append(element)
            elif isinstance(element, (nodes.meta, nodes.decoration, nodes.raw)):
                unwanted.append(element)
        for node, oid in zip(sections, doc.sections, strict=False):
            ids.set(node, oid)
        for element in placed:
            line = element.line
            if line is None:
                continue
            if line in doc.anchors and element["ids"][:1] != [doc.anchors[line]]:
                ids.set(element, doc.anchors[line])
            if isinstance(element, nodes.container) and line in doc.rows:
                table = element.next_node(nodes.table)
                body = table.next_node(nodes.tbody) if table is not None else None
                if body is not None:
                    for row, rid in zip(body.children, doc.rows[line], strict=False):
                        if rid and isinstance(row, nodes.Element):
                            ids.set(row, rid)
        ids.finish()
        if kwargs.get("lean", True):
            _drop_idle_transforms(document, kinds, named, kwargs.get("messages"))
        # Constructs a draft may not use on a published page: numbering of our sections, a
        # second table of contents, page headers and footers, and <meta> (e.g. a refresh).
        refused = (parts.SectNum, parts.Contents)
        for pending in pendings:
            if pending.transform in refused and pending.parent is not None:
                report(f"the {pending.transform.__name__.lower()} directive is not used in a"
                       " standard (stdkit numbers clauses and writes the contents)", pending)
                pending.parent.remove(pending)
        document.transformer.transforms = [
            t for t in document.transformer.transforms
            if not (isinstance(t[2], nodes.pending) and t[2].transform in refused)]
        # Reported as before: every <meta> first, then decoration, then raw.
        unwanted.sort(key=lambda e: (0 if isinstance(e, nodes.meta) else
                                     1 if isinstance(e, nodes.decoration) else 2))
        for element in unwanted:
            report(f"the {element.tagname} element is not allowed in a standard; it was"
                   " removed", element)
            if element.parent is not None:
                element.parent.remove(element)


class _FilterMessages(universal.FilterMessages):
    """docutils' message filter, which has nothing to do when no message was made at all."""

    def apply(self, **kwargs: Any) -> None:
        if kwargs["messages"]():
            super().apply()


def _drop_idle_transforms(document: nodes.document, kinds: set[type], named: bool,
                          messages: Callable[[], int] | None) -> None:
    """Take the transforms that would find nothing to do on this page out of the queue.

    Each of them walks the whole tree for one kind of node (a target, a comment, a
    transition, an admonition, a substitution, a reference to a name); run after the parse
    (``kinds``: the classes of the page's elements), before any transform could add one
    (only substitutions copy nodes, so with one nothing is dropped). The trees are the same
    (``tests/test_render_fast.py``); on a page of 500 clauses they took 0.07 s.
    """
    if nodes.substitution_reference in kinds:
        return
    present = tuple(kinds)

    def has(kind: type) -> bool:
        return any(issubclass(k, kind) for k in present)

    targets = has(nodes.target)
    idle: set[type] = {references.Substitutions}
    if not targets:
        idle |= {references.PropagateTargets, references.ExternalTargets,
                 references.InternalTargets}
        if not named:
            idle |= {references.AnonymousHyperlinks, references.DanglingReferences}
    if not has(nodes.comment):
        idle.add(universal.StripComments)
    if not has(nodes.transition):
        idle.add(misc.Transitions)
    if not has(nodes.Admonition):
        idle.add(writer_aux.Admonitions)
    queue = document.transformer.transforms
    kept = []
    for entry in queue:
        kind = entry[1]
        if entry[2] is None and kind in idle:
            continue
        if entry[2] is None and kind is universal.FilterMessages and messages is not None:
            entry = (entry[0], _FilterMessages, None, {"messages": messages})
        kept.append(entry)
    queue[:] = kept


def _line_of(node: nodes.Node) -> int | None:
    here: nodes.Node | None = node
    while here is not None:
        line = getattr(here, "line", None)
        if line:
            return int(line)
        here = here.parent
    return None


def safe_uri(uri: str) -> bool:
    """Whether a link or image URI is http, https, mailto or relative (as a browser reads it)."""
    # Browsers drop tabs and newlines anywhere and control characters and spaces at the
    # start, so "java\tscript:" is javascript:. Normalise the same way, then read the scheme.
    squeezed = re.sub(r"[\t\n\r]", "", uri).lstrip("".join(map(chr, range(0x21))))
    if _CONTROL.search(squeezed.replace(" ", "")):
        return False
    m = _SCHEME.match(squeezed)
    if m is None:
        return not squeezed.startswith(("//", "\\", "/\\"))
    return bool(SAFE_LINK.match(m.group(1).lower()))


def _elements(root: nodes.Element) -> Iterator[nodes.Element]:
    """Every element under ``root`` (itself first), in document order.

    One explicit stack instead of docutils' ``findall``, whose generators nest as deep as the
    tree: the passes below read every element of a page, and this is several times cheaper.
    """
    stack: list[nodes.Element] = [root]
    pop, extend = stack.pop, stack.extend
    element_type = nodes.Element
    while stack:
        node = pop()
        yield node
        children = node.children
        if children:
            extend([c for c in reversed(children) if isinstance(c, element_type)])


def _strip_borrowed_classes(element: nodes.Element, own: frozenset[int]) -> None:
    """Drop stdkit's classes from ``element`` unless stdkit wrote it itself."""
    classes = element.get("classes")
    if not classes or not OWN_CLASSES.intersection(classes):
        return
    parent = element.parent
    ours = (
        isinstance(element, nodes.section)
        or (element.line is not None and element.line in own)
        or (isinstance(element, nodes.table) and isinstance(parent, nodes.container)
            and parent.line in own and "table-wrap" in parent["classes"])
    )
    if not ours:
        element["classes"] = [c for c in classes if c not in OWN_CLASSES]


def _clean_tree(document: nodes.document, report: Callable[[str, nodes.Node], None],
                own: frozenset[int] | None) -> None:
    """After docutils' transforms: unlink unsafe URIs, drop messages, flatten problematic,
    and (with ``own``, the lines of stdkit's classed elements) drop borrowed classes."""
    references: list[nodes.reference] = []
    targets: list[nodes.target] = []
    images: list[nodes.image] = []
    problems: list[nodes.problematic] = []
    messages: list[nodes.system_message] = []
    sections: list[nodes.section] = []
    for element in _elements(document):
        if own is not None:
            _strip_borrowed_classes(element, own)
        if isinstance(element, nodes.reference):
            references.append(element)
        elif isinstance(element, nodes.target):
            targets.append(element)
        elif isinstance(element, nodes.image):
            images.append(element)
        elif isinstance(element, nodes.problematic):
            problems.append(element)
        elif isinstance(element, nodes.system_message):
            messages.append(element)
        elif isinstance(element, nodes.section):
            sections.append(element)
    for ref in references:
        uri = ref.get("refuri")
        if uri is not None and not safe_uri(uri):
            report(f"the link to {uri[:60]!r} was removed: only http, https, mailto and"
                   " relative links are published", ref)
            ref["ids"], ref["names"] = [], []
            ref.replace_self(nodes.inline("", "", *ref.children))
    for target in targets:
        if target.get("refuri") is not None and not safe_uri(target["refuri"]):
            del target["refuri"]
    for image in images:
        for key in ("loading", "scale"):
            if key in image.attributes:
                del image[key]
        if not safe_uri(str(image.get("uri", ""))):
            report("the image was removed: only http, https and relative image URIs are"
                   " published", image)
            image["ids"], image["names"] = [], []
            image.replace_self(nodes.inline("", image.get("alt", "")))
    for problem in problems:
        problem["ids"] = []
        problem.replace_self(nodes.Text(problem.astext()))
    for message in messages:
        if message.parent is not None:
            message.parent.remove(message)
    for section in sections:
        if "system-messages" in section["classes"] and section.parent is not None:
            section.parent.remove(section)


def _parse_structure(parser: Parser, rst: str, document: nodes.document,
                     own: frozenset[int]) -> bool:
    """Parse ``rst`` with :class:`_StructuralParse`; False (nothing kept) when it gives up."""
    from docutils.statemachine import string2lines

    parser.setup_parse(rst, document)
    try:
        lines = string2lines(rst, tab_width=document.settings.tab_width,
                             convert_whitespace=True)
        # Lines as the page wrote them (a U+2028 in a text would split one: ``own`` would
        # no longer match), none over docutils' length limit.
        limit = document.settings.line_length_limit
        if len(lines) != rst.count("\n") + (not rst.endswith("\n")) or \
                any(len(x) > limit for x in lines):
            return False
        try:
            _StructuralParse(lines, document, own).run()
        except _Fallback:
            return False
        finally:
            _LOCAL_ROLES.pop("", None)  # as docutils' parse does: no default role carried over
        return True
    finally:
        parser.finish_parse()


def _publish(rst: str, source: str, lang: str,
             doc: RstDocument | None) -> tuple[str, list[tuple[int, int | None, str]]]:
    """Body HTML of ``rst``, and docutils' complaints as (level, RST line, message)."""
    # A page's tree is tens of thousands of nodes linked to their parents: the collector
    # would walk it again and again while it grows, and once more to find it is garbage.
    # It waits instead, and the tree is taken apart when the page is written (freed at once).
    with collector_paused():
        return _publish_tree(rst, source, lang, doc)


def _dismantle(document: nodes.document) -> None:
    """Cut every parent link of a written tree, so that it is freed without the collector."""
    for element in _elements(document):
        for child in element.children:
            child.parent = None
        element.document = None  # type: ignore[assignment]
    vars(document).clear()


def _publish_tree(rst: str, source: str, lang: str,
                  doc: RstDocument | None) -> tuple[str, list[tuple[int, int | None, str]]]:
    parser, writer = Parser(inliner=_Inliner()), _writer()
    reader: Reader[str] = Reader(parser=parser)
    settings = _settings(lang)
    document = utils.new_document(source, settings)
    found: list[tuple[int, int | None, str]] = []

    made = [0]

    def observe(msg: nodes.system_message) -> None:
        made[0] += 1
        level = int(msg.get("level", 0))
        if level >= 2:
            text = msg.children[0].astext() if msg.children else msg.astext()
            found.append((level, msg.get("line"), " ".join(text.split())))

    def report(message: str, node: nodes.Node) -> None:
        found.append((2, _line_of(node), message))

    document.reporter.attach_observer(observe)
    # Docutils keeps the roles a text defines (".. role::") for the whole process: a page must
    # not see another page's, whichever pages a process happened to publish before it.
    known_roles = dict(_LOCAL_ROLES)
    try:
        if doc is None or not _parse_structure(parser, rst, document, doc.own):
            if doc is not None:  # the structural parse gave up: start again on a new document
                document = utils.new_document(source, settings)
                found.clear()
                made[0] = 0
                document.reporter.attach_observer(observe)
                _LOCAL_ROLES.clear()
                _LOCAL_ROLES.update(known_roles)
            parser.parse(rst, document)
    finally:
        _LOCAL_ROLES.clear()
        _LOCAL_ROLES.update(known_roles)
    document.transformer.populate_from_components((reader, parser, writer))
    if doc is not None:
        document.transformer.add_transform(_Anchors, doc=doc, report=report,
                                           messages=lambda: made[0])
    document.transformer.apply_transforms()
    _clean_tree(document, report, doc.own if doc is not None else None)
    writer.write(document, StringOutput(encoding="unicode"))
    writer.assemble_parts()
    body = str(writer.parts["body"])
    # The machines kept for reuse still point at this document through their states: let it go.
    _LIST_MACHINES.clear()
    states.RSTState.nested_sm_cache.clear()
    _dismantle(document)
    vars(writer).clear()
    return body, found


def sanitise(fragment: str) -> str:
    """``fragment`` with only the tags, attributes, classes and URL schemes stdkit emits."""
    return nh3.clean(
        fragment,
        tags=set(TAGS),
        clean_content_tags={"script", "style"},
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        allowed_classes={tag: set(CLASSES) for tag in TAGS},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )


def _diagnostics(doc: RstDocument, found: list[tuple[int, int | None, str]]) -> list[Diagnostic]:
    out = []
    for level, line, message in found:
        where: Where = doc.fallback
        if line is not None:
            for candidate in range(line, max(0, line - 20), -1):
                if candidate in doc.sources:
                    where = doc.sources[candidate]
                    break
        severity = Severity.WARNING if level <= 2 else Severity.ERROR
        out.append(Diagnostic("RST001", severity, message, where.file, where.line, 1,
                              where.object, hint="fix the reStructuredText of this text"))
    return sort_diagnostics(out)


def page(doc: RstDocument, cat: Catalogue) -> tuple[str, list[Diagnostic]]:
    """The HTML page of one standard, and the problems docutils found in its texts."""
    return page_of(doc, cat.standards[doc.standard_id].kind)


def page_of(doc: RstDocument, kind: str | None) -> tuple[str, list[Diagnostic]]:
    """The HTML page of one standard of ``kind`` from its RST document (nothing else read)."""
    body, found = _publish(doc.text, f"{doc.standard_id}.rst", doc.lang, doc)
    L = labels(doc.lang)
    nav = (f'<nav class="site-nav"><a href="index.html">{html.escape(L["all_standards"])}</a>'
           f' <span>{html.escape(doc.title)}</span></nav>')
    return _wrap(doc.title, doc.lang, nav + f'<main class="document">{sanitise(body)}</main>',
                 f"kind-{kind or 'standard'}"), _diagnostics(doc, found)


def index_page(rst: str, lang: str) -> str:
    """The site's index page from its RST."""
    body, _found = _publish(rst, "index.rst", lang, None)
    title = labels(lang)["index_title"]
    return _wrap(title, lang, f'<main class="document index">{sanitise(body)}</main>', "index")


def _wrap(title: str, lang: str, body: str, cls: str) -> str:
    code = "zh-Hans" if lang == "zh" else lang
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(code)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="stdkit">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<link rel="stylesheet" href="style.css">\n</head>\n'
        f'<body class="{html.escape(cls)}">\n{body}\n</body>\n</html>\n'
    )


@cache
def stylesheet() -> bytes:
    """The site's stylesheet, shipped in the package (no CDN: the site works offline)."""
    return resources.files("stdkit").joinpath("data", "style.css").read_bytes()
