"""The all-sizes part of the human report (``--all-sizes``): which sizes a proof
covers, in which decidable fragment, the lemmas it used, and for each property
not proved for all sizes why, with its counterexample to induction on a small
finite structure. Kept apart from the instance verdicts on purpose."""

from __future__ import annotations

from dataclasses import replace

from checker.results import AllSizes, ModelReport, PropertyResult, Verdict


def proved(r: PropertyResult) -> bool:
    return r.all_sizes is not None and r.all_sizes.proved and r.verdict is not Verdict.VIOLATED


def evidence(a: AllSizes, instance: str) -> str:
    """The evidence column of a property proved for all sizes."""
    frag = "EPR" if a.fragment and a.fragment.startswith("EPR") else "stratified EPR"
    lemmas = f"{len(a.lemmas)} lemma{'s' if len(a.lemmas) != 1 else ''}" if a.lemmas else \
        "no lemma"
    return f"{frag}, {lemmas}" + (f"; this instance: {instance}" if instance else "")


def _sizes_text(sizes: tuple[tuple[str, int], ...]) -> str:
    names = {"Interp": ("interpreter", "interpreters"), "Thread": ("thread", "threads")}
    parts = []
    for sort, n in sizes:
        one, many = names.get(sort, (f"`{sort}`", f"`{sort}`s"))
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def render(report: ModelReport, render_cti: object) -> list[str]:
    """Lines after the instance results; `render_cti` is text.render_cti."""
    tried = [r for r in report.results if r.all_sizes is not None]
    if not tried:
        return []
    first = tried[0].all_sizes
    assert first is not None
    out = ["", f"all sizes: {first.sizes}"]
    frags = sorted({r.all_sizes.fragment for r in tried
                    if r.all_sizes is not None and r.all_sizes.proved and r.all_sizes.fragment})
    for f in frags:
        out.append(f"  fragment: {f}")
    for r in tried:
        a = r.all_sizes
        assert a is not None
        if a.proved and r.name == "deadlock":
            out.append(f"  deadlock: {a.reason}")
    for r in tried:
        a = r.all_sizes
        assert a is not None
        if a.proved:
            continue
        if a.cti is None:
            out.append(f"  {r.name}: all sizes unknown because {a.reason}")
            continue
        lines = render_cti(replace(r, cti=a.cti, reason=a.reason))  # type: ignore[operator]
        lines[0] = (f"counterexample to induction for all sizes: {r.name} (NOT a violation: "
                    f"a structure with {_sizes_text(a.cti_sizes)}, replayed as an instance "
                    "of these sizes; its pre-state may be unreachable)")
        out.append("")
        out.extend(lines)
    if report.lemmas:
        out.append(f"lemmas found for all sizes ({len(report.lemmas)}; write them with "
                   "--emit-lemmas FILE):")
        out.extend(f"  {name}: {text}" for name, text in report.lemmas)
    return out
