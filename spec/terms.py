"""Typed core terms: the expression language every later stage works on.

Produced by ``spec.typecheck`` (surface expressions with names resolved, model
parameters folded and definitions inlined) and by ``checker.lower``; read by
the explicit evaluator (``checker.evaluate``) and the z3 encoder
(``checker.encode``). Terms are immutable and carry their type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from spec.sorts import BOOL, BoolT, EnumT, IntT, MapT, OptionT, Type, Value

OPS = frozenset({
    "not", "and", "or", "implies", "eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "neg", "ite",
})


@dataclass(frozen=True, slots=True)
class Lit:
    value: Value
    type: Type


@dataclass(frozen=True, slots=True)
class VarRef:
    """The current value of a whole state variable."""

    name: str
    type: Type


@dataclass(frozen=True, slots=True)
class Local:
    """A bound name: an action parameter or a quantified variable."""

    name: str
    type: Type


@dataclass(frozen=True, slots=True)
class Select:
    map: Term
    index: tuple[Term, ...]
    type: Type


@dataclass(frozen=True, slots=True)
class Store:
    map: Term
    index: tuple[Term, ...]
    value: Term
    type: Type


@dataclass(frozen=True, slots=True)
class Op:
    op: str
    args: tuple[Term, ...]
    type: Type

    def __post_init__(self) -> None:
        assert self.op in OPS, self.op


@dataclass(frozen=True, slots=True)
class Quant:
    kind: str  # "forall" | "exists"
    var: str
    var_type: Type
    body: Term
    type: Type = field(default=BOOL)


@dataclass(frozen=True, slots=True)
class WaitCycle:
    """Deadlock: a cycle in the wait-for graph, or a wait on a dead holder.

    ``waits`` holds (waiter, condition, holder): while the condition holds, the
    waiter thread waits for a lock whose holder (a `Thread?` term) is given;
    ``alive`` holds (thread, condition-that-it-is-alive). Evaluated by graph
    search in the explicit evaluator and by bounded reachability in the encoder.
    """

    threads: tuple[str, ...]
    waits: tuple[tuple[str, Term, Term], ...]
    alive: tuple[tuple[str, Term], ...]
    type: Type = field(default=BOOL)


Term = Lit | VarRef | Local | Select | Store | Op | Quant | WaitCycle

TRUE = Lit(True, BOOL)
FALSE = Lit(False, BOOL)


# ---- smart constructors (fold constants so lowered steps stay small) -------------------


def conj(*args: Term) -> Term:
    flat: list[Term] = []
    for a in args:
        if a == TRUE:
            continue
        if a == FALSE:
            return FALSE
        if isinstance(a, Op) and a.op == "and":
            flat.extend(a.args)
        else:
            flat.append(a)
    if not flat:
        return TRUE
    if len(flat) == 1:
        return flat[0]
    return Op("and", tuple(flat), BOOL)


def disj(*args: Term) -> Term:
    flat: list[Term] = []
    for a in args:
        if a == FALSE:
            continue
        if a == TRUE:
            return TRUE
        if isinstance(a, Op) and a.op == "or":
            flat.extend(a.args)
        else:
            flat.append(a)
    if not flat:
        return FALSE
    if len(flat) == 1:
        return flat[0]
    return Op("or", tuple(flat), BOOL)


def neg(a: Term) -> Term:
    if isinstance(a, Lit) and isinstance(a.value, bool):
        return Lit(not a.value, BOOL)
    if isinstance(a, Op) and a.op == "not":
        return a.args[0]
    return Op("not", (a,), BOOL)


def implies(a: Term, b: Term) -> Term:
    if a == TRUE:
        return b
    if a == FALSE or b == TRUE:
        return TRUE
    return Op("implies", (a, b), BOOL)


def eq(a: Term, b: Term) -> Term:
    if isinstance(a, Lit) and isinstance(b, Lit):
        return Lit(a.value == b.value, BOOL)
    if a == b:
        return TRUE
    return Op("eq", (a, b), BOOL)


def ne(a: Term, b: Term) -> Term:
    return neg(eq(a, b))


def ite(c: Term, a: Term, b: Term) -> Term:
    if c == TRUE:
        return a
    if c == FALSE:
        return b
    if a == b:
        return a
    if isinstance(a, Lit) and isinstance(b, Lit) and a.value is True and b.value is False:
        return c
    return Op("ite", (c, a, b), a.type if not isinstance(a.type, OptionT) else a.type)


def select(m: Term, index: tuple[Term, ...]) -> Term:
    assert isinstance(m.type, MapT)
    # reading a cell just written with the same constant index folds away
    if isinstance(m, Store) and all(isinstance(i, Lit) for i in index) and all(
        isinstance(i, Lit) for i in m.index
    ):
        if tuple(i.value for i in index) == tuple(i.value for i in m.index):  # type: ignore[union-attr]
            return m.value
        return select(m.map, index)
    return Select(m, index, m.type.value)


def store(m: Term, index: tuple[Term, ...], value: Term) -> Term:
    return Store(m, index, value, m.type)


def lit(value: Value, t: Type) -> Lit:
    return Lit(value, t)


# ---- traversal ---------------------------------------------------------------------------


def map_children(t: Term, f: Callable[[Term], Term]) -> Term:
    match t:
        case Lit() | VarRef() | Local():
            return t
        case Select(m, idx, ty):
            return Select(f(m), tuple(f(i) for i in idx), ty)
        case Store(m, idx, v, ty):
            return Store(f(m), tuple(f(i) for i in idx), f(v), ty)
        case Op(op, args, ty):
            return Op(op, tuple(f(a) for a in args), ty)
        case Quant(kind, var, vt, body, ty):
            return Quant(kind, var, vt, f(body), ty)
        case WaitCycle(threads, waits, alive, ty):
            return WaitCycle(threads, tuple((a, f(c), f(h)) for a, c, h in waits),
                             tuple((a, f(c)) for a, c in alive), ty)
    raise AssertionError(t)


def substitute(t: Term, locals_: Mapping[str, Term] | None = None,
               vars_: Mapping[str, Term] | None = None) -> Term:
    """Replace bound names and/or state variables, avoiding capture.

    A quantifier whose variable occurs free in a replacement (``def f(x) =
    exists k: Key. x`` called as ``f(seen[k])``) is renamed first, so the
    replacement keeps meaning the outer ``k``.
    """
    locals_ = dict(locals_ or {})
    vars_ = dict(vars_ or {})
    if not locals_ and not vars_:
        return t
    incoming: set[str] = set()
    for r in (*locals_.values(), *vars_.values()):
        incoming |= free_locals(r)

    def go(x: Term) -> Term:
        if isinstance(x, Local) and x.name in locals_:
            return locals_[x.name]
        if isinstance(x, VarRef) and x.name in vars_:
            return vars_[x.name]
        if isinstance(x, Quant):
            inner = {k: v for k, v in locals_.items() if k != x.var}
            var, body = x.var, x.body
            if var in incoming:  # rename the bound variable out of the way
                taken = incoming | free_locals(body) | set(inner)
                n = 1
                while f"{var}'{n}" in taken:
                    n += 1
                fresh = f"{var}'{n}"
                body = substitute(body, {var: Local(fresh, x.var_type)})
                var = fresh
            return Quant(x.kind, var, x.var_type, substitute(body, inner, vars_), x.type)
        return map_children(x, go)

    return go(t)


def free_locals(t: Term) -> frozenset[str]:
    """The bound names (parameters, quantified variables) that occur free in t.

    Lowered terms share subterms (each statement of a step reads the state the
    earlier ones left), so a node is visited once per call, by identity: walked
    as a tree, a step of a few dozen statements took minutes to lower."""
    seen: dict[int, tuple[Term, frozenset[str]]] = {}

    def walk(x: Term) -> frozenset[str]:
        hit = seen.get(id(x))
        if hit is not None:
            return hit[1]
        match x:
            case Local(name, _):
                found: frozenset[str] = frozenset({name})
            case Lit() | VarRef():
                found = frozenset()
            case Quant(_, var, _, body, _):
                found = walk(body) - {var}
            case _:
                out: set[str] = set()

                def go(y: Term) -> Term:
                    out.update(walk(y))
                    return y

                map_children(x, go)
                found = frozenset(out)
        seen[id(x)] = (x, found)  # keeps x alive, so its id stays unique
        return found

    return walk(t)


def free_vars(t: Term) -> frozenset[str]:
    out: set[str] = set()

    def go(x: Term) -> Term:
        if isinstance(x, VarRef):
            out.add(x.name)
        return map_children(x, go)

    go(t)
    return frozenset(out)


def is_int(t: Type) -> bool:
    return isinstance(t, IntT)


def is_bool(t: Type) -> bool:
    return isinstance(t, BoolT)


def is_enum(t: Type) -> bool:
    return isinstance(t, EnumT)
