"""Differential testing: every engine against the explicit explorer on random models.

The explicit explorer (checker/engines/explicit.py, with the evaluator of
checker/evaluate.py) is the oracle: on a model it can exhaust, it knows every
verdict and the length of every shortest counterexample. For each random model
from tests/modelgen.py that it exhausts, this test checks:

* BMC to the explorer's depth finds exactly the violated properties, each with
  a trace as long as the explorer's (both shortest), and nothing else;
* induction, k-induction and PDR never say `proved` where the explorer finds a
  violation; a violation they report is real and shortest; k-induction whose
  base case reaches the explorer's depth finds every violation;
* every certificate (PDR's, and those mined from the reachable states) passes
  ``checker.certificate.recheck`` and is true in every reachable state;
* the z3 encoding agrees with the evaluator state by state: on sampled
  reachable states, `init` and each property's bad-state formula have the
  evaluator's value, and the transition relation has exactly the evaluator's
  successors.

`pytest tests/test_differential.py` runs a few dozen models (under a minute).
A campaign runs many more: ``pytest tests/test_differential.py --campaign N
[--campaign-seed S] [--campaign-log FILE]``; the log gets one JSON summary
(seed, models checked, verdict counts, wall-clock and CPU time, outcome),
rewritten every 50 models, so a stopped run still counts. A campaign is the
union of runs with distinct seeds; ``python tests/campaign_figures.py
LOG...`` sums their logs into the table of docs/soundness.rst. To keep a long
campaign affordable it runs BMC on every model and the further checks
(induction and k-induction, PDR, mined certificates, the encoding) in turn,
one per model; a model that takes more than SLOW_SECONDS of CPU is saved
beside the log (FILE.slowN.spec) as a finding and not counted as checked.
"""

from __future__ import annotations

import collections
import contextlib
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import z3
from hypothesis import HealthCheck, assume, given, seed, settings
from modelgen import random_models

from checker.certificate import parse, recheck, recheck_each
from checker.encode import Encoder
from checker.engines.bmc import bmc
from checker.engines.explicit import explore
from checker.engines.induction import induction, kinduction
from checker.engines.mining import columns, mine
from checker.engines.pdr import pdr
from checker.evaluate import CompiledAction, Evaluator, State
from checker.ir import Property, TransitionSystem
from checker.options import CheckOptions
from checker.replay import holds, validate
from checker.results import PropertyResult, Verdict
from checker.run import build
from spec.loader import load_text

FAST_EXAMPLES = 12         # in the normal test run
MAX_STATES = 3_000         # models the explorer cannot exhaust within this are skipped
MAX_DEPTH = 16             # ... and so are models whose BMC bound would exceed this
KIND_MAX = 3               # k-induction's largest k ...
KIND_PROPS = 2             # ... for this many properties the explorer proves, per model
RECHECKS = 2               # PDR certificates re-checked again here, per model
SAMPLE = 24                # reachable states checked against the encoding, per model
SLOW_SECONDS = 20.0        # CPU per campaign model; slower ones are kept as findings
PDR_SECONDS = 3.0          # per model, 1 s per property; PDR may then say `unknown`

Stats = collections.Counter[str]


def sample(states: tuple[State, ...], n: int) -> list[State]:
    """A deterministic spread of at most n states, always including the first."""
    if len(states) <= n:
        return list(states)
    step = len(states) / n
    return [states[int(i * step)] for i in range(n)]


def state_subst(ts: TransitionSystem, enc: Encoder, k: int, state: State
                ) -> list[tuple[Any, Any]]:
    """Pairs (constant of step k, value) that put a concrete state into a formula."""
    pairs = []
    for (t, values), z in zip(columns(ts, (state,)), enc.flat(k), strict=True):
        pairs.append((z, enc.value(values[0], t)))
    return pairs


class Subst:
    """A substitution of a concrete state, applied to many formulas: its pairs are
    checked (same sorts) once, not at every use as z3.substitute does."""

    def __init__(self, pairs: list[tuple[Any, Any]]) -> None:
        assert all(a.sort().eq(b.sort()) for a, b in pairs)
        self.pairs = pairs
        self.n = len(pairs)
        self.src = (z3.Ast * self.n)(*[a.as_ast() for a, _ in pairs])
        self.dst = (z3.Ast * self.n)(*[b.as_ast() for _, b in pairs])

    def apply(self, formula: Any) -> Any:
        ctx = formula.ctx
        return z3.BoolRef(z3.Z3_substitute(ctx.ref(), formula.as_ast(), self.n, self.src,
                                           self.dst), ctx)


def value_at(formula: Any, at: Subst) -> bool:
    """The value of a Boolean formula in the state that `at` substitutes."""
    out = z3.simplify(at.apply(formula))
    assert z3.is_true(out) or z3.is_false(out), f"not a constant after substitution: {out}"
    return z3.is_true(out)


def successors(ev: Evaluator, ts: TransitionSystem, state: State) -> set[State]:
    out = set()
    for a in ts.actions:
        ca = CompiledAction(ev, a)
        for env in ca.envs:
            if ca.enabled(state, env) and ca.guard(state, env):
                out.add(ca.successor(state, env))
    return out


def check_encoding(ts: TransitionSystem, reachable: tuple[State, ...], stats: Stats) -> None:
    """The bit-vector encoding (BMC's) and the evaluator agree on sampled states."""
    ev = Evaluator(ts)
    enc = Encoder(ts, z3.Context())
    init, domains = enc.init(), enc.domains(0)
    bad = {p.name: enc.bad(p, 0) for p in ts.properties}
    trans = z3.And(enc.transition(0), enc.domains(1))
    for i, s in enumerate(sample(reachable, SAMPLE)):
        pairs = Subst(state_subst(ts, enc, 0, s))
        assert value_at(domains, pairs), f"reachable state outside the domains: {s}"
        assert value_at(init, pairs) == ev.is_initial(s), f"init disagrees on {s}"
        for p in ts.properties:
            assert value_at(bad[p.name], pairs) == (not holds(ev, ts, p, s)), \
                f"bad({p.name}) disagrees with the evaluator on {s}"
        if i >= SAMPLE // 6:
            continue  # successors are dearer: check a quarter of the sample
        succ = successors(ev, ts, s)
        solver = z3.Solver(ctx=enc.ctx)
        solver.add(pairs.apply(trans))
        for t in succ:  # every evaluator successor is allowed by the encoding ...
            solver.push()
            solver.add(*[a == b for a, b in state_subst(ts, enc, 1, t)])
            assert solver.check() == z3.sat, f"encoding misses the step {s} -> {t}"
            solver.pop()
        for t in succ:  # ... and there is no other one
            solver.add(z3.Or(*[a != b for a, b in state_subst(ts, enc, 1, t)]))
        assert solver.check() == z3.unsat, f"encoding allows a step from {s} the evaluator has not"
        stats["encoding states"] += 1


class Reachable:
    """Evaluates invariants in the sampled reachable states of one model. One
    encoding serves every certificate of the model, and an invariant already
    found true there (mined certificates share one) is not evaluated again."""

    def __init__(self, ts: TransitionSystem, reachable: tuple[State, ...]) -> None:
        self.ts = ts
        self.all = reachable
        self.enc = Encoder(ts, z3.Context(), ints=True)
        self.states = sample(reachable, 4 * SAMPLE)
        self.pairs = [Subst(state_subst(ts, self.enc, 0, s)) for s in self.states]
        self.true: set[str] = set()

    def check(self, name: str, smt: str) -> None:
        if smt in self.true:
            return
        inv = parse(self.ts, self.enc, smt)
        for s, pairs in zip(self.states, self.pairs, strict=True):
            assert value_at(inv, pairs), f"certificate of {name} is false in the reachable " \
                                         f"state {s}"
        self.true.add(smt)


def check_certificate(ts: TransitionSystem, name: str, smt: str, reachable: Reachable,
                      again: bool) -> None:
    """The certificate is true in the reachable states (an inductive invariant that
    holds initially must be); `again`: also repeat the engine's own re-check."""
    if again:
        ok, why = recheck(ts, ts.property(name), smt)
        assert ok, f"certificate of {name} fails its re-check: {why}"
    reachable.check(name, smt)


def same_violation(ts: TransitionSystem, r: PropertyResult, oracle: dict[str, PropertyResult],
                   engine: str) -> None:
    """A violation an engine reports is one the explorer found, equally short."""
    ex = oracle[r.name]
    assert ex.verdict is Verdict.VIOLATED, f"{engine} reports {r.name} violated; explorer: " \
                                           f"{ex.verdict.value}"
    assert r.trace is not None and ex.trace is not None
    assert r.trace.length == ex.trace.length, \
        f"{engine}: {r.name} trace of {r.trace.length} steps, explorer {ex.trace.length}"
    validate(ts, r.trace, ts.property(r.name))


CHECKS = ("induction", "pdr", "mining", "encoding")


def cross_check(text: str, stats: Stats, checks: tuple[str, ...] = CHECKS) -> None:
    """BMC against the explorer, then the listed further checks. The model's figures
    are added to `stats` only once every check has passed (a model stopped as too
    slow is not counted as checked)."""
    ts = build(load_text("random.spec", text), CheckOptions())
    props = list(ts.properties)
    oracle, ex = explore(ts, props, max_states=MAX_STATES, keep_states=True)
    assume(ex.exhausted)  # the oracle must know every verdict and every state
    violated = {n for n, r in oracle.items() if r.verdict is Verdict.VIOLATED}
    assert all(r.verdict in (Verdict.PROVED, Verdict.VIOLATED) for r in oracle.values())
    # The diameter bounds every shortest violation: an invariant is false in some
    # state at most that deep, and a failing check fails in a step taken from one
    # (BMC finds those at the state's depth; the trace has the failing step more).
    depth = ex.depth
    assume(depth <= MAX_DEPTH)
    local: Stats = collections.Counter()
    local["models"] += 1
    local["properties"] += len(props)
    local["violated"] += len(violated)
    local["states"] += ex.states

    # BMC up to the diameter: exactly the explorer's violations, equally short
    by_bmc = bmc(ts, props, depth=depth)
    for name, r in by_bmc.items():
        if r.verdict is Verdict.VIOLATED:
            same_violation(ts, r, oracle, "bmc")
        else:
            assert name not in violated, f"bmc misses {name} within depth {depth}"
            assert r.verdict is Verdict.BOUNDED and r.depth == depth, (name, r.verdict)

    reachable = Reachable(ts, ex.reachable) if {"pdr", "mining"} & set(checks) else None
    if "induction" in checks:
        check_induction(ts, props, oracle, violated, depth, local)
    if "pdr" in checks:
        assert reachable is not None
        check_pdr(ts, props, oracle, violated, depth, reachable, local)
    if "mining" in checks:
        assert reachable is not None
        check_mining(ts, props, violated, reachable, local)
    if "encoding" in checks:
        check_encoding(ts, ex.reachable, local)
    stats.update(local)


def check_induction(ts: TransitionSystem, props: list[Property],
                    oracle: dict[str, PropertyResult], violated: set[str], depth: int,
                    stats: Stats) -> None:
    # induction: sound where it decides
    for name, r in induction(ts, props).items():
        if r.verdict is Verdict.PROVED:
            assert name not in violated, f"induction proves {name}, which is violated"
            stats["induction proved"] += 1
        elif r.verdict is Verdict.VIOLATED:
            same_violation(ts, r, oracle, "induction")

    # k-induction: its step case never proves a violated property (its base case is
    # BMC, checked above); a few properties per model keep the run short
    chosen = [p for p in props if p.name not in violated][:KIND_PROPS]
    chosen += [p for p in props if p.name in violated][:1]
    for name, r in kinduction(ts, chosen, max_k=min(depth + 1, KIND_MAX)).items():
        if r.verdict is Verdict.PROVED:
            assert name not in violated, f"k-induction proves {name}, which is violated"
            stats["kind proved"] += 1
        elif r.verdict is Verdict.VIOLATED:
            same_violation(ts, r, oracle, "k-induction")


def check_pdr(ts: TransitionSystem, props: list[Property], oracle: dict[str, PropertyResult],
              violated: set[str], depth: int, reachable: Reachable,
              stats: Stats) -> None:
    # PDR: proofs carry certificates that re-check and hold in every reachable state
    deadline = time.monotonic() + PDR_SECONDS
    again = RECHECKS
    for name, r in pdr(ts, props, timeout_ms=1000, deadline=deadline,
                       trace_depth=depth).items():
        if r.verdict is Verdict.PROVED:
            assert name not in violated, f"PDR proves {name}, which is violated"
            assert r.certificate is not None
            check_certificate(ts, name, r.certificate.smt, reachable, again > 0)
            again -= 1
            stats["pdr proved"] += 1
        elif r.verdict is Verdict.VIOLATED:
            same_violation(ts, r, oracle, "pdr")
            stats["pdr violated"] += 1
        else:
            stats["pdr unknown"] += 1


def check_mining(ts: TransitionSystem, props: list[Property], violated: set[str],
                 reachable: Reachable, stats: Stats) -> None:
    # certificates mined from the reachable states (what `--engine auto` attaches);
    # they share one invariant, so one fresh re-check repeats every certificate's
    proved = [p for p in props if p.name not in violated]
    _, certs = mine(ts, proved, reachable.all)
    by_smt: dict[str, list[Property]] = {}
    for name, cert in certs.items():
        assert name not in violated
        by_smt.setdefault(cert.smt, []).append(ts.property(name))
    for smt, owners in by_smt.items():
        for name, (ok, why) in recheck_each(ts, owners, smt).items():
            assert ok, f"mined certificate of {name} fails its re-check: {why}"
        for p in owners:
            check_certificate(ts, p.name, smt, reachable, again=False)
            stats["mined certificates"] += 1


class TooSlow(Exception):
    """A campaign model used more than SLOW_SECONDS of CPU time."""


@contextlib.contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    """Raise TooSlow in the block once it has used `seconds` of CPU time (checked
    between Python bytecodes, so a long solver call finishes first). Raised inside
    a z3 call, the exception comes out wrapped (ctypes.ArgumentError); any
    exception after the time is up counts as TooSlow."""
    fired = []

    def expire(signum: int, frame: object) -> None:
        fired.append(True)
        raise TooSlow

    old = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    except Exception as exc:
        if fired:
            raise TooSlow from exc
        raise
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)


def write_log(path: str, stats: Stats, start: float, cpu_start: float, seed_: int,
              outcome: str | None = None) -> None:
    """The campaign's figures so far; written every 50 models, so a run that is
    stopped still counts what it completed (tests/campaign_figures.py sums logs),
    and at the end with the outcome: `passed`, `failed` (a disagreement, or an
    error) or `interrupted` (Ctrl-C or SIGINT; the figures count every model
    checked until then)."""
    stats["seconds"] = round(time.monotonic() - start)
    stats["cpu seconds"] = round(time.process_time() - cpu_start)
    figures: dict[str, int | str] = {**stats, "seed": seed_}
    if outcome is not None:
        figures["outcome"] = outcome
    Path(path).write_text(json.dumps(dict(sorted(figures.items())), indent=1) + "\n",
                          encoding="utf-8")


def test_engines_agree_with_the_explicit_explorer(request: pytest.FixtureRequest) -> None:
    """Random models: every engine agrees with the explicit explorer (see the module
    docstring); `--campaign N` runs N models instead of a few dozen."""
    campaign: int = request.config.getoption("--campaign")
    log: str | None = request.config.getoption("--campaign-log")
    seed_: int = request.config.getoption("--campaign-seed")
    stats: Stats = collections.Counter()
    start, cpu_start = time.monotonic(), time.process_time()

    @seed(seed_)
    @settings(max_examples=campaign or FAST_EXAMPLES, deadline=None, database=None,
              derandomize=not campaign,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(random_models())
    def run(text: str) -> None:
        # a campaign runs BMC and one of the further checks per model, in turn
        turn = (stats["models"] + stats["too slow"]) % len(CHECKS)
        if not campaign:
            cross_check(text, stats, CHECKS)
            return
        try:  # a model that takes too long is a finding to keep, not a reason to stop
            with cpu_limit(SLOW_SECONDS):
                cross_check(text, stats, CHECKS[turn:turn + 1])
        except TooSlow:
            stats["too slow"] += 1
            if log:
                Path(f"{log}.slow{stats['too slow']}.spec").write_text(text, encoding="utf-8")
        if log and stats["models"] % 50 == 0:  # progress of a long campaign
            write_log(log, stats, start, cpu_start, seed_)

    outcome = "failed"
    try:
        run()
        outcome = "passed"
    except KeyboardInterrupt:
        outcome = "interrupted"
        raise
    finally:
        if log:
            write_log(log, stats, start, cpu_start, seed_, outcome)
    assert stats["models"] >= (campaign or FAST_EXAMPLES) // 2, dict(stats)
