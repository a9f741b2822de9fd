"""Benchmark runner: every operation as a whole process of the installed ``stdkit``.

    python bench/run.py [--clauses 10000] [--standards 20] [--runs 3] [--work DIR]
                        [--only validate] [--floors] [--markdown]

Generates a synthetic repository (bench/generate.py) unless one of that size is already in the
work folder, then times each operation ``--runs`` times (median wall seconds) and records its peak
memory (``ru_maxrss`` of the process, read by a small wrapper process that does nothing else), and
prints one table with the issue's targets and the floors beside each figure.

Floors (issue 6, per clause on a 2-core machine): libyaml compose+construct 40 µs, jsonschema
70 µs (fastjsonschema 7 µs), docutils 250 µs. ``--floors`` also measures the first two on this
machine and corpus.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

LIBYAML_US, JSONSCHEMA_US, FASTJSONSCHEMA_US, DOCUTILS_US = 40, 70, 7, 250

# Runs one command and reports its wall time and peak RSS; the only child this process waits
# for is the command, so RUSAGE_CHILDREN is the command's own peak (max over its process tree).
WRAPPER = """
import json, os, resource, subprocess, sys, time
cmd, cwd, env = json.loads(sys.argv[1])
t0 = time.perf_counter()
p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env={**os.environ, **env})
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "rss_kb": rss, "rc": p.returncode,
                  "stderr": p.stderr.decode("utf-8", "replace")[-2000:]}))
"""

TARGETS = {  # (operation, clauses) -> seconds
    ("validate, cold", 10_000): 1.5, ("validate, nothing changed", 10_000): 0.4,
    ("validate, 20 part files changed (1 standard)", 10_000): 0.6,
    ("validate, 20 part files changed (20 standards)", 10_000): 0.6,
    ("render (HTML), cold", 10_000): 6.0,
    ("render, nothing changed", 10_000): 1.0, ("diff, baselines 200 commits apart", 10_000): 1.5,
    ("diff, baselines 200 commits apart, cold", 10_000): 1.5,
    ("validate, cold", 100_000): 12.0, ("validate, nothing changed", 100_000): 2.0,
    ("render (HTML), cold", 100_000): 60.0,
}
PEAK_MB = {10_000: 150, 100_000: 600}


@dataclass
class Result:
    op: str
    clauses: int
    walls: list[float]
    peak_mb: float
    floor: str
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.walls) if self.walls else float("nan")


def stdkit_exe() -> str:
    found = shutil.which("stdkit", path=str(Path(sys.executable).parent)) or shutil.which("stdkit")
    if not found:
        raise SystemExit("stdkit is not installed (pip install -e .)")
    return found


ENV: dict[str, str] = {}


def measure(cmd: list[str], cwd: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", WRAPPER, json.dumps([cmd, str(cwd), ENV])],
                         capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out))


def compile_package() -> None:
    """Byte-compile the stdkit package the benchmark runs (into its folder's __pycache__)."""
    where = subprocess.run([sys.executable, "-c",
                            "import stdkit, os; print(os.path.dirname(stdkit.__file__))"],
                           capture_output=True, text=True, check=True,
                           env={**os.environ, **ENV}).stdout.strip()
    compileall.compile_dir(where, quiet=1)


def commands(exe: list[str]) -> set[str]:
    text = subprocess.run([*exe, "--help"], capture_output=True, text=True,
                          env={**os.environ, **ENV}).stdout
    found = set()
    for line in text.splitlines():
        word = line.strip().split(" ", 1)[0]
        if word.isalpha() and word.islower():
            found.add(word)
    return found


class Mutator:
    """Changes a text in N different part files, differently each time (so caches miss)."""

    def __init__(self, repo: Path, *, spread: bool = True) -> None:
        self.files = sorted(p for p in (repo / "standards").rglob("c*.yaml"))
        if not spread:  # all in the first standards, as one contribution would change them
            self.files = self.files[:20]
        self.round = 0
        self.saved: dict[Path, str] = {}

    def restore(self) -> None:
        for path, text in self.saved.items():
            path.write_text(text, encoding="utf-8")
        self.saved.clear()

    def __call__(self, n: int = 20) -> None:
        self.round += 1
        step = max(1, len(self.files) // n)
        for i in range(n):
            path = self.files[(i * step + self.round) % len(self.files)]
            text = path.read_text(encoding="utf-8")
            self.saved.setdefault(path, text)
            # The first leaf clause's text: "    en: This subclause specifies …".
            marker = "en: This subclause specifies"
            at = text.index(marker)
            end = text.index("\n", at)
            path.write_text(text[:end] + f" Revision note {self.round}." + text[end:],
                            encoding="utf-8")


def run_op(op: str, clauses: int, cmd: list[str], cwd: Path, runs: int, floor: str,
           before: Callable[[], None] | None = None, expect: tuple[int, ...] = (0,)) -> Result:
    walls: list[float] = []
    peak = 0.0
    for _ in range(runs):
        if before:
            before()
        got = measure(cmd, cwd)
        if got["rc"] not in expect:
            raise SystemExit(f"{op}: {' '.join(cmd)} exited {got['rc']}:\n{got['stderr']}")
        walls.append(float(str(got["wall"])))
        peak = max(peak, int(str(got["rss_kb"])) / 1024)
    return Result(op, clauses, walls, peak, floor)


def floors(repo: Path, clauses: int) -> str:
    """libyaml and schema time per clause on this machine and corpus."""
    import yaml

    files = sorted((repo / "standards").rglob("*.yaml"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    t0 = time.perf_counter()
    data = [yaml.load(x, Loader=yaml.CSafeLoader) for x in texts]
    t_yaml = time.perf_counter() - t0
    t0 = time.perf_counter()
    for x in texts:
        yaml.compose(x, Loader=yaml.CSafeLoader)
    t_compose = time.perf_counter() - t0
    lines = [f"libyaml compose+construct (CSafeLoader): {t_yaml / clauses * 1e6:.0f} µs/clause,"
             f" compose only {t_compose / clauses * 1e6:.0f} µs/clause"]
    from stdkit import schema

    names = ["standard" if f.name == "standard.yaml" else "part" for f in files]
    t0 = time.perf_counter()
    for d, n in zip(data, names, strict=True):
        for _ in schema.validator(n).iter_errors(d):
            pass
    t_js = time.perf_counter() - t0
    lines.append(f"jsonschema iter_errors: {t_js / clauses * 1e6:.0f} µs/clause")
    fast = getattr(schema, "fast_validator", None)
    if fast is not None:
        checks = [fast(n) for n in names]
        t0 = time.perf_counter()
        for d, check in zip(data, checks, strict=True):
            check(d)
        t_fast = time.perf_counter() - t0
        lines.append(f"fastjsonschema (stdkit's compiled validators): "
                     f"{t_fast / clauses * 1e6:.1f} µs/clause")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clauses", type=int, default=10_000)
    ap.add_argument("--standards", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None,
                    help="folder for the generated repository (default: a temp folder per size)")
    ap.add_argument("--only", default=None, help="run only operations containing this word")
    ap.add_argument("--floors", action="store_true", help="measure the floors on this machine")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--src", type=Path, default=None,
                    help="benchmark the stdkit package in this src folder (python -m stdkit)"
                    " instead of the installed one, e.g. an export of an earlier commit")
    args = ap.parse_args(argv)
    if args.runs < 3:
        print("note: fewer than 3 runs; medians of few runs are noisy", file=sys.stderr)

    if args.src is not None:
        ENV["PYTHONPATH"] = str(args.src.resolve())
        exe = [sys.executable, "-m", "stdkit"]
    else:
        exe = [stdkit_exe()]
    # Measure stdkit as an installed package runs: byte-compiled (pip compiles a wheel's
    # modules when it installs them). An editable install under PYTHONDONTWRITEBYTECODE=1
    # would otherwise compile stdkit's modules from source at every start, about 0.06 s.
    compile_package()
    have = commands(exe)
    can_diff = "diff" in have
    work = args.work or Path(os.environ.get("TMPDIR", "/tmp")) / (
        f"stdkit-bench-{args.standards}x{args.clauses}")
    stamp = work / ".bench-stamp"
    wanted = json.dumps({"clauses": args.clauses, "standards": args.standards,
                         "history": 200 if can_diff else 0,
                         "generator": hashlib.sha256(Path(generate.__file__).read_bytes())
                         .hexdigest()})
    if args.regenerate or not stamp.exists() or stamp.read_text() != wanted:
        t0 = time.perf_counter()
        generate.generate(work, standards=args.standards, clauses=args.clauses,
                          commits=200 if can_diff else 0)
        stamp.write_text(wanted)
        print(f"generated {work} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    size_mb = sum(f.stat().st_size for f in (work / "standards").rglob("*.yaml")) / 1e6
    n = args.clauses
    cache = work / ".stdkit-cache"

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    startup = statistics.median(float(str(measure([*exe, "--version"], work)["wall"]))
                                for _ in range(3))
    results: list[Result] = []

    def want(op: str) -> bool:
        return args.only is None or args.only in op

    s = n / 1e6
    if want("validate"):
        results.append(run_op(
            "validate, cold", n, [*exe, "validate"], work, args.runs,
            f"{LIBYAML_US * s:.2f} libyaml + {JSONSCHEMA_US * s:.2f} jsonschema"
            f" ({FASTJSONSCHEMA_US * s:.2f} fastjsonschema)", before=cold))
        measure([*exe, "validate"], work)  # warm the cache
        results.append(run_op(
            "validate, nothing changed", n, [*exe, "validate"], work, args.runs,
            f"{startup:.2f} process start (stdkit --version)"))
        for spread, label in ((False, "20 part files changed (1 standard)"),
                              (True, "20 part files changed (20 standards)")):
            mutate = Mutator(work, spread=spread)
            per_file = n / max(1, len(Mutator(work).files))
            results.append(run_op(
                f"validate, {label}", n, [*exe, "validate"], work, args.runs,
                f"{startup + 20 * per_file * (LIBYAML_US + JSONSCHEMA_US) / 1e6:.2f} start +"
                f" 20 files × {per_file:.0f} clauses × 110 µs", before=mutate))
            mutate.restore()
            measure([*exe, "validate"], work)  # back to the cached state of the original
    if want("render"):
        if "render" in have:
            site = work / "site"

            def cold_render() -> None:
                cold()
                shutil.rmtree(site, ignore_errors=True)

            results.append(run_op(
                "render (HTML), cold", n, [*exe, "render", "--out", str(site)], work, args.runs,
                f"{(DOCUTILS_US + LIBYAML_US) * s:.2f} docutils + libyaml", before=cold_render))
            results.append(run_op(
                "render, nothing changed", n, [*exe, "render", "--out", str(site)], work,
                args.runs, f"{startup:.2f} process start"))
        else:
            results.append(Result("render (HTML), cold", n, [], 0, "-",
                                  "not yet measurable: no `stdkit render`"))
            results.append(Result("render, nothing changed", n, [], 0, "-",
                                  "not yet measurable: no `stdkit render`"))
    if want("diff"):
        if can_diff:
            first = "syn-0001"
            cmd = [*exe, "diff", f"{first}/working-draft.1", f"{first}/working-draft.2"]
            results.append(run_op(
                "diff, baselines 200 commits apart, cold", n, cmd, work, args.runs,
                f"{2 * LIBYAML_US * s:.2f} libyaml × 2 revisions", before=cold, expect=(0, 1)))
            results.append(run_op(
                "diff, baselines 200 commits apart", n, cmd, work, args.runs,
                f"{startup:.2f} process start", expect=(0, 1)))
        else:
            results.append(Result("diff, baselines 200 commits apart", n, [], 0, "-",
                                  "not yet measurable: no `stdkit diff`"))

    print(table(results, markdown=args.markdown))
    print(f"\n{args.standards} standards, {n} clauses, {size_mb:.1f} MB of YAML;"
          f" {args.runs} runs each; peak = ru_maxrss; python {sys.version.split()[0]},"
          f" {os.cpu_count()} CPUs")
    if args.floors:
        print(floors(work, n))
    return 0


def table(results: list[Result], *, markdown: bool = False) -> str:
    head = ["operation", "clauses", "wall s (median)", "runs", "peak MB", "target", "floor s"]
    rows = []
    for r in results:
        target = TARGETS.get((r.op, r.clauses))
        peak_target = PEAK_MB.get(r.clauses)
        if r.walls:
            met = "" if target is None else (" ✓" if r.median <= target else " ✗")
            wall = f"{r.median:.2f}{met}"
            runs = " ".join(f"{w:.2f}" for w in r.walls)
            pmet = "" if peak_target is None else (" ✓" if r.peak_mb <= peak_target else " ✗")
            peak = f"{r.peak_mb:.0f}{pmet}"
        else:
            wall, runs, peak = r.note, "", ""
        tgt = (f"≤ {target:g} s" if target else "—") + (
            f", ≤ {peak_target} MB" if peak_target else "")
        rows.append([r.op, f"{r.clauses:,}", wall, runs, peak, tgt, r.floor])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*row) for row in rows])


if __name__ == "__main__":
    raise SystemExit(main())
