"""Rules every standard obeys: skeleton, ids, languages, references."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from stdkit.diagnostics import Diagnostic
from stdkit.model import (
    ROLE,
    Case,
    Clause,
    Obj,
    Provision,
    Reference,
    Term,
    Text,
    descendants,
    role_target,
)
from stdkit.rules import Context, PartContext, did_you_mean

# GB/T 1.1-2020 order of elements; a technical clause may repeat.
ORDER = {
    "foreword": 0, "introduction": 1, "scope": 2, "normative-references": 3, "terms": 4,
    "symbols": 5, "clause": 6, "annex": 7, "bibliography": 8,
}
SINGLE = ("foreword", "introduction", "scope", "normative-references", "terms", "symbols",
          "bibliography")
REQUIRED = ("foreword", "scope", "normative-references", "terms")
NAMES = {
    "foreword": "foreword (前言)", "introduction": "introduction (引言)", "scope": "scope (范围)",
    "normative-references": "normative references (规范性引用文件)",
    "terms": "terms and definitions (术语和定义)", "symbols": "symbols and abbreviations",
    "clause": "technical clause", "annex": "annex", "bibliography": "bibliography (参考文献)",
}
KIND_CONTENT = {
    "nodes": "interface", "value_tables": "interface", "units": "interface",
    "messages": "interface", "environments": "verification", "cases": "verification",
    "evidence_types": "maturity", "levels": "maturity",
}


def skeleton(ctx: Context) -> Iterator[Diagnostic]:
    std = ctx.standard
    seen: dict[str, Clause] = {}
    last = -1
    last_part: Clause | None = None
    parts = ctx.outline()
    for part in parts:
        kind = part.type
        if kind not in ORDER:
            continue
        if kind in SINGLE and kind in seen:
            yield ctx.find("STD010", f"a second {NAMES[kind]}; GB/T 1.1 allows one",
                           part.origin.child("type"), part.id,
                           hint=f"merge it into {seen[kind].id!r}")
        seen.setdefault(kind, part)
        rank = ORDER[kind]
        if rank < last and last_part is not None:
            yield ctx.find(
                "STD007",
                f"the {NAMES[kind]} {part.id!r} comes after the {NAMES[last_part.label]}"
                f" {last_part.id!r}",
                std.origin.child("parts", _index(std, part.id)), part.id,
                hint="order: foreword, introduction, scope, normative references, terms, symbols,"
                " clauses, annexes, bibliography",
            )
        else:
            last, last_part = rank, part
        if kind == "annex" and part.annex is None:
            yield ctx.find("STD011", "an annex says whether it is normative or informative",
                           part.origin, part.id, hint="add annex: normative (or informative)")
        if kind != "annex" and part.annex is not None:
            yield ctx.find("STD011", f"only annexes carry 'annex:'; this part is a {kind}",
                           part.origin.child("annex"), part.id, hint="remove 'annex:'")
        if kind in ("clause", "annex") and part.title is None:
            yield ctx.find("STD012", f"the {NAMES[kind]} {part.id!r} has no title", part.origin,
                           part.id, hint="add title: {zh: …, en: …}")
    missing = [k for k in REQUIRED if k not in seen]
    if not any(p.type == "clause" for p in parts) and parts:
        missing.append("clause")
    if std.part_ids and missing:
        for kind in missing:
            yield ctx.find(
                "STD006", f"the standard has no {NAMES[kind]}", std.origin.child("parts"), std.id,
                missing=True,
                hint=f"add a part with type: {kind}" if kind != "clause"
                else "add at least one part with type: clause",
            )


def _index(std: object, part_id: str) -> int:
    for i, (pid, _) in enumerate(getattr(std, "part_ids", ())):
        if pid == part_id:
            return i
    return 0


def kind_content(ctx: PartContext) -> Iterator[Diagnostic]:
    """Content of another kind of standard (STD008), in one part."""
    kind = ctx.kind
    if kind is None:
        return
    for obj, _ in descendants(ctx.part):
        if not isinstance(obj, Clause):
            continue
        for key, owner in KIND_CONTENT.items():
            if owner != kind and getattr(obj, key):
                yield ctx.find(
                    "STD008", f"{key} belong to {owner} standards; this is a {kind} standard",
                    obj.origin.child(key), obj.id, at=obj.origin.at(key, key=True),
                    hint=f"remove {key}, or set kind: {owner}")
        if obj.under_test and kind != "verification":
            yield ctx.find(
                "STD008", f"under_test belongs to verification standards; this is a {kind}"
                " standard", obj.origin, obj.id, at=obj.origin.at("under_test", key=True))


def unique_ids(ctx: Context) -> Iterator[Diagnostic]:
    for first, again in ctx.duplicates:
        yield ctx.find(
            "ID001",
            f"the id {again.id!r} is already used by the {first.KIND} at "
            f"{first.origin.file}:{first.origin.line}",
            again.origin, again.id, at=again.origin.at("id"), hint="give this object another id")
        yield ctx.find(
            "ID001",
            f"the id {first.id!r} is used again by the {again.KIND} at "
            f"{again.origin.file}:{again.origin.line}",
            first.origin, first.id, at=first.origin.at("id"), hint="give one of them another id")


def _texts_of(obj: Obj) -> Iterator[tuple[str | None, str, Text]]:
    """(object id, field name, text) for every text of one object, its units' names too."""
    for name, text in obj.texts():
        yield obj.id, name, text
    if isinstance(obj, Clause):
        for unit in obj.units:
            if unit.name:
                yield obj.id, "units", unit.name


def _part_texts(part: Clause) -> Iterator[tuple[str | None, str, Text]]:
    """(object id, field name, text) for every text of one part, in document order."""
    for obj, _ in descendants(part):
        yield from _texts_of(obj)


def languages(ctx: Context) -> Iterator[Diagnostic]:
    """The languages of the texts of standard.yaml (LANG001, LANG002)."""
    std = ctx.standard
    yield from _languages(ctx, std.languages, ((std.id, n, t) for n, t in std.texts()))


def part_languages(ctx: PartContext) -> Iterator[Diagnostic]:
    """The languages of the texts of one part (LANG001, LANG002)."""
    yield from _languages(ctx, ctx.languages, _part_texts(ctx.part))


def _languages(
    ctx: Context | PartContext, declared: tuple[str, ...],
    texts: Iterator[tuple[str | None, str, Text]],
) -> Iterator[Diagnostic]:
    multi = len(declared) > 1
    for obj_id, name, text in texts:
        if "" in text.values and multi:
            yield ctx.find(
                "LANG001",
                f"{name} is a plain string, but the standard is written in"
                f" {', '.join(declared)}",
                text.origin, obj_id,
                hint="write it as {" + ", ".join(f"{lang}: …" for lang in declared) + "}")
            continue
        missing = [lang for lang in declared if lang not in text.values and "" not in text.values]
        if missing:
            yield ctx.find(
                "LANG001", f"{name} has no {', '.join(missing)} text", text.origin, obj_id,
                hint=f"add {missing[0]}: … beside the other languages")
        for lang in text.values:
            if lang and lang not in declared:
                yield ctx.find(
                    "LANG002",
                    f"{name} has a {lang!r} text, but the standard declares only"
                    f" {', '.join(declared)}",
                    text.origin.child(lang), obj_id, at=text.origin.at(lang, key=True),
                    hint=f"add {lang} to languages in standard.yaml, or remove it")


_ROLE_CODES = {"ref": "REF001", "term": "REF002", "cite": "REF003"}
_ROLE_KINDS: dict[str, tuple[type, ...]] = {"term": (Term,), "cite": (Reference,)}
_ROLE_WORDS = {"term": "a term", "cite": "a normative reference or bibliography entry"}


def references(ctx: Context) -> Iterator[Diagnostic]:
    std = ctx.standard
    yield from _references(ctx, ((std.id, n, t) for n, t in std.texts()))
    # The roles of each object's texts are known from the facts of its part: an object is read
    # again only when one of them does not resolve to the right kind.
    resolves: dict[tuple[str, str], bool] = {}
    for part in ctx.parts:
        flagged: set[int] = set()
        for role, target, places in part.roles:
            ok = resolves.get((role, target))
            if ok is None:
                _std, obj = ctx.lookup(target)
                kinds = _ROLE_KINDS.get(role)
                ok = resolves[(role, target)] = obj is not None and (
                    not kinds or isinstance(obj, kinds))
            if not ok:
                flagged.update(places)
        for index in sorted(flagged):
            yield from _references(ctx, _texts_of(part.object(index)))


def _references(
    ctx: Context, texts: Iterable[tuple[str | None, str, Text]]
) -> Iterator[Diagnostic]:
    # As model.roles(), but a role's line and column are worked out only when it is reported.
    for obj_id, _name, text in texts:
        for lang, value in text.values.items():
            if ":" not in value:
                continue
            for match in ROLE.finditer(value):
                role, target = match.group(1), role_target(match.group(2))
                _std, obj = ctx.lookup(target)
                kinds = _ROLE_KINDS.get(role)
                if obj is not None and (not kinds or isinstance(obj, kinds)):
                    continue  # resolves to the right kind: _resolve() would report nothing
                origin = text.origin_of(lang)
                doc = origin.doc
                at = (doc.text_line(origin.path, match.start()) if doc is not None
                      else (origin.line, origin.column))
                yield from _resolve(ctx, role, target, text, obj_id, at)


def _resolve(
    ctx: Context, role: str, target: str, text: Text, obj_id: str | None, at: tuple[int, int]
) -> Iterator[Diagnostic]:
    code = _ROLE_CODES[role]
    std, obj = ctx.lookup(target)
    if std is None:
        std_id = target.rpartition(":")[0]
        yield ctx.find("REF004", f":{role}:`{target}` names the unknown standard {std_id!r}",
                       text.origin, obj_id, at=at,
                       hint=did_you_mean(std_id, ctx.repo.standards) or
                       "standards of the repository: " + ", ".join(sorted(ctx.repo.standards)))
        return
    if obj is None:
        choices = ctx.index if std is ctx.standard else ctx.peers[std.id].index
        yield ctx.find(code, f":{role}:`{target}` names nothing in {std.id}", text.origin,
                       obj_id, at=at, missing=True,
                       hint=did_you_mean(target.rpartition(":")[2], choices))
        return
    kinds = _ROLE_KINDS.get(role)
    if kinds and not isinstance(obj, kinds):
        yield ctx.find(code, f":{role}:`{target}` names a {obj.KIND}, not {_ROLE_WORDS[role]}",
                       text.origin, obj_id, at=at,
                       hint="use :ref: for clauses, provisions and other objects")


CHECKS = (skeleton, unique_ids, languages, references)
PART_CHECKS = (kind_content, part_languages)

__all__ = ["CHECKS", "Case", "Obj", "Provision"]
