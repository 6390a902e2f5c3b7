"""Bounded model checking, incremental by depth, with z3.

At each depth k (0, 1, ...) and for each property not yet decided, one query
asks for a path of k steps from an initial state that ends in a violation:
an invariant false at step k, or a check failing at a step taken from state
k. The first satisfiable depth gives a shortest counterexample. If no depth up
to the bound is satisfiable the verdict is "no violation up to depth k" —
never "proved".
"""

from __future__ import annotations

import time

import z3

from checker.encode import Encoder
from checker.ir import Property, TransitionSystem
from checker.limits import trusted_model
from checker.progress import Progress
from checker.replay import validate
from checker.results import PropertyResult, Step, Trace, Verdict
from checker.traces import describe_deadlock, make_step, make_trace

ENGINE = "bmc"


def bmc(ts: TransitionSystem, props: list[Property], *, depth: int, seed: int = 0,
        timeout_ms: int | None = None, deadline: float | None = None,
        progress: Progress | None = None) -> dict[str, PropertyResult]:
    ctx = z3.Context()
    solver = z3.SolverFor("QF_BV", ctx=ctx)
    solver.set("random_seed", seed)
    if timeout_ms:
        solver.set("timeout", timeout_ms)
    enc = Encoder(ts, ctx)
    solver.add(enc.domains(0))
    solver.add(enc.init())
    pending = list(props)
    results: dict[str, PropertyResult] = {}
    reached = -1
    for k in range(depth + 1):
        if deadline is not None and time.monotonic() > deadline:
            break
        if progress is not None:
            progress("BMC", k, None)
        still: list[Property] = []
        for p in pending:
            if deadline is not None:  # no single query may run past the overall limit
                left = int((deadline - time.monotonic()) * 1000)
                solver.set("timeout", max(1, min(left, timeout_ms or left)))
            solver.push()
            candidates = []
            if p.formula is not None:
                solver.add(z3.Not(enc.term(p.formula, k, {})))
            else:
                candidates = enc.failures(p, k)
                solver.add(enc.disj([c for _, _, c in candidates]))
            outcome = solver.check()
            model = trusted_model(solver) if outcome == z3.sat else None
            if outcome == z3.sat and model is None:  # interrupted while building the model
                outcome = z3.unknown
            if outcome == z3.sat:
                trace = _decode(ts, enc, model, k, p, candidates)
                validate(ts, trace, p)  # raises ReplayError: an internal error, never a result
                last = trace.steps[-1] if p.formula is None else None
                results[p.name] = PropertyResult(
                    p.name, p.kind, p.description, Verdict.VIOLATED, ENGINE, p.expected,
                    depth=trace.length, trace=trace,
                    check_span=_failure_span(ts, last, p) if last else p.span,
                    message=last.failure if last else (
                        f"invariant `{p.name}` is false" if p.name != "deadlock"
                        else describe_deadlock(ts, trace.states[-1])))
            elif outcome == z3.unknown:
                results[p.name] = PropertyResult(
                    p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE, p.expected,
                    depth=k, reason=f"solver: {solver.reason_unknown() or 'incomplete model'} "
                                    f"at depth {k}")
            else:
                still.append(p)
            solver.pop()
        pending = still
        reached = k
        if not pending or k == depth:
            break
        solver.add(enc.domains(k + 1))
        solver.add(enc.transition(k))
    for p in pending:
        if reached < 0:  # the time limit came before even the initial states were checked
            results[p.name] = PropertyResult(
                p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE, p.expected,
                reason="time limit reached before BMC checked depth 0")
            continue
        results[p.name] = PropertyResult(
            p.name, p.kind, p.description, Verdict.BOUNDED, ENGINE, p.expected,
            depth=reached,
            reason=f"no violation in any execution of up to {reached} steps"
                   + ("" if reached == depth else " (time limit reached)"))
    return results


def _failure_span(ts: TransitionSystem, step: Step, p: Property):  # type: ignore[no-untyped-def]
    a = ts.action(step.action)
    for f in a.failures:
        if f.prop == p.name and f.message == step.failure:
            return f.span
    return p.span


def _decode(ts: TransitionSystem, enc: Encoder, model: z3.ModelRef, k: int, p: Property,
            candidates: list) -> Trace:  # type: ignore[type-arg]
    states = []
    for i in range(k + 1):
        st = enc.state(i)
        states.append(tuple(enc.decode(st[v.name], v.type, model) for v in ts.vars))
    steps: list[Step] = []
    for i in range(k):
        action, env = enc.instances[model.eval(enc.selector(i), model_completion=True).as_long()]
        steps.append(make_step(ts, action, env, states[i]))
    if p.formula is None:
        for inst, fi, formula in candidates:
            if z3.is_true(model.eval(formula, model_completion=True)):
                action, env = enc.instances[inst]
                steps.append(make_step(ts, action, env, states[k],
                                       action.failures[fi].message))
                break
    return make_trace(ts, states, steps)
