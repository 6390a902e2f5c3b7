"""Deadlock freedom for any number of threads, through a lock order.

The built-in `deadlock` property is a cycle in the wait-for graph (or a wait
for a lock whose holder is dead): a transitive closure, which first-order
logic cannot express, so the all-sizes encoding cannot state it directly.
It proves a sufficient condition instead:

* for lock families F and G, ``NW(F, G)``: no thread waits for a lock of G
  while it holds a lock of F;
* ``DH``: no thread waits for a lock whose holder is dead.

A wait-for cycle t1 -> t2 -> ... -> t1 makes each t(i+1) hold the lock t(i)
waits for while it waits itself, so it walks the graph with an edge F -> G
for every pair whose NW is *not* proved. When that graph is acyclic (no
self-loops either), no wait-for cycle exists; its topological order is the
lock order reported. The conditions are conjuncts like any lemma, found
inductive (or not) by the same Houdini run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from checker.ir import Action, TransitionSystem
from checker.lift import NONE_LEAF, Lifter, LockRef, RelRef, State, find_cycle
from spec import terms as T
from spec.program import HOLDER, LIVE


@dataclass(frozen=True)
class WaitSite:
    action: Action
    lock: T.Term
    blocked: T.Term


def sites(ts: TransitionSystem) -> list[WaitSite]:
    """Where a thread waits (NOTE(wait-for) in checker.lower: procedure steps only)."""
    return [WaitSite(a, lock, blocked) for a in ts.actions
            if a.waits and a.actor is not None and a.kind == "step"
            for lock, blocked in a.waits]


def reads(ts: TransitionSystem) -> frozenset[str]:
    out = {HOLDER, LIVE}
    for s in sites(ts):
        out |= T.free_vars(s.action.enabled) | T.free_vars(s.blocked) | T.free_vars(s.lock)
    return frozenset(out)


class LockOrder:
    def __init__(self, lifter: Lifter, ts: TransitionSystem) -> None:
        self.L = lifter
        self.ts = ts
        self.sites = sites(ts)
        thread = lifter.program.thread
        assert thread is not None
        self.thread = thread

    def families(self) -> list[str]:
        return sorted(self.L.lock_fams)

    def _waits(self, st: State, t: Any) -> list[tuple[Any, LockRef]]:
        out = []
        for s in self.sites:
            assert s.action.actor is not None
            env = {s.action.actor: t}
            when = self.L.conj([self.L.formula(s.action.enabled, st, env),
                                self.L.formula(s.blocked, st, env)])
            if z3.is_false(when):
                continue
            for c, leaf in self.L.value(s.lock, st, env):
                assert isinstance(leaf, LockRef), leaf
                out.append((self.L.conj([when, c]), leaf))
        return out

    def _forall_threads(self, body: Any, t: Any) -> Any:
        return z3.ForAll([t], z3.Implies(t != self.L.nones[self.thread.name], body))

    def holds_none_of(self, family: str, t: Any, st: State) -> Any:
        s = self.L.by_key[f"{HOLDER}#{family}"]
        keys = self.L.key_vars(s)
        held = self.L.leaf_eq(self.L.sym_app(st, s, tuple(keys)), t)
        if not keys:
            return z3.Not(held)
        return z3.ForAll(keys, z3.Implies(self.L.key_guard(s, keys), z3.Not(held)))

    def no_wait(self, holding: str, waiting: str, st: State) -> Any:
        """NW(holding, waiting)."""
        t = self.L.bound("waiter", self.thread)
        parts = [z3.Implies(c, self.holds_none_of(holding, t, st))
                 for c, lock in self._waits(st, t) if lock.family == waiting]
        return self._forall_threads(self.L.conj(parts), t)

    def live_holders(self, st: State) -> Any:
        """DH: every lock a thread waits for is free or held by a live thread."""
        t = self.L.bound("waiter", self.thread)
        parts = []
        for c, lock in self._waits(st, t):
            holder = self.L.holder_of(lock, st)
            if isinstance(holder, RelRef):  # every holder is live: no existential needed
                y = z3.Const("holder", holder.vsort)
                ok = z3.ForAll([y], z3.Implies(z3.And(y != holder.none,
                                                      holder.decl(*holder.args, y)),
                                               self.L.live_of(y, st)))
            else:
                ok = z3.Or(self.L.leaf_eq(holder, NONE_LEAF), self.L.live_of(holder, st))
            parts.append(z3.Implies(c, ok))
        return self._forall_threads(self.L.conj(parts), t)

    def waited(self) -> list[str]:
        """Families some step can wait for."""
        out: set[str] = set()
        st = self.L.state("lockorder")
        t = self.L.bound("waiter", self.thread)
        for _, lock in self._waits(st, t):
            out.add(lock.family)
        return sorted(out)


def order(families: list[str], edges: set[tuple[str, str]]) -> list[str] | None:
    """A topological order of the families under "held while waiting for" edges, or
    None when they have a cycle (a self-loop included)."""
    if any(a == b for a, b in edges):
        return None
    if find_cycle([(a, b, "") for a, b in sorted(edges)]) is not None:
        return None
    out: list[str] = []
    left = set(families)
    while left:
        ready = sorted(f for f in left if not any(a in left and b == f for a, b in edges))
        out.append(ready[0])
        left.discard(ready[0])
    return out
