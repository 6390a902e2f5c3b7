"""PDR/IC3 through z3's Horn-clause engine (Spacer), with checked certificates.

For each property, three constrained Horn clauses over one predicate Inv of
the (integer-encoded) state:  init(s) -> Inv(s);  Inv(s) /\\ T(s, s') -> Inv(s');
Inv(s) /\\ bad(s) -> false.  If they are satisfiable, Spacer's interpretation of
Inv is an inductive invariant that excludes every bad state: the certificate.
It is re-checked by ``checker.certificate.recheck`` (fresh context, plain SMT)
before the property is reported proved. If the clauses are unsatisfiable a bad
state is reachable; the shortest trace is then found by BMC and replayed.
"""

from __future__ import annotations

import time

import z3

from checker.certificate import CertificateError, parse, recheck, render, subterms
from checker.encode import Encoder
from checker.engines.bmc import bmc
from checker.ir import Property, TransitionSystem
from checker.limits import limit
from checker.results import Certificate, PropertyResult, Verdict

ENGINE = "pdr"


def pdr(ts: TransitionSystem, props: list[Property], *, seed: int = 0,
        timeout_ms: int | None = None, deadline: float | None = None,
        trace_depth: int = 60, background: str | None = None,
        rlimit: int | None = None) -> dict[str, PropertyResult]:
    """`background`: an inductive invariant already known (SMT-LIB over the step-0
    constants) that the search may assume; the certificate then includes it, so
    the re-check does not have to trust it. `rlimit`: z3's resource limit for each
    property's search (unlike a time limit, the same on every machine and load)."""
    results: dict[str, PropertyResult] = {}
    # one encoding for every property; each gets its own Horn-clause solver
    enc = Encoder(ts, z3.Context(), ints=True)
    known = parse(ts, enc, background) if background else z3.BoolVal(True, enc.ctx)
    for p in props:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            results[p.name] = PropertyResult(p.name, p.kind, p.description, Verdict.UNKNOWN,
                                             ENGINE, p.expected, reason="PDR: time limit reached")
            continue
        limit = timeout_ms
        if remaining is not None:
            limit = min(limit or 10**9, max(1, int(remaining * 1000)))
        results[p.name] = _one(ts, enc, known, p, seed, limit, deadline, trace_depth,
                               bool(background), rlimit)
    return results


def _one(ts: TransitionSystem, enc: Encoder, known: z3.ExprRef, p: Property, seed: int,
         timeout_ms: int | None, deadline: float | None, trace_depth: int,
         background: bool, rlimit: int | None = None) -> PropertyResult:
    ctx = enc.ctx
    s0, s1 = enc.flat(0), enc.flat(1)
    inv = z3.Function("Inv", *[x.sort() for x in s0], z3.BoolSort(ctx))
    solver = z3.SolverFor("HORN", ctx=ctx)
    solver.set("random_seed", seed)
    if timeout_ms:
        solver.set("timeout", timeout_ms)
    if rlimit:
        solver.set("rlimit", rlimit)
    solver.add(z3.ForAll(s0, z3.Implies(z3.And(enc.domains(0), enc.init()), inv(*s0))))
    step_vars = [*s0, *s1, enc.selector(0)]
    solver.add(z3.ForAll(step_vars, z3.Implies(
        z3.And(inv(*s0), known, enc.domains(0), enc.transition(0), enc.domains(1)), inv(*s1))))
    solver.add(z3.ForAll(s0, z3.Implies(z3.And(inv(*s0), known, enc.domains(0), enc.bad(p, 0)),
                                        z3.BoolVal(False, ctx))))
    start = time.monotonic()
    trivial = z3.Solver(ctx=ctx)
    limit(trivial, timeout_ms, deadline)
    trivial.add(enc.domains(0), enc.bad(p, 0))
    if trivial.check() == z3.unsat:  # no state at all is bad: `true` is the invariant
        return _proved(ts, p, enc, z3.BoolVal(True, ctx), timeout_ms, 0.0, deadline)
    outcome = solver.check()
    spent = time.monotonic() - start
    if outcome == z3.sat:
        model = solver.model()
        if model[inv] is None:
            # the solver's preprocessing removed Inv, which happens when no state is
            # bad at all; `true` is then the invariant (and the re-check confirms it)
            formula = z3.BoolVal(True, ctx)
        else:
            # the interpretation is a body over Var(i), the i-th argument of Inv
            interp = model[inv]
            body = interp.else_value() if isinstance(interp, z3.FuncInterp) else interp
            formula = z3.substitute_vars(body, *s0)
        if background:
            formula = z3.And(formula, known)
        return _proved(ts, p, enc, formula, timeout_ms, spent, deadline)
    if outcome == z3.unsat:  # a bad state is reachable: find the shortest trace
        found = bmc(ts, [p], depth=trace_depth, seed=seed, deadline=deadline)[p.name]
        if found.verdict is Verdict.VIOLATED:
            return found
        return PropertyResult(
            p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE, p.expected,
            reason=f"PDR: a violation is reachable, but BMC found no trace within "
                   f"{trace_depth} steps (rerun with --engine bmc and a larger --depth)")
    return PropertyResult(p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE, p.expected,
                          reason=f"PDR: {solver.reason_unknown()}")


def _proved(ts: TransitionSystem, p: Property, enc: Encoder, formula: z3.ExprRef,
            timeout_ms: int | None, spent: float, deadline: float | None) -> PropertyResult:
    """Re-check a candidate invariant; `proved` only if every obligation is unsat."""
    if _quantified(formula):  # Spacer may answer with existentials: eliminate them
        goal = z3.Goal(ctx=enc.ctx)
        goal.add(formula)
        reduced = z3.Tactic("qe", ctx=enc.ctx)(goal).as_expr()
        if _quantified(reduced):
            return PropertyResult(p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE,
                                  p.expected, reason="PDR: its invariant has quantifiers that "
                                  "could not be eliminated; no certificate")
        formula = reduced
    smt = formula.sexpr()
    ok, why = recheck(ts, p, smt, timeout_ms, deadline)
    if not ok and why.endswith(": unknown"):  # the re-check ran out of time: no verdict
        return PropertyResult(p.name, p.kind, p.description, Verdict.UNKNOWN, ENGINE,
                              p.expected, reason=f"PDR: certificate found but its re-check "
                              f"was not decided ({why})")
    if not ok:
        raise CertificateError(f"PDR certificate for `{p.name}` failed its re-check ({why})")
    text, size = render(ts, enc, formula)
    return PropertyResult(
        p.name, p.kind, p.description, Verdict.PROVED, ENGINE, p.expected,
        reason=f"inductive invariant with {size} atoms; {why}",
        certificate=Certificate(p.name, smt, text, size))


def _quantified(e: z3.ExprRef) -> bool:
    return any(z3.is_quantifier(x) for x in subterms(e))
