"""The README's promises stay true: CI runs its test command; documented commands exist."""

from __future__ import annotations

import re

from .conftest import REPO_ROOT


def _quick_start() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.S)


def test_quick_start_has_two_commands() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    assert "stdkit validate" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _quick_start()[1]
    # The virtual environment is made by .ci/run itself; what follows must be identical.
    tail = test_command.split(". .venv/bin/activate && ", 1)[1]
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tail in ci


def test_every_documented_command_exists(invoke) -> None:  # type: ignore[no-untyped-def]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `stdkit (\w+)", table, flags=re.M))
    listed = invoke("--help").stdout
    for command in documented:
        assert re.search(rf"\b{command}\b", listed), command
