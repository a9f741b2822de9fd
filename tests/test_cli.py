"""In-process CLI tests: init, new, validate, rules; exit codes and never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stdkit.rules import catalogue


def test_init_new_validate(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("init", str(tmp_path / "repo"))
    assert result.exit_code == 0, result.output
    root = tmp_path / "repo"
    assert (root / "stdkit.yaml").is_file()
    assert (root / ".github" / "workflows" / "stdkit.yml").is_file()
    assert ".stdkit-cache/" in (root / ".gitignore").read_text(encoding="utf-8")
    result = invoke("new", "interface", "demo", "--title-en", "Demo", cwd=root)
    assert result.exit_code == 0, result.output
    result = invoke("validate", cwd=root)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 errors, 0 warnings in 8 files (1 standard)\n")


@pytest.mark.parametrize("kind", ["interface", "verification", "maturity"])
@pytest.mark.parametrize("bilingual", [True, False])
def test_new_validates_cleanly(invoke, tmp_path: Path, kind: str, bilingual: bool) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "standards").mkdir()
    args = ["new", kind, f"t-{kind}", "--title-en", "Battery interface", "--date", "2026-11-24"]
    if bilingual:
        args += ["--title-zh", "电池接口"]
    assert invoke(*args, cwd=tmp_path).exit_code == 0
    meta = (tmp_path / "standards" / f"t-{kind}" / "standard.yaml").read_text(encoding="utf-8")
    assert ("- zh\n" in meta) == bilingual
    result = invoke("validate", "--strict", cwd=tmp_path)
    assert result.exit_code == 0, result.stdout
    assert "0 errors, 0 warnings" in result.stdout


def test_new_never_overwrites(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "standards").mkdir()
    assert invoke("new", "maturity", "demo", "--title-en", "One", cwd=tmp_path).exit_code == 0
    scope = tmp_path / "standards" / "demo" / "scope.yaml"
    scope.write_text("edited by hand\n", encoding="utf-8")
    before = sorted(p.name for p in (tmp_path / "standards" / "demo").iterdir())
    result = invoke("new", "interface", "demo", "--title-en", "Two", cwd=tmp_path)
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert scope.read_text(encoding="utf-8") == "edited by hand\n"
    assert sorted(p.name for p in (tmp_path / "standards" / "demo").iterdir()) == before
    assert not [p for p in (tmp_path / "standards").iterdir() if p.name.startswith(".demo")]


def test_init_never_overwrites(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".gitignore").write_text("mine\n", encoding="utf-8")
    result = invoke("init", str(tmp_path))
    assert result.exit_code == 2
    assert ".gitignore already exists" in result.stderr
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "stdkit.yaml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "interface", "Bad_Id", "--title-en", "X"], "not a valid standard id"),
        (["new", "interface", "../escape", "--title-en", "X"], "not a valid standard id"),
        (["new", "interface", "ok-id", "--title-en", " "], "--title-en must not be empty"),
        (["new", "interface", "ok-id", "--title-en", "X", "--date", "24.11.2026"], "YYYY-MM-DD"),
        (["validate", "no/such/path"], "does not exist"),
    ],
)
def test_usage_errors(invoke, tmp_path: Path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "standards").mkdir()
    result = invoke(*args, cwd=tmp_path)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in (tmp_path / "standards").iterdir()) == []


def test_bad_kind_is_a_usage_error(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("new", "widget", "x-y", "--title-en", "X", cwd=tmp_path)
    assert result.exit_code == 2


def test_outside_a_repository(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("validate", cwd=tmp_path)
    assert result.exit_code == 2
    assert "not inside a standards repository" in result.stderr


def test_validate_one_standard(invoke, shipped_repo: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("validate", "standards/rfia-0201", "--format", "json", cwd=shipped_repo)
    doc = json.loads(result.stdout)
    assert result.exit_code == 0
    assert doc["summary"]["standards"] == 1
    missing = invoke("validate", "standards/rfia-9999", cwd=shipped_repo)
    assert missing.exit_code == 2


def test_strict_fails_on_warnings(invoke, shipped_repo: Path) -> None:  # type: ignore[no-untyped-def]
    cases = shipped_repo / "standards" / "rfia-0201" / "cases.yaml"
    text = cases.read_text(encoding="utf-8")
    # Take away the only case verifying one requirement: a warning (VER001), not an error.
    removed = text.replace("verifies: [REQ-ACC-HV-LOSS, ", "verifies: [", 1)
    assert removed != text
    cases.write_text(removed, encoding="utf-8")
    plain = invoke("validate", cwd=shipped_repo)
    assert plain.exit_code == 0, plain.stdout
    assert "warning VER001 [REQ-ACC-HV-LOSS]" in plain.stdout
    assert invoke("validate", "--strict", cwd=shipped_repo).exit_code == 1


def test_github_format(invoke, shipped_repo: Path) -> None:  # type: ignore[no-untyped-def]
    scope = shipped_repo / "standards" / "rfia-0301" / "scope.yaml"
    scope.write_text(scope.read_text(encoding="utf-8").replace("type: scope", "typ: scope"),
                     encoding="utf-8")
    result = invoke("validate", "--format", "github", cwd=shipped_repo)
    assert result.exit_code == 1
    line = next(x for x in result.stdout.splitlines() if "SCH002" in x)
    assert line.startswith("::error file=standards/rfia-0301/scope.yaml,line=")
    assert "title=SCH002 [scope]::unknown key 'typ' (hint: did you mean 'type'?)" in line


def test_text_output_is_plain_without_a_terminal(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "standards" / "x-y").mkdir(parents=True)
    (tmp_path / "standards" / "x-y" / "standard.yaml").write_text("id: [\n", encoding="utf-8")
    result = invoke("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert "\x1b[" not in result.stdout
    assert result.stdout.startswith("standards/x-y/standard.yaml:2:1: error YAML001 ")


def test_rules_lists_every_code(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("rules", "--format", "json")
    listed = json.loads(result.stdout)
    assert [r["code"] for r in listed] == list(catalogue())
    assert all(r["severity"] in ("error", "warning", "info") and r["summary"] for r in listed)
    text = invoke("rules").stdout
    assert "IF002" in text and "min is not greater than its max" in text


def test_version_and_help(invoke) -> None:  # type: ignore[no-untyped-def]
    assert invoke("--version").stdout.startswith("stdkit ")
    help_text = invoke("--help").stdout
    for command in ("validate", "new", "init", "rules"):
        assert command in help_text


def test_validate_narrows_to_a_file(invoke, shipped_repo: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("scope.yaml", "terms.yaml"):
        part = shipped_repo / "standards" / "rfia-0301" / name
        part.write_text(part.read_text(encoding="utf-8") + "bogus: 1\n", encoding="utf-8")
    whole = invoke("validate", "standards/rfia-0301", cwd=shipped_repo)
    assert whole.stdout.count("SCH002") == 2
    one = invoke("validate", "standards/rfia-0301/scope.yaml", cwd=shipped_repo)
    assert one.exit_code == 1
    assert one.stdout.count("SCH002") == 1
    assert "standards/rfia-0301/scope.yaml:" in one.stdout
    assert one.stdout.endswith("1 error, 0 warnings in 1 file (1 standard)\n")
    other = invoke("validate", "standards/rfia-0101", cwd=shipped_repo)
    assert other.exit_code == 0


def test_written_files_are_readable(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert invoke("init", str(tmp_path)).exit_code == 0
    assert invoke("new", "interface", "demo", "--title-en", "Demo", cwd=tmp_path).exit_code == 0
    for path in [tmp_path / "stdkit.yaml", *(tmp_path / "standards" / "demo").iterdir()]:
        assert path.stat().st_mode & 0o044 == 0o044, path
