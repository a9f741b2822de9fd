"""Drafting rules of GB/T 1.1-2020 and ISO/IEC Directives Part 2, in Chinese and English.

Five families of small generators over one standard (VF and TRM002/TRM003 over one part at a
time: see :mod:`stdkit.rules`):

* VF — verbal forms: a provision says 应/shall, 宜/should, 可/may (or, for a statement, 能/can) as
  its kind demands and no form of another kind; informative text (foreword, introduction, scope,
  notes, examples, term definitions) and clause text outside ``provisions`` say none of the first
  three; substitutes (必须, must …) are named with their proper form; zh and en agree.
* DR — structure: what the foreword states, which elements are not subdivided, lone subclauses,
  hanging paragraphs, titles of siblings, annexes referred to, depth.
* TRM — terms: used outside their own entries; English definitions are phrases.
* CIT — citations: normative references are cited; only dated ones with a clause number.
* STG — what a stage demands of ``standard.yaml`` (and, in :func:`stage_gate`, of the report).

The words are data in ``data/lexicon/``, read once: verbal forms, words that only look like
provision words (响应, 可靠 …), the fixed sentences of GB/T 1.1, citation syntax, stage demands.

Finding a provision word. Chinese has no spaces, so a match of 应/宜/可/能/不必 … is dropped when a
word of ``not_provision_words.yaml`` covers it (响应, 应用, 可靠性 …), looking both before and after
it; English forms are whole lowercase words ("CAN" the bus and "May" the month are not verbs).
Roles, literals, ``*emphasis*`` (titles), quotations (《…》, “…”, "…") and literal blocks are
not read, nor are the fixed sentences of GB/T 1.1 (the patent notice says "shall not be held
responsible"). Inside a provision a statement form (能/can) is not "another kind": "shall ensure
that the driver can take over" is one requirement. A statement provision needs no verbal form:
statements of fact are written in the indicative. When one language of a provision has the form
of its kind and the other has not, the translations disagree: that is VF005, not VF001.

Citations with a clause number. A ``:cite:`` role cites a clause, table, figure or annex of the
cited document when a locator follows it, directly or after a comma, 的, 中 or 中的
(``:cite:`ref-iso11898-1`, 10.4``, ``:cite:`ref-iso11898-1` 的表3``, ``…, Clause 10``), or, in
English, precedes it with "of" (``10.4 of :cite:`ref-iso11898-1```). A clause number has a dot
(10.4, A.2) or its word (Clause 10, 第5章); a bare number is not a locator. A reference is dated
when its designation carries a year or release (``ISO 11898-1:2015``, ``GB/T 1.1—2020``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from stdkit import yamlio
from stdkit.diagnostics import Diagnostic, Severity
from stdkit.loader import STANDARDS_DIR
from stdkit.model import (
    ROLE,
    Clause,
    Obj,
    Origin,
    Provision,
    Reference,
    Standard,
    Term,
    Text,
    descendants,
    role_target,
)
from stdkit.rules import Context, PartContext, catalogue
from stdkit.stages import stages

KINDS = ("requirement", "recommendation", "permission", "statement")
PRESCRIPTIVE = frozenset(KINDS[:3])
MAX_DEPTH = 5

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _data(name: str) -> Any:
    text = resources.files("stdkit").joinpath("data", "lexicon", name).read_text("utf-8")
    return yamlio.parse(text, f"lexicon/{name}").data


def _script(lang: str, value: str) -> str:
    """The lexicon a text is read with: its language, or for a plain string its script."""
    base = lang.split("-")[0].lower()
    if base:
        return base
    return "zh" if _CJK.search(value) else "en"


# --- lexicons ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """A verbal form, an equivalent or a substitute of one kind of provision."""

    text: str
    kind: str
    role: str  # form | equivalent | substitute
    write: str | None = None  # a substitute's proper form


Probes = Mapping[str, tuple[tuple[str, int], ...]]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The provision words of one language, compiled once."""

    lang: str
    source: str
    latin: bool
    words: Mapping[str, Word]
    pattern: re.Pattern[str]
    shorter: Mapping[str, tuple[str, ...]]
    exclusions: Probes
    forced: Probes
    sentences: tuple[tuple[str, re.Pattern[str]], ...]  # (a literal every match holds, pattern)

    def key(self, matched: str) -> str:
        return " ".join(matched.split()) if self.latin else matched

    def forms(self, kind: str) -> list[str]:
        return [w.text for w in self.words.values() if w.kind == kind and w.role == "form"]

    def tokens(self, text: str) -> Iterator[tuple[int, Word]]:
        """(offset, word) of every provision word of ``text``; excluded matches are dropped."""
        pos = 0
        while (m := self.pattern.search(text, pos)) is not None:
            start, end = m.span()
            key = self.key(m.group())
            # 应能 in 反应能力 is no form, but 应 in 应能量化 is: try the shorter prefixes.
            candidates = [(key, end)] + [(k, start + len(k)) for k in self.shorter.get(key, ())]
            for word, stop in candidates:
                if not self._excluded(text, start, stop, word):
                    yield start, self.words[word]
                    pos = stop
                    break
            else:
                pos = start + 1

    def _excluded(self, text: str, start: int, end: int, key: str) -> bool:
        # The longer of the covering words decides: 影响应 (a form) loses to 影响应用.
        word = _cover(self, self.exclusions, text, start, end, key)
        return word > 0 and word >= _cover(self, self.forced, text, start, end, key)


def _cover(lex: Lexicon, table: Probes, text: str, start: int, end: int, key: str) -> int:
    """The length of the longest phrase of ``table`` that covers the match ``start:end``."""
    probes: Iterable[tuple[int, str]] = (
        ((start, key),) if lex.latin else ((p, text[p]) for p in range(start, end)))
    longest = 0
    for pos, probe in probes:
        for phrase, offset in table.get(probe, ()):
            at = pos - offset
            if len(phrase) > longest and at >= 0 and text.startswith(phrase, at):
                longest = len(phrase)
    return longest


@cache
def lexicons() -> dict[str, Lexicon]:
    """The compiled lexicon of every language the data covers."""
    forms = _data("verbal_forms.yaml")
    nots = _data("not_provision_words.yaml")
    fixed = _data("fixed_sentences.yaml")["sentences"]
    return {
        lang: _compile(lang, spec, nots.get(lang) or {},
                       [s[lang] for s in fixed.values() if lang in s])
        for lang, spec in forms.items()
    }


def _compile(lang: str, spec: dict[str, Any], nots: dict[str, Any],
             sentences: list[str]) -> Lexicon:
    words: dict[str, Word] = {}
    for kind in KINDS:
        entry = spec.get(kind) or {}
        for text in entry.get("forms") or ():
            words[text] = Word(text, kind, "form")
        for text in entry.get("equivalents") or ():
            words.setdefault(text, Word(text, kind, "equivalent"))
        for text, write in (entry.get("substitutes") or {}).items():
            words[text] = Word(text, kind, "substitute", write)
    latin = not any(_CJK.search(w) for w in words)
    ordered = sorted(words, key=len, reverse=True)
    # Every match opens with the first character of a word: a class of those first lets the
    # search skip other positions at once (same matches).
    opens = {w.split()[0][0] if latin else w[0] for w in ordered}
    first = "[" + "".join(map(re.escape, sorted(opens))) + "]"
    if latin:
        alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in ordered)
        pattern = re.compile(rf"(?={first})(?<![\w-])(?:{alternatives})(?![\w-])")
    else:
        pattern = re.compile(rf"(?={first})(?:{'|'.join(map(re.escape, ordered))})")
    shorter = {w: tuple(s for s in ordered if s != w and w.startswith(s)) for w in ordered}
    chars = set("".join(words))

    def probes(phrases: Iterable[str]) -> dict[str, tuple[tuple[str, int], ...]]:
        table: dict[str, list[tuple[str, int]]] = {}
        for phrase in phrases:
            if latin:
                for m in pattern.finditer(phrase):
                    table.setdefault(" ".join(m.group().split()), []).append((phrase, m.start()))
            else:
                for i, char in enumerate(phrase):
                    if char in chars:
                        table.setdefault(char, []).append((phrase, i))
        return {k: tuple(v) for k, v in table.items()}

    return Lexicon(
        lang=lang, source=str(spec.get("source") or ""), latin=latin, words=words,
        pattern=pattern, shorter={k: v for k, v in shorter.items() if v},
        exclusions=probes(nots.get("not_provision_words") or ()),
        forced=probes(nots.get("provision_phrases") or ()),
        sentences=tuple((_literal(s), _sentence(s, latin=latin)) for s in sentences),
    )


def _literal(text: str) -> str:
    """The longest word of a fixed sentence: every match of its pattern contains it verbatim."""
    return max((w for piece in text.split("…") for w in piece.split()), key=len, default="")


def _sentence(text: str, *, latin: bool) -> re.Pattern[str]:
    """A fixed sentence as a pattern: "…" is any words of the sentence, spaces any white space."""
    # A period followed by a non-space (1.1, e.g.) does not end an English sentence.
    wild = r"(?:[^.]|\.(?=\S))*?" if latin else r"[^。]*?"
    pieces = []
    for piece in text.split("…"):
        words = piece.split()
        pieces.append(r"\s+".join(map(re.escape, words)) if latin else r"\s*".join(
            map(re.escape, words)))
    return re.compile((rf"\s*{wild}\s*").join(pieces))


# --- reading texts ----------------------------------------------------------------------------

# Every alternative opens with one of these characters: the lookahead lets the search skip other
# positions without trying each alternative (same matches, about twice as fast).
_MASK = re.compile(r"(?=[:`*《“‘「『\"'])(?:" + "|".join((
    r":[a-z]+:`[^`\n]*`",  # roles: ids, not prose
    r"``[^`]+``",  # inline literals
    r"`[^`\n]+`_{0,2}",  # interpreted text and links
    r"\*\*[^*\n]+\*\*",  # strong
    r"(?<![\w*\\])\*[^*\s][^*\n]*?\*(?![\w*])",  # emphasis: titles of documents
    r"《[^》\n]*》", r"“[^”\n]*”", r"‘[^’\n]*’", r"「[^」\n]*」", r"『[^』\n]*』",
    r"\"[^\"\n]*\"",
    r"(?<![\w'])'[^'\n]+'(?![\w'])",  # quoted words, not the apostrophe of "driver's"
)) + ")")
_OPENS_LITERAL = re.compile(
    r"[ \t]*(?:\.\.[ \t]+(?:code-block|code|sourcecode|math|literalinclude|raw)::.*"
    r"|(?!\.\.[ \t]).*::)[ \t]*\n?")


def _literal_blocks(text: str) -> Iterator[tuple[int, int]]:
    """Spans of literal blocks (after ``::``) and code or math directives: not prose."""
    pos = 0
    indent: int | None = None
    start = 0
    for line in text.splitlines(keepends=True):
        lead = len(line) - len(line.lstrip(" \t"))
        if indent is not None:
            if not line.strip() or lead > indent:
                pos += len(line)
                continue
            yield start, pos
            indent = None
        if _OPENS_LITERAL.fullmatch(line):
            indent, start = lead, pos + len(line)
        pos += len(line)
    if indent is not None:
        yield start, pos


def masked(value: str, lex: Lexicon) -> str:
    """``value`` with everything that is not the drafter's own prose blanked, offsets kept."""
    spans = [m.span() for m in _MASK.finditer(value)]
    for literal, sentence in lex.sentences:
        if literal in value:  # a cheap test first: most texts hold no fixed sentence
            spans.extend(m.span() for m in sentence.finditer(value))
    if "::" in value:
        spans.extend(_literal_blocks(value))
    if not spans:
        return value
    out = []
    pos = 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        start = max(start, pos)
        out.append(value[pos:start])
        out.append(" " * (end - start))
        pos = end
    out.append(value[pos:])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Hit:
    """A provision word found in one language of a text.

    Its line and column (:attr:`at`) are worked out when asked for: most words found are the
    form their provision should have, and are never reported.
    """

    word: Word
    lang: str
    offset: int
    where: Origin | Text  # the string's origin, or the text it is the ``key`` language of
    key: str

    @property
    def at(self) -> tuple[int, int]:
        where = self.where
        return _where(where.origin_of(self.key) if isinstance(where, Text) else where,
                      self.offset)


def _where(origin: Origin, offset: int) -> tuple[int, int]:
    """Line and column of character ``offset`` of the string at ``origin``."""
    doc = origin.doc
    if doc is None:
        return origin.line, origin.column
    # In a one-language standard a plain string is keyed by its language, a step the file
    # does not have: the string is the value one step up.
    path = origin.path if doc.holds(origin.path) else origin.path[:-1]
    return doc.text_line(path, offset)


@cache
def _candidates(lang: str) -> re.Pattern[str]:
    """What every provision word of ``lang`` found in a masked string starts with, as it stands
    in the string before masking: most strings have none, and need no masking at all.

    Masking only blanks characters, so the first word of a match is in the string already; but
    blanking a neighbour can make a word whole (```link`_shall``), so for Latin scripts the
    first words are looked for anywhere, not as whole words.
    """
    lex = lexicons()[lang]
    if not lex.latin:
        return lex.pattern  # literal phrases: a match is one in the string already
    firsts = sorted({word.split()[0] for word in lex.words}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, firsts)))


def scan(lang: str, value: str, origin: Origin | Text) -> list[Hit]:
    """Every provision word of one language's string, with its line and column.

    ``origin`` is where the string is, or the text it belongs to (its origin is then worked
    out only when there is a word to place: most strings have none outside provisions).
    """
    lex = lexicons().get(_script(lang, value))
    if lex is None or _candidates(lex.lang).search(value) is None:
        return []
    return [Hit(word, lex.lang, offset, origin, lang)
            for offset, word in lex.tokens(masked(value, lex))]


def _and(items: Sequence[str]) -> str:
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"


def _q(word: str) -> str:
    return f"'{word}'"


def _forms(lang: str, kind: str) -> str:
    lex = lexicons().get(lang)
    forms = lex.forms(kind)[:2] if lex else []
    return " or ".join(map(_q, forms))


# --- VF: verbal forms -------------------------------------------------------------------------

_PLACES = {
    "foreword": "the foreword", "introduction": "the introduction", "scope": "the scope",
    "normative-references": "the normative references", "terms": "the terms clause",
    "symbols": "the symbols clause", "bibliography": "the bibliography",
}


def _place(clause: Clause) -> str:
    if clause.type in _PLACES:
        return _PLACES[clause.type]
    return f"the text of {'annex' if clause.type == 'annex' else 'clause'} {clause.id!r}"


def verbal_forms(ctx: PartContext) -> Iterator[Diagnostic]:
    """Provisions in the form of their kind (VF001–VF003, VF005); none outside (VF004)."""
    for obj, _parent in descendants(ctx.part):
        if isinstance(obj, Provision):
            yield from _provision(ctx, obj)
        elif isinstance(obj, Clause):
            if obj.text:
                yield from _informative(ctx, obj, obj.text, _place(obj))
            for note in obj.notes:
                yield from _informative(ctx, obj, note, "a note")
            for example in obj.examples:
                yield from _informative(ctx, obj, example, "an example")
        elif isinstance(obj, Term):
            if obj.definition:
                yield from _informative(ctx, obj, obj.definition, "the definition of a term")
            for note in obj.notes:
                yield from _informative(ctx, obj, note, "a note to entry")


def _informative(ctx: PartContext, obj: Obj, text: Text, where: str) -> Iterator[Diagnostic]:
    """Provision words in a text that carries no provisions."""
    for lang, value in text.values.items():
        for hit in scan(lang, value, text):
            word = hit.word
            if word.role == "substitute":
                src = lexicons()[hit.lang].source
                yield ctx.find(
                    "VF003", f"{where} says {_q(word.text)}: {src} writes {_q(word.write or '')},"
                    " and only in a provision", text.origin_of(lang), obj.id, at=hit.at,
                    hint="state it as a provision under provisions:, or as a fact")
            elif word.role == "form" and word.kind in PRESCRIPTIVE:
                yield ctx.find(
                    "VF004", f"{where} says {_q(word.text)}, a {word.kind} form, outside a"
                    " provision: move it into a provision", text.origin_of(lang), obj.id,
                    at=hit.at,
                    hint="write it under provisions: of a technical clause, or state a fact"
                    " (a possibility or capability is written '能' / 'can')")


def _provision(ctx: PartContext, p: Provision) -> Iterator[Diagnostic]:
    """The verbal forms of one provision, in each of its languages."""
    if p.text is None or p.kind not in KINDS:
        return
    # Per language: its origin, the words found and whether the provision's own form is there.
    texts: list[tuple[str, Text, list[Hit], bool]] = []
    for lang, value in p.text.values.items():
        script = _script(lang, value)
        if script not in lexicons():
            continue
        hits = scan(lang, value, p.text)
        own = any(h.word.kind == p.kind for h in hits)
        texts.append((lang, p.text, hits, own))
        for hit in hits:
            word = hit.word
            if word.role == "substitute":
                yield ctx.find(
                    "VF003", f"{_q(word.text)} is not a verbal form of"
                    f" {lexicons()[hit.lang].source}: write {_q(word.write or '')}",
                    p.text.origin_of(lang), p.id, at=hit.at,
                    hint=f"the {word.kind} forms are {_forms(hit.lang, word.kind)}")
            elif word.role == "form" and word.kind in PRESCRIPTIVE - {p.kind} and (
                    own or p.kind == "statement"):
                says = "says" if p.kind == "statement" else "also says"
                yield ctx.find(
                    "VF002", f"the {p.kind} {p.id!r} {says} {_q(word.text)}, a {word.kind}"
                    " form: a provision expresses one kind",
                    p.text.origin_of(lang), p.id, at=hit.at,
                    hint=f"set kind: {word.kind}, or rephrase it" if p.kind == "statement"
                    else f"split it into a {p.kind} and a {word.kind}, each a provision")
    if p.kind == "statement":
        return  # a statement of fact is written in the indicative: no form is demanded
    having = [(lang, hits) for lang, _o, hits, own in texts if own]
    for lang, text, hits, own in texts:
        if own:
            continue
        origin = text.origin_of(lang)
        script = _script(lang, p.text.values[lang])
        named = f"{lang} text" if lang else "text"
        others = [h.word for h in hits
                  if h.word.role == "form" and h.word.kind in PRESCRIPTIVE - {p.kind}]
        says = f"says {_q(others[0].text)}, a {others[0].kind} form" if others else (
            f"has no {p.kind} form")
        if having:
            # The other language has the form: the translations disagree (VF005), which is
            # the finding to act on, rather than this text alone lacking it (VF001).
            other, other_hits = having[0]
            form = next(h.word.text for h in other_hits if h.word.kind == p.kind)
            yield ctx.find(
                "VF005", f"the {named} of {p.kind} {p.id!r} {says}, but its {other} text says"
                f" {_q(form)}", origin, p.id,
                hint="make both texts express the same kind: 应 ↔ shall, 不应 ↔ shall not,"
                " 宜 ↔ should, 可 ↔ may, 不必 ↔ need not")
        else:
            yield ctx.find(
                "VF001", f"the {named} of {p.kind} {p.id!r} {says}", origin, p.id,
                hint=f"write it with {_forms(script, p.kind)}, or set kind: to what it expresses")


# --- DR: structure ----------------------------------------------------------------------------

_NO_PROVISIONS = frozenset({"foreword", "introduction", "scope", "normative-references", "terms",
                            "symbols", "bibliography"})
_NO_SUBCLAUSES = frozenset({"foreword", "scope", "normative-references"})
_LEAD_IN = frozenset({"terms", "symbols"})  # "下列术语和定义适用于本文件。" before grouped terms
_HANGING = ("text", "provisions", "notes", "examples", "nodes", "value_tables", "units",
            "messages", "environments", "cases", "evidence_types", "levels")


@cache
def foreword_statements() -> dict[str, dict[str, Any]]:
    """The statements a foreword carries: name, patterns and an example per language."""
    spec: dict[str, dict[str, Any]] = _data("fixed_sentences.yaml")["foreword"]
    return {
        sid: {
            "name": entry["name"], "example": entry.get("example") or {},
            "patterns": {lang: [re.compile(p) for p in entry[lang]]
                         for lang in ("zh", "en") if lang in entry},
        }
        for sid, entry in spec.items()
    }


def elements(ctx: Context) -> Iterator[Diagnostic]:
    """Foreword, scope and normative references: no provisions, no subclauses (DR001–DR003)."""
    for part in ctx.outline():
        kind = part.type or ""
        name = _PLACES.get(kind)
        if name is None:
            continue
        if part.provisions and kind in _NO_PROVISIONS:
            yield ctx.find(
                "DR001", f"{name} carries provisions; it states no requirements,"
                " recommendations or permissions", part.origin.child("provisions"), part.id,
                at=part.origin.at("provisions", key=True),
                hint="move the provisions into a technical clause")
        if part.clauses and kind in _NO_SUBCLAUSES:
            ids = ", ".join(repr(c.id) for c in part.clauses)
            yield ctx.find(
                "DR003", f"{name} {'are' if name.endswith('references') else 'is'} subdivided"
                f" (into {ids}); GB/T 1.1 does not subdivide it",
                part.origin.child("clauses"), part.id, at=part.origin.at("clauses", key=True),
                hint="merge the subclauses into its text, or move them into a technical clause")
        if kind == "foreword":
            yield from _foreword(ctx, part)


def _foreword(ctx: Context, part: Clause) -> Iterator[Diagnostic]:
    """The statements GB/T 1.1 requires of the foreword, in each of its languages (DR002)."""
    std = ctx.standard
    if part.text is None:
        if not (std.committee or std.proposer):
            yield ctx.find(
                "DR002", "the foreword has no text, and standard.yaml gives no committee to"
                " state as its proposer and responsible committee", part.origin, part.id,
                hint="add committee: {zh: …, en: …} to standard.yaml, or write the foreword")
        return
    for lang, value in part.text.values.items():
        script = _script(lang, value)
        for statement in foreword_statements().values():
            patterns = statement["patterns"].get(script)
            if not patterns or any(p.search(value) for p in patterns):
                continue
            example = statement["example"].get(script)
            yield ctx.find(
                "DR002", f"the foreword{f' ({lang})' if lang else ''} does not state"
                f" {statement['name']}", part.text.origin_of(lang), part.id,
                hint=f"add: {example}" if example else None)


def subdivision(ctx: Context) -> Iterator[Diagnostic]:
    """Lone subclauses, hanging paragraphs, titles of siblings, depth (DR004–DR006, DR008)."""
    for part in ctx.parts:
        # The facts say whether the part has anything to report (see facts._extract).
        if part.type not in _NO_SUBCLAUSES and part.subdivided:
            yield from _subdivided(ctx, part.model(), 0, ctx.numbering())


def _label(clause: Clause, numbers: Mapping[str, str]) -> str:
    number = numbers.get(clause.id)
    return f"{number} ({clause.id!r})" if number else repr(clause.id)


def _subdivided(
    ctx: Context | PartContext, clause: Clause, depth: int, numbers: Mapping[str, str]
) -> Iterator[Diagnostic]:
    subs = clause.clauses
    if subs:
        at_clauses = clause.origin.at("clauses", key=True)
        name = f"clause {_label(clause, numbers)}"
        if len(subs) == 1:
            yield ctx.find(
                "DR004", f"{name} has a single subclause {_label(subs[0], numbers)}",
                clause.origin, clause.id, at=at_clauses,
                hint="add a second subclause, or merge the one into its parent")
        beside = [k for k in _HANGING if getattr(clause, k)]
        if beside and clause.type not in _LEAD_IN:
            yield ctx.find(
                "DR005", f"{name} has {_and(beside)} beside its subclauses"
                " (a hanging paragraph)", clause.origin, clause.id,
                at=clause.origin.at(beside[0], key=True),
                hint="move it into a first subclause (e.g. 'General' / 一般要求)")
        untitled = [c.id for c in subs if c.title is None]
        if untitled and len(untitled) < len(subs):
            yield ctx.find(
                "DR006", f"the subclauses of {name} are titled except"
                f" {', '.join(map(repr, untitled))}", clause.origin, clause.id, at=at_clauses,
                hint="give every sibling a title, or none")
    for sub in subs:
        if depth + 1 > MAX_DEPTH:
            yield ctx.find(
                "DR008", f"clause {_label(sub, numbers)} is a subdivision of level {depth + 1};"
                f" GB/T 1.1 subdivides a clause {MAX_DEPTH} levels deep at most",
                sub.origin, sub.id, at=sub.origin.at("id"),
                hint="merge it into its parent, or restructure the clause")
        else:
            yield from _subdivided(ctx, sub, depth + 1, numbers)


# --- TRM, CIT and DR007: what the texts refer to ------------------------------------------------


@cache
def _citation_syntax() -> tuple[re.Pattern[str], re.Pattern[str], tuple[re.Pattern[str], ...]]:
    spec = _data("citations.yaml")
    loc = spec["locator"]
    locators = "|".join([loc["number"], *loc["zh"], *loc["en"]])
    after = re.compile(rf"{loc['after']}(?:{locators})")
    before = re.compile(rf"(?:{loc['number']}|{'|'.join(loc['en'])})\s+of\s*$")
    return after, before, tuple(re.compile(p) for p in spec["dated"])


def dated(designation: str | None) -> bool:
    """Whether a designation names one edition (a year or a release)."""
    return bool(designation) and any(p.search(designation or "") for p in _citation_syntax()[2])


@dataclass(slots=True)
class _Usage:
    """What the texts of one standard cite, refer to and use."""

    cited: set[str] = field(default_factory=set)
    located: list[tuple[str, Origin, str, tuple[int, int]]] = field(default_factory=list)
    referred: set[str] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)


class _Designations:
    """One pass over a text finds every term designation (and abbreviation) in it."""

    def __init__(self, terms: Sequence[Term]) -> None:
        self.ids: dict[tuple[str, str], set[str]] = {}
        for term in terms:
            for lang, value in (term.term.values.items() if term.term else ()):
                key = (_script(lang, value), self._norm(value))
                if key[1]:
                    self.ids.setdefault(key, set()).add(term.id)
            if term.abbreviation:
                self.ids.setdefault(("abbr", term.abbreviation), set()).add(term.id)
        self.patterns: dict[str, re.Pattern[str]] = {}
        for script in ("zh", "en", "abbr"):
            names = sorted((n for s, n in self.ids if s == script), key=len, reverse=True)
            if not names:
                continue
            # The first characters as a class first: most positions are skipped at once instead
            # of trying every designation there (same matches).
            first = "[" + "".join(map(re.escape, sorted({n[0] for n in names}))) + "]"
            if script == "zh":
                alt = "|".join(map(re.escape, names))
                self.patterns[script] = re.compile(rf"(?={first})(?=({alt}))")
            elif script == "en":
                alt = "|".join(r"\s+".join(map(re.escape, n.split())) for n in names)
                self.patterns[script] = re.compile(
                    rf"(?<![\w-])(?={first})(?=({alt})(?:s|es)?(?![\w-]))", re.IGNORECASE)
            else:
                alt = "|".join(map(re.escape, names))
                self.patterns[script] = re.compile(rf"(?={first})(?<![\w-])({alt})s?(?![\w-])")
        # The pass finds the longest designation at each position, so "brake" at the start of
        # "brake blending" is found through the longer one: its prefixes that are designations.
        self.inside: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for script, name in self.ids:
            cuts = ([i for i, c in enumerate(name) if c == " "] if script == "en"
                    else range(1, len(name)))
            self.inside[(script, name)] = [(script, name[:i]) for i in cuts
                                           if (script, name[:i]) in self.ids]

    @staticmethod
    def _norm(value: str) -> str:
        return " ".join(value.split()).lower()

    def used(self, lang: str, value: str) -> set[str]:
        script = _script(lang, value)
        found: set[str] = set()
        for kind in (script, "abbr"):
            pattern = self.patterns.get(kind)
            if pattern is None:
                continue
            for m in pattern.finditer(value):
                key = (kind, m.group(1) if kind == "abbr" else self._norm(m.group(1)))
                for k in (key, *self.inside.get(key, ())):
                    found |= self.ids.get(k, set())
        return found


def _walk(std: Standard) -> Iterator[tuple[Clause | None, Obj | None, Text]]:
    """(top-level part, owning object, text) for every text of the standard."""
    for _name, text in std.texts():
        yield None, None, text
    for part in std.parts:
        stack: list[Obj] = [part]
        while stack:
            obj = stack.pop()
            for _name, text in obj.texts():
                yield part, obj, text
            if isinstance(obj, Clause):
                for unit in obj.units:
                    if unit.name:
                        yield part, obj, unit.name
            stack.extend(reversed(list(obj.children())))


def _usage(ctx: Context) -> _Usage:
    std = ctx.standard
    usage = _Usage()
    top: dict[str, str] = {}
    terms: list[Term] = []
    for part in ctx.parts:
        for obj_id, _kind, _extra in part.objects:
            top[obj_id] = part.id
        terms.extend(obj for obj in part.whole() if isinstance(obj, Term))
    annexes = {p.id for p in ctx.parts if p.type == "annex"}
    after, before, _ = _citation_syntax()

    def refer(target: str, part: str | None) -> None:
        std_id, _, obj_id = target.rpartition(":")
        annex = top.get(obj_id) if std_id in ("", std.id) else None
        if annex is not None and annex in annexes and part != annex:
            usage.referred.add(annex)

    # The roles of standard.yaml's texts, read here ...
    for _name, text in std.texts():
        for lang, value in text.values.items():
            if ":" not in value:
                continue
            for m in ROLE.finditer(value):
                role, target = m.group(1), role_target(m.group(2))
                if role == "term":
                    usage.terms.add(target)
                elif role == "cite":
                    usage.cited.add(target)
                    if after.match(value, m.end()) or (
                            _script(lang, value) == "en"
                            and before.search(value, max(0, m.start() - 60), m.start())):
                        usage.located.append((target, text.origin, std.id,
                                              _where(text.origin_of(lang), m.start())))
                elif role == "ref":
                    refer(target, None)
    # ... and those of the parts' texts, from their facts (a term's own entry does not use it).
    for part in ctx.parts:
        objects = part.objects
        for role, target, places in part.roles:
            if role == "term":
                if any(objects[i][1] != "Term" or objects[i][0] != target for i in places):
                    usage.terms.add(target)
            elif role == "cite":
                usage.cited.add(target)
            elif role == "ref":
                refer(target, part.id)
        if part.located:
            where = Origin(part.file)
            usage.located.extend((target, where, owner, at) for target, owner, at in part.located)
    # Only whether each term is used somewhere matters (TRM001): the texts are searched for the
    # designations of the terms no role uses, until each has been seen (first the texts in
    # memory, then those of the parts the cache stood in for, which are read for it).
    pending = {term.id for term in terms} - usage.terms
    if pending:
        designations = _Designations(terms)
        for own_term, lang, value in _search(ctx):
            found = designations.used(lang, value) - {own_term or ""}
            if found:
                usage.terms |= found
                pending -= found
                if not pending:
                    break
    return usage


def _search(ctx: Context) -> Iterator[tuple[str | None, str, str]]:
    """(id of the term whose entry it is in, language, string) of every text of the standard."""
    for _name, text in ctx.standard.texts():
        for lang, value in text.values.items():
            yield None, lang, value
    parts = sorted(ctx.parts, key=lambda part: not part.read)
    for part in parts:
        for obj, _parent in descendants(part.model()):
            own_term = obj.id if isinstance(obj, Term) else None
            for _name, text in obj.texts():
                for lang, value in text.values.items():
                    yield own_term, lang, value
            if isinstance(obj, Clause):
                for unit in obj.units:
                    if unit.name:
                        for lang, value in unit.name.values.items():
                            yield None, lang, value


def usage(ctx: Context) -> Iterator[Diagnostic]:
    """Citations (CIT001, CIT002), annexes referred to (DR007) and terms used (TRM001)."""
    found = _usage(ctx)
    yield from _uncited(ctx, found)
    yield from _located(ctx, found)
    yield from _annexes(ctx, found)
    yield from _unused(ctx, found)


def _uncited(ctx: Context, found: _Usage) -> Iterator[Diagnostic]:
    for part in ctx.parts:
        if part.type != "normative-references":
            continue
        for index, ref_id in part.refs:
            if ref_id not in found.cited:
                ref = part.object(index)
                assert isinstance(ref, Reference)
                yield ctx.find(
                    "CIT001", f"the normative reference {ref.designation or ref.id!r} is cited"
                    " nowhere", ref.origin, ref.id, at=ref.origin.at("id"),
                    hint=f"cite it with :cite:`{ref.id}` where it applies, or move it to the"
                    " bibliography")


def _located(ctx: Context, found: _Usage) -> Iterator[Diagnostic]:
    for target, where, owner, at in found.located:
        _std, ref = ctx.lookup(target)
        if isinstance(ref, Reference) and not dated(ref.designation):
            yield ctx.find(
                "CIT002", f":cite:`{target}` gives a clause number, but {ref.designation!r} is"
                " undated: its next edition may renumber it", where, owner, at=at,
                hint="cite a dated edition (e.g. 'ISO 11898-1:2015') in the references,"
                " or drop the number")


def _annexes(ctx: Context, found: _Usage) -> Iterator[Diagnostic]:
    for part in ctx.outline():
        if part.type == "annex" and part.id not in found.referred:
            yield ctx.find(
                "DR007", f"annex {_label(part, ctx.numbering())} is referred to nowhere outside"
                " it",
                part.origin, part.id, at=part.origin.at("id"),
                hint=f"refer to it where the reader needs it: 见 :ref:`{part.id}` /"
                f" see :ref:`{part.id}`")


def _unused(ctx: Context, found: _Usage) -> Iterator[Diagnostic]:
    for obj, _parent in ctx.objects:
        if isinstance(obj, Term) and obj.id not in found.terms:
            name = obj.term.first() if obj.term else obj.id
            yield ctx.find(
                "TRM001", f"the term {name!r} is used nowhere outside its own entry",
                obj.origin, obj.id, at=obj.origin.at("id"),
                hint=f"refer to it with :term:`{obj.id}` where it is used, or remove the entry")


# --- TRM002, TRM003: English definitions ------------------------------------------------------

_ARTICLE = re.compile(r"(?:a|an|the)\s", re.IGNORECASE)
_FULL_STOP = re.compile(r"(?<!\betc)(?<!\.)\.$")


def definitions(ctx: PartContext) -> Iterator[Diagnostic]:
    """English definitions are phrases: no article first, no full stop last (TRM002, TRM003)."""
    for obj, _parent in descendants(ctx.part):
        if not isinstance(obj, Term) or obj.definition is None:
            continue
        for lang, value, origin in obj.definition.items():
            if _script(lang, value) != "en":
                continue
            text = value.strip()
            if _ARTICLE.match(text):
                article = text.split()[0]
                yield ctx.find(
                    "TRM002", f"the definition of {obj.id!r} starts with the article"
                    f" {article!r}", origin, obj.id,
                    hint="start with the noun, so that the definition can replace the term")
            if _FULL_STOP.search(text):
                yield ctx.find(
                    "TRM003", f"the definition of {obj.id!r} ends with a full stop", origin,
                    obj.id, hint="remove the full stop: a definition is a phrase")


# --- STG: stage demands -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Demand:
    """What a stage (and every later one) demands of a draft."""

    code: str
    start: str
    why: str
    field: str | None = None
    no_warnings: bool = False
    example: str | None = None


@cache
def demands() -> tuple[Demand, ...]:
    """The stage demands of ``data/lexicon/stage_demands.yaml``, in order."""
    return tuple(
        Demand(d["code"], d["from"], d["why"], d.get("field"), d.get("no_warnings") is True,
               d.get("example"))
        for d in _data("stage_demands.yaml"))


def _reached(stage: str | None, start: str) -> bool:
    table = stages()
    here, there = table.get(stage or ""), table.get(start)
    return here is not None and there is not None and here.order >= there.order


def stage_fields(ctx: Context) -> Iterator[Diagnostic]:
    """The keys of standard.yaml that the standard's stage demands (STG001–STG003)."""
    std = ctx.standard
    for demand in demands():
        if demand.field and _reached(std.stage, demand.start) and not getattr(
                std, demand.field, None):
            yield ctx.find(
                demand.code, f"the standard is a {std.stage} but gives no {demand.field}:"
                f" {demand.why}", std.origin,
                std.id, hint=f"add {demand.example}" if demand.example else None)


def stage_gate(standards: Iterable[Standard], found: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The no-warnings demand (STG004) of every standard at a stage that makes it."""
    out: list[Diagnostic] = []
    gates = [d for d in demands() if d.no_warnings]
    for std in standards:
        for demand in gates:
            if not _reached(std.stage, demand.start):
                continue
            prefix = f"{STANDARDS_DIR}/{std.folder}/"
            count = sum(1 for d in found
                        if d.severity is Severity.WARNING and d.file.startswith(prefix))
            if count:
                line, col = std.origin.at("stage")
                out.append(Diagnostic(
                    demand.code, catalogue()[demand.code].severity,
                    f"the draft is a {std.stage} with {count} warning{'s' * (count != 1)}:"
                    f" {demand.why}", std.origin.file, line, col, std.id,
                    hint="resolve each warning, or waive it on its object with the reason"))
    return out


CHECKS = (elements, subdivision, usage, stage_fields)
PART_CHECKS = (verbal_forms, definitions)
