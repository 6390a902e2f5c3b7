"""A checked model as document nodes: doc comment, references, parameters, the
verdict table, the sweep matrix, certificates, counterexamples (numbered and
drawn), expectations, coverage, the replay command, the CLI output and the
source. Pure functions of a ``runner.Outcome``; the words for verdicts and
evidence are the text report's (``checker.report.text``)."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from docutils import nodes

from checker.report import svg
from checker.report.cells import cells, show_value
from checker.report.steps import action_text, changes
from checker.report.text import evidence, render_cti, verdict_text
from checker.results import ModelReport, PropertyResult, Trace, Verdict
from checker.sphinx.doccomment import blocks, inline, references
from checker.sphinx.runner import Outcome

PARTS = ("doc", "references", "parameters", "results", "matrix", "all-sizes", "certificates",
         "traces", "expectations", "coverage", "replay", "output", "source")
DEFAULT_PARTS = frozenset(PARTS) - {"output", "source"}
CERTIFICATE_LINES = 300  # a longer certificate is cut (the CLI prints it whole)


def verdict_class(r: PropertyResult) -> str:
    if not r.as_expected:
        return "sc-unexpected"
    if r.verdict is Verdict.PROVED:
        return "sc-proved"
    if r.verdict is Verdict.VIOLATED:
        return "sc-expected"
    return "sc-bounded" if r.verdict is Verdict.BOUNDED else "sc-unknown"


def configuration(report: ModelReport) -> str:
    return " ".join(f"{n}={show_value(v)}" for n, v in report.params)


def _cell(content: str | nodes.Node | Sequence[nodes.Node]) -> nodes.entry:
    entry = nodes.entry()
    if isinstance(content, str):
        entry.append(nodes.paragraph(content, content))
    elif isinstance(content, nodes.Node):
        entry.append(content if isinstance(content, nodes.paragraph)
                     else nodes.paragraph("", "", content))
    else:
        para = nodes.paragraph()
        para.extend(content)
        entry.append(para)
    return entry


Cell = str | nodes.Node | list[nodes.Node]


def table(header: Sequence[str], rows: Sequence[Sequence[Cell]],
          classes: Sequence[str] = ()) -> nodes.table:
    """A plain table; a cell may be an entry already (to span rows)."""
    tab = nodes.table(classes=["sc-table", *classes])
    group = nodes.tgroup(cols=len(header))
    tab.append(group)
    for _ in header:
        group.append(nodes.colspec(colwidth=1))
    head = nodes.thead()
    row = nodes.row()
    for h in header:
        row.append(_cell(h))
    head.append(row)
    group.append(head)
    body = nodes.tbody()
    for cells_ in rows:
        row = nodes.row()
        for c in cells_:
            row.append(c if isinstance(c, nodes.entry) else _cell(c))
        body.append(row)
    group.append(body)
    return tab


def verdict_node(r: PropertyResult, text: str | None = None) -> nodes.inline:
    shown = text if text is not None else verdict_text(r)
    return nodes.inline(shown, shown, classes=["sc-verdict", verdict_class(r)])


def _details(summary: str, body: nodes.Node, classes: str = "sc-details",
             opened: bool = False) -> list[nodes.Node]:
    """A collapsed (or open) block in HTML; other builders show the body as it is."""
    start = f'<details class="{classes}"{" open" if opened else ""}>'
    return [nodes.raw("", f'{start}<summary>{html.escape(summary)}</summary>',
                      format="html"),
            body,
            nodes.raw("", "</details>", format="html")]


def _literal(text: str, language: str = "none", linenos: bool = False) -> nodes.literal_block:
    block = nodes.literal_block(text, text)
    block["language"] = language
    if linenos:
        block["linenos"] = True
    return block


def _styled(text: str, cls: str) -> nodes.paragraph:
    """A paragraph of checker text, its `code` spans set as code."""
    para = nodes.paragraph(classes=[cls])
    para.extend(inline(text))
    return para


def _rubric(text: str) -> nodes.rubric:
    return nodes.rubric(text, text)


# ---- the parts --------------------------------------------------------------------------


def _parameters(o: Outcome) -> list[nodes.Node]:
    assert o.info is not None
    if not o.info.params:
        return []
    swept = set(o.swept or ())
    rows: list[list[Cell]] = []
    for p in o.info.params:
        value = f"{p.value} (swept)" if p.name in swept else p.value
        rows.append([nodes.literal(p.name, p.name), value,
                     ", ".join(p.values) if p.values else p.type, inline(" ".join(p.docs))])
    return [_rubric("Parameters"),
            table(["parameter", "value" if not swept else "default", "values", "meaning"],
                  rows, ["sc-params"])]


def _results_table(report: ModelReport, anchors: dict[tuple[int, str], str], index: int
                   ) -> nodes.table:
    rows: list[list[Cell]] = []
    for r in report.results:
        shown: nodes.Node = verdict_node(r)
        target = anchors.get((index, r.name))
        if target is not None:
            ref = nodes.reference("", "", refid=target)
            ref.append(shown)
            shown = ref
        rows.append([nodes.literal(r.name, r.name), shown, r.engine, evidence(r),
                     inline(r.description)])
    return table(["property", "verdict", "engine", "evidence", "meaning"], rows,
                 ["sc-results"])


def _results(o: Outcome, anchors: dict[tuple[int, str], str]) -> list[nodes.Node]:
    if not o.reports:
        return []
    if not o.swept:  # a single run (or a sweep with every parameter fixed by -D)
        out: list[nodes.Node] = []
        for i, report in enumerate(o.reports):
            config = configuration(report)
            out.append(_rubric("Properties" + (f" ({config})" if config else "")))
            out.append(_results_table(report, anchors, i))
        return out
    if o.default is None:
        return []
    report = o.reports[o.default]
    title = f"Properties in the default configuration ({configuration(report)})"
    return [_rubric(title), _results_table(report, anchors, o.default)]


def _matrix(o: Outcome, anchors: dict[tuple[int, str], str]) -> list[nodes.Node]:
    if not o.swept or not o.reports:
        return []
    props = [r.name for r in o.reports[0].results]
    rows: list[list[Cell]] = []
    for i, report in enumerate(o.reports):
        values = dict(report.params)
        row: list[Cell] = [show_value(values.get(n)) for n in o.swept]
        by_name = {r.name: r for r in report.results}
        for p in props:
            r = by_name.get(p)
            if r is None:
                row.append("-")
                continue
            word = "bounded" if r.verdict is Verdict.BOUNDED else r.verdict.value
            shown: nodes.Node = verdict_node(r, word + (" (exp)" if r.expected == "violated"
                                                        and r.verdict is Verdict.VIOLATED
                                                        else " !" if not r.as_expected
                                                        else ""))
            target = anchors.get((i, p))
            if target is not None:
                ref = nodes.reference("", "", refid=target)
                ref.append(shown)
                shown = ref
            row.append(shown)
        rows.append(row)
    n = len(o.reports)
    intro = nodes.paragraph(
        "", f"Every combination of {', '.join(o.swept)} ({n} configuration"
        f"{'s' if n != 1 else ''}), each checked with its own expectations: (exp) marks a "
        "violation the model expects there, ! a result against expectation. A violated "
        "cell links to its counterexample.")
    wide = nodes.container(classes=["sc-scroll"])  # many properties: scroll, not overflow
    # a narrow column may break a long property name after an underscore
    header = [*o.swept, *(p.replace("_", "_\u200b") for p in props)]
    wide.append(table(header, rows, ["sc-matrix"]))
    return [_rubric("Configuration matrix"), intro, wide]


def _certificates(o: Outcome) -> list[nodes.Node]:
    if not o.reports:
        return []
    report = o.reports[o.default if o.default is not None else 0]
    groups: dict[str, list[PropertyResult]] = {}
    for r in report.results:
        if r.certificate is not None:
            groups.setdefault(r.certificate.text, []).append(r)
    if not groups:
        return []
    out: list[nodes.Node] = [_rubric("Certificates"), nodes.paragraph(
        "", "Each proof comes with an inductive invariant that implies the property and "
        "was re-checked by an independent SMT query; one conjunct per line.")]
    for text_, rs in groups.items():
        cert = rs[0].certificate
        assert cert is not None
        lines = text_.splitlines()
        shown = "\n".join(lines[:CERTIFICATE_LINES])
        if len(lines) > CERTIFICATE_LINES:
            shown += (f"\n... {len(lines) - CERTIFICATE_LINES} more lines; the whole "
                      f"certificate: {o.request.command()} --show-certificates")
        names = ", ".join(r.name for r in rs)
        out.extend(_details(f"certificate of {names} ({cert.size} atoms, re-checked)",
                            _literal(shown)))
    return out


def _who(trace: Trace, i: int) -> list[nodes.Node]:
    step = trace.steps[i]
    out: list[nodes.Node] = []
    if step.actor is not None:
        out.append(nodes.strong(f"thread {step.actor}", f"thread {step.actor}"))
        if step.interp:
            out += [nodes.Text(" in "), nodes.emphasis(step.interp, step.interp)]
        out.append(nodes.Text(": "))
    said = action_text(step)
    out.append(nodes.literal(said, said))
    if step.line:
        out.append(nodes.Text(f"  (line {step.line})"))
    return out


def step_nodes(trace: Trace, i: int) -> list[nodes.Node]:
    """Step i of a trace: who ran what where, then each cell it changed."""
    para = nodes.paragraph()
    para.extend(_who(trace, i))
    out: list[nodes.Node] = [para]
    shown = [c for c in changes(trace, i) if c.kind != "pc"]
    if shown:
        bullets = nodes.bullet_list(classes=["sc-changes"])
        for c in shown:
            said = f"{c.cell}: {c.before} → {c.after}"
            li = nodes.list_item(classes=[f"sc-{c.kind}"])
            li.append(nodes.paragraph("", "", nodes.literal(said, said)))
            bullets.append(li)
        out.append(bullets)
    return out


def trace_nodes(r: PropertyResult, trace: Trace) -> list[nodes.Node]:
    """The counterexample as a numbered list: one item per step with what it changed."""
    first = [f"{name} = {show_value(v)}" for _, name, v in cells(
        trace.var_names, trace.var_displays, trace.var_types, trace.states[0])]
    out: list[nodes.Node] = [*_details("initial state", _literal("\n".join(first)),
                                       "sc-details sc-state")]
    steps = nodes.enumerated_list(enumtype="arabic", prefix="", suffix=".",
                                  classes=["sc-trace"])
    last = len(trace.steps) - 1
    state_bad = len(trace.steps) < len(trace.states)
    for i, step in enumerate(trace.steps):
        item = nodes.list_item()
        item.extend(step_nodes(trace, i))
        bad = step.failure is not None or (state_bad and i == last)
        if step.failure is not None:
            item.append(_styled(f"✗ {r.name}: {step.failure}", "sc-failure"))
        elif bad:
            item.append(_styled(f"✗ {r.name} violated in state {i + 1}" + (
                f": {r.message}" if r.message else ""), "sc-failure"))
        if bad:
            item["classes"].append("sc-violation")
        steps.append(item)
    out.append(steps)
    return out


def _counterexample(report: ModelReport, r: PropertyResult, anchor: str) -> nodes.container:
    assert r.trace is not None
    box = nodes.container(classes=["sc-counterexample"], ids=[anchor])
    config = configuration(report)
    steps = "1 step" if r.trace.length == 1 else f"{r.trace.length} steps"
    box.append(_rubric(f"Counterexample: {r.name} {verdict_text(r)}"
                       + (f" — {config}" if config else "")))
    if r.message:
        box.append(_styled(r.message, "sc-message"))
    box.append(nodes.paragraph(
        "", f"{steps}, replayed by the explicit evaluator. One lane per thread; "
        "the bar beside a lane is its current interpreter, the thin bars the "
        "locks it holds."))
    picture = svg.render(r.trace, prop=r.name, message=r.message,
                         title=svg.picture_title(report, r))
    box.append(nodes.raw("", f'<div class="sc-svg">{picture}</div>', format="html"))
    box.extend(trace_nodes(r, r.trace))
    box.append(nodes.paragraph("", "Replay: ", nodes.literal(report.replay, report.replay)))
    return box


def _traces(o: Outcome, anchors: dict[tuple[int, str], str]) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for i, report in enumerate(o.reports):
        for r in report.results:
            if r.trace is not None:
                out.append(_counterexample(report, r, anchors[(i, r.name)]))
            elif r.cti is not None:
                listing = "\n".join(render_cti(r))
                out.append(_rubric(f"Counterexample to induction: {r.name}"))
                out.append(_literal(listing))
    out = ([_rubric("Counterexamples")] + out) if out else []
    if o.examples:
        out.append(_rubric("Expected violations in other configurations"))
        out.append(nodes.paragraph(
            "", "The model expects these violations in configurations not checked above. "
            "For each, the first configuration where it is expected (in the order of ",
            nodes.literal("--sweep", "--sweep"),
            nodes.Text(") was checked, without certificates, to show its counterexample.")))
        bullets = nodes.bullet_list()
        for report in o.examples:
            item = nodes.paragraph()
            item.append(nodes.literal(configuration(report), configuration(report)))
            item.append(nodes.Text(": "))
            for n, r in enumerate(report.results):
                item.append(nodes.Text(", " if n else ""))
                item.append(nodes.Text(f"{r.name} "))
                item.append(verdict_node(r))
            bullets.append(nodes.list_item("", item))
        out.append(bullets)
        for j, report in enumerate(o.examples):
            for r in report.results:
                if r.trace is not None:
                    out.append(_counterexample(report, r,
                                               anchors[(len(o.reports) + j, r.name)]))
    return out


def _expectations(o: Outcome) -> list[nodes.Node]:
    assert o.info is not None
    if not o.info.expects:
        return []
    bullets = nodes.bullet_list()
    for outcome_, prop, said in o.info.expects:
        seen = [report for report in o.reports for r in report.results
                if r.name == prop and r.expected == outcome_]
        para = nodes.paragraph()
        para.append(nodes.literal(said, said))
        example = [report for report in o.examples for r in report.results
                   if r.name == prop and r.expected == outcome_]
        if seen:
            configs = sorted({configuration(rep) for rep in seen})
            shown = "; ".join(c or "default" for c in configs[:4]) + (
                f"; and {len(configs) - 4} more" if len(configs) > 4 else "")
            para.append(nodes.Text(f" — applies on this page: {shown}"))
        elif example:
            shown = configuration(example[0])
            para.append(nodes.Text(f" — shown below in {shown}"))
        else:
            para.append(nodes.Text(" — no configuration on this page meets this condition; "
                                   "check it with "))
            cmd = f"speccheck --sweep {o.request.path}"
            para.append(nodes.literal(cmd, cmd))
        bullets.append(nodes.list_item("", para))
    return [_rubric("Expectations"), bullets]


def _coverage(o: Outcome) -> list[nodes.Node]:
    if not o.reports:
        return []
    report = o.reports[o.default if o.default is not None else 0]
    cov = report.coverage
    if cov is None:
        return []
    where = "" if cov.complete else " (within the explored states)"
    if not cov.dead:
        said = f"Coverage: all {cov.actions} steps and actions can fire{where}."
        out: list[nodes.Node] = [nodes.paragraph(said, said)]
    else:
        said = f"Coverage: {len(cov.dead)} of {cov.actions} steps never fire{where}:"
        bullets = nodes.bullet_list()
        for action_id, text_, line in cov.dead:
            item = f"{action_id}: {text_}" + (f" (line {line})" if line else "")
            bullets.append(nodes.list_item("", nodes.paragraph(
                "", "", nodes.literal(item, item))))
        out = [nodes.paragraph(said, said), bullets]
    for name in cov.vacuous:
        said = f"`{name}` holds vacuously: the left side of its -> is never true{where}."
        out.append(nodes.paragraph(said, said))
    return out


def render(o: Outcome, parts: frozenset[str], new_id: Callable[[], str]) -> list[nodes.Node]:
    """The nodes for one checked model; ``new_id`` gives document-unique ids."""
    out: list[nodes.Node] = []
    info = o.info
    if o.error is not None:
        out.append(nodes.paragraph("", "speccheck failed with an internal error:"))
        out.append(_literal(o.error))
        return out
    if info is not None and "doc" in parts and info.docs:
        out.extend(blocks(info.docs))
    if info is not None and "references" in parts:
        refs = references(info.doc_lines)
        if refs:
            para = nodes.paragraph(classes=["sc-references"])
            para.append(nodes.strong("CPython references: ", "CPython references: "))
            for n, ref in enumerate(refs):
                if n:
                    para.append(nodes.Text(", "))
                para.append(nodes.reference(ref.label, ref.label, refuri=ref.url))
            out.append(para)
    if o.diagnostics:
        out.append(nodes.paragraph("", "The model has errors; nothing was checked:",
                                   classes=["sc-unexpected"]))
        out.append(_literal("\n".join(o.diagnostics)))
    anchors = {(i, r.name): new_id() for i, rep in enumerate((*o.reports, *o.examples))
               for r in rep.results if r.trace is not None}
    if info is not None and "parameters" in parts:
        out.extend(_parameters(o))
    if "results" in parts:
        out.extend(_results(o, anchors if "traces" in parts else {}))
    if "matrix" in parts:
        out.extend(_matrix(o, anchors if "traces" in parts else {}))
    if "all-sizes" in parts and o.all_sizes is not None:
        from checker.sphinx import allsizes  # built on this module's helpers
        out.extend(allsizes.render(o.all_sizes, o.all_sizes_command, new_id,
                                   o.swept is not None))
    if "coverage" in parts:
        out.extend(_coverage(o))
    if "expectations" in parts and info is not None:
        out.extend(_expectations(o))
    if "certificates" in parts:
        out.extend(_certificates(o))
    if "traces" in parts:
        out.extend(_traces(o, anchors))
    if "replay" in parts:
        cmd = o.request.command()
        out.append(nodes.paragraph("", "Check it yourself: ", nodes.literal(cmd, cmd)))
    if "output" in parts:
        # a single configuration proved for all sizes prints as `speccheck --all-sizes`
        first = o.all_sizes_command if o.all_sizes is not None and o.swept is None \
            else o.request.command()
        out.append(_literal(f"$ {first}\n{o.text.rstrip()}", "none"))
    if "source" in parts and info is not None:
        lines = info.source.count("\n") + 1
        out.extend(_details(f"model source: {o.request.path} ({lines} lines)",
                            _literal(info.source, "speccheck", linenos=True),
                            "sc-details sc-source"))
    return out
