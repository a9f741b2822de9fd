"""The one diagnostic shape, and the views of a list of diagnostics (text, JSON, GitHub …)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


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
