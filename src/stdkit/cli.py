"""The command line: resolves paths, calls the core, prints, and sets the exit code.

The only module that imports typer (and click). Every StdkitError is caught in one place and
printed as one line; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stdkit import __version__
from stdkit.diagnostics import (
    Severity,
    format_github,
    format_json,
    format_text,
)
from stdkit.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, StdkitError, UsageError

if TYPE_CHECKING:
    from stdkit.loader import Repository
    from stdkit.model import Standard

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
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write .stdkit-cache/;"
                           " check everything afresh.")
    ] = False,
) -> None:
    """Check every standard against the schemas and rules; report every problem in one run.

    Exit 0 when there are no errors (warnings allowed unless --strict), 1 when there are,
    2 when the input cannot be read or the command line is wrong. Results are cached in
    .stdkit-cache/ by file content, so an unchanged repository is checked at once.
    """
    from stdkit.validate import validate_paths

    targets = paths or [Path.cwd()]
    for target in targets:
        if not target.exists():
            raise UsageError(f"{target} does not exist")
    root = _root(targets[0])
    report = validate_paths(root, targets, use_cache=not no_cache)
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


@app.command()
@_guard
def release(
    standard_id: Annotated[str, typer.Argument(metavar="ID", help="The standard, e.g. rfia-0101.")],
    stage: Annotated[
        str | None,
        typer.Option("--stage", help="Move to this later stage (revision restarts at 1)."),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Date YYYY-MM-DD written to standard.yaml;"
                                 " default today.")
    ] = None,
) -> None:
    """Record a baseline: tag the draft, raising its revision (or stage) first where needed.

    Refuses with uncommitted changes in the standard's folder, with validation errors (and
    warnings from draft-for-review on), or when the stage would go backwards.
    """
    from stdkit.baseline import ReleaseRefused
    from stdkit.baseline import release as record
    from stdkit.diagnostics import Summary

    root = _root()
    try:
        done = record(root, standard_id, stage=stage, today=date)
    except ReleaseRefused as exc:
        summary = Summary.of(exc.diagnostics, files=len({d.file for d in exc.diagnostics}),
                             standards=1)
        sys.stderr.write(format_text(exc.diagnostics, summary,
                                     style=_paint if _use_colour(sys.stderr) else None))
        raise
    if done.committed:
        typer.echo(f"committed {done.commit[:12]}: standards/{done.standard}/standard.yaml"
                   f" now at {done.stage} revision {done.revision}, dated {done.date}")
    typer.echo(f"tagged {done.tag} on {done.commit[:12]}"
               f" (name it {done.standard}@{done.stage}.{done.revision})")
    if done.previous:
        typer.echo(f"next: stdkit diff {done.previous}"
                   f" {done.standard}@{done.stage}.{done.revision}")


class HistoryFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
@_guard
def history(
    standard_id: Annotated[str, typer.Argument(metavar="ID", help="The standard, e.g. rfia-0101.")],
    format: Annotated[HistoryFormat, typer.Option("--format", "-f")] = HistoryFormat.text,
) -> None:
    """List the baselines of a standard, oldest first, and the commits since the last one."""
    from stdkit.baseline import history as read_history

    found = read_history(_root(), standard_id)
    if format is HistoryFormat.json:
        typer.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
        return
    if not found.baselines:
        typer.echo(f"{standard_id}: no baselines yet; record one with 'stdkit release"
                   f" {standard_id}'")
    for b in found.baselines:
        typer.echo(f"{b.tag:<40} {b.date}  {b.commit[:12]}  {b.short}")
    last = found.baselines[-1].tag if found.baselines else "the start"
    if found.since:
        typer.echo(f"{len(found.since)} commit{'s' if len(found.since) != 1 else ''} since {last}:")
        for c in found.since:
            typer.echo(f"  {c.commit[:12]} {c.date} {c.author}: {c.subject}")
    elif found.baselines:
        typer.echo(f"no commits since {last}")


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    rst = "rst"
    html = "html"


_DIFF_COLOURS = {
    "added": "green", "insert": "green", "removed": "red", "delete": "red",
    "modified": "yellow", "moved": "cyan", "header": None, "dim": "bright_black",
}


def _diff_paint(text: str, role: str) -> str:
    colour = _DIFF_COLOURS.get(role)
    return typer.style(text, fg=colour, bold=role == "header",
                       underline=role == "insert", strikethrough=role == "delete")


# Unknown options become arguments, so that a revision such as '--output=x' or '-p' reaches the
# revision check and is refused in one line rather than with a usage screen.
@app.command(context_settings={"ignore_unknown_options": True})
@_guard
def diff(
    old: Annotated[
        str | None, typer.Argument(help="Revision or baseline (e.g. rfia-0101@working-draft.1);"
                                   " default HEAD.", show_default=False)
    ] = None,
    new: Annotated[
        str | None, typer.Argument(help="Revision or baseline; default: the working tree.",
                                   show_default=False)
    ] = None,
    standard: Annotated[
        str | None, typer.Option("--standard", "-s", help="Only this standard.")
    ] = None,
    format: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.text,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write .stdkit-cache/.")
    ] = False,
) -> None:
    """Clause-level changes between two revisions, baselines or the working tree.

    Objects are matched by id: added, removed, modified (with the fields and word-level text
    changes) and moved, each marked normative or editorial. rst and html give a redline.
    """
    from stdkit import diff as changes
    from stdkit.baseline import compare

    # Text and JSON need only the changes: the models are let go standard by standard.
    redlined = format in (DiffFormat.rst, DiffFormat.html)
    found = compare(_root(), old, new, standard=standard, models=redlined,
                    use_cache=not no_cache)
    for label, d in found.problems[:5]:
        typer.echo(f"stdkit: warning: {label}: {d.file}: {d.message} (left out of the diff)",
                   err=True)
    if format is DiffFormat.json:
        text = changes.format_json(found.result)
    elif format is DiffFormat.text:
        colour = out is None and _use_colour()
        text = changes.format_text(found.result, _diff_paint if colour else None)
    else:
        from stdkit import redline

        text = (redline.redline_rst if format is DiffFormat.rst else redline.redline_html)(
            found.result, found.old, found.new)
    if out is None:
        sys.stdout.write(text)
        return
    from stdkit.fsio import write_atomic

    write_atomic(out, text)
    typer.echo(f"wrote {out}", err=True)


class RenderFormat(StrEnum):
    html = "html"
    rst = "rst"


@app.command()
@_guard
def render(
    standard_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ID]...", help="Standards to publish; default: all.",
                       show_default=False),
    ] = None,
    format: Annotated[
        RenderFormat, typer.Option("--format", "-f", help="html: a static site; rst: the RST.")
    ] = RenderFormat.html,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of the body, e.g. zh or en;"
                                 " default: each standard's first language.",
                                 show_default=False)
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the site.")] = Path("site"),
    force: Annotated[
        bool, typer.Option("--force", help="Render even if the standards have errors.")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write .stdkit-cache/.")
    ] = False,
) -> None:
    """Publish standards as a static HTML site with an index (or as reStructuredText).

    Validates first and refuses (exit 1) when a selected standard has errors, unless --force.
    The folder is written beside --out and swapped in whole, so a failed render leaves the
    previous site as it was.
    """
    from stdkit import render as publish
    from stdkit.diagnostics import Summary
    from stdkit.fsio import repository_lock
    from stdkit.loader import (
        SETTINGS_FILE,
        STANDARDS_DIR,
        DiskSource,
        Repository,
        Settings,
        load_repository,
    )
    from stdkit.validate import Report, validate_paths, validate_repository

    root = _root()
    rcache = None
    if not no_cache:
        from stdkit.cache import RenderCache

        rcache = RenderCache.open(root)
    # A whole site is kept by the content of every file the loader reads and the options.
    options = "\0".join([format.value, lang or "", *(standard_ids or ["*"])])
    hit = rcache.site(options) if rcache is not None else None
    ext = f".{format.value}"
    if hit is not None:
        # A site is stored with the validation gate's report of the same tree and code, after
        # its selection and --lang were accepted: nothing needs reading.
        files, gate, _found = hit
        report = Report(gate[0], gate[1], Repository(root=root, settings=Settings()))
        selected = list(dict.fromkeys(standard_ids)) if standard_ids else \
            sorted(n[: -len(ext)] for n in files if n.endswith(ext) and n != f"index{ext}")
    else:
        whole = None
        if rcache is not None and not standard_ids:
            # Validation first: it reads and checks the standards in two processes, keeps
            # their parsed documents (which the load below takes from the cache), and makes
            # the site's first pass over the standards it reads whole.
            whole = validate_paths(root, [root], collect=publish.survey)
        source = rcache.base.source(DiskSource(root)) if rcache is not None else None
        # When the repository passed, every folder holds the standard of its name (STD001):
        # each is read when its page or a reference needs it, and forgotten after.
        lazy = whole is not None and not whole.summary.errors
        repo = load_repository(root, source, cache=rcache.base if rcache is not None else None,
                               standards=not lazy)
        if rcache is not None:
            rcache.base.close()  # the parsed documents, for validation and the next run
        standards: Mapping[str, Standard] = repo.standards
        if lazy:
            standards = publish.LazyStandards(repo, _standard_folders(repo))
        selected = list(dict.fromkeys(standard_ids)) if standard_ids else sorted(standards)
        for sid in selected:
            if sid not in standards:
                known = ", ".join(sorted(standards)) or "none"
                raise UsageError(f"no standard {sid!r} in {root} (standards: {known})")
        if not selected:
            raise UsageError(f"no standards to render in {root}; create one with 'stdkit new'")
        if lang is not None and not any(lang in standards[s].languages for s in selected):
            raise UsageError(f"--lang {lang}: no selected standard is written in {lang!r}")
        if lazy and whole is not None:
            report = Report(whole.diagnostics, whole.summary, repo)
        elif whole is not None:
            # Narrowed as validate_repository(repo, selected) does.
            prefixes = tuple(f"{STANDARDS_DIR}/{repo.folders.get(s, s)}/" for s in selected)
            kept = [d for d in whole.diagnostics
                    if d.file.startswith(prefixes) or d.file == SETTINGS_FILE]
            counted = [f for f in repo.documents if f.startswith(prefixes)]
            report = Report(kept, Summary.of(kept, files=len(counted), standards=len(selected),
                                             waived=whole.summary.waived), repo)
        else:
            report = validate_repository(repo, selected)
    assert report is not None
    if report.summary.errors:
        sys.stderr.write(format_text(report.diagnostics, report.summary,
                                     style=_paint if _use_colour(sys.stderr) else None))
        if not force:
            typer.echo("stdkit: nothing rendered: fix the errors above, or render anyway with"
                       " --force", err=True)
            raise typer.Exit(EXIT_FINDINGS)

    def progress(sid: str, i: int, n: int) -> None:
        typer.echo(f"[{i}/{n}] rendering {sid}", err=True)

    quiet = len(selected) < 2 or os.environ.get("CI") or not sys.stderr.isatty()
    if hit is not None:
        site = publish.Site(files, tuple(hit[2]))
    else:
        gate = (report.diagnostics, report.summary)
        del repo, report  # the report may hold the repository's documents too
        surveyed = whole.collected if lazy and whole is not None else None
        del whole
        site = publish.render_site(standards, selected, fmt=format.value, lang=lang,
                                   progress=None if quiet else progress, cache=rcache,
                                   keep=publish.LAZY_KEEP if lazy else None,
                                   surveyed=surveyed)
        if rcache is not None:
            rcache.store_site(options, site.files, list(site.diagnostics), gate)
            rcache.close(prune=True)
    with repository_lock(root):
        publish.install_site(site.files, out)
    if site.diagnostics:
        summary = Summary.of(site.diagnostics, files=len({d.file for d in site.diagnostics}),
                             standards=len(selected))
        sys.stderr.write(format_text(site.diagnostics, summary,
                                     style=_paint if _use_colour(sys.stderr) else None))
    pages = len(selected)
    typer.echo(f"wrote {out}/index.{format.value} and {pages} page{'s' if pages != 1 else ''}"
               f" ({', '.join(selected)})")


def _standard_folders(repo: Repository) -> list[str]:
    """The folders under ``standards/`` the loader reads as standards."""
    from stdkit.loader import STANDARDS_DIR

    source = repo.source
    if source is None or not source.is_dir(STANDARDS_DIR) or source.escapes(STANDARDS_DIR):
        return []
    return [name for name in source.listdir(STANDARDS_DIR)
            if not name.startswith(".") and source.is_dir(f"{STANDARDS_DIR}/{name}")]


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
