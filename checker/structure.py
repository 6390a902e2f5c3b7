"""Finite structures of the parameterised encoding (``checker.lift``).

When z3 finds a model of an all-sizes obligation, the model is a finite
structure: a universe per uninterpreted sort and a table per state symbol.
This module evaluates quantified formulas in such a model (z3's own model
evaluator does not expand quantifiers), decodes the structure into values
named like the elements of an instance (``main``, ``sub1``, ``t1``, ...), and
turns it into states of that instance, so a counterexample to induction is
printed, and replayed, like any trace.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import z3

from checker.ir import TransitionSystem
from checker.lift import NONE_INT, Lifter, MapSym, State
from checker.sizes import element_name
from spec.sorts import BoolT, EnumT, IntT, MapT, OptionT, Type, Value, map_keys


def universe(m: Any, sort: Any) -> list[Any]:
    if sort.kind() == z3.Z3_UNINTERPRETED_SORT:
        return list(m.get_universe(sort) or [])
    if sort.kind() == z3.Z3_DATATYPE_SORT:
        return [sort.constructor(i)() for i in range(sort.num_constructors())]
    if sort.kind() == z3.Z3_BOOL_SORT:
        return [z3.BoolVal(False, sort.ctx), z3.BoolVal(True, sort.ctx)]
    raise ValueError(f"cannot enumerate {sort}")


CHUNK = 2000  # instances of a quantifier's body evaluated in one call


def evaluate(m: Any, e: Any) -> bool:
    """Truth of a closed formula in a finite model, quantifiers expanded."""
    if z3.is_quantifier(e):
        n = e.num_vars()
        pools = [universe(m, e.var_sort(i)) for i in range(n)]
        forall = e.is_forall()
        combos = itertools.product(*pools)
        if not _quantified(e.body()):
            # a quantifier-free body: z3 evaluates the instances a chunk at a time (one
            # call per instance made large structures take minutes)
            while chunk := list(itertools.islice(combos, CHUNK)):
                parts = [z3.substitute_vars(e.body(), *reversed(c)) for c in chunk]
                joined = z3.And(*parts) if forall else z3.Or(*parts)
                if z3.is_true(m.eval(joined, model_completion=True)) != forall:
                    return not forall
            return bool(forall)
        for combo in combos:
            got = evaluate(m, z3.substitute_vars(e.body(), *reversed(combo)))
            if got != forall:
                return got
        return bool(forall)
    if not _quantified(e):
        return bool(z3.is_true(m.eval(e, model_completion=True)))
    k = e.decl().kind()
    args = e.children()
    if k == z3.Z3_OP_NOT:
        return not evaluate(m, args[0])
    if k == z3.Z3_OP_AND:
        return all(evaluate(m, a) for a in args)
    if k == z3.Z3_OP_OR:
        return any(evaluate(m, a) for a in args)
    if k == z3.Z3_OP_IMPLIES:
        return (not evaluate(m, args[0])) or evaluate(m, args[1])
    if k == z3.Z3_OP_ITE:
        return evaluate(m, args[1]) if evaluate(m, args[0]) else evaluate(m, args[2])
    if k == z3.Z3_OP_EQ and z3.is_bool(args[0]):
        return evaluate(m, args[0]) == evaluate(m, args[1])
    if k == z3.Z3_OP_XOR:
        return evaluate(m, args[0]) != evaluate(m, args[1])
    raise ValueError(f"cannot evaluate {e.decl()} over quantified arguments")


def _quantified(e: Any, memo: dict[int, bool] | None = None) -> bool:
    memo = {} if memo is None else memo
    key = e.get_id()
    if key in memo:
        return memo[key]
    if z3.is_quantifier(e):
        memo[key] = True
        return True
    out = z3.is_app(e) and any(_quantified(c, memo) for c in e.children())
    memo[key] = out
    return out


@dataclass(frozen=True)
class Structure:
    """A decoded finite structure: element names per sort, symbol tables, and the
    interpretation of named constants (step parameters)."""

    names: dict[str, tuple[str, ...]]                    # sort -> its real elements
    tables: dict[str, dict[tuple[Value, ...], Value]]    # symbol key -> keys -> value
    consts: dict[str, Value]                             # parameter name -> value

    def size(self, sort: str) -> int:
        return len(self.names[sort])


class Decoder:
    def __init__(self, lifter: Lifter, m: Any) -> None:
        self.L = lifter
        self.m = m
        self.elem: dict[str, dict[int, Value]] = {}  # sort -> element id -> name (None: none)
        self.names: dict[str, tuple[str, ...]] = {}
        for s in lifter.plan.sorts:
            sort = lifter.usorts[s.name]
            table: dict[int, Value] = {}
            none = m.eval(lifter.nones[s.name], model_completion=True)
            table[none.get_id()] = None
            taken: dict[int, str] = {}
            for d in s.distinguished:
                v = m.eval(lifter.elems[(s.name, d)], model_completion=True)
                taken[v.get_id()] = d
            names: list[str] = []
            i = 0
            for u in universe(m, sort):
                if u.get_id() == none.get_id():
                    continue
                if u.get_id() in taken:
                    table[u.get_id()] = taken[u.get_id()]
                    names.append(taken[u.get_id()])
                    continue
                while element_name(s.name, i) in s.distinguished:
                    i += 1
                table[u.get_id()] = element_name(s.name, i)
                names.append(element_name(s.name, i))
                i += 1
            self.elem[s.name] = table
            self.names[s.name] = tuple(names)
        self.inverse: dict[str, dict[Value, Any]] = {}
        for sort, table in self.elem.items():
            inv: dict[Value, Any] = {}
            for u in universe(m, lifter.usorts[sort]):
                name = table.get(u.get_id())
                if name is not None:
                    inv[name] = u
            self.inverse[sort] = inv

    def value(self, z: Any, t: Type) -> Value:
        v = self.m.eval(z, model_completion=True)
        bare = t.inner if isinstance(t, OptionT) else t
        if isinstance(bare, BoolT):
            return bool(z3.is_true(v))
        if isinstance(bare, IntT):
            n = v.as_signed_long()
            return None if n == NONE_INT else int(n)
        assert isinstance(bare, EnumT)
        if self.L.is_param(bare):
            return self.elem[bare.name].get(v.get_id())
        text = str(v)
        value = text.split(":", 1)[1]
        return None if value == "none" else value

    def domain(self, t: Type) -> list[tuple[Value, Any]]:
        """(name, z3 element) of every value of a key type."""
        bare = t.inner if isinstance(t, OptionT) else t
        if isinstance(bare, EnumT) and self.L.is_param(bare):
            return [(n, self.inverse[bare.name][n]) for n in self.names[bare.name]]
        if isinstance(bare, EnumT):
            _, consts = self.L._enum(bare)
            return [(v, c) for v, c in consts.items() if v is not None]
        if isinstance(bare, BoolT):
            return [(False, z3.BoolVal(False, self.L.ctx)), (True, z3.BoolVal(True, self.L.ctx))]
        raise ValueError(f"keys of type {t}")

    def table(self, s: MapSym, st: State) -> dict[tuple[Value, ...], Value]:
        f = st.syms[s.key]
        out: dict[tuple[Value, ...], Value] = {}
        for combo in itertools.product(*(self.domain(k) for k in s.dom)):
            names = tuple(n for n, _ in combo)
            zs = [z for _, z in combo]
            if s.rel:
                found: Value = None
                bare = s.rng.inner if isinstance(s.rng, OptionT) else s.rng
                for name, y in self.domain(bare):
                    if z3.is_true(self.m.eval(f(*zs, y), model_completion=True)):
                        found = name
                        break
                out[names] = found
            else:
                out[names] = self.value(self.L.sym_app(st, s, tuple(zs)), s.rng)
        return out

    def structure(self, st: State, consts: dict[str, tuple[Any, Type]]) -> Structure:
        tables = {s.key: self.table(s, st) for s in self.L.syms}
        values = {n: self.value(z, t) for n, (z, t) in consts.items()}
        return Structure(dict(self.names), tables, values)


def instance_state(ts: TransitionSystem, lifter: Lifter, st: Structure) -> tuple[Value, ...]:
    """The structure as a state of the instance `ts` of the same sizes."""
    out: list[Value] = []
    for v in ts.vars:
        t = v.type
        syms = lifter.of_var[v.name]
        if isinstance(t, MapT) and syms[0].family is not None:
            cells = []
            for (lock_id,) in map_keys(t):
                fam, args = lifter.lock_family_of(str(lock_id))
                cells.append(st.tables[f"{v.name}#{fam}"][args])
            out.append(tuple(cells))
        elif isinstance(t, MapT):
            table = st.tables[syms[0].key]
            out.append(tuple(table[key] for key in map_keys(t)))
        else:
            out.append(st.tables[syms[0].key][()])
    return tuple(out)
