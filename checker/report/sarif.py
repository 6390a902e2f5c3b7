"""SARIF 2.1.0, for code-review tools that annotate the model files.

Results:

* each violation that is not expected, at the line of the violated check
  (an invariant's declaration, an assertion, the statement whose built-in
  check failed), with its counterexample as a code flow: one location per
  step, at the step's line, saying which thread did what and which cells
  changed;
* each expected violation that no longer happens (proved instead), at the
  model file, so a model of a historical bug that stopped catching it shows;
* each diagnostic of a file that could not be checked, at its location.

Rule ids: a built-in property is its own name (``R1``, ``deadlock``), a
model's own property is ``MODEL/NAME``, a diagnostic is its code. Nothing
in the log depends on time, so a run reproduces it byte for byte.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import Any

from checker.outcomes import RunInfo, TaskOutcome
from checker.report.cells import cells, show_value
from checker.report.text import verdict_text
from checker.report.to_json import unexpected
from checker.results import PropertyResult, Step, Trace, Verdict
from spec.codes import CODES
from spec.diagnostics import Diagnostic

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(path: str) -> str:
    if os.path.isabs(path):
        return PurePath(path).as_uri()
    return PurePath(path).as_posix()


def _location(path: str, line: int | None = None, column: int | None = None,
              message: str | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(path)}}
    if line is not None:
        physical["region"] = {"startLine": line, **({"startColumn": column} if column else {})}
    out: dict[str, Any] = {"physicalLocation": physical}
    if message is not None:
        out["message"] = {"text": message}
    return out


def _step_text(step: Step) -> str:
    who = ""
    if step.actor is not None:
        who = f"thread {step.actor}" + (f" in {step.interp}" if step.interp else "") + ": "
    if step.kind == "call":
        args = ", ".join(f"{n}={show_value(v)}" for n, v in step.params[1:])
        what = f"call {step.routine}({args})"
    elif step.kind == "action":
        what = f"{step.routine}(" + ", ".join(f"{n}={show_value(v)}" for n, v in step.params) \
            + ")"
    elif step.kind == "step":
        what = f"{step.routine}: {step.text}"
    else:
        what = step.text
    return who + what + (f" -- fails: {step.failure}" if step.failure else "")


def _changes(trace: Trace, i: int) -> dict[str, dict[str, str]]:
    if i + 1 >= len(trace.states):
        return {}
    before = cells(trace.var_names, trace.var_displays, trace.var_types, trace.states[i])
    after = cells(trace.var_names, trace.var_displays, trace.var_types, trace.states[i + 1])
    return {cell: {"text": f"{show_value(old)} -> {show_value(new)}"}
            for (_, cell, old), (_, _, new) in zip(before, after, strict=True) if old != new}


def _code_flow(file: str, r: PropertyResult) -> dict[str, Any]:
    trace = r.trace
    assert trace is not None
    steps = []
    for i, step in enumerate(trace.steps):
        where = _location(step.file or file, step.line, None, f"{i + 1}. {_step_text(step)}")
        entry: dict[str, Any] = {"location": where, "executionOrder": i + 1}
        changed = _changes(trace, i)
        if changed:
            entry["state"] = changed
        steps.append(entry)
    n = trace.length
    return {"message": {"text": f"counterexample: {n} step{'s' if n != 1 else ''}, replayed "
                                "by the explicit evaluator"},
            "threadFlows": [{"locations": steps}]}


class _Rules:
    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self.index: dict[str, int] = {}

    def add(self, rule_id: str, description: str, level: str) -> int:
        if rule_id not in self.index:
            self.index[rule_id] = len(self.rules)
            self.rules.append({"id": rule_id, "shortDescription": {"text": description},
                               "defaultConfiguration": {"level": level}})
        return self.index[rule_id]


def _property_result(rules: _Rules, t: TaskOutcome, r: PropertyResult) -> dict[str, Any]:
    assert t.report is not None
    model, file = t.report.model, t.task.file
    rule_id = r.name if r.kind == "builtin" else f"{model}/{r.name}"
    index = rules.add(rule_id, r.description or r.name, "error")
    config = f" [{t.task.label}]" if t.task.configuration else ""
    out: dict[str, Any] = {"ruleId": rule_id, "ruleIndex": index, "level": "error"}
    if r.verdict is Verdict.VIOLATED and r.trace is not None:
        text = f"{r.name} violated in {model}{config}: {r.message or r.description}"
        span = r.check_span
        if span is not None and span.source.text:
            line, col = span.line_col()
            where = _location(span.file, line, col)
        else:  # a built-in property with no statement of its own: the last step
            last = r.trace.steps[-1] if r.trace.steps else None
            where = _location(file if last is None or last.file is None else last.file,
                              None if last is None else last.line)
        out["message"] = {"text": text}
        out["locations"] = [where]
        out["codeFlows"] = [_code_flow(file, r)]
    else:
        out["message"] = {"text": f"{r.name} in {model}{config}: {verdict_text(r)}; "
                                  f"the model expects a violation"}
        out["locations"] = [_location(file)]
    out["partialFingerprints"] = {"speccheckObligation/v1": f"{file}|{t.task.label}|{r.name}"}
    out["properties"] = {"configuration": dict(t.task.configuration),
                         "replay": t.report.replay}
    return out


def _diagnostic_result(rules: _Rules, file: str, d: Diagnostic) -> dict[str, Any]:
    index = rules.add(d.code, CODES.get(d.code, d.code), "error")
    where = _location(file)
    if d.span is not None and d.span.source.text:
        line, col = d.span.line_col()
        where = _location(d.span.file, line, col)
    text = d.message + (f" (help: {d.hint})" if d.hint else "")
    return {"ruleId": d.code, "ruleIndex": index, "level": "error", "message": {"text": text},
            "locations": [where]}


def render(run: RunInfo, version: str) -> str:
    rules = _Rules()
    results: list[dict[str, Any]] = []
    for f in run.files:
        for d in f.diagnostics:
            results.append(_diagnostic_result(rules, f.file, d))
        if f.diagnostics:
            continue
        for t in f.tasks:
            assert t.report is not None
            for r in t.report.results:
                if unexpected(r):
                    results.append(_property_result(rules, t, r))
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "speccheck", "version": version,
                                "rules": rules.rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
