"""The built wheel, installed into a fresh environment, works outside the repository.

This is the one subprocess test: it covers the installed entry point and proves that the
schemas, the unit catalogue and the templates travel inside the wheel. Dependencies are taken
from the running environment (a .pth file) so the test needs no network.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, STANDARDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "stdkit"
    # Build from a copy: the build must not depend on (or litter) the working tree.
    shutil.copytree(REPO_ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "site", ".stdkit-cache", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        check=True,
    )
    return next(out.glob("stdkit-*.whl"))


def test_wheel_carries_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "stdkit/schemas/part.schema.json", "stdkit/schemas/standard.schema.json",
        "stdkit/data/units.yaml", "stdkit/data/rules.yaml",
        "stdkit/data/templates/common.yaml", "stdkit/data/templates/interface.yaml",
        "stdkit/data/stages.yaml", "stdkit/data/style.css",
        "stdkit/data/lexicon/verbal_forms.yaml", "stdkit/data/lexicon/not_provision_words.yaml",
        "stdkit/py.typed",
    ):
        assert needed in names


def test_installed_stdkit_works_anywhere(wheel: Path, tmp_path: Path) -> None:
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    deps = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    (Path(purelib) / "zz_test_deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    stdkit = env / "bin" / "stdkit"

    work = tmp_path / "elsewhere"
    shutil.copytree(STANDARDS, work / "standards")
    run = subprocess.run([str(stdkit), "validate", "--strict"], cwd=work, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 errors, 0 warnings" in run.stdout
    # The module comes from the wheel, not from the source tree.
    where = subprocess.run([str(python), "-c", "import stdkit; print(stdkit.__file__)"],
                           capture_output=True, text=True, cwd=work).stdout
    assert str(env) in where

    fresh = tmp_path / "fresh"
    assert subprocess.run([str(stdkit), "init", str(fresh)], capture_output=True).returncode == 0
    made = subprocess.run([str(stdkit), "new", "verification", "demo", "--title-en", "Demo",
                           "--title-zh", "演示"], cwd=fresh, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    checked = subprocess.run([str(stdkit), "validate"], cwd=fresh, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    broken = subprocess.run([str(stdkit), "validate", "nowhere"], cwd=fresh, capture_output=True,
                            text=True)
    assert broken.returncode == 2
    assert broken.stderr.startswith("stdkit: ") and "Traceback" not in broken.stderr
