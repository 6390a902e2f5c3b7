"""Encoding the IR into z3 for one unrolling; one z3 Context per Encoder.

Naming (the only place that knows it): state variable ``v`` at step k is
``v@k`` (a map cell ``v[key]@k``); actions are grounded into instances (one
per combination of parameter values), and the instance taken between steps k
and k+1 is the integer selector
``act@k``. Scalars are z3 Bools or Ints: an enumeration element is its index,
an integer itself, and an empty option the sentinel ``NONE_CODE``. Maps are
flattened into one constant per cell, so a step's terms only ever mention
finitely many constants and quantifiers are expanded over finite domains.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import z3

from checker.ir import Action, Property, TransitionSystem
from spec import terms as T
from spec.sorts import BoolT, EnumT, IntT, MapT, NoneT, OptionT, Type, Value, domain, map_keys

WIDTH = 20                  # bits per integer-like scalar (literals are kept well inside)
NONE_CODE = -(2 ** (WIDTH - 1))

Z = Any  # a z3 expression, or a dict of them for a map
Key = tuple[Any, ...]


def _clean(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:\[\]@/#$(),-]", "_", name)


class Encoder:
    def __init__(self, ts: TransitionSystem, ctx: z3.Context, *, ints: bool = False) -> None:
        """`ints`: encode scalars as mathematical integers instead of bit-vectors
        (z3's Horn-clause engine, Spacer, works best over integers)."""
        self.ts = ts
        self.ctx = ctx
        self.ints = ints
        self.var_types = {v.name: v.type for v in ts.vars}
        self._states: dict[int, dict[str, Z]] = {}
        self.instances: list[tuple[Action, dict[str, Value]]] = [
            (a, dict(zip([n for n, _ in a.params], combo, strict=True)))
            for a in ts.actions
            for combo in itertools.product(*(domain(t) for _, t in a.params))]
        self._selectors: dict[int, Z] = {}
        self._memo: dict[tuple[int, int, int], tuple[T.Term, dict[str, Z], Z]] = {}
        # One object per instance environment: the term memo is keyed by the
        # environment's identity, so the transition and every property's failure
        # conditions at a step share their encodings of an instance's terms.
        self._envs: dict[int, dict[str, Z]] = {}
        # Formulas that depend only on the step (engines ask for them repeatedly).
        self._domains: dict[int, Z] = {}
        self._transitions: dict[int, Z] = {}
        self._init: Z | None = None
        self._nums: dict[int, Z] = {}
        self.true = z3.BoolVal(True, ctx)
        self.false = z3.BoolVal(False, ctx)

    # ---- values ------------------------------------------------------------------------
    def value(self, v: Value, t: Type) -> Z:
        if isinstance(t, MapT):
            assert isinstance(v, tuple)
            return {k: self.value(c, t.value) for k, c in zip(self.keys(t), v, strict=True)}
        if v is None:
            return self.num(NONE_CODE)
        if isinstance(t, OptionT):
            t = t.inner
        if isinstance(t, BoolT) or isinstance(v, bool):
            return z3.BoolVal(bool(v), self.ctx)
        if isinstance(t, EnumT):
            assert isinstance(v, str)
            return self.num(self.ts.sort(t).values.index(v))
        assert isinstance(v, int)
        return self.num(v)

    def num(self, n: int) -> Z:
        z = self._nums.get(n)
        if z is None:
            z = z3.IntVal(n, self.ctx) if self.ints else z3.BitVecVal(n, WIDTH, self.ctx)
            self._nums[n] = z
        return z

    def decode(self, z: Z, t: Type, model: z3.ModelRef) -> Value:
        if isinstance(t, MapT):
            return tuple(self.decode(z[k], t.value, model) for k in self.keys(t))
        r = model.eval(z, model_completion=True)
        if isinstance(t, BoolT):
            return bool(z3.is_true(r))
        n: int = r.as_long() if self.ints else r.as_signed_long()
        if n == NONE_CODE and isinstance(t, OptionT):
            return None
        inner = t.inner if isinstance(t, OptionT) else t
        if isinstance(inner, EnumT):
            return self.ts.sort(inner).values[n]
        if isinstance(inner, BoolT):
            return bool(n)
        return int(n)

    def _final(self, t: Type) -> Type:
        if isinstance(t, EnumT):
            return self.ts.sort(t)
        if isinstance(t, OptionT) and isinstance(t.inner, EnumT):
            return OptionT(self.ts.sort(t.inner))
        return t

    def keys(self, t: MapT) -> list[Key]:
        return [tuple(self._code(v, k) for v, k in zip(key, t.keys, strict=True))
                for key in map_keys(t)]

    def _code(self, v: Value, t: Type) -> Any:
        if v is None:
            return NONE_CODE
        inner = t.inner if isinstance(t, OptionT) else t
        if isinstance(inner, EnumT):
            assert isinstance(v, str)
            return self.ts.sort(inner).values.index(v)
        return v

    def in_domain(self, z: Z, t: Type) -> Z:
        if isinstance(t, MapT):
            return self.conj([self.in_domain(c, t.value) for c in z.values()])
        if isinstance(t, BoolT):
            return self.true
        if isinstance(t, OptionT):
            return _nary(z3.Z3_mk_or, self.ctx, [_eq(self.ctx, z, self.num(NONE_CODE)),
                                                 self.in_domain(z, t.inner)])
        if isinstance(t, EnumT):
            return self._within(z, 0, "lt", len(self.ts.sort(t).values))
        if isinstance(t, IntT):
            return self._within(z, t.lo, "le", t.hi)
        return self.true

    def _within(self, z: Z, lo: int, upper: str, hi: int) -> Z:
        """z >= lo and z < hi (upper "lt") or z <= hi (upper "le"), signed for
        bit-vectors: the terms `z >= lo`, `z < hi` build, without z3py's coercions."""
        if self.ints:
            ge, below = z3.Z3_mk_ge, (z3.Z3_mk_lt if upper == "lt" else z3.Z3_mk_le)
        else:
            ge, below = z3.Z3_mk_bvsge, (z3.Z3_mk_bvslt if upper == "lt" else z3.Z3_mk_bvsle)
        ref = self.ctx.ref()
        return _nary(z3.Z3_mk_and, self.ctx, [
            z3.BoolRef(ge(ref, z.as_ast(), self.num(lo).as_ast()), self.ctx),
            z3.BoolRef(below(ref, z.as_ast(), self.num(hi).as_ast()), self.ctx)])

    def conj(self, xs: list[Z]) -> Z:
        true = _ptr(self.true)
        xs = [x for x in xs if _ptr(x) != true]
        if not xs:
            return self.true
        return xs[0] if len(xs) == 1 else _nary(z3.Z3_mk_and, self.ctx, xs)

    def disj(self, xs: list[Z]) -> Z:
        false = _ptr(self.false)
        xs = [x for x in xs if _ptr(x) != false]
        if not xs:
            return self.false
        return xs[0] if len(xs) == 1 else _nary(z3.Z3_mk_or, self.ctx, xs)

    # ---- vocabulary per step -----------------------------------------------------------
    def state(self, k: int) -> dict[str, Z]:
        if k not in self._states:
            out: dict[str, Z] = {}
            for v in self.ts.vars:
                out[v.name] = self._fresh(f"{v.name}@{k}", v.type)
            self._states[k] = out
        return self._states[k]

    def _fresh(self, name: str, t: Type) -> Z:
        if isinstance(t, MapT):
            base, step = name.rsplit("@", 1)
            return {key: self._fresh(f"{base}{list(raw)}@{step}", t.value)
                    for key, raw in zip(self.keys(t), map_keys(t), strict=True)}
        if isinstance(t, BoolT):
            return z3.Bool(_clean(name), self.ctx)
        if self.ints:
            return z3.Int(_clean(name), self.ctx)
        return z3.BitVec(_clean(name), WIDTH, self.ctx)

    def selector(self, k: int) -> Z:
        if k not in self._selectors:
            self._selectors[k] = (z3.Int(f"act@{k}", self.ctx) if self.ints
                                  else z3.BitVec(f"act@{k}", WIDTH, self.ctx))
        return self._selectors[k]

    # ---- terms -------------------------------------------------------------------------
    def term(self, t: T.Term, k: int, env: dict[str, Z]) -> Z:
        """The encoding of `t` at step k, memoized per (term object, step, environment
        object). Lowering shares subterms -- each statement of a step reads the state
        the earlier ones left -- so one node is reached along many paths; without
        the memo the encoding grows exponentially with the statements of a step (the
        evaluator memoizes its compiled terms the same way)."""
        key = (id(t), k, id(env))
        hit = self._memo.get(key)
        if hit is not None and hit[0] is t and hit[1] is env:
            return hit[2]
        z = self._term(t, k, env)
        self._memo[key] = (t, env, z)  # keeps both alive, so their ids stay unique
        return z

    def _term(self, t: T.Term, k: int, env: dict[str, Z]) -> Z:  # noqa: C901
        match t:
            case T.Lit(v, ty):
                if isinstance(ty, NoneT):
                    return self.num(NONE_CODE)
                return self.value(v, ty)
            case T.VarRef(name):
                return self.state(k)[name]
            case T.Local(name):
                return env[name]
            case T.Select(m, idx):
                cells = self.term(m, k, env)
                zidx = [self.term(i, k, env) for i in idx]
                const = [_const(z) for z in zidx]
                if all(c is not None for c in const):
                    return cells[tuple(const)]
                keys = list(cells)
                out = cells[keys[-1]]
                for key in reversed(keys[:-1]):
                    out = z3.If(self._match(zidx, key), cells[key], out)
                return out
            case T.Store(m, idx, val):
                cells = dict(self.term(m, k, env))
                zidx = [self.term(i, k, env) for i in idx]
                zv = self.term(val, k, env)
                const = [_const(z) for z in zidx]
                if all(c is not None for c in const):
                    cells[tuple(const)] = zv
                    return cells
                return {key: z3.If(self._match(zidx, key), zv, old) for key, old in cells.items()}
            case T.Op(op, args):
                return self._op(op, args, k, env)
            case T.Quant(kind, var, vt, body):
                parts = [self.term(body, k, {**env, var: self.value(v, vt)})
                         for v in domain(self._final(vt))]
                return self.conj(parts) if kind == "forall" else self.disj(parts)
            case T.WaitCycle(threads, waits, alive):
                return self._wait_cycle(threads, waits, alive, k, env)
        raise AssertionError(t)

    def _match(self, zidx: list[Z], key: Key) -> Z:
        parts = []
        for z, c in zip(zidx, key, strict=True):
            parts.append(z == c if not isinstance(c, bool) else (z if c else z3.Not(z)))
        return self.conj(parts)

    def _op(self, op: str, args: tuple[T.Term, ...], k: int, env: dict[str, Z]) -> Z:
        if op == "ite":
            c = self.term(args[0], k, env)
            if z3.is_true(c):
                return self.term(args[1], k, env)
            if z3.is_false(c):
                return self.term(args[2], k, env)
            a, b = self.term(args[1], k, env), self.term(args[2], k, env)
            if isinstance(a, dict):
                return {key: z3.If(c, a[key], b[key]) for key in a}
            return z3.If(c, a, b)
        zs = [self.term(x, k, env) for x in args]
        match op:
            case "not":
                return z3.Not(zs[0])
            case "and":
                return self.conj(zs)
            case "or":
                return self.disj(zs)
            case "implies":
                return z3.Implies(zs[0], zs[1])
            case "eq":
                return zs[0] == zs[1]
            case "ne":
                return zs[0] != zs[1]
            case "lt":
                return zs[0] < zs[1]
            case "le":
                return zs[0] <= zs[1]
            case "gt":
                return zs[0] > zs[1]
            case "ge":
                return zs[0] >= zs[1]
            case "add":
                return zs[0] + zs[1]
            case "sub":
                return zs[0] - zs[1]
            case "neg":
                return -zs[0]
        raise AssertionError(op)

    def _wait_cycle(self, threads: tuple[str, ...], waits: tuple[tuple[str, T.Term, T.Term], ...],
                    alive: tuple[tuple[str, T.Term], ...], k: int, env: dict[str, Z]) -> Z:
        parts: dict[tuple[str, str], list[Z]] = {(a, b): [] for a in threads for b in threads}
        for a, c, h in waits:
            zc, zh = self.term(c, k, env), self.term(h, k, env)
            for i, b in enumerate(threads):
                parts[(a, b)].append(z3.And(zc, zh == i))
        e = {key: self.disj(v) for key, v in parts.items()}
        live = {a: self.term(c, k, env) for a, c in alive}
        reach = dict(e)
        for _ in range(max(0, len(threads) - 1)):
            reach = {(a, c): self.disj([reach[(a, c)]] + [z3.And(reach[(a, b)], e[(b, c)])
                                                          for b in threads])
                     for a in threads for c in threads}
        cycle = [reach[(a, a)] for a in threads]
        dead_wait = [z3.And(live[a], e[(a, b)], z3.Not(live[b]))
                     for a, b in itertools.product(threads, threads)]
        return self.disj(cycle + dead_wait)

    # ---- constraints -------------------------------------------------------------------
    def domains(self, k: int) -> Z:
        if k not in self._domains:
            st = self.state(k)
            self._domains[k] = self.conj([self.in_domain(st[v.name], v.type)
                                          for v in self.ts.vars])
        return self._domains[k]

    def init(self) -> Z:
        if self._init is None:
            self._init = self._encode_init()
        return self._init

    def _encode_init(self) -> Z:
        st = self.state(0)
        chosen: dict[str, set[Any]] = {}
        for var, idx, _ in self.ts.init.choices:
            chosen.setdefault(var, set()).add(idx)
        parts: list[Z] = []
        for (name, value), v in zip(self.ts.init.values, self.ts.vars, strict=True):
            picks = chosen.get(name, set())
            if None in picks:
                continue
            z = st[name]
            enc = self.value(value, v.type)
            if isinstance(v.type, MapT):
                raw_keys = map_keys(v.type)
                for key, raw in zip(self.keys(v.type), raw_keys, strict=True):
                    if raw not in picks:
                        parts.append(z[key] == enc[key])
            else:
                parts.append(z == enc)
        for var, idx, vals in self.ts.init.choices:
            t = self.var_types[var]
            z = st[var]
            cell_t = t
            if idx is not None:
                assert isinstance(t, MapT)
                z = z[tuple(self._code(x, kt) for x, kt in zip(idx, t.keys, strict=True))]
                cell_t = t.value
            parts.append(self.disj([z == self.value(x, cell_t) for x in vals]))
        for a in self.ts.init.assumes:
            parts.append(self.term(a, 0, {}))
        return self.conj(parts)

    def instance_env(self, i: int) -> dict[str, Z]:
        if i not in self._envs:
            action, values = self.instances[i]
            self._envs[i] = {n: self.value(values[n], t) for n, t in action.params}
        return self._envs[i]

    def transition(self, k: int) -> Z:
        """Some action instance fires between steps k and k+1; the selector act@k
        says which. Parameters are grounded, so every map access by a parameter
        is a direct cell; each cell's successor is an if-chain over the
        instances that may change it, and equals its predecessor otherwise
        (NOTE(frame-conditions))."""
        if k not in self._transitions:
            self._transitions[k] = self._encode_transition(k)
        return self._transitions[k]

    def _encode_transition(self, k: int) -> Z:
        pre, post = self.state(k), self.state(k + 1)
        sel = self.selector(k)
        parts = [sel >= 0, sel < len(self.instances)]
        false = _ptr(self.false)
        changes: dict[tuple[str, Any], list[tuple[int, Z]]] = {}
        for i, (action, _) in enumerate(self.instances):
            env = self.instance_env(i)
            enabled = self.term(action.enabled, k, env)
            if _ptr(enabled) == false:
                parts.append(sel != i)
                continue
            parts.append(z3.Implies(sel == i, self.conj([enabled,
                                                         self.term(action.guard, k, env)])))
            for var, term in action.updates:
                new = self.term(term, k, env)
                old = pre[var]
                if isinstance(old, dict):
                    for key, cell in old.items():
                        if _ptr(new[key]) != _ptr(cell):
                            changes.setdefault((var, key), []).append((i, new[key]))
                elif _ptr(new) != _ptr(old):
                    changes.setdefault((var, None), []).append((i, new))
        for v in self.ts.vars:
            cells = pre[v.name].items() if isinstance(pre[v.name], dict) else [(None, pre[v.name])]
            for key, old in cells:
                value = old
                for i, new in reversed(changes.get((v.name, key), [])):
                    value = z3.If(sel == i, new, value)
                target = post[v.name][key] if key is not None else post[v.name]
                parts.append(_eq(self.ctx, target, value))
        return self.conj(parts)

    def bad(self, prop: Property, k: int) -> Z:
        """The property is violated at step k: an invariant false in state k, or a
        check that fails for some action instance at hand in state k."""
        if prop.formula is not None:
            return z3.Not(self.term(prop.formula, k, {}))
        return self.disj([c for _, _, c in self.failures(prop, k)])

    def flat(self, k: int) -> list[Z]:
        """Every scalar constant of state k, in variable then cell order."""
        out: list[Z] = []
        for v in self.ts.vars:
            z = self.state(k)[v.name]
            out.extend(z.values() if isinstance(z, dict) else [z])
        return out

    def failures(self, prop: Property, k: int) -> list[tuple[int, int, Z]]:
        """Each way the check `prop` can fail at step k: (instance, failure index, formula)."""
        out = []
        for i, (action, _) in enumerate(self.instances):
            env: dict[str, Z] | None = None
            for fi, f in enumerate(action.failures):
                if f.prop != prop.name:
                    continue
                env = env or self.instance_env(i)
                formula = self.conj([self.term(action.enabled, k, env),
                                     self.term(f.cond, k, env)])
                if not z3.is_false(formula):
                    out.append((i, fi, formula))
        return out


def _ptr(z: Z) -> int | None:
    """The address of z's AST. z3 hash-conses terms within a context, so two terms
    are the same term exactly when their addresses are equal (`true` is one node)."""
    return z.as_ast().value  # type: ignore[no-any-return]


def _eq(ctx: z3.Context, a: Z, b: Z) -> Z:
    """a == b without the operator's coercions (terms of different sorts raise)."""
    return z3.BoolRef(z3.Z3_mk_eq(ctx.ref(), a.as_ast(), b.as_ast()), ctx)


def _nary(make: Any, ctx: z3.Context, xs: list[Z]) -> Z:
    """And/Or of Boolean terms without z3.And's per-argument coercions (the
    encoder builds many; a non-Boolean argument still raises a Z3Exception)."""
    args = (z3.Ast * len(xs))(*[x.as_ast() for x in xs])
    return z3.BoolRef(make(ctx.ref(), len(xs), args), ctx)


def _const(z: Z) -> Any:
    if z3.is_bv_value(z):
        return z.as_signed_long()
    if z3.is_int_value(z):
        return z.as_long()
    if z3.is_true(z):
        return True
    if z3.is_false(z):
        return False
    return None
