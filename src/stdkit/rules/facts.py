"""What the standard checks know of one part, so that an unchanged part file is not read again.

A standard check sees a whole standard, but of most of it only a little: the id and class of
each object (lookups, duplicate ids), the roles each object's texts hold, the clause tree (for
numbers), and, in full, the few objects it walks one by one (messages with their signals,
cases, levels with their criteria, terms). :class:`PartFacts` holds that much of one part. It is
worked out from the part (:meth:`PartFacts.of`) or taken from the validation cache
(:meth:`PartFacts.known`), which keeps it beside the part checks' findings under the part
file's path and content, the languages and the kind: like those findings, the facts are a
function of the part file alone.

The facts decide *whether* a check has something to report about a part, never *what*: where
there is something, the check asks for the part itself (:meth:`PartFacts.model`, built from the
file when the facts came from the cache) and reports from it as it always did. So a finding
carries the same message, file, line and column whichever way the part came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from stdkit.model import (
    E2E,
    ROLE,
    Case,
    Clause,
    Criterion,
    Environment,
    EvidenceType,
    Level,
    Message,
    Node,
    Obj,
    Origin,
    Provision,
    Reference,
    Signal,
    Standard,
    Step,
    Term,
    Text,
    Unit,
    ValueEntry,
    ValueTable,
    clause_tree,
    descendants,
    number_parts,
    role_target,
)
from stdkit.yamlio import Document

# Classes of the objects a part holds, by name (the facts name them).
CLASSES: dict[str, type[Obj]] = {
    cls.__name__: cls for cls in (
        Clause, Provision, Term, Reference, Node, ValueTable, Signal, Message, Environment, Case,
        EvidenceType, Criterion, Level)}
# Objects the standard checks walk one by one, kept whole (with the objects below them).
WHOLE = (Message, Case, Level, Term)

_TITLE = Text({}, Origin(""))  # stands for "a title" in a part's outline


class PartFacts:
    """What the standard checks know of one part (see the module docstring).

    ``objects`` lists every object of the part as ``(id, class name, extra)`` in the order of
    :func:`stdkit.model.descendants` (``extra``: a reference's designation, a value table's
    ``(value, name)`` entries); other facts name an object by its place in that list: ``roles``
    are ``(role, target, places)``, the objects whose texts hold the role ``:role:`target```.
    """

    __slots__ = (
        "_build",
        "_built",
        "_dumped",
        "_part",
        "_whole",
        "annex",
        "doc",
        "file",
        "foreword",
        "found",
        "id",
        "located",
        "objects",
        "provisions",
        "refs",
        "roles",
        "subclauses",
        "subdivided",
        "terms",
        "titled",
        "tree",
        "type",
        "under_test",
        "units",
        "waivers",
    )

    def __init__(self, file: str, data: tuple[Any, ...], doc: Document | None) -> None:
        self.file = file
        self.doc = doc
        (self.id, self.type, self.annex, self.titled, self.provisions, self.subclauses,
         self.foreword, self.objects, self.roles, self.located, self.under_test, self.units,
         self.tree, self.terms, self.subdivided, self._dumped, self.waivers,
         self.refs) = data
        self.found: list[Any] | None = None  # the part checks' findings, when known
        self._part: Clause | None = None
        self._build: Callable[[], Clause] | None = None
        self._built: list[Obj] | None = None
        self._whole: list[Obj] | None = None

    @classmethod
    def of(cls, part: Clause) -> PartFacts:
        """The facts of a part read now."""
        facts = cls(part.origin.file, _extract(part), part.origin.doc)
        facts._part = part
        return facts

    @classmethod
    def known(
        cls, file: str, data: tuple[Any, ...], doc: Document | None,
        build: Callable[[], Clause], found: list[Any],
    ) -> PartFacts:
        """The facts of a part kept by the cache (``build`` reads the part itself)."""
        facts = cls(file, data, doc)
        facts._build = build
        facts.found = found
        return facts

    def dump(self) -> tuple[Any, ...]:
        """The facts as plain values (what the cache keeps)."""
        dumped = self._dumped
        if dumped is None:
            dumped = tuple(_dump(obj) for obj in self.whole())
        return (self.id, self.type, self.annex, self.titled, self.provisions, self.subclauses,
                self.foreword, self.objects, self.roles, self.located, self.under_test,
                self.units, self.tree, self.terms, self.subdivided, dumped, self.waivers,
                self.refs)

    @property
    def read(self) -> bool:
        """Whether the part itself is in memory (read in this run, or for a finding)."""
        return self._part is not None

    def model(self) -> Clause:
        """The part itself (read from its file if the facts came from the cache)."""
        if self._part is None:
            assert self._build is not None
            self._part = self._build()
        return self._part

    def object(self, index: int) -> Obj:
        """The object at ``index`` of ``objects``, from the part itself."""
        if self._built is None:
            self._built = [obj for obj, _ in descendants(self.model())]
        return self._built[index]

    def whole(self) -> list[Obj]:
        """The messages, cases, levels and terms of the part, whole, in document order."""
        if self._whole is None:
            if self._part is not None:
                self._whole = [obj for obj, _ in descendants(self._part)
                               if isinstance(obj, WHOLE)]
            else:
                self._whole = [_load(d, self.file, self.doc) for d in self._dumped]
        return self._whole

    def outline(self) -> Clause:
        """The part as the checks of a standard's skeleton and elements see it: id, type,
        annex, whether it has a title and provisions, its subclauses' ids, a foreword's text."""
        origin = Origin(self.file, (), 1, 1, self.doc)
        text = None
        if self.foreword is not None:
            values, plain, path, line, col = self.foreword
            text = Text(values, Origin(self.file, path, line, col, self.doc), plain)
        return Clause(
            self.id, origin, type=self.type, annex=self.annex,
            title=_TITLE if self.titled else None, text=text,
            provisions=(Provision("", origin),) if self.provisions else (),
            clauses=tuple(Clause(sub, origin) for sub in self.subclauses))


def part_facts(
    standard: Standard, stand_ins: dict[str, Any] | None = None
) -> list[PartFacts]:
    """The facts of each part of ``standard`` in order: of the parts read, and of those the
    cache stood in for (``stand_ins``, as :func:`stdkit.loader.load_standard` fills it)."""
    if not stand_ins:
        return [PartFacts.of(part) for part in standard.parts]
    out: list[PartFacts] = []
    read = iter(standard.parts)
    for file, known in stand_ins.items():
        if known is None:
            part = next(read)
            assert part.origin.file == file
            out.append(PartFacts.of(part))
        else:
            out.append(PartFacts.known(file, known.facts, known.doc, known.build, known.found))
    return out


def bare(cls: type[Obj], obj_id: str, origin: Origin, extra: Any = None) -> Obj:
    """An object of class ``cls`` with its id (and a reference's designation, a value table's
    entries): all that a lookup from another object reads. Its other fields are not set."""
    obj = object.__new__(cls)
    setattr_ = object.__setattr__
    setattr_(obj, "id", obj_id)
    setattr_(obj, "origin", origin)
    setattr_(obj, "waive", {})
    if cls is Reference:
        setattr_(obj, "designation", extra)
    elif cls is ValueTable:
        setattr_(obj, "entries", tuple(ValueEntry(v, n, origin) for v, n in extra or ()))
    return obj


def _texts(obj: Obj) -> Iterator[Text]:
    """Every text of ``obj`` (as :meth:`Obj.texts` gives them), its units' names too."""
    kind = type(obj)
    for name in kind.TEXTS:
        value = getattr(obj, name)
        if value is None:
            continue
        if type(value) is Text:
            yield value
            continue
        for item in value:
            if type(item) is Text:
                yield item
            elif isinstance(item, Step):
                if item.action:
                    yield item.action
                if item.expected:
                    yield item.expected
    if kind is Clause:
        for unit in obj.units:  # type: ignore[attr-defined]
            if unit.name:
                yield unit.name


def _extract(part: Clause) -> tuple[Any, ...]:
    """The facts of ``part`` as :meth:`PartFacts.dump` gives them (whole objects not dumped)."""
    from stdkit.rules import PartContext
    from stdkit.rules.drafting import _citation_syntax, _script, _subdivided, _where

    after, before, _ = _citation_syntax()
    objects: list[tuple[str, str, Any]] = []
    # (role, target) -> the objects whose texts hold it, each once.
    roles: dict[tuple[str, str], list[int]] = {}
    located: list[tuple[str, str, tuple[int, int]]] = []
    under_test: list[tuple[int, str]] = []
    units: list[str] = []
    waivers: list[tuple[int, str, dict[str, Any]]] = []
    refs: list[tuple[int, str]] = []
    marked: set[int] = set()  # clauses under test (themselves or through a parent)
    finditer, findall = ROLE.finditer, ROLE.findall
    for i, (obj, parent) in enumerate(descendants(part)):
        cls = type(obj)
        extra: Any = None
        if isinstance(obj, Clause):
            if obj.under_test or id(parent) in marked:
                marked.add(id(obj))
            if obj.units:
                units.extend(u.id for u in obj.units)
        elif isinstance(obj, Provision):
            if id(parent) in marked:
                under_test.append((i, obj.id))
        elif isinstance(obj, Reference):
            extra = obj.designation
            if parent is part:
                refs.append((i, obj.id))
        elif isinstance(obj, ValueTable):
            extra = tuple((e.value, e.name) for e in obj.entries)
        objects.append((obj.id, cls.__name__, extra))
        if obj.waive:
            waivers.append((i, obj.id, dict(obj.waive)))
        for text in _texts(obj):
            for lang, value in text.values.items():
                if ":" not in value:
                    continue
                for role, content in findall(value):
                    target = content.strip()
                    if target.endswith(">"):
                        target = role_target(target)
                    seen = roles.get((role, target))
                    if seen is None:
                        roles[(role, target)] = [i]
                    elif seen[-1] != i:
                        seen.append(i)
                if ":cite:" not in value:
                    continue
                for m in finditer(value):
                    # A citation with a clause number (see drafting._usage).
                    if m.group(1) == "cite" and (after.match(value, m.end()) or (
                            _script(lang, value) == "en"
                            and before.search(value, max(0, m.start() - 60), m.start()))):
                        located.append((role_target(m.group(2)), obj.id,
                                        _where(text.origin_of(lang), m.start())))
    foreword = None
    if part.type == "foreword" and part.text is not None:
        o = part.text.origin
        foreword = (dict(part.text.values), part.text.plain, o.path, o.line, o.column)
    # Whether the subdivision checks find anything in the part does not depend on the numbers
    # (they only name clauses by them): the part is read again only when they do.
    pctx = PartContext(part, (), None)
    subdivided = any(True for _ in _subdivided(pctx, part, 0, {}))
    return (part.id, part.type, part.annex, part.title is not None, bool(part.provisions),
            tuple(c.id for c in part.clauses), foreword, tuple(objects),
            tuple((role, target, tuple(seen)) for (role, target), seen in roles.items()),
            tuple(located), tuple(under_test), tuple(units), clause_tree(part),
            tuple(t.id for t in part.terms), subdivided, None, tuple(waivers), tuple(refs))


def numbering(standard: Standard, parts: list[PartFacts]) -> dict[str, str]:
    """As :func:`stdkit.model.numbering`, from the parts' facts."""
    return number_parts((part.id, part.type, part.tree, part.terms) for part in parts)


# -- whole objects as plain values --------------------------------------------------------------

_FIELDS: dict[type, tuple[str, ...]] = {}
_SHAPES: dict[str, type] = {
    cls.__name__: cls for cls in (*CLASSES.values(), E2E, Step, Unit, ValueEntry)}


def _dump(value: Any) -> Any:
    """A model value as plain values: an object (or E2E, step …) as ``("d", class, [fields])``,
    an origin as ``("o", path, line, column)`` (its file is the part's), a text as
    ``("t", values, origin, plain)``, a tuple as a list; anything else as it is."""
    kind = type(value)
    if kind is Origin:
        return ("o", value.path, value.line, value.column)
    if kind is Text:
        return ("t", dict(value.values), _dump(value.origin), value.plain)
    if kind is tuple:
        return [_dump(v) for v in value]
    if is_dataclass(value) and kind.__name__ in _SHAPES:
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
        return ("d", kind.__name__, [_dump(getattr(value, n)) for n in names])
    return value


def _load(value: Any, file: str, doc: Document | None) -> Any:
    """The model value :func:`_dump` made plain, its origins in ``file`` (read through ``doc``)."""
    kind = type(value)
    if kind is list:
        return tuple(_load(v, file, doc) for v in value)
    if kind is tuple:
        tag = value[0]
        if tag == "o":
            return Origin(file, value[1], value[2], value[3], doc)
        if tag == "t":
            return Text(value[1], _load(value[2], file, doc), value[3])
        return _SHAPES[value[1]](*[_load(v, file, doc) for v in value[2]])
    return value
