"""Lemma discovery: quantified candidate lemmas from small finite instances.

The reachable states of a few small instances (explicit search, capped) are
read through *features*: what a thread's program counter is, which
interpreter it is in, who holds each lock, whether an object is allocated,
and so on. Elements are seen through symmetry: a feature's value is `none`,
a distinguished element by name (`main`), one of the quantified variables
(`t`, `i`, `k`), or *another* interchangeable element. Every fact that holds
in all sampled states and all assignments of the variables to distinct
interchangeable elements becomes a candidate, written in the modeling
language:

* one feature: ``forall t: Thread. cur(t) != none``;
* two features: ``forall t: Thread. at(t, cache_set, 2, 3) -> holder(gil(main)) == t``;
* two of a thread's control features (its step, current and saved interpreter,
  the arguments of its procedures) together against a third feature:
  ``forall t: Thread. forall k: Key. at(t, p, 4) and arg(t, p, k) == k -> has(d, k)``.

Candidates are only likely: ``checker.engines.allsizes`` keeps those that are
inductive for every size (Houdini) and reports the ones a proof needs.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from checker.engines.explicit import explore
from checker.evaluate import CompiledAction, Evaluator, State, positions
from checker.ir import Property, TransitionSystem
from checker.lift import Lifter
from checker.limits import expired
from checker.lower import IDLE
from checker.sizes import SizePlan
from spec import terms as T
from spec.program import (
    CUR,
    HOLDER,
    LEVEL,
    LIVE,
    PC,
    SAVED,
    Program,
    arg_var,
    items_var,
    obj_var,
    tstate_var,
)
from spec.sorts import BoolT, EnumT, IntT, MapT, OptionT, Type, Value
from spec.source import BUILTIN_SPAN

MAX_CANDIDATES = 3000


@dataclass(frozen=True)
class Candidate:
    name: str
    text: str  # a boolean expression of the modeling language


@dataclass(frozen=True)
class Var:
    name: str
    sort: str


Assign = dict[str, str]               # quantified variable -> element
Getter = Callable[[State, Assign], object]


@dataclass(frozen=True)
class _Feature:
    text: str                         # how the language writes it
    kind: str                         # "pc" | "elem" | "bool" | "int" | "enum"
    sort: str | None                  # the element sort (elem), for printing classes
    classes: tuple[object, ...]       # every class it can take
    get: Getter


def _classify(value: Value, sort: str, plan: SizePlan, a: Assign, vars_: tuple[Var, ...]
              ) -> object:
    if value is None:
        return "none"
    for v in vars_:
        if v.sort == sort and a[v.name] == value:
            return ("var", v.name)
    s = plan.sort(sort)
    if s is None or value in s.distinguished:
        return ("elem", value)
    return "other"


class _Space:
    """The features of one shape (tuple of quantified variables)."""

    def __init__(self, ts: TransitionSystem, program: Program, plan: SizePlan,
                 lifter: Lifter, vars_: tuple[Var, ...]) -> None:
        self.ts = ts
        self.program = program
        self.plan = plan
        self.lifter = lifter
        self.vars = vars_
        self.index = ts.var_index()
        self.features: list[_Feature] = []
        self.control: list[list[int]] = []  # per thread: its own state (see _build)
        self._build()

    # -- element classes of a sort, relative to this shape
    def elem_classes(self, sort_t: EnumT, option: bool) -> tuple[object, ...]:
        sort = sort_t.name
        s = self.plan.sort(sort)
        out: list[object] = ["none"] if option else []
        if s is None:  # a fixed-size sort or an enumeration: its values are all distinct
            return (*out, *(("elem", v) for v in self.ts.sort(sort_t).values))
        out += [("var", v.name) for v in self.vars if v.sort == sort]
        out += [("elem", d) for d in s.distinguished]
        out.append("other")
        return tuple(out)

    def cell(self, var: str, key: tuple[Value, ...]) -> Callable[[State], Value]:
        i = self.index[var]
        t = self.ts.vars[i].type
        if not isinstance(t, MapT):
            return lambda s: s[i]
        pos = positions(t)[key]
        return lambda s: s[i][pos]  # type: ignore[index]

    def add_value(self, text: str, t: Type, read: Callable[[State, Assign], Value]) -> None:
        bare = t.inner if isinstance(t, OptionT) else t
        option = isinstance(t, OptionT)
        if isinstance(bare, BoolT) and not option:
            self.features.append(_Feature(text, "bool", None, (False, True),
                                          lambda s, a: read(s, a)))
        elif isinstance(bare, IntT) and not option and bare.hi - bare.lo <= 8:
            self.features.append(_Feature(text, "int", None,
                                          tuple(range(bare.lo, bare.hi + 1)),
                                          lambda s, a: read(s, a)))
        elif isinstance(bare, EnumT) and bare.name != self.program.lock_sort.name:
            sort = bare.name
            plan, vars_ = self.plan, self.vars

            def get(s: State, a: Assign) -> object:
                return _classify(read(s, a), sort, plan, a, vars_)
            self.features.append(_Feature(text, "elem", sort,
                                          self.elem_classes(bare, option), get))

    def lock_texts(self) -> list[tuple[str, Callable[[Assign], str]]]:
        """(text, lock id for an assignment) of every lock this shape can name."""
        out: list[tuple[str, Callable[[Assign], str]]] = []
        fams = self.lifter.lock_fams
        for fam, index in fams.items():
            if not index:
                out.append((fam, partial(_constant, fam)))
                continue
            choices: list[list[str]] = []
            for t in index:
                name = t.name if isinstance(t, EnumT) else ""
                s = self.plan.sort(name)
                opts = [v.name for v in self.vars if v.sort == name]
                opts += list(s.distinguished) if s is not None else list(
                    t.values if isinstance(t, EnumT) else ())
                choices.append(opts)
            for combo in itertools.product(*choices):
                def lock_id(a: Assign, c: tuple[str, ...] = combo, f: str = fam) -> str:
                    args = [a.get(x, x) for x in c]
                    return f"gil({args[0]})" if f == "gil" else f"{f}[{', '.join(args)}]"
                shown = f"gil({combo[0]})" if fam == "gil" else f"{fam}[{', '.join(combo)}]"
                out.append((shown, lock_id))
        return out

    def _build(self) -> None:  # noqa: C901 - one block per kind of runtime state
        p, ts = self.program, self.ts
        # the thread variable of the shape, and every thread the model names
        threads = [v.name for v in self.vars if v.sort == "Thread"][:1]
        named = self.plan.sort("Thread")
        threads += list(named.distinguished) if named is not None else []
        for t in threads if PC in self.index else []:
            pc_i = self.index[PC]
            pc_t = ts.vars[pc_i].type
            assert isinstance(pc_t, MapT)
            labels = ts.sort(EnumT("PC", ())).values
            self.features.append(_Feature(f"pc({t})", "pc", None, tuple(labels),
                                          _cell(pc_i, positions(pc_t), _key((t,)))))
            for var, text in ((CUR, "cur"), (SAVED, "saved"), (LIVE, "live")):
                if var in self.index:
                    vi = self.index[var]
                    vt = ts.vars[vi].type
                    assert isinstance(vt, MapT)
                    self.add_value(f"{text}({t})", vt.value, _cell(vi, positions(vt), _key((t,))))
            # the arguments of its procedures (a step often touches the cell they name)
            for r in p.routines:
                for name, _ in r.params[1:] if r.kind == "proc" else ():
                    var = arg_var(r.name, name)
                    if var in self.index:
                        vi = self.index[var]
                        vt = ts.vars[vi].type
                        assert isinstance(vt, MapT)
                        self.add_value(f"arg({t}, {r.name}, {name})", vt.value,
                                       _cell(vi, positions(vt), _key((t,))))
        if HOLDER in self.index and p.thread is not None:
            hi = self.index[HOLDER]
            ht = ts.vars[hi].type
            assert isinstance(ht, MapT)
            for shown, lock_id in self.lock_texts():
                self.add_value(f"holder({shown})", OptionT(p.thread),
                               _cell(hi, positions(ht), _lock_key(lock_id)))
                if LEVEL in self.index and self._is_rlock(shown):
                    li = self.index[LEVEL]
                    lt = ts.vars[li].type
                    assert isinstance(lt, MapT)
                    self.add_value(f"level({shown})", lt.value,
                                   _cell(li, positions(lt), _lock_key(lock_id)))
        for ts_info in p.tstates:
            var = tstate_var(ts_info.name)
            if var in self.index and p.thread is not None:
                self.add_value(f"bound({ts_info.name})", OptionT(p.thread),
                               _scalar(self.index[var]))
        for o in p.objects:
            var = obj_var(o.name)
            if var not in self.index or p.interp is None:
                continue
            self.add_value(f"owner({o.name})", OptionT(p.interp), _scalar(self.index[var]))
            if o.keys is None:
                continue
            ii = self.index[items_var(o.name)]
            it = ts.vars[ii].type
            assert isinstance(it, MapT)
            for combo in self._key_choices(o.keys):
                self.add_value(f"owner({o.name}[{', '.join(combo)}])", OptionT(p.interp),
                               _cell(ii, positions(it), _key(combo)))
        for info in p.vars:
            vi = self.index[info.name]
            vt = info.type
            if not isinstance(vt, MapT):
                self.add_value(info.name, vt, _scalar(vi))
                continue
            for combo in self._key_choices(vt.keys):
                self.add_value(f"{info.name}[{', '.join(combo)}]", vt.value,
                               _cell(vi, positions(vt), _key(combo)))
        # each thread's own state: its step, interpreters, arguments, and the model's
        # variables indexed by it alone
        for t in threads:
            local = (f"pc({t})", f"cur({t})", f"saved({t})")
            self.control.append([j for j, f in enumerate(self.features) if f.text in local
                                 or f.text.startswith(f"arg({t},")
                                 or f.text.endswith(f"[{t}]")])

    def _is_rlock(self, shown: str) -> bool:
        fam = shown.split("[", 1)[0]
        return any(info.name == fam and info.kind == "rlock" for info in self.program.locks)

    def _key_choices(self, keys: tuple[Type, ...]) -> list[tuple[str, ...]]:
        choices: list[list[str]] = []
        for k in keys:
            if not isinstance(k, EnumT):
                return []
            s = self.plan.sort(k.name)
            opts = [v.name for v in self.vars if v.sort == k.name]
            if s is not None:
                opts += list(s.distinguished)
            else:
                opts += list(self.ts.sort(k).values)
            choices.append(opts)
        return [tuple(c) for c in itertools.product(*choices)]

    def assignments(self, ts: TransitionSystem) -> list[Assign]:
        """Distinct interchangeable elements for the variables (distinguished ones
        are features of their own)."""
        pools = []
        for v in self.vars:
            s = self.plan.sort(v.sort)
            values = next(x.values for x in ts.sorts if x.name == v.sort)
            pools.append([x for x in values if s is None or x not in s.distinguished])
        out = []
        for combo in itertools.product(*pools):
            a = {v.name: x for v, x in zip(self.vars, combo, strict=True)}
            if len(set(zip([v.sort for v in self.vars], combo, strict=True))) == len(combo):
                out.append(a)
        return out


def _constant(value: str, a: Assign) -> str:
    return value


def _key(names: tuple[str, ...]) -> Callable[[Assign], tuple[Value, ...]]:
    """The cell key: quantified variables by their element, other names as they are."""
    def key(a: Assign) -> tuple[Value, ...]:
        return tuple(a.get(x, x) for x in names)
    return key


def _lock_key(lock_id: Callable[[Assign], str]) -> Callable[[Assign], tuple[Value, ...]]:
    def key(a: Assign) -> tuple[Value, ...]:
        return (lock_id(a),)
    return key


def _scalar(vi: int) -> Callable[[State, Assign], Value]:
    def read(s: State, a: Assign) -> Value:
        return s[vi]
    return read


def _cell(vi: int, pos: dict[tuple[Value, ...], int],
          key: Callable[[Assign], tuple[Value, ...]]) -> Callable[[State, Assign], Value]:
    def read(s: State, a: Assign) -> Value:
        cells = s[vi]
        assert isinstance(cells, tuple)
        return cells[pos[key(a)]]
    return read


# ---- printing ------------------------------------------------------------------------------


def _class_text(f: _Feature, c: object) -> str:
    if f.kind == "bool":
        return f.text if c else f"not {f.text}"
    if c == "none":
        return f"{f.text} == none"
    if isinstance(c, tuple):
        return f"{f.text} == {c[1]}"
    return f"{f.text} == {c}"


def _in(f: _Feature, allowed: set[object], ts: TransitionSystem) -> str:
    """`f` takes one of the allowed classes, as an expression."""
    if f.kind == "pc":
        return pc_in(f.text[3:-1], allowed, ts)
    if f.kind == "bool":
        (c,) = allowed
        return _class_text(f, c)
    rest = [c for c in f.classes if c not in allowed]
    # the complement form needs every excluded class to be nameable ("other" is not)
    if "other" in allowed or ("other" not in rest and len(rest) < len(allowed)):
        parts = [_class_text(f, c).replace(" == ", " != ", 1) for c in rest]
        return " and ".join(parts)
    return " or ".join(_class_text(f, c) for c in f.classes if c in allowed)


def pc_in(t: str, allowed: set[object], ts: TransitionSystem) -> str:
    labels = ts.sort(EnumT("PC", ())).values
    inside = [x for x in labels if x in allowed]
    outside = [x for x in labels if x not in allowed]

    def show(xs: Sequence[object]) -> str:
        by_proc: dict[str, list[str]] = {}
        parts = []
        for x in xs:
            if x == IDLE:
                parts.append(f"idle({t})")
                continue
            proc, n = str(x).rsplit(".", 1)
            by_proc.setdefault(proc, []).append(n)
        for proc, ns in by_proc.items():
            parts.append(f"at({t}, {proc}, {', '.join(ns)})")
        return " or ".join(parts)

    if not outside:
        return "true"
    if not inside:
        return "false"
    if len(outside) < len(inside):
        return f"not ({show(outside)})" if " or " in show(outside) else f"not {show(outside)}"
    return show(inside)


def paren(s: str) -> str:
    """`s` in parentheses when an `and`, `or` or `->` outside any is in it."""
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and (s.startswith(" or ", i) or s.startswith(" and ", i)
                             or s.startswith("->", i)):
            return f"({s})"
    return s


def quantify(vars_: tuple[Var, ...], body: str, plan: SizePlan) -> str:
    guards = []
    for v in vars_:
        s = plan.sort(v.sort)
        if s is not None:
            guards += [f"{v.name} != {d}" for d in s.distinguished]
    for a, b in itertools.combinations(vars_, 2):
        if a.sort == b.sort:
            guards.append(f"{a.name} != {b.name}")
    if guards:
        body = f"{' and '.join(guards)} -> {paren(body)}"
    for v in reversed(vars_):
        body = f"forall {v.name}: {v.sort}. {body}"
    return body


# ---- discovery -----------------------------------------------------------------------------


def shapes(plan: SizePlan, program: Program, taken: set[str]) -> list[tuple[Var, ...]]:
    """The quantifier prefixes candidates use."""
    def name_for(base: str) -> str:
        n = base
        k = 0
        while n in taken:
            k += 1
            n = f"{base}{k}"
        return n

    sorts = [s.name for s in plan.sorts]
    out: list[tuple[Var, ...]] = [()]
    thread = Var(name_for("t"), "Thread") if "Thread" in sorts else None
    others = [Var(name_for(s[0].lower() if s != "Interp" else "i"), s) for s in sorts
              if s != "Thread"]
    if thread is not None:
        out.append((thread,))
        out += [(thread, o) for o in others]
    out += [(o,) for o in others]
    return out


def taken_names(program: Program) -> set[str]:
    """Names a quantified variable must not take (it would shadow them)."""
    return {v.name for v in program.vars} | {o.name for o in program.objects} | {
        lk.name for lk in program.locks} | {x.name for x in program.tstates} | {
        r.name for r in program.routines} | {x.name for x in program.params}


def structural(ts: TransitionSystem, program: Program, plan: SizePlan) -> list[str]:
    """What the lowering makes true whatever the model says: a thread runs a
    procedure exactly when its program counter is at one of its steps
    (``running(t, p) == at(t, p, 1, ..., n)``). Both other sources need it: their
    candidates speak of steps (``at``) and of procedures (``running``, ``idle``)."""
    taken = taken_names(program)
    out: list[str] = []
    for proc in (r for r in program.routines if r.kind == "proc"):
        steps = [x for x in ts.sort(EnumT("PC", ())).values if x.startswith(proc.name + ".")]
        if steps and "Thread" in {s.name for s in plan.sorts}:
            t = "t" if "t" not in taken else "t_"
            ns = ", ".join(x.rsplit(".", 1)[1] for x in steps)
            out.append(f"forall {t}: Thread. running({t}, {proc.name}) == "
                       f"at({t}, {proc.name}, {ns})")
    return out


def candidates_from(ts: TransitionSystem, program: Program, plan: SizePlan, lifter: Lifter,
                    samples: list[tuple[TransitionSystem, tuple[State, ...]]],
                    deadline: float | None = None) -> list[Candidate]:
    """Candidate lemmas true in every sampled state (texts in the model's language)."""
    taken = taken_names(program)
    texts: list[str] = []
    for shape in shapes(plan, program, taken):
        if expired(deadline):
            break
        texts += _shape_candidates(ts, program, plan, lifter, shape, samples)
    out: list[Candidate] = []
    seen: set[str] = set()
    for text in texts:
        if text not in seen:
            seen.add(text)
            out.append(Candidate(f"cand_{len(out) + 1}", text))
        if len(out) >= MAX_CANDIDATES:
            break
    return out


def _shape_candidates(ts: TransitionSystem, program: Program, plan: SizePlan, lifter: Lifter,
                      shape: tuple[Var, ...],
                      samples: list[tuple[TransitionSystem, tuple[State, ...]]]) -> list[str]:
    rows: set[tuple[object, ...]] = set()
    features: list[_Feature] | None = None
    control: list[list[int]] = []
    for sts, states in samples:
        space = _Space(sts, program, plan, lifter, shape)
        if features is None:
            features = space.features
            control = space.control
        elif [f.text for f in features] != [f.text for f in space.features]:
            continue  # a sample of another shape of model (should not happen)
        assigns = space.assignments(sts)
        getters = [f.get for f in space.features]
        for s in states:
            for a in assigns:
                rows.add(tuple(g(s, a) for g in getters))
    if not features or not rows:
        return []
    out: list[str] = []
    n = len(features)
    # rows in a fixed order: a set of tuples of strings iterates in an order that
    # depends on PYTHONHASHSEED, and candidates (and so the lemmas printed) follow it
    ordered = sorted(rows, key=repr)
    seen = [sorted({r[j] for r in rows}, key=repr) for j in range(n)]

    def emit(body: str) -> None:
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body))
        if all(v.name in words for v in shape):  # else a smaller shape says it
            out.append(quantify(shape, body, plan))

    for j, f in enumerate(features):
        allowed = set(seen[j])
        if len(allowed) < len(f.classes) and allowed:
            for fact in _conclusions(f, allowed, ts):
                emit(fact)
    for ia, ib in itertools.permutations(range(n), 2):
        fa, fb = features[ia], features[ib]
        by: dict[object, set[object]] = {}
        for r in ordered:
            by.setdefault(r[ia], set()).add(r[ib])
        groups: dict[frozenset[object], set[object]] = {}
        for x, got in by.items():
            groups.setdefault(frozenset(got), set()).add(x)
        for ys, xs in groups.items():
            if len(ys) == len(fb.classes) or (fb.kind == "bool" and len(ys) != 1):
                continue
            if fa.kind == "bool" and len(xs) != 1:
                continue
            if set(ys) == set(seen[ib]):
                continue  # no more than the single-feature candidate says
            if len(xs) == len(set(seen[ia])):
                continue
            for then in _conclusions(fb, set(ys), ts):
                emit(f"{paren(_in(fa, set(xs), ts))} -> {paren(then)}")
    # two of a thread's control features (its step, current and saved interpreter,
    # procedure arguments) together, against every other feature: what a thread holds
    # can depend on where it is in its procedure *and* where it came from or which key
    # it works on
    for p, c in (pair for group in control for pair in itertools.combinations(group, 2)):
        for b in range(n):
            if b not in (p, c):
                for body in _context_bodies(features, ordered, (p, c, b), ts):
                    emit(body)
    return out


def _context_bodies(features: list[_Feature], rows: list[tuple[object, ...]],
                    which: tuple[int, int, int], ts: TransitionSystem) -> list[str]:
    """`A in xs and B == y -> C in ys` wherever A and B together say more about C
    than either says alone (those facts are pair candidates already)."""
    p, c, b = which
    fb = features[b]
    alone_p: dict[object, set[object]] = {}
    alone_c: dict[object, set[object]] = {}
    ctx: dict[tuple[object, object], set[object]] = {}
    for r in rows:
        alone_p.setdefault(r[p], set()).add(r[b])
        alone_c.setdefault(r[c], set()).add(r[b])
        ctx.setdefault((r[p], r[c]), set()).add(r[b])
    groups: dict[tuple[object, frozenset[object]], set[object]] = {}
    for (x, y), got in ctx.items():
        if got != alone_p[x] and got != alone_c[y] and len(got) < len(fb.classes):
            groups.setdefault((y, frozenset(got)), set()).add(x)
    out = []
    for (y, ys), xs in groups.items():
        if fb.kind == "bool" and len(ys) != 1:
            continue
        left = f"{paren(_in(features[p], xs, ts))} and {paren(_in(features[c], {y}, ts))}"
        out += [f"{left} -> {paren(then)}" for then in _conclusions(fb, set(ys), ts)]
    return out


def _conclusions(f: _Feature, allowed: set[object], ts: TransitionSystem) -> list[str]:
    """`f` takes one of the allowed classes; and, when that excludes `none` and more,
    the weaker `f != none` too: the samples may pin a value (only `main` ever made
    it) that is not inductive while its existence is."""
    out = [_in(f, allowed, ts)]
    if f.kind == "elem" and "none" in f.classes and "none" not in allowed \
            and len(allowed) < len(f.classes) - 1:
        out.append(f"{f.text} != none")
    return out


def sample(instances: list[tuple[TransitionSystem, int]], deadline: float | None = None,
           seconds: float | None = None) -> list[tuple[TransitionSystem, tuple[State, ...]]]:
    """Reachable states of each instance: breadth-first, at most `cap` each (a
    negative cap: that many random-walk steps instead, to reach deep states of
    an instance too large to explore)."""
    out = []
    # a property that always holds keeps the search going (it stops when none is pending)
    keep = Property("$sample", "invariant", "", T.TRUE, "holds", BUILTIN_SPAN)
    for ts, cap in instances:
        if expired(deadline):
            break
        until = deadline
        if seconds is not None:  # each instance gets at most `seconds`
            own = time.monotonic() + seconds
            until = own if deadline is None else min(deadline, own)
        if cap < 0:
            out.append((ts, simulate(ts, -cap, until)))
            continue
        _, stats = explore(ts, [keep], max_states=cap, deadline=until, keep_states=True)
        out.append((ts, stats.reachable))
    return out


def simulate(ts: TransitionSystem, steps: int, deadline: float | None = None,
             walk: int = 60, seed: int = 0) -> tuple[State, ...]:
    """States visited by seeded random walks of `walk` steps, `steps` in all."""
    ev = Evaluator(ts)
    actions = [CompiledAction(ev, a) for a in ts.actions]
    rng = random.Random(seed)
    starts = list(ev.initial_states(200))
    seen: dict[State, None] = {}
    taken = 0
    while taken < steps and starts and not expired(deadline):
        s = rng.choice(starts)
        seen.setdefault(s)
        for _ in range(walk):
            moves = [(ca, env) for ca in actions for env in ca.envs
                     if ca.enabled(s, env) and ca.guard(s, env)]
            if not moves:
                break
            ca, env = rng.choice(moves)
            s = ca.successor(s, env)
            seen.setdefault(s)
            taken += 1
    return tuple(seen)


__all__ = ["Candidate", "Var", "candidates_from", "paren", "pc_in", "quantify", "sample", "shapes",
           "structural", "taken_names"]
