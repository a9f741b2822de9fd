"""Property-based tests: hostile and mutated input never breaks stdkit, and always finishes.

Random and mutated YAML (the shipped standards' part files with lines deleted or doubled,
characters flipped, tabs, anchors, aliases, tags, deep nesting, bad bytes) go through the loader
and the whole of ``validate``; random reStructuredText goes through ``render``; random revision
strings go through the git revision check. The only exception allowed out is StdkitError. The
fast schema path is checked against jsonschema on mutated documents: whatever it accepts,
jsonschema accepts too (so skipping jsonschema for such documents hides no error).

Sized for CI on two cores: the examples are few and each is small (one standard in memory).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stdkit import schema, yamlio
from stdkit.errors import StdkitError
from stdkit.loader import load_repository
from stdkit.validate import validate_repository

from .conftest import STANDARDS

QUICK = settings(max_examples=100, deadline=5000, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(max_examples=20, deadline=10000, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SHIPPED: dict[str, bytes] = {
    p.relative_to(STANDARDS.parent).as_posix(): p.read_bytes()
    for p in sorted(STANDARDS.rglob("*.yaml"))
}
PART_FILES = sorted(SHIPPED)


class MemorySource:
    """A repository held in memory (the loader's Source protocol)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def is_dir(self, rel: str) -> bool:
        return any(name.startswith(f"{rel}/") for name in self.files) if rel else True

    def is_file(self, rel: str) -> bool:
        return rel in self.files

    def listdir(self, rel: str) -> list[str]:
        prefix = f"{rel}/" if rel else ""
        return sorted({name[len(prefix):].split("/")[0] for name in self.files
                       if name.startswith(prefix)})

    def escapes(self, rel: str) -> bool:
        return False

    def read(self, rel: str, max_bytes: int) -> bytes:
        return self.files[rel][: max_bytes + 1]


def _validate(files: dict[str, bytes]) -> None:
    """Load and validate an in-memory repository; anything but StdkitError fails the test."""
    try:
        repo = load_repository(Path("/in-memory"), MemorySource(files))
        report = validate_repository(repo)
    except StdkitError:
        return
    for d in report.diagnostics:
        assert d.file and d.line >= 1 and d.column >= 1, d


def _one_standard(path: str, content: bytes) -> dict[str, bytes]:
    folder = str(PurePosixPath(path).parent)
    files = {name: data for name, data in SHIPPED.items() if name.startswith(f"{folder}/")}
    files[path] = content
    files["stdkit.yaml"] = b"languages: [zh, en]\n"
    return files


# --- mutations of real part files -------------------------------------------------------------

NASTY = [
    "\t", "&a ", "*a", "!!python/object/apply:os.system ['true'] ", "!!python/name:os.system ",
    "!!binary ", "!custom ", "<<: ", "? ", "- ", ": ", "{", "}", "[", "]", "'", '"', "#", "|",
    ">", "%YAML 1.1\n", "---\n", "...\n", "\x00", "\ufeff", "\u2028", "9" * 60, "1e999 ",
    "0x1A ", "~ ", "null ", "True ", ":ref:`", "``", "应用", "shall ",
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(PART_FILES))
    data = SHIPPED[path]
    for _ in range(draw(st.integers(1, 4))):
        lines = data.split(b"\n")
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        how = draw(st.sampled_from(
            ["delete", "duplicate", "flip", "insert", "indent-tab", "nest", "bytes", "swap"]))
        if how == "delete" and len(lines) > 1:
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        elif how == "flip" and lines[i]:
            j = draw(st.integers(0, len(lines[i]) - 1))
            char = draw(st.sampled_from(NASTY) | st.characters()).encode("utf-8", "surrogatepass")
            lines[i] = lines[i][:j] + char + lines[i][j + 1:]
        elif how == "insert":
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.sampled_from(NASTY)).encode() + lines[i][j:]
        elif how == "indent-tab":
            lines[i] = b"\t" + lines[i]
        elif how == "nest":
            depth = draw(st.sampled_from([10, 70, 500, 3000]))
            opener, closer = draw(st.sampled_from([(b"[", b"]"), (b"{a: ", b"}")]))
            lines.insert(i, b"deep: " + opener * depth + b"1" + closer * depth)
        elif how == "bytes":
            lines.insert(i, draw(st.binary(max_size=12)))
        elif how == "swap" and len(lines) > 2:
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        data = b"\n".join(lines)
    return path, data


@QUICK
@given(mutated())
def test_mutated_part_files_never_break_validate(case: tuple[str, bytes]) -> None:
    path, data = case
    _validate(_one_standard(path, data))


@QUICK
@given(st.lists(st.sampled_from(NASTY) | st.text(max_size=6) | st.sampled_from(
    ["\n", "  ", "a", "b: ", "- x\n"]), max_size=40).map("".join))
def test_random_yaml_text_never_breaks_the_loader(text: str) -> None:
    try:
        doc = yamlio.parse(text, "random.yaml")
    except StdkitError:
        return
    if doc.ok:
        schema.check(doc, "part")


@QUICK
@given(st.binary(max_size=300))
def test_random_bytes_never_break_the_loader(raw: bytes) -> None:
    doc = yamlio.read_bytes(raw, "random.yaml")
    assert doc.ok or doc.diagnostics


def test_alias_bomb_and_deep_nesting_are_bounded() -> None:
    bomb = "a: &a [x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    doc = yamlio.parse(bomb, "bomb.yaml")
    assert not doc.ok or doc.diagnostics
    deep = "x: " + "[" * 100_000 + "]" * 100_000 + "\n"
    doc = yamlio.parse(deep, "deep.yaml")
    assert any(d.code in ("YAML007", "YAML001") for d in doc.diagnostics)


# --- the fast schema path is never more lenient than jsonschema -------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.floats(allow_nan=False)
    | st.sampled_from(["", "x", "REQ-1", "0x1A0", "2026-11-24", "a\n", "-x", "zh", "shall",
                       "requirement", "little_endian", "test", "A", "normative", "clause"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "kind", "text", "zh", "en", "title", "x", "type", "waive",
                         "SCH001", "verification"]), inner, max_size=3),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    if isinstance(data, dict):
        return {k: (_replace(v, path[1:], value) if k == path[0] else v) for k, v in data.items()}
    return [(_replace(v, path[1:], value) if i == path[0] else v) for i, v in enumerate(data)]


PARSED = {p: yamlio.read_bytes(b, p).data for p, b in SHIPPED.items()}


@QUICK
@given(st.sampled_from(PART_FILES), st.data())
def test_fast_schema_path_is_never_more_lenient(path: str, data: st.DataObject) -> None:
    kind = "standard" if path.endswith("/standard.yaml") else "part"
    doc = PARSED[path]
    paths = _paths(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths))
        doc = _replace(doc, where, data.draw(json_values))
        paths = _paths(doc)
    if schema.fast_validator(kind)(doc):
        errors = [e.message for e in schema.validator(kind).iter_errors(doc)]
        assert errors == [], f"fast path accepted what jsonschema refuses: {errors}"


# --- random reStructuredText through render ---------------------------------------------------

HAS_RENDER = importlib.util.find_spec("stdkit.render") is not None
RST = [
    "*", "**", "`", "``", "_", "__", "|", "::", "..", ".. ", "\n", "\n\n", "   ", "- ", "* ",
    "#. ", "1. ", "=====", "-----", ":ref:`", ":term:`", ":cite:`", "`x <javascript:alert(1)>`_",
    ".. raw:: html\n\n   <script>alert(1)</script>\n", ".. include:: /etc/passwd\n",
    ".. image:: file:///etc/passwd\n", ".. list-table::\n   :header-rows: 1\n\n   * - a\n",
    "[#]_", ".. [#] note\n", "<", ">", "&", "应", "表", "shall", "\\", "\t", "\x0b",
    ".. math:: x\n", ".. csv-table::\n   :file: /etc/passwd\n", "|sub|", ".. |sub| date::\n",
]


def _with_text(text: str) -> dict[str, bytes]:
    path = "standards/rfia-0301/scope.yaml"
    files = _one_standard(path, SHIPPED[path])
    files[path] = yamlio.dump({"id": "scope", "type": "scope",
                               "title": {"zh": "范围", "en": "Scope"},
                               "text": {"zh": text, "en": text}}).encode("utf-8")
    return files


@pytest.mark.skipif(not HAS_RENDER, reason="stdkit.render is not there yet")
@FEW
@given(st.lists(st.sampled_from(RST) | st.text(max_size=4), max_size=25).map("".join))
def test_random_rst_never_breaks_render(text: str) -> None:
    from stdkit import render

    repo = load_repository(Path("/in-memory"), MemorySource(_with_text(text)), check=False)
    try:
        site = render.render_site(repo.standards, ["rfia-0301"], fmt="html")
    except StdkitError:
        return
    page = b"".join(site.files.values())
    assert b"<script>alert(1)" not in page
    assert b"root:x:0:0" not in page


# --- random revision strings through the revision check ---------------------------------------

def _revision_check() -> Callable[[str], str] | None:
    if importlib.util.find_spec("stdkit.gitrepo") is None:
        return None
    from stdkit import gitrepo

    return getattr(gitrepo, "check_revision", None)


@pytest.mark.skipif(_revision_check() is None, reason="no revision check in stdkit.gitrepo yet")
@QUICK
@given(st.lists(st.sampled_from(["-", ".", "/", "@", ":", "^", "~", "{", "}", "[", "]", "*",
                                  "?", "\\", " ", "\n", "\x00", "..", "HEAD", "rfia-0101",
                                  "@draft-for-comment.2", "--output=x", "main"])
                | st.text(max_size=3), max_size=12).map("".join))
def test_random_revisions_are_accepted_or_refused_in_one_line(text: str) -> None:
    check = _revision_check()
    assert check is not None
    try:
        accepted = check(text)
    except StdkitError as exc:
        assert "\n" not in exc.message.strip() or "\n" in text
        return
    assert accepted == text
    assert not accepted.startswith("-")
