"""Drafting rules (VF, DR, TRM, CIT, STG): a passing and a failing fixture per rule and language.

Each folder under tests/cases/drafting/rules/CODE/ is a variant (``zh-fail``, ``en-pass`` …): its
YAML files replace those of a clean base standard (``base/zh``, ``base/en``, or the base named in
its ``base`` file). A failing variant reports exactly the findings of its ``expected.txt`` (file,
line, column, code, object and message); a passing one reports nothing at all. Run with
STDKIT_UPDATE_GOLDEN=1 to rewrite the expected files on purpose, then review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from stdkit.loader import load_repository
from stdkit.rules import catalogue
from stdkit.validate import Report, validate_repository

CASES = Path(__file__).parent / "cases" / "drafting"
RULES = CASES / "rules"
UPDATE = bool(os.environ.get("STDKIT_UPDATE_GOLDEN"))
FAMILIES = ("VF", "DR", "TRM", "CIT", "STG")
VARIANTS = sorted(f"{c.name}/{v.name}" for c in RULES.iterdir() for v in c.iterdir())


def build(variant: Path, tmp_path: Path) -> Path:
    """A repository: the variant's base standard with the variant's files laid over it."""
    marker = variant / "base"
    base = marker.read_text("utf-8").strip() if marker.exists() else variant.name.split("-")[0]
    root = tmp_path / "repo"
    shutil.copytree(CASES / "base" / base, root)
    folder = next((root / "standards").iterdir())
    for file in variant.glob("*.yaml"):
        shutil.copy(file, folder / file.name)
    return root


def report(root: Path) -> Report:
    return validate_repository(load_repository(root))


def lines(result: Report) -> list[str]:
    return [f"{d.file.split('/', 2)[2]}:{d.line}:{d.column}: {d.code} [{d.object}] {d.message}"
            for d in result.diagnostics]


@pytest.mark.parametrize("name", VARIANTS)
def test_variant(name: str, tmp_path: Path) -> None:
    variant = RULES / name
    actual = lines(report(build(variant, tmp_path)))
    if "pass" in variant.name:
        assert actual == []
        return
    expected_file = variant / "expected.txt"
    if UPDATE:
        expected_file.write_text("".join(f"{line}\n" for line in actual), encoding="utf-8")
    assert actual == expected_file.read_text("utf-8").splitlines()
    code = variant.parent.name
    assert any(f" {code} [" in line for line in actual), f"{name} does not report {code}"


def test_every_drafting_rule_has_four_variants() -> None:
    codes = {c for c in catalogue() if c.startswith(FAMILIES)}
    assert codes == {p.name for p in RULES.iterdir()}
    for code in codes:
        names = {p.name for p in (RULES / code).iterdir()}
        assert {"zh-pass", "zh-fail", "en-pass", "en-fail"} <= names, code


@pytest.mark.parametrize("base", ["zh", "en", "bi"])
def test_bases_are_clean(base: str, tmp_path: Path) -> None:
    root = tmp_path / base
    shutil.copytree(CASES / "base" / base, root)
    assert lines(report(root)) == []


def test_severities_follow_the_issue() -> None:
    rules = catalogue()
    warnings = {c for c in rules if c.startswith(FAMILIES) and rules[c].severity == "warning"}
    assert warnings == {"VF003", "DR004", "DR005", "TRM001"}


def test_waivers_of_drafting_rules(tmp_path: Path) -> None:
    """A waiver with a reason is honoured and counted; without one, an error; a stale one warns."""
    root = build(RULES / "VF004" / "zh-fail", tmp_path)
    general = root / "standards" / "t-zh" / "general.yaml"
    text = general.read_text("utf-8")
    text = text.replace("  - id: general-frames\n", "  - id: general-frames\n    waive:\n"
                        "      VF004: \"本条正文引用导则原文\"\n      DR004: \"过时的豁免\"\n", 1)
    text = text.replace("  - id: general-timeout\n", "  - id: general-timeout\n    waive:\n"
                        "      VF004: \"\"\n", 1)
    general.write_text(text, encoding="utf-8")
    result = report(root)
    found = [(d.code, d.object) for d in result.diagnostics]
    assert ("VF004", "general-frames") not in found
    assert result.summary.waived == 2
    assert ("WAIVE001", "general-timeout") in found
    assert ("VF004", "general-timeout") in found
    assert ("WAIVE002", "general-frames") in found


def test_settings_change_severity_and_turn_off(tmp_path: Path) -> None:
    root = build(RULES / "VF003" / "zh-fail", tmp_path)
    (root / "stdkit.yaml").write_text("rules:\n  VF003: error\n  DR004: off\n", encoding="utf-8")
    result = report(root)
    assert {d.severity.value for d in result.diagnostics if d.code == "VF003"} == {"error"}
    (root / "stdkit.yaml").write_text("rules:\n  VF003: off\n", encoding="utf-8")
    assert lines(report(root)) == []


def test_stage_gate_counts_warnings_after_settings(tmp_path: Path) -> None:
    root = build(RULES / "STG004" / "en-fail", tmp_path)
    (root / "stdkit.yaml").write_text("rules:\n  DR004: info\n  DR005: off\n", encoding="utf-8")
    assert [d.code for d in report(root).diagnostics] == ["DR004"]
    (root / "stdkit.yaml").write_text("rules:\n  STG004: warning\n", encoding="utf-8")
    assert [(d.code, d.severity.value) for d in report(root).diagnostics][-1] == (
        "STG004", "warning")


# --- the Done-when scenario of the issue: three mistakes, three findings ------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_done_when(lang: str, tmp_path: Path) -> None:
    variant = CASES / "done-when" / lang
    actual = lines(report(build(variant, tmp_path)))
    expected_file = variant / "expected.txt"
    if UPDATE:
        expected_file.write_text("".join(f"{line}\n" for line in actual), encoding="utf-8")
    assert actual == expected_file.read_text("utf-8").splitlines()
    assert len(actual) == 3
