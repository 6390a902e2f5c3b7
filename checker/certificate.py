"""Certificates: inductive invariants found by PDR, re-checked and rendered.

``recheck`` is the independent plain-SMT check a certificate must pass before
"proved" is reported: in a fresh z3 context and a fresh encoding it parses the
invariant back from SMT-LIB text and asks three questions, each of which must
be unsatisfiable: does some initial state violate it (initiation), does some
step leave it (consecution), and does some state satisfying it violate the
property. ``render`` prints the invariant with the model's names and values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import z3

from checker.encode import NONE_CODE, Encoder
from checker.ir import Property, TransitionSystem
from checker.limits import expired, limit
from checker.report.cells import cell_name
from spec.sorts import EnumT, MapT, OptionT, Type, map_keys


class CertificateError(Exception):
    """A certificate failed its re-check: a bug in speccheck or in the solver."""


def declarations(enc: Encoder) -> str:
    return "".join(f"(declare-fun {c.sexpr()} () {c.sort().sexpr()})\n" for c in enc.flat(0))


def parse(ts: TransitionSystem, enc: Encoder, smt: str) -> Any:
    vec = z3.parse_smt2_string(declarations(enc) + f"(assert {smt})\n", ctx=enc.ctx)
    return z3.And(*vec) if len(vec) != 1 else vec[0]


def recheck(ts: TransitionSystem, prop: Property, smt: str,
            timeout_ms: int | None = None, deadline: float | None = None
            ) -> tuple[bool, str]:
    """(ok, which obligation failed or could not be decided)."""
    return recheck_each(ts, [prop], smt, timeout_ms, deadline)[prop.name]


def recheck_each(ts: TransitionSystem, props: list[Property], smt: str,
                 timeout_ms: int | None = None, deadline: float | None = None
                 ) -> dict[str, tuple[bool, str]]:
    """``recheck`` of one invariant for several properties in one fresh context:
    initiation and consecution do not depend on the property, so they are asked
    once; then, per property, whether the invariant excludes its bad states."""
    ctx = z3.Context()
    enc = Encoder(ts, ctx, ints=True)
    try:
        inv0 = parse(ts, enc, smt)
    except z3.Z3Exception as exc:
        return {p.name: (False, f"unreadable certificate: {exc}") for p in props}
    inv1 = z3.substitute(inv0, *zip(enc.flat(0), enc.flat(1), strict=True))
    solver = z3.Solver(ctx=ctx)

    def fails(name: str, query: Any) -> str | None:
        """None if the obligation is unsatisfiable, else why it did not hold."""
        if expired(deadline):
            return f"{name}: unknown"
        limit(solver, timeout_ms, deadline)
        solver.push()
        solver.add(query)
        outcome = solver.check()
        solver.pop()
        return None if outcome == z3.unsat else f"{name}: {outcome}"

    shared = [
        ("initiation", z3.And(enc.domains(0), enc.init(), z3.Not(inv0))),
        ("consecution", z3.And(enc.domains(0), inv0, enc.transition(0), enc.domains(1),
                               z3.Not(inv1))),
    ]
    for name, query in shared:
        why = fails(name, query)
        if why is not None:
            return {p.name: (False, why) for p in props}
    out: dict[str, tuple[bool, str]] = {}
    for p in props:
        why = fails("implies the property", z3.And(enc.domains(0), inv0, enc.bad(p, 0)))
        out[p.name] = (False, why) if why is not None else (
            True, "initiation, consecution and the property re-checked")
    return out


# ---- rendering ---------------------------------------------------------------------------


def cell_table(ts: TransitionSystem, enc: Encoder) -> dict[str, tuple[str, Type]]:
    """z3 constant name (step 0) -> (display name, scalar type)."""
    out: dict[str, tuple[str, Type]] = {}
    for v in ts.vars:
        z = enc.state(0)[v.name]
        if isinstance(v.type, MapT):
            for (key, c), raw in zip(z.items(), map_keys(v.type), strict=True):
                out[c.decl().name()] = (cell_name(v.display, raw), v.type.value)
                del key
        else:
            out[z.decl().name()] = (v.display, v.type)
    return out


def constant_name(e: Any) -> str | None:
    """The name of an uninterpreted constant (a state cell), else None; cheaper
    than printing the term (z3's printer is slow on every node of a large invariant)."""
    if z3.is_app(e) and e.num_args() == 0 and \
            e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
        return e.decl().name()  # type: ignore[no-any-return]
    return None


def subterms(e: Any) -> Iterator[Any]:
    """Every distinct node of a term, each once (terms share subterms: a tree walk
    would visit them once per path); quantifier bodies are not entered."""
    seen: set[int] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        yield x
        if z3.is_app(x):
            todo.extend(x.children())


def render(ts: TransitionSystem, enc: Encoder, formula: Any) -> tuple[str, int]:
    """The invariant as text (one top-level conjunct per line) and its atom count.
    Comparisons of an enumeration cell with a constant are shown as membership
    (`cur[t1] in {main, none}`); in arithmetic, `#x` is the code of x's value (its
    position in the sort; none is the code -524288)."""
    table = cell_table(ts, enc)
    atoms = [0]

    def enum_of(t: Type | None) -> tuple[EnumT | None, bool]:
        if isinstance(t, OptionT):
            inner = t.inner
            return (ts.sort(inner) if isinstance(inner, EnumT) else None), True
        return (ts.sort(t) if isinstance(t, EnumT) else None), False

    def value(n: int, t: Type | None) -> str:
        if n == NONE_CODE:
            return "none"
        sort, _ = enum_of(t)
        if sort is not None and 0 <= n < len(sort.values):
            return sort.values[n]
        return str(n)

    def typ(e: Any) -> Type | None:
        cell = constant_name(e)
        return table[cell][1] if cell in table else None

    def term(e: Any) -> str:
        """An operand of arithmetic: enumeration cells stand for their codes."""
        cell = constant_name(e)
        if cell in table:
            name, t = table[cell]
            return f"#{name}" if enum_of(t)[0] is not None else name
        return show(e)

    def show(e: Any, top: bool = False) -> str:
        if z3.is_true(e):
            return "true"
        if z3.is_false(e):
            return "false"
        if z3.is_and(e):
            parts = [show(c) for c in e.children()]
            return ("\n".join(parts) if top else "(" + " and ".join(parts) + ")")
        if z3.is_or(e):
            return "(" + " or ".join(show(c) for c in e.children()) + ")"
        if z3.is_not(e):
            return "not " + show(e.arg(0))
        if z3.is_implies(e):
            return f"({show(e.arg(0))} -> {show(e.arg(1))})"
        if z3.is_app_of(e, z3.Z3_OP_ITE):
            return f"(if {show(e.arg(0))} then {show(e.arg(1))} else {show(e.arg(2))})"
        ops = {z3.Z3_OP_EQ: "==", z3.Z3_OP_DISTINCT: "!=", z3.Z3_OP_LE: "<=",
               z3.Z3_OP_LT: "<", z3.Z3_OP_GE: ">=", z3.Z3_OP_GT: ">"}
        if z3.is_app(e) and e.decl().kind() in ops and e.num_args() == 2:
            atoms[0] += 1
            a, b = e.arg(0), e.arg(1)
            op = ops[e.decl().kind()]
            if z3.is_int_value(a) and not z3.is_int_value(b):
                a, b = b, a
                op = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}.get(op, op)
            t = typ(a)
            sort, _ = enum_of(t)
            if z3.is_int_value(b) and t is not None:
                n = b.as_long()
                if op in ("==", "!="):
                    return f"{show(a)} {op} {value(n, t)}"
                if sort is not None:  # an order on enumeration codes: list the members
                    _, optional = enum_of(t)
                    codes = ([(NONE_CODE, "none")] if optional else []) + list(
                        enumerate(sort.values))
                    members = [v for i, v in codes
                               if {"<=": i <= n, "<": i < n, ">=": i >= n, ">": i > n}[op]]
                    allowed = ", ".join(members) or "nothing"
                    return f"{show(a)} in {{{allowed}}}"
            tb = typ(b)
            if z3.is_const(b) and tb is not None and op in ("==", "!=") and \
                    enum_of(tb)[0] == sort:
                return f"{show(a)} {op} {show(b)}"
            return f"{term(a)} {op} {term(b)}"
        cell = constant_name(e)
        if cell in table:
            return table[cell][0]
        if z3.is_int_value(e):
            return str(e.as_long())
        if z3.is_app(e) and e.num_args() == 2 and e.decl().kind() in (
                z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_MUL):
            sym = {z3.Z3_OP_ADD: "+", z3.Z3_OP_SUB: "-", z3.Z3_OP_MUL: "*"}[e.decl().kind()]
            left, right = e.arg(0), e.arg(1)
            if sym == "*" and z3.is_int_value(left) and left.as_long() == -1:
                return f"-{term(right)}"
            return f"({term(left)} {sym} {term(right)})"
        if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_ADD:
            return "(" + " + ".join(term(c) for c in e.children()) + ")"
        return str(e)

    text = show(formula, top=True)
    return text, atoms[0]
