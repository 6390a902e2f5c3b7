"""Explicit-state breadth-first exploration of a finite instance.

An engine in its own right (``--engine explicit``) and the independent oracle
the symbolic engines are tested against. Breadth-first order makes every
counterexample shortest. When the search exhausts the reachable states, every
property not violated is *proved* for this instance (the report gives the
number of states); when it hits ``max_states`` the verdict is *unknown*.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from checker.evaluate import CompiledAction, Env, Evaluator, Fn, State
from checker.ir import Property, TransitionSystem
from checker.progress import Progress
from checker.results import PropertyResult, Step, Trace, Verdict
from checker.traces import describe_deadlock, make_step, make_trace
from spec import terms as T
from spec.program import PC
from spec.sorts import MapT, cell_count

ENGINE = "explicit"

# `init` choices the search may enumerate, per state it may keep: each
# combination of `any` values is tried against the `assume`s one by one.
COMBINATIONS_PER_STATE = 10
# Estimated bytes per stored state: the state tuple (a pointer per cell), the
# map tuples inside it, and the search's own bookkeeping (index, parent, depth).
BYTES_PER_CELL = 8
BYTES_PER_STATE = 200


@dataclass(frozen=True)
class ExplicitStats:
    states: int
    depth: int
    complete: bool
    seconds: float
    fired: frozenset[str] = frozenset()      # actions that fired in some explored state
    vacuous: tuple[str, ...] = ()            # implications whose antecedent never held
    exhausted: bool = False                  # every reachable state was expanded
    reachable: tuple[State, ...] = ()        # the states themselves, when asked for
    witness: Trace | None = None             # shortest trace in which the asked step fires


def antecedent(formula: T.Term) -> T.Term | None:
    """For `forall x. A -> B` (any number of foralls), `exists x. A`; else None."""
    binders: list[T.Quant] = []
    body = formula
    while isinstance(body, T.Quant) and body.kind == "forall":
        binders.append(body)
        body = body.body
    if not (isinstance(body, T.Op) and body.op == "implies"):
        return None
    out = body.args[0]
    for q in reversed(binders):
        out = T.Quant("exists", q.var, q.var_type, out)
    return out


def state_bytes(ts: TransitionSystem) -> int:
    """The estimate of one stored state's memory that ``max_memory`` is compared with."""
    cells = 0
    for v in ts.vars:
        cells += (cell_count(v.type) + 1) if isinstance(v.type, MapT) else 1
    return BYTES_PER_STATE + BYTES_PER_CELL * cells


def explore(ts: TransitionSystem, props: list[Property], *, max_states: int = 200_000,
            max_depth: int | None = None, deadline: float | None = None,
            keep_states: bool = False, witness: str | None = None,
            progress: Progress | None = None, max_memory: int | None = None
            ) -> tuple[dict[str, PropertyResult], ExplicitStats]:
    """`witness`: an action id (e.g. `cache_set.7`) or routine name; the search also
    looks for the shortest trace that ends with it firing. `progress` hears of each
    new breadth-first level (its depth and the states stored so far). `max_memory`:
    megabytes the stored states may take (estimated by ``state_bytes``)."""
    ev = Evaluator(ts)
    start = time.monotonic()
    combinations = math.prod(len(values) for _, _, values in ts.init.choices)
    if combinations > COMBINATIONS_PER_STATE * max(max_states, 1):
        return _not_started(ts, props, f"`init` leaves {combinations} combinations of `any` "
                            f"values to try, more than {COMBINATIONS_PER_STATE} per state of "
                            f"the state limit ({max_states})", start)
    memory_states = (None if max_memory is None
                     else max(1, max_memory * 1024 * 1024 // state_bytes(ts)))
    actions = [CompiledAction(ev, a) for a in ts.actions]
    state_props = [(p, ev.compile(p.formula)) for p in props if p.formula is not None]
    pending = {p.name for p in props}
    found: dict[str, PropertyResult] = {}
    fired: set[str] = set()
    antecedents: dict[str, Fn] = {}
    for p in props:
        ante = antecedent(p.formula) if p.formula is not None else None
        if ante is not None:
            antecedents[p.name] = ev.compile(ante)
    unmet = set(antecedents)

    states: list[State] = []
    parent: list[tuple[int, int, Env] | None] = []
    depth_of: list[int] = []
    seen: dict[State, int] = {}

    def trace_to(i: int) -> tuple[list[State], list[Step]]:
        path_states: list[State] = []
        path_steps: list[Step] = []
        while True:
            path_states.append(states[i])
            link = parent[i]
            if link is None:
                break
            j, ai, env = link
            path_steps.append(make_step(ts, ts.actions[ai], env, states[j]))
            i = j
        path_states.reverse()
        path_steps.reverse()
        return path_states, path_steps

    def check_state(i: int) -> None:
        for name in list(unmet):
            if antecedents[name](states[i], {}):
                unmet.discard(name)
        for p, fn in state_props:
            if p.name in pending and not fn(states[i], {}):
                st, sp = trace_to(i)
                found[p.name] = _violation(p, st, sp, ts, None)
                pending.discard(p.name)

    def add(state: State, link: tuple[int, int, Env] | None, depth: int) -> None:
        if state in seen:
            return
        seen[state] = len(states)
        states.append(state)
        parent.append(link)
        depth_of.append(depth)
        check_state(len(states) - 1)

    # index actions by the program-counter label their actor must be at
    pc_index = ev.index.get(PC)
    threads = ts.thread_values
    by_label: dict[str, list[tuple[int, CompiledAction, dict[str, list[Env]]]]] = {}
    always: list[tuple[int, CompiledAction, list[Env]]] = []
    for ai, ca in enumerate(actions):
        a = ca.action
        if a.at is not None and a.actor is not None and pc_index is not None:
            envs: dict[str, list[Env]] = {}
            for env in ca.envs:
                envs.setdefault(str(env[a.actor]), []).append(env)
            by_label.setdefault(a.at, []).append((ai, ca, envs))
        else:
            always.append((ai, ca, ca.envs))

    def candidates(state: State) -> list[tuple[int, CompiledAction, list[Env]]]:
        out = list(always)
        if pc_index is not None:
            pcs = state[pc_index]
            assert isinstance(pcs, tuple)
            for t, label in zip(threads, pcs, strict=True):
                for ai, ca, envs in by_label.get(str(label), ()):
                    out.append((ai, ca, envs.get(t, [])))
        out.sort(key=lambda x: x[0])  # keep the declaration order: deterministic traces
        return out

    for s in ev.initial_states(min(max_states, memory_states or max_states) + 1):
        add(s, None, 0)
    complete = True
    i = 0
    max_seen_depth = 0
    witness_trace: Trace | None = None
    while i < len(states) and (pending or (witness is not None and witness_trace is None)):
        if len(states) > max_states or (deadline is not None and time.monotonic() > deadline):
            complete = False
            break
        if memory_states is not None and len(states) > memory_states:
            complete = False
            break
        state = states[i]
        d = depth_of[i]
        if d > max_seen_depth and progress is not None:
            progress("explicit search", d, len(states))
        max_seen_depth = max(max_seen_depth, d)
        if max_depth is not None and d >= max_depth:
            complete = False
            i += 1
            continue
        for ai, ca, todo in candidates(state):
            for env in todo:
                if not ca.enabled(state, env):
                    continue
                for failure, fn in ca.failures:
                    if failure.prop in pending and fn(state, env):
                        st, sp = trace_to(i)
                        sp.append(make_step(ts, ts.actions[ai], env, state, failure.message))
                        found[failure.prop] = _violation(ts.property(failure.prop), st, sp, ts,
                                                         failure)
                        pending.discard(failure.prop)
                if ca.guard(state, env):
                    fired.add(ca.action.id)
                    if witness is not None and witness_trace is None and witness in (
                            ca.action.id, ca.action.routine):
                        st, sp = trace_to(i)
                        sp.append(make_step(ts, ca.action, env, state))
                        st.append(ca.successor(state, env))
                        witness_trace = make_trace(ts, st, sp)
                    add(ca.successor(state, env), (i, ai, env), d + 1)
        i += 1
    if i < len(states) and pending:
        complete = False
    stats = ExplicitStats(len(states), max(depth_of, default=0), complete,
                          time.monotonic() - start, frozenset(fired),
                          tuple(p.name for p in props if p.name in unmet),
                          i >= len(states), tuple(states) if keep_states else (),
                          witness_trace)
    for p in props:
        if p.name in found:
            continue
        if complete:
            found[p.name] = PropertyResult(
                p.name, p.kind, p.description, Verdict.PROVED, ENGINE, p.expected,
                depth=stats.depth, states=stats.states,
                reason=f"exhaustive search of this instance: {stats.states} states, "
                       f"diameter {stats.depth}")
        else:
            why = ("deadline reached" if deadline is not None and time.monotonic() > deadline
                   else f"state limit {max_states} reached" if len(states) > max_states
                   else f"memory limit {max_memory} MB reached ({len(states)} states of about "
                        f"{state_bytes(ts)} bytes)"
                   if memory_states is not None and len(states) > memory_states
                   else f"depth limit {max_depth} reached")
            found[p.name] = PropertyResult(
                p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE, p.expected,
                states=stats.states, reason=f"explicit search incomplete: {why}")
    return found, stats


def _not_started(ts: TransitionSystem, props: list[Property], why: str, start: float
                 ) -> tuple[dict[str, PropertyResult], ExplicitStats]:
    found = {p.name: PropertyResult(p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE,
                                    p.expected, states=0,
                                    reason=f"explicit search not started: {why}")
             for p in props}
    return found, ExplicitStats(0, 0, False, time.monotonic() - start)


def _violation(p: Property, states: list[State], steps: list[Step], ts: TransitionSystem,
               failure: object) -> PropertyResult:
    message = getattr(failure, "message", None)
    span = getattr(failure, "span", None) or p.span
    if message is None:
        message = (f"invariant `{p.name}` is false" if p.name != "deadlock"
                   else describe_deadlock(ts, states[-1]))
    return PropertyResult(p.name, p.kind, p.description, Verdict.VIOLATED, ENGINE, p.expected,
                          depth=len(steps), trace=make_trace(ts, states, steps),
                          check_span=span, message=message)
