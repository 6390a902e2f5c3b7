"""Configuration sweeps: check a model once per combination of its boolean and
enumeration parameters and collect the verdicts in a matrix.

Expectations are stated per configuration in the model (`expect violated R1
when GIL == own`), so each cell is compared with its own configuration's
expectation. Integer parameters (sizes) are not swept; `-D` fixes any
parameter, which then takes no part in the sweep.
"""

from __future__ import annotations

import itertools
import shlex
from dataclasses import replace

from checker.options import CheckOptions
from checker.results import ModelReport, PropertyResult, Verdict
from checker.run import build, check_with_coverage
from spec.loader import load_file
from spec.program import Program
from spec.sorts import BoolT, EnumT, Value
from spec.typecheck import check

MAX_CONFIGURATIONS = 256


def declared_sweep(path: str, options: CheckOptions) -> bool:
    """Whether the model itself asks to be swept (`sweep A, B`)."""
    return bool(check(load_file(path), dict(options.defines)).sweep)


def sweep_parameters(path: str, options: CheckOptions, *, all_parameters: bool = True
                     ) -> list[tuple[str, tuple[Value, ...]]]:
    program = check(load_file(path), dict(options.defines))
    return program_sweep(program, options, all_parameters=all_parameters)


def program_sweep(program: Program, options: CheckOptions, *, all_parameters: bool = True
                  ) -> list[tuple[str, tuple[Value, ...]]]:
    """The swept parameters of a checked program and the values each takes."""
    fixed = {n for n, _ in options.defines}
    chosen = None if all_parameters or not program.sweep else set(program.sweep)
    out: list[tuple[str, tuple[Value, ...]]] = []
    for p in program.params:
        if p.name in fixed or (chosen is not None and p.name not in chosen):
            continue
        if isinstance(p.type, BoolT):
            out.append((p.name, (False, True)))
        elif isinstance(p.type, EnumT):
            out.append((p.name, p.type.values))
    return out


def show(v: Value) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def sweep_file(path: str, options: CheckOptions, *, all_parameters: bool = True
               ) -> tuple[list[str], list[ModelReport]]:
    """(parameter names, one report per configuration in sweep order)."""
    params = sweep_parameters(path, options, all_parameters=all_parameters)
    names = [n for n, _ in params]
    combos = list(itertools.product(*(values for _, values in params)))
    if len(combos) > MAX_CONFIGURATIONS:
        from spec import codes
        from spec.diagnostics import SpecError
        raise SpecError([codes.make("SC504", f"--sweep over {', '.join(names)} has "
                                    f"{len(combos)} configurations; the limit is "
                                    f"{MAX_CONFIGURATIONS}", None,
                                    hint="fix some parameters with -D")])
    model = load_file(path)
    reports: list[ModelReport] = []
    for combo in combos:
        defines = (*options.defines, *((n, show(v)) for n, v in zip(names, combo, strict=True)))
        opts = replace(options, defines=tuple(defines))
        ts = build(model, opts)
        results, states, coverage, _ = check_with_coverage(ts, opts)
        replay = shlex.join(["speccheck", path, *opts.replay_args()])
        reports.append(ModelReport(path, ts.name, ts.params, tuple(results), replay, states,
                                   coverage=coverage))
    return names, reports


def cell(r: PropertyResult) -> str:
    word = {Verdict.PROVED: "proved", Verdict.VIOLATED: "violated",
            Verdict.BOUNDED: "bounded", Verdict.UNKNOWN: "unknown"}[r.verdict]
    if r.expected == "violated":
        return word + (" (exp)" if r.verdict is Verdict.VIOLATED else " !")
    return word + (" !" if r.verdict is Verdict.VIOLATED else "")


def render_matrix(path: str, names: list[str], reports: list[ModelReport]) -> str:
    if not reports:
        return f"{path}: nothing to sweep\n"
    props = [r.name for r in reports[0].results]
    header = [*names, *props]
    rows: list[list[str]] = []
    for rep in reports:
        values = dict(rep.params)
        by_name = {r.name: r for r in rep.results}
        rows.append([show(values[n]) for n in names]
                    + [cell(by_name[p]) if p in by_name else "-" for p in props])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = [f"{path}: sweep over {', '.join(names) or 'no parameters'} "
             f"({len(reports)} configuration{'s' if len(reports) != 1 else ''})"]
    lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                     .rstrip())
    lines.append("  (exp) = a violation the model expects in this configuration; "
                 "! = not as expected")
    bad = [rep for rep in reports if not all(r.as_expected for r in rep.results)]
    if bad:
        lines.append("not as expected; replay one configuration with:")
        lines.extend(f"  {rep.replay}" for rep in bad)
    else:
        lines.append("every configuration as expected")
    return "\n".join(lines) + "\n"
