"""How provision words are found: the lexicons, what is not read, and citation syntax."""

from __future__ import annotations

import pytest

from stdkit.model import Term, Text
from stdkit.rules import drafting
from stdkit.rules.drafting import _citation_syntax, _data, _Designations, dated, lexicons, masked


def words(lang: str, text: str) -> list[str]:
    """The provision words of ``text`` as ``offset:word``, read as the rules read it."""
    lex = lexicons()[lang]
    return [f"{offset}:{word.text}" for offset, word in lex.tokens(masked(text, lex))]


@pytest.mark.parametrize(("text", "found"), [
    ("系统应发送报文。", ["2:应"]),
    ("系统的响应时间", []),
    ("本方法应用于测试", []),  # read as 应用于: write 应使用 for a requirement
    ("按相应的规定", []),
    ("报文对应的信号", []),
    ("系统应响应请求", ["2:应"]),
    ("响应应在10 ms内完成", ["2:应"]),  # the 应 after 响应 is a form
    ("供应商应提供", ["3:应"]),
    ("系统的反应能力", []),  # 应能 inside 反应能力: neither 应 nor 能
    ("系统应能量化误差", ["2:应"]),  # 能量 takes 能, 应 stays a form
    ("系统应能检测故障", ["2:应能"]),
    ("外部影响应予以记录", ["4:应予以"]),
    ("外部影响应用程序", []),  # the longer word decides: 影响应用
    ("车内应设置标志", ["2:应"]),
    ("应急制动", []),
    ("驾驶员应对故障进行确认", ["3:应"]),  # 应对 is 应 + 对 in requirements
    ("不应超过50 %", ["0:不应"]),
    ("总线负载率不宜超过50 %", ["5:不宜"]),
    ("识别关键技术元素时宜考虑下列情形", ["9:宜"]),
    ("选择适宜的参数", []),
    ("不合时宜的做法", []),
    ("节点可推迟发送", ["2:可"]),
    ("节点也可推迟发送", ["2:也可"]),
    ("系统的可靠性和可用性", []),
    ("该方法可用于标定", ["3:可"]),  # 可用于 is "may be used for"
    ("按规定设置即可", []),
    ("不可逆的故障", []),
    ("必不可少的条款", []),
    ("不可超过限值", ["0:不可"]),
    ("该误差不可忽略", []),
    ("不必重复试验", ["0:不必"]),
    ("没有不必要的步骤", []),
    ("接收方能检测丢失", ["3:能"]),
    ("丢失可能导致降级", ["2:可能"]),
    ("降级的可能性很小", []),
    ("系统的功能和性能", []),
    ("节点不能发送", ["2:不能"]),
    ("节点必须发送", ["2:必须"]),
    ("节点不得发送", ["2:不得"]),
    ("不得已时可重启", ["4:可"]),
    ("严禁带电操作", ["0:严禁"]),
    ("《报文应答规范》和“应”字", []),
])
def test_chinese_provision_words(text: str, found: list[str]) -> None:
    assert words("zh", text) == found


@pytest.mark.parametrize(("text", "found"), [
    ("The node shall transmit.", ["9:shall"]),
    ("The node shall not transmit.", ["9:shall not"]),
    ("The node shall\n  not transmit.", ["9:shall not"]),
    ("The node shall be able to transmit.", ["9:shall be able to"]),
    ("Timeouts cancel a transmission on the CAN bus.", []),
    ("Since May 2027 the rule applies.", []),
    ("Should the test fail, it is repeated.", []),
    ("The node may delay it.", ["9:may"]),
    ("The node need not delay it.", ["9:need not"]),
    ("The receiver can detect it; the sender cannot.", ["13:can", "39:cannot"]),
    ("The node must transmit.", ["9:must"]),
    ("The node must not transmit.", ["9:must not"]),
    ("The node has to transmit.", ["9:has to"]),
    ("The node is required to transmit.", ["9:is required to"]),
    ("The frames required to fill the schedule.", []),
    ("The delay has to do with the load.", []),
    ("Keep the fuel in a jerry can.", []),
    ("The word \"shall\", the word 'may' and the title *Shall and may*.", []),
    ("Write ``shall`` and :term:`term-shall`.", []),
    ("The driver's display shows 'lost' where it should.", ["43:should"]),
])
def test_english_provision_words(text: str, found: list[str]) -> None:
    assert words("en", text) == found


def test_fixed_sentences_are_not_read() -> None:
    patent_en = (
        "Attention is drawn to the possibility that some of the elements of this document may\n"
        "be the subject of patent rights. The issuing body of this document shall not be held\n"
        "responsible for identifying any or all such patent rights.\n\nThe node shall send.")
    assert words("en", patent_en) == [f"{patent_en.index('shall send')}:shall"]
    iso = ("Attention is drawn to the possibility that some of the elements of this document may"
           " be the subject of patent rights. ISO shall not be held responsible for identifying"
           " any or all such patent rights.")
    assert words("en", iso) == []
    patent_zh = "请注意本文件的某些内容可能涉及专利。本文件的发布机构不承担识别专利的责任。"
    assert words("zh", patent_zh) == []
    refs = ("下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。"
            "其中，注日期的引用文件，仅该日期对应的版本适用于本文件；"
            "不注日期的引用文件，其最新版本（包括所有的修改单）适用于本文件。")
    assert words("zh", refs) == []


def test_literal_blocks_and_code_are_not_read() -> None:
    text = ("The data field is::\n\n    may shall should\n    can\n\nThe node may wait.\n\n"
            ".. code-block:: text\n\n   shall\n\nDone.")
    assert words("en", text) == [f"{text.index('may wait')}:may"]
    zh = "下面给出示例：\n\n::\n\n    应 宜 可\n\n节点可等待。"
    assert words("zh", zh) == [f"{zh.index('可等待')}:可"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_lexicon_word_is_found_as_itself(lang: str) -> None:
    lex = lexicons()[lang]
    for text, word in lex.words.items():
        found = [(offset, w.text) for offset, w in lex.tokens(text)]
        assert found == [(0, word.text)], text


def test_words_that_are_not_provision_words_yield_nothing() -> None:
    data = _data("not_provision_words.yaml")
    for lang, spec in data.items():
        lex = lexicons()[lang]
        for word in spec["not_provision_words"]:
            assert [w.text for _o, w in lex.tokens(word)] == [], word
        for phrase in spec["provision_phrases"]:
            assert [w.text for _o, w in lex.tokens(phrase)] != [], phrase


@pytest.mark.parametrize(("designation", "is_dated"), [
    ("ISO 11898-1:2015", True),
    ("GB/T 1.1—2020", True),
    ("GB/T 34590-2017", True),
    ("AUTOSAR FO R22-11 PRS E2E Protocol", True),
    ("GB/T 34590 (all parts)", False),
    ("ISO 26262-4", False),
    ("IEC 61000-4-2", False),
    ("T/RFIA 0101", False),
    (None, False),
])
def test_dated_references(designation: str | None, is_dated: bool) -> None:
    assert dated(designation) is is_dated


@pytest.mark.parametrize(("after", "located"), [
    (", 10.4", True), (" 的10.4", True), (" 中的表3", True), (" 第5章", True), (", Clause 6", True),
    (", Table 3", True), (", Annex A", True), (" A.2", True), ("的规定", False), (", 2 ms", False),
    (" 规定的2个周期", False), (" and ISO", False),
])
def test_locators_after_a_citation(after: str, located: bool) -> None:
    pattern = _citation_syntax()[0]
    assert bool(pattern.match(after)) is located


@pytest.mark.parametrize(("before", "located"), [
    ("as specified in 10.4 of ", True), ("given in Clause 5 of ", True),
    ("given in Table B.1 of ", True), ("profile 1 (P01) of ", False), ("as specified in ", False),
])
def test_locators_before_a_citation(before: str, located: bool) -> None:
    pattern = _citation_syntax()[1]
    assert bool(pattern.search(before)) is located


def _term(tid: str, **values: str) -> Term:
    from stdkit.model import Origin

    origin = Origin("terms.yaml")
    return Term(tid, origin, term=Text(values, origin))


def test_designations_plural_case_and_nesting() -> None:
    finder = _Designations([
        _term("t-brake", en="brake"), _term("t-blend", en="brake blending"),
        _term("t-frame", en="data frame"), _term("t-zh", zh="制动协调"),
    ])
    assert finder.used("en", "Brake blending is applied.") == {"t-brake", "t-blend"}
    assert finder.used("en", "Two Data\n frames were lost.") == {"t-frame"}
    assert finder.used("en", "The data framework is new.") == set()
    assert finder.used("zh", "再生制动协调过程") == {"t-zh"}


def test_rules_are_registered() -> None:
    from stdkit.rules import checks

    assert set(drafting.CHECKS) <= set(checks())
