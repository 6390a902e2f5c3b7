"""The checked program: declarations with types resolved and bodies as typed
statements over ``spec.terms``. Produced by ``spec.typecheck.check``; consumed
by ``checker.lower``. Also fixes the names of the built-in runtime state
(program counters, current interpreters, lock holders, object owners) that
typed terms refer to, so the typechecker and the lowering agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec.sorts import EnumT, IntT, Type, Value
from spec.source import Span
from spec.terms import Term

MAX_RLOCK_LEVEL = 3
LEVEL_T = IntT(0, MAX_RLOCK_LEVEL)

# built-in state variables (names start with '$' or contain ':' so users cannot clash)
PC = "$pc"            # Thread -> PC label (set by the lowering)
PROC = "$proc"        # Thread -> Proc?   (which procedure a thread is running)
CUR = "$cur"          # Thread -> Interp? (interpreter of the thread's current tstate)
SAVED = "$saved"      # Thread -> Interp? (where `switch back` returns to)
LIVE = "$live"        # Thread -> bool    (false after another thread forked)
HOLDER = "$holder"    # Lock -> Thread?
LEVEL = "$level"      # Lock -> int[0..MAX_RLOCK_LEVEL] (recursive locks)
PARKED = "$parked"    # Thread -> Interp? (where `attach` returns after `detach`)


def obj_var(name: str) -> str:
    """Owner of a declared object (none while not allocated)."""
    return f"obj:{name}"


def items_var(name: str) -> str:
    """Owner of each item of a dict object (none while absent)."""
    return f"items:{name}"


def tstate_var(name: str) -> str:
    """Thread a detached thread state is bound to (none while unbound)."""
    return f"ts:{name}"


def arg_var(proc: str, param: str) -> str:
    """Per-thread copy of a running procedure's argument."""
    return f"arg:{proc}.{param}"


def gil_id(interp: str) -> str:
    return f"gil({interp})"


BUILTIN_PROPERTIES: dict[str, str] = {
    "R1": "shared state is only touched while holding its guarding lock",
    "R2": "an object (or dict item) is freed or resized only while its allocator's "
          "interpreter is current",
    "lock_sanity": "only the holder releases a lock; a mutex is never re-acquired by its holder",
    "deadlock": "no cycle in the wait-for graph, and no wait for a lock held by a dead thread",
    "memory": "no use of an object after it was freed, no double free, and no allocation "
              "over an object that is still allocated",
    "tstate": "a detached thread state is bound to at most one thread at a time, "
              "and a thread has a current thread state when it needs one",
    "bounds": "integer variables stay within their declared ranges, and recursive locks "
              "within the model's nesting bound",
}


@dataclass(frozen=True)
class TAssign:
    var: str
    index: tuple[Term, ...]
    value: Term | None  # None: `any`
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TIf:
    cond: Term
    then: tuple[TStmt, ...]
    orelse: tuple[TStmt, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TAssert:
    cond: Term
    prop: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TAwait:
    cond: Term
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TAssume:
    cond: Term
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TAcquire:
    lock: Term
    family: str  # a lock declaration's name, or "gil"
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TRelease:
    lock: Term
    family: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TSwitchTo:
    interp: Term
    via: str | None
    keep_gil: bool
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TSwitchBack:
    via: str | None
    keep_gil: bool
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TObjectOp:
    op: str
    obj: str
    index: tuple[Term, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TAtomic:
    body: tuple[TStmt, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TDetach:
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TAttach:
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class TFork:
    reinit: tuple[tuple[Term, str], ...]  # (lock term, family)
    span: Span = field(compare=False, repr=False)


TStmt = (TAssign | TIf | TAssert | TAwait | TAssume | TAcquire | TRelease | TSwitchTo
         | TSwitchBack | TObjectOp | TAtomic | TFork | TDetach | TAttach)


@dataclass(frozen=True)
class ParamInfo:
    name: str
    type: Type
    value: Value
    span: Span = field(compare=False, repr=False)
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class VarInfo:
    name: str
    type: Type
    init: Term | None
    span: Span = field(compare=False, repr=False)
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockInfo:
    name: str
    index: tuple[Type, ...]
    kind: str  # "mutex" | "rlock" | "gil"
    releases_gil: bool
    ids: tuple[str, ...]
    span: Span = field(compare=False, repr=False)
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    keys: tuple[Type, ...] | None
    raw: bool
    shared: bool
    guard: Term | None  # Lock-typed; may mention Local(ACTOR)
    guard_text: str
    span: Span = field(compare=False, repr=False)
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class TStateInfo:
    name: str
    interp: str
    span: Span = field(compare=False, repr=False)
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutineInfo:
    """An atomic action (kind "action") or a multi-step procedure (kind "proc")."""

    kind: str
    name: str
    params: tuple[tuple[str, Type], ...]
    actor: str | None
    body: tuple[TStmt, ...]
    span: Span = field(compare=False, repr=False)
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvariantInfo:
    name: str
    term: Term
    text: str
    span: Span = field(compare=False, repr=False)
    docs: tuple[str, ...] = ()
    lemma: bool = False


@dataclass(frozen=True)
class ExpectInfo:
    name: str
    outcome: str
    span: Span = field(compare=False, repr=False)


ACTOR = "$actor"


@dataclass(frozen=True)
class Program:
    name: str
    docs: tuple[str, ...]
    span: Span
    files: tuple[str, ...]
    params: tuple[ParamInfo, ...]
    sorts: tuple[EnumT, ...]
    interp: EnumT | None
    thread: EnumT | None
    lock_sort: EnumT
    proc_sort: EnumT
    vars: tuple[VarInfo, ...]
    locks: tuple[LockInfo, ...]
    objects: tuple[ObjectInfo, ...]
    tstates: tuple[TStateInfo, ...]
    init: tuple[TStmt, ...]
    routines: tuple[RoutineInfo, ...]
    invariants: tuple[InvariantInfo, ...]
    asserts: tuple[tuple[str, Span], ...]
    expects: tuple[ExpectInfo, ...]
    gil_of: tuple[tuple[str, str], ...]      # interpreter -> id of the GIL it uses
    allocator_of: tuple[tuple[str, str], ...]  # interpreter -> interpreter whose obmalloc it uses
    lock_kinds: tuple[tuple[str, str, bool], ...]  # lock id -> (kind, releases_gil)
    sweep: tuple[str, ...] = ()  # parameters a plain run sweeps (`sweep A, B`)

    def lock_kind(self, lock_id: str) -> tuple[str, bool]:
        for i, kind, rel in self.lock_kinds:
            if i == lock_id:
                return kind, rel
        raise KeyError(lock_id)
