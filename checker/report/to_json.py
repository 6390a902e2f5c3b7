"""The machine report: a versioned JSON document; traces in the Informal Trace
Format (ITF) so Quint/Apalache tooling can read them. Key order is fixed.

The document is described by ``schemas/report-v1.schema.json`` (docs/ci.rst).
Fields are only ever added within a schema version; a change that removes or
re-types a field bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import json
from typing import Any

from checker.outcomes import FileOutcome, RunInfo, TaskOutcome
from checker.results import ExitCode, ModelReport, PropertyResult, Trace, Verdict
from spec.diagnostics import Diagnostic
from spec.sorts import MapT, OptionT, Type, Value, map_keys

SCHEMA_VERSION = 1


def itf_value(v: Value, t: Type) -> Any:
    if isinstance(t, MapT):
        assert isinstance(v, tuple)
        return {"#map": [[_itf_key(k), itf_value(c, t.value)]
                         for k, c in zip(map_keys(t), v, strict=True)]}
    if isinstance(t, OptionT):
        if v is None:
            return {"tag": "None", "value": {"#tup": []}}
        return {"tag": "Some", "value": itf_value(v, t.inner)}
    if isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    return {"#unserializable": repr(v)}  # no value of a checked model gets here


def _itf_key(key: tuple[Value, ...]) -> Any:
    parts = [itf_value(x, _scalar_type(x)) for x in key]
    return parts[0] if len(parts) == 1 else {"#tup": parts}


def _scalar_type(x: Value) -> Type:
    from spec.sorts import BOOL, IntT
    if isinstance(x, bool):
        return BOOL
    if isinstance(x, int):
        return IntT(x, x)
    from spec.sorts import EnumT
    return EnumT("_", ())


def itf_trace(model: str, trace: Trace) -> dict[str, Any]:
    states = []
    for i, state in enumerate(trace.states):
        entry: dict[str, Any] = {"#meta": {"index": i}}
        if i > 0:
            step = trace.steps[i - 1]
            entry["#meta"]["action"] = step.action
            entry["#meta"]["text"] = step.text
            entry["#meta"]["thread"] = step.actor
            entry["#meta"]["params"] = {n: v for n, v in step.params}
        for name, t, v in zip(trace.var_names, trace.var_types, state, strict=True):
            entry[name] = itf_value(v, t)
        states.append(entry)
    meta: dict[str, Any] = {"format": "ITF", "source": model, "varTypes": {
        n: str(t) for n, t in zip(trace.var_names, trace.var_types, strict=True)}}
    if len(trace.steps) == len(trace.states):
        last = trace.steps[-1]
        meta["failingStep"] = {"action": last.action, "text": last.text, "thread": last.actor,
                               "params": {n: v for n, v in last.params},
                               "message": last.failure}
    return {"#meta": meta, "vars": list(trace.var_names), "states": states}


def result_json(model: str, r: PropertyResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": r.name, "kind": r.kind, "description": r.description,
        "verdict": r.verdict.value, "engine": r.engine,
        "expected": r.expected, "as_expected": r.as_expected, "depth": r.depth,
        "states": r.states, "reason": r.reason, "message": r.message,
    }
    if r.check_span is not None and r.check_span.source.text:
        line, col = r.check_span.line_col()
        out["location"] = {"file": r.check_span.file, "line": line, "column": col}
    out["trace"] = None if r.trace is None else itf_trace(model, r.trace)
    out["cti"] = None if r.cti is None else itf_trace(model, r.cti)
    out["certificate"] = None if r.certificate is None else {
        "size": r.certificate.size, "text": r.certificate.text, "smt": r.certificate.smt}
    if r.all_sizes is not None:  # only with --all-sizes
        a = r.all_sizes
        out["all_sizes"] = {
            "verdict": a.verdict, "reason": a.reason, "sizes": a.sizes,
            "fragment": a.fragment, "lemmas": list(a.lemmas),
            "cti": None if a.cti is None else itf_trace(model, a.cti),
            "cti_sizes": {s: n for s, n in a.cti_sizes}}
    return out


def model_json(m: ModelReport, task: TaskOutcome | None = None,
               timings: bool = False) -> dict[str, Any]:
    return {
        "file": m.file, "model": m.model,
        "parameters": {n: v for n, v in m.params},
        "configuration": {} if task is None else dict(task.task.configuration),
        "states": m.states,
        "results": [result_json(m.file, r) for r in m.results],
        "coverage": None if m.coverage is None else {
            "actions": m.coverage.actions, "complete": m.coverage.complete,
            "dead": [{"action": a, "text": t, "line": ln} for a, t, ln in m.coverage.dead],
            "vacuous": list(m.coverage.vacuous)},
        "replay": m.replay,
        **({"all_sizes_lemmas": [{"name": n, "expression": e} for n, e in m.lemmas]}
           if m.lemmas else {}),
        "cached": task is not None and task.cached,
        "revalidated": task is not None and task.revalidated,
        "seconds": None if not timings or task is None else round(task.seconds, 3),
    }


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    line = column = None
    if d.span is not None and d.span.source.text:
        line, column = d.span.line_col()
    return {"code": d.code, "severity": d.severity, "message": d.message,
            "file": None if d.span is None else d.span.file, "line": line, "column": column,
            "hint": d.hint}


def summary_json(files: tuple[FileOutcome, ...] | list[FileOutcome],
                 reports: list[ModelReport]) -> dict[str, int]:
    results = [r for m in reports for r in m.results]
    cached = sum(len(t.report.results) for f in files if not f.diagnostics
                 for t in f.tasks if t.cached and t.report is not None)
    return {
        "models": len({m.file for m in reports}),
        "configurations": len(reports),
        "obligations": len(results),
        "as_expected": sum(r.as_expected for r in results),
        "unexpected": sum(unexpected(r) for r in results),
        "inconclusive": sum(not r.as_expected and not unexpected(r) for r in results),
        "cached": cached,
        "files_with_errors": sum(bool(f.diagnostics) for f in files),
    }


def unexpected(r: PropertyResult) -> bool:
    """Against expectation outright (exit code 1), not merely undecided (4)."""
    return not r.as_expected and r.verdict in (Verdict.VIOLATED, Verdict.PROVED)


def render(reports: list[ModelReport], code: ExitCode, run: RunInfo | None = None) -> str:
    """`run`: the outcomes of a run of many tasks (configurations, cache, errors);
    without it the document describes `reports` alone."""
    if run is None:
        models = [model_json(m) for m in reports]
        files: tuple[FileOutcome, ...] = ()
    else:
        files = run.files
        models = [model_json(t.report, t, run.timings) for f in files if not f.diagnostics
                  for t in f.tasks if t.report is not None]
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": "speccheck",
        "exit_code": int(code),
        "models": models,
        "summary": summary_json(files, reports),
        "errors": [{"file": f.file, "diagnostics": [diagnostic_json(d) for d in f.diagnostics]}
                   for f in files if f.diagnostics],
        "shard": None if run is None or run.shard is None else {
            "index": run.shard.index, "count": run.shard.count},
        "skipped": [] if run is None else list(run.skipped),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
