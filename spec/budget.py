"""Size limits a model must meet before any engine starts.

Every construct of the language is finite, but a short text can still ask for
an unbounded amount of work: definitions that double at each level (`def
f2 = f1 and f1`), a chain of thousands of definitions, quantifiers nested over
large sorts, or actions with many parameters (each combination of parameter
values is one transition of every engine). Such a model would make the
checker hang or run out of memory before ``--timeout`` or ``--max-states``
could stop it, so it is refused here with a located diagnostic:

* SC009: an expression, with its definitions expanded, nests more than
  ``MAX_EXPANDED_DEPTH`` levels (``check_nesting``, on the syntax tree, before
  type checking);
* SC407: the state has more than ``MAX_CELLS`` cells, one routine has more
  than ``MAX_INSTANCES`` parameter combinations, or the terms the engines would
  build for one step exceed ``MAX_WORK`` nodes (``check_size``, on the checked
  program; quantifiers count once per value of their variable).

The limits are far above what the models in ``models/`` use (see
``tests/test_hostile.py``), and docs/errors.rst lists them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from spec import codes
from spec import syntax as S
from spec import terms as T
from spec.diagnostics import Diagnostic, SpecError
from spec.loader import LoadedModel
from spec.program import Program, RoutineInfo
from spec.sorts import MapT, Type, cell_count, domain_size
from spec.source import Span

MAX_EXPANDED_DEPTH = 250   # levels of one expression with its definitions expanded
MAX_EXPANDED_SIZE = 100_000  # ... and its nodes
MAX_CELLS = 100_000        # scalar cells of the model's own variables and objects
MAX_INSTANCES = 100_000    # parameter combinations of one action or procedure
MAX_WORK = 2_000_000       # term nodes of one step, over all routine instances

# ---- nesting through definitions (syntax) --------------------------------------------


_EXPRS = (S.IntLit, S.BoolLit, S.NoneLit, S.Name, S.Call, S.Index, S.Unary, S.Binary, S.Ite,
          S.Quant)


def _children(e: S.Expr) -> tuple[S.Expr, ...]:
    match e:
        case S.Call(_, args) | S.Index(_, args):
            return args
        case S.Unary(_, operand):
            return (operand,)
        case S.Binary(_, left, right):
            return (left, right)
        case S.Ite(c, a, b):
            return (c, a, b)
        case S.Quant(_, _, _, body):
            return (body,)
    return ()


def _referenced(e: S.Expr) -> str | None:
    """The definition an expression may name (a name or a call); None otherwise."""
    if isinstance(e, S.Name):
        return e.id
    if isinstance(e, S.Call):
        return e.fn
    return None


@dataclass(frozen=True)
class _Expanded:
    """A definition's body with the definitions it uses expanded."""

    depth: int
    size: int
    params: tuple[str, ...]
    uses: tuple[int, ...]  # how often the body mentions each parameter


def _measure(e: S.Expr, defs: dict[str, _Expanded]) -> tuple[int, int]:
    """(levels, nodes) of `e` with each known definition expanded. A call copies the
    body, and each argument once per mention of its parameter. The syntax of one
    expression is bounded by the parser, so recursion is safe here."""
    kids = [_measure(c, defs) for c in _children(e)]
    depth = 1 + max((d for d, _ in kids), default=0)
    size = 1 + sum(n for _, n in kids)
    name = _referenced(e)
    if name is not None and name in defs:
        d = defs[name]
        depth += d.depth
        size += d.size
        if isinstance(e, S.Call):
            size += sum(u * n for u, (_, n) in zip(d.uses, kids, strict=False))
    return depth, size


def _mentions(e: S.Expr, names: tuple[str, ...]) -> tuple[int, ...]:
    counts = dict.fromkeys(names, 0)
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, S.Name) and x.id in counts:
            counts[x.id] += 1
        todo.extend(_children(x))
    return tuple(counts[n] for n in names)


def _expressions(node: object) -> Iterator[S.Expr]:
    """Every outermost expression inside a declaration or statement, in source order."""
    if isinstance(node, _EXPRS):
        yield node
        return
    if isinstance(node, tuple):
        for x in node:
            yield from _expressions(x)
        return
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "span":
                yield from _expressions(getattr(node, f.name))


def _def_order(defs: dict[str, S.DefDecl]) -> list[str]:
    """Definitions with the ones they use first (iterative post-order; a cycle is
    SC108, reported by the type checker, and is simply cut here)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for root in defs:
        if root in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(_uses(defs[root], defs)))]
        state[root] = 1
        while stack:
            name, todo = stack[-1]
            nxt = next(todo, None)
            if nxt is None:
                stack.pop()
                state[name] = 2
                order.append(name)
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(_uses(defs[nxt], defs))))
    return order


def _uses(d: S.DefDecl, defs: dict[str, S.DefDecl]) -> list[str]:
    out: list[str] = []
    todo = [d.body]
    while todo:
        e = todo.pop()
        name = _referenced(e)
        if name is not None and name in defs and name != d.name:
            out.append(name)
        todo.extend(_children(e))
    return out


def check_nesting(model: LoadedModel) -> None:
    """SC009 for the first expression that nests too deeply once definitions are
    expanded (the type checker copies them into each use, and every later stage
    recurses), SC407 for one that grows too large."""
    decls = model.decls
    defs = {d.name: d for d in decls if isinstance(d, S.DefDecl)}
    expanded: dict[str, _Expanded] = {}
    for name in _def_order(defs):
        d = defs[name]
        depth, size = _measure(d.body, expanded)
        params = tuple(p.name for p in d.params)
        expanded[name] = _Expanded(depth, size, params, _mentions(d.body, params))
    for decl in decls:
        for e in _expressions(decl):
            depth, size = _measure(e, expanded)
            if depth > MAX_EXPANDED_DEPTH:
                raise SpecError([codes.make(
                    "SC009", f"with its definitions expanded, this expression is nested "
                    f"{depth} levels deep; the limit is {MAX_EXPANDED_DEPTH}", e.span,
                    hint="definitions are copied into every use: shorten the chain of "
                         "definitions that use definitions")])
            if size > MAX_EXPANDED_SIZE:
                raise SpecError([codes.make(
                    "SC407", f"with its definitions expanded, this expression has {size} "
                    f"nodes; the limit is {MAX_EXPANDED_SIZE}", e.span,
                    hint="definitions are copied into every use: a definition that uses "
                         "another one twice doubles its size")])


# ---- size of the checked program ------------------------------------------------------


def _term_children(t: T.Term) -> tuple[T.Term, ...]:
    match t:
        case T.Select(m, idx, _):
            return (m, *idx)
        case T.Store(m, idx, v, _):
            return (m, *idx, v)
        case T.Op(_, args, _):
            return args
        case T.Quant(_, _, _, body, _):
            return (body,)
        case T.WaitCycle(_, waits, alive, _):
            return (*(x for _, c, h in waits for x in (c, h)), *(c for _, c in alive))
    return ()


class _Sizer:
    """Expanded node counts of terms, memoized by identity (terms are shared DAGs,
    so a doubling chain of definitions costs one visit per distinct node)."""

    def __init__(self) -> None:
        self.memo: dict[int, int] = {}
        self.keep: list[T.Term] = []  # ids stay valid while the terms are alive

    def size(self, root: T.Term) -> int:
        stack: list[tuple[T.Term, bool]] = [(root, False)]
        while stack:
            t, ready = stack.pop()
            if id(t) in self.memo:
                continue
            kids = _term_children(t)
            if not ready:
                stack.append((t, True))
                stack.extend((k, False) for k in kids if id(k) not in self.memo)
                continue
            total = 1 + sum(self.memo[id(k)] for k in kids)
            if isinstance(t, T.Quant):
                total = 1 + max(1, domain_size(t.var_type)) * (total - 1)
            self.memo[id(t)] = total
            self.keep.append(t)
        return self.memo[id(root)]


def _terms(node: object) -> Iterator[T.Term]:
    """Every term inside a statement (or tuple of statements)."""
    if isinstance(node, T.Lit | T.VarRef | T.Local | T.Select | T.Store | T.Op | T.Quant
                  | T.WaitCycle):
        yield node
        return
    if isinstance(node, tuple):
        for x in node:
            yield from _terms(x)
        return
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "span":
                yield from _terms(getattr(node, f.name))


def _cells(t: Type) -> int:
    return cell_count(t) if isinstance(t, MapT) else 1


def _instances(r: RoutineInfo) -> int:
    n = 1
    for _, t in r.params:
        n *= max(1, domain_size(t))
    return n


def _too_large(message: str, span: Span | None, hint: str) -> SpecError:
    return SpecError([codes.make("SC407", message, span, hint=hint)])


def check_size(program: Program) -> None:
    """SC407 when the checked program is too large for any engine to start on."""
    problems: list[Diagnostic] = []
    cells = sum(_cells(v.type) for v in program.vars)
    for o in program.objects:  # allocated, owner, and per key: present and owner
        keys = 1
        for k in o.keys or ():
            keys *= max(1, domain_size(k))
        cells += 2 + (2 * keys if o.keys is not None else 0)
    if cells > MAX_CELLS:
        raise _too_large(f"the model's variables and objects have {cells} cells; the limit "
                         f"is {MAX_CELLS}", program.span,
                         "use smaller sorts, integer ranges or map key types")
    sizer = _Sizer()
    parts: list[tuple[int, str, Span | None]] = []  # (nodes, what, where)
    for r in program.routines:
        n = _instances(r)
        if n > MAX_INSTANCES:
            problems.append(codes.make(
                "SC407", f"`{r.name}` has {n} combinations of parameter values; the limit "
                f"is {MAX_INSTANCES}", r.span,
                hint="each combination is a separate transition: use fewer or smaller "
                     "parameters"))
            continue
        parts.append((n * sum(sizer.size(t) for t in _terms(r.body)), f"`{r.name}`", r.span))
    for inv in program.invariants:
        parts.append((sizer.size(inv.term), f"`{inv.name}`", inv.span))
    parts.append((sum(sizer.size(t) for t in _terms(program.init))
                  + sum(sizer.size(v.init) for v in program.vars if v.init is not None),
                  "the initial state", program.span))
    if problems:
        raise SpecError(problems)
    work = sum(n for n, _, _ in parts)
    if work > MAX_WORK:
        most, what, where = max(parts, key=lambda x: x[0])
        raise _too_large(f"one step of this model would need about {work} term nodes, "
                         f"{most} of them for {what}; the limit is {MAX_WORK}", where,
                         "quantifiers over large sorts and definitions that use a "
                         "definition twice multiply the size: simplify them")

__all__ = ["check_nesting", "check_size", "MAX_CELLS", "MAX_EXPANDED_DEPTH", "MAX_EXPANDED_SIZE",
           "MAX_INSTANCES", "MAX_WORK"]
