"""The explicit evaluator: terms over concrete states, compiled to Python closures.

Independent of z3 on purpose: it powers the explicit-state engine and replays
every counterexample any engine reports (``checker.replay``). A state is a
tuple of values in ``TransitionSystem.vars`` order; a map value is a tuple of
cells in ``spec.sorts.map_keys`` order.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from checker.ir import Action, TransitionSystem
from spec import terms as T
from spec.sorts import EnumT, MapT, OptionT, Type, Value, domain, map_keys

State = tuple[Value, ...]
Env = dict[str, Value]
Fn = Callable[[State, Env], Any]


def positions(t: MapT) -> dict[tuple[Value, ...], int]:
    """Cell index of each key tuple of a map type."""
    return _positions(signature(t), t)


@functools.lru_cache(maxsize=256)
def _positions(sig: object, t: MapT) -> dict[tuple[Value, ...], int]:
    return {k: i for i, k in enumerate(map_keys(t))}


def signature(t: Type) -> object:
    """A structural key for a type. Sorts compare by name only, and two models
    checked in one process may give one name different elements, so caches
    must key on the elements too."""
    match t:
        case EnumT(name, values):
            return ("enum", name, values)
        case OptionT(inner):
            return ("option", signature(inner))
        case MapT(keys, value):
            return ("map", tuple(signature(k) for k in keys), signature(value))
    return t


class Evaluator:
    def __init__(self, ts: TransitionSystem) -> None:
        self.ts = ts
        self.index = ts.var_index()
        self._cache: dict[int, tuple[T.Term, Fn]] = {}

    # ---- compilation -------------------------------------------------------------------
    def compile(self, term: T.Term) -> Fn:
        key = id(term)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is term:
            return hit[1]
        fn = self._compile(term)
        self._cache[key] = (term, fn)
        return fn

    def _compile(self, t: T.Term) -> Fn:  # noqa: C901 - one case per term kind
        match t:
            case T.Lit(v):
                return lambda s, e: v
            case T.VarRef(name):
                i = self.index[name]
                return lambda s, e: s[i]
            case T.Local(name):
                return lambda s, e: e[name]
            case T.Select(m, idx):
                assert isinstance(m.type, MapT)
                pos = positions(m.type)
                if isinstance(m, T.VarRef) and len(idx) == 1:
                    vi = self.index[m.name]
                    one = {k[0]: p for k, p in pos.items()}
                    x = idx[0]
                    if isinstance(x, T.Lit):
                        p0 = one[x.value]
                        return lambda s, e: s[vi][p0]  # type: ignore[index]
                    if isinstance(x, T.Local):
                        name = x.name
                        return lambda s, e: s[vi][one[e[name]]]  # type: ignore[index]
                    fx = self.compile(x)
                    return lambda s, e: s[vi][one[fx(s, e)]]  # type: ignore[index]
                fm = self.compile(m)
                if len(idx) == 1:
                    f0 = self.compile(idx[0])
                    return lambda s, e: fm(s, e)[pos[(f0(s, e),)]]
                fis = [self.compile(i) for i in idx]
                return lambda s, e: fm(s, e)[pos[tuple(f(s, e) for f in fis)]]
            case T.Store(m, idx, val):
                assert isinstance(m.type, MapT)
                pos = positions(m.type)
                fm = self.compile(m)
                fv = self.compile(val)
                fis = [self.compile(i) for i in idx]

                def store(s: State, e: Env) -> Any:
                    cells = fm(s, e)
                    p = pos[tuple(f(s, e) for f in fis)]
                    return cells[:p] + (fv(s, e),) + cells[p + 1:]
                return store
            case T.Op(op, args):
                return self._op(op, [self.compile(a) for a in args])
            case T.Quant(kind, var, vt, body):
                if isinstance(vt, EnumT):
                    vt = self.ts.sort(vt)
                elif isinstance(vt, OptionT) and isinstance(vt.inner, EnumT):
                    vt = OptionT(self.ts.sort(vt.inner))
                values = domain(vt)
                fb = self.compile(body)
                if kind == "forall":
                    return lambda s, e: all(fb(s, {**e, var: v}) for v in values)
                return lambda s, e: any(fb(s, {**e, var: v}) for v in values)
            case T.WaitCycle(threads, waits, alive):
                fwaits = [(a, self.compile(c), self.compile(h)) for a, c, h in waits]
                falive = [(a, self.compile(c)) for a, c in alive]

                def deadlocked(s: State, e: Env) -> bool:
                    graph: dict[str, list[str]] = {x: [] for x in threads}
                    for a, fc, fh in fwaits:
                        if fc(s, e):
                            holder = fh(s, e)
                            if holder is not None:
                                graph[a].append(holder)
                    dead = {a for a, fa in falive if not fa(s, e)}
                    return _has_cycle(graph) or any(
                        b in dead for a in threads if a not in dead for b in graph[a])
                return deadlocked
        raise AssertionError(t)

    @staticmethod
    def _op(op: str, f: list[Fn]) -> Fn:  # noqa: C901
        match op:
            case "not":
                a = f[0]
                return lambda s, e: not a(s, e)
            case "and":
                if len(f) == 2:
                    a, b = f
                    return lambda s, e: a(s, e) and b(s, e)
                if len(f) == 3:
                    a, b, c = f
                    return lambda s, e: a(s, e) and b(s, e) and c(s, e)
                return lambda s, e: all(g(s, e) for g in f)
            case "or":
                if len(f) == 2:
                    a, b = f
                    return lambda s, e: a(s, e) or b(s, e)
                return lambda s, e: any(g(s, e) for g in f)
            case "implies":
                a, b = f
                return lambda s, e: (not a(s, e)) or b(s, e)
            case "eq":
                a, b = f
                return lambda s, e: a(s, e) == b(s, e)
            case "ne":
                a, b = f
                return lambda s, e: a(s, e) != b(s, e)
            case "lt":
                a, b = f
                return lambda s, e: a(s, e) < b(s, e)
            case "le":
                a, b = f
                return lambda s, e: a(s, e) <= b(s, e)
            case "gt":
                a, b = f
                return lambda s, e: a(s, e) > b(s, e)
            case "ge":
                a, b = f
                return lambda s, e: a(s, e) >= b(s, e)
            case "add":
                a, b = f
                return lambda s, e: a(s, e) + b(s, e)
            case "sub":
                a, b = f
                return lambda s, e: a(s, e) - b(s, e)
            case "neg":
                a = f[0]
                return lambda s, e: -a(s, e)
            case "ite":
                c, a, b = f
                return lambda s, e: a(s, e) if c(s, e) else b(s, e)
        raise AssertionError(op)

    # ---- conveniences ------------------------------------------------------------------
    def eval(self, term: T.Term, state: State, env: Env | None = None) -> Value:
        return self.compile(term)(state, env or {})  # type: ignore[no-any-return]

    def initial_states(self, limit: int) -> Iterator[State]:
        """Every state satisfying init, in a deterministic order (at most `limit`)."""
        init = self.ts.init
        base = dict(init.values)
        assumes = [self.compile(a) for a in init.assumes]
        choice_values = [vals for _, _, vals in init.choices]
        produced = 0
        for combo in itertools.product(*choice_values):
            values = dict(base)
            for (var, idx, _), v in zip(init.choices, combo, strict=True):
                if idx is None:
                    values[var] = v
                else:
                    t = self.var_type(var)
                    assert isinstance(t, MapT)
                    cells = list(values[var])  # type: ignore[arg-type]
                    cells[positions(t)[idx]] = v
                    values[var] = tuple(cells)
            state = tuple(values[v.name] for v in self.ts.vars)
            if all(a(state, {}) for a in assumes):
                yield state
                produced += 1
                if produced >= limit:
                    return

    def is_initial(self, state: State) -> bool:
        init = self.ts.init
        chosen: dict[str, set[tuple[Value, ...] | None]] = {}
        for var, idx, _ in init.choices:
            chosen.setdefault(var, set()).add(idx)
        for (name, value), v in zip(init.values, self.ts.vars, strict=True):
            actual = state[self.index[name]]
            picks = chosen.get(name)
            if not picks:
                if actual != value:
                    return False
                continue
            if None in picks:
                continue
            assert isinstance(v.type, MapT)
            pos = positions(v.type)
            for key, p in pos.items():
                if key not in picks and actual[p] != value[p]:  # type: ignore[index]
                    return False
        for var, idx, vals in init.choices:
            actual = state[self.index[var]]
            if idx is not None:
                t = self.var_type(var)
                assert isinstance(t, MapT)
                actual = actual[positions(t)[idx]]  # type: ignore[index]
            if actual not in vals:
                return False
        return all(self.eval(a, state) for a in init.assumes)

    def var_type(self, name: str) -> Type:
        return self.ts.vars[self.index[name]].type

    def param_envs(self, action: Action) -> list[Env]:
        names = [n for n, _ in action.params]
        return [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(domain(t) for _, t in action.params))]


class CompiledAction:
    """An action with its terms compiled once, for fast repeated evaluation."""

    def __init__(self, ev: Evaluator, action: Action) -> None:
        self.action = action
        self.enabled = ev.compile(action.enabled)
        self.guard = ev.compile(action.guard)
        self.updates = [(ev.index[v], ev.compile(t)) for v, t in action.updates]
        self.failures = [(f, ev.compile(f.cond)) for f in action.failures]
        self.envs = ev.param_envs(action)

    def successor(self, state: State, env: Env) -> State:
        values = list(state)
        for i, fn in self.updates:
            values[i] = fn(state, env)
        return tuple(values)


def _has_cycle(graph: dict[str, list[str]]) -> bool:
    color: dict[str, int] = {}

    def visit(n: str) -> bool:
        color[n] = 1
        for m in graph.get(n, ()):
            c = color.get(m, 0)
            if c == 1 or (c == 0 and visit(m)):
                return True
        color[n] = 2
        return False

    return any(color.get(n, 0) == 0 and visit(n) for n in graph)
