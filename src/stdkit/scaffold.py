"""``stdkit init`` and ``stdkit new``: new repositories and new drafts, never overwriting."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date as Date
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from stdkit import yamlio
from stdkit.errors import RefusedError, UsageError
from stdkit.fsio import CACHE_DIR, publish_dir, repository_lock, write_atomic
from stdkit.loader import STANDARD_ID, STANDARDS_DIR, Settings, inside
from stdkit.model import KINDS

SETTINGS_TEXT = """\
# stdkit settings for this repository (all optional).
# languages: the languages every text carries unless a standard says otherwise.
languages: [zh, en]
# designation_prefix: used by `stdkit new` to propose designations, e.g. T/RFIA 0101.
designation_prefix: "{prefix}"
# rules: change a rule's severity (error, warning, info) or turn it off; `stdkit rules` lists them.
rules: {{}}
"""

GITIGNORE_TEXT = """\
# stdkit: cache and rendered site
.stdkit-cache/
site/
"""

WORKFLOW_TEXT = """\
# Validate every contribution and publish the rendered standards as a build artifact.
name: stdkit
on: [push, pull_request]
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install stdkit
      - run: stdkit validate --format github
"""


@dataclass(frozen=True, slots=True)
class Written:
    """What a scaffold command wrote, relative to the repository root."""

    root: Path
    files: tuple[str, ...]


def init_repository(root: Path, *, prefix: str = "T/XXX") -> Written:
    """Make ``root`` a standards repository; refuses (writing nothing) if any file exists."""
    files = {
        "stdkit.yaml": SETTINGS_TEXT.format(prefix=prefix.replace('"', "")),
        ".gitignore": GITIGNORE_TEXT,
        ".github/workflows/stdkit.yml": WORKFLOW_TEXT,
        f"{STANDARDS_DIR}/.gitkeep": "",
    }
    existing = [name for name in files if (root / name).exists()]
    if existing:
        raise RefusedError(
            f"refused: {', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}"
            f" in {root}; nothing was written"
        )
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        write_atomic(root / name, text, overwrite=False)
        written.append(name)
    return Written(root, tuple(written))


def _templates(kind: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for name in ("common", kind):
        text = resources.files("stdkit").joinpath("data", "templates", f"{name}.yaml")
        doc = yamlio.parse(text.read_text("utf-8"), f"templates/{name}.yaml")
        if not doc.ok or doc.diagnostics:  # pragma: no cover - a broken installation
            raise UsageError(f"the bundled template {name}.yaml is broken")
        parts.extend(doc.data)
    return parts


def _fill(value: Any, fields: dict[str, str], languages: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return Template(value).safe_substitute(fields)
    if isinstance(value, list):
        return [_fill(v, fields, languages) for v in value]
    if isinstance(value, dict):
        if value and set(value) <= {"zh", "en"} and all(isinstance(v, str) for v in value.values()):
            if len(languages) == 1:
                return _fill(value.get(languages[0], next(iter(value.values()))), fields, languages)
            return {lang: _fill(value.get(lang, ""), fields, languages) for lang in languages}
        return {k: _fill(v, fields, languages) for k, v in value.items()}
    return value


def propose_designation(standard_id: str, settings: Settings) -> str:
    """``T/RFIA 0101`` for ``rfia-0101`` (the prefix from stdkit.yaml when it has one)."""
    head, _, number = standard_id.rpartition("-")
    if not head or not re.fullmatch(r"[0-9.]+", number):
        head, number = standard_id, ""
    prefix = settings.designation_prefix or f"T/{head.upper()}"
    return f"{prefix} {number}".strip()


def new_standard(
    root: Path, kind: str, standard_id: str, *, title_en: str, title_zh: str | None = None,
    designation: str | None = None, settings: Settings | None = None, today: str | None = None,
) -> Written:
    """Write the GB/T 1.1 skeleton of a new draft; refuses if the standard already exists."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if not STANDARD_ID.fullmatch(standard_id):
        raise UsageError(
            f"{standard_id!r} is not a valid standard id: 2–64 lower-case letters, digits and"
            " '-', starting with a letter (e.g. rfia-0101)"
        )
    if not title_en.strip():
        raise UsageError("--title-en must not be empty")
    settings = settings or Settings()
    base = root / STANDARDS_DIR
    target = base / standard_id
    if target.exists() or target.is_symlink():
        raise RefusedError(f"refused: {STANDARDS_DIR}/{standard_id} already exists; nothing"
                           " was written")
    if base.exists() and not inside(root, base):
        raise RefusedError(f"refused: {STANDARDS_DIR}/ leads outside the repository")
    languages: tuple[str, ...] = ("zh", "en") if title_zh else ("en",)
    day = today or Date.today().isoformat()
    fields = {
        "title_en": title_en.strip(),
        "title_en_lower": title_en.strip()[:1].lower() + title_en.strip()[1:],
        "title_zh": (title_zh or "").strip(),
        "id": standard_id,
    }
    parts = [_fill(p, fields, languages) for p in _templates(kind)]
    title: Any = {"zh": fields["title_zh"], "en": fields["title_en"]} if title_zh \
        else fields["title_en"]
    meta = {
        "id": standard_id,
        "designation": designation or propose_designation(standard_id, settings),
        "kind": kind,
        "title": title,
        "languages": list(languages),
        "stage": "working-draft",
        "revision": 1,
        "edition": 1,
        "date": day,
        "parts": [p["id"] for p in parts],
    }
    files = {"standard.yaml": meta} | {f"{p['id']}.yaml": p for p in parts}
    with repository_lock(root):
        base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{standard_id}.", dir=base))
        try:
            for name, data in files.items():
                write_atomic(staging / name, yamlio.dump(data))
            staging.chmod(0o755)
            publish_dir(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Written(root, tuple(f"{STANDARDS_DIR}/{standard_id}/{n}" for n in files))


__all__ = ["CACHE_DIR", "Written", "init_repository", "new_standard", "propose_designation"]
