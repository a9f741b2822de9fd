"""The command line: resolves paths, calls the core, prints, and sets the exit code.

The only module that imports typer (and click). Every StdkitError is caught in one place and
printed as one line; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from stdkit import __version__
from stdkit.diagnostics import (
    Severity,
    format_github,
    format_json,
    format_text,
)
from stdkit.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, StdkitError, UsageError

app = typer.Typer(
    name="stdkit",
    help="Draft formal standards (GB/T 1.1, ISO/IEC Directives Part 2) as versioned YAML:"
    " validate, diff, release and render.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _guard(fn: Callable[..., None]) -> Callable[..., None]:
    """Turn StdkitError (and stray OSError) into one line on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except StdkitError as exc:
            if _state["debug"]:
                raise
            typer.echo(f"stdkit: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            if _state["debug"]:
                raise
            where = f" {exc.filename}" if exc.filename else ""
            typer.echo(f"stdkit: cannot access{where}: {exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper


def _use_colour(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _paint(text: str, severity: Severity | None) -> str:
    if severity is None:
        return typer.style(text, fg="green", bold=True)
    return typer.style(text, fg=_COLOURS[severity], bold=True)


def _root(start: Path | None = None) -> Path:
    from stdkit.loader import find_root

    return find_root(start or Path.cwd())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stdkit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    _state["debug"] = debug


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"
    junit = "junit"


@app.command()
@_guard
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Repository, standards/ folder, standard folders or files;"
                       " default: the whole repository.", show_default=False),
    ] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.text,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")
    ] = False,
) -> None:
    """Check every standard against the schemas and rules; report every problem in one run.

    Exit 0 when there are no errors (warnings allowed unless --strict), 1 when there are,
    2 when the input cannot be read or the command line is wrong.
    """
    from stdkit.loader import load_repository
    from stdkit.validate import select, validate_repository

    targets = paths or [Path.cwd()]
    for target in targets:
        if not target.exists():
            raise UsageError(f"{target} does not exist")
    root = _root(targets[0])
    repo = load_repository(root)
    standards, files = select(repo, targets)
    report = validate_repository(repo, standards, files=files)
    out = _render_report(report, format)
    sys.stdout.write(out)
    raise typer.Exit(EXIT_FINDINGS if report.failed(strict=strict) else EXIT_OK)


def _render_report(report: Any, format: ReportFormat) -> str:
    from stdkit import diagnostics as d

    if format is ReportFormat.json:
        return format_json(report.diagnostics, report.summary)
    if format is ReportFormat.github:
        return format_github(report.diagnostics, report.summary)
    if format is ReportFormat.sarif:
        return d.format_sarif(report.diagnostics, report.summary)
    if format is ReportFormat.junit:
        return d.format_junit(report.diagnostics, report.summary)
    return format_text(report.diagnostics, report.summary,
                       style=_paint if _use_colour() else None)


class Kind(StrEnum):
    interface = "interface"
    verification = "verification"
    maturity = "maturity"


@app.command()
@_guard
def new(
    kind: Annotated[Kind, typer.Argument(help="interface, verification or maturity.")],
    standard_id: Annotated[str, typer.Argument(metavar="ID", help="Standard id, e.g. rfia-0101.")],
    title_en: Annotated[str, typer.Option("--title-en", help="English title.")],
    title_zh: Annotated[
        str | None, typer.Option("--title-zh", help="Chinese title; makes the draft bilingual.")
    ] = None,
    designation: Annotated[
        str | None,
        typer.Option("--designation", help="e.g. 'T/RFIA 0101'; default from the id and the"
                     " designation_prefix of stdkit.yaml."),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Draft date YYYY-MM-DD; default today.")
    ] = None,
) -> None:
    """Start a new draft with the GB/T 1.1 skeleton for its kind; never overwrites."""
    import re

    from stdkit.loader import read_settings
    from stdkit.scaffold import new_standard

    if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise UsageError(f"--date {date!r} is not YYYY-MM-DD")
    root = _root()
    settings, _, _ = read_settings(root)
    written = new_standard(
        root, kind.value, standard_id, title_en=title_en, title_zh=title_zh,
        designation=designation, settings=settings, today=date,
    )
    for name in written.files:
        typer.echo(f"wrote {name}")
    typer.echo(f"next: edit the files, then run 'stdkit validate standards/{standard_id}'")


@app.command()
@_guard
def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the new repository; default: here.")
    ] = Path(),
    prefix: Annotated[
        str, typer.Option("--prefix", help="Designation prefix, e.g. 'T/RFIA'.")
    ] = "T/XXX",
) -> None:
    """Make a new standards repository: stdkit.yaml, standards/, .gitignore and a CI workflow."""
    from stdkit.scaffold import init_repository

    written = init_repository(directory.resolve(), prefix=prefix)
    for name in written.files:
        typer.echo(f"wrote {name}")
    typer.echo("next: stdkit new interface ID --title-en '…' --title-zh '…'")


class RulesFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
@_guard
def rules(
    format: Annotated[RulesFormat, typer.Option("--format", "-f")] = RulesFormat.text,
) -> None:
    """List every rule code with its severity, scope and why it exists."""
    from stdkit.rules import catalogue

    table = list(catalogue().values())
    if format is RulesFormat.json:
        typer.echo(json.dumps(
            [{"code": r.code, "severity": r.severity.value, "scope": r.scope,
              "summary": r.summary} for r in table], ensure_ascii=False, indent=2))
        return
    for r in table:
        typer.echo(f"{r.code:<9} {r.severity.value:<8} {r.scope:<13} {r.summary}")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
