"""Shared fixtures: throw-away repositories and an in-process CLI runner."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stdkit.cli import app

REPO_ROOT = Path(__file__).resolve().parent.parent
STANDARDS = REPO_ROOT / "standards"


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the cache signing key the tests create out of the user's home."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Run ``stdkit ARGS`` in-process inside ``cwd``; returns the click Result."""

    def run(*args: str, cwd: Path | None = None) -> object:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setenv("NO_COLOR", "1")
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def write_tree(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write ``{relative path: text}`` under a fresh folder (texts are dedented)."""

    def write(files: dict[str, str], root: Path | None = None) -> Path:
        base = root or tmp_path / "repo"
        for name, text in files.items():
            path = base / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return base

    return write


@pytest.fixture
def shipped_repo(tmp_path: Path) -> Path:
    """A copy of the repository's own standards/ (so tests can modify it freely)."""
    root = tmp_path / "shipped"
    shutil.copytree(STANDARDS, root / "standards")
    return root
