"""The parameterised encoding: one z3 vocabulary for every size at once.

``Lifter`` reads the *template* instance of a model (``checker.sizes``) and
translates its terms so they mean the same thing for any number of elements
of each parameterised sort:

* a parameterised sort is an uninterpreted z3 sort with one extra element,
  ``none`` (the empty option), and a constant per distinguished element, all
  pairwise distinct; quantifiers range over the other elements;
* fixed enumerations (program counters, procedures, the model's enums) are z3
  enumeration sorts with a ``none`` value; bounded integers are bit-vectors;
* a state map is a z3 function per state, or a relation (the graph of a
  partial function) when functions alone would make the sort graph cyclic
  (the usual case: `holder` of a per-interpreter GIL, against `cur`); the
  lock-indexed maps (`holder`, `level`) are split per lock family;
* the lowering enumerates whole sorts in a few places (the GIL of an
  interpreter term, a lock family member, a dict's items on free, fork, map
  literals, initial states). Those enumerations are recognised and turned into
  their uniform form, *after checking* that every interchangeable element of
  the template is treated alike; a literal of an interchangeable element
  anywhere else raises ``Unsupported``.

Over-approximating the initial states or the steps would keep proofs sound,
but the translation is exact: counterexamples to induction decode into real
instance states (``checker.engines.allsizes``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import z3

from checker.ir import Action, Property, TransitionSystem
from checker.sizes import SizePlan, Unsupported
from spec import terms as T
from spec.program import HOLDER, LIVE, Program
from spec.sorts import BoolT, EnumT, IntT, MapT, NoneT, OptionT, Type, Value, map_keys

W = 20                        # bits of a bounded integer
NONE_INT = -(2 ** (W - 1))    # the empty option of an integer
Z = Any                       # a z3 expression


class NonUniform(Exception):
    """A literal of an interchangeable element outside a recognised enumeration."""

    def __init__(self, sort: str, value: str) -> None:
        super().__init__(f"{value} of {sort}")
        self.sort = sort
        self.value = value


@dataclass(frozen=True, eq=False)
class RelRef:
    """The value of a relationally encoded map at `args` (none when no tuple)."""

    key: str        # the map symbol's key (for names and comparisons)
    decl: Z         # the z3 relation of this state
    args: tuple[Z, ...]
    vsort: Z        # the value sort
    none: Z


@dataclass(frozen=True, eq=False)
class LockRef:
    family: str          # a lock family, or a lock id used as its own family
    args: tuple[Z, ...]


class _NoneLeaf:
    """The literal `none` before it meets a sort."""


NONE_LEAF = _NoneLeaf()
Leaf = Any  # a z3 expression, a RelRef, a LockRef or NONE_LEAF
GV = list[tuple[Z, Leaf]]  # guarded values: exclusive, exhaustive conditions
Sub = dict[tuple[str, str], Z]  # interchangeable element -> the term standing for it
Env = dict[str, Leaf]


@dataclass(frozen=True)
class MapSym:
    """One state symbol: a whole scalar variable, a map, or one lock family of a
    lock-indexed map."""

    key: str
    var: str
    family: str | None
    dom: tuple[Type, ...]
    rng: Type
    rel: bool


class Virtual:
    """A symbol of a post-state given by its definition over the pre-state: a
    function's value (an expression over `keys`) or a relation's membership (a
    formula over `keys` and `y`). Applying it substitutes the arguments, so a
    step needs no frame axioms and its obligations stay small."""

    def __init__(self, keys: list[Z], body: Z, y: Z | None = None) -> None:
        self.keys = keys
        self.body = body
        self.y = y

    def __call__(self, *args: Z) -> Z:
        names = self.keys + ([self.y] if self.y is not None else [])
        pairs = [(k, a) for k, a in zip(names, args, strict=True) if not k.eq(a)]
        return z3.substitute(self.body, *pairs) if pairs else self.body


class State:
    """The z3 symbols of one state (a FuncDecl, or a constant for arity 0, or a
    Virtual definition)."""

    def __init__(self, tag: str, syms: dict[str, Z]) -> None:
        self.tag = tag
        self.syms = syms


def _strip(t: Type) -> Type:
    return t.inner if isinstance(t, OptionT) else t


class Lifter:
    def __init__(self, program: Program, ts: TransitionSystem, plan: SizePlan,
                 ctx: z3.Context) -> None:
        self.program = program
        self.ts = ts
        self.plan = plan
        self.ctx = ctx
        self.lock_name = program.lock_sort.name
        self.usorts: dict[str, Z] = {}
        self.nones: dict[str, Z] = {}
        self.elems: dict[tuple[str, str], Z] = {}
        self.enums: dict[str, tuple[Z, dict[str, Z]]] = {}
        for s in plan.sorts:
            sort = z3.DeclareSort(s.name, ctx)
            self.usorts[s.name] = sort
            self.nones[s.name] = z3.Const(f"none:{s.name}", sort)
            for d in s.distinguished:
                self.elems[(s.name, d)] = z3.Const(f"{s.name}:{d}", sort)
        self._nonnone: set[str] = {str(c) for c in self.elems.values()}
        self._total: set[str] = set()   # names of function symbols with a non-option value
        self._frames: list[dict[str, tuple[Z, RelRef]]] = []
        self._fresh = itertools.count()
        # bound variables are named by nesting depth, so that translating one term
        # twice gives structurally equal formulas (the uniformity checks compare them)
        self._depth = 0
        # while reading init: an interchangeable element as a starting value (the
        # lowering's default, e.g. every argument variable starts at key1) stands
        # for one fixed element; by symmetry which one does not matter
        self._witnesses: dict[tuple[str, str], Z] | None = None
        self._lock_families()
        self._vocabulary()

    # ---- sorts and literals --------------------------------------------------------------
    def is_param(self, t: Type) -> bool:
        t = _strip(t)
        return isinstance(t, EnumT) and t.name in self.usorts

    def sort_of(self, t: Type) -> Z:
        t = _strip(t)
        if isinstance(t, BoolT):
            return z3.BoolSort(self.ctx)
        if isinstance(t, IntT):
            return z3.BitVecSort(W, self.ctx)
        if isinstance(t, EnumT):
            if t.name in self.usorts:
                return self.usorts[t.name]
            if t.name == self.lock_name:
                raise Unsupported("a lock value outside `holder`/`level` (a lock-typed "
                                  "parameter or variable)")
            return self._enum(t)[0]
        raise Unsupported(f"values of type {t}")

    def _enum(self, t: EnumT) -> tuple[Z, dict[str, Z]]:
        if t.name not in self.enums:
            values = self.ts.sort(t).values
            sort, consts = z3.EnumSort(f"E:{t.name}", [f"{t.name}:{v}" for v in values]
                                       + [f"{t.name}:none"], ctx=self.ctx)
            table = dict(zip([*values, None], consts, strict=True))
            self.enums[t.name] = (sort, table)  # type: ignore[assignment]
        return self.enums[t.name]

    def none_of(self, t: Type) -> Z:
        t = _strip(t)
        if isinstance(t, EnumT) and t.name in self.usorts:
            return self.nones[t.name]
        if isinstance(t, EnumT):
            return self._enum(t)[1][None]  # type: ignore[index]
        if isinstance(t, IntT):
            return z3.BitVecVal(NONE_INT, W, self.ctx)
        raise Unsupported(f"an empty option of {t}")

    def none_for_sort(self, sort: Z) -> Z:
        for name, s in self.usorts.items():
            if s.eq(sort):
                return self.nones[name]
        for s, table in self.enums.values():
            if s.eq(sort):
                return table[None]  # type: ignore[index]
        if z3.is_bv_sort(sort):
            return z3.BitVecVal(NONE_INT, W, self.ctx)
        raise Unsupported("an empty option of a boolean")

    def lit(self, v: Value, t: Type, sub: Sub) -> Leaf:
        if v is None:
            return NONE_LEAF if isinstance(t, NoneT) else self.none_of(t)
        t = _strip(t)
        if isinstance(t, BoolT) or isinstance(v, bool):
            return z3.BoolVal(bool(v), self.ctx)
        if isinstance(t, IntT):
            assert isinstance(v, int)
            return z3.BitVecVal(v, W, self.ctx)
        assert isinstance(t, EnumT) and isinstance(v, str), (t, v)
        if t.name == self.lock_name:
            family, args = self.lock_ids[v]
            types = self.lock_fams[family]
            return LockRef(family, tuple(self.lit(a, at, sub) for a, at in
                                         zip(args, types, strict=True)))
        if t.name in self.usorts:
            if (t.name, v) in sub:
                return sub[(t.name, v)]
            if (t.name, v) in self.elems:
                return self.elems[(t.name, v)]
            if self._witnesses is not None:
                return self._witness(t.name, v)
            raise NonUniform(t.name, v)
        return self._enum(t)[1][v]

    def _witness(self, sort: str, value: str) -> Z:
        assert self._witnesses is not None
        if (sort, value) not in self._witnesses:
            c = z3.Const(f"init:{sort}:{value}", self.usorts[sort])
            self._nonnone.add(str(c))
            self._witnesses[(sort, value)] = c
        return self._witnesses[(sort, value)]

    def generic(self, sort: str) -> tuple[str, ...]:
        s = self.plan.sort(sort)
        assert s is not None
        return tuple(v for v in s.template if v not in s.distinguished)

    def distinguished(self, sort: str) -> tuple[str, ...]:
        s = self.plan.sort(sort)
        assert s is not None
        return s.distinguished

    def fresh(self, name: str, t: Type) -> Z:
        """A fresh constant of type t that is never `none` (a bound variable or a parameter)."""
        c = z3.Const(f"{name}!{next(self._fresh)}", self.sort_of(t))
        self._nonnone.add(str(c))
        return c

    def bound(self, name: str, t: Type, nonnone: bool = True) -> Z:
        """A variable for a quantifier at the current depth (see `_depth`)."""
        c = z3.Const(f"{name}#{self._depth}", self.sort_of(t))
        if nonnone:
            self._nonnone.add(str(c))
        return c

    def in_domain(self, x: Z, t: Type) -> Z:
        """x is a value of type t (an option may be none; an integer is in range)."""
        opt = isinstance(t, OptionT)
        bare = _strip(t)
        if isinstance(bare, BoolT):
            return z3.BoolVal(True, self.ctx)
        if isinstance(bare, IntT):
            rng = z3.And(x >= bare.lo, x <= bare.hi)
            return z3.Or(x == NONE_INT, rng) if opt else rng
        return z3.BoolVal(True, self.ctx) if opt else x != self.none_of(bare)

    # ---- lock families -----------------------------------------------------------------
    def _lock_families(self) -> None:
        """Lock ids -> (family, element arguments). A family whose ids only mention
        distinguished elements splits into one scalar lock per id."""
        p = self.program
        raw: dict[str, tuple[tuple[Type, ...], list[tuple[str, tuple[str, ...]]]]] = {}
        for info in p.locks:
            if info.kind == "gil":
                assert p.interp is not None
                raw["gil"] = ((p.interp,), [(i, (i[4:-1],)) for i in info.ids])
            elif info.index:
                combos = itertools.product(*(t.values for t in info.index))  # type: ignore[union-attr]
                raw[info.name] = (info.index, list(zip(info.ids, combos, strict=True)))
            else:
                raw[info.name] = ((), [(info.ids[0], ())])
        self.lock_fams: dict[str, tuple[Type, ...]] = {}
        self.lock_ids: dict[str, tuple[str, tuple[str, ...]]] = {}
        for fam, (index, ids) in raw.items():
            indexed = any(self.is_param(t) and a not in self.distinguished(_strip(t).name)  # type: ignore[union-attr]
                          for _, args in ids for a, t in zip(args, index, strict=True))
            if indexed:
                self.lock_fams[fam] = index
                for lock_id, args in ids:
                    self.lock_ids[lock_id] = (fam, args)
            else:
                for lock_id, _ in ids:
                    self.lock_fams[lock_id] = ()
                    self.lock_ids[lock_id] = (lock_id, ())

    def lock_family_of(self, lock_id: str) -> tuple[str, tuple[str, ...]]:
        """(family, element arguments) of a lock id of any instance of the model."""
        if lock_id in self.lock_ids:
            return self.lock_ids[lock_id]
        if lock_id.startswith("gil(") and "gil" in self.lock_fams:
            return "gil", (lock_id[4:-1],)
        if "[" in lock_id:
            fam, rest = lock_id.split("[", 1)
            if fam in self.lock_fams:
                return fam, tuple(a.strip() for a in rest[:-1].split(","))
        raise KeyError(lock_id)

    # ---- vocabulary --------------------------------------------------------------------
    def _is_lock_map(self, t: Type) -> bool:
        return isinstance(t, MapT) and len(t.keys) == 1 and isinstance(t.keys[0], EnumT) \
            and t.keys[0].name == self.lock_name

    def _vocabulary(self) -> None:
        syms: list[MapSym] = []
        for v in self.ts.vars:
            t = v.type
            if self._is_lock_map(t):
                assert isinstance(t, MapT)
                for fam, index in self.lock_fams.items():
                    syms.append(MapSym(f"{v.name}#{fam}", v.name, fam, index, t.value, False))
            elif isinstance(t, MapT):
                syms.append(MapSym(v.name, v.name, None, t.keys, t.value, False))
            else:
                syms.append(MapSym(v.name, v.name, None, (), t, False))
        for s in syms:  # fail early on types the encoding cannot express
            for k in s.dom:
                self.sort_of(k)
            self.sort_of(s.rng)
        self.syms = self._break_cycles(syms)
        self.by_key = {s.key: s for s in self.syms}
        self.of_var: dict[str, list[MapSym]] = {}
        for s in self.syms:
            self.of_var.setdefault(s.var, []).append(s)

    def edges(self, syms: list[MapSym]) -> list[tuple[str, str, str]]:
        out = []
        for s in syms:
            if s.rel or not self.is_param(s.rng):
                continue
            for k in s.dom:
                if self.is_param(k):
                    out.append((_strip(k).name, _strip(s.rng).name, s.key))  # type: ignore[union-attr]
        return out

    def _break_cycles(self, syms: list[MapSym]) -> list[MapSym]:
        """Encode option-valued maps as relations until the functions' sort graph
        is acyclic, lock holders first (the relation `holds(lock, thread)`)."""
        syms = list(syms)
        while True:
            cycle = find_cycle(self.edges(syms))
            if cycle is None:
                return syms
            on_cycle = {label for _, _, label in cycle}
            choices = [s for s in syms if s.key in on_cycle and isinstance(s.rng, OptionT)]
            if not choices:
                return syms  # the fragment check reports it
            choices.sort(key=lambda s: (not s.var.startswith(HOLDER), s.key))
            pick = choices[0]
            syms = [MapSym(s.key, s.var, s.family, s.dom, s.rng, True) if s is pick else s
                    for s in syms]

    def state(self, tag: str, only: list[MapSym] | None = None) -> State:
        out: dict[str, Z] = {}
        for s in (self.syms if only is None else only):
            out[s.key] = self._symbol(s, tag)
        return State(tag, out)

    def _symbol(self, s: MapSym, tag: str) -> Z:
        name = f"{s.key}@{tag}"
        dom = [self.sort_of(k) for k in s.dom]
        if s.rel:
            return z3.Function(name, *dom, self.sort_of(s.rng), z3.BoolSort(self.ctx))
        if not dom:
            c = z3.Const(name, self.sort_of(s.rng))
            if not isinstance(s.rng, OptionT):
                self._nonnone.add(name)
            return c
        f = z3.Function(name, *dom, self.sort_of(s.rng))
        if not isinstance(s.rng, OptionT):
            self._total.add(name)
        return f

    def key_vars(self, s: MapSym) -> list[Z]:
        return [self.fresh(f"k{i}", k) for i, k in enumerate(s.dom)]

    def key_guard(self, s: MapSym, keys: list[Z]) -> Z:
        return self.conj([self.in_domain(k, t) for k, t in zip(keys, s.dom, strict=True)])

    def domain_axioms(self, st: State, only: list[MapSym] | None = None) -> list[Z]:
        """Every symbol of the state holds values of its type; relations are
        partial functions."""
        out: list[Z] = []
        for s in (self.syms if only is None else only):
            f = st.syms[s.key]
            keys = self.key_vars(s)
            guard = self.key_guard(s, keys)
            if s.rel:
                vs = self.sort_of(s.rng)
                y1, y2 = z3.Const(f"y1!{next(self._fresh)}", vs), z3.Const(
                    f"y2!{next(self._fresh)}", vs)
                none = self.none_of(s.rng)
                body = z3.And(z3.Implies(z3.And(f(*keys, y1), f(*keys, y2)), y1 == y2),
                              z3.Not(f(*keys, none)))
                out.append(z3.ForAll([*keys, y1, y2], z3.Implies(guard, body)))
                continue
            app = f(*keys) if keys else f
            body = self.in_domain(app, s.rng)
            if z3.is_true(body):
                continue
            out.append(z3.ForAll(keys, z3.Implies(guard, body)) if keys else body)
        for sp in self.plan.sorts:
            consts = [self.nones[sp.name], *(self.elems[(sp.name, d)] for d in sp.distinguished)]
            if len(consts) > 1:
                out.append(z3.Distinct(*consts))
        return out

    # ---- helpers over guarded values -----------------------------------------------------
    def conj(self, xs: list[Z]) -> Z:
        xs = [x for x in xs if not z3.is_true(x)]
        if any(z3.is_false(x) for x in xs):
            return z3.BoolVal(False, self.ctx)
        if not xs:
            return z3.BoolVal(True, self.ctx)
        return xs[0] if len(xs) == 1 else z3.And(*xs)

    def disj(self, xs: list[Z]) -> Z:
        xs = [x for x in xs if not z3.is_false(x)]
        if any(z3.is_true(x) for x in xs):
            return z3.BoolVal(True, self.ctx)
        if not xs:
            return z3.BoolVal(False, self.ctx)
        return xs[0] if len(xs) == 1 else z3.Or(*xs)

    def _known_nonnone(self, e: Z) -> bool:
        if z3.is_const(e):
            return str(e) in self._nonnone
        return z3.is_app(e) and e.decl().name() in self._total

    def as_term(self, leaf: Leaf) -> Z:
        """A z3 term for a leaf; a relational value becomes a placeholder that the
        enclosing atom quantifies (see `_wrap`)."""
        if isinstance(leaf, RelRef):
            name = f"@{leaf.key}({','.join(a.sexpr() for a in leaf.args)})"
            frame = self._frames[-1]
            if name not in frame:
                frame[name] = (z3.Const(name, leaf.vsort), leaf)
            return frame[name][0]
        if isinstance(leaf, LockRef | _NoneLeaf):
            raise Unsupported("a lock value or `none` used as a plain value")
        return leaf

    def _wrap(self, atom: Z, frame: dict[str, tuple[Z, RelRef]]) -> Z:
        for y, ref in reversed(list(frame.values())):
            rel = ref.decl(*ref.args, y)
            some = z3.ForAll([y], z3.Implies(z3.And(y != ref.none, rel), atom))
            empty = z3.ForAll([y], z3.Not(rel))
            atom = z3.And(some, z3.Implies(empty, z3.substitute(atom, (y, ref.none))))
        return atom

    def _atom(self, build: Callable[[], Z]) -> Z:
        self._frames.append({})
        try:
            atom = build()
        finally:
            frame = self._frames.pop()
        return self._wrap(atom, frame) if frame else atom

    def leaf_eq(self, a: Leaf, b: Leaf) -> Z:  # noqa: C901 - one case per leaf kind pair
        false = z3.BoolVal(False, self.ctx)
        if isinstance(a, LockRef) or isinstance(b, LockRef):
            if not (isinstance(a, LockRef) and isinstance(b, LockRef)) or a.family != b.family:
                return false
            return self.conj([x == y for x, y in zip(a.args, b.args, strict=True)])
        if isinstance(a, _NoneLeaf) and isinstance(b, _NoneLeaf):
            return z3.BoolVal(True, self.ctx)
        if isinstance(a, _NoneLeaf):
            a, b = b, a
        if isinstance(b, _NoneLeaf):
            if isinstance(a, RelRef):
                return self._empty(a)
            return a == self.none_for_sort(a.sort())
        if isinstance(b, RelRef) and not isinstance(a, RelRef):
            a, b = b, a
        if isinstance(a, RelRef) and isinstance(b, RelRef):
            if a.key == b.key and all(x.eq(y) for x, y in zip(a.args, b.args, strict=True)):
                return z3.BoolVal(True, self.ctx)
            y = z3.Const("y", a.vsort)
            return z3.Or(z3.And(self._empty(a), self._empty(b)),
                         z3.Exists([y], z3.And(y != a.none, a.decl(*a.args, y),
                                               b.decl(*b.args, y))))
        if isinstance(a, RelRef):
            if b.eq(a.none):
                return self._empty(a)
            if self._known_nonnone(b):
                return a.decl(*a.args, b)
            return z3.If(b == a.none, self._empty(a), a.decl(*a.args, b))
        return a == b

    def _empty(self, r: RelRef) -> Z:
        y = z3.Const("y", r.vsort)  # self-contained: the name may repeat
        return z3.ForAll([y], z3.Not(r.decl(*r.args, y)))

    def gv_eq(self, a: GV, b: GV) -> Z:
        return self.disj([self.conj([ca, cb, self.leaf_eq(la, lb)])
                          for ca, la in a for cb, lb in b])

    def merge(self, c: Z, a: GV, b: GV) -> GV:
        if z3.is_true(c):
            return a
        if z3.is_false(c):
            return b
        out = [(self.conj([c, ca]), la) for ca, la in a]
        out += [(self.conj([z3.Not(c), cb]), lb) for cb, lb in b]
        return [(x, y) for x, y in out if not z3.is_false(x)]

    def gv_formula(self, g: GV) -> Z:
        return self.disj([self.conj([c, self.as_term(leaf)]) for c, leaf in g])

    # ---- terms -------------------------------------------------------------------------
    def formula(self, t: T.Term, st: State, env: Env, sub: Sub | None = None) -> Z:  # noqa: C901
        sub = sub or {}
        match t:
            case T.Lit(v):
                return z3.BoolVal(bool(v), self.ctx)
            case T.Op("not", (a,)):
                return z3.Not(self.formula(a, st, env, sub))
            case T.Op("and" | "or", args):
                return self._connective(t.op, args, st, env, sub)
            case T.Op("implies", (a, b)):
                return z3.Implies(self.formula(a, st, env, sub), self.formula(b, st, env, sub))
            case T.Op("ite", (c, a, b)):
                chain = self._chain(t)
                if chain is not None:
                    return self._lift_chain(chain, st, env, sub, formula=True)
                return z3.If(self.formula(c, st, env, sub), self.formula(a, st, env, sub),
                             self.formula(b, st, env, sub))
            case T.Quant(kind, var, vt, body):
                return self._quant(kind, var, vt, body, st, env, sub)
            case T.WaitCycle():
                raise Unsupported("deadlock's wait-for cycle is a transitive closure, which "
                                  "no first-order formula expresses")
            case T.Op("eq" | "ne", (a, b)):
                def build_eq() -> Z:
                    e = self.gv_eq(self.value(a, st, env, sub), self.value(b, st, env, sub))
                    return e if t.op == "eq" else z3.Not(e)
                return self._atom(build_eq)
            case T.Op("lt" | "le" | "gt" | "ge", (a, b)):
                return self._atom(lambda: self._compare(
                    t.op, self.value(a, st, env, sub), self.value(b, st, env, sub)))
        return self._atom(lambda: self.gv_formula(self.value(t, st, env, sub)))

    def _compare(self, op: str, a: GV, b: GV) -> Z:
        fns: dict[str, Callable[[Z, Z], Z]] = {
            "lt": lambda x, y: x < y, "le": lambda x, y: x <= y,
            "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y}
        fn = fns[op]
        return self.disj([self.conj([ca, cb, fn(self.as_term(la), self.as_term(lb))])
                          for ca, la in a for cb, lb in b])

    def _connective(self, op: str, args: tuple[T.Term, ...], st: State, env: Env,
                    sub: Sub) -> Z:
        """`and`/`or`; arguments that single out one interchangeable element each are
        grouped, and a group covering every such element becomes a quantifier."""
        plain: list[Z] = []
        groups: dict[str, list[tuple[str, Z]]] = {}
        bound: dict[str, Z] = {}
        for a in args:
            try:
                plain.append(self.formula(a, st, env, sub))
                continue
            except NonUniform as exc:
                sort, value = exc.sort, exc.value
            x = bound.setdefault(sort, self.bound(f"e_{sort}", EnumT(sort, ())))
            self._depth += 1
            try:
                f = self.formula(a, st, env, {**sub, (sort, value): x})  # may raise again
            finally:
                self._depth -= 1
            groups.setdefault(sort, []).append((value, f))
        for sort, items in groups.items():
            x = bound[sort]
            templates: list[tuple[Z, set[str]]] = []
            for value, f in items:
                for tpl, covered in templates:
                    if tpl.eq(f):
                        covered.add(value)
                        break
                else:
                    templates.append((f, {value}))
            everyone = set(self.generic(sort))
            generic = self.conj([x != self.nones[sort]] + [
                x != self.elems[(sort, d)] for d in self.distinguished(sort)])
            for tpl, covered in templates:
                if covered != everyone:
                    raise NonUniform(sort, sorted(everyone - covered)[0]
                                     if everyone - covered else sorted(covered)[0])
                if op == "or":
                    plain.append(z3.Exists([x], z3.And(generic, tpl)))
                else:
                    plain.append(z3.ForAll([x], z3.Implies(generic, tpl)))
        return self.conj(plain) if op == "and" else self.disj(plain)

    def _quant(self, kind: str, var: str, vt: Type, body: T.Term, st: State, env: Env,
               sub: Sub) -> Z:
        if self.is_param(vt):
            x = self.bound(var, vt, nonnone=not isinstance(vt, OptionT))
            self._depth += 1
            try:
                inner = self.formula(body, st, {**env, var: x}, sub)
            finally:
                self._depth -= 1
            guard = self.in_domain(x, vt)
            if kind == "forall":
                return z3.ForAll([x], z3.Implies(guard, inner))
            return z3.Exists([x], z3.And(guard, inner))
        parts = [self.formula(body, st, {**env, var: self.lit(v, vt, sub)}, sub)
                 for v in _domain(self.ts, vt)]
        return self.conj(parts) if kind == "forall" else self.disj(parts)

    def value(self, t: T.Term, st: State, env: Env, sub: Sub | None = None) -> GV:  # noqa: C901
        sub = sub or {}
        true = z3.BoolVal(True, self.ctx)
        if isinstance(t.type, BoolT) and not isinstance(t, T.Select | T.VarRef | T.Local):
            return [(true, self.formula(t, st, env, sub))]
        match t:
            case T.Lit(v, ty):
                return [(true, self.lit(v, ty, sub))]
            case T.Local(name):
                return [(true, env[name])]
            case T.VarRef(_, ty):
                if isinstance(ty, MapT):
                    raise Unsupported("a whole map used as a value")
                return self.apply(t, (), st, env, sub)
            case T.Select(m, idx):
                out: GV = []
                for combo in itertools.product(*(self.value(i, st, env, sub) for i in idx)):
                    cond = self.conj([c for c, _ in combo])
                    for c, leaf in self.apply(m, tuple(x for _, x in combo), st, env, sub):
                        cc = self.conj([cond, c])
                        if not z3.is_false(cc):
                            out.append((cc, leaf))
                return out
            case T.Op("ite", (c, a, b)):
                chain = self._chain(t)
                if chain is not None:
                    return self._lift_chain(chain, st, env, sub, formula=False)  # type: ignore[no-any-return]
                return self.merge(self.formula(c, st, env, sub), self.value(a, st, env, sub),
                                  self.value(b, st, env, sub))
            case T.Op("add" | "sub", (a, b)):
                return [(self.conj([ca, cb]), self.as_term(la) + self.as_term(lb)
                         if t.op == "add" else self.as_term(la) - self.as_term(lb))
                        for ca, la in self.value(a, st, env, sub)
                        for cb, lb in self.value(b, st, env, sub)]
            case T.Op("neg", (a,)):
                return [(c, -self.as_term(leaf)) for c, leaf in self.value(a, st, env, sub)]
        raise Unsupported(f"the term {type(t).__name__} as a value")

    # ---- maps --------------------------------------------------------------------------
    def sym_app(self, st: State, s: MapSym, args: tuple[Z, ...]) -> Leaf:
        f = st.syms[s.key]
        if s.rel:
            return RelRef(s.key, f, args, self.sort_of(s.rng), self.none_of(s.rng))
        return f(*args) if args or isinstance(f, Virtual) else f

    def apply(self, m: T.Term, keys: tuple[Leaf, ...], st: State, env: Env,  # noqa: C901
              sub: Sub) -> GV:
        """The map term `m` (a map or a scalar variable) read at `keys`."""
        true = z3.BoolVal(True, self.ctx)
        match m:
            case T.VarRef(name, ty):
                if self._is_lock_map(ty):
                    (key,) = keys
                    assert isinstance(key, LockRef), key
                    s = self.by_key[f"{name}#{key.family}"]
                    return [(true, self.sym_app(st, s, key.args))]
                (s,) = self.of_var[name]
                return [(true, self.sym_app(st, s, tuple(self.as_term(k) for k in keys)))]
            case T.Store(base, idx, val):
                if self._literal_index_chain(m):
                    return self._store_chain(m, keys, st, env, sub)
                matches: list[tuple[Z, GV]] = []
                for combo in itertools.product(*(self.value(i, st, env, sub) for i in idx)):
                    cond = self.conj([c for c, _ in combo] + [
                        self.leaf_eq(k, x) for k, (_, x) in zip(keys, combo, strict=True)])
                    if not z3.is_false(cond):
                        matches.append((cond, self.value(val, st, env, sub)))
                rest = self.apply(base, keys, st, env, sub)
                hit = self.disj([c for c, _ in matches])
                out: GV = [(self.conj([c, cv]), lv) for c, g in matches for cv, lv in g]
                out += [(self.conj([z3.Not(hit), c]), leaf) for c, leaf in rest]
                return [(c, leaf) for c, leaf in out if not z3.is_false(c)]
            case T.Op("ite", (c, a, b)):
                return self.merge(self.formula(c, st, env, sub), self.apply(a, keys, st, env, sub),
                                  self.apply(b, keys, st, env, sub))
            case T.Lit(cells, ty):
                assert isinstance(ty, MapT) and isinstance(cells, tuple)
                rows = list(zip(map_keys(ty), cells, strict=True))
                return self.by_pattern(ty.keys, rows, keys, lambda v, s2: [(true, self.lit(
                    v, ty.value, {**sub, **s2}))], "a map literal")
        raise Unsupported(f"a map term {type(m).__name__}")

    def _literal_index_chain(self, m: T.Term) -> bool:
        """A Store whose literal index names an interchangeable element (fork's loop)."""
        if not (isinstance(m, T.Store) and all(isinstance(i, T.Lit) for i in m.index)):
            return False
        return any(isinstance(i, T.Lit) and self.is_param(i.type)
                   and (str(_strip(i.type)), i.value) not in self.elems
                   for i in m.index)

    def _store_chain(self, m: T.Term, keys: tuple[Leaf, ...], st: State, env: Env,
                     sub: Sub) -> GV:
        rows: dict[tuple[Value, ...], T.Term] = {}
        node = m
        while isinstance(node, T.Store) and all(isinstance(i, T.Lit) for i in node.index):
            key: tuple[Value, ...] = tuple(i.value for i in node.index
                                           if isinstance(i, T.Lit))
            rows.setdefault(key, node.value)  # the outermost store wins
            node = node.map
        assert isinstance(m.type, MapT)
        ktypes = m.type.keys
        base = self.apply(node, keys, st, env, sub)
        per: dict[tuple[Any, ...], list[tuple[tuple[Value, ...], T.Term]]] = {}
        for key, val in rows.items():
            per.setdefault(self._pattern(ktypes, key), []).append((key, val))
        everything: dict[tuple[Any, ...], int] = {}
        for key in map_keys(m.type):
            p = self._pattern(ktypes, key)
            everything[p] = everything.get(p, 0) + 1
        out: GV = []
        covered: list[Z] = []
        for p, items in per.items():
            if len(items) != everything[p]:
                raise Unsupported("a step writes some interchangeable elements of a map and "
                                  "not the others")
            cond, g = self._pattern_case(ktypes, p, items, keys, lambda v, s2: self.value(
                v, st, env, {**sub, **s2}))
            covered.append(cond)
            out += [(self.conj([cond, c]), leaf) for c, leaf in g]
        miss = z3.Not(self.disj(covered)) if covered else z3.BoolVal(True, self.ctx)
        out += [(self.conj([miss, c]), leaf) for c, leaf in base]
        return [(c, leaf) for c, leaf in out if not z3.is_false(c)]

    # ---- patterns of keys: distinguished values, or classes of interchangeable elements -----
    def _pattern(self, ktypes: tuple[Type, ...], key: tuple[Value, ...]) -> tuple[Any, ...]:
        classes: dict[tuple[str, Value], int] = {}
        out: list[Any] = []
        for v, t in zip(key, ktypes, strict=True):
            bare = _strip(t)
            if isinstance(bare, EnumT) and self.is_param(bare) and v is not None \
                    and (bare.name, v) not in self.elems:
                cls = classes.setdefault((bare.name, v), len(classes))
                out.append(("g", bare.name, cls))
            else:
                out.append(("d", v))
        return tuple(out)

    def _pattern_cond(self, ktypes: tuple[Type, ...], p: tuple[Any, ...],
                      keys: tuple[Leaf, ...]) -> Z:
        parts: list[Z] = []
        seen: dict[int, Z] = {}
        for (kind, *rest), k, t in zip(p, keys, ktypes, strict=True):
            if kind == "d":
                parts.append(self.leaf_eq(k, self.lit(rest[0], t, {})))
                continue
            sort, cls = rest
            kt = self.as_term(k)
            parts += [kt != self.nones[sort]] + [kt != self.elems[(sort, d)]
                                                 for d in self.distinguished(sort)]
            if cls in seen:
                parts.append(kt == seen[cls])
            else:
                parts += [kt != other for c2, other in seen.items()
                          if other.sort().eq(kt.sort())]
                seen[cls] = kt
        return self.conj(parts)

    def _pattern_case(self, ktypes: tuple[Type, ...], p: tuple[Any, ...],
                      items: list[tuple[tuple[Value, ...], Any]], keys: tuple[Leaf, ...],
                      translate: Callable[[Any, Sub], Any]) -> tuple[Z, Any]:
        """The common translation of every row of one pattern, checked to be uniform."""
        first: Any = None
        for key, payload in items:
            s2: Sub = {}
            for (kind, *rest), v, k in zip(p, key, keys, strict=True):
                if kind == "g":
                    s2[(rest[0], v)] = self.as_term(k)  # type: ignore[index]
            got = translate(payload, s2)
            if first is None:
                first = got
            elif not _same(first, got):
                raise Unsupported("interchangeable elements are treated differently (the "
                                  "model names one of them, or the lowering singles one out)")
        return self._pattern_cond(ktypes, p, keys), first

    def by_pattern(self, ktypes: tuple[Type, ...], rows: list[tuple[tuple[Value, ...], Any]],
                   keys: tuple[Leaf, ...], translate: Callable[[Any, Sub], GV],
                   what: str) -> GV:
        """A function of keys given by its rows at the template instance."""
        per: dict[tuple[Any, ...], list[tuple[tuple[Value, ...], Any]]] = {}
        for key, payload in rows:
            per.setdefault(self._pattern(ktypes, key), []).append((key, payload))
        self._complete(ktypes, set(per), what)
        out: GV = []
        for p, items in per.items():
            cond, g = self._pattern_case(ktypes, p, items, keys, translate)
            out += [(self.conj([cond, c]), leaf) for c, leaf in g]
        return [(c, leaf) for c, leaf in out if not z3.is_false(c)]

    def _complete(self, ktypes: tuple[Type, ...], seen: set[tuple[Any, ...]], what: str) -> None:
        """Every pattern of keys occurs in the template (else some sizes are missed)."""
        options: list[list[tuple[Any, ...]]] = []
        for t in ktypes:
            bare = _strip(t)
            if self.is_param(bare):
                name = bare.name  # type: ignore[union-attr]
                opts: list[tuple[Any, ...]] = [("d", d) for d in self.distinguished(name)]
                opts += [("g", name, i) for i in range(len(ktypes))]
            else:
                opts = [("d", v) for v in _domain(self.ts, t)]
            options.append(opts)
        for combo in itertools.product(*options):
            if _canonical(combo) and combo not in seen:
                raise Unsupported(f"{what} has more interchangeable keys than the template "
                                  "instance shows")

    def _chain(self, t: T.Term) -> tuple[T.Term, list[tuple[str, T.Term]], T.Term, str] | None:
        """`ite(x == v1, a1, ite(x == v2, a2, ... d))` over elements of one
        parameterised sort, at least one of them interchangeable."""
        items: list[tuple[str, T.Term]] = []
        x: T.Term | None = None
        sort = ""
        node = t
        while isinstance(node, T.Op) and node.op == "ite":
            c = node.args[0]
            if not (isinstance(c, T.Op) and c.op == "eq"):
                break
            a, b = c.args
            if isinstance(a, T.Lit) and not isinstance(b, T.Lit):
                a, b = b, a
            if not (isinstance(b, T.Lit) and self.is_param(b.type) and isinstance(b.value, str)):
                break
            if x is not None and (a != x or _strip(b.type).name != sort):  # type: ignore[union-attr]
                break
            x, sort = a, _strip(b.type).name  # type: ignore[union-attr]
            items.append((b.value, node.args[1]))
            node = node.args[2]
        if x is None or all((sort, v) in self.elems for v, _ in items):
            return None
        return x, items, node, sort

    def _lift_chain(self, chain: tuple[T.Term, list[tuple[str, T.Term]], T.Term, str],
                    st: State, env: Env, sub: Sub, *, formula: bool) -> Any:
        x, items, default, sort = chain
        table: dict[str, T.Term] = {}
        for v, branch in items:
            table.setdefault(v, branch)

        def tr(term: T.Term, s2: Sub) -> Any:
            return (self.formula(term, st, env, s2) if formula
                    else self.value(term, st, env, s2))

        def build(xe: Z) -> Any:
            generic = None
            for v in self.generic(sort):
                got = tr(table.get(v, default), {**sub, (sort, v): xe})
                if generic is None:
                    generic = got
                elif not _same(generic, got):
                    raise Unsupported(f"interchangeable elements of {sort} are treated "
                                      "differently")
            cases: list[tuple[Z, Any]] = []
            for d in self.distinguished(sort):
                cases.append((xe == self.elems[(sort, d)], tr(table.get(d, default), sub)))
            if isinstance(x.type, OptionT):
                cases.append((xe == self.nones[sort], tr(default, sub)))
            out: Any = generic
            for cond, got in reversed(cases):
                out = z3.If(cond, got, out) if formula else self.merge(cond, got, out)
            return out

        def term(leaf: Leaf) -> Z:
            return self.nones[sort] if isinstance(leaf, _NoneLeaf) else self.as_term(leaf)

        if formula:
            return self._atom(lambda: self.disj([self.conj([c, build(term(leaf))])
                                                 for c, leaf in self.value(x, st, env, sub)]))
        out: GV = []
        for cx, lx in self.value(x, st, env, sub):
            for c, leaf in build(term(lx)):
                cc = self.conj([cx, c])
                if not z3.is_false(cc):
                    out.append((cc, leaf))
        return out

    # ---- the system --------------------------------------------------------------------
    def params(self, action: Action, tag: str) -> tuple[Env, list[Z]]:
        env: Env = {}
        dom: list[Z] = []
        for name, t in action.params:
            c = self.fresh(f"{action.id}.{name}@{tag}", t)
            env[name] = c
            dom.append(self.in_domain(c, t))
        return env, dom

    def step(self, action: Action, pre: State, tag: str, env: Env) -> tuple[State, list[Z]]:
        """The post-state of `action` (fresh symbols only for what it may change) and
        the formulas that define the step from `pre` with parameters `env`."""
        parts = [self.formula(action.enabled, pre, env), self.formula(action.guard, pre, env)]
        post = dict(pre.syms)
        for var, term in action.updates:
            for s in self.of_var[var]:
                keys = self.key_vars(s)
                leaves: tuple[Leaf, ...] = ((LockRef(s.family, tuple(keys)),)
                                            if s.family is not None else tuple(keys))
                self._frames.append({})
                try:
                    body = (self.apply(term, leaves, pre, env, {})
                            if isinstance(term.type, MapT) else self.value(term, pre, env, {}))
                finally:
                    frame = self._frames.pop()
                same = self.sym_app(pre, s, tuple(keys))
                if not frame and len(body) == 1 and _same_leaf(body[0][1], same):
                    continue  # this part of the variable does not change
                virtual = self._virtual(s, keys, body, frame)
                if virtual is not None:
                    post[s.key] = virtual
                    continue
                new = self._symbol(s, tag)
                post[s.key] = new
                mine = self.sym_app(State(tag, {s.key: new}), s, tuple(keys))
                if s.rel:
                    y = self.fresh("y", s.rng)
                    self._frames.append(frame)
                    defn = self.gv_eq(body, [(z3.BoolVal(True, self.ctx), y)])
                    self._frames.pop()
                    defn = self._wrap(defn, frame) if frame else defn
                    assert isinstance(mine, RelRef)
                    guard = self.conj([self.key_guard(s, keys), y != self.none_of(s.rng)])
                    axiom = z3.ForAll([*keys, y], z3.Implies(guard, mine.decl(*keys, y) == defn))
                else:
                    self._frames.append(frame)
                    defn = self.gv_eq([(z3.BoolVal(True, self.ctx), mine)], body)
                    self._frames.pop()
                    defn = self._wrap(defn, frame) if frame else defn
                    axiom = z3.ForAll(keys, z3.Implies(self.key_guard(s, keys), defn)) \
                        if keys else defn
                parts.append(axiom)
        return State(tag, post), parts

    def _virtual(self, s: MapSym, keys: list[Z], body: GV, frame: dict[str, tuple[Z, RelRef]]
                 ) -> Virtual | None:
        """The post-state symbol as a definition, or None when it needs an axiom (its
        value reads a relation: that needs a quantifier)."""
        true = z3.BoolVal(True, self.ctx)
        if s.rel:
            y = self.fresh("y", s.rng)
            self._frames.append(frame)
            try:
                defn = self.gv_eq(body, [(true, y)])
            finally:
                self._frames.pop()
            defn = self._wrap(defn, frame) if frame else defn
            return Virtual(keys, self.conj([y != self.none_of(s.rng), defn]), y)
        if frame or any(isinstance(leaf, RelRef | LockRef) for _, leaf in body):
            return None
        leaves = [self.none_of(s.rng) if isinstance(leaf, _NoneLeaf) else leaf
                  for _, leaf in body]
        out = leaves[-1]
        for (c, _), leaf in zip(reversed(body[:-1]), reversed(leaves[:-1]), strict=True):
            out = z3.If(c, leaf, out)
        return Virtual(keys, out)

    def init(self, st: State) -> list[Z]:
        """The initial states, for every size: uniform cells plus distinguished ones."""
        self._witnesses = {}
        try:
            out = self._init(st)
        finally:
            witnesses, self._witnesses = self._witnesses, None
        for (sort, _), c in sorted(witnesses.items(), key=lambda x: str(x[1])):
            out.append(self.conj([c != self.nones[sort]] + [
                c != self.elems[(sort, d)] for d in self.distinguished(sort)]))
        return out

    def _init(self, st: State) -> list[Z]:
        out: list[Z] = []
        choices: dict[str, dict[tuple[Value, ...] | None, tuple[Value, ...]]] = {}
        for var, idx, vals in self.ts.init.choices:
            choices.setdefault(var, {})[idx] = vals
        true = z3.BoolVal(True, self.ctx)
        for (name, value), v in zip(self.ts.init.values, self.ts.vars, strict=True):
            picks = choices.get(name, {})
            t = v.type
            if not isinstance(t, MapT):
                spec = ("in", picks[None]) if None in picks else ("eq", value)
                read = self.apply(T.VarRef(name, t), (), st, {}, {})
                out.append(self._atom(partial(self._cell_spec, spec, read, t, {})))
                continue
            assert isinstance(value, tuple)
            rows = [(key, ("in", picks[None]) if None in picks else
                     ("in", picks[key]) if key in picks else ("eq", cell))
                    for key, cell in zip(map_keys(t), value, strict=True)]
            for s in self.of_var[name]:
                fam_rows, ktypes = rows, t.keys
                if s.family is not None:
                    ids = [(self.lock_ids[str(key[0])], spec) for key, spec in rows]
                    fam_rows = [(args, spec) for (fam, args), spec in ids if fam == s.family]
                    ktypes = s.dom
                keys = self.key_vars(s)
                cell = [(true, self.sym_app(st, s, tuple(keys)))]

                def spec_at(spec: Any, s2: Sub, c: GV = cell, ty: Type = t.value) -> GV:
                    return [(true, self._atom(partial(self._cell_spec, spec, c, ty, s2)))]
                what = f"the initial value of `{name}`"
                body = self._atom(partial(self._cases, ktypes, fam_rows, tuple(keys), spec_at,
                                          what))
                if keys:
                    out.append(z3.ForAll(keys, z3.Implies(self.key_guard(s, keys), body)))
                else:
                    out.append(body)
        for a in self.ts.init.assumes:
            out.append(self.formula(a, st, {}))
        return out

    def _cases(self, ktypes: tuple[Type, ...], rows: list[tuple[tuple[Value, ...], Any]],
               keys: tuple[Leaf, ...], translate: Callable[[Any, Sub], GV], what: str) -> Z:
        """A formula given by the rows of the template: one case per pattern of keys."""
        return self.disj([self.conj([cond, f]) for cond, f in self.by_pattern(
            ktypes, rows, keys, translate, what)])

    def _cell_spec(self, spec: tuple[str, Any], read: GV, t: Type, sub: Sub) -> Z:
        kind, payload = spec
        true = z3.BoolVal(True, self.ctx)
        if kind == "eq":
            return self.gv_eq(read, [(true, self.lit(payload, t, sub))])
        allowed: tuple[Value, ...] = payload
        bare = _strip(t)
        if self.is_param(bare):
            name = bare.name  # type: ignore[union-attr]
            gens = set(self.generic(name))
            if gens <= set(allowed):
                others = [self.none_of(bare)] if None not in allowed else []
                others += [self.elems[(name, d)] for d in self.distinguished(name)
                           if d not in allowed]
                return self.conj([z3.Not(self.gv_eq(read, [(true, o)])) for o in others])
        return self.disj([self.gv_eq(read, [(true, self.lit(v, t, sub))]) for v in allowed])

    # ---- properties --------------------------------------------------------------------
    def failure_cases(self, prop: Property) -> list[tuple[Action, int]]:
        return [(a, i) for a in self.ts.actions for i, f in enumerate(a.failures)
                if f.prop == prop.name]

    def holds(self, prop: Property, st: State) -> Z:
        """The property holds in the state: its formula, or no check of it fails for
        any action instance at hand (parameters of parameterised sorts are bound
        universally, finite ones enumerated)."""
        if prop.formula is not None:
            return self.formula(prop.formula, st, {})
        parts: list[Z] = []
        for action, fi in self.failure_cases(prop):
            f = action.failures[fi]
            bound: list[Z] = []
            guards: list[Z] = []
            finite: list[tuple[str, Type]] = []
            env: Env = {}
            for name, t in action.params:
                if self.is_param(t):
                    c = self.fresh(name, t)
                    env[name] = c
                    bound.append(c)
                    guards.append(self.in_domain(c, t))
                else:
                    finite.append((name, t))
            for combo in itertools.product(*(_domain(self.ts, t) for _, t in finite)):
                e2 = {**env, **{n: self.lit(v, t, {}) for (n, t), v in
                                zip(finite, combo, strict=True)}}
                bad = self.conj([self.formula(action.enabled, st, e2),
                                 self.formula(f.cond, st, e2)])
                if z3.is_false(bad):
                    continue
                body = z3.Implies(self.conj(guards), z3.Not(bad))
                parts.append(z3.ForAll(bound, body) if bound else body)
        return self.conj(parts)

    def bad_cases(self, prop: Property, st: State, tag: str
                  ) -> list[tuple[Action, int, Env, Z]]:
        """Each way the property fails in the state, with fresh parameter constants."""
        if prop.formula is not None:
            return []
        out = []
        for action, fi in self.failure_cases(prop):
            env, dom = self.params(action, tag)
            bad = self.conj([*dom, self.formula(action.enabled, st, env),
                             self.formula(action.failures[fi].cond, st, env)])
            if not z3.is_false(bad):
                out.append((action, fi, env, bad))
        return out

    def live_of(self, thread: Z, st: State) -> Z:
        live_t = next(v.type for v in self.ts.vars if v.name == LIVE)
        g = self.apply(T.VarRef(LIVE, live_t), (thread,), st, {}, {})
        return self.gv_formula(g)

    def holder_of(self, lock: LockRef, st: State) -> Leaf:
        return self.sym_app(st, self.by_key[f"{HOLDER}#{lock.family}"], lock.args)


# ---- small helpers -------------------------------------------------------------------------


def _domain(ts: TransitionSystem, t: Type) -> tuple[Value, ...]:
    from spec.sorts import domain
    if isinstance(t, EnumT):
        return ts.sort(t).values
    if isinstance(t, OptionT) and isinstance(t.inner, EnumT):
        return (None, *ts.sort(t.inner).values)
    return domain(t)


def _canonical(combo: tuple[tuple[Any, ...], ...]) -> bool:
    """Classes of interchangeable elements are numbered in order of first use, per sort."""
    nxt: dict[str, int] = {}
    for item in combo:
        if item[0] == "g":
            _, sort, cls = item
            want = nxt.get(sort, 0)
            if cls > want:
                return False
            if cls == want:
                nxt[sort] = want + 1
    return True


def _same_leaf(a: Leaf, b: Leaf) -> bool:
    if isinstance(a, RelRef) and isinstance(b, RelRef):
        return a.key == b.key and a.decl.eq(b.decl) and len(a.args) == len(b.args) and all(
            x.eq(y) for x, y in zip(a.args, b.args, strict=True))
    if isinstance(a, LockRef) and isinstance(b, LockRef):
        return a.family == b.family and all(x.eq(y) for x, y in zip(a.args, b.args,
                                                                      strict=True))
    if isinstance(a, _NoneLeaf) or isinstance(b, _NoneLeaf):
        return a is b
    if isinstance(a, RelRef | LockRef) or isinstance(b, RelRef | LockRef):
        return False
    return bool(a.eq(b))


def _same(a: Any, b: Any) -> bool:
    """Structural equality of two translations (formulas or guarded values)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(ca.eq(cb) and _same_leaf(la, lb)
                                        for (ca, la), (cb, lb) in zip(a, b, strict=True))
    if isinstance(a, list) or isinstance(b, list):
        return False
    return bool(a.eq(b))


def find_cycle(edges: list[tuple[str, str, str]]) -> list[tuple[str, str, str]] | None:
    """A cycle in a labelled directed graph, as its edges, or None."""
    graph: dict[str, list[tuple[str, str, str]]] = {}
    for e in edges:
        graph.setdefault(e[0], []).append(e)
    color: dict[str, int] = {}
    path: list[tuple[str, str, str]] = []

    def visit(n: str) -> list[tuple[str, str, str]] | None:
        color[n] = 1
        for e in graph.get(n, []):
            m = e[1]
            path.append(e)
            if color.get(m, 0) == 1:
                start = next(i for i, x in enumerate(path) if x[0] == m)
                return path[start:]
            if color.get(m, 0) == 0:
                found = visit(m)
                if found is not None:
                    return found
            path.pop()
        color[n] = 2
        return None

    for n in sorted(graph):
        if color.get(n, 0) == 0:
            found = visit(n)
            if found is not None:
                return found
    return None
