"""The summary of a run over many models: one row per obligation, then the counts.

A pure function of the outcomes, in run order. Times appear only with
``timings`` (the rest of the output is then the same on every run, with any
``-j``); a configuration's time is shown on its first row, because all of its
properties are decided together.
"""

from __future__ import annotations

from checker.outcomes import RunInfo, TaskOutcome
from checker.report.text import verdict_text
from checker.report.to_json import unexpected
from checker.results import PropertyResult, Verdict


def _expected(r: PropertyResult) -> str:
    if r.as_expected:
        return "yes"
    return "NO" if unexpected(r) else "undecided"


def _source(t: TaskOutcome) -> str:
    if not t.cached:
        return "checked"
    return "cached, re-checked" if t.revalidated else "cached"


def render(run: RunInfo) -> str:
    header = ["model", "property", "configuration", "verdict", "expected?", "engine", "source"]
    if run.timings:
        header.append("time")
    rows: list[list[str]] = []
    bad: list[tuple[TaskOutcome, PropertyResult]] = []
    counts = {"obligations": 0, "as expected": 0, "NOT as expected": 0, "undecided": 0,
              "cached": 0}
    for f in run.files:
        if f.diagnostics:
            continue
        for t in f.tasks:
            assert t.report is not None
            for i, r in enumerate(t.report.results):
                row = [f.file, r.name, t.task.label, verdict_text(r), _expected(r),
                       r.engine, _source(t)]
                if run.timings:
                    row.append(f"{t.seconds:.1f}s" if i == 0 else "")
                rows.append(row)
                counts["obligations"] += 1
                counts["cached"] += t.cached
                if r.as_expected:
                    counts["as expected"] += 1
                else:
                    counts["NOT as expected" if unexpected(r) else "undecided"] += 1
                    bad.append((t, r))
    errors = [f for f in run.files if f.diagnostics]
    lines = ["", "summary" + (f" (shard {run.shard})" if run.shard else "") + ":"]
    if rows:
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
                     .rstrip())
        for row in rows:
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                         .rstrip())
    models = len({f.file for f in run.files if not f.diagnostics})
    configurations = sum(len(f.tasks) for f in run.files if not f.diagnostics)
    total = (f"{counts['obligations']} obligation{'s' if counts['obligations'] != 1 else ''} "
             f"in {models} model{'s' if models != 1 else ''} "
             f"({configurations} configuration{'s' if configurations != 1 else ''}): ")
    parts = [f"{counts['as expected']} as expected"]
    if counts["NOT as expected"]:
        parts.append(f"{counts['NOT as expected']} NOT as expected")
    if counts["undecided"]:
        parts.append(f"{counts['undecided']} undecided")
    if run.cache_dir is not None:
        parts.append(f"{counts['cached']} from the cache")
    lines.append("total: " + total + ", ".join(parts))
    if errors:
        lines.append("not checked (errors in the model): "
                     + ", ".join(f.file for f in errors))
    if run.skipped:
        lines.append("skipped (included by other models): " + ", ".join(run.skipped))
    if bad:
        lines.append("not as expected; replay with:")
        for t, r in bad:
            assert t.report is not None
            why = "unknown" if r.verdict is Verdict.UNKNOWN else verdict_text(r)
            lines.append(f"  {r.name} ({why}): {t.report.replay}")
    return "\n".join(lines) + "\n"
