"""Explicit search and BMC on small hand-written models, and trace replay."""

from __future__ import annotations

import dataclasses

import pytest

from checker.engines.bmc import bmc
from checker.engines.explicit import explore
from checker.ir import TransitionSystem
from checker.options import CheckOptions
from checker.replay import ReplayError, validate
from checker.results import PropertyResult, Verdict
from checker.run import build, check_transition_system
from spec.diagnostics import SpecError
from spec.loader import load_text

COUNTER = """\
model counter
threads(2)
var x: int[0..3] = 0
action inc(t: Thread) {
  await x < 3
  x := x + 1
}
invariant small: x < 2
"""

SAFE = """\
model safe
threads(2)
var x: int[0..3] = 0
var b: bool
lock l: mutex
proc bump(t: Thread) {
  acquire l
  if x < 3 { x := x + 1 }
  release l
}
action flip(t: Thread) { b := not b }
invariant in_range: x >= 0 and x <= 3
"""

R1 = """\
model r1
interpreters(1)
threads(2)
lock l: mutex
object o: object shared guarded_by l
action mk(t: Thread) {
  acquire l
  if not alive(o) { alloc o }
  release l
}
action touch(t: Thread) {
  if alive(o) { write o }
}
"""

R2 = """\
model r2
interpreters(2)
threads(1)
object o: object
proc p(t: Thread) {
  alloc o
  switch to sub1 keep_gil
  free o
  switch back keep_gil
}
"""

RELEASE_NOT_HELD = """\
model release_not_held
threads(2)
lock l: mutex
proc take(t: Thread) {
  acquire l
  release l
}
action drop(t: Thread) { release l }
"""

REACQUIRE = """\
model reacquire
threads(1)
lock l: mutex
proc twice(t: Thread) {
  acquire l
  acquire l
}
"""

RLOCK_OK = """\
model rlock_ok
threads(1)
lock l: rlock
proc twice(t: Thread) {
  acquire l
  acquire l
  release l
  release l
}
"""

DEADLOCK = """\
model lock_order
threads(2)
lock a: mutex
lock b: mutex
proc p1(t: Thread) {
  acquire a
  acquire b
  release b
  release a
}
proc p2(t: Thread) {
  acquire b
  acquire a
  release a
  release b
}
"""

SAME_ORDER = DEADLOCK.replace("""  acquire b
  acquire a
  release a
  release b""", """  acquire a
  acquire b
  release b
  release a""")

DOUBLE_FREE = """\
model double_free
interpreters(1)
threads(1)
object o: object
proc p(t: Thread) {
  alloc o
  free o
  free o
}
"""

TSTATE = """\
model tstate_twice
interpreters(2)
threads(2)
tstate m: detached main
proc p(t: Thread) {
  switch to main via m keep_gil
  switch back keep_gil
}
"""

BOUNDS = """\
model bounds
threads(1)
var x: int[0..2] = 0
action inc(t: Thread) { x := x + 1 }
"""

USER_ASSERT = """\
model user_assert
threads(1)
var x: int[0..3] = 0
action inc(t: Thread) {
  if x < 3 { x := x + 1 }
  assert x != 2 as not_two
}
"""


def ts_of(text: str, **options) -> TransitionSystem:
    return build(load_text("model.spec", text), CheckOptions(**options))


def run_explicit(ts: TransitionSystem) -> dict[str, PropertyResult]:
    found, stats = explore(ts, list(ts.properties))
    return found


def run_bmc(ts: TransitionSystem, depth: int = 12) -> dict[str, PropertyResult]:
    return bmc(ts, list(ts.properties), depth=depth)


def agree_on_violation(text: str, prop: str, length: int, depth: int = 12):
    """Both engines find `prop` violated with a shortest trace of `length`; both replay."""
    ts = ts_of(text)
    ex = run_explicit(ts)[prop]
    bm = run_bmc(ts, depth)[prop]
    assert ex.verdict is Verdict.VIOLATED, ex
    assert bm.verdict is Verdict.VIOLATED, bm
    assert ex.engine == "explicit" and bm.engine == "bmc"
    assert ex.trace is not None and bm.trace is not None
    assert ex.trace.length == bm.trace.length == length
    assert ex.depth == bm.depth == length
    validate(ts, ex.trace, ts.property(prop))
    validate(ts, bm.trace, ts.property(prop))
    return ts, ex, bm


# ---- violations at a known depth ----------------------------------------------------------


def test_invariant_violated_at_depth_two():
    """x < 2 fails after two increments: both engines give a 2-step trace."""
    ts, ex, bm = agree_on_violation(COUNTER, "small", 2)
    idx = ts.var_index()["x"]
    assert [s[idx] for s in ex.trace.states] == [0, 1, 2]
    assert [s[idx] for s in bm.trace.states] == [0, 1, 2]
    assert len(ex.trace.steps) == len(ex.trace.states) - 1  # invariant: no failing step
    assert ex.message == "invariant `small` is false"


def test_safe_model_is_proved_explicitly_but_only_bounded_by_bmc():
    """A safe model is PROVED with its exact state count; BMC never claims a proof."""
    ts = ts_of(SAFE)
    ex = run_explicit(ts)
    for name in ("in_range", "lock_sanity", "deadlock", "bounds"):
        assert ex[name].verdict is Verdict.PROVED, ex[name]
    _, stats = explore(ts, list(ts.properties))
    assert stats.complete
    assert all(r.states == stats.states for r in ex.values())
    assert stats.states == 2 * _reachable_x_and_pcs()
    bm = run_bmc(ts, depth=6)
    for r in bm.values():
        assert r.verdict is Verdict.BOUNDED, r
        assert r.verdict is not Verdict.PROVED
        assert r.depth == 6


def _reachable_x_and_pcs() -> int:
    """Hand count of (x, pc[t1], pc[t2]) for SAFE (b doubles it; the holder follows the pcs).

    bump's steps: 1 acquire, 2 the `if`, 3 the assignment, 4 release. A thread at 2..4
    holds l, so at most one is there; a thread at 3 passed `x < 3`, so x is 0..2 then;
    a thread at 4 either just incremented or saw x == 3, so x is 1..3 then.
    """
    outside = ["idle", "bump.1"]
    inside = ["bump.2", "bump.3", "bump.4"]
    pcs = outside + inside
    total = 0
    for a in pcs:
        for b in pcs:
            if a in inside and b in inside:
                continue
            total += 3 if {"bump.3", "bump.4"} & {a, b} else 4
    return total


def test_safe_model_state_count_grows_with_parameters():
    """More threads means strictly more reachable states, each run complete."""
    two_ts = ts_of(SAFE)
    two = explore(two_ts, list(two_ts.properties))[1]
    three_ts = ts_of(SAFE.replace("threads(2)", "threads(3)"))
    three = explore(three_ts, list(three_ts.properties))[1]
    assert three.states > two.states
    assert two.complete and three.complete


def test_r1_shared_object_touched_without_lock():
    """Writing a shared object without its guard violates R1 in two steps."""
    _, ex, bm = agree_on_violation(R1, "R1", 2)
    assert "without holding `l`" in ex.message and "without holding `l`" in bm.message
    assert ex.trace.steps[-1].failure == ex.message


def test_r2_object_freed_from_another_interpreter():
    """Freeing an object from an interpreter other than its allocator's violates R2."""
    _, ex, bm = agree_on_violation(R2, "R2", 4)
    assert "allocator's interpreter is not current" in ex.message
    assert ex.trace.steps[-1].interp == "sub1"
    assert bm.trace.steps[-1].interp == "sub1"


def test_raw_object_is_exempt_from_r2():
    """An object from the raw allocator may be freed from any interpreter."""
    ex = run_explicit(ts_of(R2.replace("object o: object", "object o: object raw")))
    assert "R2" not in ex or ex["R2"].verdict is Verdict.PROVED
    assert ex["memory"].verdict is Verdict.PROVED
    assert all(r.verdict is not Verdict.VIOLATED for r in ex.values())


def test_lock_sanity_release_by_non_holder():
    """Releasing a lock the thread does not hold violates lock_sanity at once."""
    _, ex, bm = agree_on_violation(RELEASE_NOT_HELD, "lock_sanity", 1)
    assert "does not hold it" in ex.message and "does not hold it" in bm.message


def test_lock_sanity_mutex_reacquired():
    """A thread acquiring a mutex it holds violates lock_sanity."""
    _, ex, bm = agree_on_violation(REACQUIRE, "lock_sanity", 3)
    assert "re-acquired" in ex.message and "re-acquired" in bm.message


def test_rlock_may_be_reacquired():
    """The same pattern on a recursive lock is fine."""
    ts = ts_of(RLOCK_OK)
    ex = run_explicit(ts)
    assert ex["lock_sanity"].verdict is Verdict.PROVED
    assert ex["deadlock"].verdict is Verdict.PROVED


def test_deadlock_lock_order_inversion():
    """Two threads taking two locks in opposite orders deadlock after four steps."""
    ts, ex, bm = agree_on_violation(DEADLOCK, "deadlock", 4)
    for r in (ex, bm):
        assert "waits for" in r.message
        final_holders = r.trace.states[-1][ts.var_index()["$holder"]]
        assert sorted(final_holders) == ["t1", "t2"]  # each thread holds one of a, b


FAMILY_DEADLOCK = """\
model family_deadlock
threads(2)
sort Key(2)
lock lf[Key]: mutex
proc hold(t: Thread, k: Key) {
  acquire lf[k]
  acquire lf[k]
}
action take(t: Thread, k: Key) {
  acquire lf[k]
  release lf[k]
}
"""


def test_deadlock_on_a_lock_family_names_the_locks():
    """A wait on `lf[k]` needs the action's parameter k to be described (found by the
    differential campaign: describing the deadlock was an internal error)."""
    ts, ex, bm = agree_on_violation(FAMILY_DEADLOCK, "deadlock", 2)
    for r in (ex, bm):  # t1 holds lf[key1] and asks for it again; take(t2, key1) waits
        assert r.message == ("t2 waits for lf[key1] held by t1; "
                             "t1 waits for lf[key1] held by t1"), r.message


def test_same_lock_order_has_no_deadlock():
    """Taking the locks in one global order is deadlock free."""
    ex = run_explicit(ts_of(SAME_ORDER))
    assert ex["deadlock"].verdict is Verdict.PROVED
    assert ex["lock_sanity"].verdict is Verdict.PROVED


def test_memory_double_free():
    """Freeing an object twice violates memory."""
    _, ex, bm = agree_on_violation(DOUBLE_FREE, "memory", 4)
    assert "double free" in ex.message and "double free" in bm.message


def test_tstate_detached_bound_twice():
    """Two threads binding one detached thread state at once violates tstate."""
    _, ex, bm = agree_on_violation(TSTATE, "tstate", 4)
    assert "bound by a second thread" in ex.message


def test_bounds_int_assigned_outside_range():
    """Incrementing past the declared range violates bounds on the third step."""
    ts, ex, bm = agree_on_violation(BOUNDS, "bounds", 3)
    assert "leaves int[0..2]" in ex.message
    x = ts.var_index()["x"]
    assert ex.trace.states[-1][x] == 2


def test_user_assert_as_name():
    """`assert ... as NAME` is a property called NAME, violated when x reaches 2."""
    ts, ex, bm = agree_on_violation(USER_ASSERT, "not_two", 2)
    assert ts.property("not_two").kind == "assert"
    assert ex.message.startswith("assertion")
    assert run_explicit(ts)["bounds"].verdict is Verdict.PROVED


def test_bmc_reports_bounded_below_violation_depth():
    """BMC with a bound below the shortest violation reports BOUNDED, not a proof."""
    ts = ts_of(BOUNDS)
    r = run_bmc(ts, depth=1)["bounds"]
    assert r.verdict is Verdict.BOUNDED and r.depth == 1 and r.trace is None


def test_explicit_state_limit_gives_unknown():
    """An explicit search cut off by max_states reports UNKNOWN, never PROVED."""
    ts = ts_of(SAFE)
    found, stats = explore(ts, list(ts.properties), max_states=5)
    assert not stats.complete
    assert all(r.verdict is Verdict.UNKNOWN for r in found.values())


def test_auto_engine_falls_back_to_bmc_when_explicit_is_cut_off():
    """With a tiny state limit and no proof engine, --engine auto ends with BMC
    (bounded, not proved)."""
    ts = ts_of(SAFE)
    results, _ = check_transition_system(ts, CheckOptions(max_states=5, depth=4, prove=False))
    assert {r.engine for r in results} == {"bmc"}
    assert all(r.verdict is Verdict.BOUNDED for r in results)


def test_auto_engine_proves_with_pdr_when_explicit_is_cut_off():
    """With a tiny state limit, --engine auto proves the safe model with PDR, and every
    proof carries a re-checked certificate."""
    ts = ts_of(SAFE)
    results, _ = check_transition_system(ts, CheckOptions(max_states=5, depth=4))
    assert {r.engine for r in results} == {"pdr"}
    assert all(r.verdict is Verdict.PROVED and r.certificate is not None for r in results)


def test_engines_are_deterministic():
    """Running each engine twice gives identical results."""
    ts = ts_of(DEADLOCK)
    assert run_explicit(ts) == run_explicit(ts)
    assert run_bmc(ts, 6) == run_bmc(ts, 6)


# ---- replay rejects tampered traces ------------------------------------------------------


@pytest.fixture
def counter_trace():
    ts = ts_of(COUNTER)
    r = run_explicit(ts)["small"]
    validate(ts, r.trace, ts.property("small"))
    return ts, r.trace


def test_replay_rejects_swapped_states(counter_trace):
    """Swapping two states of a valid trace is rejected."""
    ts, trace = counter_trace
    s = list(trace.states)
    s[1], s[2] = s[2], s[1]
    with pytest.raises(ReplayError):
        validate(ts, dataclasses.replace(trace, states=tuple(s)), ts.property("small"))


def test_replay_rejects_a_changed_value(counter_trace):
    """Changing one variable in one state is rejected."""
    ts, trace = counter_trace
    x = ts.var_index()["x"]
    s = [list(st) for st in trace.states]
    s[1][x] = 0
    bad = dataclasses.replace(trace, states=tuple(tuple(st) for st in s))
    with pytest.raises(ReplayError):
        validate(ts, bad, ts.property("small"))


def test_replay_rejects_a_bad_initial_state(counter_trace):
    """A trace whose first state is not initial is rejected."""
    ts, trace = counter_trace
    x = ts.var_index()["x"]
    states = [tuple(3 if i == x else v for i, v in enumerate(trace.states[0])),
              *trace.states[1:]]
    with pytest.raises(ReplayError):
        validate(ts, dataclasses.replace(trace, states=tuple(states)), ts.property("small"))


def test_replay_rejects_a_truncated_trace(counter_trace):
    """Dropping the last state (where the invariant fails) is rejected."""
    ts, trace = counter_trace
    bad = dataclasses.replace(trace, states=trace.states[:-1], steps=trace.steps[:-1])
    with pytest.raises(ReplayError):
        validate(ts, bad, ts.property("small"))


def test_replay_rejects_an_unknown_action(counter_trace):
    """A step naming an action the system does not have is a ReplayError."""
    ts, trace = counter_trace
    step = dataclasses.replace(trace.steps[0], action="no_such_action")
    bad = dataclasses.replace(trace, steps=(step, *trace.steps[1:]))
    with pytest.raises(ReplayError):
        validate(ts, bad, ts.property("small"))


def test_replay_rejects_a_step_by_the_wrong_thread():
    """Attributing a step to a thread that is not at that program point is rejected."""
    ts = ts_of(DEADLOCK)
    r = run_explicit(ts)["deadlock"]
    step = r.trace.steps[1]
    other = "t2" if dict(step.params)["t"] == "t1" else "t1"
    moved = dataclasses.replace(step, params=(("t", other),), actor=other)
    bad = dataclasses.replace(r.trace, steps=(*r.trace.steps[:1], moved, *r.trace.steps[2:]))
    with pytest.raises(ReplayError):
        validate(ts, bad, ts.property("deadlock"))


def test_replay_rejects_trace_for_another_property():
    """A valid trace of one property does not validate another that holds."""
    ts = ts_of(BOUNDS + "invariant never: x <= 2\n")
    r = run_explicit(ts)["bounds"]
    with pytest.raises(ReplayError):
        validate(ts, r.trace, ts.property("never"))


def test_replay_rejects_a_failing_step_that_does_not_fail():
    """A check trace whose last step does not fail the check is rejected."""
    ts = ts_of(BOUNDS)
    r = run_explicit(ts)["bounds"]
    # cut the trace one step earlier: x is 1 there and x := x + 1 stays in range
    bad = dataclasses.replace(r.trace, states=r.trace.states[:-1],
                              steps=r.trace.steps[:-2] + r.trace.steps[-1:])
    with pytest.raises(ReplayError):
        validate(ts, bad, ts.property("bounds"))


def test_models_sharing_sort_names_checked_in_one_process():
    """Checking a model with 1 lock and then one with 2 locks gives the second's own result."""
    first = run_explicit(ts_of(REACQUIRE))          # Lock sort = (l,)
    assert first["lock_sanity"].verdict is Verdict.VIOLATED
    second = run_explicit(ts_of(DEADLOCK))          # Lock sort = (a, b)
    assert second["deadlock"].verdict is Verdict.VIOLATED
    assert second["deadlock"].trace.length == 4
    assert second["lock_sanity"].verdict is Verdict.PROVED


SWITCH_IN_ACTION = """\
model switch_in_action
interpreters(2)
threads(1)
object o: object
action go(t: Thread) {
  switch to sub1 keep_gil
  if alive(o) { free o }
  switch back keep_gil
}
action mk(t: Thread) {
  if not alive(o) { alloc o }
}
"""


def test_switch_inside_an_atomic_action():
    """`switch` in an action is either refused with a diagnostic or checked; never a crash."""
    try:
        ts = ts_of(SWITCH_IN_ACTION)
    except SpecError as exc:
        assert {d.code for d in exc.diagnostics} == {"SC301"}
        assert [d.span.line_col()[0] for d in exc.diagnostics] == [6, 8]
        return
    ex = run_explicit(ts)
    # t1 may start in main, allocate there, then free from sub1 inside `go`
    assert ex["R2"].verdict is Verdict.VIOLATED
    assert ex["R2"].trace.length == 2


OPTION_INT = """\
model option_int
threads(1)
var y: int[0..2]? = none
var n: int[0..3] = 0
action inc(t: Thread) {
  await n < 3
  n := n + 1
  y := n
}
invariant small: y != 3
"""


def test_engines_agree_on_an_out_of_range_option_int():
    """Storing 3 in an `int[0..2]?` variable: both engines give the same verdicts."""
    ts = ts_of(OPTION_INT)
    ex = run_explicit(ts)
    bm = run_bmc(ts, depth=6)
    ex_violated = {n for n, r in ex.items() if r.verdict is Verdict.VIOLATED}
    bm_violated = {n for n, r in bm.items() if r.verdict is Verdict.VIOLATED}
    assert ex_violated == bm_violated
    y = ts.var_index()["y"]
    for r in ex.values():  # no reachable state may hold a value outside the declared type
        if r.trace is not None:
            assert all(s[y] in (None, 0, 1, 2) for s in r.trace.states)


def test_assertion_named_like_a_builtin_property():
    """`assert ... as lock_sanity` is refused or merged: property names stay unique."""
    text = ("model dup\nthreads(1)\nlock l: mutex\nvar b: bool\n"
            "action a(t: Thread) {\n  assert b as lock_sanity\n  release l\n}\n")
    try:
        ts = ts_of(text)
    except SpecError as exc:
        assert exc.diagnostics[0].code in ("SC102", "SC106")
        return
    names = [p.name for p in ts.properties]
    assert len(names) == len(set(names)), names


CAPTURE = """\
model capture
sort Key(2)
var seen: Key -> bool
init {{ seen[key1] := true }}
def some_key(x: bool): bool = {body}
action check(k: Key) {{ await k == key2  assert some_key(seen[k]) as p }}
"""


@pytest.mark.parametrize("body", ["exists k: Key. x", "forall k: bool. x or k",
                                  "exists k: Key. exists k2: Key. x and k != k2"])
@pytest.mark.parametrize("engine", ["explicit", "bmc", "induction", "pdr"])
def test_inlining_a_definition_does_not_capture_the_callers_names(body, engine):
    """`some_key(seen[k])` must read the action's k (key2, where seen is false),
    not the definition's bound k: every engine finds the violation."""
    ts = build(load_text("capture.spec", CAPTURE.format(body=body)), CheckOptions())
    result = check_transition_system(ts, CheckOptions(engine=engine))[0][0]
    assert result.verdict is Verdict.VIOLATED, (body, engine, result.reason)
