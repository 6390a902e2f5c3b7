"""The all-sizes part of a model's page (``:all-sizes:``): a table of its own, apart
from the instance verdicts, saying for each property whether it was proved for every
size, how (the decidable fragment, the lemmas, the lock order for deadlock) or why
not; the lemmas found, in the modeling language; and each counterexample to
induction as a numbered trace labelled as what it is, not a violation. Pure
functions of the all-sizes ``ModelReport``; the words are the checker's."""

from __future__ import annotations

from collections.abc import Callable

from docutils import nodes

from checker.report.allsizes import proved
from checker.report.cells import cells, show_value
from checker.results import AllSizes, ModelReport, PropertyResult, Trace, Verdict
from checker.sphinx.doccomment import inline
from checker.sphinx.render import (
    Cell,
    _details,
    _literal,
    _rubric,
    _styled,
    configuration,
    step_nodes,
    table,
)

LEMMAS_OPEN = 12  # more lemmas than this are shown collapsed


def fragment_name(a: AllSizes) -> str:
    """The fragment's short name, for tables; the full one names the sort graph."""
    if not a.fragment:
        return "-"
    return "EPR" if a.fragment.startswith("EPR") else "stratified EPR"


def word(r: PropertyResult) -> tuple[str, str]:
    """What a property's all-sizes result is called, and its CSS class."""
    a = r.all_sizes
    if r.verdict is Verdict.VIOLATED:
        return "not tried: violated in this instance", "sc-config"
    if a is None:
        return "not tried", "sc-config"
    if proved(r):
        return a.verdict, "sc-proved"
    return a.verdict, "sc-unknown"


def verdict(r: PropertyResult) -> nodes.inline:
    said, cls = word(r)
    return nodes.inline(said, said, classes=["sc-verdict", cls])


def _sizes_text(sizes: tuple[tuple[str, int], ...]) -> str:
    names = {"Interp": ("interpreter", "interpreters"), "Thread": ("thread", "threads")}
    out = []
    for sort, n in sizes:
        one, many = names.get(sort, (f"element of {sort}", f"elements of {sort}"))
        out.append(f"{n} {one if n == 1 else many}")
    return ", ".join(out) or "no elements"


def _lemmas_cell(a: AllSizes) -> str:
    if not a.lemmas:
        return "none"
    if len(a.lemmas) <= 4:
        return ", ".join(a.lemmas)
    return f"{len(a.lemmas)} ({a.lemmas[0]} … {a.lemmas[-1]})"


def cti_nodes(r: PropertyResult, cti: Trace, sizes: tuple[tuple[str, int], ...],
              anchor: str) -> nodes.container:
    """A counterexample to induction: the pre-state, then the numbered step that
    breaks the property. Labelled as not a violation: the pre-state satisfies
    what the proof assumed but may be unreachable."""
    box = nodes.container(classes=["sc-cti"], ids=[anchor])
    box.append(_rubric(f"Counterexample to induction for all sizes: {r.name} "
                       "(NOT a violation)"))
    note = nodes.paragraph(classes=["sc-not-violation"])
    note.append(nodes.strong("Not a violation.", "Not a violation."))
    note.append(nodes.Text(
        f" A finite structure with {_sizes_text(sizes)}, found by z3 and replayed by the "
        "explicit evaluator as an instance of these sizes: its pre-state satisfies every "
        f"lemma and property the proof kept, and the step breaks {r.name}. The pre-state "
        "may be unreachable; the structure shows what a lemma would have to rule out."))
    box.append(note)
    if r.all_sizes is not None:
        box.append(_styled(r.all_sizes.reason, "sc-config"))
    pre = [f"{name} = {show_value(v)}" for _, name, v in cells(
        cti.var_names, cti.var_displays, cti.var_types, cti.states[0])]
    box.extend(_details(f"pre-state ({len(pre)} cells)", _literal("\n".join(pre)),
                        "sc-details sc-state", opened=True))
    steps = nodes.enumerated_list(enumtype="arabic", prefix="", suffix=".",
                                  classes=["sc-trace"])
    for i, step in enumerate(cti.steps):
        item = nodes.list_item(classes=["sc-cti-step"])
        item.extend(step_nodes(cti, i))
        if step.failure is not None:
            item.append(_styled(f"✗ {step.failure} (from a pre-state that may be "
                                "unreachable: not a violation)", "sc-cti-failure"))
        steps.append(item)
    box.append(steps)
    return box


def render(report: ModelReport, command: str, new_id: Callable[[], str],
           swept: bool) -> list[nodes.Node]:
    """The all-sizes section for the default configuration's report."""
    out: list[nodes.Node] = [_rubric("Proofs for all sizes")]
    tried = [r for r in report.results if r.all_sizes is not None]
    config = configuration(report)
    where = (f"the default configuration ({config})" if swept and config else
             f"this configuration ({config})" if config else "the model")
    if not tried:
        out.append(nodes.paragraph(
            "", f"Every property of {where} was found violated in the instance: a "
            "counterexample at one size settles it, so nothing was proved for all sizes."))
        out.append(nodes.paragraph("", "Check it yourself: ", nodes.literal(command, command)))
        return out
    sizes = list(dict.fromkeys(r.all_sizes.sizes for r in tried if r.all_sizes is not None))
    intro = nodes.paragraph()
    intro.extend(inline(
        f"Apart from the instance verdicts above, each property of {where} that the "
        "instance check did not find violated was given a proof for every size of the "
        f"sorts sized by a parameter: {'; '.join(sizes)}. It is proved for all sizes "
        "only when z3 decided every proof obligation in a fragment where its answer is "
        "complete; anything else is unknown, with the reason."))
    out.append(intro)
    anchors = {r.name: new_id() for r in tried
               if r.all_sizes is not None and r.all_sizes.cti is not None}
    rows: list[list[Cell]] = []
    for r in report.results:
        a = r.all_sizes
        shown: nodes.Node = verdict(r)
        if r.name in anchors:
            ref = nodes.reference("", "", refid=anchors[r.name])
            ref.append(shown)
            shown = ref
        how: Cell = inline(a.reason) if a is not None else "-"
        rows.append([nodes.literal(r.name, r.name), shown, how,
                     fragment_name(a) if a is not None and a.proved else "-",
                     _lemmas_cell(a) if a is not None and a.proved else "-"])
    out.append(table(["property", "all sizes", "how, or why not", "fragment", "lemmas used"],
                     rows, ["sc-results", "sc-allsizes"]))
    fragments = sorted({r.all_sizes.fragment for r in tried if r.all_sizes is not None
                        and r.all_sizes.proved and r.all_sizes.fragment})
    for f in fragments:
        para = nodes.paragraph()
        para.append(nodes.strong("Fragment: ", "Fragment: "))
        para.extend(inline(f))
        out.append(para)
    for r in tried:
        if r.name == "deadlock" and proved(r) and r.all_sizes is not None:
            para = nodes.paragraph()
            para.append(nodes.strong("Deadlock, by a lock order: ",
                                     "Deadlock, by a lock order: "))
            para.extend(inline(r.all_sizes.reason))
            out.append(para)
    if report.lemmas:
        n = len(report.lemmas)
        listing = "\n".join(f"lemma {name}: {text}" for name, text in report.lemmas)
        said = (f"{n} lemma{'s' if n != 1 else ''} found for all sizes, as `lemma` "
                "declarations (`--emit-lemmas FILE` writes them; added to the model, every "
                "engine checks them)")
        block = _literal(listing, "speccheck")
        if n > LEMMAS_OPEN:
            out.extend(_details(said.replace("`", ""), block, "sc-details sc-lemmas"))
        else:
            out.append(_styled(said + ":", "sc-lemmas"))
            out.append(block)
    for r in tried:
        a = r.all_sizes
        if a is not None and a.cti is not None:
            out.append(cti_nodes(r, a.cti, a.cti_sizes, anchors[r.name]))
    out.append(nodes.paragraph("", "Check it yourself: ", nodes.literal(command, command)))
    return out
