"""JUnit XML: one test suite per model file, one test case per obligation.

A result against its expectation (exit code 1) is a <failure> whose text is
the counterexample or the reason, as the text report shows it; an undecided
result (exit code 4: unknown, or only bounded where a violation is expected)
is an <error>; a file that could not be checked is one test case with an
<error> holding its diagnostics. With ``fail_on_vacuity`` a model with dead
steps or vacuous implications gets a failing ``coverage`` test case; a test
case answered from the cache says so in its <system-out>. Times are written
only with ``timings``, so the file is otherwise reproducible.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from checker.outcomes import FileOutcome, RunInfo, TaskOutcome
from checker.report.text import render_coverage, render_cti, render_trace, verdict_text
from checker.report.to_json import unexpected
from checker.results import PropertyResult, Verdict
from spec.diagnostics import render as render_diagnostic

CACHED = "answered from the result cache (counterexamples replayed)\n"
CACHED_REVALIDATED = ("answered from the result cache (counterexamples replayed, proofs "
                      "re-checked through their certificates)\n")


def _details(r: PropertyResult, replay: str) -> str:
    if r.trace is not None:
        lines = render_trace(r)
    elif r.cti is not None:
        lines = render_cti(r)
    else:
        lines = [f"{r.name}: {verdict_text(r)}"] + ([f"  {r.reason}"] if r.reason else [])
    return "\n".join([*lines, f"replay: {replay}"]) + "\n"


def _case(suite: ET.Element, f: FileOutcome, t: TaskOutcome, r: PropertyResult,
          timings: bool) -> tuple[int, int]:
    assert t.report is not None
    name = r.name + (f" [{t.task.label}]" if t.task.configuration else "")
    case = ET.SubElement(suite, "testcase", name=name, classname=t.report.model, file=f.file)
    if r.check_span is not None and r.check_span.source.text:
        case.set("line", str(r.check_span.line_col()[0]))
    if timings:
        case.set("time", f"{t.seconds / max(1, len(t.report.results)):.3f}")
    counts = (0, 0)
    if unexpected(r):
        what = ("unexpected violation" if r.verdict is Verdict.VIOLATED
                else "expected violation not found")
        el = ET.SubElement(case, "failure", message=f"{r.name}: {verdict_text(r)}", type=what)
        el.text = _details(r, t.report.replay)
        counts = (1, 0)
    elif not r.as_expected:
        el = ET.SubElement(case, "error", message=f"{r.name}: {verdict_text(r)}",
                           type="inconclusive")
        el.text = _details(r, t.report.replay)
        counts = (0, 1)
    if t.cached:  # after failure/error, where the usual JUnit schemas put system-out
        out = ET.SubElement(case, "system-out")
        out.text = CACHED_REVALIDATED if t.revalidated else CACHED
    return counts


def render(run: RunInfo, *, fail_on_vacuity: bool = False) -> str:
    root = ET.Element("testsuites", name="speccheck")
    totals = [0, 0, 0]  # tests, failures, errors
    for f in run.files:
        suite = ET.SubElement(root, "testsuite", name=f.file)
        tests = failures = errors = 0
        if f.diagnostics:
            case = ET.SubElement(suite, "testcase", name="(model)", classname=f.file,
                                 file=f.file)
            n = len(f.diagnostics)
            el = ET.SubElement(case, "error", type="specification error",
                               message=f"{n} error{'s' if n != 1 else ''}; nothing was checked")
            el.text = "\n".join(render_diagnostic(d) for d in f.diagnostics) + "\n"
            tests, errors = 1, 1
        for t in () if f.diagnostics else f.tasks:
            assert t.report is not None
            for r in t.report.results:
                bad, undecided = _case(suite, f, t, r, run.timings)
                tests, failures, errors = tests + 1, failures + bad, errors + undecided
            cov = t.report.coverage
            if fail_on_vacuity and cov is not None and not cov.clean:
                name = "coverage" + (f" [{t.task.label}]" if t.task.configuration else "")
                case = ET.SubElement(suite, "testcase", name=name, classname=t.report.model,
                                     file=f.file)
                el = ET.SubElement(case, "failure", type="vacuity",
                                   message="dead steps or vacuous implications")
                el.text = "\n".join(render_coverage(t.report)) + "\n"
                tests, failures = tests + 1, failures + 1
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", "0")
        if run.timings:
            suite.set("time", f"{sum(t.seconds for t in f.tasks):.3f}")
        totals = [totals[0] + tests, totals[1] + failures, totals[2] + errors]
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    if run.timings:
        root.set("time", f"{sum(t.seconds for f in run.files for t in f.tasks):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"
