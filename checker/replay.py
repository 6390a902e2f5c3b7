"""Replaying a counterexample through the explicit evaluator.

Every trace any engine reports passes through ``validate`` first: state 0
satisfies init, each step is enabled with its parameters and produces exactly
the next state, and the property really fails at the end. A trace that does
not replay is a bug in speccheck (``ReplayError``), never a result.
"""

from __future__ import annotations

from checker.evaluate import CompiledAction, Evaluator
from checker.ir import Property, TransitionSystem
from checker.results import Trace


class ReplayError(Exception):
    """An engine produced a trace the independent evaluator rejects."""


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
