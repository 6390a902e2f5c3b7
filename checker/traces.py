"""Building trace steps from (action, parameter values, pre-state)."""

from __future__ import annotations

from checker.evaluate import Env, State, positions
from checker.ir import Action, TransitionSystem
from checker.results import Step, Trace
from spec.program import CUR
from spec.sorts import MapT


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
                params, line, failure, action.span.file if line is not None else None)


def make_trace(ts: TransitionSystem, states: list[State], steps: list[Step]) -> Trace:
    return Trace(tuple(v.name for v in ts.vars), tuple(v.display for v in ts.vars),
                 tuple(v.type for v in ts.vars), tuple(states), tuple(steps))


def describe_deadlock(ts: TransitionSystem, state: State) -> str:
    """Who waits for which lock held by whom, in a deadlocked state."""
    from checker.evaluate import Evaluator
    from spec.program import HOLDER, LIVE

    ev = Evaluator(ts)
    index = ts.var_index()
    parts: list[str] = []
    for action in ts.actions:
        if not action.waits or action.actor is None:
            continue
        # every instance of the action: a wait may name its other parameters too
        # (`acquire lf[k]`), so each one needs a value, not only the actor
        for env in ev.param_envs(action):
            t = env[action.actor]
            if not ev.eval(action.enabled, state, env):
                continue
            for lock, blocked in action.waits:
                if not ev.eval(blocked, state, env):
                    continue
                lock_id = ev.eval(lock, state, env)
                holder_t = ts.vars[index[HOLDER]].type
                assert isinstance(holder_t, MapT)
                holder = state[index[HOLDER]][positions(holder_t)[(lock_id,)]]  # type: ignore[index]
                live_t = ts.vars[index[LIVE]].type
                assert isinstance(live_t, MapT)
                alive = holder is None or state[index[LIVE]][positions(live_t)[(holder,)]]  # type: ignore[index]
                who = f"{holder}" + ("" if alive else " (a thread that no longer exists)")
                text = f"{t} waits for {lock_id} held by {who}"
                if text not in parts:
                    parts.append(text)
    return "; ".join(parts) if parts else "threads wait for each other forever"
