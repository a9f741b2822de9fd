"""The drafting rules' cheap pre-checks find exactly what the plain patterns find.

``masked()`` tries a fixed sentence only where its longest word occurs, and the mask, the
verbal-form and the term-designation patterns open with a class of their first characters. Each
is checked against the plain pattern on the shipped standards' texts and on random texts.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from stdkit.loader import load_repository
from stdkit.model import Origin
from stdkit.rules import drafting
from stdkit.rules.drafting import _Designations, lexicons, masked

ROOT = Path(__file__).resolve().parents[1]


def _plain(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern without its leading first-character lookahead."""
    text = pattern.pattern
    assert text.startswith("(?=[")
    return re.compile(text[text.index("]") + 2:], pattern.flags)


PLAIN_MASK = _plain(drafting._MASK)


def reference_masked(value: str, lex: drafting.Lexicon) -> str:
    spans = [m.span() for m in PLAIN_MASK.finditer(value)]
    for _literal, sentence in lex.sentences:
        spans.extend(m.span() for m in sentence.finditer(value))
    if "::" in value:
        spans.extend(drafting._literal_blocks(value))
    out, pos = [], 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        start = max(start, pos)
        out += [value[pos:start], " " * (end - start)]
        pos = end
    out.append(value[pos:])
    return "".join(out)


def shipped_texts() -> list[tuple[str, str]]:
    repo = load_repository(ROOT, check=False)
    found = []
    for std in repo.standards.values():
        for _part, _owner, text in drafting._walk(std):
            for lang, value, _origin in text.items():
                found.append((lang, value))
    return found


def check(lang: str, value: str) -> None:
    lex = lexicons().get(drafting._script(lang, value))
    if lex is None:
        return
    assert masked(value, lex) == reference_masked(value, lex)
    plain = _plain(lex.pattern)
    assert [m.span() for m in lex.pattern.finditer(value)] == [
        m.span() for m in plain.finditer(value)]
    # scan() skips masking a string with no candidate: it finds what the tokens of the masked
    # string are, all the same.
    origin = Origin("x.yaml")
    assert [(h.offset, h.word) for h in drafting.scan(lang, value, origin)] == list(
        lex.tokens(reference_masked(value, lex)))


def test_shipped_texts() -> None:
    texts = shipped_texts()
    assert len(texts) > 100
    for lang, value in texts:
        check(lang, value)


SENTENCES = [
    "本文件按照GB/T 1.1—2020《标准化工作导则》的规定起草。请注意本文件的某些内容可能涉及专利。"
    "本文件的发布机构不承担识别专利的责任。",
    "This document is drafted in accordance with the rules given in GB/T 1.1—2020.\n"
    "Attention is drawn to the possibility that some of the elements of this document may be the"
    " subject of patent rights. The issuer shall not be held\n  responsible for identifying any"
    " or all such patent rights.",
    "For the purposes of this document, the following terms and definitions apply. It shall"
    " be 'quoted', *a title*, **strong**, ``lit``, :ref:`c01` and “引用” 应 可 宜.",
    "下列术语和定义适用于本文件。系统应能响应，可靠性宜高。",
    # The only provision word appears once the link is blanked (its "_" joined it to a word).
    "The `bus`_shall stop.",
    "The `bus`__need not stop.",
]


def test_fixed_sentences_and_marks() -> None:
    for value in SENTENCES:
        for lang in ("zh", "en"):
            check(lang, value)


ALPHABET = st.sampled_from([
    *"ab shall may can it is 应宜可能不必响应用.。:`*'\"《》“”\n-_",
    "shall", "should", " not ", "本文件", "GB/T 1.1", "::\n  x\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join), st.sampled_from(["zh", "en"]))
def test_random_texts(value: str, lang: str) -> None:
    check(lang, value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Brake", "brake", " ", "blending", "s", "es", "-", "制动", "再生",
                                 "协调", "BMS", "BMSs", "\n", "x"]), max_size=20).map("".join))
def test_designations(value: str) -> None:
    class T:  # the fields _Designations reads from a term
        def __init__(self, tid: str, values: dict[str, str], abbreviation: str | None) -> None:
            self.id = tid
            self.term = type("Text", (), {"values": values})()
            self.abbreviation = abbreviation

    finder = _Designations([  # type: ignore[list-item]
        T("t-brake", {"en": "brake", "zh": "制动"}, None),
        T("t-blend", {"en": "brake blending", "zh": "再生制动协调"}, "BMS")])
    for lang in ("en", "zh"):
        got = finder.used(lang, value)
        plain = dict(finder.patterns)
        finder.patterns = {k: _plain_designation(p) for k, p in plain.items()}
        try:
            assert finder.used(lang, value) == got
        finally:
            finder.patterns = plain


def _plain_designation(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(re.sub(r"\(\?=\[[^\]]*\]\)", "", pattern.pattern, count=1), pattern.flags)
