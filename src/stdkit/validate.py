"""Validation: loading, schema and semantic rules, waivers and settings, as one report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stdkit.diagnostics import Diagnostic, Severity, Summary, sort_diagnostics
from stdkit.errors import UsageError
from stdkit.loader import SETTINGS_FILE, STANDARDS_DIR, Repository, load_repository
from stdkit.model import Origin, Standard
from stdkit.rules import catalogue, check_standard, contexts


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of one validation run."""

    diagnostics: list[Diagnostic]
    summary: Summary
    repo: Repository

    @property
    def ok(self) -> bool:
        return self.summary.errors == 0

    def failed(self, *, strict: bool = False) -> bool:
        return self.summary.errors > 0 or (strict and self.summary.warnings > 0)

    def for_standard(self, standard_id: str) -> list[Diagnostic]:
        folder = self.repo.folders.get(standard_id, standard_id)
        prefix = f"{STANDARDS_DIR}/{folder}/"
        return [d for d in self.diagnostics if d.file.startswith(prefix)]


def validate(root: Path, only: Iterable[str] | None = None) -> Report:
    """Validate the repository at ``root`` (or only the standards named in ``only``)."""
    repo = load_repository(root)
    return validate_repository(repo, only)


def select(repo: Repository, paths: Iterable[Path]) -> tuple[set[str] | None, set[str] | None]:
    """The standards (None: all) and files (None: all of theirs) that command-line paths name.

    A folder names whole standards (the repository or ``standards/``: all of them); a file
    narrows the report to that file.
    """
    root = repo.root.resolve()
    standards: set[str] = set()
    whole: set[str] = set()
    files: set[str] = set()
    everything = False
    for path in paths:
        path = path.resolve()
        if not path.is_relative_to(root):
            raise UsageError(f"{path} is outside the repository {root}")
        parts = path.relative_to(root).parts
        if len(parts) < 2 or parts[0] != STANDARDS_DIR:
            if path.is_dir():
                everything = True
            else:
                files.add("/".join(parts))
            continue
        folder = parts[1]
        ids = {sid for sid, f in repo.folders.items() if f == folder}
        known = ids or any(d.file.startswith(f"{STANDARDS_DIR}/{folder}") for d in repo.diagnostics)
        if not known:
            raise UsageError(f"no standard {folder!r} in {root}")
        found = ids or {folder}
        standards |= found
        if path.is_dir():
            whole |= found
        else:
            files.add("/".join(parts))
    chosen = None if everything or not standards else standards
    if not files or everything:
        return chosen, None
    prefixes = tuple(f"{STANDARDS_DIR}/{repo.folders.get(s, s)}/" for s in whole)
    return chosen, files | {f for f in repo.documents if prefixes and f.startswith(prefixes)}


def validate_repository(
    repo: Repository, only: Iterable[str] | None = None, *, files: set[str] | None = None
) -> Report:
    """Validate a loaded repository; ``only`` narrows to standards, ``files`` to files."""
    selected = set(only) if only is not None else None
    peers = contexts(repo)
    found: list[Diagnostic] = list(repo.diagnostics)
    for sid, ctx in peers.items():
        if selected is None or sid in selected:
            found.extend(check_standard(ctx))
    if selected is not None:
        prefixes = tuple(f"{STANDARDS_DIR}/{repo.folders.get(s, s)}/" for s in selected)
        found = [d for d in found if d.file.startswith(prefixes) or d.file == SETTINGS_FILE]
        standards = [s for s in repo.standards.values() if s.id in selected]
    else:
        standards = list(repo.standards.values())
    found, waived = _apply_waivers(found, standards)
    found = _apply_settings(found, repo)
    if files is not None:
        found = [d for d in found if d.file in files]
    diagnostics = sort_diagnostics(found)
    counted = [f for f in repo.documents if (selected is None or f.startswith(prefixes))
               and (files is None or f in files)]
    summary = Summary.of(diagnostics, files=len(counted), standards=len(standards), waived=waived)
    return Report(diagnostics, summary, repo)


def _apply_waivers(
    found: list[Diagnostic], standards: list[Standard]
) -> tuple[list[Diagnostic], int]:
    rules = catalogue()
    # (folder, object id) -> {code: (reason, origin)}
    waivers: dict[tuple[str, str], dict[str, tuple[object, Origin]]] = {}
    extra: list[Diagnostic] = []
    for std in standards:
        holders = [(std.id, std.waive, std.origin)]
        holders += [(obj.id, obj.waive, obj.origin) for obj, _ in std.objects() if obj.waive]
        for obj_id, waive, origin in holders:
            for code, reason in waive.items():
                where = origin.at("waive", code, key=True)
                if code not in rules:
                    extra.append(Diagnostic(
                        "WAIVE003", rules["WAIVE003"].severity, f"waiver of unknown rule {code!r}",
                        origin.file, *where, obj_id, hint="run 'stdkit rules' for the codes"))
                    continue
                if not isinstance(reason, str) or not reason.strip():
                    extra.append(Diagnostic(
                        "WAIVE001", rules["WAIVE001"].severity,
                        f"the waiver of {code} gives no reason", origin.file, *where, obj_id,
                        hint=f'{code}: "why the rule does not apply here"'))
                    continue
                waivers.setdefault((std.folder, obj_id), {})[code] = (reason, origin)
    used: set[tuple[str, str, str]] = set()
    kept: list[Diagnostic] = []
    waived = 0
    for d in found:
        parts = d.file.split("/")
        folder = parts[1] if len(parts) > 2 and parts[0] == STANDARDS_DIR else ""
        entry = waivers.get((folder, d.object or "")) if d.object else None
        if entry and d.code in entry:
            used.add((folder, d.object or "", d.code))
            waived += 1
            continue
        kept.append(d)
    for (folder, obj_id), codes in waivers.items():
        for code, (_reason, origin) in codes.items():
            if (folder, obj_id, code) not in used:
                line, col = origin.at("waive", code, key=True)
                kept.append(Diagnostic(
                    "WAIVE002", rules["WAIVE002"].severity,
                    f"the waiver of {code} suppresses nothing here", origin.file, line, col,
                    obj_id, hint="remove the stale waiver"))
    return kept + extra, waived


def _apply_settings(found: list[Diagnostic], repo: Repository) -> list[Diagnostic]:
    rules = catalogue()
    overrides = repo.settings.rules
    out: list[Diagnostic] = []
    doc = repo.documents.get(SETTINGS_FILE)
    for code in overrides:
        if code not in rules:
            line, col = doc.at(("rules", code), key=True) if doc else (1, 1)
            out.append(Diagnostic("CFG001", Severity.ERROR, f"unknown rule code {code!r}",
                                  SETTINGS_FILE, line, col, None,
                                  hint="run 'stdkit rules' for the codes"))
    for d in found:
        level = overrides.get(d.code)
        if level is None or d.code.startswith(("YAML", "FILE")):
            out.append(d)
        elif level != "off":
            out.append(d.with_severity(Severity(level)))
    return out
