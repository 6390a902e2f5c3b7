"""Mutation testing of models: does the model notice when its code is wrong?

A model is only as good as its properties. ``speccheck mutate FILE`` derives
*mutants* of the model's top-level file, each with one deliberate mistake in
its code, checks each one, and reports which mistakes the properties catch.
The mutation operators (on the syntax tree, printed back to text with
``spec.printer``):

* ``await``: an ``await`` is dropped (its condition becomes true);
* ``if``: an ``if`` condition that reads state becomes ``true`` (conditions on
  parameters only select a configuration and are left alone);
* ``lock``: an ``acquire`` is dropped together with the next ``release`` of the
  same lock in the same routine;
* ``owner``: a comparison with ``owner(...)``, ``cur(...)``, ``bound(...)`` or
  ``holder(...)`` in a condition or definition is inverted (``==`` <-> ``!=``);
* ``switch``: a ``switch to`` is dropped together with the ``switch back``
  statements that follow it (before the next ``switch to``), so the code runs
  in the caller's interpreter.

Each mutant has a stable id, ``ROUTINE/OPERATOR/N`` (the N-th site of that
operator in that routine, in source order; ``def NAME/owner/N`` for
definitions), so ids survive edits elsewhere in the file.

A mutant is *killed* when some result is not as the model expects (a
property violated, or an expected violation gone), *survived* when every
result is as expected, *undecided* when a result is unknown (time or state
limits), *invalid* when it does not type-check, and *unchanged* when its
transition system is identical to the model's (the mistake sits in a branch
this configuration does not compile). A surviving mutant is either a missing
property or an *equivalent* mutant, which the model explains with a comment
in its top-level file::

    // mutant cache_get/if/1: equivalent because reading an absent item is allowed

The score is killed / (killed + survived + undecided), equivalent mutants left
out. Explanations that name no mutant, or a mutant that is killed, are
reported as stale.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from checker.ir import TransitionSystem
from checker.options import CheckOptions
from checker.results import ExitCode, PropertyResult, Verdict
from checker.run import build, check_with_coverage
from checker.sweep import program_sweep, show
from spec import syntax as S
from spec.diagnostics import SpecError
from spec.loader import LoadedModel, load_file, load_text_at
from spec.parser import parse
from spec.printer import print_expr, print_module, print_stmt
from spec.source import Span
from spec.typecheck import check

OPERATORS = ("await", "if", "lock", "owner", "switch")
OWNERSHIP = frozenset({"owner", "cur", "bound", "holder"})
MARKER = re.compile(r"//\s*mutant\s+(\S+?)\s*:\s*equivalent\s+because\s+(\S.*?)\s*$",
                    re.MULTILINE)

KILLED, SURVIVED, EQUIVALENT, UNDECIDED, INVALID, UNCHANGED = (
    "killed", "survived", "equivalent", "undecided", "invalid", "unchanged")


class MutationError(Exception):
    """The model cannot be mutation-tested (it does not give its expected results)."""


@dataclass(frozen=True)
class Mutant:
    id: str                 # ROUTINE/OPERATOR/N
    operator: str
    line: int
    description: str        # what changes, in the model's words
    module: S.Module        # the mutated top-level file


@dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    outcome: str            # KILLED, SURVIVED, EQUIVALENT, UNDECIDED, INVALID, UNCHANGED
    detail: str             # which property caught it, why it is undecided or invalid
    seconds: float


@dataclass(frozen=True)
class MutationReport:
    file: str
    model: str
    configurations: tuple[tuple[tuple[str, str], ...], ...]
    results: tuple[MutantResult, ...]
    stale: tuple[tuple[str, str], ...]      # (id, why the explanation is stale)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def scored(self) -> int:
        return self.count(KILLED) + self.count(SURVIVED) + self.count(UNDECIDED)

    @property
    def score(self) -> float | None:
        return self.count(KILLED) / self.scored if self.scored else None

    @property
    def unexplained(self) -> tuple[MutantResult, ...]:
        return tuple(r for r in self.results if r.outcome == SURVIVED)


# ---- finding the mutation sites ------------------------------------------------------


def _rebuild(node: object, swaps: dict[int, object]) -> object:
    """`node` with the nodes whose ids are in `swaps` replaced (spans kept)."""
    if id(node) in swaps:
        return swaps[id(node)]
    if isinstance(node, tuple):
        items = tuple(_rebuild(x, swaps) for x in node)
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changed = {}
        for f in dataclasses.fields(node):
            old = getattr(node, f.name)
            new = _rebuild(old, swaps)
            if new is not old:
                changed[f.name] = new
        return replace(node, **changed) if changed else node
    return node


def _flat(block: S.Block) -> Iterator[S.Stmt]:
    """Every statement of a block, nested ones included, in source order."""
    for s in block.stmts:
        yield s
        if isinstance(s, S.If):
            yield from _flat(s.then)
            if s.orelse is not None:
                yield from _flat(s.orelse)
        elif isinstance(s, S.Atomic):
            yield from _flat(s.body)


def _exprs(e: S.Expr) -> Iterator[S.Expr]:
    yield e
    match e:
        case S.Call(_, args) | S.Index(_, args):
            for a in args:
                yield from _exprs(a)
        case S.Unary(_, x):
            yield from _exprs(x)
        case S.Binary(_, a, b):
            yield from _exprs(a)
            yield from _exprs(b)
        case S.Ite(c, a, b):
            yield from _exprs(c)
            yield from _exprs(a)
            yield from _exprs(b)
        case S.Quant(_, _, _, body):
            yield from _exprs(body)


def _ownership_checks(e: S.Expr) -> list[S.Binary]:
    return [x for x in _exprs(e) if isinstance(x, S.Binary) and x.op in ("==", "!=")
            and any(isinstance(side, S.Call) and side.fn in OWNERSHIP
                    for side in (x.left, x.right))]


def _constant(e: S.Expr, constants: frozenset[str]) -> bool:
    """Whether a condition reads only parameters and literals (it picks a configuration)."""
    for x in _exprs(e):
        if isinstance(x, S.Call | S.Index | S.Quant):
            return False
        if isinstance(x, S.Name) and x.id not in constants:
            return False
    return True


def _skip(s: S.Stmt) -> S.Skip:
    return S.Skip(span=s.span)


def _line(span: Span) -> int:
    return span.line_col()[0]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Sites:
    """Collects the mutants of one top-level module."""

    def __init__(self, module: S.Module, constants: frozenset[str]) -> None:
        self.module = module
        self.constants = constants
        self.found: list[Mutant] = []
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, routine: str, op: str, span: Span, what: str,
            swaps: dict[int, object]) -> None:
        n = self.counts[(routine, op)] = self.counts.get((routine, op), 0) + 1
        module = _rebuild(self.module, swaps)
        assert isinstance(module, S.Module)
        self.found.append(Mutant(f"{routine}/{op}/{n}", op, _line(span), what, module))

    def routine(self, name: str, body: S.Block) -> None:
        stmts = list(_flat(body))
        for i, s in enumerate(stmts):
            if isinstance(s, S.Await) and not (isinstance(s.cond, S.BoolLit) and s.cond.value):
                self.add(name, "await", s.span, f"drop `{_one_line(print_stmt(s))}`",
                         {id(s): _skip(s)})
            elif isinstance(s, S.If) and not _constant(s.cond, self.constants):
                self.add(name, "if", s.span, f"`if {_one_line(print_expr(s.cond))}` -> "
                         "`if true`", {id(s.cond): S.BoolLit(True, span=s.cond.span)})
            elif isinstance(s, S.Acquire):
                swaps: dict[int, object] = {id(s): _skip(s)}
                what = f"drop `acquire {_one_line(print_expr(s.lock))}`"
                for later in stmts[i + 1:]:
                    if isinstance(later, S.Release) and later.lock == s.lock:
                        swaps[id(later)] = _skip(later)
                        what += f" and its release (line {_line(later.span)})"
                        break
                self.add(name, "lock", s.span, what, swaps)
            elif isinstance(s, S.SwitchTo):
                swaps = {id(s): _skip(s)}
                backs = []
                for later in stmts[i + 1:]:
                    if isinstance(later, S.SwitchTo):
                        break
                    if isinstance(later, S.SwitchBack):
                        swaps[id(later)] = _skip(later)
                        backs.append(str(_line(later.span)))
                what = f"drop `{_one_line(print_stmt(s))}`"
                if backs:
                    lines = ", ".join(sorted(set(backs)))
                    what += f" and the `switch back` after it (line {lines})"
                self.add(name, "switch", s.span, what, swaps)
            for cond in _conditions(s):
                self.owner_checks(name, cond)

    def owner_checks(self, name: str, e: S.Expr) -> None:
        for b in _ownership_checks(e):
            flipped = replace(b, op="!=" if b.op == "==" else "==")
            self.add(name, "owner", b.span, f"`{_one_line(print_expr(b))}` -> "
                     f"`{_one_line(print_expr(flipped))}`", {id(b): flipped})


def _conditions(s: S.Stmt) -> tuple[S.Expr, ...]:
    if isinstance(s, S.If | S.Await):
        return (s.cond,)
    return ()


def constant_names(model: LoadedModel) -> frozenset[str]:
    out: set[str] = set()
    for d in model.decls:
        if isinstance(d, S.ParamDecl):
            out.add(d.name)
            out.update(d.values)
    return frozenset(out)


def mutants(module: S.Module, constants: frozenset[str] = frozenset()) -> list[Mutant]:
    """Every mutant of a top-level module, in source order of the routines."""
    sites = _Sites(module, constants)
    for d in module.decls:
        if isinstance(d, S.ActionDecl | S.ProcDecl):
            sites.routine(d.name, d.body)
        elif isinstance(d, S.DefDecl):
            sites.owner_checks(f"def {d.name}", d.body)
    return sites.found


def markers(text: str) -> dict[str, str]:
    """`// mutant ID: equivalent because REASON` comments: id -> reason."""
    return {m.group(1): m.group(2) for m in MARKER.finditer(text)}


def spread(items: list[Mutant], limit: int | None) -> list[Mutant]:
    """At most `limit` mutants, evenly spread over the list (deterministic)."""
    if limit is None or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# ---- checking the mutants ---------------------------------------------------------------


def _verdicts(results: list[PropertyResult]) -> tuple[str | None, str | None]:
    """(why the run catches a mistake, or None; why it is undecided, or None)."""
    for r in results:
        if not r.as_expected and r.verdict is Verdict.VIOLATED:
            return f"{r.name} violated", None
        if not r.as_expected and r.verdict is Verdict.PROVED:
            return f"{r.name} no longer violated", None
    for r in results:
        if r.verdict is Verdict.UNKNOWN or not r.as_expected:
            return None, f"{r.name} {r.verdict.value}: {r.reason or ''}".rstrip(": ")
    return None, None


def configurations(model: LoadedModel, options: CheckOptions, sweep: bool | None
                   ) -> list[tuple[tuple[str, str], ...]]:
    """The -D settings a plain `speccheck FILE` would check: every configuration of
    the model's declared sweep, or its defaults. `sweep=True` sweeps every boolean
    and enumeration parameter, `sweep=False` checks the defaults only."""
    if sweep is False:
        return [options.defines]
    program = check(model, dict(options.defines))
    if sweep is None and not program.sweep:
        return [options.defines]
    params = program_sweep(program, options, all_parameters=bool(sweep))
    names = [n for n, _ in params]
    return [(*options.defines, *((n, show(v)) for n, v in zip(names, combo, strict=True)))
            for combo in itertools.product(*(vals for _, vals in params))]


def run(path: str, options: CheckOptions, *, limit: int | None = None,
        sweep: bool | None = None,
        only: tuple[str, ...] = (), progress: Callable[[MutantResult], None] | None = None
        ) -> MutationReport:
    """Check every mutant of the model at `path` (or `limit` of them, or those whose
    ids are in `only`) in the configurations a plain run checks (see
    ``configurations``). `options.timeout` bounds each mutant's check in each
    configuration."""
    model = load_file(path)
    text = model.root.text
    module = parse(model.root)
    configs = configurations(model, options, sweep)
    originals: list[TransitionSystem] = []
    for defines in configs:
        opts = replace(options, defines=defines)
        ts = build(model, opts)
        results, _, _, _ = check_with_coverage(ts, opts)
        caught, open_ = _verdicts(results)
        if caught or open_:
            where = " ".join(f"-D {n}={v}" for n, v in defines) or "its default configuration"
            raise MutationError(f"{path} does not give its expected results in {where} "
                                f"({caught or open_}); fix the model before testing it")
        originals.append(ts)
    found = mutants(module, constant_names(model))
    explained = markers(text)
    chosen = [m for m in found if m.id in only] if only else spread(found, limit)
    out: list[MutantResult] = []
    for m in chosen:
        result = _check_mutant(path, m, options, configs, originals, explained)
        out.append(result)
        if progress is not None:
            progress(result)
    ids = {m.id for m in found}
    stale = [(i, "no such mutant") for i in explained if i not in ids]
    stale += [(r.mutant.id, f"the mutant is killed ({r.detail})") for r in out
              if r.outcome == KILLED and r.mutant.id in explained]
    name = originals[0].name if originals else module_name(module)
    return MutationReport(path, name, tuple(configs), tuple(out), tuple(sorted(stale)))


def semantics(ts: TransitionSystem) -> tuple[object, ...]:
    """What the engines see of a transition system: its state, initial states,
    transitions and properties, without the texts that show them (a mutant
    printed back to text loses its comments)."""
    actions = tuple((a.id, a.kind, a.params, a.actor, a.enabled, a.guard, a.updates,
                     tuple((f.prop, f.cond) for f in a.failures), a.waits, a.at)
                    for a in ts.actions)
    props = tuple((p.name, p.kind, p.formula, p.expected) for p in ts.properties)
    return (ts.vars, ts.init, actions, props, ts.params, ts.thread_values)


def module_name(module: S.Module) -> str:
    for d in module.decls:
        if isinstance(d, S.ModelDecl):
            return d.name
    return "?"


def _check_mutant(path: str, m: Mutant, options: CheckOptions,
                  configs: list[tuple[tuple[str, str], ...]],
                  originals: list[TransitionSystem], explained: dict[str, str]
                  ) -> MutantResult:
    start = time.monotonic()
    try:
        model = load_text_at(path, print_module(m.module))
    except SpecError as exc:
        return MutantResult(m, INVALID, exc.diagnostics[0].message, 0.0)
    undecided: str | None = None
    changed = False
    for defines, original in zip(configs, originals, strict=True):
        opts = replace(options, defines=defines)
        try:
            ts = build(model, opts)
        except SpecError as exc:
            return MutantResult(m, INVALID, exc.diagnostics[0].message,
                                time.monotonic() - start)
        if semantics(ts) == semantics(original):
            continue
        changed = True
        results, _, _, _ = check_with_coverage(ts, opts)
        caught, open_ = _verdicts(results)
        where = "".join(f" -D {n}={v}" for n, v in defines if (n, v) not in options.defines)
        if caught:
            return MutantResult(m, KILLED, caught + (f" with{where}" if where else ""),
                                time.monotonic() - start)
        undecided = undecided or open_
    seconds = time.monotonic() - start
    if not changed:
        return MutantResult(m, UNCHANGED, "the changed code is not compiled in this "
                            "configuration", seconds)
    if undecided:
        return MutantResult(m, UNDECIDED, undecided, seconds)
    if m.id in explained:
        return MutantResult(m, EQUIVALENT, explained[m.id], seconds)
    return MutantResult(m, SURVIVED, "every result as expected", seconds)


# ---- the report ---------------------------------------------------------------------------


def render(report: MutationReport, *, timings: bool = False) -> str:
    configs = len(report.configurations)
    head = f"{report.file}: mutants of model {report.model}"
    if configs > 1:
        head += f" ({configs} configurations each)"
    lines = [head]
    width = max((len(r.mutant.id) for r in report.results), default=0)
    for r in report.results:
        took = f" ({r.seconds:.1f} s)" if timings else ""
        lines.append(f"  {r.mutant.id:<{width}}  {r.outcome:<10}  line {r.mutant.line}: "
                     f"{r.mutant.description}; {r.detail}{took}")
    counts = ", ".join(f"{report.count(o)} {o}" for o in
                       (KILLED, SURVIVED, EQUIVALENT, UNDECIDED, INVALID, UNCHANGED)
                       if report.count(o))
    lines.append(f"mutants: {len(report.results)} ({counts or 'none'})")
    if report.score is not None:
        lines.append(f"mutation score: {report.count(KILLED)}/{report.scored} = "
                     f"{100 * report.score:.0f}% (equivalent, invalid and unchanged "
                     "mutants not counted)")
    for r in report.unexplained:
        lines.append(f"survived: {r.mutant.id} — a missing property, or explain it in the "
                     f"model: // mutant {r.mutant.id}: equivalent because ...")
    for mid, why in report.stale:
        lines.append(f"stale explanation: mutant {mid}: {why}")
    return "\n".join(lines) + "\n"


def passed(report: MutationReport) -> bool:
    """No unexplained survivor, nothing undecided, no stale explanation."""
    return not report.unexplained and not report.count(UNDECIDED) and not report.stale


def exit_code(report: MutationReport) -> ExitCode:
    """1 for an unexplained survivor or a stale explanation, 4 for an undecided
    mutant, else 0."""
    if report.unexplained or report.stale:
        return ExitCode.UNEXPECTED
    if report.count(UNDECIDED):
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


def render_list(path: str) -> str:
    """The mutants of a model, one a line, without checking them."""
    model = load_file(path)
    found = mutants(parse(model.root), constant_names(model))
    width = max((len(m.id) for m in found), default=0)
    lines = [f"{path}: {len(found)} mutants"]
    lines += [f"  {m.id:<{width}}  line {m.line}: {m.description}" for m in found]
    return "\n".join(lines) + "\n"
