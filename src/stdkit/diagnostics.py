"""The one diagnostic shape, and its views: text, JSON, GitHub annotations, SARIF, JUnit XML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree


class Severity(StrEnum):
    """How bad a finding is. ``off`` only appears in settings, never on a diagnostic."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: what rule, how bad, where, about which object, and what to do."""

    code: str
    severity: Severity
    message: str
    file: str
    line: int = 1
    column: int = 1
    object: str | None = None
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)

    def with_severity(self, severity: Severity) -> Diagnostic:
        return replace(self, severity=severity)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "object": self.object,
        }
        if self.hint:
            out["hint"] = self.hint
        return out


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts shown after a validation run."""

    errors: int
    warnings: int
    infos: int
    files: int
    standards: int
    waived: int = 0

    @classmethod
    def of(
        cls, diagnostics: Sequence[Diagnostic], *, files: int, standards: int, waived: int = 0
    ) -> Summary:
        sev = [d.severity for d in diagnostics]
        return cls(
            errors=sev.count(Severity.ERROR),
            warnings=sev.count(Severity.WARNING),
            infos=sev.count(Severity.INFO),
            files=files,
            standards=standards,
            waived=waived,
        )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Deterministic order: file, line, column, code; exact duplicates dropped."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(summary: Summary) -> str:
    parts = [_plural(summary.errors, "error"), _plural(summary.warnings, "warning")]
    if summary.infos:
        parts.append(_plural(summary.infos, "info"))
    text = ", ".join(parts)
    text += f" in {_plural(summary.files, 'file')} ({_plural(summary.standards, 'standard')})"
    if summary.waived:
        text += f"; {_plural(summary.waived, 'finding')} waived"
    return text


def format_text(
    diagnostics: Sequence[Diagnostic], summary: Summary, *, style: Any = None
) -> str:
    """``file:line:col: severity CODE [object] message``; ``style(text, severity)`` colours."""

    def paint(text: str, severity: Severity | None) -> str:
        return style(text, severity) if style else text

    lines = []
    for d in diagnostics:
        obj = f" [{d.object}]" if d.object else ""
        head = paint(f"{d.severity.value} {d.code}", d.severity)
        lines.append(f"{d.file}:{d.line}:{d.column}: {head}{obj} {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    worst = (
        Severity.ERROR if summary.errors else Severity.WARNING if summary.warnings else None
    )
    lines.append(paint(summary_line(summary), worst))
    return "\n".join(lines) + "\n"


def format_json(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    doc = {
        "diagnostics": [d.to_json() for d in diagnostics],
        "summary": {
            "errors": summary.errors,
            "warnings": summary.warnings,
            "infos": summary.infos,
            "files": summary.files,
            "standards": summary.standards,
            "waived": summary.waived,
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    """GitHub Actions workflow commands: one annotation per diagnostic."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for d in diagnostics:
        title = d.code + (f" [{d.object}]" if d.object else "")
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        lines.append(
            f"::{level[d.severity]} file={_gh_escape(d.file, prop=True)},line={d.line},"
            f"col={d.column},title={_gh_escape(title, prop=True)}::{_gh_escape(message)}"
        )
    lines.append(summary_line(summary))
    return "\n".join(lines) + "\n"


SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _catalogue() -> dict[str, tuple[Severity, str, str]]:
    """Code -> (default severity, scope, summary) of every rule."""
    # Imported late: the rule catalogue sits above this module (rules import diagnostics).
    from stdkit.rules import catalogue

    return {code: (r.severity, r.scope, r.summary) for code, r in catalogue().items()}


def format_sarif(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    """SARIF 2.1.0: one run of stdkit, its rules from the catalogue, one result per diagnostic."""
    from stdkit import __version__

    rules = _catalogue()
    index = {code: i for i, code in enumerate(rules)}
    descriptors = [
        {
            "id": code,
            "shortDescription": {"text": text},
            "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
            "properties": {"scope": scope},
        }
        for code, (severity, scope, text) in rules.items()
    ]
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {"ruleId": d.code}
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        result["level"] = _SARIF_LEVEL[d.severity]
        result["message"] = {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")}
        location: dict[str, Any] = {"physicalLocation": {
            "artifactLocation": {"uri": quote(d.file, safe="/")},
            "region": {"startLine": max(d.line, 1), "startColumn": max(d.column, 1)},
        }}
        if d.object:
            location["logicalLocations"] = [{"name": d.object}]
        result["locations"] = [location]
        if d.object or d.hint:
            result["properties"] = {k: v for k, v in (("object", d.object), ("hint", d.hint)) if v}
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "stdkit", "version": __version__, "rules": descriptors}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"summary": {
                "errors": summary.errors, "warnings": summary.warnings, "infos": summary.infos,
                "files": summary.files, "standards": summary.standards,
                "waived": summary.waived,
            }},
        }],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# XML 1.0 refuses most control characters; a message may quote them from a draft.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return _XML_BAD.sub("\ufffd", text)


def format_junit(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    """JUnit XML: a test suite per file, a test case per finding; errors are failures.

    Warnings and infos are passing test cases whose output carries the finding, so that CI
    dashboards list them without failing the build (``--strict`` fails it by exit code).
    """
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    root = ElementTree.Element("testsuites", {
        "name": "stdkit validate", "tests": str(max(len(diagnostics), 1)),
        "failures": str(errors), "errors": "0", "skipped": "0",
    })
    by_file: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_file.setdefault(d.file, []).append(d)
    for file, found in by_file.items():
        failures = sum(1 for d in found if d.severity is Severity.ERROR)
        suite = ElementTree.SubElement(root, "testsuite", {
            "name": _xml(file), "tests": str(len(found)), "failures": str(failures),
            "errors": "0", "skipped": "0",
        })
        for d in found:
            obj = f" [{d.object}]" if d.object else ""
            case = ElementTree.SubElement(suite, "testcase", {
                "classname": _xml(file), "name": _xml(f"{d.code}{obj} {d.line}:{d.column}"),
                "file": _xml(file), "line": str(d.line),
            })
            report = f"{d.file}:{d.line}:{d.column}: {d.severity.value} {d.code}{obj} {d.message}"
            if d.hint:
                report += f"\nhint: {d.hint}"
            if d.severity is Severity.ERROR:
                failure = ElementTree.SubElement(case, "failure", {
                    "type": d.code, "message": _xml(d.message)})
                failure.text = _xml(report)
            else:
                ElementTree.SubElement(case, "system-out").text = _xml(report)
    if not diagnostics:
        suite = ElementTree.SubElement(root, "testsuite", {
            "name": "stdkit validate", "tests": "1", "failures": "0", "errors": "0",
            "skipped": "0"})
        case = ElementTree.SubElement(suite, "testcase", {
            "classname": "stdkit", "name": "validate"})
        ElementTree.SubElement(case, "system-out").text = summary_line(summary)
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
