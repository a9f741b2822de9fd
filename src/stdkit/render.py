"""Publishing: a standard as reStructuredText, and the static HTML site made from that RST.

The model becomes one RST document per standard, with every stdkit role resolved into plain
RST (links, numbers, names), so that the RST stands on its own for docutils and Sphinx. The
HTML pages are made from exactly that RST by :mod:`stdkit.render_html` (one docutils run per
standard), then sanitised. Everything here is pure: values in, strings out; the CLI writes.

Anchors are object ids. The RST carries no ``.. _ID:`` targets (docutils handles thousands of
them superlinearly); instead :class:`RstDocument` records which section, container or table
row stands for which object, and the HTML step sets the ids on the parsed tree.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from docutils.utils import column_width
from docutils.utils.punctuation_chars import closers, closing_delimiters, delimiters, openers

from stdkit.diagnostics import Diagnostic, Severity
from stdkit.errors import InputError, RefusedError
from stdkit.loader import STANDARDS_DIR, Repository, load_standard
from stdkit.model import (
    ROLE,
    UNNUMBERED_TYPES,
    Case,
    Clause,
    Criterion,
    Environment,
    EvidenceType,
    Level,
    Message,
    Node,
    Obj,
    Origin,
    Provision,
    Reference,
    Signal,
    Standard,
    Term,
    Text,
    ValueTable,
    numbering,
    role_target,
)
from stdkit.stages import stages

FORMATS = ("html", "rst")
# Section adornments by depth; a clause nested deeper than this becomes a titled container.
ADORNMENTS = "=-~^'\"`#*+:._"
# Deeper indentation than this in one text is refused (shown as a literal block): docutils
# parses every level with a nested state machine and recursion, so depth is what costs.
MAX_TEXT_NESTING = 24
TRACEABILITY_ID = "traceability-matrix"
# Up to this many verification cases the traceability annex is a matrix (a column a case fits
# a printed page); beyond, a list of the cases verifying each requirement.
MATRIX_MAX_CASES = 20
_START_OK = frozenset(openers + delimiters)
_END_OK = frozenset(closing_delimiters + delimiters + closers)
_INLINE_SPECIAL = re.compile(r"([\\*`_|<])")
_BLOCK_START = re.compile(r"^(?:[!-/:-@\[-`{-~]|[0-9A-Za-z]{1,4}[.)](?=\s|$))")
_SPACES = re.compile(r"[ \t\r\n]+")
_TABLE_DIRECTIVE = re.compile(r"^(\s*)\.\. (list-table|table|csv-table)::[ \t]+(\S.*)$")
_STRUCTURAL = re.compile(
    r"^(\s|\.\.\s|[-*+•‣⁃]\s|#\.|\(?[0-9a-zA-Z#]{1,3}[.)]\s|\||[+=]{2}|:[^:\s][^:]*:\s|$)")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "contents": "目次", "clause": "第{}章", "annex": "附录{}", "normative": "规范性",
        "informative": "资料性", "note": "注：", "note_n": "注{}：", "example": "示例：",
        "example_n": "示例{}：", "term_note": "注{}：", "table": "表{}", "table_sep": "\u3000",
        "num_sep": "\u3000", "source": "来源：{}", "in_other": "{}的{}",
        "requirement": "要求", "recommendation": "推荐", "permission": "允许",
        "statement": "陈述", "test": "试验", "analysis": "分析", "inspection": "检查",
        "demonstration": "演示", "verification": "验证方法", "verified_by": "验证用例",
        "message": "报文", "can_id": "标识符", "dlc": "DLC", "sender": "发送方",
        "receivers": "接收方", "transmission": "发送方式", "cycle": "周期/ms",
        "timeout": "接收超时/ms", "e2e": "端到端保护", "cyclic": "周期",
        "event": "事件", "cyclic-and-event": "周期和事件", "messages": "报文",
        "signal": "信号", "description": "说明",
        "position": "起始位/长度", "encoding": "字节顺序", "scaling": "比例因子/偏移量",
        "range": "范围", "unit": "单位", "initial": "初始值", "invalid": "无效值（原始值）",
        "value_table": "值表", "little_endian": "小端", "big_endian": "大端",
        "signed": "有符号", "unsigned": "无符号", "signals_of": "{}（{}）的信号",
        "e2e_text": "{}，数据标识符{}，计数器{}，校验和{}", "range_fmt": "{}～{}",
        "node": "节点", "name": "名称", "nodes": "节点", "value_tables": "值表",
        "values": "取值", "units": "补充的单位", "quantity": "量",
        "environment": "验证环境", "type": "类型", "environments": "验证环境",
        "case": "验证用例", "verifies": "验证对象", "method": "验证方法",
        "level": "验证级别", "asil": "ASIL", "objective": "目的：",
        "preconditions": "前提条件：", "step": "步骤", "action": "操作",
        "expected": "预期结果", "pass_criteria": "通过准则：", "steps_of": "{}的步骤",
        "component": "部件", "subsystem": "子系统", "system": "系统", "vehicle": "整车",
        "traceability": "需求与验证用例的追溯矩阵", "requirement_col": "受验要求",
        "coverage": "用例数",
        "trace_table": "需求与验证用例的对应关系",
        "trace_note": "T——试验；A——分析；I——检查；D——演示。"
        "来自其他标准的要求以其标准编号标明。",
        "evidence_types": "证据类型", "evidence": "证据",
        "levels": "技术成熟度等级", "level_col": "等级", "criteria_of": "{}的判定准则",
        "criterion": "准则", "mandatory": "强制", "yes": "是", "no": "否",
        "env_line": "验证环境：", "group_T": "团体标准", "draft_notice":
        "本文件为草案，可能会有变化，不得作为标准引用。", "patent_notice":
        "在提交反馈意见时，请将您知道的相关专利连同支持性文件一并附上。",
        "revision": "第{}稿", "draft_date": "本稿完成日期：{}", "publication_date": "发布日期：{}",
        "deadline": "征求意见截止日期：{}", "edition": "第{}版", "supersedes": "代替{}",
        "dates": "××××-××-××发布\u3000\u3000××××-××-××实施", "issued": "{}\u3000发布",
        "index_title": "标准一览", "designation": "编号", "title": "标准名称",
        "kind": "类别", "stage": "阶段", "date": "日期", "interface": "接口",
        "maturity": "成熟度", "verification_kind": "验证", "all_standards": "全部标准",
        "stage_fmt": "{}（第{}稿）", "part_of": "见",
        "t_foreword": "前言", "t_introduction": "引言", "t_scope": "范围",
        "t_normative-references": "规范性引用文件", "t_terms": "术语和定义",
        "t_symbols": "符号和缩略语", "t_bibliography": "参考文献",
    },
    "en": {
        "contents": "Contents", "clause": "Clause {}", "annex": "Annex {}",
        "normative": "normative", "informative": "informative", "note": "NOTE",
        "note_n": "NOTE {}", "example": "EXAMPLE", "example_n": "EXAMPLE {}",
        "term_note": "Note {} to entry:", "table": "Table {}", "table_sep": " — ",
        "num_sep": "\u2003", "source": "SOURCE: {}", "in_other": "{}, {}",
        "requirement": "Requirement", "recommendation": "Recommendation",
        "permission": "Permission", "statement": "Statement", "test": "test",
        "analysis": "analysis", "inspection": "inspection", "demonstration": "demonstration",
        "verification": "Verification", "verified_by": "Verified by", "message": "Message",
        "can_id": "Identifier", "dlc": "DLC", "sender": "Sender", "receivers": "Receivers",
        "transmission": "Transmission", "cycle": "Cycle/ms", "timeout": "Timeout/ms",
        "e2e": "End-to-end protection", "cyclic": "cyclic", "event": "event",
        "cyclic-and-event": "cyclic and event",
        "messages": "Messages", "signal": "Signal", "description": "Description",
        "position": "Start bit/length", "encoding": "Byte order",
        "scaling": "Factor/offset", "range": "Range", "unit": "Unit",
        "initial": "Initial value", "invalid": "Invalid value (raw)",
        "value_table": "Value table", "little_endian": "little-endian",
        "big_endian": "big-endian", "signed": "signed", "unsigned": "unsigned",
        "signals_of": "Signals of {} ({})",
        "e2e_text": "{}, data identifier {}, counter {}, checksum {}",
        "range_fmt": "{} to {}", "node": "Node", "name": "Name", "nodes": "Nodes",
        "value_tables": "Value tables", "values": "Values", "units": "Additional units",
        "quantity": "Quantity", "environment": "Environment", "type": "Type",
        "environments": "Verification environments", "case": "Verification case",
        "verifies": "Verifies", "method": "Method", "level": "Level", "asil": "ASIL",
        "objective": "Objective:", "preconditions": "Preconditions:", "step": "Step",
        "action": "Action", "expected": "Expected result", "pass_criteria": "Pass criteria:",
        "steps_of": "Steps of {}", "component": "component", "subsystem": "subsystem",
        "system": "system", "vehicle": "vehicle",
        "traceability": "Traceability of requirements to verification cases",
        "requirement_col": "Requirement under test", "coverage": "Cases",
        "trace_table": "Requirements and the cases that verify them",
        "trace_note": "T = test; A = analysis; I = inspection; D = demonstration."
        " Requirements of other standards are marked with the designation of their standard.",
        "evidence_types": "Evidence types", "evidence": "Evidence",
        "levels": "Technology readiness levels", "level_col": "Level",
        "criteria_of": "Criteria of {}", "criterion": "Criterion", "mandatory": "Mandatory",
        "yes": "yes", "no": "no", "env_line": "Verification environment:",
        "group_T": "Group standard", "draft_notice": "This document is a draft. It is"
        " subject to change and may not be referred to as a standard.",
        "patent_notice": "Recipients of this draft are invited to submit, with their"
        " comments, notification of any relevant patent rights of which they are aware"
        " and to provide supporting documentation.",
        "revision": "Revision {}", "draft_date": "Date of this draft: {}",
        "publication_date": "Date of publication: {}", "deadline": "Comments due: {}",
        "edition": "Edition {}", "supersedes": "Supersedes {}", "dates": "",
        "issued": "Issued by {}", "index_title": "Standards", "designation": "Designation",
        "title": "Title", "kind": "Kind", "stage": "Stage", "date": "Date",
        "interface": "interface", "maturity": "maturity", "verification_kind": "verification",
        "all_standards": "All standards", "stage_fmt": "{} (revision {})", "part_of": "see",
        "t_foreword": "Foreword", "t_introduction": "Introduction", "t_scope": "Scope",
        "t_normative-references": "Normative references",
        "t_terms": "Terms and definitions", "t_symbols": "Symbols and abbreviated terms",
        "t_bibliography": "Bibliography",
    },
}
METHOD_LETTERS = {"test": "T", "analysis": "A", "inspection": "I", "demonstration": "D"}
UNIT_SYMBOLS = {"percent": "%", "celsius": "°C", "degrees": "°"}


def labels(lang: str) -> dict[str, str]:
    """The words stdkit itself writes on a page in ``lang`` (English where it has none)."""
    return LABELS.get(lang, LABELS["en"])


@dataclass(frozen=True, slots=True)
class Where:
    """The YAML file and line a line of RST came from, and the object it belongs to."""

    file: str
    line: int
    object: str | None


@dataclass(frozen=True, slots=True)
class RstDocument:
    """One standard as RST, and what the HTML step needs to place anchors and warnings."""

    standard_id: str
    lang: str
    title: str
    text: str
    sections: tuple[str, ...]
    anchors: Mapping[int, str]
    rows: Mapping[int, tuple[str | None, ...]]
    sources: Mapping[int, Where]
    fallback: Where
    own: frozenset[int] = frozenset()
    diagnostics: tuple[Diagnostic, ...] = ()


def oneline(text: str) -> str:
    """``text`` on one line (ASCII whitespace runs become one space; U+3000 is kept)."""
    return _SPACES.sub(" ", text).strip()


def escape(text: str) -> str:
    """``text`` as literal RST: inline markup characters and a block-starting prefix escaped."""
    text = _INLINE_SPECIAL.sub(r"\\\1", oneline(text))
    m = _BLOCK_START.match(text)
    if m:
        text = text[: m.end() - 1] + "\\" + text[m.end() - 1 :]
    return text


def _uri(uri: str) -> str:
    # Only a trailing "_" (an alias) and angle brackets are special in an embedded URI.
    uri = uri.replace("\\", "\\\\").replace("<", "%3C").replace(">", "%3E").replace("`", "%60")
    return uri[:-1] + "\\_" if uri.endswith("_") else uri


def link(label: str, uri: str) -> str:
    """An anonymous RST hyperlink (anonymous: the same label may point at many places)."""
    return f"`{escape(label)} <{_uri(uri)}>`__"


def _fmt(x: float | int | None) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def page_name(standard_id: str) -> str:
    """The file name of a standard's page in the site."""
    return f"{standard_id}.html"


def designation(standard: Standard) -> str:
    """``T/RFIA 0101—××××`` for a draft; with the year of its date once published."""
    base = standard.designation or standard.id
    if standard.stage in ("published", "withdrawn") and standard.date:
        return f"{base}—{standard.date[:4]}"
    return f"{base}—××××"


def page_language(standard: Standard, lang: str | None) -> str:
    """The language of a standard's page: ``lang`` if the standard has it, else its first."""
    if lang and lang in standard.languages:
        return lang
    return standard.languages[0] if standard.languages else "en"


# How many standards a lazily read site holds at a time: a page reads only its own (it sees the
# others through their cards, see Cards).
LAZY_KEEP = 1


class LazyStandards(Mapping[str, Standard]):
    """The standards of ``repo`` by id, each read from its folder (named as its id) when first
    asked for; only the ``keep`` most recently used stay in memory, with their documents.

    For a repository that passed validation (STD001: every folder is named as its id), so that
    a site of any size is rendered holding a few standards, not all of them.
    """

    def __init__(self, repo: Repository, ids: Iterable[str], keep: int = LAZY_KEEP) -> None:
        self._repo = repo
        self._ids = sorted(ids)
        self._known = frozenset(self._ids)
        self._keep = keep
        self._held: dict[str, Standard] = {}  # least recently used first

    def __getitem__(self, sid: str) -> Standard:
        held = self._held.pop(sid, None)
        if held is None:
            if sid not in self._known:
                raise KeyError(sid)
            try:
                held = load_standard(self._repo, sid)
            except OSError:
                held = None
            if held is None or held.id != sid:
                raise InputError(f"standards/{sid} changed while it was being rendered; run"
                                 " stdkit render again")
        self._held[sid] = held
        while len(self._held) > self._keep:
            self._forget(next(iter(self._held)))
        return held

    def _forget(self, sid: str) -> None:
        del self._held[sid]
        prefix = f"{STANDARDS_DIR}/{sid}/"
        repo = self._repo
        repo.documents = {f: d for f, d in repo.documents.items() if not f.startswith(prefix)}
        repo.diagnostics = [d for d in repo.diagnostics if not d.file.startswith(prefix)]

    def release(self) -> None:
        """Forget every standard read so far (before forking the processes that publish)."""
        for sid in list(self._held):
            self._forget(sid)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, sid: object) -> bool:
        return sid in self._known


def _facts(std: Standard) -> Standard:
    """What every page and the index read of a standard they do not publish: its metadata,
    without parts and without the documents it was read from (a few hundred bytes)."""
    origin = Origin(std.origin.file)
    title = Text(dict(std.title.values), origin, std.title.plain) if std.title else None
    return replace(std, origin=origin, title=title, committee=(), drafting_units=(),
                   drafters=(), proposer=(), part_ids=(), parts=(), waive={})


# The fields that label a reference to an object of another standard (_Page.role, _Page.label);
# a page knows any other object of another standard by its class and id alone.
_CARD_FIELDS: dict[type[Obj], tuple[str, ...]] = {
    Clause: ("type", "title"), Term: ("term",), Reference: ("designation",),
    Signal: ("name",), Message: ("name",), EvidenceType: ("name",),
}
# An object's card: its class, and the values of its class's _CARD_FIELDS.
_Card = tuple[type[Obj], tuple[str | Text | None, ...]]


@dataclass(frozen=True, slots=True)
class Cards:
    """A standard as the pages of the other standards see it: the card of each object id (of
    the first object of that id, as :meth:`Catalogue.index` keeps it) and the numbers of its
    clauses and terms.

    A card holds no content, children or positions (nothing is reported about another
    standard's objects), only what labels a reference: tuples and strings, about 150 bytes an
    object with its id and number, which pickle fast from the processes of the first pass.
    """

    origin: Origin
    cards: dict[str, _Card]
    numbers: dict[str, str]

    @classmethod
    def of(cls, std: Standard) -> Cards:
        """The cards of ``std``, in one walk over its objects."""
        numbers = numbering(std)
        origin = Origin(std.origin.file)
        cards: dict[str, _Card] = {}
        bare: dict[type[Obj], _Card] = {}  # one card for all of a class with nothing to show
        for obj, _parent in std.objects():
            if not obj.id or obj.id in cards:
                continue
            kind = type(obj)
            values = tuple(_shown(obj, name, numbers, origin)
                           for name in _CARD_FIELDS.get(kind, ()))
            if any(value is not None for value in values):
                cards[obj.id] = (kind, values)
            else:
                cards[obj.id] = bare.setdefault(kind, (kind, values))
        return cls(origin, cards, numbers)

    def get(self, oid: str) -> Obj | None:
        """The object ``oid`` as its card shows it: of its class, with the fields that label
        it (a fresh object each time; its origin is the standard's own file)."""
        card = self.cards.get(oid)
        if card is None:
            return None
        kind, values = card
        shown: dict[str, Any] = dict(zip(_CARD_FIELDS.get(kind, ()), values, strict=True))
        return kind(oid, self.origin, **shown)


def _shown(obj: Obj, name: str, numbers: Mapping[str, str],
           origin: Origin) -> str | Text | None:
    """The value of field ``name`` of ``obj`` for its card (a text without its document)."""
    if name == "title" and isinstance(obj, Clause) and obj.type not in UNNUMBERED_TYPES \
            and obj.id in numbers:
        return None  # a numbered clause is labelled by its number, never by its title
    value: str | Text | None = getattr(obj, name)
    if isinstance(value, Text):
        return Text(value.values, origin, value.plain)
    return value


# What the catalogue's first pass keeps of one standard: its metadata, its number of objects,
# ((standard, provision id), case id) for each provision one of its cases verifies, and its
# cards.
Survey = tuple[Standard, int, list[tuple[tuple[str, str], str]], Cards]
_Survey = list[tuple[str, Survey]]
# Below this many standards read lazily, the first pass is not shared between processes.
PARALLEL_SURVEY = 8


def survey(std: Standard) -> Survey:
    """What every page needs of ``std``: the catalogue's first pass over one standard (which
    the validation gate's processes also run on the standards they read anyway, see
    :func:`stdkit.validate.validate_paths`)."""
    size = 0
    verified: list[tuple[tuple[str, str], str]] = []
    for obj, _parent in std.objects():
        size += 1
        if isinstance(obj, Case):
            for target, _o in obj.verifies:
                other, _, pid = target.rpartition(":")
                verified.append(((other or std.id, pid), obj.id))
    return _facts(std), size, verified, Cards.of(std)


def _survey(standards: Mapping[str, Standard], chosen: Sequence[str]) -> _Survey:
    found: _Survey = []
    for sid in chosen:
        found.append((sid, survey(standards[sid])))
        if isinstance(standards, LazyStandards):
            standards.release()  # one standard at a time through this pass
    return found


def _survey_task(chunk: list[str]) -> _Survey:
    standards: Mapping[str, Standard] = _WORK["standards"]  # type: ignore[assignment]
    return _survey(standards, chunk)


def _surveys(standards: Mapping[str, Standard], chosen: list[str]) -> list[_Survey]:
    """The first pass over ``chosen``, in order: for standards read lazily (from the parse
    cache), shared between two processes (fork) when there are enough of them."""
    jobs = _jobs()
    if (not isinstance(standards, LazyStandards) or jobs < 2 or len(chosen) < PARALLEL_SURVEY
            or not hasattr(os, "fork")):
        return [_survey(standards, chosen)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    half = (len(chosen) + 1) // 2
    chunks = [chosen[:half], chosen[half:]]
    _WORK["standards"] = standards
    try:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_survey_task, chunks))
    finally:
        _WORK.pop("standards", None)


class Catalogue:
    """Every standard of a site, indexed for resolving references across them.

    ``standards`` may read each standard only when asked for and forget it later
    (:class:`LazyStandards`): the catalogue goes through them once at the start for what every
    page needs of all of them (the cases verifying each provision, the metadata shown on the
    index and in references, the size of each, the numbers and the cards of their objects),
    so that a page reads no standard but its own; it holds the indexes of at most ``keep``
    standards at a time (all of them when ``keep`` is None).
    """

    def __init__(self, standards: Mapping[str, Standard], published: Iterable[str], *,
                 keep: int | None = None, surveyed: Mapping[str, Survey] | None = None) -> None:
        self.standards = standards
        self.published = frozenset(published)
        self.keep = keep
        self._index: dict[str, dict[str, Obj]] = {}
        self._parents: dict[str, dict[str, Obj | None]] = {}
        self._recent: dict[str, None] = {}  # standards with an index, least recently used first
        # (standard, provision id) -> (standard, id) of every case that verifies it.
        self.verifiers: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.facts: dict[str, Standard] = {}
        self.sizes: dict[str, int] = {}
        self.cards: dict[str, Cards] = {}
        # The first pass over the standards not surveyed already (by the validation gate).
        known = surveyed or {}
        found: dict[str, Survey] = {}
        for chunk in _surveys(standards, [s for s in sorted(standards) if s not in known]):
            found.update(chunk)
        for sid in sorted(standards):
            facts, size, verified, cards = known[sid] if sid in known else found[sid]
            self.facts[sid], self.sizes[sid], self.cards[sid] = facts, size, cards
            for key, case in verified:
                self.verifiers.setdefault(key, []).append((sid, case))

    def _used(self, sid: str) -> None:
        self._recent.pop(sid, None)
        self._recent[sid] = None
        if self.keep is not None:
            while len(self._recent) > self.keep:
                old = next(iter(self._recent))
                del self._recent[old]
                self._index.pop(old, None)
                self._parents.pop(old, None)

    def release(self) -> None:
        """Let go of the indexes held, and of the standards if read lazily."""
        self._index.clear()
        self._parents.clear()
        self._recent.clear()
        if isinstance(self.standards, LazyStandards):
            self.standards.release()

    def index(self, sid: str) -> dict[str, Obj]:
        """The objects of ``sid`` by id (the first of each id), read from the standard itself:
        a page asks for its own; it sees the others through :attr:`cards`."""
        self._used(sid)
        if sid not in self._index:
            index: dict[str, Obj] = {}
            parents: dict[str, Obj | None] = {}
            for obj, parent in self.standards[sid].objects():
                if obj.id and obj.id not in index:
                    index[obj.id] = obj
                    parents[obj.id] = parent
            self._index[sid], self._parents[sid] = index, parents
        return self._index[sid]

    def parent(self, sid: str, oid: str) -> Obj | None:
        self.index(sid)
        return self._parents[sid].get(oid)

    def numbers(self, sid: str) -> dict[str, str]:
        """The numbers of the clauses and terms of ``sid`` by id (found by the first pass)."""
        return self.cards[sid].numbers

    def lookup(self, here: str, target: str) -> tuple[str, Obj] | None:
        """Resolve ``ID`` or ``standard-id:ID`` from the standard ``here``: an object of
        ``here`` itself, or the card of an object of another standard (never read again)."""
        sid, _, oid = target.rpartition(":")
        sid = sid or here
        if sid not in self.facts:
            return None
        obj = self.index(sid).get(oid) if sid == here else self.cards[sid].get(oid)
        return (sid, obj) if obj is not None else None

    def uri(self, here: str, sid: str, oid: str) -> str | None:
        """Where a link to object ``oid`` of ``sid`` points from the page of ``here``."""
        if sid == here:
            return f"#{oid}"
        if sid in self.published:
            return f"{page_name(sid)}#{oid}"
        return None


def _text_of(text: Text | None, lang: str, langs: Sequence[str]) -> tuple[str, Origin] | None:
    """The string of ``text`` for the page language (or a fallback) and where it was written."""
    if text is None:
        return None
    for candidate in (lang, *langs, ""):
        value = text.values.get(candidate)
        if value is not None:
            return value, _origin_of(text, candidate)
    return None


def _origin_of(text: Text, lang: str) -> Origin:
    """Where the string of ``lang`` was written: its key, or the text itself when the text is
    a plain string (which the loader files under the standard's only language)."""
    doc = text.origin.doc
    if lang and (doc is None or (*text.origin.path, lang) in doc.marks):
        return text.origin.child(lang)
    return text.origin


def _plain(text: Text | None, lang: str, langs: Sequence[str] = ()) -> str:
    found = _text_of(text, lang, langs)
    return found[0] if found else ""


def _line_origins(value: str, origin: Origin) -> list[int]:
    """The YAML line of every line of ``value`` (a string written at ``origin``)."""
    doc = origin.doc
    out = []
    offset = 0
    for line in value.split("\n"):
        if doc is None:
            out.append(origin.line)
        else:
            out.append(doc.text_line(origin.path, offset)[0])
        offset += len(line) + 1
    return out


def _nesting(value: str) -> int:
    """How many indentation levels deep ``value`` goes (each level costs docutils a parser)."""
    stack: list[int] = [0]
    deepest = 0
    for line in value.split("\n"):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while stack and indent < stack[-1]:
            stack.pop()
        if not stack or indent > stack[-1]:
            stack.append(indent)
        deepest = max(deepest, len(stack) - 1)
    return deepest


@dataclass
class _Page:
    """Builds the RST of one standard, line by line, with its anchors and source map."""

    cat: Catalogue
    std: Standard
    lang: str
    lines: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    anchors: dict[int, str] = field(default_factory=dict)
    rows: dict[int, tuple[str | None, ...]] = field(default_factory=dict)
    sources: dict[int, Where] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    table_prefix: str = ""
    table_count: int = 0
    own: set[int] = field(default_factory=set)
    _class_pending: bool = False

    def __post_init__(self) -> None:
        self.L = labels(self.lang)
        self.langs = tuple(x for x in self.std.languages if x != self.lang)
        self.numbers = self.cat.numbers(self.std.id)

    # -- low level -------------------------------------------------------------------------

    def emit(self, line: str = "", ind: str = "", *, ours: bool = True) -> int:
        """Append a line (indented unless blank); returns its 1-based line number."""
        self.lines.append(ind + line if line else "")
        n = len(self.lines)
        if not ours:
            return n
        # Remember the lines of our own classed elements: classes anywhere else came from a
        # draft and are dropped, so a draft cannot dress its text as a provision or a cover.
        if line.startswith(".. container::"):
            self.own.add(n)
        elif line.startswith(".. class::"):
            self._class_pending = True
        elif line and self._class_pending:
            self.own.add(n)
            self._class_pending = False
        return n

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def block(self, rst: str, ind: str, where: Sequence[Where] | None = None) -> None:
        """Append several lines of RST, mapping each to the YAML line it came from."""
        for i, line in enumerate(rst.split("\n")):
            n = self.emit(line, ind, ours=False)
            if where is not None and i < len(where):
                self.sources[n] = where[i]

    def resolve(self, value: str) -> str:
        """``value`` with every stdkit role replaced by plain RST (roles never reach docutils)."""
        if ":" not in value:
            return value
        out: list[str] = []
        pos = 0
        n = len(value)
        for m in ROLE.finditer(value):
            start, end = m.start(), m.end()
            before = value[pos:start]
            # A role set off by spaces between Chinese characters: drop the spaces, which
            # docutils needed but Chinese typography does not want.
            if before.endswith(" ") and start >= 2 and _wide(value[start - 2]):
                before = before[:-1]
            out.append(before)
            after_skip = 0
            if end < n - 1 and value[end] == " " and _wide(value[end + 1]):
                after_skip = 1
            replacement, markup = self.role(m.group(1), m.group(2))
            prev = "".join(out)[-1:] if out else ""
            following = value[end + after_skip] if end + after_skip < n else ""
            if markup and prev and not prev.isspace() and prev not in _START_OK:
                replacement = "\\ " + replacement
            if markup and following and not following.isspace() and following not in _END_OK:
                replacement += "\\ "
            out.append(replacement)
            pos = end + after_skip
        out.append(value[pos:])
        return "".join(out)

    def role(self, name: str, content: str) -> tuple[str, bool]:
        """The RST for one role, and whether it is inline markup (needs spacing)."""
        target = role_target(content)
        explicit = content.strip()[: content.strip().rfind("<")].strip() if target != \
            content.strip() else ""
        found = self.cat.lookup(self.std.id, target)
        if found is None:
            return escape(explicit or content), False
        sid, obj = found
        if name == "term" and isinstance(obj, Term):
            label = explicit or _plain(obj.term, self.lang, self.langs) or obj.id
        elif name == "cite" and isinstance(obj, Reference):
            label = explicit or obj.designation or obj.id
        else:
            label = explicit or self.label(sid, obj)
        uri = self.cat.uri(self.std.id, sid, obj.id)
        if uri is None:
            return escape(label), False
        return link(label, uri), True

    def label(self, sid: str, obj: Obj) -> str:
        """How a reference to ``obj`` reads: a clause number, a name or an id."""
        std = self.cat.facts[sid]
        numbers = self.cat.numbers(sid)
        number = numbers.get(obj.id)
        text: str
        if isinstance(obj, Clause):
            if obj.type in UNNUMBERED_TYPES or number is None:
                text = _plain(obj.title, self.lang, std.languages) or self.L.get(
                    f"t_{obj.type}", obj.id)
            elif obj.type == "annex":
                text = self.L["annex"].format(number)
            elif obj.type is not None:
                text = self.L["clause"].format(number)
            else:
                text = number
        elif isinstance(obj, Term):
            text = number or obj.id
        elif isinstance(obj, (Signal, Message)):
            text = obj.name or obj.id
        elif isinstance(obj, Reference):
            text = obj.designation or obj.id
        elif isinstance(obj, EvidenceType):
            text = _plain(obj.name, self.lang, std.languages) or obj.id
        else:
            text = obj.id
        if sid != self.std.id and (isinstance(obj, (Clause, Term))):
            return self.L["in_other"].format(std.designation or sid, text)
        return text

    def text(self, text: Text | None, owner: str | None, ind: str, *,
             label: str | None = None, container: str | None = "text") -> None:
        """A prose field: its RST with roles resolved, in a container (no sections inside)."""
        found = _text_of(text, self.lang, self.langs)
        if found is None or not found[0].strip():
            if label:
                self.blank()
                self.emit(f":label:`{escape(label)}`", ind)
                self.blank()
            return
        value, origin = found
        where = [Where(origin.file, line, owner) for line in _line_origins(value, origin)]
        value = value.rstrip("\n")
        where = where[: value.count("\n") + 1]
        if _nesting(value) > MAX_TEXT_NESTING:
            self.diagnostics.append(Diagnostic(
                "RST001", Severity.WARNING,
                f"the text nests more than {MAX_TEXT_NESTING} levels deep; it is published as"
                " plain text", origin.file, where[0].line, 1, owner,
                hint="flatten the indentation (block quotes, lists)"))
            value = "::\n\n" + "\n".join("  " + x for x in value.split("\n"))
            where = [where[0], where[0], *where]
        else:
            value = self._number_tables(self.resolve(value))
            value = "\n".join(x.rstrip() for x in value.split("\n"))
        inner = ind
        self.blank()
        if container:
            self.emit(f".. container:: {container}", ind)
            self.blank()
            inner = ind + "   "
        if label:
            first = value.split("\n", 1)[0]
            if _STRUCTURAL.match(first) or first.rstrip().endswith("::"):
                self.emit(f":label:`{escape(label)}`", inner)
                self.blank()
            else:
                sep = "" if first[:1] and _wide(first[0]) else " "
                glue = "\\ " if not sep and first[:1] not in _END_OK else sep
                value = f":label:`{escape(label)}`{glue}{value}"
        self.block(value, inner, where)
        self.blank()

    def _number_tables(self, value: str) -> str:
        """Give the titled tables of a text their numbers, in document order."""
        if ".. " not in value:
            return value
        out = []
        literal: int | None = None
        for line in value.split("\n"):
            indent = len(line) - len(line.lstrip())
            if literal is not None and line.strip() and indent <= literal:
                literal = None
            if literal is None:
                m = _TABLE_DIRECTIVE.match(line)
                if m:
                    line = f"{m.group(1)}.. {m.group(2)}:: {self.table_title(m.group(3))}"
                elif line.rstrip().endswith("::") and not line.lstrip().startswith(".. "):
                    literal = indent
            out.append(line)
        return "\n".join(out)

    def table_title(self, title: str) -> str:
        self.table_count += 1
        number = f"{self.table_prefix}{self.table_count}"
        return f"{self.L['table'].format(number)}{self.L['table_sep']}{title}"

    def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], ind: str,
              *, cls: str, row_ids: Sequence[str | None] | None = None,
              anchor: str | None = None, wrap: str = "table-wrap") -> None:
        """A numbered list-table; cells are RST; rows (or the whole table) anchored by id."""
        self.blank()
        line = self.emit(f".. container:: {wrap}", ind)
        if row_ids is not None:
            self.rows[line] = tuple(row_ids)
        if anchor is not None:
            self.anchors[line] = anchor
        self.blank()
        t = ind + "   "
        self.emit(f".. list-table:: {self.table_title(escape(title))}", t)
        self.emit(f"   :header-rows: {1 if header else 0}", t)
        self.emit(f"   :class: {cls}", t)
        self.blank()
        for row in ([header] if header else []) + list(rows):
            for i, cell in enumerate(row):
                bullet = "* - " if i == 0 else "  - "
                cell_lines = cell.split("\n") if cell else [""]
                self.emit((bullet + cell_lines[0]).rstrip(), t + "   ")
                for extra in cell_lines[1:]:
                    self.emit("    " + extra if extra else "", t + "   ")
        self.blank()

    def cell(self, text: Text | None, owner: str | None) -> str:
        """A prose field for a table cell (no source mapping: cells are short)."""
        value = _plain(text, self.lang, self.langs).strip()
        if not value:
            return ""
        if _nesting(value) > MAX_TEXT_NESTING:
            return escape(value)
        return self.resolve(value)

    def link_to(self, oid: str, label: str | None = None, sid: str | None = None) -> str:
        sid = sid or self.std.id
        uri = self.cat.uri(self.std.id, sid, oid)
        return link(label or oid, uri) if uri else escape(label or oid)

    # -- the document ----------------------------------------------------------------------

    def document(self) -> None:
        self.emit(".. role:: label")
        self.emit(".. role:: alt")
        self.blank()
        self.cover()
        self.toc()
        for part in self.std.parts:
            self.clause(part, 1, "")
        if self.std.kind == "verification":
            self.traceability()

    def title(self, clause: Clause) -> str:
        found = _text_of(clause.title, self.lang, self.langs)
        if found:
            return oneline(self.resolve(found[0]))
        return escape(self.L.get(f"t_{clause.type}", clause.id))

    def heading(self, clause: Clause, plain: bool = False) -> str:
        """The title line of a clause: number and title (annexes: label, kind, title)."""
        number = self.numbers.get(clause.id)
        title = self.title(clause)
        if clause.type == "annex" and number is not None:
            kind = self.L.get(clause.annex or "", clause.annex or "")
            label = self.L["annex"].format(number)
            if plain:
                return f"{label}{self.L['num_sep']}{title}"
            bracket = f"（{kind}）" if self.lang == "zh" else f"({kind})"
            return f":label:`{escape(label)}` :alt:`{escape(bracket)}` {title}"
        if number is None or clause.type in UNNUMBERED_TYPES:
            return title
        return f"{escape(number)}{self.L['num_sep']}{title}"

    def cover(self) -> None:
        std, L = self.std, self.L
        stage = stages().get(std.stage or "")
        self.emit(".. container:: cover")
        self.blank()
        ind = "   "

        def para(cls: str, rst: str) -> None:
            self.emit(f".. class:: {cls}", ind)
            self.blank()
            self.emit(rst, ind)
            self.blank()

        if (std.designation or "").startswith("T/"):
            kinds = [labels(x)["group_T"] for x in (self.lang, *self._cover_langs())]
            para("cover-type", escape(kinds[0]) + "".join(
                f" :alt:`{escape(k)}`" for k in kinds[1:]))
        para("cover-designation", escape(designation(std)))
        if std.supersedes:
            para("cover-supersedes", escape(L["supersedes"].format("、".join(std.supersedes)
                                                                  if self.lang == "zh" else
                                                                  ", ".join(std.supersedes))))
        para("cover-title", oneline(self.resolve(_plain(std.title, self.lang)))
             or escape(std.id))
        for other in self.langs:
            title = _text_of(std.title, other, ()) if std.title else None
            if title and other in std.title.values:  # type: ignore[union-attr]
                para("cover-title-alt", oneline(self.resolve(title[0])))
        if stage is not None:
            names = [stage.name(self.lang)] + [stage.name(x) for x in self._cover_langs()]
            para("cover-stage", escape(names[0]) + "".join(
                f" :alt:`{escape(n)}`" for n in names[1:] if n != names[0]))
        facts = []
        published = std.stage in ("published", "withdrawn")
        if std.revision is not None and not published:
            facts.append(L["revision"].format(std.revision))
        if std.edition > 1:
            facts.append(L["edition"].format(std.edition))
        if std.date:
            facts.append(L["publication_date" if published else "draft_date"].format(std.date))
        if facts:
            para("cover-facts", escape("\u3000".join(facts) if self.lang == "zh"
                                       else " · ".join(facts)))
        if std.comment_deadline and not published:
            para("cover-deadline", escape(L["deadline"].format(std.comment_deadline)))
        if not published:
            para("cover-notice", escape(L["draft_notice"]))
            if std.stage == "draft-for-comment":
                para("cover-notice", escape(L["patent_notice"]))
            if L["dates"]:
                para("cover-dates", " ".join(f":label:`{escape(x)}`"
                                             for x in L["dates"].split("\u3000\u3000")))
        for committee in std.committee:
            name = oneline(self.resolve(_plain(committee, self.lang, self.langs)))
            if name:
                para("cover-committee", name)
        self.blank()

    def _cover_langs(self) -> list[str]:
        """The other cover languages: the standard's, and zh/en for the stage name."""
        out = [x for x in self.langs if x in LABELS]
        for x in ("zh", "en"):
            if x != self.lang and x not in out:
                out.append(x)
        return out

    def toc(self) -> None:
        self.emit(".. container:: toc")
        self.blank()
        self.emit(f".. rubric:: {escape(self.L['contents'])}", "   ")
        self.blank()
        for part in self.std.parts:
            self.emit(f"- {link_markup(self.heading(part, plain=True), part.id)}", "   ")
            subs = [c for c in part.clauses if c.id]
            if subs:
                self.blank()
                for sub in subs:
                    self.emit(f"- {link_markup(self.heading(sub, plain=True), sub.id)}",
                              "     ")
                self.blank()
        if self.std.kind == "verification" and self._trace_rows():
            letter = self._trace_letter()
            label = f"{self.L['annex'].format(letter)}{self.L['num_sep']}{self.L['traceability']}"
            self.emit(f"- {link(label, '#' + TRACEABILITY_ID)}", "   ")
        self.blank()

    def clause(self, clause: Clause, depth: int, ind: str) -> None:
        """A part or subclause: heading, text, structured content, provisions, notes, subclauses."""
        number = self.numbers.get(clause.id)
        if clause.type == "annex" and number:
            self.table_prefix, self.table_count = f"{number}.", 0
        self.blank()
        if depth <= len(ADORNMENTS) and not ind:
            heading = self.heading(clause)
            self.sections.append(clause.id)
            cls = clause.type or "subclause"
            if clause.type == "annex":
                cls = f"annex annex-{clause.annex or 'informative'}"
            self.emit(f".. class:: {cls}")
            self.blank()
            self.emit(heading)
            self.emit(ADORNMENTS[depth - 1] * max(4, column_width(heading) + 2))
            self.blank()
        else:
            # Deeper than RST section levels allow: a titled container, anchored by line.
            line = self.emit(".. container:: deep-clause", ind)
            self.anchors[line] = clause.id
            self.blank()
            ind += "   "
            self.emit(f".. rubric:: {self.heading(clause)}", ind)
            self.blank()
        self.text(clause.text, clause.id, ind)
        self.content(clause, ind)
        for provision in clause.provisions:
            self.provision(provision, ind)
        self.notes(clause.examples, clause.id, ind, "example", "example_n")
        self.notes(clause.notes, clause.id, ind, "note", "note_n")
        for sub in clause.clauses:
            self.clause(sub, depth + 1, ind)

    def notes(self, texts: Sequence[Text], owner: str, ind: str, one: str, many: str) -> None:
        for i, note in enumerate(texts, 1):
            label = self.L[one] if len(texts) == 1 else self.L[many].format(i)
            self.text(note, owner, ind, label=label, container="note" if one == "note"
                      else "example")

    def provision(self, p: Provision, ind: str) -> None:
        L = self.L
        kind = p.kind or "statement"
        self.blank()
        line = self.emit(f".. container:: provision {kind}", ind)
        self.anchors[line] = p.id
        self.blank()
        head = [link(p.id, f"#{p.id}"), escape(L.get(kind, kind))]
        if p.asil:
            head.append(escape(f"ASIL {p.asil}"))
        if p.verification:
            methods = ("、" if self.lang == "zh" else ", ").join(L.get(m, m)
                                                              for m in p.verification)
            head.append(escape(f"{L['verification']}: {methods}" if self.lang != "zh"
                               else f"{L['verification']}：{methods}"))
        cases = self.cat.verifiers.get((self.std.id, p.id), [])
        if cases:
            links = ", ".join(self.link_to(c, c if sid == self.std.id else
                                           f"{self.cat.facts[sid].designation} {c}",
                                           sid) for sid, c in cases)
            head.append(escape(L["verified_by"] + ("：" if self.lang == "zh" else ": ")) + links)
        self.emit(" · ".join(head), ind + "   ")
        self.blank()
        self.text(p.text, p.id, ind + "   ", container=None)

    # -- structured content ----------------------------------------------------------------

    def content(self, c: Clause, ind: str) -> None:
        if c.references:
            self.references(c, ind)
        if c.terms:
            for term in c.terms:
                self.term(term, ind)
        if c.nodes:
            self.table(self.L["nodes"], [self.L["node"], self.L["name"]],
                       [[escape(n.id), self.cell(n.name, n.id)] for n in c.nodes], ind,
                       cls="nodes", row_ids=[n.id for n in c.nodes])
        if c.units:
            self.table(self.L["units"], [self.L["unit"], self.L["name"], self.L["quantity"]],
                       [[escape(u.id), self.cell(u.name, None), escape(u.quantity or "")]
                        for u in c.units], ind, cls="units")
        if c.value_tables:
            self.table(self.L["value_tables"], [self.L["value_table"], self.L["values"]],
                       [[escape(v.id), self.entries(v)] for v in c.value_tables], ind,
                       cls="value-tables", row_ids=[v.id for v in c.value_tables])
        if c.messages:
            self.messages(c, ind)
        if c.environments:
            self.table(self.L["environments"],
                       [self.L["environment"], self.L["type"], self.L["description"]],
                       [[escape(e.id), escape(e.type or ""), self.cell(e.description, e.id)]
                        for e in c.environments], ind, cls="environments",
                       row_ids=[e.id for e in c.environments])
        for case in c.cases:
            self.case(case, ind)
        if c.evidence_types:
            self.table(self.L["evidence_types"],
                       [self.L["evidence"], self.L["name"], self.L["description"]],
                       [[escape(e.id), self.cell(e.name, e.id), self.cell(e.description, e.id)]
                        for e in c.evidence_types], ind, cls="evidence-types",
                       row_ids=[e.id for e in c.evidence_types])
        if c.levels:
            self.levels(c.levels, ind)

    def references(self, c: Clause, ind: str) -> None:
        self.blank()
        self.emit(".. container:: references", ind)
        self.blank()
        for i, ref in enumerate(c.references, 1):
            title = oneline(self.cell(ref.title, ref.id))
            number = f"\\[{i}\\]\u2002" if c.type == "bibliography" else ""
            line = self.emit(f"- {number}{escape(ref.designation or ref.id)}\u3000{title}",
                             ind + "   ")
            self.anchors[line] = ref.id
        self.blank()

    def term(self, t: Term, ind: str) -> None:
        self.blank()
        line = self.emit(".. container:: term-entry", ind)
        self.anchors[line] = t.id
        self.blank()
        inner = ind + "   "
        self.emit(f".. rubric:: {link(self.numbers.get(t.id, t.id), '#' + t.id)}", inner)
        self.blank()
        names = [f"**{escape(_plain(t.term, self.lang))}**"] if t.term else []
        for other in self.langs:
            if t.term is not None and other in t.term.values:
                names.append(f":alt:`{escape(t.term.values[other])}`")
        self.emit(".. class:: term-name", inner)
        self.blank()
        self.emit("\u2003".join(names) or escape(t.id), inner)
        self.blank()
        if t.abbreviation:
            self.emit(".. class:: term-abbreviation", inner)
            self.blank()
            self.emit(escape(t.abbreviation), inner)
            self.blank()
        self.text(t.definition, t.id, inner, container="definition")
        for i, note in enumerate(t.notes, 1):
            # GB/T 1.1 writes a lone note "注："; ISO numbers notes to entry even when alone.
            single = len(t.notes) == 1 and self.lang == "zh"
            label = self.L["note"] if single else self.L["term_note"].format(i)
            self.text(note, t.id, inner, label=label, container="note")
        if t.source:
            self.emit(".. class:: term-source", inner)
            self.blank()
            self.emit(escape("[" + self.L["source"].format(t.source) + "]"), inner)
            self.blank()

    def entries(self, vt: ValueTable | None) -> str:
        if vt is None or not vt.entries:
            return ""
        return "\n".join(f"| {escape(_fmt(e.value))} = {escape(e.name or '')}"
                         for e in vt.entries)

    def messages(self, c: Clause, ind: str) -> None:
        L = self.L
        index = self.cat.index(self.std.id)
        rows = []
        for m in c.messages:
            e2e = ""
            if m.e2e is not None:
                e2e = L["e2e_text"].format(m.e2e.profile or "", _fmt(m.e2e.data_id),
                                           self._signal_name(m.e2e.counter),
                                           self._signal_name(m.e2e.checksum))
            rows.append([
                self.link_to(m.id, m.name or m.id), escape(m.can_id or ""), escape(_fmt(m.dlc)),
                self._node(m.sender), ", ".join(self._node(r) for r in m.receivers),
                escape(L.get(m.transmission or "", m.transmission or "")),
                escape(_fmt(m.cycle_ms)), escape(_fmt(m.timeout_ms)), escape(e2e),
            ])
        self.table(L["messages"],
                   [L["message"], L["can_id"], L["dlc"], L["sender"], L["receivers"],
                    L["transmission"], L["cycle"], L["timeout"], L["e2e"]], rows, ind,
                   cls="messages")
        for m in c.messages:
            rows = []
            for s in m.signals:
                vt = index.get(s.value_table or "")
                rows.append(self._signal_row(s, vt if isinstance(vt, ValueTable) else None))
            self.table(L["signals_of"].format(m.name or m.id, m.can_id or ""),
                       [L["signal"], L["description"], L["position"], L["encoding"],
                        L["scaling"], L["range"], L["unit"], L["initial"], L["invalid"],
                        L["value_table"]], rows, ind, cls="signals",
                       row_ids=[s.id for s in m.signals], anchor=m.id, wrap="table-wrap message")

    def _signal_name(self, sid: str | None) -> str:
        obj = self.cat.index(self.std.id).get(sid or "")
        return obj.name or obj.id if isinstance(obj, Signal) else (sid or "")

    def _node(self, nid: str | None) -> str:
        if not nid:
            return ""
        return self.link_to(nid) if isinstance(self.cat.index(self.std.id).get(nid), Node) \
            else escape(nid)

    def _signal_row(self, s: Signal, vt: ValueTable | None) -> list[str]:
        L = self.L
        desc = self.cell(s.description, s.id)
        if s.vss_path:
            desc += ("\n\n" if desc else "") + f":alt:`VSS: {escape(s.vss_path)}`"
        encoding = ", ".join(x for x in (
            L.get(s.byte_order or "", s.byte_order or ""),
            L["signed"] if s.signed else L["unsigned"] if s.signed is not None else "") if x)
        if self.lang == "zh":
            encoding = encoding.replace(", ", "，")
        rng = ""
        if s.min is not None or s.max is not None:
            rng = L["range_fmt"].format(_fmt(s.min), _fmt(s.max))
        invalid = ""
        if s.invalid_raw is not None:
            invalid = f"0x{s.invalid_raw:X}" if s.invalid_raw >= 0 else str(s.invalid_raw)
        unit = UNIT_SYMBOLS.get(s.unit or "", s.unit or "")
        vt_cell = ""
        if vt is not None:
            vt_cell = self.link_to(vt.id) + "\n\n" + self.entries(vt)
        elif s.value_table:
            vt_cell = escape(s.value_table)
        return [
            f"**{escape(s.name or s.id)}**", desc,
            escape(f"{_fmt(s.start_bit)} / {_fmt(s.length)}"), escape(encoding),
            escape(f"{_fmt(s.factor)} / {_fmt(s.offset)}"), escape(rng), escape(unit),
            escape(_fmt(s.initial)), escape(invalid), vt_cell,
        ]

    def case(self, case: Case, ind: str) -> None:
        L = self.L
        colon = "：" if self.lang == "zh" else ": "
        self.blank()
        line = self.emit(".. container:: case", ind)
        self.anchors[line] = case.id
        self.blank()
        inner = ind + "   "
        title = oneline(self.cell(case.title, case.id))
        self.emit(f".. rubric:: {link(case.id, '#' + case.id)}\u3000{title}", inner)
        self.blank()
        verifies = []
        for target, _o in case.verifies:
            found = self.cat.lookup(self.std.id, target)
            if found is None:
                verifies.append(escape(target))
                continue
            sid, obj = found
            label = obj.id if sid == self.std.id else \
                f"{self.cat.facts[sid].designation or sid} {obj.id}"
            verifies.append(self.link_to(obj.id, label, sid))
        facts = [(L["verifies"], ", ".join(verifies)),
                 (L["method"], escape(L.get(case.method or "", case.method or ""))),
                 (L["level"], escape(L.get(case.level or "", case.level or "")))]
        if case.environment:
            env = self.cat.index(self.std.id).get(case.environment)
            facts.append((L["environment"], self.link_to(case.environment) if isinstance(
                env, Environment) else escape(case.environment)))
        if case.asil:
            facts.append((L["asil"], escape(case.asil)))
        self.emit(".. class:: case-facts", inner)
        self.blank()
        for name, value in facts:
            self.emit(f"| :label:`{escape(name + colon.strip())}` {value}", inner)
        self.blank()
        self.text(case.objective, case.id, inner, label=L["objective"], container="objective")
        if case.preconditions:
            self.emit(f":label:`{escape(L['preconditions'])}`", inner)
            self.blank()
            self.listing(case.preconditions, case.id, inner)
        if case.steps:
            rows = [[str(i), self.cell(st.action, case.id), self.cell(st.expected, case.id)]
                    for i, st in enumerate(case.steps, 1)]
            self.table(L["steps_of"].format(case.id), [L["step"], L["action"], L["expected"]],
                       rows, inner, cls="steps")
        if case.pass_criteria:
            self.emit(f":label:`{escape(L['pass_criteria'])}`", inner)
            self.blank()
            self.listing(case.pass_criteria, case.id, inner)

    def listing(self, texts: Sequence[Text], owner: str, ind: str) -> None:
        """An a), b), c) list of texts, as GB/T 1.1 writes lists."""
        for i, item in enumerate(texts):
            found = _text_of(item, self.lang, self.langs)
            if found is None:
                continue
            value, origin = found
            value = self.resolve(value.rstrip("\n")) if _nesting(value) <= MAX_TEXT_NESTING \
                else escape(value)
            where = [Where(origin.file, x, owner) for x in _line_origins(value, origin)]
            bullet = "a) " if i == 0 else "#) "
            lines = value.split("\n")
            n = self.emit(bullet + lines[0], ind)
            self.sources[n] = where[0]
            for j, extra in enumerate(lines[1:], 1):
                n = self.emit("   " + extra if extra else "", ind, ours=False)
                if j < len(where):
                    self.sources[n] = where[j]
        self.blank()

    def levels(self, levels: Sequence[Level], ind: str) -> None:
        L = self.L
        rows = [[self.link_to(lv.id, lv.id), self.cell(lv.name, lv.id),
                 self.cell(lv.description, lv.id), self.cell(lv.environment, lv.id)]
                for lv in levels]
        self.table(L["levels"], [L["level_col"], L["name"], L["description"], L["environment"]],
                   rows, ind, cls="levels")
        for lv in levels:
            self.blank()
            line = self.emit(".. container:: level", ind)
            self.anchors[line] = lv.id
            self.blank()
            inner = ind + "   "
            name = oneline(self.cell(lv.name, lv.id))
            self.emit(f".. rubric:: {link(lv.id, '#' + lv.id)}\u3000{name}", inner)
            self.blank()
            self.text(lv.description, lv.id, inner, container=None)
            self.text(lv.environment, lv.id, inner, label=L["env_line"], container="environment")
            self.table(L["criteria_of"].format(lv.id),
                       [L["criterion"], L["description"], L["mandatory"], L["evidence"]],
                       [self._criterion(c) for c in lv.criteria], inner, cls="criteria",
                       row_ids=[c.id for c in lv.criteria])

    def _criterion(self, c: Criterion) -> list[str]:
        index = self.cat.index(self.std.id)
        evidence = []
        for eid, _o in c.evidence:
            ev = index.get(eid)
            evidence.append(self.link_to(eid, _plain(ev.name, self.lang, self.langs) or eid)
                            if isinstance(ev, EvidenceType) else escape(eid))
        mandatory = self.L["yes"] if c.mandatory else self.L["no"]
        return [escape(c.id), self.cell(c.text, c.id), escape(mandatory),
                "\n".join(f"| {e}" for e in evidence)]

    # -- traceability ----------------------------------------------------------------------

    def _trace_rows(self) -> list[tuple[str, Provision]]:
        """Requirements under test here, then the other provisions the cases verify."""
        rows: list[tuple[str, Provision]] = []
        seen: set[tuple[str, str]] = set()

        def under(clause: Clause, inherited: bool) -> Iterator[Provision]:
            on = inherited or clause.under_test
            if on:
                yield from clause.provisions
            for sub in clause.clauses:
                yield from under(sub, on)

        for part in self.std.parts:
            for p in under(part, False):
                if (self.std.id, p.id) not in seen:
                    seen.add((self.std.id, p.id))
                    rows.append((self.std.id, p))
        for case in self._cases():
            for target, _o in case.verifies:
                found = self.cat.lookup(self.std.id, target)
                if found and isinstance(found[1], Provision) and (found[0], found[1].id) not \
                        in seen:
                    seen.add((found[0], found[1].id))
                    rows.append((found[0], found[1]))
        return rows

    def _cases(self) -> list[Case]:
        return [o for o, _p in self.std.objects() if isinstance(o, Case)]

    def _trace_letter(self) -> str:
        annexes = sum(1 for p in self.std.parts if p.type == "annex")
        return chr(ord("A") + annexes) if annexes < 26 else f"Z{annexes - 25}"

    def _trace_label(self, sid: str, p: Provision) -> str:
        """A requirement in the traceability table: its id, with its standard's if elsewhere."""
        label = p.id if sid == self.std.id else \
            f"{self.cat.facts[sid].designation or sid} {p.id}"
        return self.link_to(p.id, label, sid)

    def traceability(self) -> None:
        rows = self._trace_rows()
        cases = self._cases()
        if not rows:
            return
        L = self.L
        letter = self._trace_letter()
        self.table_prefix, self.table_count = f"{letter}.", 0
        self.sections.append(TRACEABILITY_ID)
        kind = f"（{L['informative']}）" if self.lang == "zh" else f"({L['informative']})"
        heading = (f":label:`{escape(L['annex'].format(letter))}` :alt:`{escape(kind)}` "
                   f"{escape(L['traceability'])}")
        self.blank()
        self.emit(".. class:: annex annex-informative generated")
        self.blank()
        self.emit(heading)
        self.emit("=" * (column_width(heading) + 2))
        self.blank()
        # Which cases verify each requirement, in one pass over the cases' "verifies" lists.
        verifiers: dict[tuple[str, str], list[Case]] = {}
        for case in cases:
            for target, _o in case.verifies:
                found = self.cat.lookup(self.std.id, target)
                if found is not None:
                    listed = verifiers.setdefault((found[0], found[1].id), [])
                    if not listed or listed[-1] is not case:
                        listed.append(case)
        body = []
        if len(cases) <= MATRIX_MAX_CASES:
            # Few cases: a matrix, a column a case, its method's letter where it verifies.
            for sid, p in rows:
                by = verifiers.get((sid, p.id), [])
                body.append([self._trace_label(sid, p), *(
                    escape(METHOD_LETTERS.get(case.method or "", "●")) if any(c is case for c in by)
                    else "" for case in cases), escape(str(len(by)))])
            header = [L["requirement_col"], *[self.link_to(c.id) for c in cases],
                      L["coverage"]]
            cls = "traceability"
        else:
            # Many cases: a row a requirement listing the cases that verify it (a matrix would
            # grow with requirements times cases, and could not be read on a page).
            zh = self.lang == "zh"
            for sid, p in rows:
                by = verifiers.get((sid, p.id), [])
                entries = []
                for case in by:
                    method = escape(METHOD_LETTERS.get(case.method or "", "●"))
                    # A full-width bracket may not follow a link's end-string directly.
                    entries.append(f"{self.link_to(case.id)}\\ （{method}）" if zh else
                                   f"{self.link_to(case.id)} ({method})")
                body.append([self._trace_label(sid, p), ("、" if zh else ", ").join(entries),
                             escape(str(len(by)))])
            header = [L["requirement_col"], L["verified_by"], L["coverage"]]
            cls = "trace-list"
        self.table(L["trace_table"], header, body, "", cls=cls)
        self.emit(".. container:: note")
        self.blank()
        self.emit(f":label:`{escape(L['note'])}`\\ {escape(L['trace_note'])}", "   ")
        self.blank()


def link_markup(label_rst: str, oid: str) -> str:
    """A link whose label is already RST (a heading): markup is dropped, the text kept."""
    text = re.sub(r":(?:label|alt):`([^`]*)`", r"\1", label_rst)
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`__", r"\1", text)
    text = text.replace("\\", "")
    return link(oneline(text), f"#{oid}")


def standard_rst(cat: Catalogue, standard_id: str, lang: str | None = None) -> RstDocument:
    """The RST of one standard in ``lang`` (default: its first language)."""
    std = cat.standards[standard_id]
    page = _Page(cat, std, page_language(std, lang))
    page.document()
    text = "\n".join(page.lines).rstrip("\n") + "\n"
    title = f"{designation(std)} {_plain(std.title, page.lang)}".strip()
    return RstDocument(
        standard_id=std.id, lang=page.lang, title=title, text=text,
        sections=tuple(page.sections), anchors=page.anchors, rows=page.rows,
        sources=page.sources, fallback=Where(std.origin.file, 1, std.id),
        own=frozenset(page.own),
        diagnostics=tuple(page.diagnostics),
    )


def index_rst(cat: Catalogue, lang: str, ext: str = "html") -> str:
    """The RST of the site's index: every standard with its designation, titles and state."""
    L = labels(lang)
    lines = [".. role:: alt", "", ".. class:: index-title", "", escape(L["index_title"]), "",
             ".. container:: table-wrap", "", "   .. list-table::", "      :header-rows: 1",
             "      :class: index", ""]
    header = [L["designation"], L["title"], L["kind"], L["stage"], L["date"]]
    rows: list[list[str]] = [[escape(h) for h in header]]
    for sid in sorted(cat.published):
        std = cat.facts[sid]
        plang = page_language(std, lang)
        titles = [_plain(std.title, plang)] + [
            std.title.values[x] for x in std.languages if std.title and x != plang
            and x in std.title.values]
        stage = stages().get(std.stage or "")
        stage_name = stage.name(lang) if stage else (std.stage or "")
        kind = {"verification": L["verification_kind"]}.get(std.kind or "", L.get(
            std.kind or "", std.kind or ""))
        title_cell = link(titles[0] or sid, f"{sid}.{ext}") + "".join(
            f"\n\n:alt:`{escape(t)}`" for t in titles[1:] if t)
        rows.append([
            link(designation(std), f"{sid}.{ext}"), title_cell, escape(kind),
            escape(L["stage_fmt"].format(stage_name, std.revision)), escape(std.date or ""),
        ])
    for row in rows:
        for i, cell in enumerate(row):
            parts = cell.split("\n")
            lines.append(("      * - " if i == 0 else "        - ") + parts[0])
            lines.extend(("          " + x if x else "") for x in parts[1:])
    return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True, slots=True)
class Site:
    """A rendered site: file name -> content, and what went wrong along the way."""

    files: Mapping[str, bytes]
    diagnostics: tuple[Diagnostic, ...]


def page_key(doc: RstDocument, kind: str | None) -> bytes:
    """A digest of everything the HTML step reads: the RST document whole and the kind."""
    import hashlib

    h = hashlib.blake2b(b"page-1", digest_size=32)
    for part in (doc.standard_id, doc.lang, doc.title, kind or "", doc.text,
                 repr(doc.sections), repr(sorted(doc.anchors.items())),
                 repr(sorted(doc.rows.items())), repr(sorted(doc.sources.items())),
                 repr(doc.fallback), repr(sorted(doc.own))):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.digest()


class PageCache(Protocol):
    """Where :func:`render_site` keeps and finds pages (:class:`stdkit.cache.RenderCache`)."""

    def page(self, key: bytes) -> tuple[str, list[Diagnostic]] | None: ...

    def store_page(self, key: bytes, page: str, diagnostics: list[Diagnostic]) -> None: ...

    def keep_page(self, key: bytes) -> None:
        """A page found by :meth:`page` in another process is still in use (not pruned)."""


@dataclass(frozen=True, slots=True)
class _Made:
    """One page as a worker hands it back: the HTML, the findings of its RST and of docutils,
    its cache key, and whether the HTML came from the cache."""

    key: bytes
    page: str
    rst_diagnostics: tuple[Diagnostic, ...]
    html_diagnostics: list[Diagnostic]
    hit: bool


# Below this many clauses in all, the pages are made in this process (a fork costs more).
PARALLEL_OBJECTS = 2_000
# What the worker processes read (inherited through fork, never pickled).
_WORK: dict[str, object] = {}


def _make_page(cat: Catalogue, sid: str, lang: str | None,
               cache: PageCache | None) -> _Made:
    """The HTML page of standard ``sid``: its RST, then the cache or docutils."""
    import gc

    from stdkit import render_html

    doc = standard_rst(cat, sid, lang)
    kind = cat.facts[sid].kind
    key = page_key(doc, kind)
    hit = cache.page(key) if cache is not None else None
    if hit is not None:
        return _Made(key, hit[0], doc.diagnostics, hit[1], True)
    if isinstance(cat.standards, LazyStandards):
        # The HTML is made from the RST alone: docutils' tree takes the models' memory.
        cat.release()
        gc.collect()
    try:
        page, found = render_html.page_of(doc, kind)
    finally:
        gc.collect()  # the page's document tree (cycles): freed now, not a few pages later
    return _Made(key, page, doc.diagnostics, found, False)


def _page_task(sid: str) -> tuple[str, _Made]:
    cat: Catalogue = _WORK["cat"]  # type: ignore[assignment]
    lang: str | None = _WORK["lang"]  # type: ignore[assignment]
    cache: PageCache | None = _WORK["cache"]  # type: ignore[assignment]
    return sid, _make_page(cat, sid, lang, cache)


def _pages(cat: Catalogue, chosen: list[str], lang: str | None, cache: PageCache | None,
           jobs: int, progress: Callable[[str, int, int], None] | None) -> dict[str, _Made]:
    """Every chosen standard's page: RST and HTML made together, in two processes (fork)
    when there is enough work, each standard read by the process that publishes it."""
    import gc

    # Each process reads what its pages need; standards read lazily for the catalogue are
    # let go here, so that the processes forked below do not start out holding them.
    cat.release()
    # Docutils makes many short-lived objects in cycles (parent links), so the collector runs
    # often; with every standard in the heap each full collection walked all of them (and,
    # after a fork, copied them). Frozen, they are neither walked nor copied.
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    done: dict[str, _Made] = {}

    def finished(sid: str, made: _Made) -> None:
        done[sid] = made
        if progress is not None:
            progress(sid, len(done), len(chosen))

    try:
        sizes = {sid: cat.sizes[sid] for sid in chosen}
        if (jobs < 2 or len(chosen) < 2 or sum(sizes.values()) < PARALLEL_OBJECTS
                or not hasattr(os, "fork")):
            for sid in chosen:
                finished(sid, _make_page(cat, sid, lang, cache))
            return done
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        _WORK.update(cat=cat, lang=lang, cache=cache)
        # Largest first, so that the two processes finish together.
        order = sorted(chosen, key=lambda sid: -sizes[sid])
        with ProcessPoolExecutor(min(jobs, len(chosen)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            for future in as_completed([pool.submit(_page_task, sid) for sid in order]):
                finished(*future.result())
        return done
    finally:
        _WORK.clear()
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _jobs() -> int:
    try:
        return max(1, int(os.environ.get("STDKIT_JOBS", "2")))
    except ValueError:
        return 2


def render_site(
    standards: Mapping[str, Standard], selected: Sequence[str] | None = None, *,
    fmt: str = "html", lang: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    cache: PageCache | None = None, keep: int | None = None,
    surveyed: Mapping[str, Survey] | None = None,
) -> Site:
    """Render ``selected`` standards (default: all) to a site of RST or HTML files.

    With ``cache``, an HTML page whose RST document is byte for byte one rendered before is
    taken from it (the page is a function of that document only). With ``keep``, the
    catalogue holds the indexes of that many standards at a time (for :class:`LazyStandards`);
    ``surveyed`` is the first pass over some standards made already (:func:`survey`).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    chosen = sorted(selected if selected is not None else standards)
    cat = Catalogue(standards, chosen, keep=keep, surveyed=surveyed)
    files: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
    index_lang = lang or next((cat.facts[s].languages[0] for s in chosen
                               if cat.facts[s].languages), "en")
    if fmt == "rst":
        for i, sid in enumerate(chosen, 1):
            if progress is not None:
                progress(sid, i, len(chosen))
            doc = standard_rst(cat, sid, lang)
            diagnostics.extend(doc.diagnostics)
            files[f"{sid}.rst"] = doc.text.encode("utf-8")
        files["index.rst"] = index_rst(cat, index_lang, "html").encode("utf-8")
        return Site(files, tuple(diagnostics))
    from stdkit import render_html

    index = index_rst(cat, index_lang)
    made = _pages(cat, chosen, lang, cache, _jobs(), progress)
    for sid in chosen:
        page = made[sid]
        if cache is not None:
            if page.hit:
                cache.keep_page(page.key)
            else:
                cache.store_page(page.key, page.page, page.html_diagnostics)
        diagnostics.extend(page.rst_diagnostics)
        diagnostics.extend(page.html_diagnostics)
        files[page_name(sid)] = page.page.encode("utf-8")
    files["index.html"] = render_html.index_page(index, index_lang).encode("utf-8")
    files["style.css"] = render_html.stylesheet()
    return Site(files, tuple(diagnostics))


SITE_MARKER = ".stdkit-site"


def install_site(files: Mapping[str, bytes], out: Path) -> None:
    """Write ``files`` as the folder ``out``, swapped in whole: a failure leaves the old site.

    Refuses to replace a non-empty folder that an earlier render did not write, so that
    ``--out .`` can never wipe a working tree.
    """
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise RefusedError(f"{out} exists and is not a folder; nothing was written")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).is_file():
        raise RefusedError(f"{out} is not empty and was not written by 'stdkit render';"
                           " choose another --out, or empty it first")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".new", dir=out.parent))
    try:
        for name, data in sorted(files.items()):
            (staging / name).write_bytes(data)
        (staging / SITE_MARKER).write_text("written by stdkit render; replaced whole on every"
                                           " render\n", encoding="utf-8")
        staging.chmod(0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.rename(out, old / "site")
            try:
                os.rename(staging, out)
            except BaseException:
                os.rename(old / "site", out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
