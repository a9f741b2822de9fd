"""Concurrent writers (real processes): nothing is lost, nothing is left half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stdkit.fsio import repository_lock

STDKIT = shutil.which("stdkit", path=str(Path(sys.executable).parent)) or shutil.which("stdkit")

pytestmark = pytest.mark.skipif(STDKIT is None, reason="the stdkit entry point is not installed")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "XDG_CACHE_HOME": str(tmp_path / "xdg")}


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    subprocess.run([STDKIT, "init", str(root), "--prefix", "T/RFIA"], check=True,
                   capture_output=True, env=_env(tmp_path))
    return root


def _start(root: Path, tmp_path: Path, standard_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [STDKIT, "new", "interface", standard_id, "--title-en", "Concurrent interface",
         "--title-zh", "并发接口", "--date", "2026-11-24"],
        cwd=root, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def _leftovers(root: Path) -> list[str]:
    """Temporary files or staging folders a writer left behind."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".git/", ".stdkit-cache/")) or rel == ".stdkit-cache":
            continue
        if path.name.endswith(".tmp") or (path.name.startswith(".") and path.name not in (
                ".gitignore", ".gitkeep", ".github")):
            found.append(rel)
    return found


@pytest.mark.parametrize("held", [False, True], ids=["free", "lock-held"])
def test_four_writers_of_one_id_lose_nothing(tmp_path: Path, held: bool) -> None:
    root = _repo(tmp_path)
    if held:
        # Hold the repository lock while the four start, so that all of them pass the early
        # "already exists?" look and then meet in the locked, atomic publication.
        with repository_lock(root):
            procs = [_start(root, tmp_path, "rfia-0500") for _ in range(4)]
            time.sleep(2.0)
            assert all(p.poll() is None for p in procs), "a writer did not wait for the lock"
    else:
        procs = [_start(root, tmp_path, "rfia-0500") for _ in range(4)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = [code for code, _out, _err in results]
    assert codes.count(0) == 1, results
    for code, out, err in results:
        if code != 0:
            assert code == 2
            assert "already exists" in err or "busy" in err, err
            assert "Traceback" not in err
            assert out == ""
    assert _leftovers(root) == []
    folder = root / "standards" / "rfia-0500"
    files = sorted(p.name for p in folder.iterdir())
    assert "standard.yaml" in files and len(files) > 5
    # What the one writer wrote is whole: it validates cleanly.
    check = subprocess.run([STDKIT, "validate", "--no-cache"], cwd=root, env=_env(tmp_path),
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_four_writers_of_different_ids_all_succeed(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    ids = [f"rfia-05{i:02d}" for i in range(4)]
    procs = [_start(root, tmp_path, sid) for sid in ids]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _o, _e in results] == [0, 0, 0, 0], results
    assert sorted(p.name for p in (root / "standards").iterdir() if p.is_dir()) == ids
    assert _leftovers(root) == []
    check = subprocess.run([STDKIT, "validate", "--no-cache"], cwd=root, env=_env(tmp_path),
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "(4 standards)" in check.stdout


def test_concurrent_validations_share_the_cache(tmp_path: Path) -> None:
    """Validations writing the cache at the same time all report the same, and leave no debris."""
    root = _repo(tmp_path)
    subprocess.run([STDKIT, "new", "interface", "rfia-0600", "--title-en", "Shared cache",
                    "--date", "2026-11-24"], cwd=root, env=_env(tmp_path), check=True,
                   capture_output=True)
    procs = [subprocess.Popen([STDKIT, "validate", "--format", "json"], cwd=root,
                              env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len({out for out, _err in outs}) == 1
    assert not list((root / ".stdkit-cache").rglob("*.tmp"))
