"""Replaying a counterexample through the explicit evaluator.

Every trace any engine reports passes through ``validate`` first: state 0
satisfies init, each step is enabled with its parameters and produces exactly
the next state, and the property really fails at the end. A trace that does
not replay is a bug in speccheck (``ReplayError``), never a result.
"""

from __future__ import annotations

from checker.evaluate import CompiledAction, Evaluator, State
from checker.ir import Property, TransitionSystem
from checker.results import Trace


class ReplayError(Exception):
    """An engine produced a trace the independent evaluator rejects."""


def holds(ev: Evaluator, ts: TransitionSystem, prop: Property, state: State) -> bool:
    """Whether a state satisfies a property: its formula, or no check fails there."""
    if prop.formula is not None:
        return bool(ev.eval(prop.formula, state))
    for action in ts.actions:
        if not any(f.prop == prop.name for f in action.failures):
            continue
        ca = CompiledAction(ev, action)
        for env in ca.envs:
            if ca.enabled(state, env) and any(f.prop == prop.name and fn(state, env)
                                              for f, fn in ca.failures):
                return False
    return True


def validate_cti(ts: TransitionSystem, cti: Trace, assumed: list[Property],
                 broken: Property) -> None:
    """A counterexample to induction: the pre-state satisfies every assumed
    property, the step fires, and the post-state violates `broken`."""
    ev = Evaluator(ts)
    if len(cti.states) != 2 or len(cti.steps) != 1:
        raise ReplayError("a counterexample to induction has two states and one step")
    pre, post = cti.states
    for p in assumed:
        if not holds(ev, ts, p, pre):
            raise ReplayError(f"the CTI's pre-state violates the assumed `{p.name}`")
    step = cti.steps[0]
    ca = CompiledAction(ev, ts.action(step.action))
    env = dict(step.params)
    if not ca.enabled(pre, env) or not ca.guard(pre, env) or ca.successor(pre, env) != post:
        raise ReplayError("the CTI's step does not lead from its pre- to its post-state")
    if holds(ev, ts, broken, post):
        raise ReplayError(f"`{broken.name}` holds after the CTI's step")


def validate_steps(ts: TransitionSystem, trace: Trace) -> None:
    """A plain execution (a witness): initial state, and every step fires as shown."""
    ev = Evaluator(ts)
    if not trace.states or not ev.is_initial(trace.states[0]):
        raise ReplayError("state 0 does not satisfy init")
    if len(trace.steps) != len(trace.states) - 1:
        raise ReplayError("a witness has one step fewer than states")
    for i, step in enumerate(trace.steps):
        ca = CompiledAction(ev, ts.action(step.action))
        env = dict(step.params)
        if not ca.enabled(trace.states[i], env) or not ca.guard(trace.states[i], env) or \
                ca.successor(trace.states[i], env) != trace.states[i + 1]:
            raise ReplayError(f"step {i + 1} ({step.text}) does not replay")


def validate(ts: TransitionSystem, trace: Trace, prop: Property) -> None:
    ev = Evaluator(ts)
    states = trace.states
    if not states:
        raise ReplayError("empty trace")
    if not ev.is_initial(states[0]):
        raise ReplayError("state 0 does not satisfy init")
    check_step = prop.formula is None
    expected_steps = len(states) if check_step else len(states) - 1
    if len(trace.steps) != expected_steps:
        raise ReplayError(f"trace has {len(trace.steps)} steps for {len(states)} states")
    known = {a.id for a in ts.actions}
    for step in trace.steps:
        if step.action not in known:
            raise ReplayError(f"the trace names an action the model does not have: "
                              f"{step.action}")
    for i, step in enumerate(trace.steps[: len(states) - 1]):
        ca = CompiledAction(ev, ts.action(step.action))
        env = dict(step.params)
        if not ca.enabled(states[i], env) or not ca.guard(states[i], env):
            raise ReplayError(f"step {i + 1} ({step.text}) cannot fire")
        if ca.successor(states[i], env) != states[i + 1]:
            raise ReplayError(f"step {i + 1} ({step.text}) does not lead to state {i + 1}")
    last = states[-1]
    if prop.formula is not None:
        if ev.eval(prop.formula, last):
            raise ReplayError(f"`{prop.name}` holds in the final state")
        return
    step = trace.steps[-1]
    ca = CompiledAction(ev, ts.action(step.action))
    env = dict(step.params)
    if not ca.enabled(last, env):
        raise ReplayError("the failing step is not at hand in the final state")
    if not any(f.prop == prop.name and fn(last, env) for f, fn in ca.failures):
        raise ReplayError(f"no check of `{prop.name}` fails at the final step")
