"""The transition-system IR every engine works on.

Produced by ``checker.lower`` from a checked ``spec.program.Program``. A state
assigns a value to every ``StateVar``; an ``Action`` with concrete parameter
values is one atomic step. Its semantics (NOTE(action-semantics)):

* it is *at hand* when ``enabled`` holds (the thread is at this program point
  and alive, or the action's position condition holds);
* it *fires* when ``enabled`` and ``guard`` hold; the successor state gives each
  variable in ``updates`` its term evaluated in the pre-state, and every other
  variable keeps its value (frame conditions are implicit);
* a ``Failure`` of property P is a *violation* of P whenever ``enabled`` and the
  failure's ``cond`` hold, whether or not the guard lets the action fire (a
  thread about to re-acquire a mutex it holds is a bug even though it blocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec.sorts import EnumT, Type, Value
from spec.source import Span
from spec.terms import Term


@dataclass(frozen=True)
class StateVar:
    name: str
    type: Type
    display: str  # how traces name it, e.g. "holder" or "owner(cache)"


@dataclass(frozen=True)
class Failure:
    prop: str
    cond: Term
    message: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Action:
    id: str                # unique, stable: used in traces, JSON and replay
    routine: str           # the action or procedure it comes from
    kind: str              # "action" | "call" | "step"
    text: str              # what the step does, in the model's words
    params: tuple[tuple[str, Type], ...]
    actor: str | None      # the parameter naming the running thread
    enabled: Term
    guard: Term
    updates: tuple[tuple[str, Term], ...]
    failures: tuple[Failure, ...]
    waits: tuple[tuple[Term, Term], ...]  # (lock, blocked-condition): wait-for edges
    span: Span = field(compare=False, repr=False)
    # the program-counter label the actor must be at ("idle" for calls and
    # actions run by a thread); `enabled` already says so: this only lets the
    # explicit engine index actions by label instead of trying them all
    at: str | None = None


@dataclass(frozen=True)
class Init:
    values: tuple[tuple[str, Value], ...]  # every variable's starting value
    choices: tuple[tuple[str, tuple[Value, ...] | None, tuple[Value, ...]], ...]
    # (var, cell index or None for a scalar, allowed values): nondeterministic starts
    assumes: tuple[Term, ...]


@dataclass(frozen=True)
class Property:
    name: str
    kind: str              # "builtin" | "invariant" | "assert"
    description: str
    formula: Term | None   # state predicate that must hold (invariants, deadlock)
    expected: str          # "holds" | "violated"
    span: Span = field(compare=False, repr=False)
    expect_span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def is_state_predicate(self) -> bool:
        return self.formula is not None


@dataclass(frozen=True)
class TransitionSystem:
    name: str
    docs: tuple[str, ...]
    files: tuple[str, ...]
    vars: tuple[StateVar, ...]
    init: Init
    actions: tuple[Action, ...]
    properties: tuple[Property, ...]
    params: tuple[tuple[str, Value], ...]
    thread_values: tuple[str, ...]
    # every enumeration in its final form, by name: terms built before all
    # declarations were read may carry an earlier, shorter copy of a sort
    sorts: tuple[EnumT, ...] = ()

    def sort(self, t: EnumT) -> EnumT:
        for s in self.sorts:
            if s.name == t.name:
                return s
        return t

    def var_index(self) -> dict[str, int]:
        return {v.name: i for i, v in enumerate(self.vars)}

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def action(self, action_id: str) -> Action:
        for a in self.actions:
            if a.id == action_id:
                return a
        raise KeyError(action_id)
