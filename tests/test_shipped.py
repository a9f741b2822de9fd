"""The alliance's own drafts in standards/ always validate cleanly: errors and warnings alike."""

from __future__ import annotations

from stdkit.loader import load_repository
from stdkit.validate import validate_repository

from .conftest import REPO_ROOT


def test_shipped_standards_are_clean() -> None:
    report = validate_repository(load_repository(REPO_ROOT))
    assert [f"{d.file}:{d.line}: {d.code} {d.message}" for d in report.diagnostics] == []
    assert set(report.repo.standards) >= {"rfia-0101", "rfia-0201", "rfia-0301"}


def test_shipped_standards_show_every_feature() -> None:
    from stdkit.model import Case, Level, Message, Provision, Signal

    repo = load_repository(REPO_ROOT)
    kinds = {s.id: s.kind for s in repo.standards.values()}
    assert kinds["rfia-0101"] == "interface"
    assert kinds["rfia-0201"] == "verification"
    assert kinds["rfia-0301"] == "maturity"

    def objects(sid: str, cls: type) -> list[object]:
        return [o for o, _ in repo.standards[sid].objects() if isinstance(o, cls)]

    assert len(objects("rfia-0101", Message)) >= 4
    assert len(objects("rfia-0101", Signal)) >= 20
    requirements = [p for p in objects("rfia-0101", Provision)
                    if isinstance(p, Provision) and p.kind == "requirement" and p.verification]
    assert len(requirements) >= 10
    cases = [c for c in objects("rfia-0201", Case) if isinstance(c, Case)]
    assert len(cases) >= 12
    assert any(t.startswith("rfia-0101:") for c in cases for t, _ in c.verifies)
    levels = sorted(lv.level for lv in objects("rfia-0301", Level) if isinstance(lv, Level))
    assert levels == list(range(1, 10))
    for standard in repo.standards.values():
        assert standard.languages == ("zh", "en")
