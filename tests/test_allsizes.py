"""All-sizes proofs (--all-sizes): the lifted encoding, the fragment check, lemma
discovery, counterexamples to induction on small structures, and the report.

The models here are small so the file runs in seconds; the catalogue models are
proved for all sizes by the benchmark (benchmarks/allsizes.py) and by the slow test
at the end (pytest -m slow).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import z3

from checker.engines.allsizes import SOURCES, prove
from checker.fragment import analyse
from checker.lift import Lifter
from checker.lower import lower
from checker.results import AllSizes, ExitCode
from checker.sizes import Unsupported, plan
from spec.loader import load_file
from spec.typecheck import check

ROOT = Path(__file__).resolve().parent.parent

# one mutex guards a shared object: safe for any number of threads and interpreters
GUARDED = """\
model guarded
include "runtime.spec"
lock l: mutex
object data: object shared guarded_by l
proc work(t: Thread) {
  acquire l
  if not alive(data) { alloc data }
  read data
  release l
}
"""

# true while there are two threads, false from three on
AT_MOST_TWO = """\
model two
include "runtime.spec"
var x: bool
proc enter(t: Thread) {
  x := true
  x := false
}
invariant at_most_two: forall a: Thread. forall b: Thread. forall c: Thread.
  (a != b and b != c and a != c) ->
    not (running(a, enter) and running(b, enter) and running(c, enter))
"""

# two locks taken in opposite orders: a deadlock the instance check finds
INVERSION = """\
model inversion
include "runtime.spec"
lock a: mutex
lock b: mutex
proc one(t: Thread) { acquire a  acquire b  release b  release a }
proc two(t: Thread) { acquire b  acquire a  release a  release b }
"""

# the same two locks, always in one order: deadlock-free for any number of threads
ORDERED = INVERSION.replace("proc two(t: Thread) { acquire b  acquire a  release a  release b }",
                            "proc two(t: Thread) { acquire a  acquire b  release b  release a }")


# a step writes the cell its argument names: its proof needs a lemma about `arg`
KEYED = """\
model keyed
include "runtime.spec"
param KEYS = 2
sort Key(KEYS)
var copy: Key -> bool
var cache: Key -> bool
proc put(t: Thread, k: Key) {
  copy[k] := true
  cache[k] := true
}
invariant cached_has_copy: forall k: Key. cache[k] -> copy[k]
"""


def _all_sizes(write_model: Callable[..., Path], text: str) -> dict[str, object]:
    path = write_model(text, runtime=True)
    model = load_file(path)
    names = [x.name for x in lower(check(model)).properties]
    return dict(prove(model, (), names).results)


def test_guarded_model_is_proved_for_all_sizes(write_model: Callable[..., Path]) -> None:
    results = _all_sizes(write_model, GUARDED)
    for name in ("R1", "memory", "lock_sanity", "deadlock"):
        r = results[name]
        assert r.proved, (name, r.reason)  # type: ignore[attr-defined]
        assert "EPR" in (r.fragment or "")  # type: ignore[attr-defined]


def test_property_of_two_threads_is_not_proved_for_all_sizes(
        write_model: Callable[..., Path], run_cli: Callable[..., object]) -> None:
    path = write_model(AT_MOST_TWO, runtime=True)
    res = run_cli([path, "--all-sizes", "--no-certificates", "--json", "-"])
    doc = json.loads(res.out)  # type: ignore[attr-defined]
    r = next(x for x in doc["models"][0]["results"] if x["name"] == "at_most_two")
    assert r["verdict"] == "proved"                     # the instance has two threads
    assert r["all_sizes"]["verdict"] == "unknown"       # three threads break it
    assert r["all_sizes"]["cti"] is not None
    assert r["all_sizes"]["cti_sizes"]["Thread"] == 3
    assert res.code == ExitCode.INCONCLUSIVE  # type: ignore[attr-defined]
    text = run_cli([path, "--all-sizes", "--no-certificates"])
    out = text.out  # type: ignore[attr-defined]
    assert "counterexample to induction for all sizes: at_most_two" in out
    assert "3 threads" in out
    assert "proved for all sizes" not in out.split("result:")[0].split("at_most_two")[1]


def test_violation_at_three_threads_is_a_violation(write_model: Callable[..., Path],
                                                   run_cli: Callable[..., object]) -> None:
    path = write_model(AT_MOST_TWO, runtime=True)
    res = run_cli([path, "-D", "THREADS=3", "--all-sizes", "--no-certificates", "--json", "-"])
    doc = json.loads(res.out)  # type: ignore[attr-defined]
    r = next(x for x in doc["models"][0]["results"] if x["name"] == "at_most_two")
    assert r["verdict"] == "violated"
    assert "all_sizes" not in r  # a counterexample settles it: nothing to prove


def test_deadlock_through_lock_order(write_model: Callable[..., Path]) -> None:
    ordered = _all_sizes(write_model, ORDERED)["deadlock"]
    assert ordered.proved, ordered.reason  # type: ignore[attr-defined]
    assert "`a`, `b`" in ordered.reason  # type: ignore[attr-defined]
    inverted = _all_sizes(write_model, INVERSION)["deadlock"]
    assert not inverted.proved  # type: ignore[attr-defined]
    assert "lock-order argument fails" in inverted.reason  # type: ignore[attr-defined]


def test_emitted_lemmas_reload_and_prove_by_induction(
        write_model: Callable[..., Path], run_cli: Callable[..., object],
        tmp_path: Path) -> None:
    path = write_model(GUARDED, runtime=True)
    out = tmp_path / "found.spec"
    res = run_cli([path, "--emit-lemmas", out, "--no-certificates"])
    assert res.code == ExitCode.OK, res.out  # type: ignore[attr-defined]
    lemmas = out.read_text(encoding="utf-8")
    assert "lemma found_1:" in lemmas
    with_lemmas = write_model(GUARDED + lemmas, name="with_lemmas.spec", runtime=True)
    again = run_cli([with_lemmas, "--engine", "induction"])
    assert again.code == ExitCode.OK, again.out  # type: ignore[attr-defined]
    assert "found_1" in again.out  # type: ignore[attr-defined]


def test_lemmas_about_procedure_arguments(write_model: Callable[..., Path]) -> None:
    path = write_model(KEYED, runtime=True)
    model = load_file(path)
    outcome = prove(model, (), ["cached_has_copy"])
    r = outcome.results["cached_has_copy"]
    assert r.proved, r.reason
    texts = [text for _, text in outcome.lemmas]
    assert any("arg(t, put, k) == k" in x and "copy[k]" in x for x in texts), texts


def test_arg_names_a_procedure_argument(write_model: Callable[..., Path],
                                        run_cli: Callable[..., object]) -> None:
    bad = KEYED + "invariant wrong: forall t: Thread. at(t, put, 2) -> copy[arg(t, put, key)]\n"
    res = run_cli([write_model(bad, runtime=True)])
    said = res.out + res.err  # type: ignore[attr-defined]
    assert "SC101" in said and "`put` has no argument `key`" in said
    # pairs the argument with the step: true for every thread in its second step
    good = KEYED + "invariant ok: forall t: Thread. at(t, put, 2) -> copy[arg(t, put, k)]\n"
    res = run_cli([write_model(good, name="good.spec", runtime=True), "--no-certificates"])
    assert res.code == ExitCode.OK, res.out  # type: ignore[attr-defined]


def test_size_parameter_used_elsewhere_is_unsupported(write_model: Callable[..., Path]
                                                      ) -> None:
    text = GUARDED + "var n: int[0..8] = THREADS\n"
    results = _all_sizes(write_model, text)
    r = results["R1"]
    assert not r.proved  # type: ignore[attr-defined]
    assert "THREADS" in r.reason and "depend on the size" in r.reason  # type: ignore[attr-defined]


def test_fixed_sizes_have_nothing_to_lift(write_model: Callable[..., Path]) -> None:
    text = GUARDED.replace('include "runtime.spec"', "interpreters(2)\nthreads(2)")
    r = _all_sizes(write_model, text)["R1"]
    assert not r.proved and "no sort is sized by a parameter" in r.reason  # type: ignore[attr-defined]


def test_named_elements_are_distinguished(write_model: Callable[..., Path]) -> None:
    path = write_model(GUARDED + "invariant t1_alive: live(t1)\n", runtime=True)
    p = plan(load_file(path))
    threads = p.sort("Thread")
    assert threads is not None and threads.distinguished == ("t1",)
    assert threads.template[:1] == ("t1",) and len(threads.template) == 4
    interps = p.sort("Interp")
    assert interps is not None and interps.distinguished == ("main",)


def test_lift_rejects_asymmetric_lowering(write_model: Callable[..., Path]) -> None:
    # the initial value names every thread differently: no uniform form for all sizes
    text = GUARDED + "var mark: Thread -> int[0..9]\ninit { mark[t1] := 1 }\n"
    path = write_model(text, runtime=True)
    model = load_file(path)
    p = plan(model)
    program = check(model, dict(p.defines))
    ts = lower(program)
    lifter = Lifter(program, ts, p, z3.Context())  # t1 is named: distinguished, fine
    assert lifter.init(lifter.state("0"))
    with pytest.raises(Unsupported):
        plan(load_file(write_model(GUARDED + "param N = THREADS\n", name="n.spec",
                                   runtime=True)))


def test_fragment_check_finds_alternation_cycles() -> None:
    ctx = z3.Context()
    a, b = z3.DeclareSort("A", ctx), z3.DeclareSort("B", ctx)
    f = z3.Function("f", a, b)
    r = z3.Function("r", b, a, z3.BoolSort(ctx))
    x, y = z3.Const("x", a), z3.Const("y", b)
    # forall x. r(f(x), x): functions A -> B only, no alternation: stratified
    ok = analyse([("one", z3.ForAll([x], r(f(x), x)))])
    assert ok.ok and "A -> B" in ok.name
    # forall y exists x. r(y, x) adds the skolem B -> A: a cycle with f
    bad = analyse([("one", z3.ForAll([x], r(f(x), x))),
                   ("two", z3.ForAll([y], z3.Exists([x], r(y, x))))])
    assert not bad.ok and "cycle" in bad.name and "alternation in two" in bad.name
    # the same existential negated is universal: fine
    neg = analyse([("one", z3.ForAll([x], r(f(x), x))),
                   ("two", z3.Not(z3.Exists([y], z3.Exists([x], r(y, x)))))])
    assert neg.ok
    ints = analyse([("i", z3.ForAll([x], z3.Int("n", ctx) > 0))])
    assert not ints.ok and "Int" in ints.name


def _catalogue_results(model: str, defines: tuple[tuple[str, str], ...],
                       sources: tuple[str, ...] = SOURCES) -> dict[str, AllSizes]:
    loaded = load_file(ROOT / "models" / model)
    p = plan(loaded, defines)
    names = [x.name for x in lower(check(loaded, dict(p.defines))).properties
             if x.kind != "lemma"]
    return dict(prove(loaded, defines, names, sources=sources).results)


@pytest.mark.parametrize("sources", [
    ("certificates",),  # PDR certificates of a small instance, generalised (~40 s)
    pytest.param(("samples",), marks=pytest.mark.slow),  # sampled states (~25 s)
])
def test_catalogue_model_beyond_extcache_is_proved_for_all_sizes(
        sources: tuple[str, ...]) -> None:
    # the 3.11 cache with a shared GIL and main's allocator: the safe configuration of
    # extcache_311, with every lemma found by discovery from either source alone
    results = _catalogue_results("extcache_311.spec", (("GIL", "shared"),
                                                       ("OBMALLOC", "legacy")), sources)
    assert {"R1", "R2", "memory", "deadlock"} <= set(results)
    for name, r in results.items():
        assert r.proved, (name, r.reason)
        assert "EPR" in (r.fragment or "")


@pytest.mark.slow  # minutes each (sampling and one query per step and conjunct)
@pytest.mark.parametrize(("model", "defines"), [
    ("extcache.spec", ()),
    ("extcache.spec", (("GIL", "own"), ("LOCK", "mutex"))),
    ("extcache_313.spec", ()),
    ("extcache_312.spec", ()),
    ("tstate_reuse.spec", (("DESIGN", "fresh"),)),
])
def test_catalogue_designs_are_proved_for_all_sizes(
        model: str, defines: tuple[tuple[str, str], ...]) -> None:
    results = _catalogue_results(model, defines)
    assert all(r.proved for r in results.values()), {n: r.reason for n, r in results.items()}
