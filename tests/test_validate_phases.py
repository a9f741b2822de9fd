"""The two phases of a worker process's share of a cold run, and the faster forms the checks
and the schema validator take: each gives exactly what the plain way gives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stdkit import loader, schema
from stdkit import validate as validate_mod
from stdkit.cache import ValidationCache
from stdkit.loader import load_repository
from stdkit.model import Obj, descendants
from stdkit.validate import validate_paths


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test signs its cache with its own key (and never touches the real ~/.cache)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("STDKIT_JOBS", "1")


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The standards read from their files, in order."""
    seen: list[str] = []
    real = loader.load_standard

    def spy(repo: Any, name: str, **kwargs: Any) -> Any:
        seen.append(name)
        return real(repo, name, **kwargs)

    monkeypatch.setattr(loader, "load_standard", spy)
    yield seen


class _Barrier:
    """A barrier of one party that notes when it is passed."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.inner = threading.Barrier(1)

    def wait(self, timeout: float | None = None) -> int:
        self.events.append("barrier")
        return self.inner.wait(timeout)

    def abort(self) -> None:
        self.events.append("abort")
        self.inner.abort()


NOTHING = 'REQ-ACC-REGEN-LIMIT, "rfia-0101:REQ-BMS-NOTHING"'


def _break_a_cross_reference(root: Path) -> None:
    """A case of rfia-0201 that verifies a provision rfia-0101 does not have."""
    cases = root / "standards" / "rfia-0201" / "cases.yaml"
    text = cases.read_text(encoding="utf-8")
    old = 'REQ-ACC-REGEN-LIMIT, "rfia-0101:REQ-BMS-LIMITS"'
    assert text.count(old) == 1
    cases.write_text(text.replace(old, NOTHING), encoding="utf-8")


def _chunk(root: Path, chunk: list[str], events: list[str]) -> dict[str, Any]:
    """What one worker process's share gives (run here, as a worker would)."""
    cache = ValidationCache.open(root)
    assert cache is not None
    names = sorted(p.name for p in (root / "standards").iterdir())
    barrier: Any = _Barrier(events)
    found = validate_mod._check_chunk(root, cache, names, chunk, barrier)
    cache.close()
    return found


def _plain(root: Path, standard: str) -> list[Any]:
    report = validate_paths(root, [root], use_cache=False)
    return [d for d in report.diagnostics if d.file.startswith(f"standards/{standard}/")]


def test_a_lookup_into_another_chunk_not_indexed_yet_waits_for_the_barrier(
    shipped_repo: Path, events: list[str]
) -> None:
    _break_a_cross_reference(shipped_repo)
    found = _chunk(shipped_repo, ["rfia-0201"], events)
    # rfia-0201 asks about rfia-0101, another process's and not indexed: it is checked after
    # the barrier, and only then is rfia-0101 read (no index turned up meanwhile).
    assert events == ["rfia-0201", "barrier", "rfia-0101"]
    mine, _waived, _files = found["rfia-0201"]
    assert mine == _plain(shipped_repo, "rfia-0201")
    assert any("REQ-BMS-NOTHING" in d.message for d in mine)


def test_an_index_written_by_another_process_answers_without_reading(
    shipped_repo: Path, events: list[str]
) -> None:
    _break_a_cross_reference(shipped_repo)
    first = _chunk(shipped_repo, ["rfia-0101"], events)  # indexes rfia-0101 in the cache
    assert first["rfia-0101"][0] == _plain(shipped_repo, "rfia-0101")
    events.clear()
    found = _chunk(shipped_repo, ["rfia-0201"], events)
    assert events == ["rfia-0201", "barrier"]  # checked at once, rfia-0101 never read
    assert found["rfia-0201"][0] == _plain(shipped_repo, "rfia-0201")


def test_two_processes_in_two_phases_give_the_plain_report(
    shipped_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_a_cross_reference(shipped_repo)
    plain = validate_paths(shipped_repo, [shipped_repo], use_cache=False)
    monkeypatch.setattr(validate_mod, "PARALLEL_BYTES", 0)
    monkeypatch.setenv("STDKIT_JOBS", "2")
    for _ in range(2):  # cold, then served whole
        report = validate_paths(shipped_repo, [shipped_repo])
        assert report.diagnostics == plain.diagnostics and report.summary == plain.summary


def _naive(root: Obj) -> Iterator[tuple[Obj, Obj | None]]:
    """Depth first through children(), as descendants() walked before."""
    stack: list[tuple[Obj, Obj | None]] = [(root, None)]
    while stack:
        obj, parent = stack.pop()
        yield obj, parent
        stack.extend((c, obj) for c in reversed(list(obj.children())))


def test_descendants_walks_in_document_order(shipped_repo: Path) -> None:
    repo = load_repository(shipped_repo)
    for standard in repo.standards.values():
        for part in standard.parts:
            fast = [(o.id, p.id if p else None) for o, p in descendants(part)]
            assert fast == [(o.id, p.id if p else None) for o, p in _naive(part)]
            assert [c.id for c in part.kids()] == [c.id for c in part.children()]


VALUES: list[Any] = [
    "text", "", {"en": "x"}, {"en": "x", "zh": "文"}, {}, {"EN": "x"}, {"en": 1}, {"en": None},
    1, 1.5, True, None, [], ["x"], [{"en": "x"}], [1],
]


@pytest.mark.parametrize("definition", ["text", "textOrTexts"])
def test_the_fast_form_of_a_schema_accepts_the_same_values(definition: str) -> None:
    import fastjsonschema

    handlers = dict.fromkeys(("http", "https", "file", "ftp", ""), schema._bundled)
    fast_handlers = dict.fromkeys(("http", "https", "file", "ftp", ""), schema._bundled_fast)
    ref = {"$ref": f"https://stdkit.example/schemas/common.schema.json#/$defs/{definition}"}
    plain = fastjsonschema.compile(ref, handlers=handlers, use_formats=False)
    fast = fastjsonschema.compile(schema._fast_form(ref), handlers=fast_handlers,
                                  use_formats=False)
    for value in VALUES:
        try:
            plain(value)
            expected = True
        except fastjsonschema.JsonSchemaException:
            expected = False
        try:
            fast(value)
            got = True
        except fastjsonschema.JsonSchemaException:
            got = False
        assert got == expected, value


def test_the_fast_form_keeps_branches_whose_types_overlap() -> None:
    # An integer is a number: the type alone does not pick the branch, so anyOf stays.
    overlapping = {"anyOf": [{"type": "integer", "minimum": 5}, {"type": "number"}]}
    assert schema._fast_form(overlapping) == overlapping
    untyped = {"anyOf": [{"$ref": "#/x"}, {"type": "array"}]}
    assert schema._fast_form(untyped) == untyped
    typed = {"anyOf": [{"type": "string"}, {"type": "object", "minProperties": 1}]}
    assert schema._fast_form(typed) == {"allOf": [{
        "if": {"type": "object"}, "then": {"type": "object", "minProperties": 1},
        "else": {"type": "string"}}]}


def test_a_process_that_fails_lets_the_others_go_on(
    shipped_repo: Path, events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("broken")

    monkeypatch.setattr(validate_mod, "validate_repository", broken)
    with pytest.raises(RuntimeError):
        _chunk(shipped_repo, ["rfia-0101"], events)
    assert events == ["abort"]  # the barrier is broken, not waited at for five minutes
