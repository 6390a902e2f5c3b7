"""Checking one model file end to end: load -> check -> lower -> engines -> report.

The engine order for ``--engine auto``: an exhaustive explicit search of the
instance (fast, and a proof when it completes); properties it cannot decide
within ``max_states`` go to BMC up to ``--depth``.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import replace

import z3

from checker.engines.allsizes import prove as prove_all_sizes
from checker.engines.bmc import bmc
from checker.engines.explicit import explore
from checker.engines.induction import induction, kinduction
from checker.engines.mining import mine
from checker.engines.pdr import pdr
from checker.ir import Property, TransitionSystem
from checker.limits import expired
from checker.lower import lower
from checker.options import LEMMA_SOURCES, CheckOptions
from checker.progress import Progress
from checker.replay import validate, validate_steps
from checker.results import Coverage, ModelReport, PropertyResult, Trace, Verdict
from spec import codes
from spec.diagnostics import SpecError
from spec.loader import LoadedModel, load_file
from spec.typecheck import check

CERTIFY_SECONDS = 20.0  # per property, for certificates of explicit proofs


def build(model: LoadedModel, options: CheckOptions) -> TransitionSystem:
    program = check(model, dict(options.defines))
    return lower(program)


def select(ts: TransitionSystem, only: tuple[str, ...]) -> list[Property]:
    if not only:
        return list(ts.properties)
    names = [p.name for p in ts.properties]
    bad = [n for n in only if n not in names]
    if bad:
        raise SpecError([codes.make("SC503", f"--only {n}: the model has no property `{n}`",
                                    None, hint=codes.did_you_mean(n, names) or
                                    ("properties: " + ", ".join(names) if names
                                     else "the model has no properties")) for n in bad])
    return [p for p in ts.properties if p.name in only]


def check_transition_system(ts: TransitionSystem, options: CheckOptions
                            ) -> tuple[list[PropertyResult], int | None]:
    results, states, _, _ = check_with_coverage(ts, options)
    return results, states


def out_of_memory(exc: BaseException) -> bool:
    """Whether an exception means the memory bound was hit (z3 raises its own)."""
    return isinstance(exc, MemoryError) or (
        isinstance(exc, z3.Z3Exception) and "out of memory" in str(exc.value))


def check_with_coverage(ts: TransitionSystem, options: CheckOptions,
                        start: float | None = None, progress: Progress | None = None
                        ) -> tuple[list[PropertyResult], int | None, Coverage | None,
                                   Trace | None]:
    """`progress` (optional) hears which stage runs and the depth it has reached.
    Running out of memory makes every result `unknown` (the explicit search stops
    by itself at ``--max-memory``; this catches what is left, in Python or z3)."""
    try:
        return _check_with_coverage(ts, options, start, progress)
    except (MemoryError, z3.Z3Exception) as exc:
        if not out_of_memory(exc):
            raise
    reason = "out of memory: the model is too large for the engines at this size"
    props = select(ts, options.only)
    return [PropertyResult(p.name, p.kind, p.description, Verdict.UNKNOWN, options.engine,
                           p.expected, reason=reason) for p in props], None, None, None


def _check_with_coverage(ts: TransitionSystem, options: CheckOptions,
                         start: float | None, progress: Progress | None
                         ) -> tuple[list[PropertyResult], int | None, Coverage | None,
                                    Trace | None]:
    props = select(ts, options.only)
    coverage: Coverage | None = None
    witness: Trace | None = None
    if options.witness is not None and options.witness not in {
            x for a in ts.actions for x in (a.id, a.routine)}:
        raise SpecError([codes.make("SC505", f"--witness {options.witness}: no such step or "
                                    "routine", None, hint=codes.did_you_mean(
                                        options.witness, [a.id for a in ts.actions]
                                        + [a.routine for a in ts.actions]))])
    # --timeout counts from `start` (when the model began loading), not from here
    begin = time.monotonic() if start is None else start
    deadline = begin + options.timeout if options.timeout else None
    results: dict[str, PropertyResult] = {}
    states: int | None = None
    if options.engine in ("auto", "explicit"):
        found, stats = explore(ts, props, max_states=options.max_states, deadline=deadline,
                               keep_states=options.certify, witness=options.witness,
                               progress=progress, max_memory=options.max_memory)
        witness = stats.witness
        states = stats.states
        results.update(found)
        if options.certify and stats.exhausted:
            explicit_proofs = [p for p in props if found[p.name].verdict is Verdict.PROVED]
            if progress is not None and explicit_proofs:
                progress("certificates", None, None)
            left = None if deadline is None else max(0.001, deadline - time.monotonic())
            mined, certs = mine(ts, explicit_proofs, stats.reachable, deadline=deadline,
                                timeout_ms=options.solver_timeout_ms(left))
            for name, cert in certs.items():
                mined_for = results[name]
                results[name] = replace(mined_for, certificate=cert, reason=(
                    f"{mined_for.reason}; certificate mined from the reachable states, "
                    "re-checked"))
            # the rest: PDR, helped by the mined invariant, within a short budget each
            for p in explicit_proofs:
                if p.name in certs or mined is None:
                    continue
                budget = CERTIFY_SECONDS if deadline is None else min(
                    CERTIFY_SECONDS, deadline - time.monotonic())
                if budget <= 0:
                    break
                helped = pdr(ts, [p], seed=options.seed, timeout_ms=int(budget * 1000),
                             deadline=deadline, background=mined)[p.name]
                prior = results[p.name]
                if helped.verdict is Verdict.PROVED and helped.certificate is not None:
                    results[p.name] = replace(prior, certificate=helped.certificate, reason=(
                        f"{prior.reason}; certificate by PDR from the mined invariant, "
                        "re-checked"))
                else:  # the explicit proof stands; say why it has no certificate
                    results[p.name] = replace(prior, reason=(
                        f"{prior.reason}; no certificate ({helped.reason})"))
            if expired(deadline):
                for p in explicit_proofs:
                    prior = results[p.name]
                    if prior.certificate is None and "no certificate" not in (prior.reason or ""):
                        results[p.name] = replace(prior, reason=(
                            f"{prior.reason}; no certificate: the time limit was reached"))
        dead = tuple((a.id, a.text, a.span.line_col()[0] if a.span.source.text else None)
                     for a in ts.actions if a.id not in stats.fired)
        coverage = Coverage(len(ts.actions), dead, stats.vacuous, stats.exhausted)
    if options.engine == "bmc" or options.engine == "auto":
        todo = [p for p in props if p.name not in results
                or results[p.name].verdict is Verdict.UNKNOWN]
        if todo:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            timeout_ms = options.solver_timeout_ms(remaining)
            bounded = bmc(ts, todo, depth=options.depth, seed=options.seed,
                          timeout_ms=timeout_ms, deadline=deadline, progress=progress)
            for name, r in bounded.items():
                first = results.get(name)
                if first is not None and first.reason and r.verdict is not Verdict.VIOLATED:
                    r = replace(r, reason=f"{first.reason}; then {r.reason}")
                results[name] = r
    if options.engine in ("induction", "kind"):
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        timeout_ms = options.solver_timeout_ms(remaining)
        if progress is not None:
            progress(options.engine, None, None)
        if options.engine == "induction":
            results.update(induction(ts, props, seed=options.seed, timeout_ms=timeout_ms,
                                     deadline=deadline))
        else:
            results.update(kinduction(ts, props, max_k=max(1, options.depth), seed=options.seed,
                                      timeout_ms=timeout_ms, deadline=deadline))
    if options.engine == "pdr" or (options.engine == "auto" and options.prove):
        todo = [p for p in props if p.name not in results
                or results[p.name].verdict in (Verdict.UNKNOWN, Verdict.BOUNDED)]
        if todo:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            timeout_ms = options.solver_timeout_ms(remaining)
            if progress is not None:
                progress("PDR", None, None)
            proved = pdr(ts, todo, seed=options.seed, timeout_ms=timeout_ms, deadline=deadline,
                         trace_depth=max(options.depth, 60))
            for name, r in proved.items():
                first = results.get(name)
                if (first is not None and r.verdict is Verdict.UNKNOWN
                        and first.verdict is Verdict.BOUNDED):
                    r = replace(first, reason=f"{first.reason}; {r.reason}")
                results[name] = r
    for r in results.values():
        if r.trace is not None:  # every counterexample is replayed before it is shown
            validate(ts, r.trace, ts.property(r.name))
    if witness is not None:  # shown like any trace: replayed step by step first
        validate_steps(ts, witness)
    return [results[p.name] for p in props], states, coverage, witness


def all_sizes(model: LoadedModel, results: list[PropertyResult], options: CheckOptions,
              start: float, progress: Progress | None = None
              ) -> tuple[list[PropertyResult], tuple[tuple[str, str], ...]]:
    """--all-sizes: each property the instance check did not find violated gets a
    parameterised proof attempt (its `all_sizes` field); also the lemmas found."""
    names = [r.name for r in results if r.verdict is not Verdict.VIOLATED]
    if not names:
        return results, ()
    deadline = start + options.timeout if options.timeout else None
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    if progress is not None:
        progress("all sizes", None, None)
    outcome = prove_all_sizes(model, options.defines, names, seed=options.seed,
                              timeout_ms=options.solver_timeout_ms(remaining),
                              deadline=deadline, sources=LEMMA_SOURCES[options.lemmas_from])
    return ([replace(r, all_sizes=outcome.results.get(r.name)) for r in results],
            outcome.lemmas)


def check_file(path: str, options: CheckOptions) -> ModelReport:
    start = time.monotonic()
    model = load_file(path)
    ts = build(model, options)
    results, states, coverage, witness = check_with_coverage(ts, options, start)
    lemmas: tuple[tuple[str, str], ...] = ()
    if options.all_sizes:
        results, lemmas = all_sizes(model, results, options, start)
    replay = shlex.join(["speccheck", path, *options.replay_args()])
    return ModelReport(path, ts.name, ts.params, tuple(results), replay, states,
                       time.monotonic() - start, coverage, options.witness, witness,
                       lemmas=lemmas)
