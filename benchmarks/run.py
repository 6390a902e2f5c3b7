#!/usr/bin/env python3
"""Benchmark speccheck against SPIN on the extension-module cache models.

Measures, for INTERPS x THREADS instances of four workloads:

* time to the first counterexample (R1) on two unsafe configurations
  (models/extcache_311.spec default; models/extcache.spec -D GIL=own), run as
  ``--only R1`` so that every tool stops at its first R1 violation;
* time to a final verdict on every property of two safe configurations
  (models/extcache.spec default; models/extcache_313.spec default);

for every speccheck engine that ``--help`` lists (except ``auto``, unless
asked for with --engines), and for SPIN on the hand-written Promela models in
benchmarks/promela/. speccheck runs as a subprocess with ``--json -``; times
are wall-clock times of the whole process (start-up, parsing and lowering
included). SPIN's time is given for ``pan`` alone and for ``spin -a`` + ``gcc``
+ ``pan`` together.

Measurements only: this script asserts nothing about speed. Use only the
standard library (and the project, through its command line).

    python benchmarks/run.py [--quick] [--timeout 60] [--budget 900]
    python benchmarks/run.py --validate     # state counts: speccheck vs SPIN
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROMELA = ROOT / "benchmarks" / "promela"


@dataclass(frozen=True)
class Workload:
    key: str              # short name used in the table
    title: str
    spec: str             # model file, relative to ROOT
    defines: tuple[str, ...]   # -D NAME=VALUE for speccheck (besides INTERPS/THREADS)
    pml: str              # Promela file in benchmarks/promela
    pml_defines: tuple[str, ...]
    unsafe: bool          # True: time to the first R1 counterexample (--only R1)


WORKLOADS = (
    Workload("311", "3.11 cache under per-interpreter GIL/obmalloc (unsafe: first R1 "
             "counterexample)", "models/extcache_311.spec", (), "extcache_311.pml", (), True),
    Workload("100227-own", "gh-100227 design, GIL=own (unsafe: first R1 counterexample)",
             "models/extcache.spec", ("GIL=own",), "extcache.pml", ("GIL_OWN",), True),
    Workload("100227", "gh-100227 design, default configuration (safe: all properties)",
             "models/extcache.spec", (), "extcache.pml", (), False),
    Workload("313", "3.13+ design, default configuration (safe: all properties)",
             "models/extcache_313.spec", (), "extcache_313.pml", (), False),
)


@dataclass
class Cell:
    workload: str
    interps: int
    threads: int
    tool: str                 # speccheck engine name, or "spin"
    verdict: str = ""
    seconds: float | None = None      # wall time; speccheck: whole process; spin: pan only
    cpu_seconds: float | None = None  # user + system time of the same process
    total_seconds: float | None = None  # spin: spin -a + gcc + pan
    states: int | None = None
    depth: int | None = None
    hit_limit: bool = False
    skipped: str = ""         # why the cell was not run
    notes: list[str] = field(default_factory=list)


# ---- speccheck ------------------------------------------------------------------------------

def speccheck_command(override: str | None) -> list[str]:
    if override:
        return override.split()
    # the working tree under test, not some other installed copy
    return [sys.executable, "-m", "checker.cli"]


def available_engines(cmd: list[str]) -> list[str]:
    out = subprocess.run([*cmd, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    m = re.search(r"--engine\s+\{([^}]*)\}", out.stdout)
    if not m:
        raise SystemExit(f"cannot find the --engine choices in `{' '.join(cmd)} --help`")
    return [e.strip() for e in m.group(1).split(",") if e.strip()]


def summarize(results: list[dict[str, Any]]) -> tuple[str, int | None]:
    """One honest phrase for a run's results, and the depth to show."""
    violated = [r for r in results if r["verdict"] == "violated"]
    if violated and len(violated) == len(results):
        depth = min(r["depth"] for r in violated if r["depth"] is not None)
        names = ", ".join(r["name"] for r in violated)
        return f"violated ({names})", depth
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(r["verdict"], []).append(r)
    parts = []
    depth = None
    for verdict in ("violated", "proved", "no violation up to depth", "unknown"):
        rs = groups.pop(verdict, [])
        if not rs:
            continue
        if verdict == "no violation up to depth":
            k = min(r["depth"] for r in rs if r["depth"] is not None)
            word = f"no violation up to depth {k}"
            depth = k if depth is None else depth
        elif verdict == "violated":
            word = "violated (" + ", ".join(r["name"] for r in rs) + ")"
        else:
            word = verdict
        parts.append(word if len(rs) == len(results) else f"{word} ×{len(rs)}")
    for verdict, rs in groups.items():  # a verdict word this script does not know yet
        parts.append(f"{verdict} ×{len(rs)}")
    return "; ".join(parts), depth


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


LIMIT_WORDS = ("deadline", "time limit", "timeout", "timed out")


def run_speccheck(cmd: list[str], w: Workload, interps: int, threads: int, engine: str,
                  timeout: float, max_states: int, extra: Sequence[str] = ()) -> Cell:
    cell = Cell(w.key, interps, threads, engine)
    args = [*cmd, w.spec, "-D", f"INTERPS={interps}", "-D", f"THREADS={threads}"]
    for d in w.defines:
        args += ["-D", d]
    args += ["--engine", engine, "--json", "-", "--no-color", "--timeout", f"{timeout:g}",
             "--max-states", str(max_states)]
    if w.unsafe:
        args += ["--only", "R1"]
    args += list(extra)
    hard = 2 * timeout + 10
    start, cpu = time.perf_counter(), child_cpu()
    try:
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=hard)
    except subprocess.TimeoutExpired:
        cell.seconds = time.perf_counter() - start
        cell.cpu_seconds = child_cpu() - cpu
        cell.verdict = f"unknown (killed after {hard:g}s: --timeout {timeout:g} not honoured)"
        cell.hit_limit = True
        return cell
    cell.seconds = time.perf_counter() - start
    cell.cpu_seconds = child_cpu() - cpu
    try:
        doc = json.loads(proc.stdout)
        model = doc["models"][0]
    except (ValueError, KeyError, IndexError):
        err = proc.stderr.strip().splitlines()
        cell.verdict = f"error (exit {proc.returncode})"
        cell.notes.append(err[-1] if err else "no JSON report")
        return cell
    results = model["results"]
    cell.verdict, cell.depth = summarize(results)
    others = sorted({r["engine"] for r in results} - {engine})
    if others:  # e.g. k-induction and PDR hand counterexamples over to BMC
        cell.verdict += " via " + ", ".join(others)
    cell.states = model.get("states")
    reasons = " ".join(str(r.get("reason") or "") for r in results)
    undecided = any(r["verdict"] in ("unknown", "no violation up to depth") for r in results)
    if any(word in reasons for word in LIMIT_WORDS):
        cell.hit_limit = undecided
    if "state limit" in reasons:
        cell.notes.append(f"state limit {max_states}")
    if cell.seconds > timeout * 1.25 + 5:
        cell.notes.append(f"took {cell.seconds:.0f}s with --timeout {timeout:g}")
    if proc.returncode == 70:
        cell.notes.append("internal error (exit 70)")
    return cell


# ---- SPIN -----------------------------------------------------------------------------------

def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def compile_spin(pml: str, defines: list[str], workdir: Path, extra_spin: Sequence[str] = (),
                 extra_cc: Sequence[str] = ()) -> tuple[Path | None, float, str]:
    src = PROMELA / pml
    shutil.copy(src, workdir / pml)
    start = time.perf_counter()
    gen = subprocess.run(["spin", *extra_spin, *[f"-D{d}" for d in defines], "-a", pml],
                         cwd=workdir, capture_output=True, text=True, timeout=600)
    if gen.returncode != 0 or not (workdir / "pan.c").exists():
        return None, time.perf_counter() - start, (gen.stdout + gen.stderr).strip()
    cc = subprocess.run(["gcc", "-O2", "-DSAFETY", "-DMEMLIM=8192", *extra_cc, "-o", "pan",
                         "pan.c"], cwd=workdir, capture_output=True, text=True, timeout=600)
    if cc.returncode != 0:
        return None, time.perf_counter() - start, cc.stderr.strip()
    return workdir / "pan", time.perf_counter() - start, ""


def parse_pan(out: str) -> dict[str, Any]:
    info: dict[str, Any] = {"errors": None, "states": None, "depth": None, "what": None,
                  "incomplete": []}
    m = re.search(r"errors:\s*(\d+)", out)
    if m:
        info["errors"] = int(m.group(1))
    m = re.search(r"^\s*([\d.e+]+)\s+states, stored", out, re.M)
    if m:
        info["states"] = int(float(m.group(1)))
    m = re.search(r"pan:\d+:\s*(.*?)\s*\(at depth (\d+)\)", out)
    if m:
        info["what"], info["depth"] = m.group(1), int(m.group(2))
    if "max search depth too small" in out:
        info["incomplete"].append("depth limit -m")
    if "out of memory" in out:
        info["incomplete"].append("out of memory")
    return info


def run_spin(w: Workload, interps: int, threads: int, timeout: float) -> Cell:
    cell = Cell(w.key, interps, threads, "spin")
    defines = [f"INTERPS={interps}", f"THREADS={threads}", *w.pml_defines]
    pan_args = ["-m10000000"]
    if w.unsafe:
        defines.append("ONLY_R1")
        pan_args.append("-E")  # like --only R1: no deadlock (invalid end state) check
    with tempfile.TemporaryDirectory(prefix="speccheck-bench-") as tmp:
        pan, build_s, err = compile_spin(w.pml, defines, Path(tmp))
        if pan is None:
            cell.verdict = "error (spin -a / gcc)"
            cell.notes.append(err.splitlines()[-1] if err else "")
            return cell
        start, cpu = time.perf_counter(), child_cpu()
        try:
            proc = subprocess.run([str(pan), *pan_args], cwd=tmp, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            cell.seconds = time.perf_counter() - start
            cell.cpu_seconds = child_cpu() - cpu
            cell.total_seconds = build_s + cell.seconds
            cell.verdict = "unknown (time limit)"
            cell.hit_limit = True
            return cell
        cell.seconds = time.perf_counter() - start
        cell.cpu_seconds = child_cpu() - cpu
        cell.total_seconds = build_s + cell.seconds
    info = parse_pan(proc.stdout)
    cell.states = info["states"]
    if info["errors"]:
        what = info["what"] or "error"
        if w.unsafe and "assertion" in what:
            what = "R1"  # only R1 is asserted with -DONLY_R1
        elif "assertion violated" in what:
            what = "assertion " + what.split("assertion violated", 1)[1].strip()
        cell.verdict = f"violated ({what})"
        cell.depth = info["depth"]
    elif info["errors"] == 0 and not info["incomplete"]:
        cell.verdict = "proved"
    else:
        cell.verdict = "unknown (" + (", ".join(info["incomplete"]) or "no pan summary") + ")"
        cell.hit_limit = "out of memory" not in info["incomplete"]
    return cell


# ---- the sweep ------------------------------------------------------------------------------

def dominated(cell_key: tuple[str, str], interps: int, threads: int,
              limits: dict[tuple[str, str], list[tuple[int, int]]]) -> bool:
    """A smaller-or-equal instance of the same workload and tool hit the time limit."""
    return any(i <= interps and t <= threads for i, t in limits.get(cell_key, []))


def fmt_s(x: float | None) -> str:
    return "—" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}")


def fmt_wc(c: Cell | None) -> str:
    """Wall time, with the CPU time in parentheses when they differ noticeably."""
    if c is None or c.skipped or c.seconds is None:
        return "—"
    w = fmt_s(c.seconds)
    if c.cpu_seconds is not None and abs(c.cpu_seconds - c.seconds) > 0.1 * c.seconds + 0.05:
        w += f" ({fmt_s(c.cpu_seconds)})"
    return w


def fmt_n(x: int | None) -> str:
    return "—" if x is None else f"{x:,}"


def fmt_verdict(c: Cell) -> str:
    if c.skipped:
        return f"not run ({c.skipped})"
    v = c.verdict
    if c.depth is not None and v.startswith("violated"):
        # speccheck: steps of the (shortest) trace; pan: its DFS depth, which also
        # counts the statements of the `init` process
        v += f", pan depth {c.depth}" if c.tool == "spin" else f", {c.depth} steps"
    if c.hit_limit:
        v += " ⏱"
    if c.notes:
        v += " [" + "; ".join(c.notes) + "]"
    return v.replace("|", "/")


def ratio(a: float | None, b: float | None, a_cell: Cell, b_cell: Cell | None) -> str:
    if a is None or b is None or b <= 0 or a_cell.skipped or b_cell is None or b_cell.skipped:
        return "—"
    if not (decisive(a_cell) or a_cell.hit_limit) or not (decisive(b_cell) or b_cell.hit_limit):
        return "—"  # a bounded or inconclusive answer is not comparable with a final one
    r = a / b
    mark = ""
    if a_cell.hit_limit or b_cell.hit_limit:
        mark = "≥" if a_cell.hit_limit and not b_cell.hit_limit else (
            "≤" if b_cell.hit_limit and not a_cell.hit_limit else "~")
    return f"{mark}{r:.1f}×" if r >= 1 else f"{mark}{r:.2f}×"


def table(cells: list[Cell], engines: list[str]) -> str:
    by = {(c.workload, c.interps, c.threads, c.tool): c for c in cells}
    rows = ["| workload | I | T | engine | speccheck verdict | speccheck s | explicit states "
            "| SPIN verdict | SPIN pan s | SPIN total s | SPIN states | ÷ pan | ÷ total |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(c.workload, c.threads, c.interps) for c in cells},
                  key=lambda k: ([w.key for w in WORKLOADS].index(k[0]), k[1], k[2]))
    for wl, t, i in keys:
        spin = by.get((wl, i, t, "spin"))
        for e in engines:
            c = by.get((wl, i, t, e))
            if c is None:
                continue
            rows.append("| " + " | ".join([
                wl, str(i), str(t), e, fmt_verdict(c), fmt_wc(c),
                fmt_n(c.states) if e in ("explicit", "auto") else "—",
                fmt_verdict(spin) if spin else "—",
                fmt_wc(spin),
                fmt_s(spin.total_seconds) if spin and not spin.skipped else "—",
                fmt_n(spin.states) if spin and not spin.skipped else "—",
                ratio(c.seconds, spin.seconds if spin else None, c, spin),
                ratio(c.seconds, spin.total_seconds if spin else None, c, spin),
            ]) + " |")
    return "\n".join(rows)


def decisive(c: Cell) -> bool:
    """A final verdict on every property: all proved, or (unsafe runs) violated."""
    if c.skipped or c.seconds is None or c.hit_limit:
        return False
    return c.verdict == "proved" or c.verdict.startswith("violated")


def summary(cells: list[Cell], engines: list[str], timeout: float) -> str:
    """One row per instance: the fastest speccheck engine that reached a final verdict."""
    by = {(c.workload, c.interps, c.threads, c.tool): c for c in cells}
    rows = ["| workload | I | T | fastest final speccheck verdict | engine | speccheck s "
            "| SPIN verdict | SPIN pan s | SPIN total s | ÷ pan | ÷ total |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(c.workload, c.threads, c.interps) for c in cells},
                  key=lambda k: ([w.key for w in WORKLOADS].index(k[0]), k[1], k[2]))
    for wl, t, i in keys:
        spin = by.get((wl, i, t, "spin"))
        done = [by[(wl, i, t, e)] for e in engines
                if (wl, i, t, e) in by and decisive(by[(wl, i, t, e)])]
        best = min(done, key=lambda c: c.seconds or 0.0) if done else None
        spin_cols = ([fmt_verdict(spin), fmt_wc(spin), fmt_s(spin.total_seconds)]
                     if spin else ["—", "—", "—"])
        if best is None:
            ran = [by[(wl, i, t, e)] for e in engines
                   if (wl, i, t, e) in by and not by[(wl, i, t, e)].skipped]
            word = ("no final verdict" if ran else "not run")
            bound = (f" | ≥{timeout / spin.seconds:.1f}× | ≥{timeout / spin.total_seconds:.1f}× |"
                     if ran and spin and decisive(spin) and spin.seconds and spin.total_seconds
                     else " | — | — |")
            rows.append(f"| {wl} | {i} | {t} | {word} | — | — | " + " | ".join(spin_cols)
                        + bound)
            continue
        rows.append("| " + " | ".join([
            wl, str(i), str(t), fmt_verdict(best), best.tool, fmt_wc(best), *spin_cols,
            ratio(best.seconds, spin.seconds if spin else None, best, spin),
            ratio(best.seconds, spin.total_seconds if spin else None, best, spin)]) + " |")
    return "\n".join(rows)


def machine(cmd: list[str]) -> list[str]:
    def run(args: list[str], **kw: Any) -> str:
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
            return str(p.stdout + p.stderr).strip()
        except (OSError, subprocess.TimeoutExpired):
            return "not available"
    z3v = run([sys.executable, "-c", "import z3; print(z3.get_version_string())"])
    spinv = run(["spin", "-V"]) if shutil.which("spin") else "not installed"
    gccv = run(["gcc", "--version"]).splitlines()[0] if shutil.which("gcc") else "not installed"
    scv = run([*cmd, "--version"], cwd=ROOT)
    commit = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    startup = []
    for _ in range(3):
        s = time.perf_counter()
        run([*cmd, "--version"], cwd=ROOT)
        startup.append(time.perf_counter() - s)
    return [
        f"- CPUs (`nproc`): {os.cpu_count()}; machine (`uname -m`): {platform.machine()}; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; z3 {z3v}; {scv} "
        f"(commit {commit}{', with uncommitted changes' if dirty else ''})",
        f"- {spinv}; {gccv}",
        f"- speccheck start-up (`--version`, imports only): {min(startup):.2f}s",
    ]


def sweep(args: argparse.Namespace) -> int:
    cmd = speccheck_command(args.speccheck)
    available = available_engines(cmd)
    if args.engines:
        wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
        missing = [e for e in wanted if e not in available]
        engines = [e for e in wanted if e in available]
        for e in missing:
            print(f"note: engine `{e}` is not available in this speccheck; skipped",
                  file=sys.stderr)
    else:
        engines = [e for e in available if e != "auto"]
    use_spin = not args.no_spin and spin_available()
    if not args.no_spin and not use_spin:
        print("note: spin or gcc not found; SPIN columns are empty "
              "(apt-get install -y spin)", file=sys.stderr)
    workloads = [w for w in WORKLOADS if not args.workloads or w.key in args.workloads.split(",")]
    interps = _range(args.interps)
    threads = _range(args.threads)
    tools = engines + (["spin"] if use_spin else [])

    start = time.monotonic()
    load_before = os.getloadavg()
    cells: list[Cell] = []
    limits: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for t in threads:
        for i in interps:
            for w in workloads:
                for tool in tools:
                    key = (w.key, tool)
                    if dominated(key, i, t, limits):
                        cells.append(Cell(w.key, i, t, tool,
                                          skipped="a smaller instance hit the limit"))
                        continue
                    if args.budget and time.monotonic() - start > args.budget:
                        cells.append(Cell(w.key, i, t, tool, skipped="budget used up"))
                        continue
                    if tool == "spin":
                        c = run_spin(w, i, t, args.timeout)
                    else:
                        c = run_speccheck(cmd, w, i, t, tool, args.timeout, args.max_states,
                                          args.extra.split())
                    cells.append(c)
                    if c.hit_limit:
                        limits.setdefault(key, []).append((i, t))
                    print(f"[{time.monotonic() - start:6.0f}s] {w.key:10} I={i} T={t} "
                          f"{tool:8} {fmt_s(c.seconds):>6}s (cpu {fmt_s(c.cpu_seconds)}s)  "
                          f"{fmt_verdict(c)}"
                          + (f"  states={c.states}" if c.states is not None else ""),
                          file=sys.stderr, flush=True)
    elapsed = time.monotonic() - start
    load_after = os.getloadavg()
    wall = sum(c.seconds or 0 for c in cells if c.tool != "spin")
    cpu = sum(c.cpu_seconds or 0 for c in cells if c.tool != "spin")
    header = [*machine(cmd),
              f"- load average (1, 5, 15 min) before the sweep: "
              f"{', '.join(f'{x:.2f}' for x in load_before)}; after: "
              f"{', '.join(f'{x:.2f}' for x in load_after)}; speccheck runs used "
              f"{cpu:.0f}s CPU in {wall:.0f}s wall"]
    run = {"header": header, "timeout": args.timeout, "elapsed": elapsed,
           "engines": engines, "workloads": [w.key for w in workloads], "extra": args.extra,
           "cells": [asdict(c) for c in cells]}
    if args.json:
        Path(args.json).write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n")
    return emit(run, args.markdown)


def emit(run: dict[str, Any], markdown: str | None) -> int:
    """Print (and save) the report of a sweep, from its measurements."""
    cells = [Cell(**c) for c in run["cells"]]
    engines, timeout = run["engines"], run["timeout"]
    workloads = [w for w in WORKLOADS if w.key in run["workloads"]]
    out = ["## Machine", "", *run["header"], "",
           f"## Results (per-run limit {timeout:g}s, sweep took {run['elapsed']:.0f}s)", "",
           "Workloads:", ""]
    for w in workloads:
        defs = " ".join(f"-D {d}" for d in w.defines)
        out.append(f"- `{w.key}`: {w.title} — `{w.spec}{' ' + defs if defs else ''}`"
                   f"{' --only R1' if w.unsafe else ''} vs `promela/{w.pml}`"
                   + (" " + " ".join(f"-D{d}" for d in w.pml_defines) if w.pml_defines else "")
                   + (" -DONLY_R1, pan -E" if w.unsafe else ""))
    if run.get("extra"):
        out += ["", f"Every speccheck run also had `{run['extra']}`."]
    out += ["", "### Summary: fastest final verdict per instance", "",
            summary(cells, engines, timeout), "",
            "### Every engine", "", table(cells, engines), "",
            "Times are wall-clock seconds, with CPU seconds (user + system) in parentheses "
            "when they differ by more than 10% (a shared machine). "
            "⏱ = hit the per-run time limit. ÷ pan = speccheck time / SPIN pan time; "
            "÷ total = speccheck time / SPIN (spin -a + gcc + pan) time. A ratio is given "
            "only when both sides reached a final verdict (all proved, or the violation "
            "found) or were stopped by the limit: ≥/≤ = one side was stopped, so the true "
            "ratio is at least/at most this; ~ = both were stopped. Bounded (`no violation "
            "up to depth k`) and other `unknown` results get no ratio."]
    text = "\n".join(out) + "\n"
    print(text)
    if markdown:
        Path(markdown).write_text(text)
    return 0


def _range(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out += range(int(a), int(b) + 1)
        else:
            out.append(int(part))
    return sorted(set(out))


# ---- state-count validation -----------------------------------------------------------------

def validate(args: argparse.Namespace) -> int:
    """Do the Promela models have the same reachable states as the .spec models?

    SPIN is run without partial-order reduction (-DNOREDUCE), keeping write-only
    variables (spin -o2), ignoring assertion failures and end states (pan -A -E)
    so that the whole state space is explored; speccheck's explicit engine is
    run with ``--only`` a property that holds, so that it explores everything
    too. SPIN counts one extra state: the initial state of its `init` process,
    before the threads' start interpreters are chosen.
    """
    if not spin_available():
        raise SystemExit("validate needs spin and gcc")
    cmd = speccheck_command(args.speccheck)
    workloads = [w for w in WORKLOADS if not args.workloads or w.key in args.workloads.split(",")]
    cases = [(w, i, t) for t in _range(args.threads if args.threads != "2-4" else "2")
             for i in _range(args.interps if args.interps != "2-8" else "2-3")
             for w in workloads]
    rows = ["| workload | I | T | speccheck states | SPIN states (no POR, -o2) | SPIN − 1 "
            "= speccheck? | SPIN states (default) |", "|---|---|---|---|---|---|---|"]
    ok = True
    for w, i, t in cases:
        prop = "lock_sanity" if w.unsafe else "R2"   # holds in all four workloads
        sargs = [*cmd, w.spec, "-D", f"INTERPS={i}", "-D", f"THREADS={t}",
                 *[x for d in w.defines for x in ("-D", d)], "--engine", "explicit",
                 "--only", prop, "--json", "-", "--max-states", str(args.max_states)]
        p = subprocess.run(sargs, cwd=ROOT, capture_output=True, text=True)
        sc = json.loads(p.stdout)["models"][0]["states"]
        defines = [f"INTERPS={i}", f"THREADS={t}", *w.pml_defines]
        counts = []
        for extra_spin, extra_cc in ((["-o2"], ["-DNOREDUCE"]), ([], [])):
            with tempfile.TemporaryDirectory(prefix="speccheck-bench-") as tmp:
                pan, _, err = compile_spin(w.pml, defines, Path(tmp), extra_spin, extra_cc)
                if pan is None:
                    raise SystemExit(err)
                out = subprocess.run([str(pan), "-A", "-E", "-m10000000"], cwd=tmp,
                                     capture_output=True, text=True).stdout
                counts.append(parse_pan(out)["states"])
        same = counts[0] is not None and counts[0] - 1 == sc
        ok &= same
        rows.append(f"| {w.key} | {i} | {t} | {fmt_n(sc)} | {fmt_n(counts[0])} | "
                    f"{'yes' if same else 'NO'} | {fmt_n(counts[1])} |")
        print(rows[-1], file=sys.stderr, flush=True)
    print("\n".join(rows))
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small subset: INTERPS 2-3, THREADS 2, 20s limit")
    p.add_argument("--interps", default="2-8", help="INTERPS values, e.g. 2-8 or 2,4 "
                   "(default 2-8)")
    p.add_argument("--threads", default="2-4", help="THREADS values (default 2-4)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="per-run time limit in seconds (speccheck --timeout; pan is killed)")
    p.add_argument("--budget", type=float, default=None,
                   help="stop starting new runs after this many seconds in all")
    p.add_argument("--engines", default=None,
                   help="comma-separated speccheck engines (default: all listed by --help "
                   "except auto)")
    p.add_argument("--workloads", default=None,
                   help="comma-separated: " + ",".join(w.key for w in WORKLOADS))
    p.add_argument("--max-states", type=int, default=10_000_000,
                   help="speccheck --max-states (default 10000000: the time limit decides)")
    p.add_argument("--extra", default="", metavar="ARGS",
                   help="more speccheck options for every run, e.g. '--no-certificates'")
    p.add_argument("--no-spin", action="store_true", help="do not run SPIN")
    p.add_argument("--speccheck", default=None,
                   help="command to run speccheck (default: this checkout, "
                   "`python -m checker.cli`)")
    p.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    p.add_argument("--markdown", metavar="FILE", help="also write the report to FILE")
    p.add_argument("--render", metavar="FILE",
                   help="print the report of a sweep saved with --json, without running "
                   "anything")
    p.add_argument("--validate", action="store_true",
                   help="compare reachable-state counts of the .spec and Promela models")
    args = p.parse_args()
    if args.quick:
        args.interps, args.threads = "2-3", "2"
        args.timeout = min(args.timeout, 20.0)
    if args.render:
        return emit(json.loads(Path(args.render).read_text()), args.markdown)
    if args.validate:
        return validate(args)
    return sweep(args)


if __name__ == "__main__":
    sys.exit(main())
