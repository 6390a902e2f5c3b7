"""Inductive proofs: invariant checking with counterexamples to induction, and
k-induction.

``induction`` treats every property of the model — invariants, `lemma`s, and
the built-in checks read as "no check fails in this state" — as a conjunct of
one candidate inductive invariant, and checks it obligation by obligation:

* initiation: no initial state violates a conjunct (if one does, that is a
  real violation, found again by BMC at depth 0 for its trace);
* consecution: for each conjunct C, no step from a state where every conjunct
  holds reaches a state violating C. A satisfying step is a *counterexample to
  induction* (CTI): the pre-state, the action with its parameters, the
  post-state and C. A CTI is not a violation (the pre-state may be
  unreachable): C is dropped and the rest re-checked (Houdini), until the
  remaining conjuncts are inductive. Those are proved; the dropped ones are
  reported `unknown` with their CTI, unless another engine decides them.

``kinduction`` proves one property P at a time: if no path from an initial
state violates P within k-1 steps (base, by BMC) and no path of k+1 distinct
states whose first k satisfy P ends in a violation (step, with simple-path
constraints), P holds at every depth.
"""

from __future__ import annotations

from typing import Any

import z3

from checker.encode import Encoder
from checker.engines.bmc import bmc
from checker.ir import Property, TransitionSystem
from checker.limits import expired, limit, trusted_model
from checker.replay import validate_cti
from checker.results import PropertyResult, Step, Trace, Verdict
from checker.traces import make_step, make_trace

ENGINE_INDUCTION = "induction"
ENGINE_KIND = "k-induction"


def induction(ts: TransitionSystem, props: list[Property], *, seed: int = 0,
              timeout_ms: int | None = None, deadline: float | None = None
              ) -> dict[str, PropertyResult]:
    ctx = z3.Context()
    enc = Encoder(ts, ctx)
    solver = z3.Solver(ctx=ctx)
    solver.set("random_seed", seed)
    # every property of the model is a conjunct; the selected ones get results
    conjuncts = list(ts.properties)
    results: dict[str, PropertyResult] = {}
    good0 = {p.name: z3.Not(enc.bad(p, 0)) for p in conjuncts}
    bad1 = {p.name: enc.bad(p, 1) for p in conjuncts}
    base = [enc.domains(0), enc.domains(1), enc.transition(0)]
    active = [p for p in conjuncts]

    # initiation
    for p in list(active):
        if expired(deadline):
            active.remove(p)
            results[p.name] = _unknown(p, "time limit reached during initiation checks")
            continue
        limit(solver, timeout_ms, deadline)
        solver.push()
        solver.add(enc.domains(0), enc.init(), enc.bad(p, 0))
        outcome = solver.check()
        solver.pop()
        if outcome == z3.sat:
            active.remove(p)
            results[p.name] = bmc(ts, [p], depth=0, seed=seed)[p.name]
        elif outcome == z3.unknown:
            active.remove(p)
            results[p.name] = _unknown(p, f"initiation: {solver.reason_unknown()}")

    # consecution, Houdini-style
    ctis: dict[str, tuple[Trace, tuple[str, ...]]] = {}
    changed = True
    while changed and active:
        changed = False
        for p in list(active):
            if expired(deadline):  # undecided; CTIs already found are still shown
                for q in active:
                    results[q.name] = _unknown(q, "time limit reached during consecution checks")
                active = []
                break
            limit(solver, timeout_ms, deadline)
            solver.push()
            solver.add(*base, *[good0[q.name] for q in active], bad1[p.name])
            outcome = solver.check()
            model = trusted_model(solver) if outcome == z3.sat else None
            if outcome == z3.sat and model is None:  # interrupted while building the model
                outcome = z3.unknown
            if outcome == z3.sat:
                assumed = tuple(q.name for q in active)
                cti = _decode_cti(ts, enc, model, p)
                validate_cti(ts, cti, [ts.property(n) for n in assumed], p)
                ctis[p.name] = (cti, assumed)
                active.remove(p)
                changed = True
            elif outcome == z3.unknown:
                results[p.name] = _unknown(
                    p, f"consecution: {solver.reason_unknown() or 'incomplete model'}")
                active.remove(p)
                changed = True
            solver.pop()
            if changed:
                break  # the candidate shrank: re-check the others against the smaller set
    lemmas = tuple(q.name for q in active if q.kind == "lemma")
    for p in active:
        used = f"; lemmas used: {', '.join(lemmas)}" if lemmas else ""
        results[p.name] = PropertyResult(
            p.name, p.kind, p.description, Verdict.PROVED, ENGINE_INDUCTION, p.expected,
            reason=f"inductive together with {len(active) - 1} other properties{used}")
    for name, (cti, assumed) in ctis.items():
        p = ts.property(name)
        results[name] = PropertyResult(
            p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE_INDUCTION, p.expected,
            reason="not inductive: a step from a state satisfying "
                   f"{', '.join(assumed)} breaks it; add a lemma that excludes the pre-state",
            cti=cti, message=cti.steps[0].failure)
    return _finish(results, props)


def _finish(results: dict[str, PropertyResult], props: list[Property]
            ) -> dict[str, PropertyResult]:
    return {p.name: results[p.name] for p in props if p.name in results}


def _unknown(p: Property, reason: str, engine: str = ENGINE_INDUCTION) -> PropertyResult:
    return PropertyResult(p.name, p.kind, p.description, Verdict.UNKNOWN, engine, p.expected,
                          reason=reason)


def _decode_cti(ts: TransitionSystem, enc: Encoder, model: Any, p: Property) -> Trace:
    states = []
    for k in (0, 1):
        st = enc.state(k)
        states.append(tuple(enc.decode(st[v.name], v.type, model) for v in ts.vars))
    action, env = enc.instances[model.eval(enc.selector(0), model_completion=True).as_long()]
    what = (f"`{p.name}` does not hold after this step" if p.formula is not None
            else f"a check of `{p.name}` can fail after this step")
    step: Step = make_step(ts, action, env, states[0], what)
    return make_trace(ts, states, [step])


def kinduction(ts: TransitionSystem, props: list[Property], *, max_k: int = 8, seed: int = 0,
               timeout_ms: int | None = None, deadline: float | None = None
               ) -> dict[str, PropertyResult]:
    # one BMC run is the base case of every property, and one encoding (in one
    # context) serves every property's step case: each gets its own solver
    base = bmc(ts, props, depth=max_k - 1, seed=seed, timeout_ms=timeout_ms,
               deadline=deadline)
    enc = Encoder(ts, z3.Context())
    results: dict[str, PropertyResult] = {}
    for p in props:
        if base[p.name].verdict is not Verdict.BOUNDED:
            results[p.name] = base[p.name]  # a violation (with its trace) or unknown
        else:
            results[p.name] = _kind_step(ts, enc, p, max_k, seed, timeout_ms, deadline)
    return results


def _kind_step(ts: TransitionSystem, enc: Encoder, p: Property, max_k: int, seed: int,
               timeout_ms: int | None, deadline: float | None) -> PropertyResult:
    solver = z3.Solver(ctx=enc.ctx)
    solver.set("random_seed", seed)
    solver.add(enc.domains(0))
    for k in range(1, max_k + 1):
        if expired(deadline):
            return _unknown(p, f"time limit reached at k={k}", ENGINE_KIND)
        # path s0..sk: the property holds in s0..s(k-1); all states distinct
        solver.add(enc.domains(k), enc.transition(k - 1), z3.Not(enc.bad(p, k - 1)))
        for j in range(k):
            solver.add(_distinct(enc, j, k))
        limit(solver, timeout_ms, deadline)
        solver.push()
        solver.add(enc.bad(p, k))
        outcome = solver.check()
        solver.pop()
        if outcome == z3.unsat:
            return PropertyResult(
                p.name, p.kind, p.description, Verdict.PROVED, ENGINE_KIND, p.expected,
                depth=k, reason=f"{k}-inductive (simple paths; base case by BMC up to depth "
                                f"{max_k - 1})")
        if outcome == z3.unknown:
            return _unknown(p, f"step case at k={k}: {solver.reason_unknown()}", ENGINE_KIND)
    return PropertyResult(
        p.name, p.kind, p.description, Verdict.BOUNDED, ENGINE_KIND, p.expected,
        depth=max_k - 1, reason=f"not {max_k}-inductive; no violation up to depth {max_k - 1}")


def _distinct(enc: Encoder, i: int, j: int) -> Any:
    a, b = enc.flat(i), enc.flat(j)
    return z3.Or(*[x != y for x, y in zip(a, b, strict=True)])
