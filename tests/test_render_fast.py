"""render_html's structural parse and inline parser build the tree docutils builds.

A page's own containers, classes, headings, rubrics and plain paragraphs are parsed by
render_html, and texts of plain words, stdkit's links and its :label:/:alt: roles are split
into inline nodes there; everything else goes to docutils. Each page here is parsed both ways,
and the trees -- every node's class, attributes, line and text, the document's id and name
tables, docutils' messages -- must be the same, before and after docutils' transforms: the
golden pages, pages made of random drafts' texts between stdkit's own constructs, and random
inline texts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from docutils import nodes, utils
from docutils.parsers.rst import Parser, roles, states
from docutils.readers.standalone import Reader
from docutils.writers.html5_polyglot import Writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stdkit import render_html
from stdkit.loader import load_repository
from stdkit.render import Catalogue, RstDocument, Where, standard_rst

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases" / "render"


def _dump(node: nodes.Node, out: list[str], depth: int = 0) -> None:
    pad = "  " * depth
    if isinstance(node, nodes.Text):
        out.append(f"{pad}#text {str(node)!r}")
        return
    assert isinstance(node, nodes.Element)
    if isinstance(node, nodes.system_message) and node["level"] < 2:
        # docutils' notes on looking a directive name up in the page's language come once a
        # process and name, wherever it is first used; the filter transform drops them
        return
    attributes = sorted((k, repr(v)) for k, v in node.attributes.items())
    out.append(f"{pad}<{node.tagname} {attributes} line={node.line!r}>")
    for child in node.children:
        _dump(child, out, depth + 1)


def _tree(document: nodes.document) -> list[str]:
    out: list[str] = []
    _dump(document, out)
    out.append(repr(sorted(document.ids)))
    out.append(repr(sorted(document.nameids.items())))
    out.append(repr(sorted(document.refnames)))
    return out


def _parse(doc: RstDocument, fast: bool, transforms: bool,
           must: bool = False) -> tuple[list[str], list[Any]]:
    """The tree of ``doc`` parsed as render_html does (``fast``: with its fallback to docutils
    when the structural parse gives up, unless it ``must`` not) or by docutils alone."""
    settings_ = render_html._settings(doc.lang)
    found: list[Any] = []
    made: list[Any] = []  # every message, at any level

    def observe(msg: nodes.system_message) -> None:
        made.append(msg)
        if msg["level"] >= 2:
            found.append((msg["level"], msg.get("line"), msg.astext()))

    document = utils.new_document("page.rst", settings_)
    document.reporter.attach_observer(observe)
    known_roles = dict(roles._roles)  # as render_html does: a page's roles are its own
    try:
        tree = _parse_only(doc, fast, transforms, must, document, found, made, observe)
    finally:
        roles._roles.clear()
        roles._roles.update(known_roles)
    return tree, found


def _parse_only(doc: RstDocument, fast: bool, transforms: bool, must: bool,
                document: nodes.document, found: list[Any], made: list[Any],
                observe: Callable[[nodes.system_message], None]) -> list[str]:
    settings_ = document.settings
    if fast:
        parser = Parser(inliner=render_html._Inliner())
        if not render_html._parse_structure(parser, doc.text, document, doc.own):
            assert not must, "the structural parse gave up on this page"
            document = utils.new_document("page.rst", settings_)
            document.reporter.attach_observer(observe)
            found.clear()
            made.clear()
            parser.parse(doc.text, document)
    else:
        parser = Parser()
        parser.parse(doc.text, document)
    if transforms:
        writer = Writer()
        document.transformer.populate_from_components((Reader(parser=parser), parser, writer))
        # render_html drops the transforms with nothing to do; docutils alone runs them all.
        document.transformer.add_transform(render_html._Anchors, doc=doc, lean=fast,
                                           messages=lambda: len(made),
                                           report=lambda m, n: found.append((m, n.line)))
        document.transformer.apply_transforms()
    render_html._LIST_MACHINES.clear()
    states.RSTState.nested_sm_cache.clear()
    return _tree(document)


def _same(doc: RstDocument, must: bool = False) -> None:
    for transforms in (False, True):
        fast = _parse(doc, True, transforms, must)
        plain = _parse(doc, False, transforms)
        assert fast[0] == plain[0]
        assert fast[1] == plain[1]


def _documents() -> list[tuple[str, RstDocument]]:
    out = []
    for root in [*(p for p in sorted(CASES.iterdir()) if (p / "standards").is_dir()),
                 HERE.parent]:
        repo = load_repository(root)
        cat = Catalogue(repo.standards, repo.standards)
        for sid in sorted(repo.standards):
            for lang in repo.standards[sid].languages:
                out.append((f"{root.name}-{sid}-{lang}", standard_rst(cat, sid, lang)))
    return out


DOCUMENTS = _documents()


@pytest.mark.parametrize("doc", [d for _n, d in DOCUMENTS], ids=[n for n, _d in DOCUMENTS])
def test_pages_parse_the_same(doc: RstDocument) -> None:
    _same(doc, must=True)


def test_every_kind_of_page_takes_the_fast_parse() -> None:
    """The pages above really go through the structural parse and the inline splitter."""
    split = 0
    plain_split = render_html._Inliner._split

    def counting(self: Any, text: str, memo: Any) -> Any:
        nonlocal split
        found = plain_split(self, text, memo)
        split += found is not None
        return found

    render_html._Inliner._split = counting  # type: ignore[method-assign]
    try:
        for _name, doc in DOCUMENTS:
            _parse(doc, True, False)
    finally:
        render_html._Inliner._split = plain_split  # type: ignore[method-assign]
    assert split > 500


# -- pages of random drafts' texts ------------------------------------------------------------

PIECES = [
    "A plain sentence.", "一句普通的话。", "车辆应在100 ms内停止。", "", "", "",
    "- a bullet", "* star bullet", "#. auto", "1. one", "a) alpha", "(i) roman",
    ":field: value", "term", "  definition", "-a  option", "| line block", "::", "text::",
    "    literal", ".. note:: admonition", "   in the note", ".. container:: box",
    ".. class:: special", ".. rubric:: A rubric", ".. rubric:: 小标题 `x <#a>`__",
    ".. list-table:: T", "   * - a", "     - b", "> quoted", "=====", "-----", "Title",
    "  indented", "    more indented", ".. _target: http://example.org", "__ http://x.org",
    ".. |s| replace:: text", "see `4.2 <#c01-02>`__ and more", "（见\\ `4.2 <#c01-02>`__）",
    ":label:`注：`\\ 正文", ":alt:`Group standard`", "*emphasis* and **strong**",
    "``literal``", "a link_ here", "`phrase`_", "[1]_ footnote", "|sub|", "http://example.org",
    "mail a@b.org", "Note: a colon", "key:value", ".. [1] a footnote", ")", "..", "`x <y_>`__",
    "`<#bare>`__", "`two  spaces <#a>`__", "(`quoted`)", "word`not`", "\\*escaped\\*",
    "see `a <#x>`__`b <#y>`__", ".. role:: custom", ":custom:`text`", ":unknown:`role`",
]


@st.composite
def pages(draw: st.DrawFn) -> RstDocument:
    """A page as stdkit writes one: headings, containers and classes of its own (``own``)
    around texts drawn from PIECES, indented as render.py indents drafts' texts."""
    lines = [".. role:: label", ".. role:: alt", ""]
    own: set[int] = set()
    sections: list[str] = []

    def emit(line: str, ours: bool = False) -> None:
        lines.append(line)
        if ours:
            own.add(len(lines))

    def text(ind: str) -> None:
        for piece in draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8)):
            emit(ind + piece if piece else "")
        emit("")

    for n in range(draw(st.integers(1, 4))):
        emit(".. class:: clause")
        emit("")
        title = f"{n + 1}　{draw(st.sampled_from(['范围', 'Scope', 'See `a <#b>`__']))}"
        emit(title, True)
        emit(draw(st.sampled_from("=-~")) * (utils.column_width(title) + 2))
        sections.append(f"c{n}")
        emit("")
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["text", "provision requirement", "note", "deep"]))
            if kind == "deep":
                emit(".. container:: deep-clause", True)
                emit("")
                emit("   .. rubric:: 4.1.1.1.1　深层条", True)
                emit("")
                emit("   .. container:: text", True)
                emit("")
                text("      ")
                continue
            emit(f".. container:: {kind}", True)
            emit("")
            if kind.startswith("provision"):
                emit("   `REQ-1 <#REQ-1>`__ · 要求 · 验证方法：试验")
                emit("")
            text("   ")
    document = RstDocument(
        standard_id="tst", lang="zh", title="t", text="\n".join(lines) + "\n",
        sections=tuple(sections), anchors={}, rows={}, sources={},
        fallback=Where("standards/tst/standard.yaml", 1, None), diagnostics=(),
        own=frozenset(own))
    return document


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(pages())
def test_random_pages_parse_the_same(doc: RstDocument) -> None:
    _same(doc)


# -- inline texts -----------------------------------------------------------------------------

INLINE = [
    "word", "词", " ", "  ", "\n", "。", "，", "（", "）", "(", ")", "\"", "'", "«", "»", ":",
    ": ", "：", "<", ">", "@", "_", "*", "|", "[", "]", "`", "\\", "\\ ", "\\*", "-", "/",
    "`4.2 <#c01-02>`__", "`T/SYN 0001的附录A <syn-0001.html#annex-a>`__",
    "`ISO 26262 <https://www.iso.org/standard/68388.html>`__", "`x <a@b.org>`__",
    "`x <y_>`__", "`x <#a_b>`__", "`x<#a>`__", "` x <#a>`__", "`x <#a> `__", "`x <#a>`_",
    ":label:`注：`", ":alt:`Group standard`", ":label:` x`", ":other:`x`", ":label:`a`b`",
    "http://example.org", "mailto:a@b.org", "ftp:x", "x:y", "PEP 8", "RFC 2822",
]


def _inline(inliner: states.Inliner, text: str) -> list[str]:
    settings_ = render_html._settings("zh")
    document = utils.new_document("inline.rst", settings_)
    parser = Parser()
    parser.parse(".. role:: label\n.. role:: alt\n", document)
    inliner.init_customizations(settings_)
    memo = states.Struct(document=document, reporter=document.reporter,
                         language=states.languages.get_language("zh_cn", document.reporter),
                         title_styles=[], section_level=0, section_bubble_up_kludge=False,
                         inliner=inliner)
    paragraph = nodes.paragraph()
    document += paragraph
    made, messages = inliner.parse(text, 1, memo, paragraph)
    out: list[str] = []
    for node in [*made, *messages]:
        _dump(node, out)
    out.append(repr(sorted(document.ids)))
    out.append(repr(sorted(document.refnames)))
    return out


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(INLINE), min_size=1, max_size=12).map("".join))
def test_random_inline_texts_parse_the_same(text: str) -> None:
    assert _inline(render_html._Inliner(), text) == _inline(states.Inliner(), text)


@pytest.mark.parametrize("text", [
    "see `4.2 <#c01-02>`__ and `T/SYN 0001 <syn-0001.html#x>`__.",
    "（见\\ `4.2 <#c01-02>`__）", ":label:`注：`\\ 信号的编码方式。", "Verification: analysis",
])
def test_stdkit_texts_take_the_fast_way(text: str) -> None:
    inliner = render_html._Inliner()
    inliner.init_customizations(render_html._settings("zh"))
    _inline(inliner, "")  # registers the roles
    memo = states.Struct(document=utils.new_document("x", render_html._settings("zh")),
                         language=states.languages.get_language("zh_cn", None))
    assert inliner._split(text, memo) is not None
    assert _inline(render_html._Inliner(), text) == _inline(states.Inliner(), text)


def test_a_page_the_structural_parse_does_not_expect_falls_back() -> None:
    """A heading of ours with text right under its underline: docutils parses the page."""
    doc = DOCUMENTS[0][1]
    lines = doc.text.split("\n")
    for i in range(len(lines) - 1):
        if i + 1 in doc.own and render_html._ADORNMENT.match(lines[i + 1]):
            lines.insert(i + 2, "text right under the heading")
            break
    else:
        pytest.fail("no heading found")
    changed = replace(doc, text="\n".join(lines))
    document = utils.new_document("x.rst", render_html._settings(changed.lang))
    assert not render_html._parse_structure(Parser(), changed.text, document, changed.own)
    html, _found = render_html.page_of(changed, "interface")
    assert "text right under the heading" in html


def test_transforms_with_nothing_to_do_are_dropped() -> None:
    """On a page of plain texts and links, docutils' walks for targets, comments, transitions,
    admonitions, substitutions and named references are not run; with a target they are."""
    from docutils.transforms import references

    def applied(text: str, lean: bool) -> set[type]:
        doc = replace(DOCUMENTS[0][1], text=text)
        document = utils.new_document("page.rst", render_html._settings(doc.lang))
        parser = Parser(inliner=render_html._Inliner())
        assert render_html._parse_structure(parser, doc.text, document, doc.own)
        document.transformer.populate_from_components((Reader(parser=parser), parser, Writer()))
        document.transformer.add_transform(render_html._Anchors, doc=doc, lean=lean,
                                           messages=lambda: 0, report=lambda m, n: None)
        document.transformer.apply_transforms()
        return {entry[1] for entry in document.transformer.applied}

    text = DOCUMENTS[0][1].text
    assert references.DanglingReferences not in applied(text, True)
    assert references.DanglingReferences in applied(text, False)
    with_target = text + "\n.. container:: text\n\n   see target_\n\n   .. _target: http://x.org\n"
    assert references.DanglingReferences in applied(with_target, True)
