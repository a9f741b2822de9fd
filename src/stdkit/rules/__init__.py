"""Semantic rules: small generators over one standard that yield diagnostics.

The catalogue of codes (severity, scope, one line of why) is data, in ``data/rules.yaml``;
a check yields findings by code and the catalogue supplies the default severity.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from stdkit import yamlio
from stdkit.diagnostics import Diagnostic, Severity
from stdkit.loader import Repository
from stdkit.model import Obj, Origin, Standard


@dataclass(frozen=True, slots=True)
class Rule:
    """One entry of the rule catalogue."""

    code: str
    severity: Severity
    scope: str
    summary: str


@cache
def catalogue() -> dict[str, Rule]:
    """Every rule code, in catalogue order."""
    text = resources.files("stdkit").joinpath("data", "rules.yaml").read_text("utf-8")
    doc = yamlio.parse(text, "rules.yaml")
    rules = {}
    for code, (severity, scope, summary) in doc.data.items():
        rules[code] = Rule(code, Severity(severity), scope, summary)
    return rules


@dataclass(slots=True)
class Context:
    """What a check sees: the repository, the standard, and an index of its objects by id."""

    repo: Repository
    standard: Standard
    peers: dict[str, Context]
    index: dict[str, Obj] = field(default_factory=dict)
    duplicates: list[tuple[Obj, Obj]] = field(default_factory=list)
    complete: bool = True
    echoes: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, repo: Repository, standard: Standard, peers: dict[str, Context]) -> Context:
        ctx = cls(repo, standard, peers)
        # When a file of the standard could not be read, "names nothing" findings would mostly
        # be echoes of that one problem, so they wait until the file reads again.
        prefix = f"{standard.origin.file.rpartition('/')[0]}/"
        ctx.complete = all(
            doc.ok and isinstance(doc.data, dict)
            for name, doc in repo.documents.items() if name.startswith(prefix)
        ) and len(standard.parts) == len(
            {pid for pid, _ in standard.part_ids}
        )
        for obj, _parent in standard.objects():
            if not obj.id:
                continue
            first = ctx.index.get(obj.id)
            if first is None:
                ctx.index[obj.id] = obj
            else:
                ctx.duplicates.append((first, obj))
        return ctx

    def find(
        self, code: str, message: str, where: Origin, obj: str | None = None, *,
        at: tuple[int, int] | None = None, hint: str | None = None, missing: bool = False,
    ) -> Diagnostic:
        """A finding of rule ``code`` at ``where`` (or at ``at`` in the same file).

        ``missing`` marks "names nothing" findings, held back while a file of the standard is
        unreadable (the target may well be in that file).
        """
        line, col = at if at else (where.line, where.column)
        found = Diagnostic(code, catalogue()[code].severity, message, where.file, line, col, obj,
                           hint)
        if missing:
            self.echoes.add(id(found))
        return found

    def lookup(self, target: str) -> tuple[Standard | None, Obj | None]:
        """Resolve ``ID`` or ``standard-id:ID``; (None, None) when the standard is unknown."""
        std_id, _, obj_id = target.rpartition(":")
        if not std_id or std_id == self.standard.id:
            return self.standard, self.index.get(obj_id)
        other = self.peers.get(std_id)
        if other is None:
            return None, None
        return other.standard, other.index.get(obj_id)


def contexts(repo: Repository) -> dict[str, Context]:
    """A context for every standard of the repository, each able to see the others."""
    peers: dict[str, Context] = {}
    for sid, standard in repo.standards.items():
        peers[sid] = Context.of(repo, standard, peers)
    return peers


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


Check = Callable[[Context], Iterator[Diagnostic]]


def checks() -> list[Check]:
    """Every semantic check, in a fixed order."""
    from stdkit.rules import drafting, interface, maturity, structure, verification

    return [*structure.CHECKS, *interface.CHECKS, *verification.CHECKS, *maturity.CHECKS,
            *drafting.CHECKS]


def check_standard(ctx: Context) -> Iterator[Diagnostic]:
    """Every semantic finding about one standard."""
    for check in checks():
        for found in check(ctx):
            if ctx.complete or id(found) not in ctx.echoes:
                yield found
