"""Rules for maturity standards: level numbering, criteria and evidence."""

from __future__ import annotations

from collections.abc import Iterator

from stdkit.diagnostics import Diagnostic
from stdkit.model import EvidenceType, Level
from stdkit.rules import Context, did_you_mean


def levels(ctx: Context) -> Iterator[Diagnostic]:
    if ctx.standard.kind != "maturity":
        return
    found = [obj for obj, _ in ctx.objects if isinstance(obj, Level)]
    by_number: dict[int, Level] = {}
    evidence = [k for k, v in ctx.index.items() if isinstance(v, EvidenceType)]
    for level in found:
        o = level.origin
        if level.level is not None:
            first = by_number.setdefault(level.level, level)
            if first is not level:
                yield ctx.find("MAT001", f"level {level.level} is already defined by {first.id}",
                               o, level.id, at=o.at("level"))
        if not level.criteria:
            yield ctx.find("MAT003", "the level has no criteria", o, level.id,
                           hint="add criteria: [{id, text, mandatory, evidence}]")
        for criterion in level.criteria:
            for target, where in criterion.evidence:
                obj = ctx.index.get(target)
                if not isinstance(obj, EvidenceType):
                    what = f"a {obj.KIND}" if obj else "nothing"
                    yield ctx.find("MAT004", f"evidence {target!r} names {what}", where,
                                   criterion.id, missing=obj is None,
                                   hint=did_you_mean(target, evidence))
    if by_number:
        top = max(by_number)
        gaps = [n for n in range(1, top + 1) if n not in by_number]
        if gaps:
            last = found[-1]
            yield ctx.find(
                "MAT002",
                f"levels are numbered up to {top} but {', '.join(map(str, gaps))}"
                f" {'is' if len(gaps) == 1 else 'are'} missing", last.origin, last.id,
                at=last.origin.at("level"), hint="number the levels 1, 2, 3 … without gaps")


CHECKS = (levels,)
