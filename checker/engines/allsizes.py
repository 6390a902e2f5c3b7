"""Proofs for every size: inductive invariants over uninterpreted sorts.

``prove`` lifts a model (``checker.sizes``, ``checker.lift``), adds candidate
lemmas found on small instances (facts of sampled states,
``checker.engines.lemmas``; PDR certificates generalised over interchangeable
elements, ``checker.engines.generalise``) and the lock-order
conditions that stand for deadlock freedom (``checker.lockorder``), and then:

1. **Fragment filter.** Every conjunct is analysed (``checker.fragment``); one
   that would make the sort graph cyclic is set aside (a property so set
   aside is `unknown`, with the cycle as the reason).
2. **Houdini.** Initiation, then consecution action by action: a step from a
   state satisfying every remaining conjunct must keep each of them. Each
   model z3 finds is a finite structure; every conjunct false after the step
   is dropped. A dropped *property* keeps that structure as its
   counterexample to induction, decoded into an instance of the structure's
   sizes and replayed by the explicit evaluator (``checker.replay``).
3. **The lemmas a proof needs**, from unsat cores, starting from the proved
   properties.
4. **Re-check.** In a fresh z3 context, initiation and consecution of
   exactly those conjuncts, one obligation per action, each obligation
   analysed for its fragment. Only when all are unsatisfiable *and* in the
   fragment is a property `proved for all sizes`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import z3

from checker.engines import generalise
from checker.engines import lemmas as discovery
from checker.fragment import Memo, collect, judge
from checker.ir import Action, Property, TransitionSystem
from checker.lift import Lifter, State
from checker.limits import expired, limit
from checker.lockorder import LockOrder, order
from checker.lockorder import reads as lock_reads
from checker.lower import lower
from checker.replay import validate_cti
from checker.results import AllSizes, Trace
from checker.sizes import SizePlan, Unsupported, element_name, instance_defines, plan
from checker.structure import Decoder, Structure, evaluate, instance_state
from checker.traces import make_step, make_trace
from spec import terms as T
from spec.diagnostics import SpecError
from spec.loader import LoadedModel
from spec.parser import parse
from spec.program import Program
from spec.source import SourceFile
from spec.typecheck import check

ENGINE = "allsizes"
SAMPLE_STATES = 20000      # states kept per instance explored breadth-first
SAMPLE_STEPS = 3000        # random-walk steps on the larger instance
SAMPLE_SECONDS = 15.0      # time for each sampled instance
SOURCES = ("samples", "certificates")  # where candidate lemmas come from
MAX_INSTANCE = 8           # the type checker's largest interpreter/thread count
# A query's budget is z3's resource limit (rlimit), which the same query uses up
# the same way on every machine and under any load: with time limits, whether a
# batch was decided (and so the unsat cores, and the lemmas a proof keeps) changed
# with the machine's load. The time limits are only a backstop.
QUERY = (60_000, 150_000_000)  # (ms, rlimit) of a query about one conjunct (~10 s)
BATCH = (20_000, 1_500_000)    # of a query about several (~1 s; one it cannot decide is
                               # split, see _settle)
BATCH_MS = BATCH[0]
FINAL_MS = 60_000          # one obligation of the final re-check
MAX_EXTRA = 4              # interchangeable elements tried per sort for a small CTI

Z = Any


@dataclass(frozen=True)
class Conjunct:
    name: str
    kind: str                 # "property" | "lemma" | "candidate" | "lock-order"
    text: str                 # in the model's vocabulary
    reads: frozenset[str]     # state variables it reads
    hold: Callable[[State], Z]
    bad: Callable[[State, str], list[Z]]


@dataclass(frozen=True)
class _CTI:
    broken: str
    assumed: tuple[str, ...]
    pre: Structure
    post: Structure | None
    action: Action | None
    params: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """Per property name, its all-sizes result; the lemmas the proofs use."""

    results: dict[str, AllSizes]
    lemmas: tuple[tuple[str, str], ...]
    seconds: float


def instance(model: LoadedModel, defines: tuple[tuple[str, str], ...]
             ) -> tuple[Program, TransitionSystem]:
    program = check(model, dict(defines))
    return program, lower(program)


def with_lemmas(model: LoadedModel, cands: list[discovery.Candidate]) -> LoadedModel:
    """The model with candidate lemmas appended as `lemma` declarations."""
    if not cands:
        return model
    text = "".join(f"lemma {c.name}: {c.text}\n" for c in cands)
    module = parse(SourceFile.from_text("<lemmas found by --all-sizes>", text))
    return LoadedModel(model.root, model.decls + module.decls, model.files)


def _has_wait_cycle(t: T.Term) -> bool:
    found = [False]

    def go(x: T.Term) -> T.Term:
        if isinstance(x, T.WaitCycle):
            found[0] = True
            return x
        return T.map_children(x, go)

    go(t)
    return found[0]


def _reads(ts: TransitionSystem, p: Property) -> frozenset[str]:
    if p.formula is not None:
        return T.free_vars(p.formula)
    out: set[str] = set()
    for a in ts.actions:
        for f in a.failures:
            if f.prop == p.name:
                out |= T.free_vars(a.enabled) | T.free_vars(f.cond)
    return frozenset(out)


def conjuncts(L: Lifter, ts: TransitionSystem, texts: dict[str, str]
              ) -> tuple[list[Conjunct], LockOrder | None]:
    out: list[Conjunct] = []
    lock_order: LockOrder | None = None
    for p in ts.properties:
        if p.formula is not None and _has_wait_cycle(p.formula):
            lock_order = LockOrder(L, ts)
            continue
        kind = ("candidate" if p.name in texts else "lemma" if p.kind == "lemma"
                else "property")
        hold, bad = _property_formulas(L, p)
        out.append(Conjunct(p.name, kind, texts.get(p.name, p.description), _reads(ts, p),
                            hold, bad))
    if lock_order is not None:
        lr = lock_reads(ts)
        for g in lock_order.waited():
            for f in lock_order.families():
                hold = partial(_no_wait, lock_order, f, g)
                out.append(Conjunct(
                    f"deadlock:{f}<{g}", "lock-order",
                    f"no thread waits for {_lock_text(g)} while holding {_lock_text(f)}",
                    lr, hold, partial(_negated, hold)))
        hold = lock_order.live_holders
        out.append(Conjunct("deadlock:live", "lock-order",
                            "no thread waits for a lock held by a thread that no longer "
                            "exists", lr, hold, partial(_negated, hold)))
    return out, lock_order


def _property_formulas(L: Lifter, p: Property
                       ) -> tuple[Callable[[State], Z], Callable[[State, str], list[Z]]]:
    """(holds in a state, the ways it fails in a state) of a model property."""
    formula = p.formula
    if formula is not None:
        def hold(st: State) -> Z:
            return L.formula(formula, st, {})
        return hold, partial(_negated, hold)

    def check_holds(st: State) -> Z:
        return L.holds(p, st)

    def check_fails(st: State, tag: str) -> list[Z]:
        return [f for _, _, _, f in L.bad_cases(p, st, tag)]
    return check_holds, check_fails


def _negated(hold: Callable[[State], Z], st: State, tag: str) -> list[Z]:
    return [z3.Not(hold(st))]


def _no_wait(lo: LockOrder, holding: str, waiting: str, st: State) -> Z:
    return lo.no_wait(holding, waiting, st)


def _lock_text(family: str) -> str:
    return f"`{family}`" if family != "gil" else "a GIL"


class _Houdini:
    def __init__(self, L: Lifter, ts: TransitionSystem, conjs: list[Conjunct], seed: int,
                 timeout_ms: int | None, deadline: float | None) -> None:
        self.L = L
        self.ts = ts
        self.conjs = {c.name: c for c in conjs}
        self.seed = seed
        self.timeout_ms = timeout_ms
        self.deadline = deadline
        self.pre = L.state("0")
        self.base = L.domain_axioms(self.pre)
        self.holds: dict[str, Z] = {}
        self.guards = {c.name: z3.Bool(f"h:{c.name}", L.ctx) for c in conjs}
        self.steps: dict[str, tuple[State, dict[str, Any], list[Z]]] = {}
        self.solvers: dict[str, Any] = {}
        self.goals: dict[tuple[str, str], list[Z]] = {}
        self.ctis: dict[str, _CTI] = {}
        self.unknown: dict[str, str] = {}
        self.memo: Memo = {}
        self.batches = [0, 0]  # batched queries decided, and not decided in time
        self.proofs: dict[tuple[str, str], frozenset[str]] = {}  # (step, conjunct) -> core

    def hold(self, name: str) -> Z:
        if name not in self.holds:
            self.holds[name] = self.conjs[name].hold(self.pre)
        return self.holds[name]

    def step(self, a: Action) -> tuple[State, dict[str, Any], list[Z]]:
        if a.id not in self.steps:
            env, dom = self.L.params(a, a.id)
            post, parts = self.L.step(a, self.pre, f"1:{a.id}", env)
            self.steps[a.id] = (post, env, dom + parts)
        return self.steps[a.id]

    def solver(self, key: str, facts: list[Z]) -> Any:
        if key not in self.solvers:
            s = z3.Solver(ctx=self.L.ctx)
            s.set("random_seed", self.seed)
            s.add(*self.base, *facts)
            if key != "init":
                for name, g in self.guards.items():
                    s.add(z3.Implies(g, self.hold(name)))
            self.solvers[key] = s
        return self.solvers[key]

    def goal(self, name: str, a: Action | None) -> list[Z]:
        key = (name, a.id if a is not None else "init")
        if key not in self.goals:
            st = self.pre if a is None else self.step(a)[0]
            self.goals[key] = self.conjs[name].bad(st, key[1])
        return self.goals[key]

    def touched(self, a: Action) -> set[str]:
        return {v for v, _ in a.updates}

    def check(self, active: list[str], a: Action | None, todo: list[str],
              core: bool = False, budget: tuple[int, int] = QUERY
              ) -> tuple[str, list[str], Any]:
        """('unsat', core names, None) | ('sat', violated names, model) | ('unknown', [], why)."""
        if a is None:
            s = self.solver("init", self.L.init(self.pre))
        else:
            s = self.solver(a.id, self.step(a)[2])
        goals = [(n, f) for n in todo for f in self.goal(n, a)]
        if not goals:
            return "unsat", [], None
        assumptions = [self.guards[n] for n in active] if a is not None else []
        s.push()
        try:
            s.add(z3.Or(*[f for _, f in goals]))
            self._limit(s, budget)
            outcome = s.check(*assumptions)
            if outcome == z3.unsat:
                names = [str(x)[2:] for x in s.unsat_core()] if core else []
                return "unsat", names, None
            if outcome == z3.unknown:
                return "unknown", [], s.reason_unknown()
            m = s.model()
            broken = sorted({n for n, f in goals if evaluate(m, f)})
        finally:
            s.pop()
        if not broken:  # a model z3 could not finish: no structure to learn from
            return "unknown", [], "the solver returned an incomplete model"
        for n in broken:
            if self.conjs[n].kind == "property" and n not in self.ctis:
                self._remember(s, assumptions, a, n, active)
        return "sat", broken, None

    def _limit(self, s: Any, budget: tuple[int, int]) -> None:
        ms, rlimit = budget
        limit(s, ms if self.timeout_ms is None else min(ms, self.timeout_ms), self.deadline)
        s.set("rlimit", rlimit)

    def _remember(self, s: Any, assumptions: list[Z], a: Action | None, name: str,
                  active: list[str]) -> None:
        """Keep a counterexample to induction for a dropped property: the smallest
        structure found (one sort at a time, few interchangeable elements first)."""
        s.push()
        depth = 1
        try:
            s.add(z3.Or(*self.goal(name, a)))
            self._limit(s, QUERY)
            if s.check(*assumptions) != z3.sat:
                return
            m = s.model()
            for sp in sorted(self.L.plan.sorts, key=lambda x: x.name != "Thread"):
                sort = self.L.usorts[sp.name]
                fixed = [self.L.nones[sp.name]] + [self.L.elems[(sp.name, d)]
                                                   for d in sp.distinguished]
                x = z3.Const(f"card:{sp.name}", sort)
                for k in range(MAX_EXTRA + 1):
                    extra = [z3.Const(f"card:{sp.name}:{i}", sort) for i in range(k)]
                    s.push()
                    s.add(z3.ForAll([x], z3.Or(*[x == c for c in fixed + extra])))
                    self._limit(s, BATCH)
                    if s.check(*assumptions) == z3.sat:
                        m = s.model()
                        depth += 1
                        break
                    s.pop()
            dec = Decoder(self.L, m)
            pre = dec.structure(self.pre, {})
            post = None
            params: dict[str, Any] = {}
            if a is not None:
                st, env, _ = self.step(a)
                post = dec.structure(st, {})
                params = {n: dec.value(env[n], t) for n, t in a.params}
            assumed = tuple(n for n in active if self.conjs[n].kind != "lock-order")
            self.ctis[name] = _CTI(name, assumed if a is not None else (), pre, post, a, params)
        finally:
            for _ in range(depth):
                s.pop()

    def run(self, names: list[str]) -> list[str]:
        active = list(names)
        # initiation: drop what some initial state violates
        while active and not expired(self.deadline):
            outcome, broken, why = self.check(active, None, active)
            if outcome == "unsat":
                break
            if outcome == "unknown":
                for n in active:
                    self.unknown.setdefault(n, f"initiation: {why}")
                return []
            active = [n for n in active if n not in broken]
        # consecution: every (step, conjunct) needs a proof whose assumptions are all
        # still active; a drop invalidates exactly the proofs that assumed it
        while active:
            progress = False
            for a in self.ts.actions:
                while active:
                    if expired(self.deadline):
                        for n in active:
                            self.unknown.setdefault(n, "time limit reached")
                        return []
                    live = set(active)
                    touched = self.touched(a)
                    todo = [n for n in active if self.conjs[n].reads & touched
                            and not self.proofs.get((a.id, n), frozenset({""})) <= live]
                    if not todo:
                        break
                    broken, unknown = self._settle(active, a, todo)
                    progress = True
                    if not broken and not unknown:
                        break
                    active = [n for n in active if n not in broken and n not in unknown]
            if not progress:
                break
        return active

    def _settle(self, active: list[str], a: Action, todo: list[str]
                ) -> tuple[list[str], list[str]]:
        """(broken, undecided) conjuncts among `todo` for one step; every proof found
        is kept with its unsat core. All of them in one query first; when the solver
        cannot decide that within BATCH (MBQI handles a disjunction of many quantified
        goals badly), one query per conjunct, and batches stop being tried once they
        fail more often than they succeed."""
        if len(todo) > 1 and self.batches[1] <= self.batches[0] + 2:
            outcome, got, _ = self.check(active, a, todo, core=True, budget=BATCH)
            if outcome == "unsat":
                self.batches[0] += 1
                for n in todo:
                    self.proofs[(a.id, n)] = frozenset(got)
                return [], []
            if outcome == "sat":
                return got, []
            self.batches[1] += 1
        broken_all: list[str] = []
        unknown: list[str] = []
        for n in todo:
            outcome, got, why = self.check(active, a, [n], core=True, budget=QUERY)
            if outcome == "unsat":
                self.proofs[(a.id, n)] = frozenset(got)
            elif outcome == "sat":
                broken_all += got
            else:
                self.unknown.setdefault(n, f"consecution of {a.id}: {why}")
                unknown.append(n)
        return broken_all, unknown

    def needed(self, active: list[str], roots: list[str]) -> list[str]:
        """The conjuncts the roots' consecution depends on: the closure of the unsat
        cores of their proofs."""
        need = set(roots)
        queue = list(roots)
        live = set(active)
        while queue:
            n = queue.pop()
            for a in self.ts.actions:
                if not self.conjs[n].reads & self.touched(a):
                    continue
                core = self.proofs.get((a.id, n))
                if core is None or not core <= live:  # cannot happen after run()
                    return list(active)
                for m in sorted(core - need):
                    need.add(m)
                    queue.append(m)
        return [n for n in active if n in need]


def _final_check(program: Program, ts: TransitionSystem, plan_: SizePlan,
                 texts: dict[str, str], keep: list[str], seed: int, timeout_ms: int | None,
                 deadline: float | None,
                 cores: dict[tuple[str, str], frozenset[str]] | None = None) -> tuple[bool, str]:
    """Initiation and consecution of exactly `keep`, in a fresh context, each
    obligation analysed for its fragment: (all unsat and complete, fragment or reason).
    `cores`: for (step, conjunct), the conjuncts its consecution needs (from the
    search); the obligation then assumes only those, which keeps it small."""
    cores = cores or {}
    ctx = z3.Context()
    L = Lifter(program, ts, plan_, ctx)
    conjs = {c.name: c for c in conjuncts(L, ts, texts)[0] if c.name in keep}
    pre = L.state("0")
    base = L.domain_axioms(pre)
    hyps = {n: conjs[n].hold(pre) for n in keep}
    obligations: list[tuple[str, list[Z], list[tuple[str, list[Z]]]]] = [
        ("initiation", L.init(pre), [(n, conjs[n].bad(pre, "i")) for n in keep])]
    for a in ts.actions:
        touched = {v for v, _ in a.updates}
        todo = [n for n in keep if conjs[n].reads & touched]
        if not todo:
            continue
        env, dom = L.params(a, a.id)
        post, parts = L.step(a, pre, f"1:{a.id}", env)
        groups: dict[frozenset[str], list[str]] = {}
        for n in todo:
            core = cores.get((a.id, n), frozenset(keep)) & set(keep)
            groups.setdefault(frozenset(core), []).append(n)
        for core, members in groups.items():
            obligations.append((f"consecution of {a.id}",
                                [*(hyps[h] for h in keep if h in core), *dom, *parts],
                                [(n, conjs[n].bad(post, a.id)) for n in members]))
    names: set[str] = set()
    memo: Memo = {}
    for label, facts, goals in obligations:
        if expired(deadline):
            return False, "time limit reached during the re-check"
        everything = [f for _, fs in goals for f in fs]
        edges, problems = collect([(label, f) for f in [*base, *facts, *everything]], memo)
        frag = judge(edges, problems)
        if not frag.ok:
            return False, f"{label}: {frag.name}"
        names.add(frag.name)
        s = z3.Solver(ctx=ctx)
        s.set("random_seed", seed)
        s.add(*base, *facts)
        # all goals at once; when that is too hard, one obligation per conjunct
        for group in ([("all", everything)], [(n, fs) for n, fs in goals]):
            done = True
            for name, fs in group:
                if not fs:
                    continue
                s.push()
                s.add(z3.Or(*fs))
                ms = BATCH_MS if name == "all" else FINAL_MS
                limit(s, ms if timeout_ms is None else min(ms, timeout_ms), deadline)
                outcome = s.check()
                s.pop()
                if outcome == z3.unsat:
                    continue
                if name == "all" and outcome == z3.unknown:
                    done = False
                    break
                which = "" if name == "all" else f" ({name})"
                return False, f"re-check of {label}{which}: {outcome}"
            if done:
                break
    # the widest fragment used names them all (EPR is a special case of the stratified one)
    return True, sorted(names, key=lambda x: (not x.startswith("many"), x))[0]


def prove(model: LoadedModel, defines: tuple[tuple[str, str], ...], names: list[str], *,
          seed: int = 0, timeout_ms: int | None = None, deadline: float | None = None,
          sources: tuple[str, ...] = SOURCES) -> Outcome:
    """All-sizes results for the properties `names` of the model; candidate lemmas
    from `sources` (none: only the model's own lemmas)."""
    start = time.monotonic()
    try:
        plan_ = plan(model, defines)
        program, ts = instance(model, plan_.defines)
        Lifter(program, ts, plan_, z3.Context())  # fail early on what cannot be lifted
    except Unsupported as exc:
        sizes = "every size"
        return Outcome({n: AllSizes(False, f"the model cannot be lifted to every size: {exc}",
                                    sizes) for n in names}, (), time.monotonic() - start)
    sizes = plan_.describe()
    if not plan_.sorts:
        return Outcome({n: AllSizes(False, "no sort is sized by a parameter: the instance "
                                    "proof already covers the model", sizes)
                        for n in names}, (), time.monotonic() - start)
    def attempt(texts: list[str]) -> Outcome:
        cands = [discovery.Candidate(f"cand_{i + 1}", x)
                 for i, x in enumerate(dict.fromkeys(texts))]
        full, program2, ts2, cands = _with_candidates(model, plan_, cands, program, ts)
        try:
            return _prove(model, full, program2, ts2, plan_, cands, names, seed, timeout_ms,
                          deadline, start)
        except Unsupported as exc:
            return Outcome({n: AllSizes(False, "the model cannot be lifted to every size: "
                                        f"{exc}", sizes) for n in names}, (),
                           time.monotonic() - start)

    if not sources:
        return attempt([])
    # the lowering's own facts, then each source's candidates (their order is the
    # order of the found_N names)
    texts = discovery.structural(ts, program, plan_)
    if "samples" in sources:
        texts += [c.text for c in _from_samples(model, plan_, program, ts, deadline)]
        if "certificates" not in sources:
            return attempt(texts)
        # sampling costs no solver time and usually suffices: PDR runs only for the
        # properties it leaves unproved, and the proof is then tried with both
        first = attempt(texts)
        open_ = [n for n in names if not first.results[n].proved]
        if not open_ or expired(deadline):
            return first
        second = attempt(texts + _from_certificates(model, plan_, deadline, open_, seed))
        proved = [sum(r.proved for r in o.results.values()) for o in (first, second)]
        return second if proved[1] > proved[0] else replace(
            first, seconds=time.monotonic() - start)
    return attempt(texts + _from_certificates(model, plan_, deadline, names, seed))


def _prove(model: LoadedModel, full: LoadedModel, program2: Program, ts2: TransitionSystem,
           plan_: SizePlan, cands: list[discovery.Candidate], names: list[str], seed: int,
           timeout_ms: int | None, deadline: float | None, start: float) -> Outcome:
    sizes = plan_.describe()
    texts = {c.name: c.text for c in cands}
    ctx = z3.Context()
    try:
        L = Lifter(program2, ts2, plan_, ctx)
        conjs, lock_order = conjuncts(L, ts2, texts)
    except Unsupported as exc:
        return Outcome({n: AllSizes(False, f"the model cannot be lifted to every size: {exc}",
                                    sizes) for n in names}, (), time.monotonic() - start)
    hou = _Houdini(L, ts2, conjs, seed, timeout_ms, deadline)
    kept, excluded = _fragment_filter(hou, conjs)
    active = hou.run(kept)
    results: dict[str, AllSizes] = {}
    roots = [n for n in active if hou.conjs[n].kind == "property" and n in names]
    deadlock_reason = None
    if lock_order is not None and "deadlock" in names:
        deadlock_roots, deadlock_reason = _deadlock(lock_order, active, excluded)
        if deadlock_roots is not None:
            roots += deadlock_roots
    keep = hou.needed(active, roots) if roots else []
    ok, how = (False, "nothing to prove")
    if keep:
        ok, how = _final_check(program2, ts2, plan_, texts, keep, seed, timeout_ms, deadline,
                               hou.proofs)
    # discovered lemmas are renamed found_1, found_2, ... in the order of the model's text
    taken = {p.name for p in ts2.properties}
    rename: dict[str, str] = {}
    for n in keep:
        if n in texts:
            k = len(rename) + 1
            while f"found_{k}" in taken:
                k += 1
            rename[n] = f"found_{k}"
            taken.add(rename[n])
    used = tuple(rename.get(n, n) for n in keep if hou.conjs[n].kind in ("candidate", "lemma"))
    lemma_texts = tuple((rename[n], texts[n]) for n in keep if n in texts)
    for n in names:
        if n == "deadlock" and lock_order is not None:
            if deadlock_reason is None:
                results[n] = AllSizes(False, how, sizes)
            elif ok and deadlock_reason[0]:
                results[n] = AllSizes(True, deadlock_reason[1], sizes, how, used)
            else:
                results[n] = AllSizes(False, deadlock_reason[1] if not deadlock_reason[0]
                                      else how, sizes)
            continue
        if n in roots and ok:
            extra = f" and {len(used)} lemma{'s' if len(used) != 1 else ''}" if used else ""
            results[n] = AllSizes(True, f"inductive together with the other proved "
                                  f"properties{extra}", sizes, how, used)
        elif n in roots:
            results[n] = AllSizes(False, how, sizes)
        elif n in excluded:
            results[n] = AllSizes(False, excluded[n], sizes)
        elif n in hou.ctis:
            cti, cti_sizes, note = _cti_trace(full, plan_, L, hou.ctis[n])
            results[n] = AllSizes(False, _cti_reason(hou.ctis[n], note), sizes, cti=cti,
                                  cti_sizes=cti_sizes)
        elif n in hou.unknown:
            results[n] = AllSizes(False, hou.unknown[n], sizes)
        elif n not in hou.conjs:
            results[n] = AllSizes(False, "not a property of the lifted model", sizes)
        else:
            results[n] = AllSizes(False, "not inductive with the lemmas found", sizes)
    return Outcome(results, lemma_texts, time.monotonic() - start)


def _with_candidates(model: LoadedModel, plan_: SizePlan, cands: list[discovery.Candidate],
                     program: Program, ts: TransitionSystem
                     ) -> tuple[LoadedModel, Program, TransitionSystem, list[discovery.Candidate]]:
    """The model with the candidates as lemmas. A candidate the type checker rejects
    (a bug in discovery) is left out: its diagnostic names its line."""
    while cands:
        full = with_lemmas(model, cands)
        try:
            program2, ts2 = instance(full, plan_.defines)
            return full, program2, ts2, cands
        except SpecError as exc:
            bad = {d.span.line_col()[0] - 1 for d in exc.diagnostics
                   if d.span is not None and d.span.source.name.startswith("<lemmas")}
            if not bad:
                break
            cands = [c for i, c in enumerate(cands) if i not in bad]
    return model, program, ts, []


def _cti_reason(c: _CTI, note: str) -> str:
    if c.action is None:
        return f"an initial state of a structure violates it{note}"
    return ("not inductive for every size, even with the lemmas found: a step from a state "
            f"satisfying them breaks it{note}")


def _fragment_filter(hou: _Houdini, conjs: list[Conjunct]
                     ) -> tuple[list[str], dict[str, str]]:
    """Conjuncts whose formulas keep every obligation in the decidable fragment;
    the others, with the reason."""
    facts: list[tuple[str, Z]] = [("the state's types", f) for f in hou.base]
    facts += [("init", f) for f in hou.L.init(hou.pre)]
    for a in hou.ts.actions:
        facts += [(f"step {a.id}", f) for f in hou.step(a)[2]]
    edges, problems = collect(facts, hou.memo)
    base = judge(edges, problems)
    if not base.ok:
        reason = f"the model's steps are outside the decidable fragment: {base.name}"
        return [], {c.name: reason for c in conjs}
    kept: list[str] = []
    excluded: dict[str, str] = {}
    order_ = sorted(conjs, key=lambda c: ["property", "lemma", "lock-order", "candidate"].index(
        c.kind))
    for c in order_:
        h = hou.hold(c.name)
        more, probs = collect([(c.name, h), (c.name, z3.Not(h))], hou.memo)
        trial = dict(edges)
        for k, v in more.items():
            trial.setdefault(k, v)
        frag = judge(trial, probs)
        if frag.ok:
            edges = trial
            kept.append(c.name)
        else:
            excluded[c.name] = frag.name
    return kept, excluded


def _deadlock(lo: LockOrder, active: list[str], excluded: dict[str, str]
              ) -> tuple[list[str] | None, tuple[bool, str]]:
    fams = lo.families()
    waited = lo.waited()
    if "deadlock:live" not in active:
        why = excluded.get("deadlock:live", "it is not inductive with the lemmas found")
        return None, (False, "deadlock: a thread may wait for a lock held by a thread that no "
                      f"longer exists ({why})")
    edges = {(f, g) for g in waited for f in fams if f"deadlock:{f}<{g}" not in active}
    rank = order(fams, edges)
    if rank is None:
        held = ", ".join(f"{_lock_text(f)} while waiting for {_lock_text(g)}"
                         for f, g in sorted(edges))
        return None, (False, "deadlock needs reasoning about wait-for cycles of any length "
                      "(a transitive closure, outside first-order logic); the lock-order "
                      f"argument fails: a thread may hold {held}")
    roots = ["deadlock:live"] + [f"deadlock:{f}<{g}" for g in waited for f in fams
                                 if rank.index(f) >= rank.index(g)]
    shown = ", ".join(_lock_text(f) for f in rank if f in waited or any(
        (f, g) in edges for g in waited))
    how = ("no wait-for cycle for any number of threads: a thread waiting for a lock holds "
           f"only locks earlier in the order {shown or 'of the locks'}, and never waits for a "
           "lock held by a thread that no longer exists")
    return roots, (True, how)


def _from_certificates(model: LoadedModel, plan_: SizePlan, deadline: float | None,
                       names: list[str], seed: int) -> list[str]:
    """PDR certificates of the smallest instance with two threads, generalised."""
    sizes = {s.name: min(MAX_INSTANCE, s.named + {"Thread": 2}.get(s.name, 1))
             for s in plan_.sorts}
    try:
        program, small = instance(model, instance_defines(plan_, sizes))
    except SpecError:
        return []
    props = [p for p in small.properties if p.name in names]
    smts = generalise.certificates(small, props, deadline, seed)
    g = generalise.Generaliser(small, program, plan_, discovery.taken_names(program))
    out: list[str] = []
    for smt in smts:
        out += g.candidates(smt)
    return out[:generalise.MAX_CANDIDATES]


def _from_samples(model: LoadedModel, plan_: SizePlan, program: Program,
                  ts: TransitionSystem, deadline: float | None) -> list[discovery.Candidate]:
    L = Lifter(program, ts, plan_, z3.Context())
    instances: list[tuple[TransitionSystem, int]] = []
    # small instances explored breadth-first, a larger one by random walks
    for threads, others, cap in ((2, 1, SAMPLE_STATES), (2, 2, SAMPLE_STATES),
                                 (3, 2, -SAMPLE_STEPS)):
        sizes = {}
        for s in plan_.sorts:
            extra = {"Interp": 2, "Thread": threads}.get(s.name, others)
            sizes[s.name] = min(MAX_INSTANCE, s.named + extra)
        try:
            _, small = instance(model, instance_defines(plan_, sizes))
        except SpecError:
            continue
        instances.append((small, cap))
    samples = discovery.sample(instances, deadline, SAMPLE_SECONDS)
    return discovery.candidates_from(ts, program, plan_, L, samples, deadline)


def _cti_trace(model: LoadedModel, plan_: SizePlan, L: Lifter, c: _CTI
               ) -> tuple[Trace | None, tuple[tuple[str, int], ...], str]:
    """The CTI as a trace of the instance with the structure's sizes, replayed."""
    sizes = {s: c.pre.size(s) for s in c.pre.names}
    shown = tuple(sorted(sizes.items()))
    for s in plan_.sorts:
        names = c.pre.names[s.name]
        if set(names) != {element_name(s.name, i) for i in range(len(names))}:
            return None, shown, " (the structure skips a named element; not shown)"
        if not 1 <= len(names) <= MAX_INSTANCE:
            return None, shown, (f" (a structure with {len(names)} elements of {s.name}; "
                                 "not shown)")
    try:
        _, ts_n = instance(model, instance_defines(plan_, sizes))
    except SpecError:
        return None, shown, ""
    pre = instance_state(ts_n, L, c.pre)
    what = (f"`{c.broken}` does not hold after this step" if ts_n.property(c.broken).formula
            is not None else f"a check of `{c.broken}` can fail after this step")
    if c.action is None or c.post is None:
        return None, shown, ""
    post = instance_state(ts_n, L, c.post)
    action = ts_n.action(c.action.id)
    step = make_step(ts_n, action, dict(c.params), pre, what)
    trace = make_trace(ts_n, [pre, post], [step])
    known = {p.name for p in ts_n.properties}
    validate_cti(ts_n, trace, [ts_n.property(n) for n in c.assumed if n in known],
                 ts_n.property(c.broken))
    return trace, shown, ""
