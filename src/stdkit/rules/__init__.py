"""Semantic rules: small generators over one standard that yield diagnostics.

The catalogue of codes (severity, scope, one line of why) is data, in ``data/rules.yaml``;
a check yields findings by code and the catalogue supplies the default severity.

Two kinds of check. A *standard* check (``CHECKS`` of each module) sees the whole standard and,
through its :class:`Context`, the other standards. A *part* check (``PART_CHECKS``) sees one
part, the top-level clause of one part file, with nothing of the standard but its languages and
kind (:class:`PartContext`): its findings depend on that file and those two values only, so the
validation cache can keep them by the file's content (most of the checking, the verbal forms
of every text, is done by part checks).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from stdkit import yamlio
from stdkit.diagnostics import Diagnostic, Severity
from stdkit.loader import Repository
from stdkit.model import Clause, Obj, Origin, Standard

if TYPE_CHECKING:
    from stdkit.rules.facts import PartFacts


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


def _finding(
    code: str, message: str, where: Origin, obj: str | None, at: tuple[int, int] | None,
    hint: str | None,
) -> Diagnostic:
    line, col = at if at else (where.line, where.column)
    return Diagnostic(code, catalogue()[code].severity, message, where.file, line, col, obj, hint)


@dataclass(frozen=True, slots=True)
class PartContext:
    """What a part check sees: one part and the standard's languages and kind, nothing else.

    A part check's findings are a function of these (and of stdkit's code): the validation
    cache keys them by the part file's path and content, the languages and the kind.
    """

    part: Clause
    languages: tuple[str, ...]
    kind: str | None

    def find(
        self, code: str, message: str, where: Origin, obj: str | None = None, *,
        at: tuple[int, int] | None = None, hint: str | None = None,
    ) -> Diagnostic:
        """A finding of rule ``code`` at ``where`` (or at ``at`` in the same file)."""
        return _finding(code, message, where, obj, at, hint)


# The findings of one part's checks, given the part's facts, the standard's languages and kind,
# and how to work them out; the validation cache supplies one that remembers them (with the
# facts) by the part file's content.
PartMemo = Callable[
    ["PartFacts", tuple[str, ...], "str | None", Callable[[], list[Diagnostic]]],
    list[Diagnostic]]


@dataclass(slots=True)
class Context:
    """What a check sees: the repository, the standard, and an index of its objects by id.

    The standard's parts are seen through their facts (``parts``: see
    :mod:`stdkit.rules.facts`); ``objects`` are the objects the checks walk one by one
    (messages and their signals, cases, levels and their criteria, terms) with their parents,
    in document order. The objects of ``index`` carry their id and class (and a reference's
    designation, a value table's entries): what a lookup reads.
    """

    repo: Repository
    standard: Standard
    peers: dict[str, Context]
    index: dict[str, Obj] = field(default_factory=dict)
    duplicates: list[tuple[Obj, Obj]] = field(default_factory=list)
    complete: bool = True
    echoes: set[int] = field(default_factory=set)
    memo: PartMemo | None = None
    objects: list[tuple[Obj, Obj | None]] = field(default_factory=list)
    parts: list[PartFacts] = field(default_factory=list)
    numbers: dict[str, str] | None = None

    @classmethod
    def of(
        cls, repo: Repository, standard: Standard, peers: dict[str, Context],
        parts: list[PartFacts] | None = None,
    ) -> Context:
        """The context of ``standard``, seeing its parts through ``parts`` (their facts as
        :func:`stdkit.rules.facts.part_facts` gives them; by default, of ``standard.parts``)."""
        from stdkit.model import descendants
        from stdkit.rules.facts import CLASSES, bare, part_facts

        ctx = cls(repo, standard, peers)
        ctx.parts = parts = part_facts(standard) if parts is None else parts
        # When a file of the standard could not be read, "names nothing" findings would mostly
        # be echoes of that one problem, so they wait until the file reads again.
        prefix = f"{standard.origin.file.rpartition('/')[0]}/"
        ctx.complete = all(
            doc.ok and isinstance(doc.data, dict)
            for name, doc in repo.documents.items() if name.startswith(prefix)
        ) and len(parts) == len(
            {pid for pid, _ in standard.part_ids}
        )
        index = ctx.index
        first: dict[str, tuple[PartFacts, int]] = {}
        for part in parts:
            ctx.objects.extend(pair for whole in part.whole() for pair in descendants(whole))
            origin = Origin(part.file)  # a lookup reads no position
            for i, (obj_id, kind, extra) in enumerate(part.objects):
                if not obj_id:
                    continue
                if obj_id not in index:
                    index[obj_id] = bare(CLASSES[kind], obj_id, origin, extra)
                    first[obj_id] = (part, i)
                else:
                    where, at = first[obj_id]
                    ctx.duplicates.append((where.object(at), part.object(i)))
        return ctx

    def numbering(self) -> dict[str, str]:
        """Clause numbers by id, as :func:`stdkit.model.numbering` gives them."""
        if self.numbers is None:
            from stdkit.rules.facts import numbering

            self.numbers = numbering(self.standard, self.parts)
        return self.numbers

    def outline(self) -> list[Clause]:
        """The parts in order, as :meth:`stdkit.rules.facts.PartFacts.outline` gives them."""
        return [part.outline() for part in self.parts]

    def find(
        self, code: str, message: str, where: Origin, obj: str | None = None, *,
        at: tuple[int, int] | None = None, hint: str | None = None, missing: bool = False,
    ) -> Diagnostic:
        """A finding of rule ``code`` at ``where`` (or at ``at`` in the same file).

        ``missing`` marks "names nothing" findings, held back while a file of the standard is
        unreadable (the target may well be in that file).
        """
        found = _finding(code, message, where, obj, at, hint)
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
PartCheck = Callable[[PartContext], Iterator[Diagnostic]]


def checks() -> list[Check]:
    """Every standard check, in a fixed order."""
    from stdkit.rules import drafting, interface, maturity, structure, verification

    return [*structure.CHECKS, *interface.CHECKS, *verification.CHECKS, *maturity.CHECKS,
            *drafting.CHECKS]


def part_checks() -> list[PartCheck]:
    """Every part check, in a fixed order."""
    from stdkit.rules import drafting, interface, structure

    return [*structure.PART_CHECKS, *interface.PART_CHECKS, *drafting.PART_CHECKS]


def check_part(part: PartContext) -> list[Diagnostic]:
    """Every part check's findings about one part."""
    return [found for check in part_checks() for found in check(part)]


def part_findings(
    part: PartFacts, languages: tuple[str, ...], kind: str | None, memo: PartMemo | None
) -> list[Diagnostic]:
    """The part checks' findings about one part: known with its facts, remembered by ``memo``,
    or worked out."""

    def compute() -> list[Diagnostic]:
        return check_part(PartContext(part.model(), languages, kind))

    if memo is not None:
        return memo(part, languages, kind, compute)
    return part.found if part.found is not None else compute()


def check_standard(ctx: Context) -> Iterator[Diagnostic]:
    """Every semantic finding about one standard: its standard checks, then its part checks
    part by part (through ``ctx.memo`` when there is one)."""
    for check in checks():
        for found in check(ctx):
            if ctx.complete or id(found) not in ctx.echoes:
                yield found
    std = ctx.standard
    for part in ctx.parts:
        yield from part_findings(part, std.languages, std.kind, ctx.memo)
