"""Which sorts an all-sizes proof treats as unbounded, and the instance it lifts from.

A sort is *sized by a parameter* when its declaration's size is a bare model
parameter: ``interpreters(INTERPS)``, ``threads(THREADS)``, ``sort Key(KEYS)``.
Those sorts become uninterpreted in ``checker.lift``; sorts with a literal size
(``interpreters(2)``) keep their size. An element the model names in its text
(``main`` always, ``sub1`` or ``t2`` when written) is *distinguished*: it is a
constant of the uninterpreted sort, and the proof covers every size that has
it. All other elements are interchangeable.

The lifting reads a *template* instance: the model lowered with each such sort
holding its distinguished elements plus ``GENERIC`` interchangeable ones, so
the lowering's enumerations of a whole sort can be recognised and checked to
treat every interchangeable element alike.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from spec import syntax as S
from spec.loader import LoadedModel

GENERIC = 3  # interchangeable elements in the template instance


class Unsupported(Exception):
    """The model has no form that holds for every size; the message says why."""


@dataclass(frozen=True)
class SortPlan:
    name: str                       # "Interp", "Thread", or a user sort
    param: str                      # the parameter that sizes it
    distinguished: tuple[str, ...]  # elements the model names, in sort order
    template: tuple[str, ...]       # the elements of the template instance

    @property
    def minimum(self) -> int:
        """The smallest size that has every distinguished element."""
        return max(1, self.named)

    @property
    def named(self) -> int:
        """How many elements come up to the last distinguished one."""
        return 1 + max((_index(self.name, d) for d in self.distinguished), default=-1)

    def is_distinguished(self, value: str) -> bool:
        return value in self.distinguished


@dataclass(frozen=True)
class SizePlan:
    sorts: tuple[SortPlan, ...]
    fixed: tuple[str, ...]           # sorts whose size is a literal
    defines: tuple[tuple[str, str], ...]  # -D options of the template instance

    def sort(self, name: str) -> SortPlan | None:
        for s in self.sorts:
            if s.name == name:
                return s
        return None

    def describe(self) -> str:
        """e.g. 'any number of interpreters (at least 1: main) and threads'."""
        parts = []
        for s in self.sorts:
            names = {"Interp": "interpreters", "Thread": "threads"}.get(
                s.name, f"elements of `{s.name}`")
            if s.distinguished:
                parts.append(f"{names} (at least {s.minimum}: {', '.join(s.distinguished)})")
            else:
                parts.append(names)
        if not parts:
            return "no sort is sized by a parameter"
        text = "any number of " + (", ".join(parts[:-1]) + " and " + parts[-1]
                                   if len(parts) > 1 else parts[0])
        if self.fixed:
            text += f" ({', '.join(self.fixed)} fixed by the model)"
        return text


def element_name(sort: str, i: int) -> str:
    """The i-th element (0-based) of a sort, as the type checker names it."""
    if sort == "Interp":
        return "main" if i == 0 else f"sub{i}"
    if sort == "Thread":
        return f"t{i + 1}"
    return f"{sort.lower()}{i + 1}"


def _index(sort: str, value: str) -> int:
    if sort == "Interp":
        return 0 if value == "main" else int(value[3:])
    prefix = "t" if sort == "Thread" else sort.lower()
    return int(value[len(prefix):]) - 1


def _is_element(sort: str, name: str) -> bool:
    if sort == "Interp":
        return name == "main" or re.fullmatch(r"sub[1-9][0-9]*", name) is not None
    prefix = "t" if sort == "Thread" else re.escape(sort.lower())
    return re.fullmatch(prefix + r"[1-9][0-9]*", name) is not None


def _names(node: object, out: list[S.Name], skip: frozenset[int]) -> None:
    """Every Name node under a syntax node (syntax nodes are frozen dataclasses)."""
    if id(node) in skip:
        return
    if isinstance(node, S.Name):
        out.append(node)
        return
    if isinstance(node, tuple | list):
        for x in node:
            _names(x, out, skip)
        return
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "span":
                _names(getattr(node, f.name), out, skip)


def plan(model: LoadedModel, defines: tuple[tuple[str, str], ...] = ()) -> SizePlan:
    """The parameterised sorts of a model, their distinguished elements and the
    template instance; Unsupported when a size parameter is used for anything
    but a size (then the model's behaviour may depend on it)."""
    sized: list[tuple[str, str, S.Expr]] = []  # (sort, parameter, size expression)
    fixed: list[str] = []
    params = {d.name for d in model.decls if isinstance(d, S.ParamDecl)}
    for d in model.decls:
        size: S.Expr | None = None
        if isinstance(d, S.InterpretersDecl):
            name, size = "Interp", d.size
        elif isinstance(d, S.ThreadsDecl):
            name, size = "Thread", d.size
        elif isinstance(d, S.SortDecl):
            name, size = d.name, d.size
        if size is None:
            continue
        if isinstance(size, S.Name) and size.id in params:
            sized.append((name, size.id, size))
        else:
            fixed.append(name)
    size_params = {p for _, p, _ in sized}
    # sizes, expectations and sweeps may mention the parameters; nothing else may
    skip = frozenset(id(e) for _, _, e in sized)
    for d in model.decls:
        if isinstance(d, S.ExpectDecl | S.SweepDecl):
            continue
        if isinstance(d, S.ParamDecl) and d.name in size_params:
            continue
        found: list[S.Name] = []
        _names(d, found, skip)
        for n in found:
            if n.id in size_params:
                line = n.span.line_col()[0] if n.span.source.text else "?"
                raise Unsupported(
                    f"the model uses the size parameter {n.id} outside the size of its sort "
                    f"(line {line}), so its behaviour may depend on the size")
    all_names: list[S.Name] = []
    for d in model.decls:
        _names(d, all_names, frozenset())
    words = {n.id for n in all_names}
    # `detached main` and gil(main) name main through the text too; main is always special
    sorts: list[SortPlan] = []
    overrides = {k: v for k, v in defines}
    for name, param, _ in sized:
        named = {w for w in words if _is_element(name, w)}
        if name == "Interp":
            named.add("main")
        dist = tuple(sorted(named, key=lambda v: _index(name, v)))
        top = 1 + max((_index(name, v) for v in dist), default=-1)
        template = tuple(element_name(name, i) for i in range(top + GENERIC))
        sorts.append(SortPlan(name, param, dist, template))
        overrides[param] = str(len(template))
    return SizePlan(tuple(sorts), tuple(fixed), tuple(sorted(overrides.items())))


def instance_defines(plan_: SizePlan, sizes: dict[str, int]) -> tuple[tuple[str, str], ...]:
    """-D options for the instance with the given size per parameterised sort."""
    out = dict(plan_.defines)
    for s in plan_.sorts:
        if s.name in sizes:
            out[s.param] = str(sizes[s.name])
    return tuple(sorted(out.items()))
