"""Certificates for explicit proofs: invariants mined from the reachable states.

When the explicit search has seen every reachable state, the facts that hold
in all of them are candidate invariants. We take the simplest ones — which
values each state cell takes, and which pairs of values each two cells take
together — keep the largest subset that is inductive (Houdini: drop whatever a
step can break, until nothing breaks), and keep it as the certificate of
every property it implies. Each certificate then goes through the same
independent re-check as a PDR certificate (``checker.certificate.recheck``).
Properties the mined invariant does not imply keep their explicit proof
without a certificate.
"""

from __future__ import annotations

import itertools
from typing import Any

import z3

from checker.certificate import recheck_each, render
from checker.encode import Encoder
from checker.evaluate import State
from checker.ir import Property, TransitionSystem
from checker.limits import expired, limit
from checker.results import Certificate
from spec.program import CUR, LIVE, PC, SAVED
from spec.sorts import MapT, Type, Value, map_keys

MAX_PAIRS = 4000


class _OutOfTime(Exception):
    """The deadline passed while candidates were being built (pure Python, no solver)."""


def columns(ts: TransitionSystem, states: tuple[State, ...]
            ) -> list[tuple[Type, list[Value]]]:
    """One column of values per scalar cell, in ``Encoder.flat`` order."""
    out: list[tuple[Type, list[Value]]] = []
    for i, v in enumerate(ts.vars):
        if isinstance(v.type, MapT):
            for j, _ in enumerate(map_keys(v.type)):
                out.append((v.type.value, [s[i][j] for s in states]))  # type: ignore[index]
        else:
            out.append((v.type, [s[i] for s in states]))
    return out


def contexts(ts: TransitionSystem) -> list[tuple[int, ...]]:
    """Column indices of a thread's context — pc[t], cur[t], saved[t] and live[t] — per
    thread (after `fork` a dead thread's program counter is frozen wherever it was, so
    what its pc implies holds only while it is alive)."""
    index: dict[tuple[str, tuple[Value, ...] | None], int] = {}
    n = 0
    for v in ts.vars:
        if isinstance(v.type, MapT):
            for key in map_keys(v.type):
                index[(v.name, key)] = n
                n += 1
        else:
            index[(v.name, None)] = n
            n += 1
    out = []
    for t in ts.thread_values:
        cols = tuple(index[(v, (t,))] for v in (PC, CUR, SAVED, LIVE) if (v, (t,)) in index)
        if len(cols) >= 2:
            out.append(cols)
    return out


def mine(ts: TransitionSystem, props: list[Property], states: tuple[State, ...], *,
         timeout_ms: int | None = None, deadline: float | None = None
         ) -> tuple[str | None, dict[str, Certificate]]:
    """(the mined inductive invariant as SMT-LIB, or None; certificates by property)."""
    if not states:
        return None, {}
    ctx = z3.Context()
    enc = Encoder(ts, ctx, ints=True)
    cells0, cells1 = enc.flat(0), enc.flat(1)
    cols = columns(ts, states)
    seen = [set(values) for _, values in cols]
    thread_contexts = contexts(ts)

    def eq(z: Any, v: Value, t: Type) -> Any:
        return z == enc.value(v, t)

    def candidates(cells: list[Any], triples: bool) -> list[Any]:
        out = []
        for (t, _), values, z in zip(cols, seen, cells, strict=True):
            out.append(z3.Or(*[eq(z, v, t) for v in sorted(values, key=repr)]))
        varying = [i for i, values in enumerate(seen) if len(values) > 1]
        pairs = list(itertools.combinations(varying, 2))[:MAX_PAIRS]
        # a thread's program counter and current interpreter together, against
        # every other cell (what a thread may do depends on both)
        for ctx_cols in thread_contexts if triples else []:
            parts = [i for i in ctx_cols if i in varying]
            if len(parts) < 2:
                continue
            context = list(zip(*(cols[i][1] for i in parts), strict=True))
            known = set(context)
            for c in varying:
                if c in parts:
                    continue
                if expired(deadline):
                    raise _OutOfTime
                together = set(zip(context, cols[c][1], strict=True))
                unseen = [(x, y) for x in sorted(known, key=repr)
                          for y in sorted(seen[c], key=repr) if (x, y) not in together]
                if unseen:
                    out.append(z3.And(*[z3.Not(z3.And(
                        *[eq(cells[i], xi, cols[i][0]) for i, xi in zip(parts, x, strict=True)],
                        eq(cells[c], y, cols[c][0]))) for x, y in unseen]))
        for a, b in pairs:
            if expired(deadline):
                raise _OutOfTime
            both = set(zip(cols[a][1], cols[b][1], strict=True))
            missing = [(x, y) for x in sorted(seen[a], key=repr) for y in sorted(seen[b], key=repr)
                       if (x, y) not in both]
            if missing:
                ta, tb = cols[a][0], cols[b][0]
                out.append(z3.And(*[z3.Not(z3.And(eq(cells[a], x, ta), eq(cells[b], y, tb)))
                                    for x, y in missing]))
        return out

    def attempt(triples: bool) -> tuple[str | None, dict[str, Certificate]]:
        pre, post = candidates(cells0, triples), candidates(cells1, triples)
        solver = z3.Solver(ctx=ctx)
        solver.add(enc.domains(0), enc.domains(1), enc.transition(0))
        guards = [z3.Bool(f"c{i}", ctx) for i in range(len(pre))]
        for g, c in zip(guards, pre, strict=True):
            solver.add(z3.Implies(g, c))
        active = list(range(len(pre)))
        while active:  # Houdini: drop what a step from the conjunction can break
            if expired(deadline):
                return None, {}
            limit(solver, timeout_ms, deadline)
            solver.push()
            solver.add(z3.Or(*[z3.Not(post[i]) for i in active]))
            outcome = solver.check(*[guards[i] for i in active])
            if outcome == z3.unsat:
                solver.pop()
                break
            if outcome != z3.sat:
                solver.pop()
                return None, {}
            model = solver.model()
            broken = {i for i in active if z3.is_false(model.eval(post[i], model_completion=True))}
            solver.pop()
            if not broken:
                return None, {}  # cannot happen for a sound model: no certificate, no guess
            active = [i for i in active if i not in broken]
        invariant = z3.And(*[pre[i] for i in active]) if active else z3.BoolVal(True, ctx)
        check_init = z3.Solver(ctx=ctx)
        limit(check_init, timeout_ms, deadline)
        check_init.add(enc.domains(0), enc.init(), z3.Not(invariant))
        if check_init.check() != z3.unsat:  # every initial state was explored, so this holds
            return None, {}
        text, size = render(ts, enc, invariant)
        smt = invariant.sexpr()
        implied: list[Property] = []
        for p in props:
            if expired(deadline):
                break
            limit(solver, timeout_ms, deadline)
            solver.push()
            solver.add(*[pre[i] for i in active], enc.bad(p, 0))
            if solver.check() == z3.unsat:
                implied.append(p)
            solver.pop()
        # one independent re-check of the invariant for all the properties it implies
        checked = recheck_each(ts, implied, smt, timeout_ms, deadline) if implied else {}
        out = {p.name: Certificate(p.name, smt, text, size)
               for p in implied if checked[p.name][0]}
        return smt, out

    # value pairs first; a thread's (pc, cur) against each cell only when needed
    try:
        smt, certs = attempt(False)
    except _OutOfTime:
        return None, {}
    if len(certs) < len(props) and not expired(deadline):
        try:
            more_smt, more = attempt(True)
        except _OutOfTime:
            return smt, certs
        if len(more) > len(certs):
            return more_smt, more
    return smt, certs
