"""Rules for verification standards: cases, what they verify, and coverage of requirements."""

from __future__ import annotations

from collections.abc import Iterator

from stdkit.diagnostics import Diagnostic
from stdkit.model import Case, Clause, Environment, Provision
from stdkit.rules import Context, did_you_mean


def under_test(ctx: Context) -> list[Provision]:
    """Provisions in clauses marked ``under_test: true`` (and their subclauses)."""
    out: list[Provision] = []

    def walk(clause: Clause, marked: bool) -> None:
        marked = marked or clause.under_test
        if marked:
            out.extend(clause.provisions)
        for child in clause.clauses:
            walk(child, marked)

    for part in ctx.standard.parts:
        walk(part, False)
    return out


def cases(ctx: Context) -> Iterator[Diagnostic]:
    if ctx.standard.kind != "verification":
        return
    verified: set[str] = set()
    provisions = [k for k, v in ctx.index.items() if isinstance(v, Provision)]
    for obj, _ in ctx.objects:
        if not isinstance(obj, Case):
            continue
        c, o = obj, obj.origin
        for target, where in c.verifies:
            std, found = ctx.lookup(target)
            if std is None:
                std_id = target.rpartition(":")[0]
                yield ctx.find("VER002", f"verifies names the unknown standard {std_id!r}",
                               where, c.id, hint=did_you_mean(std_id, ctx.repo.standards))
            elif found is None:
                yield ctx.find("VER002", f"verifies names {target!r}, which does not exist",
                               where, c.id, missing=True, hint=did_you_mean(target, provisions))
            elif not isinstance(found, Provision):
                yield ctx.find("VER003", f"verifies names the {found.KIND} {target!r}; a case"
                               " verifies provisions", where, c.id,
                               hint="name the provisions of that clause instead"
                               if found.KIND == "clause" else None)
            elif std is ctx.standard:
                verified.add(found.id)
        if not c.steps:
            yield ctx.find("VER004", "the case has no steps", o, c.id,
                           hint="add steps: [{action: …, expected: …}]")
        if not c.pass_criteria:
            yield ctx.find("VER005", "the case has no pass criteria", o, c.id,
                           hint="add pass_criteria: [ … ]")
        if c.environment is not None:
            env = ctx.index.get(c.environment)
            if not isinstance(env, Environment):
                what = f"a {env.KIND}" if env else "nothing"
                yield ctx.find("VER006", f"environment {c.environment!r} names {what}", o, c.id,
                               at=o.at("environment"), missing=env is None,
                               hint=did_you_mean(c.environment, [
                                   k for k, v in ctx.index.items() if isinstance(v, Environment)]))
    # The provisions under_test() gives, from the facts of each part.
    for part in ctx.parts:
        for index, provision_id in part.under_test:
            if provision_id in verified:
                continue
            provision = part.object(index)
            yield ctx.find("VER001", "this provision is under test but no case verifies it",
                           provision.origin, provision.id, missing=True,
                           hint=f"add {provision.id} to the verifies of a case")


CHECKS = (cases,)
