"""The model of a standard: frozen dataclasses, no I/O.

Everything that carries an id is an *object*; every object knows where it was written
(:class:`Origin`) so that any finding about it can point at a file, line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from stdkit.yamlio import Document, Path_

KINDS = ("interface", "verification", "maturity")
PART_TYPES = (
    "foreword", "introduction", "scope", "normative-references", "terms", "symbols",
    "clause", "annex", "bibliography",
)
UNNUMBERED_TYPES = frozenset({"foreword", "introduction", "bibliography"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where something was written: a file, the path to it inside the file, and its position."""

    file: str
    path: tuple[str | int, ...] = ()
    line: int = 1
    column: int = 1
    doc: Document | None = field(default=None, compare=False, repr=False)

    def at(self, *steps: str | int, key: bool = False) -> tuple[int, int]:
        """Line and column of a field below this object (the object itself if absent)."""
        if self.doc is None:
            return self.line, self.column
        return self.doc.at((*self.path, *steps), key=key)

    def child(self, *steps: str | int) -> Origin:
        path: Path_ = (*self.path, *steps)
        doc = self.doc
        if doc is None:
            return Origin(self.file, path, self.line, self.column)
        # Where the value is, most often; else the nearest enclosing one (Document.at).
        mark = doc.marks.get(path) or doc.at(path)
        return Origin(self.file, path, mark[0], mark[1], doc)


@dataclass(frozen=True, slots=True)
class Text:
    """Prose in one or more languages; ``""`` keys a plain string not yet tied to a language."""

    values: Mapping[str, str]
    origin: Origin
    plain: bool = False  # written as a plain string, not a {lang: …} mapping

    def get(self, lang: str, *fallbacks: str) -> str | None:
        for candidate in (lang, *fallbacks, ""):
            value = self.values.get(candidate)
            if value is not None:
                return value
        return None

    def first(self) -> str:
        for value in self.values.values():
            return value
        return ""

    def items(self) -> Iterator[tuple[str, str, Origin]]:
        """(language, string, origin of that string) for every language present."""
        for lang, value in self.values.items():
            yield lang, value, (self.origin if self.plain else self.origin.child(lang))

    def origin_of(self, lang: str) -> Origin:
        """The origin of the string in ``lang`` (as :meth:`items` gives it; working out a
        position costs a little, so a check that rarely reports asks only when it does)."""
        return self.origin if self.plain else self.origin.child(lang)


Waivers = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Obj:
    """Base of everything that carries an id."""

    KIND: ClassVar[str] = "object"
    TEXTS: ClassVar[tuple[str, ...]] = ()

    id: str
    origin: Origin
    waive: Waivers = field(default_factory=dict)

    def texts(self) -> Iterator[tuple[str, Text]]:
        """(field name, text) for every prose field of this object, lists flattened."""
        for name in self.TEXTS:
            value = getattr(self, name)
            if isinstance(value, Text):
                yield name, value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Text):
                        yield name, item
                    elif isinstance(item, Step):
                        if item.action:
                            yield name, item.action
                        if item.expected:
                            yield name, item.expected

    def children(self) -> Iterator[Obj]:
        return iter(self.kids())

    def kids(self) -> tuple[Obj, ...]:
        """The objects directly below this one, in document order (as :meth:`children`)."""
        return ()


@dataclass(frozen=True, slots=True)
class Provision(Obj):
    KIND: ClassVar[str] = "provision"
    TEXTS: ClassVar[tuple[str, ...]] = ("text",)

    kind: str | None = None
    text: Text | None = None
    verification: tuple[str, ...] = ()
    asil: str | None = None


@dataclass(frozen=True, slots=True)
class Term(Obj):
    KIND: ClassVar[str] = "term"
    TEXTS: ClassVar[tuple[str, ...]] = ("term", "definition", "notes")

    term: Text | None = None
    definition: Text | None = None
    abbreviation: str | None = None
    source: str | None = None
    notes: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference(Obj):
    KIND: ClassVar[str] = "reference"
    TEXTS: ClassVar[tuple[str, ...]] = ("title",)

    designation: str | None = None
    title: Text | None = None


@dataclass(frozen=True, slots=True)
class Node(Obj):
    KIND: ClassVar[str] = "node"
    TEXTS: ClassVar[tuple[str, ...]] = ("name",)

    name: Text | None = None


@dataclass(frozen=True, slots=True)
class ValueEntry:
    value: int | None
    name: str | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class ValueTable(Obj):
    KIND: ClassVar[str] = "value_table"

    entries: tuple[ValueEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of measure; units have their own namespace (not standard object ids)."""

    id: str
    name: Text | None
    quantity: str | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class Signal(Obj):
    KIND: ClassVar[str] = "signal"
    TEXTS: ClassVar[tuple[str, ...]] = ("description",)

    name: str | None = None
    description: Text | None = None
    start_bit: int | None = None
    length: int | None = None
    byte_order: str | None = None
    signed: bool | None = None
    factor: float | None = None
    offset: float | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    initial: float | None = None
    invalid_raw: int | None = None
    value_table: str | None = None
    vss_path: str | None = None


@dataclass(frozen=True, slots=True)
class E2E:
    profile: str | None
    data_id: int | None
    counter: str | None
    checksum: str | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class Message(Obj):
    KIND: ClassVar[str] = "message"

    name: str | None = None
    can_id: str | None = None
    dlc: int | None = None
    sender: str | None = None
    receivers: tuple[str, ...] = ()
    transmission: str | None = None
    cycle_ms: float | None = None
    timeout_ms: float | None = None
    e2e: E2E | None = None
    signals: tuple[Signal, ...] = ()

    def kids(self) -> tuple[Obj, ...]:
        return self.signals


@dataclass(frozen=True, slots=True)
class Environment(Obj):
    KIND: ClassVar[str] = "environment"
    TEXTS: ClassVar[tuple[str, ...]] = ("description",)

    type: str | None = None
    description: Text | None = None


@dataclass(frozen=True, slots=True)
class Step:
    action: Text | None
    expected: Text | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class Case(Obj):
    KIND: ClassVar[str] = "case"
    TEXTS: ClassVar[tuple[str, ...]] = (
        "title", "objective", "preconditions", "steps", "pass_criteria",
    )

    title: Text | None = None
    objective: Text | None = None
    verifies: tuple[tuple[str, Origin], ...] = ()
    method: str | None = None
    level: str | None = None
    environment: str | None = None
    asil: str | None = None
    preconditions: tuple[Text, ...] = ()
    steps: tuple[Step, ...] = ()
    pass_criteria: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True)
class EvidenceType(Obj):
    KIND: ClassVar[str] = "evidence_type"
    TEXTS: ClassVar[tuple[str, ...]] = ("name", "description")

    name: Text | None = None
    description: Text | None = None


@dataclass(frozen=True, slots=True)
class Criterion(Obj):
    KIND: ClassVar[str] = "criterion"
    TEXTS: ClassVar[tuple[str, ...]] = ("text",)

    text: Text | None = None
    mandatory: bool | None = None
    evidence: tuple[tuple[str, Origin], ...] = ()


@dataclass(frozen=True, slots=True)
class Level(Obj):
    KIND: ClassVar[str] = "level"
    TEXTS: ClassVar[tuple[str, ...]] = ("name", "description", "environment")

    level: int | None = None
    name: Text | None = None
    description: Text | None = None
    environment: Text | None = None
    criteria: tuple[Criterion, ...] = ()

    def kids(self) -> tuple[Obj, ...]:
        return self.criteria


@dataclass(frozen=True, slots=True)
class Clause(Obj):
    """A part (top-level element, with a ``type``) or a subclause (``type`` None)."""

    KIND: ClassVar[str] = "clause"
    TEXTS: ClassVar[tuple[str, ...]] = ("title", "text", "notes", "examples")

    type: str | None = None
    annex: str | None = None
    title: Text | None = None
    text: Text | None = None
    provisions: tuple[Provision, ...] = ()
    notes: tuple[Text, ...] = ()
    examples: tuple[Text, ...] = ()
    clauses: tuple[Clause, ...] = ()
    under_test: bool = False
    references: tuple[Reference, ...] = ()
    terms: tuple[Term, ...] = ()
    nodes: tuple[Node, ...] = ()
    value_tables: tuple[ValueTable, ...] = ()
    units: tuple[Unit, ...] = ()
    messages: tuple[Message, ...] = ()
    environments: tuple[Environment, ...] = ()
    cases: tuple[Case, ...] = ()
    evidence_types: tuple[EvidenceType, ...] = ()
    levels: tuple[Level, ...] = ()

    CONTENT: ClassVar[tuple[str, ...]] = (
        "provisions", "references", "terms", "nodes", "value_tables", "messages",
        "environments", "cases", "evidence_types", "levels", "clauses",
    )

    def kids(self) -> tuple[Obj, ...]:
        # CONTENT, in that order, joined in one go (most of these are empty).
        return (self.provisions + self.references + self.terms + self.nodes
                + self.value_tables + self.messages + self.environments + self.cases
                + self.evidence_types + self.levels + self.clauses)

    @property
    def label(self) -> str:
        return self.type or ("annex" if self.annex else "clause")


@dataclass(frozen=True, slots=True)
class Standard:
    """One standard: its metadata (``standard.yaml``) and its parts in order."""

    id: str
    folder: str
    origin: Origin
    designation: str | None = None
    kind: str | None = None
    title: Text | None = None
    languages: tuple[str, ...] = ("en",)
    stage: str | None = None
    revision: int | None = None
    edition: int = 1
    date: str | None = None
    committee: tuple[Text, ...] = ()
    drafting_units: tuple[Text, ...] = ()
    drafters: tuple[Text, ...] = ()
    proposer: tuple[Text, ...] = ()
    supersedes: tuple[str, ...] = ()
    comment_deadline: str | None = None
    part_ids: tuple[tuple[str, Origin], ...] = ()
    parts: tuple[Clause, ...] = ()
    waive: Waivers = field(default_factory=dict)

    def texts(self) -> Iterator[tuple[str, Text]]:
        if self.title:
            yield "title", self.title
        for name in ("committee", "drafting_units", "drafters", "proposer"):
            for text in getattr(self, name):
                yield name, text

    def objects(self) -> Iterator[tuple[Obj, Obj | None]]:
        """Every object with an id, depth first in document order, with its parent."""
        for part in self.parts:
            yield from descendants(part)

    def units(self) -> Iterator[Unit]:
        for obj, _ in self.objects():
            if isinstance(obj, Clause):
                yield from obj.units


def descendants(root: Obj) -> Iterator[tuple[Obj, Obj | None]]:
    """``root`` and every object below it, depth first in document order, with its parent
    (None for ``root``)."""
    stack: list[tuple[Obj, Obj | None]] = [(root, None)]
    pop, extend = stack.pop, stack.extend
    while stack:
        obj, parent = pop()
        yield obj, parent
        kids = obj.kids()
        if kids:
            extend(zip(reversed(kids), repeat(obj)))


def numbering(standard: Standard) -> dict[str, str]:
    """Clause numbers by id: 1, 2, 2.1 … for the body, A, A.1 … for annexes, 3.1 … for terms."""
    return number_parts((part.id, part.type, clause_tree(part), [t.id for t in part.terms])
                        for part in standard.parts)


# A part as numbering sees it: its id, its type, its clause tree (clause_tree) and the ids of
# its terms.
PartOutline = tuple[str, str | None, tuple[Any, ...], Sequence[str]]


def clause_tree(clause: Clause) -> tuple[Any, ...]:
    """The ids of ``clause``'s subclauses, each with its own subclauses: ``((id, (...)), …)``."""
    return tuple((sub.id, clause_tree(sub)) for sub in clause.clauses)


def number_parts(parts: Iterable[PartOutline]) -> dict[str, str]:
    """:func:`numbering` of a standard's parts in order, each given by its outline."""
    numbers: dict[str, str] = {}
    body = 0
    annex = 0

    def sub(tree: tuple[Any, ...], prefix: str) -> None:
        for i, (child, below) in enumerate(tree, 1):
            number = f"{prefix}.{i}"
            numbers[child] = number
            sub(below, number)

    for pid, kind, tree, terms in parts:
        if kind in UNNUMBERED_TYPES:
            continue
        if kind == "annex":
            prefix = chr(ord("A") + annex) if annex < 26 else f"Z{annex - 25}"
            annex += 1
        else:
            body += 1
            prefix = str(body)
        numbers[pid] = prefix
        sub(tree, prefix)
        for i, term in enumerate(terms, 1):
            numbers[term] = f"{prefix}.{i}"
    return numbers


ROLE = re.compile(r":(ref|term|cite):`([^`\n]*)`")


def role_target(content: str) -> str:
    """The target of a role's content: ``ID`` or the ``ID`` of ``title <ID>``."""
    content = content.strip()
    if content.endswith(">") and "<" in content:
        return content[content.rindex("<") + 1 : -1].strip()
    return content


def roles(text: Text) -> Iterator[tuple[str, str, str, tuple[int, int]]]:
    """(role, target, language, (line, column)) for every stdkit role in ``text``."""
    for lang, value, origin in text.items():
        if ":" not in value:
            continue
        for match in ROLE.finditer(value):
            doc = origin.doc
            where = (
                doc.text_line(origin.path, match.start()) if doc is not None
                else (origin.line, origin.column)
            )
            yield match.group(1), role_target(match.group(2)), lang, where
