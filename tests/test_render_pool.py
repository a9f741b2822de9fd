"""render_html's changes to docutils' parser parse exactly as docutils itself does.

render_html keeps docutils' nested list state machines for reuse instead of building one per
list, hands a run of explicit markup only the lines it can span instead of a copy of the rest
of the document, and splits list-tables written in stdkit's form without a nested list parse.
Every document here is parsed twice, with the changes and with docutils' plain methods, and
the two trees must print the same: the pages stdkit writes (golden RST), random documents made
of every kind of list and explicit markup, nested and interleaved, and random list-tables.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docutils import frontend, utils
from docutils.parsers.rst import Parser, directives, states
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stdkit import render_html

GOLDEN = sorted((Path(__file__).parent / "cases" / "render").glob("*/expected/*.rst"))

PIECES = [
    "- a bullet", "* another bullet", "  - nested bullet", "    - deeper", "#. auto",
    "1. one", "2. two", "a) alpha", "(i) roman", "  continued text", ":field: value",
    ":other field:", "  field body", "term", "  definition", "-a  option", "--long=x  option",
    "| line block", "|   indented line", "", "", "Paragraph with *emphasis*.", "::",
    "    literal", ".. note:: admonition", "   in the note", ".. container:: box", "",
    "   - in a container", ".. list-table::", "   :header-rows: 1", "", "   * - h1",
    "     - h2", "   * - c1", "     - c2", "   * - - nested", "       - list", "> quoted",
    "=====", "Title", "-----", "\t- tab", "   ", "+ plus", "3) three", "A. upper",
    "..", ".. a comment", "__ http://example.org", ".. _target: http://example.org",
    ".. |s| replace:: text", ".. class:: special", ".. container:: text", "`link`__",
    "..  two spaces", "..not markup", "__not anonymous", " .. indented", "Section",
]


def _parse(text: str) -> str:
    settings_ = frontend.get_default_settings(Parser)
    settings_.report_level = 5
    settings_.halt_level = 5
    settings_.warning_stream = io.StringIO()
    settings_.file_insertion_enabled = False
    settings_.raw_enabled = False
    document = utils.new_document("test.rst", settings_)
    Parser().parse(text, document)
    return str(document.pformat())


def _both(text: str) -> tuple[str, str]:
    assert states.RSTState.nested_list_parse is render_html._pooled_nested_list_parse
    assert states.Body.explicit_list is render_html._windowed_explicit_list
    pooled = _parse(text)
    again = _parse(text)  # machines now come from the pool
    assert pooled == again
    states.RSTState.nested_list_parse = render_html._plain_nested_list_parse  # type: ignore[method-assign]
    states.Body.explicit_list = render_html._plain_explicit_list  # type: ignore[method-assign]
    directives.register_directive("list-table", render_html._plain_list_table)
    try:
        plain = _parse(text)
    finally:
        states.RSTState.nested_list_parse = (  # type: ignore[method-assign]
            render_html._pooled_nested_list_parse)
        states.Body.explicit_list = (  # type: ignore[method-assign]
            render_html._windowed_explicit_list)
        directives.register_directive("list-table", render_html._ListTable)
    return pooled, plain


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_pages_parse_the_same(path: Path) -> None:
    pooled, plain = _both(path.read_text(encoding="utf-8"))
    assert pooled == plain


@settings(max_examples=150, deadline=5000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=40))
def test_random_lists_parse_the_same(lines: list[str]) -> None:
    pooled, plain = _both("\n".join(lines) + "\n")
    assert pooled == plain


CELLS = [
    "VCU", "整车控制器", "0～250", "1", "1.5", "1.", "A)", "(a)", "iv.", "-", "- x", "+", "#.",
    "* star", ":field: x", "a_", "`x`__", "`TC-001 <#TC-001>`__", "|s|", "[1]_", "http://x.org",
    "a@b.org", "x::", "::", "====", "..", ".. comment", "a\\ b", "**bold**", "*em*", "``lit``",
    "/opt", ">>> 1", "| line", "", "  lead", "trail  ", "word ends_", "C:/x", "3) three",
    "multi\n    line", "para\n\n    next para", "\n    after empty", "x\n      indented",
    "~~~~", "短句。", "Ａ．", "1 2", "_x", "x]", "<x>", "*open", "`open", "x\\n    *open",
]


@st.composite
def list_tables(draw: st.DrawFn) -> str:
    """A list-table, mostly in stdkit's form, sometimes ragged or in another form."""
    cols = draw(st.integers(1, 4))
    rows = draw(st.integers(1, 4))
    lines = [".. list-table:: Title", f"   :header-rows: {draw(st.integers(0, 2))}", ""]
    for _r in range(rows):
        width = cols if draw(st.integers(0, 9)) else draw(st.integers(1, 5))
        for c in range(width):
            cell = draw(st.sampled_from(CELLS)).split("\n")
            bullet = ("* - " if c == 0 else "  - ") if cell[0] else ("* -" if c == 0 else "  -")
            lines.append("   " + bullet + cell[0])
            lines.extend(("   " + x) if x.strip() else "" for x in cell[1:])
        if draw(st.booleans()):
            lines.append("")
    if draw(st.integers(0, 9)) == 0:
        lines.insert(3, "   - - other form")
    return "\n".join(lines) + "\n\nAfter the table.\n"


@settings(max_examples=120, deadline=5000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(list_tables())
def test_random_list_tables_parse_the_same(text: str) -> None:
    pooled, plain = _both(text)
    assert pooled == plain


def test_pool_lets_the_page_go() -> None:
    """After a page, no pooled machine refers to its document (memory is given back)."""
    render_html._publish("- a\n- b\n\n  1. c\n", "x.rst", "en", None)
    assert render_html._LIST_MACHINES == {}
    assert states.RSTState.nested_sm_cache == []
