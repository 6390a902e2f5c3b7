"""Inductive proofs (lemmas, counterexamples to induction, k-induction), sweeps,
and coverage/vacuity reports."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings

from checker.engines.explicit import explore
from checker.engines.induction import induction, kinduction
from checker.options import CheckOptions
from checker.replay import ReplayError, validate, validate_cti
from checker.results import Verdict
from checker.run import build
from spec.loader import load_text
from tests.test_properties import engine_models

COUNTER = """model c
var x: int[0..5] = 0
var y: int[0..5] = 0
action step() { if x < 2 { x := x + 1  y := y + 1 } }
invariant small: y <= 2
"""

UNSAFE = """model u
var x: int[0..5] = 0
action step() { if x < 4 { x := x + 1 } }
invariant small: x <= 2
"""


def ts_of(text: str):  # type: ignore[no-untyped-def]
    return build(load_text("t.spec", text), CheckOptions())


def test_weak_model_gives_a_counterexample_to_induction_not_a_violation() -> None:
    """Without a lemma, `small` is true but not inductive: the report is unknown with a
    replayable CTI, never `violated`."""
    ts = ts_of(COUNTER)
    res = induction(ts, list(ts.properties))["small"]
    assert res.verdict is Verdict.UNKNOWN
    assert res.trace is None and res.cti is not None
    assert len(res.cti.states) == 2 and len(res.cti.steps) == 1
    pre = dict(zip(res.cti.var_names, res.cti.states[0], strict=True))
    assert pre["y"] <= 2 and pre["x"] != pre["y"]  # a state the lemma below rules out
    validate_cti(ts, res.cti, [ts.property("small")], ts.property("small"))
    explicit, _ = explore(ts, list(ts.properties))
    assert explicit["small"].verdict is Verdict.PROVED  # the property does hold


def test_tampered_cti_is_rejected() -> None:
    """validate_cti rejects a CTI whose post-state was changed."""
    ts = ts_of(COUNTER)
    cti = induction(ts, list(ts.properties))["small"].cti
    assert cti is not None
    index = cti.var_names.index("y")
    post = list(cti.states[1])
    post[index] = 0
    bad = replace(cti, states=(cti.states[0], tuple(post)))
    with pytest.raises(ReplayError):
        validate_cti(ts, bad, [ts.property("small")], ts.property("small"))


def test_a_lemma_makes_the_invariant_inductive() -> None:
    """With the lemma x == y every property is proved by induction and the lemma is named."""
    ts = ts_of(COUNTER + "lemma same: x == y\n")
    results = induction(ts, list(ts.properties))
    assert {r.verdict for r in results.values()} == {Verdict.PROVED}
    assert "lemmas used: same" in (results["small"].reason or "")


def test_induction_reports_initial_violations_with_a_trace() -> None:
    """A property false in an initial state is violated, with a replayed 0-step trace."""
    ts = ts_of("model z\nvar x: bool = true\ninvariant no: not x\n")
    res = induction(ts, list(ts.properties))["no"]
    assert res.verdict is Verdict.VIOLATED and res.trace is not None
    validate(ts, res.trace, ts.property("no"))


def test_k_induction_proves_and_refutes() -> None:
    """k-induction proves the counter model at some k >= 1 and finds the unsafe model's
    shortest violation."""
    ts = ts_of(COUNTER)
    proved = kinduction(ts, list(ts.properties), max_k=6)["small"]
    assert proved.verdict is Verdict.PROVED and proved.depth is not None
    ts2 = ts_of(UNSAFE)
    bad = kinduction(ts2, list(ts2.properties), max_k=6)["small"]
    assert bad.verdict is Verdict.VIOLATED and bad.trace is not None
    assert bad.trace.length == 3


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(engine_models())
def test_inductive_engines_never_contradict_the_explorer(text: str) -> None:
    """On random models, `proved` from induction or k-induction never meets a violation
    found by the explicit explorer, and their violations are real."""
    ts = build(load_text("random.spec", text), CheckOptions())
    props = list(ts.properties)
    found, _ = explore(ts, props, max_states=20_000)
    assume(all(r.verdict is not Verdict.UNKNOWN for r in found.values()))
    for engine in (induction(ts, props, timeout_ms=5000),
                   kinduction(ts, props, max_k=4, timeout_ms=5000)):
        for name, r in engine.items():
            if found[name].verdict is Verdict.VIOLATED:
                assert r.verdict is not Verdict.PROVED, (name, text)
            if r.verdict is Verdict.VIOLATED:
                assert found[name].verdict is Verdict.VIOLATED, (name, text)
                assert r.trace is not None
                validate(ts, r.trace, ts.property(name))


def test_sweep_matrix_for_extcache(run_cli) -> None:  # type: ignore[no-untyped-def]
    """--sweep prints one row per GIL/LOCK/SWAP configuration and all are as expected."""
    res = run_cli(["--sweep", "--no-certificates", "models/extcache.spec"])
    assert res.code == 0, res.out + res.err
    assert "sweep over GIL, LOCK, SWAP (8 configurations)" in res.out
    rows = [line for line in res.out.splitlines() if line.startswith(("  shared", "  own"))]
    assert len(rows) == 8
    assert any("violated (exp)" in row for row in rows)
    assert "every configuration as expected" in res.out


def test_coverage_and_vacuity(write_model, run_cli) -> None:  # type: ignore[no-untyped-def]
    """A step that can never fire and a vacuous implication are reported, and
    --fail-on-vacuity turns them into exit code 1."""
    path = write_model("model v\nvar x: bool = false\nvar y: bool = false\n"
                       "action a() { y := not y }\naction b() { await x  x := false }\n"
                       "invariant never: x -> y\n")
    res = run_cli([str(path)])
    assert res.code == 0
    assert "coverage: 1 of 2 steps never fire" in res.out
    assert "vacuity: `never` holds vacuously" in res.out
    assert run_cli(["--fail-on-vacuity", str(path)]).code == 1


def test_witness_trace_for_a_step(run_cli) -> None:  # type: ignore[no-untyped-def]
    """--witness prints a shortest replayed trace to the named step, and says so when the
    step cannot fire."""
    res = run_cli(["--witness", "import_first.15", "--no-certificates", "-D", "CHECK=false",
                   "-D", "OBMALLOC=legacy", "models/extcache_313.spec"])
    assert "witness: `import_first.15` fires after 14 steps" in res.out
    assert "certificate of" not in res.out  # --no-certificates skips the mining
    res = run_cli(["--witness", "import_first.15", "--no-certificates",
                   "models/extcache_313.spec"])
    assert "witness: `import_first.15` never fires" in res.out


def test_declared_sweep_and_no_sweep(write_model, run_cli) -> None:  # type: ignore[no-untyped-def]
    """A model that declares `sweep A, B` is swept by a plain run; --no-sweep checks one
    configuration."""
    path = write_model("model s\nparam A: bool = false\nparam B: {x, y} = x\nvar v: bool = false\n"
                       "action a() { v := A }\ninvariant i: not v or A\nsweep A, B\n")
    res = run_cli([str(path)])
    assert "sweep over A, B (4 configurations)" in res.out and res.code == 0
    single = run_cli(["--no-sweep", str(path)])
    assert "sweep over" not in single.out and "model s (A=false B=x)" in single.out


def test_obligation_timeout_gives_unknown_not_a_verdict(run_cli) -> None:  # type: ignore[no-untyped-def]
    """With a tiny per-obligation limit BMC answers unknown (exit 4), never bounded/proved."""
    res = run_cli(["--engine", "bmc", "--obligation-timeout", "0.001", "models/extcache_311.spec"])
    assert res.code == 4
    assert " unknown " in res.out and "proved" not in res.out
