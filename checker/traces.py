"""Building trace steps from (action, parameter values, pre-state)."""

from __future__ import annotations

from checker.evaluate import Env, State
from checker.ir import Action, TransitionSystem
from checker.results import Step, Trace
from spec.program import CUR
from spec.sorts import MapT
from checker.evaluate import positions


def make_step(ts: TransitionSystem, action: Action, env: Env, state: State,
              failure: str | None = None) -> Step:
    actor = env.get(action.actor) if action.actor else None
    interp = None
    index = ts.var_index()
    if actor is not None and CUR in index:
        t = ts.vars[index[CUR]].type
        assert isinstance(t, MapT)
        interp = state[index[CUR]][positions(t)[(actor,)]]  # type: ignore[index]
    params = tuple((n, env[n]) for n, _ in action.params)
    line = action.span.line_col()[0] if action.span.source.text else None
    return Step(action.id, action.text, action.routine, action.kind,
                None if actor is None else str(actor), None if interp is None else str(interp),
                params, line, failure)


def make_trace(ts: TransitionSystem, states: list[State], steps: list[Step]) -> Trace:
    return Trace(tuple(v.name for v in ts.vars), tuple(v.display for v in ts.vars),
                 tuple(states), tuple(steps))
