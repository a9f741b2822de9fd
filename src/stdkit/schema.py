"""JSON Schema validation of loaded documents; the only module that imports jsonschema.

The schemas are stdkit's own (shipped in the package), never taken from the repository being
checked, and no ``$ref`` is ever retrieved from anywhere: the registry knows our files only.
Errors become diagnostics at the YAML position of the offending key or value.

Speed: most documents are valid, and jsonschema takes about 70 µs a clause to say so. A document
is first run through a validator that fastjsonschema compiles from the same schemas (about 7 µs a
clause, a yes or no); jsonschema runs only on the documents it refuses, to explain every error.
The fast validator is never more lenient than jsonschema (tests/test_properties.py checks this on
mutated documents), so a document it accepts has no schema error. jsonschema itself is imported
only when there is something to explain.
"""

from __future__ import annotations

import difflib
import json
import marshal
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from stdkit.diagnostics import Diagnostic, Severity
from stdkit.errors import StdkitError
from stdkit.yamlio import Document, Path_

if TYPE_CHECKING:
    import referencing
    from jsonschema.exceptions import ValidationError

SCHEMA_NAMES = ("common", "standard", "part", "interface", "verification", "maturity", "stdkit")
BASE = "https://stdkit.example/schemas/"

_PATTERN_HELP = {
    "^[A-Za-z][A-Za-z0-9_.-]{0,79}$":
        "an id starts with a letter and holds only letters, digits, '_', '.' and '-'"
        " (at most 80 characters)",
    "^[a-z][a-z0-9-]{1,63}$":
        "a standard id is 2–64 lower-case letters, digits and '-', starting with a letter",
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$": "a date is written YYYY-MM-DD",
    "^0[xX][0-9A-Fa-f]{1,8}$": "a CAN id is written in hexadecimal, e.g. \"0x1A0\"",
    "^[A-Za-z_][A-Za-z0-9_]*$": "a name holds only letters, digits and '_' (a C identifier)",
    "^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$": "a language is a code such as zh or en",
    "^[A-Z]+[0-9]{3}$": "a rule code looks like IF002",
}


def schema_text(name: str) -> str:
    """The JSON text of a bundled schema."""
    return resources.files("stdkit").joinpath("schemas", f"{name}.schema.json").read_text("utf-8")


def _no_retrieval(uri: str) -> referencing.Resource[Any]:
    import referencing.exceptions

    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]


@cache
def _registry() -> referencing.Registry[Any]:
    import referencing

    resources_ = []
    for name in SCHEMA_NAMES:
        contents = json.loads(schema_text(name))
        resources_.append(
            (contents["$id"], referencing.Resource.from_contents(contents))
        )
    return referencing.Registry(retrieve=_no_retrieval).with_resources(resources_)  # type: ignore[call-arg]


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """``pattern`` with ECMA-262 semantics for ``$``: the very end, not before a final newline."""
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, str):
        return
    compiled = _compiled(pattern)
    if not compiled.search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


@cache
def _contents(name: str) -> dict[str, Any]:
    try:
        contents: dict[str, Any] = json.loads(schema_text(name))
    except (OSError, ValueError) as exc:  # pragma: no cover - a broken installation
        raise StdkitError(f"the bundled schema {name!r} cannot be read: {exc}") from exc
    return contents


@cache
def validator(name: str) -> Any:
    """A validator for ``standard``, ``part`` or ``stdkit``; bundled schemas only."""
    import jsonschema

    extended = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    return extended(_contents(name), registry=_registry())


def _bundled(uri: str) -> dict[str, Any]:
    """The bundled schema with this ``$id``; anything else is refused, never fetched."""
    for name in SCHEMA_NAMES:
        contents = _contents(name)
        if contents.get("$id") == uri.split("#", 1)[0]:
            return contents
    raise StdkitError(f"the schema {uri!r} is not one of stdkit's own; it is never fetched")


def _bundled_fast(uri: str) -> dict[str, Any]:
    """:func:`_bundled`, in the form compiled for the fast validator."""
    contents: dict[str, Any] = _fast_form(_bundled(uri))
    return contents


@cache
def _fast_contents(name: str) -> dict[str, Any]:
    contents: dict[str, Any] = _fast_form(_contents(name))
    return contents


# The types whose values are told apart by their Python type alone (an integer is a number).
_DISJOINT_TYPES = ("object", "array", "string", "boolean", "null")


def _fast_form(node: Any) -> Any:
    """A schema that accepts exactly the same values, shaped to be checked fast.

    fastjsonschema tries the branches of an ``anyOf`` in turn, and each branch that fails
    raises (and builds) an exception: a text, usually a mapping, first failed ``type:
    string``. Where every branch is told apart by a type of its own, the value's type picks
    the one branch that can hold, without trying the others: ``if: {type: T}, then: branch,
    else: …``. The same values pass, since a value of another type fails a branch at its
    ``type`` whatever else the branch says.
    """
    if isinstance(node, list):
        return [_fast_form(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _fast_form(value) for key, value in node.items()}
    branches = out.get("anyOf")
    if isinstance(branches, list) and branches and not {"if", "then", "else"} & out.keys():
        types = [b.get("type") if isinstance(b, dict) else None for b in branches]
        if all(t in _DISJOINT_TYPES for t in types) and len(set(types)) == len(types):
            # Mappings first: most texts are a mapping of languages.
            ordered = sorted(zip(types, branches, strict=True),
                             key=lambda tb: _DISJOINT_TYPES.index(tb[0]))
            chain: Any = ordered[-1][1]
            for kind, branch in reversed(ordered[:-1]):
                chain = {"if": {"type": kind}, "then": branch, "else": chain}
            del out["anyOf"]
            out["allOf"] = [*out.get("allOf", []), chain]
    return out


# The schema a generated ``raise`` carries: the rest of its line, up to the rule named last.
_DEFINITION = re.compile(r", definition=.*(, rule=(?:'\w+'|None)\)\)?)$", re.M)


class CodeStore(Protocol):
    """Keeps compiled validators between runs (the validation cache, whose entries are signed
    and keyed by stdkit's code and the versions of Python and fastjsonschema)."""

    def compiled(self, name: str) -> Any: ...

    def store_compiled(self, name: str, value: Any) -> None: ...


_FAST: dict[str, Callable[[Any], bool]] = {}


def fast_validator(name: str, store: CodeStore | None = None) -> Callable[[Any], bool]:
    """A yes-or-no check of a document against schema ``name`` (fastjsonschema, compiled once
    per process, or taken compiled from ``store``: compiling the part schema takes longer than
    checking a few files with it).

    ``True`` means valid. Without fastjsonschema installed it always says "look closer", so the
    full validator decides.
    """
    found = _FAST.get(name)
    if found is None:
        found = _FAST[name] = _fast_validator(name, store)
    return found


def _fast_validator(name: str, store: CodeStore | None) -> Callable[[Any], bool]:
    try:
        import fastjsonschema
    except ImportError:  # pragma: no cover - an installation without the dependency
        return lambda data: False
    kept = store.compiled(f"fastjsonschema-{name}") if store is not None else None
    if isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[0], str):
        entry, code = kept[0], marshal.loads(kept[1])
    else:
        # Every scheme is resolved by _bundled (in the fast form): fastjsonschema would
        # otherwise open URLs itself. The code is what fastjsonschema.compile() runs, as source.
        handlers = dict.fromkeys(("http", "https", "file", "ftp", ""), _bundled_fast)
        source = fastjsonschema.compile_to_code(_fast_contents(name), handlers=handlers,
                                                use_default=False, use_formats=False)
        # Only the yes-or-no answer is used here, never an exception's message or details:
        # the names of values (``data.notes[3]``) are not formatted on every call, and the
        # schema each failure would carry is left out of the code (two thirds of its size,
        # and of the time to compile it).
        source = source.replace(".format(**locals())", "")
        source = _DEFINITION.sub(r", definition=None\1", source)
        code = compile(source, f"<fastjsonschema {name}>", "exec")
        # The validator of the schema itself is the first function the code defines.
        entry = next(m.group(1) for m in re.finditer(r"^def (validate_\w+)\(", source, re.M))
        if store is not None:
            store.store_compiled(f"fastjsonschema-{name}", (entry, marshal.dumps(code)))
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # stdkit's own schemas, compiled here or signed
    compiled = namespace[entry]
    failure = fastjsonschema.JsonSchemaException

    def check(data: Any) -> bool:
        try:
            compiled(data)
        except failure:
            return False
        except (RecursionError, TypeError, ValueError):  # pragma: no cover - defensive
            return False
        return True

    return check


def check(doc: Document, schema: str) -> list[Diagnostic]:
    """Every schema violation of ``doc`` as a located diagnostic."""
    if not doc.ok:
        return []
    if fast_validator(schema)(doc.data):
        return []
    out: list[Diagnostic] = []
    # A value the loader refused (a tag, a huge number) is reported once, by the loader.
    refused = {(d.line, d.column) for d in doc.diagnostics}
    for error in validator(schema).iter_errors(doc.data):
        out.extend(d for d in _explain(error, doc) if (d.line, d.column) not in refused)
    return out


def _object_id(data: Any, path: Path_) -> str | None:
    found = None
    node = data
    for step in (None, *path):
        if step is not None:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            found = node["id"]
    return found


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


_TYPE_WORDS = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
    "array": "a list", "object": "a mapping", "null": "nothing",
}


def _expected(types: Any) -> str:
    if isinstance(types, str):
        types = [types]
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types)


def _closest(word: str, choices: Any) -> str | None:
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return match[0] if match else None


def _explain(error: ValidationError, doc: Document) -> Iterator[Diagnostic]:
    path: Path_ = tuple(error.absolute_path)
    obj = _object_id(doc.data, path)
    line, col = doc.at(path)
    name = repr(path[-1]) if path and isinstance(path[-1], str) else "the value"
    kw = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}

    def diag(message: str, code: str = "SCH001", *, at: tuple[int, int] | None = None,
             hint: str | None = None) -> Diagnostic:
        where = at or (line, col)
        return Diagnostic(code, Severity.ERROR, message, doc.file, where[0], where[1], obj, hint)

    if kw == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema.get("properties", {}))
        for key in error.instance:
            if key in allowed:
                continue
            guess = _closest(key, allowed)
            hint: str | None = (f"did you mean {guess!r}?" if guess
                            else "allowed keys: " + ", ".join(allowed))
            yield diag(f"unknown key {key!r}", "SCH002",
                       at=doc.at((*path, key), key=True), hint=hint)
        return
    if kw == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        yield diag(f"missing required key {missing!r}",
                   hint=f"add '{missing}:' to this mapping")
        return
    if kw == "type":
        value = error.instance
        expected = _expected(error.validator_value)
        message = f"{name} must be {expected}, not {_describe(value)}"
        hint = None
        raw = doc.raw.get(path)
        if "string" in str(error.validator_value) and isinstance(value, (int, float)):
            written = raw if raw is not None else str(value)
            message = (f"{name} must be a string, but {written} was read as a number")
            key = path[-1] if path and isinstance(path[-1], str) else "value"
            hint = f'quote it: {key}: "{written}"'
        elif "string" in str(error.validator_value) and isinstance(value, bool):
            key = path[-1] if path and isinstance(path[-1], str) else "value"
            hint = f'quote it: {key}: "{str(value).lower()}"'
        elif error.validator_value == "boolean" and isinstance(value, str):
            lowered = value.lower()
            if lowered in ("yes", "no", "on", "off", "true", "false", "y", "n"):
                truth = "true" if lowered in ("yes", "on", "true", "y") else "false"
                hint = f"write {truth}: only lower-case true and false are booleans"
        yield diag(message, hint=hint)
        return
    if kw == "anyOf":
        value = error.instance
        # Errors from the branch whose type fits the value are the ones worth telling.
        inner = [e for e in error.context or ()
                 if not (e.validator == "type" and not e.relative_path)]
        if inner:
            for sub in inner:
                yield from _explain(sub, doc)
            return
        textish = "A text" in json.dumps(error.schema) or "/text" in json.dumps(error.schema)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raw = doc.raw.get(path, str(value))
            key = path[-1] if path and isinstance(path[-1], str) else "value"
            what = "a text" if textish else "a string"
            yield diag(f"{name} must be {what}, but {raw} was read as a number",
                       hint=f'quote it: {key}: "{raw}"')
            return
        if textish:
            yield diag(f"{name} must be a text (a string, or a mapping such as {{zh: …, en: …}}),"
                       f" not {_describe(value)}")
        else:
            yield diag(f"{name} must be a string or a list of strings, not {_describe(value)}")
        return
    if kw == "enum":
        choices: Any = error.validator_value
        guess = _closest(str(error.instance), choices)
        hint = (f"did you mean {guess!r}?" if guess else
                "one of: " + ", ".join(str(c) for c in choices))
        yield diag(f"{name} is {_describe(error.instance)}, which is not allowed here", hint=hint)
        return
    if kw == "pattern":
        help_ = _PATTERN_HELP.get(str(error.validator_value))
        yield diag(f"{error.instance!r} is not a valid {_kind_of(path)}",
                   hint=help_ or f"it must match {error.validator_value}")
        return
    if kw == "propertyNames":
        bad = error.instance
        for sub in error.context or ():
            bad = sub.instance
        at = doc.at((*path, bad), key=True) if isinstance(bad, str) else None
        help_ = None
        for sub in error.context or ():
            help_ = _PATTERN_HELP.get(str(sub.validator_value))
        yield diag(f"{bad!r} is not allowed as a key here", at=at, hint=help_)
        return
    if kw == "minItems":
        yield diag(f"{name} must not be empty" if error.validator_value == 1 else
                   f"{name} needs at least {error.validator_value} items")
        return
    if kw == "uniqueItems":
        yield diag(f"{name} lists the same item twice")
        return
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                 "exclusiveMaximum": "less than"}[kw]
        yield diag(f"{name} is {error.instance}; it must be {words} {error.validator_value}")
        return
    if kw == "not" and path and path[-1] == "factor":
        yield diag("factor must not be 0")
        return
    if kw == "minProperties":
        yield diag(f"{name} must not be an empty mapping")
        return
    yield diag(error.message)


def _kind_of(path: Path_) -> str:
    last = next((p for p in reversed(path) if isinstance(p, str)), "value")
    return {
        "id": "id", "can_id": "CAN id", "date": "date", "comment_deadline": "date",
        "name": "name", "vss_path": "VSS path", "verifies": "provision reference",
        "parts": "part id", "receivers": "node id", "evidence": "evidence type id",
    }.get(last, last.replace("_", " "))
