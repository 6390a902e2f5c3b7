"""Sum the logs of differential-testing runs into the figures of docs/soundness.rst.

A campaign is the union of runs of ``tests/test_differential.py`` with distinct
seeds (one run at a time, or several on several machines)::

    pytest tests/test_differential.py --campaign 1000 --campaign-seed S \\
        --campaign-log campaign/seedS.json

Each run rewrites its log every 50 checked models, so a run that is stopped
still counts the models it completed. This script adds the logs up::

    python tests/campaign_figures.py campaign/seed*.json [--date "26 November 2026"]
        [--commit SEED=COMMIT ...]

It prints the reStructuredText of the section "The last campaign": the
runs (seed, commit, models, outcome, time) and the summed figures. A log may
name the commit its run tested (a ``commit`` field, added when the log is
archived in benchmarks/campaign/). Two runs with the same seed are the same
models, so a repeated seed is an error.

A run's outcome is the one its log records (passed, failed, interrupted);
for a log without one, pytest's last line in ``seedS.out`` beside it, else
"stopped" (its last log, of every 50 models, counts). A failed run is a
disagreement to report, and the table says so.

Logs written before the log recorded its seed and CPU time (the seed is then
read from the file name, ``seedS.json``) counted a model stopped as too slow
among the checked ones; for those the too-slow models are subtracted, so the
figure is never more than what was completely checked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

# counters summed over the runs (what test_differential.py logs)
SUMMED = ("properties", "violated", "states", "induction proved", "kind proved",
          "pdr proved", "pdr violated", "pdr unknown", "mined certificates",
          "encoding states", "too slow", "seconds", "cpu seconds")


@dataclass(frozen=True)
class Run:
    seed: int
    models: int        # completely checked
    figures: dict[str, int]
    path: Path
    outcome: str       # passed, failed, interrupted, or stopped (no final log)
    commit: str        # the commit the run tested, when the log was given one

    @property
    def cpu_known(self) -> bool:
        return "cpu seconds" in self.figures


def read(path: Path) -> Run:
    figures = json.loads(path.read_text(encoding="utf-8"))
    outcome = str(figures.pop("outcome", "")) or pytest_outcome(path.with_suffix(".out"))
    commit = str(figures.pop("commit", ""))
    if "seed" in figures:
        seed = int(figures["seed"])
    else:
        match = re.search(r"seed(\d+)", path.name)
        if match is None:
            raise SystemExit(f"{path}: no seed in the log or its name (seedS.json)")
        seed = int(match.group(1))
    models = int(figures.get("models", 0))
    if "cpu seconds" not in figures:  # old format: too-slow models were counted
        models -= int(figures.get("too slow", 0))
    return Run(seed, models, figures, path, outcome, commit)


def pytest_outcome(out: Path) -> str:
    """For a log that does not record its outcome: pytest's last line in the run's
    output beside it (seedS.out), if any; else the run was stopped."""
    if not out.exists():
        return "stopped"
    lines = [x for x in out.read_text(encoding="utf-8", errors="replace").splitlines()
             if x.strip()]
    last = lines[-1] if lines else ""
    for word in ("failed", "error", "passed"):
        if re.search(rf"\d+ {word}", last):
            return "failed" if word != "passed" else "passed"
    progress = re.fullmatch(r"([.FEsxX]+)\s+\[100%\]", last.strip())
    if progress:  # `pytest -q` of the one test: its progress line, and no summary
        return "failed" if set(progress.group(1)) & {"F", "E"} else "passed"
    return "stopped"


def duration(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    return f"{h} h {rest // 60} min" if h else f"{rest // 60} min"


def render(runs: list[Run], date: str, commits: dict[int, str], target: int) -> str:
    total = {k: sum(r.figures.get(k, 0) for r in runs) for k in SUMMED}
    models = sum(r.models for r in runs)
    cpu_runs = [r for r in runs if r.cpu_known]
    cpu_models = sum(r.models for r in cpu_runs)
    cpu = sum(r.figures["cpu seconds"] for r in cpu_runs)
    seeds = ", ".join(str(r.seed) for r in runs)
    failed = [str(r.seed) for r in runs if r.outcome == "failed"]
    disagreements = (f"runs that failed (seeds {', '.join(failed)}): see the findings"
                     if failed else "none")
    status = (f"{models:,} models so far, short of the {target:,} it aims at; it goes on "
              f"in later sessions with further seeds" if models < target
              else f"{models:,} models, at least the {target:,} it aims at")
    intro = (
        f"The campaign is the union of runs of ``pytest tests/test_differential.py "
        f"--campaign N --campaign-seed S`` with distinct seeds ({seeds}), summed by "
        f"``python tests/campaign_figures.py``; as of {date}: {status}. The runs were "
        f"made on a shared two-core machine under ``nice`` (other engineers' runs "
        f"kept it busy, so wall-clock times say little).")
    lines = [
        *textwrap.wrap(intro, width=76, break_on_hyphens=False, break_long_words=False),
        "",
        ".. list-table:: Runs",
        "   :header-rows: 1",
        "",
        "   * - seed",
        "     - commit",
        "     - models checked",
        "     - outcome",
        "     - too slow",
        "     - wall-clock time",
        "     - CPU time per model",
    ]
    for r in runs:
        per = (f"{r.figures['cpu seconds'] / max(r.models, 1):.2f} s" if r.cpu_known
               else "not recorded")
        lines += [f"   * - {r.seed}", f"     - {commits.get(r.seed, r.commit)}",
                  f"     - {r.models:,}", f"     - {r.outcome}",
                  f"     - {r.figures.get('too slow', 0)}",
                  f"     - {duration(r.figures.get('seconds', 0))}", f"     - {per}"]
    cpu_line = (f"{duration(cpu)} for the {cpu_models:,} models of the runs that record "
                f"it ({cpu / max(cpu_models, 1):.2f} s per model)" if cpu_runs
                else "not recorded")
    lines += [
        "",
        ".. list-table:: Figures (all runs)",
        "   :header-rows: 1",
        "",
        "   * - figure",
        "     - value",
        "   * - models checked (the explorer exhausted them)",
        f"     - {models:,}",
        "   * - properties",
        f"     - {total['properties']:,}, of which {total['violated']:,} violated",
        "   * - states explored by the oracle",
        f"     - {total['states']:,}",
        "   * - wall-clock time",
        f"     - {duration(total['seconds'])}",
        "   * - CPU time",
        f"     - {cpu_line}",
        "   * - BMC against the explorer",
        "     - every model: same violations, equally short traces",
        "   * - induction and k-induction",
        f"     - a quarter of the models: {total['induction proved']:,} proofs by induction, "
        f"{total['kind proved']:,} by k-induction, none of a violated property",
        "   * - PDR",
        f"     - a quarter of the models: {total['pdr proved']:,} proofs (certificates "
        f"re-checked and true in every reachable state), {total['pdr violated']:,} "
        f"violations with shortest traces, {total['pdr unknown']:,} ``unknown`` within "
        f"1 s per property",
        "   * - mined certificates",
        f"     - a quarter of the models: {total['mined certificates']:,}, each re-checked "
        f"and true in every reachable state",
        "   * - encoding against the evaluator",
        f"     - a quarter of the models: {total['encoding states']:,} sampled states",
        "   * - models over the CPU limit (kept as findings, not counted as checked)",
        f"     - {total['too slow']}",
        "   * - disagreements",
        f"     - {disagreements}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+", type=Path, help="campaign logs (JSON)")
    ap.add_argument("--date", default="", help="when the figures were taken")
    ap.add_argument("--commit", action="append", default=[], metavar="SEED=COMMIT",
                    help="the commit a run tested (repeatable; else the log's `commit`)")
    ap.add_argument("--target", type=int, default=10_000, help="models the campaign aims at")
    args = ap.parse_args(argv)
    runs = sorted((read(p) for p in args.logs), key=lambda r: r.seed)
    seeds = [r.seed for r in runs]
    if len(set(seeds)) != len(seeds):
        print(f"campaign_figures: a seed appears twice: {seeds}", file=sys.stderr)
        return 2
    commits = {}
    for c in args.commit:
        seed, _, commit = c.partition("=")
        commits[int(seed)] = commit
    sys.stdout.write(render(runs, args.date, commits, args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
