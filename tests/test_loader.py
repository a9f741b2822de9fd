"""Hostile and broken YAML, symlinks and odd ids: clear located findings, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stdkit import yamlio
from stdkit.loader import DiskSource, load_repository
from stdkit.validate import validate


def codes(text: str) -> list[tuple[str, int, int]]:
    doc = yamlio.parse(text, "f.yaml")
    return [(d.code, d.line, d.column) for d in doc.diagnostics]


def test_minimal_typing() -> None:
    doc = yamlio.parse(
        "a: OFF\nb: NO\nc: 2026-11-24\nd: 0x1A0\ne: 0777\nf: 42\ng: -7\nh: 0.1\ni: -3.2e2\n"
        "j: true\nk: True\nl: ~\nm:\nn: null\no: '42'\np: 1_000\nq: .5\nr: +1\n", "f.yaml")
    assert doc.diagnostics == []
    assert doc.data == {
        "a": "OFF", "b": "NO", "c": "2026-11-24", "d": "0x1A0", "e": "0777", "f": 42, "g": -7,
        "h": 0.1, "i": -320.0, "j": True, "k": "True", "l": None, "m": None, "n": None,
        "o": "42", "p": "1_000", "q": ".5", "r": "+1",
    }


def test_positions_of_keys_and_values() -> None:
    doc = yamlio.parse("top:\n  list:\n    - id: x\n      v: 3\n", "f.yaml")
    assert doc.at(("top", "list", 0, "v")) == (4, 10)
    assert doc.at(("top", "list", 0, "v"), key=True) == (4, 7)
    assert doc.at(("top", "missing", "deeper")) == (2, 3)  # nearest enclosing value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!python/object/apply:os.system ['ls']\n", [("YAML005", 1, 4)]),
        ("a: !!python/name:os.system\n", [("YAML005", 1, 4)]),
        ("a: !custom x\n", [("YAML005", 1, 4)]),
        ("a: &x 1\nb: *x\n", [("YAML002", 1, 4), ("YAML002", 2, 4)]),
        ("a: &a [*a]\n", [("YAML002", 1, 4), ("YAML002", 1, 8)]),
        ("a: {x: 1}\nb:\n  <<: {y: 1}\n", [("YAML002", 3, 3)]),
        ("a: 1\nb: 2\na: 3\n", [("YAML003", 3, 1)]),
        ("{1: a, 1.0: b, true: c}\n", [("YAML004", 1, 2), ("YAML004", 1, 8), ("YAML004", 1, 16)]),
        ("? [a, b]\n: c\n", [("YAML004", 1, 3)]),
        ("a: 1\n---\nb: 2\n", [("YAML006", 2, 1)]),
        ("a:\n\tb: 1\n", [("YAML001", 2, 1)]),
        ("a: " + "9" * 5000 + "\n", [("YAML007", 1, 4)]),
        ("a: 1e999\n", [("YAML007", 1, 4)]),
        ("a: [b\n", [("YAML001", 2, 1)]),
    ],
)
def test_rejections(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert codes(text) == expected


def test_alias_bomb_is_never_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    text = "\n".join(lines) + "\n"
    assert len(text) < 1024
    doc = yamlio.parse(text, "bomb.yaml")
    assert {d.code for d in doc.diagnostics} == {"YAML002"}
    # Every alias became a null: nine levels of 9× never multiply out.
    assert doc.data["a9"] == [None] * 9


def test_deep_nesting_is_bounded() -> None:
    doc = yamlio.parse("a: " + "[" * 2000 + "]" * 2000 + "\n", "deep.yaml")
    assert doc.data is None
    assert [d.code for d in doc.diagnostics] in (["YAML007"], ["YAML001"])
    block = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"
    doc = yamlio.parse(block, "deep.yaml")
    assert [d.code for d in doc.diagnostics] == ["YAML007"]


def test_bad_bytes() -> None:
    assert [d.code for d in yamlio.read_bytes(b"a: \xff\xfe\n", "f").diagnostics] == ["YAML001"]
    nul = yamlio.read_bytes(b"a: b\x00c\n", "f").diagnostics
    assert [(d.code, d.line, d.column) for d in nul] == [("YAML001", 1, 5)]
    assert yamlio.read_bytes(b"\xef\xbb\xbfa: 1\n", "f").data == {"a": 1}


def test_size_cap() -> None:
    doc = yamlio.read_bytes(b"a: " + b"x" * 2048 + b"\n", "big.yaml", max_bytes=1024)
    assert [d.code for d in doc.diagnostics] == ["YAML007"]
    assert doc.data is None


def _minimal(root: Path) -> Path:
    from stdkit.scaffold import new_standard

    new_standard(root, "interface", "demo", title_en="Demo", today="2026-11-24")
    return root / "standards" / "demo"


def test_symlinked_part_outside_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: scope\ntype: scope\ntext: TOP-SECRET-CONTENT\n", encoding="utf-8")
    root = tmp_path / "repo"
    folder = _minimal(root)
    (folder / "scope.yaml").unlink()
    os.symlink(secret, folder / "scope.yaml")
    report = validate(root)
    found = [(d.code, d.file) for d in report.diagnostics]
    assert ("FILE002", "standards/demo/scope.yaml") in found
    assert not any("TOP-SECRET" in d.message for d in report.diagnostics)
    assert "standards/demo/scope.yaml" not in [
        f for f, doc in report.repo.documents.items() if doc.ok
    ]


def test_symlinked_standard_folder_outside_is_refused(tmp_path: Path) -> None:
    outside = _minimal(tmp_path / "elsewhere")
    root = tmp_path / "repo"
    (root / "standards").mkdir(parents=True)
    os.symlink(outside, root / "standards" / "demo")
    report = validate(root)
    assert [(d.code, d.file) for d in report.diagnostics] == [("FILE002", "standards/demo")]
    assert report.repo.standards == {}


def test_symlink_inside_the_repository_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    folder = _minimal(root)
    (root / "shared").mkdir()
    (folder / "scope.yaml").rename(root / "shared" / "scope.yaml")
    os.symlink(root / "shared" / "scope.yaml", folder / "scope.yaml")
    assert validate(root).diagnostics == []


def test_unreadable_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    folder = _minimal(root)
    (folder / "scope.yaml").unlink()
    (folder / "scope.yaml").mkdir()  # listed, but not a readable file
    report = validate(root)
    assert "FILE001" in {d.code for d in report.diagnostics} or "STD002" in {
        d.code for d in report.diagnostics}


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/b", "scope\n", "x" * 81])
def test_part_ids_never_become_paths(tmp_path: Path, bad: str) -> None:
    root = tmp_path / "repo"
    folder = _minimal(root)
    (tmp_path / "x.yaml").write_text("id: x\ntype: clause\ntitle: LEAK\n", encoding="utf-8")
    meta = folder / "standard.yaml"
    text = meta.read_text(encoding="utf-8")
    quoted = bad.replace("\n", "\\n")
    meta.write_text(text.replace("  - general\n", f'  - general\n  - "{quoted}"\n'),
                    encoding="utf-8")
    report = validate(root)
    assert [d.code for d in report.diagnostics] == ["SCH001"]
    assert report.diagnostics[0].file == "standards/demo/standard.yaml"
    assert all("LEAK" not in str(doc.data) for doc in report.repo.documents.values())


def test_standard_folder_with_bad_name(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    folder = _minimal(root)
    folder.rename(root / "standards" / "Bad_Name")
    report = validate(root)
    assert [d.code for d in report.diagnostics] == ["STD001"]


def test_disk_source_escape_detection(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    os.symlink("/etc", tmp_path / "repo" / "etc")
    source = DiskSource(tmp_path / "repo")
    assert source.escapes("etc")
    assert source.escapes("etc/passwd")
    assert not source.escapes("missing-but-inside")


def test_repository_without_standards(tmp_path: Path) -> None:
    (tmp_path / "stdkit.yaml").write_text("languages: [en]\n", encoding="utf-8")
    repo = load_repository(tmp_path)
    assert repo.standards == {} and repo.diagnostics == []
