"""The human report: one line per property, then each counterexample as
numbered steps showing only what changed, then a replay line. A pure function
of the ModelReport (no z3, no I/O), so golden tests can pin it down."""

from __future__ import annotations

from checker.report import allsizes as all_sizes
from checker.report.cells import cells, show_value
from checker.results import ModelReport, PropertyResult, Trace, Verdict
from spec.sorts import Value

GREEN, RED, YELLOW, BOLD, RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def verdict_text(r: PropertyResult) -> str:
    if r.verdict is Verdict.BOUNDED:
        text = f"no violation up to depth {r.depth}"
    elif all_sizes.proved(r):
        text = "proved for all sizes"
    else:
        text = r.verdict.value
    if r.expected == "violated":
        text += " (expected)" if r.verdict is Verdict.VIOLATED else " (a violation was expected)"
    elif r.verdict is Verdict.VIOLATED:
        text += " (UNEXPECTED)"
    return text


def evidence(r: PropertyResult) -> str:
    if r.verdict is Verdict.VIOLATED and r.trace is not None:
        return f"{r.trace.length}-step trace, replayed"  # "1-step" reads fine
    if r.verdict is Verdict.PROVED and r.certificate is not None and r.states is not None:
        return (f"all {r.states} reachable states; certificate of {r.certificate.size} atoms, "
                "re-checked")
    if r.verdict is Verdict.PROVED and r.certificate is not None:
        return f"inductive invariant of {r.certificate.size} atoms, re-checked"
    if r.verdict is Verdict.PROVED and r.states is not None:
        return f"all {r.states} reachable states"
    if r.verdict is Verdict.BOUNDED:
        if r.reason and "time limit" in r.reason:
            return "bounded search only (time limit reached)"
        return "bounded search only"
    return r.reason or ""


def _color(text: str, r: PropertyResult, color: bool) -> str:
    if not color:
        return text
    if not r.as_expected:
        return RED + BOLD + text + RESET
    if r.verdict is Verdict.UNKNOWN or r.verdict is Verdict.BOUNDED:
        return YELLOW + text + RESET
    return GREEN + text + RESET


def render(report: ModelReport, *, color: bool = False, timings: bool = False,
           certificates: bool = False) -> str:
    out: list[str] = []
    params = " ".join(f"{n}={show_value(v)}" for n, v in report.params)
    out.append(f"{report.file}: model {report.model}" + (f" ({params})" if params else ""))
    width = max((len(r.name) for r in report.results), default=8)
    vwidth = max((len(verdict_text(r)) for r in report.results), default=8)
    for r in report.results:
        v = verdict_text(r).ljust(vwidth)
        engine, why = r.engine, evidence(r)
        if all_sizes.proved(r):
            assert r.all_sizes is not None
            engine, why = "allsizes", all_sizes.evidence(r.all_sizes, why)
        out.append(f"  {r.name.ljust(width)}  {_color(v, r, color)}  {engine:<8}  {why}"
                   .rstrip())
    out.append("result: " + summary(report.results))
    for r in report.results:
        if r.trace is not None:
            out.append("")
            out.extend(render_trace(r))
        elif r.cti is not None:
            out.append("")
            out.extend(render_cti(r))
        elif r.verdict is Verdict.UNKNOWN and r.reason:
            out.append(f"  {r.name}: unknown because {r.reason}")
    out.extend(all_sizes.render(report, render_cti))
    out.extend(render_coverage(report))
    out.extend(render_witness(report))
    certified = [r for r in report.results if r.certificate is not None]
    if certified and certificates:
        for r in certified:
            assert r.certificate is not None
            out.append("")
            out.append(f"certificate: {r.name} (inductive invariant, {r.certificate.size} atoms, "
                       "re-checked; one conjunct per line)")
            out.extend("  " + line for line in r.certificate.text.splitlines())
    elif certified:
        out.append(f"certificates: {len(certified)} (print them with --show-certificates, save "
                   "them with --certificate FILE)")
    if timings and report.seconds is not None:
        out.append(f"time: {report.seconds:.2f}s")
    out.append(f"replay: {report.replay}")
    return "\n".join(out) + "\n"


def summary(results: tuple[PropertyResult, ...]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        key = "bounded" if r.verdict is Verdict.BOUNDED else "proved for all sizes" \
            if all_sizes.proved(r) else r.verdict.value
        counts[key] = counts.get(key, 0) + 1
    if not results:
        return "no properties to check"
    parts = [f"{n} {k}" for k, n in counts.items()]
    bad = [r.name for r in results if not r.as_expected]
    tail = "all as expected" if not bad else "NOT as expected: " + ", ".join(bad)
    return ", ".join(parts) + " — " + tail


def render_trace(r: PropertyResult) -> list[str]:
    trace = r.trace
    assert trace is not None
    steps = "1 step" if trace.length == 1 else f"{trace.length} steps"
    lines = [f"counterexample: {r.name} ({steps}, replayed by the explicit evaluator)"]
    if r.message:
        lines.append(f"  {r.message}")
    lines.extend(_steps(trace, r.name))
    if r.trace is not None and len(trace.steps) < len(trace.states):
        lines.append(f"  ✗ {r.name} violated in state {len(trace.states) - 1}")
    if r.check_span is not None and r.check_span.source.text:
        line, col = r.check_span.line_col()
        source = r.check_span.source.line_text(line).strip()
        if len(source) > 100:
            source = source[:96] + " ..."
        lines.append(f"  check: {r.check_span.file}:{line}:{col}: {source}")
    return lines


def render_witness(report: ModelReport) -> list[str]:
    if report.witness_of is None:
        return []
    if report.witness is None and report.coverage is None:
        return ["", f"witness: `{report.witness_of}` was not searched (only the explicit "
                "search looks for witnesses: use --engine auto or explicit)"]
    if report.witness is None:
        return ["", f"witness: `{report.witness_of}` never fires in the explored states"]
    trace = report.witness
    steps = "1 step" if trace.length == 1 else f"{trace.length} steps"
    return ["", f"witness: `{report.witness_of}` fires after {steps} (shortest; explicit "
            "search)", *_steps(trace, report.witness_of)]


def _steps(trace: Trace, name: str) -> list[str]:
    lines = ["  state 0:"]
    first = _cells(trace, 0)
    lines.extend(_columns([f"{cell} = {show_value(v)}" for cell, v in first]))
    for i, step in enumerate(trace.steps):
        who = ""
        if step.actor is not None:
            who = f"thread {step.actor}" + (f" in {step.interp}" if step.interp else "") + ": "
        text = step.text
        if step.kind == "call":
            args = ", ".join(f"{n}={show_value(v)}" for n, v in step.params[1:])
            text = f"call {step.routine}({args})"
        elif step.kind == "action":
            args = ", ".join(f"{n}={show_value(v)}" for n, v in step.params)
            text = f"{step.routine}({args})"
        elif step.kind == "step":
            text = f"{step.routine}: {text}"
        where = f"  [line {step.line}]" if step.line else ""
        lines.append(f"  {i + 1}. {who}{text}{where}")
        if step.failure is not None:
            lines.append(f"       ✗ {name}: {step.failure}")
            continue
        if i + 1 < len(trace.states):
            before = dict(_cells(trace, i))
            for cell, v in _cells(trace, i + 1):
                if before.get(cell) != v:
                    lines.append(f"       {cell}: {show_value(before.get(cell))} -> "
                                 f"{show_value(v)}")
    return lines


def render_coverage(report: ModelReport) -> list[str]:
    cov = report.coverage
    if cov is None:
        return []
    where = "" if cov.complete else " (within the explored states only)"
    lines: list[str] = []
    if not cov.dead:
        lines.append(f"coverage: all {cov.actions} steps and actions can fire{where}")
    else:
        lines.append(f"coverage: {len(cov.dead)} of {cov.actions} steps never fire{where}:")
        for action_id, text_, line in cov.dead:
            lines.append(f"  {action_id}: {text_}" + (f"  [line {line}]" if line else ""))
    for name in cov.vacuous:
        lines.append(f"vacuity: `{name}` holds vacuously: the left side of its `->` is never "
                     f"true{where}")
    return lines


def render_cti(r: PropertyResult) -> list[str]:
    cti = r.cti
    assert cti is not None
    step = cti.steps[0]
    lines = [f"counterexample to induction: {r.name} (NOT a violation: the pre-state may be "
             "unreachable)"]
    if r.reason:
        lines.append(f"  {r.reason}")
    lines.append("  pre-state:")
    lines.extend(_columns([f"{name} = {show_value(v)}" for name, v in _cells(cti, 0)]))
    who = f"thread {step.actor}" + (f" in {step.interp}" if step.interp else "") + ": " \
        if step.actor is not None else ""
    args = ", ".join(f"{n}={show_value(v)}" for n, v in step.params
                     if step.kind != "step")
    text = (f"call {step.routine}({args})" if step.kind == "call" else
            f"{step.routine}({args})" if step.kind == "action" else
            f"{step.routine}: {step.text}")
    lines.append(f"  step: {who}{text}" + (f"  [line {step.line}]" if step.line else ""))
    before = dict(_cells(cti, 0))
    for name, v in _cells(cti, 1):
        if before.get(name) != v:
            lines.append(f"       {name}: {show_value(before.get(name))} -> {show_value(v)}")
    lines.append(f"  ✗ {step.failure}")
    return lines


def _cells(trace: Trace, i: int) -> list[tuple[str, Value]]:
    return [(name, v) for _, name, v in cells(trace.var_names, trace.var_displays,
                                               trace.var_types, trace.states[i])]


def _columns(items: list[str]) -> list[str]:
    lines, current = [], "    "
    for item in items:
        if len(current) + len(item) + 2 > 96 and current.strip():
            lines.append(current.rstrip())
            current = "    "
        current += item + "   "
    if current.strip():
        lines.append(current.rstrip())
    return lines
