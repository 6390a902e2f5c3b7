"""What each step of a trace does, as data: who ran it, in which interpreter, what
it says, and which cells it changed, classified (locks, owners, interpreters,
thread states). Shared by the picture (``svg``) and the documentation, so both
describe a step the same way the text report does."""

from __future__ import annotations

from dataclasses import dataclass

from checker.report.cells import cells, show_value
from checker.results import Step, Trace
from spec.program import CUR, HOLDER, LEVEL, LIVE, PARKED, PC, SAVED
from spec.sorts import EnumT, MapT, OptionT, Type, Value


@dataclass(frozen=True)
class Change:
    """One cell that a step changed."""

    kind: str    # "lock" | "owner" | "interp" | "tstate" | "thread" | "pc" | "state"
    cell: str    # the cell's display name, e.g. holder[gil(main)]
    key: str     # the cell's index as shown, e.g. gil(main) ("" for plain variables)
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.before} -> {self.after}"


def _kind(var: str) -> str:
    if var in (HOLDER, LEVEL):
        return "lock"
    if var.startswith(("obj:", "items:")):
        return "owner"
    if var == CUR:
        return "interp"
    if var.startswith("ts:"):
        return "tstate"
    if var in (LIVE, SAVED, PARKED):
        return "thread"
    if var == PC:
        return "pc"
    return "state"


def _key(cell: str) -> str:
    if cell.endswith("]") and "[" in cell:
        return cell[cell.index("[") + 1:-1]
    if cell.endswith(")") and "(" in cell:
        return cell[cell.index("(") + 1:-1]
    return ""


def changes(trace: Trace, i: int) -> list[Change]:
    """The cells step ``i`` changed (from state i to state i+1), in declaration
    order; none for a final step that fails before it can change anything."""
    if i + 1 >= len(trace.states):
        return []
    before = cells(trace.var_names, trace.var_displays, trace.var_types, trace.states[i])
    after = cells(trace.var_names, trace.var_displays, trace.var_types, trace.states[i + 1])
    out: list[Change] = []
    for (var, cell, old), (_, _, new) in zip(before, after, strict=True):
        if old != new:
            out.append(Change(_kind(var), cell, _key(cell), show_value(old), show_value(new)))
    return out


def action_text(step: Step) -> str:
    """The step in the model's words, without the thread (as the text report shows it)."""
    if step.kind == "call":
        args = ", ".join(f"{n}={show_value(v)}" for n, v in step.params[1:])
        return f"call {step.routine}({args})"
    if step.kind == "action":
        args = ", ".join(f"{n}={show_value(v)}" for n, v in step.params)
        return f"{step.routine}({args})"
    if step.kind == "step":
        return f"{step.routine}: {step.text}"
    return step.text


def _domain_of(trace: Trace, var: str) -> tuple[str, ...]:
    for name, t in zip(trace.var_names, trace.var_types, strict=True):
        if name == var and isinstance(t, MapT) and isinstance(t.keys[0], EnumT):
            return t.keys[0].values
    return ()


def _values_of(t: Type) -> tuple[str, ...]:
    inner = t.inner if isinstance(t, OptionT) else t
    return inner.values if isinstance(inner, EnumT) else ()


def threads(trace: Trace) -> tuple[str, ...]:
    """Every thread of the model (the index of the current-interpreter map),
    falling back to the threads that take steps when the trace has no threads."""
    found = _domain_of(trace, CUR)
    if found:
        return found
    seen: list[str] = []
    for s in trace.steps:
        if s.actor is not None and s.actor not in seen:
            seen.append(s.actor)
    return tuple(seen)


def interpreters(trace: Trace) -> tuple[str, ...]:
    for name, t in zip(trace.var_names, trace.var_types, strict=True):
        if name == CUR and isinstance(t, MapT):
            return _values_of(t.value)
    return ()


def value_at(trace: Trace, state: int, var: str, key: str) -> Value:
    """The value of ``var[key]`` (a map over one enumeration) in a state; None
    when the trace has no such cell."""
    for name, t, v in zip(trace.var_names, trace.var_types, trace.states[state], strict=True):
        if name != var:
            continue
        if isinstance(t, MapT) and isinstance(t.keys[0], EnumT) and isinstance(v, tuple):
            keys = t.keys[0].values
            if key in keys and len(t.keys) == 1:
                return v[keys.index(key)]
        return None
    return None


def locks(trace: Trace) -> tuple[str, ...]:
    """Every lock id of the model (the index of the lock-holder map)."""
    return _domain_of(trace, HOLDER)


def held(trace: Trace, state: int, thread: str) -> tuple[str, ...]:
    """The locks ``thread`` holds in a state."""
    return tuple(lock for lock in locks(trace)
                 if value_at(trace, state, HOLDER, lock) == thread)
