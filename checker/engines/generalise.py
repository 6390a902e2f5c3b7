"""Candidate lemmas from PDR certificates of a small instance, generalised.

PDR (``checker.engines.pdr``) proves a property of one small instance with an
inductive invariant: a conjunction of clauses over that instance's state
cells (``pc[t2] == cache_set.4 -> holder[gil(main)] == t2``). Such a clause
names particular elements, but nothing in the model tells ``t1`` from ``t2``:
the lifting checks that interchangeable elements are treated alike. So each
clause is read as a statement about *any* distinct interchangeable elements:
its elements become quantified variables (``forall t: Thread. t != ... ->
(at(t, cache_set, 4) -> holder(gil(main)) == t)``), written in the modeling
language through the same built-ins users write (``at``, ``cur``, ``holder``,
``owner``, ``arg`` ...). Distinguished elements (``main``) keep their names.

Two readings of a set of elements. In a two-thread instance ``holder(L) in
{none, t1}`` is the same as ``holder(L) != t2``; generalised, the first says
"none or some thread u" and the second "not thread t". The reading whose
elements the clause's other literals already name is preferred (the clause is
about ``t2`` when it also reads ``pc[t2]``); the other is proposed too. A set
holding *every* interchangeable element of the instance is read first as "any
other element" (``holder(L) != none``), then literally (with one
interchangeable interpreter, ``cur(t1) == sub1 -> owner(o) == sub1`` may mean
"the same one": ``cur(t) == i -> owner(o) == i``).

Spacer also compares the integer codes of enumeration values
(``#owner(cache) - #cur[t1] <= -1``), an order that means nothing to the
model: such an atom (over at most two cells) is read by its truth table, the
pairs of values it allows, and written as ``a == x -> b in {...}`` per value
of one cell, or as ``a == b`` when that is what the table says. Literals
about one cell are merged into one set of its values. What the language still
cannot say (atoms over three cells or more, integers that may be ``none``)
is not generalised: the clause is skipped. Every candidate is only likely: the
all-sizes engine keeps those that are inductive for every size (Houdini) and
re-checks what a proof uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from checker.certificate import CertificateError, constant_name, parse, subterms
from checker.encode import NONE_CODE, Encoder
from checker.engines.lemmas import Var, paren, pc_in, quantify
from checker.engines.pdr import pdr
from checker.ir import Property, TransitionSystem
from checker.limits import expired
from checker.results import Verdict
from checker.sizes import SizePlan
from spec.program import (
    CUR,
    HOLDER,
    LEVEL,
    LIVE,
    PC,
    PROC,
    SAVED,
    Program,
    arg_var,
    items_var,
    obj_var,
    tstate_var,
)
from spec.sorts import BoolT, EnumT, IntT, MapT, OptionT, Type, Value, map_keys

MAX_VARS = 3          # quantified variables in one candidate
MAX_CLAUSES = 400     # clauses generalised per certificate
MAX_CANDIDATES = 1000  # candidates from all certificates together
MAX_TABLE = 256       # value pairs of two cells read as a relation
PROPERTY_RLIMIT = 30_000_000  # PDR's z3 resources for one property (~10 s; the same
                              # on every machine, so the candidates are too)

Z = Any


class _Skip(Exception):
    """The clause says something the modeling language cannot (see the module doc)."""


@dataclass(frozen=True)
class _Cell:
    text: str           # the language expression, or the thread for pc/proc cells
    kind: str           # "pc" | "proc" | "value"
    type: Type          # the cell's value type
    elements: tuple[str, ...]  # elements its key names (words of `text`)


def certificates(ts: TransitionSystem, props: list[Property], deadline: float | None,
                 seed: int = 0) -> list[str]:
    """PDR certificates (SMT-LIB text over the instance's cells) for the properties
    PDR proves within PROPERTY_RLIMIT each."""
    out: list[str] = []
    for p in props:
        if expired(deadline):
            break
        try:
            res = pdr(ts, [p], seed=seed, deadline=deadline, trace_depth=0,
                      rlimit=PROPERTY_RLIMIT)[p.name]
        except CertificateError:  # a certificate the re-check refused: nothing to learn
            continue
        if res.verdict is Verdict.PROVED and res.certificate is not None:
            out.append(res.certificate.smt)
    return out


class Generaliser:
    """Reads certificates of one small instance as candidate lemma texts."""

    def __init__(self, ts: TransitionSystem, program: Program, plan: SizePlan,
                 taken: set[str]) -> None:
        self.ts = ts
        self.program = program
        self.plan = plan
        self.enc = Encoder(ts, z3.Context(), ints=True)
        # interchangeable elements of the instance, and their sorts
        self.sort_of: dict[str, str] = {}
        self.pool: dict[str, tuple[str, ...]] = {}
        for s in plan.sorts:
            values = ts.sort(EnumT(s.name, ())).values
            self.pool[s.name] = tuple(v for v in values if v not in s.distinguished)
            for v in self.pool[s.name]:
                self.sort_of[v] = s.name
        self.taken = taken
        self.cells = self._cells()

    # ---- the instance's cells in the modeling language -------------------------------
    def _cells(self) -> dict[str, _Cell]:
        p = self.program
        # state variable -> how the language writes its cell at a key, and the cell's kind
        lang: dict[str, tuple[str, str]] = {
            PC: ("{0}", "pc"), PROC: ("{0}", "proc"), CUR: ("cur({0})", "value"),
            SAVED: ("saved({0})", "value"), LIVE: ("live({0})", "value"),
            HOLDER: ("holder({0})", "value"), LEVEL: ("level({0})", "value")}
        for t in p.tstates:
            lang[tstate_var(t.name)] = (f"bound({t.name})", "value")
        for o in p.objects:
            lang[obj_var(o.name)] = (f"owner({o.name})", "value")
            if o.keys is not None:
                lang[items_var(o.name)] = (f"owner({o.name}[{{keys}}])", "value")
        for r in p.routines:
            for name, _ in r.params[1:] if r.kind == "proc" else ():
                lang[arg_var(r.name, name)] = (f"arg({{0}}, {r.name}, {name})", "value")
        for info in p.vars:
            lang[info.name] = (f"{info.name}[{{keys}}]" if isinstance(info.type, MapT)
                               else info.name, "value")
        out: dict[str, _Cell] = {}
        state = self.enc.state(0)
        for v in self.ts.vars:
            if v.name not in lang:
                continue  # state with no language form (e.g. where `attach` returns)
            z = state[v.name]
            if isinstance(v.type, MapT):
                pairs = [(c, raw) for c, raw in zip(z.values(), map_keys(v.type), strict=True)]
                value_t = v.type.value
            else:
                pairs = [(z, ())]
                value_t = v.type
            for c, raw in pairs:
                form, kind = lang[v.name]
                key = [str(x) for x in raw]
                text = form.format(*key, keys=", ".join(key))
                words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
                out[c.decl().name()] = _Cell(text, kind, value_t,
                                             tuple(w for w in words if w in self.sort_of))
        return out

    # ---- certificates -> candidate texts ---------------------------------------------
    def candidates(self, smt: str) -> list[str]:
        try:
            formula = parse(self.ts, self.enc, smt)
        except z3.Z3Exception:
            return []
        out: list[str] = []
        for clause in _conjuncts(formula)[:MAX_CLAUSES]:
            for prefer in (True, False):
                try:
                    text = self._candidate(clause, prefer)
                except _Skip:
                    break
                if text is not None and text not in out:
                    out.append(text)
        return out

    def _candidate(self, clause: Z, prefer: bool) -> str | None:
        mentioned = {e for c in _constants(clause) if c in self.cells
                     for e in self.cells[c].elements}
        body = self._clause(clause, mentioned, prefer)
        if body in ("true", "false"):
            return None
        # the interchangeable elements it names, in order of appearance, become variables
        order: list[str] = []
        for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body):
            if w in self.sort_of and w not in order:
                order.append(w)
        if len(order) > MAX_VARS:
            return None
        names: dict[str, str] = {}
        vars_: list[Var] = []
        for e in order:
            sort = self.sort_of[e]
            base = "t" if sort == "Thread" else "i" if sort == "Interp" else sort[0].lower()
            n = sum(1 for v in vars_ if v.sort == sort)
            name = base if n == 0 else f"{base}_{n + 1}"
            while name in self.taken or name in self.sort_of:
                name += "_"
            names[e] = name
            vars_.append(Var(name, sort))
        body = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: names.get(m.group(0), m.group(0)),
                      body)
        return quantify(tuple(vars_), body, self.plan)

    def _clause(self, e: Z, mentioned: set[str], prefer: bool) -> str:
        """`a and b -> c or d` for the clause `not a or not b or c or d`."""
        lits = list(e.children()) if z3.is_or(e) else [e]
        # literals about the same single cell together: one set of values each
        groups: dict[tuple[bool, str], list[Z]] = {}
        for x in lits:
            cells = _constants(x)
            # not (a relation of two cells) is a relation too, and reads better as one
            negative = bool(z3.is_not(x)) and len(cells) < 2
            key = (negative, next(iter(cells)) if len(cells) == 1 else f"#{len(groups)}")
            groups.setdefault(key, []).append(x.arg(0) if negative else x)
        neg = [self._formula(z3.And(*xs) if len(xs) > 1 else xs[0], mentioned, prefer)
               for (negative, _), xs in groups.items() if negative]
        pos = [self._formula(z3.Or(*xs) if len(xs) > 1 else xs[0], mentioned, prefer)
               for (negative, _), xs in groups.items() if not negative]
        if "false" in neg or "true" in pos:  # a literal the instance makes true
            return "true"
        neg = [x for x in neg if x != "true"]
        pos = [x for x in pos if x != "false"]
        if not neg:
            if len(pos) == 1:
                return pos[0]
            return " or ".join(paren(x) for x in pos) if pos else "false"
        if not pos:  # `not (a and b)`: as `a -> b'` when b has a plain negation
            plain = [x for x in neg if _negated(x) is not None]
            if not plain:
                return f"not ({' and '.join(paren(x) for x in neg)})"
            last = plain[-1]
            pos = [_negated(last) or ""]
            neg = [x for x in neg if x is not last]
            if not neg:
                return pos[0]
        left = " and ".join(paren(x) for x in neg)
        return f"{left} -> {' or '.join(paren(x) for x in pos)}"

    def _formula(self, e: Z, mentioned: set[str], prefer: bool) -> str:
        if z3.is_true(e):
            return "true"
        if z3.is_false(e):
            return "false"
        cells = _constants(e)
        if len(cells) <= 2 and (z3.is_not(e) or z3.is_and(e) or z3.is_or(e)):
            try:  # a set of values of one cell, or a relation of two: its truth table
                return self._relation(e, mentioned, prefer)
            except _Skip:
                pass
        if z3.is_not(e):
            return f"not {paren(self._formula(e.arg(0), mentioned, prefer))}"
        if z3.is_and(e) or z3.is_or(e):
            op = " and " if z3.is_and(e) else " or "
            return op.join(paren(self._formula(c, mentioned, prefer)) for c in e.children())
        if z3.is_implies(e):
            a, b = (paren(self._formula(c, mentioned, prefer)) for c in e.children())
            return f"{a} -> {b}"
        name = constant_name(e)
        if name is not None and name in self.cells and isinstance(self.cells[name].type, BoolT):
            return self.cells[name].text
        return self._atom(e, mentioned, prefer)

    def _atom(self, e: Z, mentioned: set[str], prefer: bool) -> str:
        ops: dict[int, Callable[[int, int], bool]] = {
            z3.Z3_OP_EQ: lambda a, b: a == b, z3.Z3_OP_DISTINCT: lambda a, b: a != b,
            z3.Z3_OP_LE: lambda a, b: a <= b, z3.Z3_OP_LT: lambda a, b: a < b,
            z3.Z3_OP_GE: lambda a, b: a >= b, z3.Z3_OP_GT: lambda a, b: a > b}
        if not (z3.is_app(e) and e.decl().kind() in ops and e.num_args() == 2):
            raise _Skip
        a, b = e.arg(0), e.arg(1)
        kind = e.decl().kind()
        flip = {z3.Z3_OP_LE: z3.Z3_OP_GE, z3.Z3_OP_LT: z3.Z3_OP_GT, z3.Z3_OP_GE: z3.Z3_OP_LE,
                z3.Z3_OP_GT: z3.Z3_OP_LT}
        if z3.is_int_value(a) and not z3.is_int_value(b):
            a, b, kind = b, a, flip.get(kind, kind)
        ca, cb = constant_name(a), constant_name(b)
        if ca in self.cells and z3.is_int_value(b):
            cell = self.cells[ca]
            n = b.as_long()
            test = ops[kind]
            allowed = [v for code, v in self._domain(cell.type) if test(code, n)]
            return self._member(cell, allowed, mentioned, prefer)
        if ca in self.cells and cb in self.cells and kind in (z3.Z3_OP_EQ, z3.Z3_OP_DISTINCT):
            x, y = self.cells[ca], self.cells[cb]
            if x.kind == y.kind == "value" and _bare(x.type) == _bare(y.type):
                return f"{x.text} {'==' if kind == z3.Z3_OP_EQ else '!='} {y.text}"
        return self._relation(e, mentioned, prefer)

    def _relation(self, e: Z, mentioned: set[str], prefer: bool) -> str:
        """Any other atom over one or two cells, by its truth table: Spacer compares
        the codes of enumeration values (``#owner(cache) - #cur[t1] <= -1``), an
        order that means nothing to the model; the pairs of values it allows do."""
        names = sorted(_constants(e))
        if not 1 <= len(names) <= 2 or any(n not in self.cells for n in names):
            raise _Skip
        cells = [self.cells[n] for n in names]
        doms = [self._domain(c.type) for c in cells]
        if len(doms) == 2 and len(doms[0]) * len(doms[1]) > MAX_TABLE:
            raise _Skip
        ctx = self.enc.ctx
        consts = [z3.Bool(n, ctx) if isinstance(c.type, BoolT) else z3.Int(n, ctx)
                  for n, c in zip(names, cells, strict=True)]

        def holds(codes: tuple[int, ...]) -> bool:
            vals = [z3.BoolVal(bool(x), ctx) if isinstance(c.type, BoolT) else z3.IntVal(x, ctx)
                    for x, c in zip(codes, cells, strict=True)]
            return bool(z3.is_true(z3.simplify(z3.substitute(e, *zip(consts, vals,
                                                                       strict=True)))))

        if len(cells) == 1:
            allowed = [v for code, v in doms[0] if holds((code,))]
            return self._member(cells[0], allowed, mentioned, prefer)
        table = {(x, y) for cx, x in doms[0] for cy, y in doms[1] if holds((cx, cy))}
        a, b = cells
        if a.kind == b.kind == "value" and _bare(a.type) == _bare(b.type):
            every = {(x, y) for _, x in doms[0] for _, y in doms[1]}
            same = {(x, y) for x, y in every if x == y}
            if table == same:
                return f"{a.text} == {b.text}"
            if table == every - same:
                return f"{a.text} != {b.text}"
        # condition on the cell with fewer values: `a == x -> b in {...}` per value x
        if len(doms[1]) < len(doms[0]):
            a, b, doms = b, a, [doms[1], doms[0]]
            table = {(y, x) for x, y in table}
        parts = []
        for _, x in doms[0]:
            got = [y for _, y in doms[1] if (x, y) in table]
            if len(got) == len(doms[1]):
                continue
            when = self._member(a, [x], mentioned, prefer)
            then = self._member(b, got, mentioned, prefer)
            if when == "true":  # `a` has one value (a one-element sort): no condition
                parts.append(then)
            elif then == "false":
                parts.append(f"not {paren(when)}")
            else:
                parts.append(f"{paren(when)} -> {paren(then)}")
        if not parts:
            return "true"
        return " and ".join(f"({x})" for x in parts) if len(parts) > 1 else parts[0]

    def _domain(self, t: Type) -> list[tuple[int, Value]]:
        """(code, value) of every value a cell of type t can hold (``checker.encode``)."""
        out: list[tuple[int, Value]] = []
        bare = t
        if isinstance(t, OptionT):
            out.append((NONE_CODE, None))
            bare = t.inner
        if isinstance(bare, EnumT):
            out += list(enumerate(self.ts.sort(bare).values))
        elif isinstance(bare, IntT):
            out += [(v, v) for v in range(bare.lo, bare.hi + 1)]
        elif isinstance(bare, BoolT) and not out:
            out += [(0, False), (1, True)]
        else:
            raise _Skip
        return out

    def _member(self, cell: _Cell, allowed: list[Value], mentioned: set[str],
                prefer: bool) -> str:
        every = [v for _, v in self._domain(cell.type)]
        if len(allowed) == len(every):
            return "true"
        if not allowed:
            return "false"
        if cell.kind == "pc":
            return pc_in(cell.text, set(allowed), self.ts)
        if cell.kind == "proc":
            if None not in allowed:
                return " or ".join(f"running({cell.text}, {v})" for v in allowed)
            if len(allowed) == 1:
                return f"idle({cell.text})"
            return " and ".join(f"not running({cell.text}, {v})" for v in every
                                if v not in allowed)
        bare = cell.type.inner if isinstance(cell.type, OptionT) else cell.type
        if isinstance(bare, BoolT):
            return cell.text if allowed == [True] else f"not {cell.text}"
        if isinstance(bare, IntT):
            ints = [v for v in allowed if isinstance(v, int)]
            if len(ints) != len(allowed):  # an optional integer: not generalised
                raise _Skip
            lo, hi = min(ints), max(ints)
            if ints == list(range(lo, hi + 1)):
                parts = ([f"{cell.text} >= {lo}"] if lo != bare.lo else []) + (
                    [f"{cell.text} <= {hi}"] if hi != bare.hi else [])
                return " and ".join(parts)
            return " or ".join(f"{cell.text} == {v}" for v in ints)
        if not isinstance(bare, EnumT):
            raise _Skip
        excluded = [v for v in every if v not in allowed]
        pool = set(self.pool.get(bare.name, ()))
        inside = {v for v in allowed if v in pool}
        outside = {v for v in excluded if v in pool}
        if not pool:  # a fixed sort or an enumeration: the shorter form
            complement = len(excluded) < len(allowed)
        elif not inside:
            complement = False
        elif not outside:  # every interchangeable element allowed: "any other element"
            complement = prefer  # (or, read literally, the ones named: `x == i`)
        else:  # prefer the reading about the elements the clause already names
            complement = outside <= mentioned and not inside <= mentioned
            complement = complement if prefer else not complement
        if complement:
            return " and ".join(f"{cell.text} != {_show(v)}" for v in excluded)
        return " or ".join(f"{cell.text} == {_show(v)}" for v in allowed)


def _negated(text: str) -> str | None:
    """`a != b` for `a == b` (and back), when the text is one such comparison."""
    if " and " in text or " or " in text or "->" in text or text.startswith("not "):
        return None
    if text.count(" == ") + text.count(" != ") != 1:
        return None
    return text.replace(" == ", " != ") if " == " in text else text.replace(" != ", " == ")


def _show(v: Value) -> str:
    return "none" if v is None else str(v)


def _bare(t: Type) -> Type:
    return t.inner if isinstance(t, OptionT) else t


def _constants(e: Z) -> set[str]:
    return {n for x in subterms(e) if (n := constant_name(x)) is not None}


def _conjuncts(e: Z) -> list[Z]:
    if z3.is_and(e):
        return [c for x in e.children() for c in _conjuncts(x)]
    return [e]


__all__ = ["MAX_CANDIDATES", "Generaliser", "certificates"]
