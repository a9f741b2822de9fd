"""A page reads only its own standard: references into the others resolve through the cards
that the catalogue's first pass keeps of every standard, and read as they did from the
standards themselves."""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from stdkit import render
from stdkit.loader import Repository, load_repository
from stdkit.model import Obj, Standard, numbering
from stdkit.render import Catalogue, render_site

CASES = Path(__file__).resolve().parent / "cases" / "render"

# Every kind of reference into another standard: clauses numbered, unnumbered, nested and
# annexes, terms (by number and by name), references (cited and referred to), messages,
# signals, value tables, nodes, provisions, evidence types, levels and criteria, cases; with
# labels of their own, and targets that do not exist.
ROLES_INTO_OTHERS = (
    ":ref:`tst-if:foreword` :ref:`tst-if:scope` :ref:`tst-if:terms` :ref:`tst-if:messages`"
    " :ref:`tst-if:msg-status` :ref:`tst-if:msg-sub` :ref:`tst-if:annex-a`"
    " :ref:`tst-if:bibliography` :ref:`tst-if:term-bms` :term:`tst-if:term-bms`"
    " :term:`the BMS <tst-if:term-bms>` :cite:`tst-if:ref-can` :ref:`tst-if:ref-can`"
    " :cite:`tst-if:ref-vss` :ref:`tst-if:MSG-STATUS` :ref:`tst-if:SIG-STATE`"
    " :ref:`tst-if:VT-STATE` :ref:`tst-if:BMS` :ref:`tst-if:REQ-STATUS-CYCLE`"
    " :ref:`tst-mat:EV-REP` :term:`tst-mat:EV-REP` :ref:`tst-mat:TRL1` :ref:`tst-mat:TRL1-C1`"
    " :ref:`tst-mat:term-trl` :term:`tst-mat:term-trl` :cite:`tst-mat:term-trl`"
    " :ref:`the scope <tst-if:scope>` :ref:`tst-if:nothing` :ref:`nowhere:scope`"
    " :ref:`tst-z:dup` :ref:`tst-z:REQ-Z1` :ref:`tst-z:introduction` :ref:`tst-z:intro-1`"
)


@pytest.fixture
def crossed(write_tree: Callable[..., Path], tmp_path: Path) -> Path:
    """Four standards referring to each other: a bilingual interface, an English maturity
    standard, an English verification standard whose cases verify provisions of two others,
    and a Chinese one (two of its objects share an id: the first one is found)."""
    root = tmp_path / "repo"
    for case, sid in (("interface", "tst-if"), ("maturity", "tst-mat")):
        shutil.copytree(CASES / case / "standards" / sid, root / "standards" / sid)
    return write_tree({
        "standards/tst-x/standard.yaml": """
            id: tst-x
            designation: T/TEST 0009
            kind: verification
            languages: [en]
            title: Cross references for tests
            stage: working-draft
            revision: 1
            date: "2026-01-01"
            parts: [foreword, scope, requirements, cases]
            """,
        "standards/tst-x/foreword.yaml": """
            id: foreword
            type: foreword
            text: This document refers to others.
            """,
        "standards/tst-x/scope.yaml": f"""
            id: scope
            type: scope
            text: "{ROLES_INTO_OTHERS}"
            """,
        "standards/tst-x/requirements.yaml": """
            id: requirements
            type: clause
            title: Requirements under test
            under_test: true
            provisions:
              - id: REQ-X1
                kind: requirement
                verification: [test]
                text: The system shall respond (:ref:`tst-if:REQ-STATUS-CYCLE`).
            """,
        "standards/tst-x/cases.yaml": """
            id: cases
            type: clause
            title: Verification cases
            cases:
              - id: TC-X1
                title: Response
                objective: To verify :ref:`REQ-X1` and :ref:`tst-if:REC-STATUS-FIRST`.
                verifies: [REQ-X1, "tst-if:REQ-STATUS-CYCLE", "tst-if:REC-STATUS-FIRST",
                           "tst-z:REQ-Z1", "tst-if:nothing", "tst-if:msg-sub"]
                method: test
                level: system
            """,
        "standards/tst-z/standard.yaml": """
            id: tst-z
            designation: T/TEST 0010
            kind: interface
            languages: [zh]
            title: 交叉引用测试
            stage: working-draft
            revision: 1
            date: "2026-01-01"
            parts: [introduction, dup, zc]
            """,
        "standards/tst-z/introduction.yaml": """
            id: introduction
            type: introduction
            title: 导言与说明
            text: >-
              见 :ref:`tst-x:TC-X1` 、:ref:`tst-x:requirements` 、:ref:`tst-x:foreword` 、
              :ref:`tst-x:REQ-X1` 、:term:`tst-mat:term-trl` 、:ref:`tst-mat:EV-TEST` 和
              :ref:`tst-if:annex-a` 。
            clauses:
              - id: intro-1
                title: 背景
                text: 无编号。
            """,
        "standards/tst-z/dup.yaml": """
            id: dup
            type: clause
            title: 重复
            provisions:
              - id: dup
                kind: statement
                text: 与本章同名。
            """,
        "standards/tst-z/zc.yaml": """
            id: zc
            type: clause
            title: 要求
            clauses:
              - id: zc-1
                title: 子条
                provisions:
                  - id: REQ-Z1
                    kind: requirement
                    text: 应满足 :ref:`tst-if:REQ-STATUS-CYCLE` 。
            """,
    }, root)


def _full_lookup(self: Catalogue, here: str, target: str) -> tuple[str, Obj] | None:
    """How the catalogue resolved a reference before it had cards: from the standard."""
    sid, _, oid = target.rpartition(":")
    sid = sid or here
    if sid not in self.facts:
        return None
    obj = self.index(sid).get(oid)
    return (sid, obj) if obj is not None else None


def _full_numbers(self: Catalogue, sid: str) -> dict[str, str]:
    return numbering(self.standards[sid])


def test_the_cards_label_references_as_the_standards_do(
        crossed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind of reference into another standard renders the same from its card as from
    the standard itself (RST and HTML)."""
    standards = load_repository(crossed).standards
    assert len(standards) == 4
    carded = {fmt: render_site(standards, fmt=fmt) for fmt in ("rst", "html")}
    text = carded["rst"].files["tst-x.rst"].decode("utf-8")
    for label in ("`T/TEST 0001, Foreword <tst-if.html#foreword>`__",
                  "`T/TEST 0001, Clause 1 <tst-if.html#scope>`__",
                  "`T/TEST 0001, 4.1 <tst-if.html#msg-status>`__",
                  "`T/TEST 0001, Annex A <tst-if.html#annex-a>`__",
                  "`T/TEST 0001, Bibliography <tst-if.html#bibliography>`__",
                  "`T/TEST 0001, 3.1 <tst-if.html#term-bms>`__",
                  "`battery management system <tst-if.html#term-bms>`__",
                  "`the BMS <tst-if.html#term-bms>`__",
                  "`ISO 11898-1:2015 <tst-if.html#ref-can>`__",
                  "`COVESA VSS <tst-if.html#ref-vss>`__",
                  "`BMS\\_Status <tst-if.html#MSG-STATUS>`__",
                  "`BMS\\_State <tst-if.html#SIG-STATE>`__", "`VT-STATE <tst-if.html#VT-STATE>`__",
                  "`REQ-STATUS-CYCLE <tst-if.html#REQ-STATUS-CYCLE>`__",
                  "`Report <tst-mat.html#EV-REP>`__", "`TRL1-C1 <tst-mat.html#TRL1-C1>`__",
                  "`T/TEST 0003, 3.1 <tst-mat.html#term-trl>`__",
                  "`technology readiness level <tst-mat.html#term-trl>`__",
                  "`the scope <tst-if.html#scope>`__", "tst-if:nothing nowhere:scope",
                  "`T/TEST 0010, Clause 1 <tst-z.html#dup>`__",  # the clause, not the provision
                  "`T/TEST 0010, 导言与说明 <tst-z.html#introduction>`__",  # titles: zh only
                  "`T/TEST 0010, 背景 <tst-z.html#intro-1>`__",
                  "`T/TEST 0001 REC-STATUS-FIRST <tst-if.html#REC-STATUS-FIRST>`__",
                  "* - `T/TEST 0010 REQ-Z1 <tst-z.html#REQ-Z1>`__"):
        assert label in text, label
    assert "`T/TEST 0009的第2章 <tst-x.html#requirements>`__" in carded["rst"].files[
        "tst-z.rst"].decode("utf-8")
    assert "`T/TEST 0009 TC-X1 <tst-x.html#TC-X1>`__" in carded["rst"].files[
        "tst-if.rst"].decode("utf-8")
    monkeypatch.setattr(Catalogue, "lookup", _full_lookup)
    monkeypatch.setattr(Catalogue, "numbers", _full_numbers)
    for fmt in ("rst", "html"):
        assert render_site(standards, fmt=fmt) == carded[fmt]


def test_a_page_reads_no_standard_but_its_own(crossed: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering a lazily read site, a page reads its own standard once and no other; the
    site is the one made from all the standards in memory."""
    eager = load_repository(crossed).standards
    ids = sorted(eager)
    page = [""]  # the standard whose page is being made ("" between pages)
    reads: list[tuple[str, str]] = []  # (page, standard read)
    load, rst = render.load_standard, render.standard_rst

    def loading(repo: Repository, name: str, **kw: bool) -> Standard | None:
        reads.append((page[0], name))
        return load(repo, name, **kw)

    def paging(cat: Catalogue, sid: str, lang: str | None = None) -> render.RstDocument:
        page[0] = sid
        try:
            return rst(cat, sid, lang)
        finally:
            page[0] = ""

    monkeypatch.setattr(render, "load_standard", loading)
    monkeypatch.setattr(render, "standard_rst", paging)
    for fmt in ("rst", "html"):
        reads.clear()
        lazy = render.LazyStandards(load_repository(crossed, standards=False), ids)
        assert render_site(lazy, fmt=fmt, keep=render.LAZY_KEEP) == render_site(eager, fmt=fmt)
        assert sorted(name for who, name in reads if not who) == ids  # the first pass
        assert sorted((who, name) for who, name in reads if who) == [(s, s) for s in ids]


def test_cards_pickle_without_documents(crossed: Path) -> None:
    """The cards hold no parsed document (they travel between processes and stay for the
    whole render), and pickle to a few hundred bytes an object."""
    ids = sorted(load_repository(crossed).standards)
    cat = Catalogue(render.LazyStandards(load_repository(crossed, standards=False), ids), ids)
    data = pickle.dumps(cat.cards)
    assert b"yamlio" not in data and b"Document" not in data
    assert len(data) < 300 * sum(len(c.cards) for c in cat.cards.values())
    assert pickle.loads(data) == cat.cards
