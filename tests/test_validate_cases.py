"""Golden validation cases: every rule's broken fixture, reported with code, line and object.

Each folder under tests/cases/validate/ is a small repository (``case.txt`` says what is wrong
with it); ``expected.txt`` is the exact text report and exit status of ``stdkit validate``.
Run with STDKIT_UPDATE_GOLDEN=1 to rewrite the expected files on purpose, then review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from stdkit.rules import catalogue

CASES = Path(__file__).parent / "cases" / "validate"
UPDATE = bool(os.environ.get("STDKIT_UPDATE_GOLDEN"))
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def _run(invoke, case: str, tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    work = tmp_path / case
    shutil.copytree(CASES / case, work)
    return invoke("validate", *args, cwd=work)


@pytest.mark.parametrize("case", NAMES)
def test_case(case: str, invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _run(invoke, case, tmp_path)
    actual = result.stdout + f"exit {result.exit_code}\n"
    expected_file = CASES / case / "expected.txt"
    if UPDATE:
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", NAMES)
def test_json_agrees_with_text(case: str, invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _run(invoke, case, tmp_path, "--format", "json")
    doc = json.loads(result.stdout)
    assert set(doc) == {"diagnostics", "summary"}
    assert {"errors", "warnings", "files", "standards"} <= set(doc["summary"])
    lines = (CASES / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    heads = [line for line in lines if re.match(r"^\S+:\d+:\d+: ", line)]
    assert len(heads) == len(doc["diagnostics"])
    for head, d in zip(heads, doc["diagnostics"], strict=True):
        assert {"file", "line", "column", "severity", "code", "message", "object"} <= set(d)
        obj = f" [{d['object']}]" if d["object"] else ""
        assert head == (f"{d['file']}:{d['line']}:{d['column']}: {d['severity']} {d['code']}"
                        f"{obj} {d['message']}")
    assert result.exit_code == (1 if doc["summary"]["errors"] else 0)


def test_every_rule_has_a_broken_fixture() -> None:
    """Every foundation rule code is produced by at least one golden case."""
    seen: set[str] = set()
    for case in NAMES:
        text = (CASES / case / "expected.txt").read_text(encoding="utf-8")
        seen |= set(re.findall(r": (?:error|warning|info) ([A-Z]+[0-9]{3}) ", text))
    families = ("YAML", "SCH", "STD", "ID", "REF", "LANG", "IF", "VER", "MAT", "WAIVE", "CFG")
    expected = {c for c in catalogue() if c.startswith(families)}
    # FILE001/FILE002 need symlinks and unreadable files: see test_loader.py; RST001 comes
    # from render (test_render.py).
    assert expected - seen == set()


def test_clean_case_is_clean() -> None:
    assert (CASES / "clean" / "expected.txt").read_text(encoding="utf-8").endswith(
        "0 errors, 0 warnings in 22 files (3 standards)\nexit 0\n"
    )
