"""Name resolution and type checking: successful programs and every kind of diagnostic."""

from __future__ import annotations

import pytest

from spec import terms as T
from spec.diagnostics import SpecError
from spec.loader import load_text
from spec.program import Program
from spec.sorts import BOOL, EnumT, IntT, MapT, OptionT
from spec.typecheck import check

GOOD = """\
/// A model that uses most declarations.
model m
param INTERPS = 2
param GIL: {shared, own} = own
param KEYS = 2
param FLAG: bool = false
interpreters(INTERPS)
threads(2)
sort Key(KEYS)
enum Phase {ready, busy}
def own_gil(i: Interp): bool = GIL == own
def limit: int[0..5] = KEYS + 1
lock ext: mutex
lock per[Key]: rlock releases_gil
object cache: dict[Key] shared guarded_by ext
tstate mts: detached main
var count: int[0..3] = 0
var seen: Key -> bool
var phase: Phase
var who: Thread?
init { phase := busy  seen[key2] := true }
proc work(t: Thread, k: Key) {
  acquire per[k]
  count := count + 1
  assert count <= limit as under_limit
  release per[k]
}
action reset(t: Thread) { count := 0 }
invariant small: count <= limit
expect holds small
"""


def ok(text: str, overrides: dict[str, str] | None = None) -> Program:
    return check(load_text("m.spec", text), overrides)


def errors(text: str, overrides: dict[str, str] | None = None):
    with pytest.raises(SpecError) as info:
        ok(text, overrides)
    return info.value.diagnostics


def one_error(text: str, overrides: dict[str, str] | None = None):
    diags = errors(text, overrides)
    assert len(diags) == 1, [d.message for d in diags]
    return diags[0]


def loc(d) -> tuple[int, int]:
    return d.span.line_col()


def spanned(d) -> str:
    return d.span.source.text[d.span.start:d.span.end]


# ---- successful checks -----------------------------------------------------------------


def test_good_model_params_and_sorts():
    """Parameters fold to values and sorts get their generated elements."""
    p = ok(GOOD)
    assert p.name == "m"
    assert p.docs == ("A model that uses most declarations.",)
    assert {x.name: x.value for x in p.params} == {"INTERPS": 2, "GIL": "own", "KEYS": 2,
                                                   "FLAG": False}
    sorts = {s.name: s.values for s in p.sorts}
    assert sorts["Interp"] == ("main", "sub1")
    assert sorts["Thread"] == ("t1", "t2")
    assert sorts["Key"] == ("key1", "key2")
    assert sorts["Phase"] == ("ready", "busy")
    assert p.interp is not None and p.interp.values == ("main", "sub1")
    assert p.thread is not None and p.thread.values == ("t1", "t2")


def test_good_model_vars_locks_objects():
    """Variables, lock families, objects and thread states get resolved types and ids."""
    p = ok(GOOD)
    vars_ = {v.name: v.type for v in p.vars}
    assert vars_["count"] == IntT(0, 3)
    assert vars_["seen"] == MapT((EnumT("Key", ()),), BOOL)
    assert vars_["who"] == OptionT(EnumT("Thread", ()))
    locks = {lk.name: lk for lk in p.locks}
    assert locks["ext"].ids == ("ext",) and locks["ext"].kind == "mutex"
    assert locks["per"].ids == ("per[key1]", "per[key2]")
    assert locks["per"].kind == "rlock" and locks["per"].releases_gil
    assert locks["gil"].ids == ("gil(main)", "gil(sub1)")
    assert p.lock_sort.values == ("ext", "per[key1]", "per[key2]", "gil(main)", "gil(sub1)")
    (obj,) = p.objects
    assert obj.name == "cache" and obj.shared and obj.guard_text == "ext"
    assert p.tstates[0].name == "mts" and p.tstates[0].interp == "main"


def test_good_model_routines_invariants_expects():
    """Routines know their running thread; defs are inlined; expectations are kept."""
    p = ok(GOOD)
    routines = {r.name: r for r in p.routines}
    assert routines["work"].kind == "proc" and routines["work"].actor == "t"
    assert routines["reset"].kind == "action"
    assert [n for n, _ in routines["work"].params] == ["t", "k"]
    (inv,) = p.invariants
    assert inv.name == "small"
    # `limit` is inlined and folded to KEYS + 1 = 3
    assert inv.term == T.Op("le", (T.VarRef("count", IntT(0, 3)), T.Lit(3, IntT(3, 3))), BOOL)
    assert [a for a, _ in p.asserts] == ["under_limit"]
    assert [(e.name, e.outcome) for e in p.expects] == [("small", "holds")]


def test_gil_flags_come_from_own_gil_definition():
    """`def own_gil(i: Interp)` decides which GIL each interpreter uses."""
    assert dict(ok(GOOD).gil_of) == {"main": "gil(main)", "sub1": "gil(sub1)"}
    shared = ok(GOOD, {"GIL": "shared"})
    assert dict(shared.gil_of) == {"main": "gil(main)", "sub1": "gil(main)"}


def test_overrides_change_parameters_and_sizes():
    """-D values replace parameter defaults and resize the sorts built from them."""
    p = ok(GOOD, {"KEYS": "3", "INTERPS": "3", "FLAG": "true"})
    assert {x.name: x.value for x in p.params}["KEYS"] == 3
    assert {s.name: s.values for s in p.sorts}["Key"] == ("key1", "key2", "key3")
    assert p.interp is not None and p.interp.values == ("main", "sub1", "sub2")
    assert {x.name: x.value for x in p.params}["FLAG"] is True


def test_override_value_is_stripped():
    """Whitespace around a -D value is ignored."""
    p = ok("model m\nparam N = 1\nsort S(N)\n", {"N": " 2 "})
    assert p.sorts[0].values == ("s1", "s2")


def test_assert_without_name_is_named_after_routine_and_line():
    """An unnamed assertion becomes property `ROUTINE@LINE`."""
    p = ok("model m\nthreads(1)\nvar b: bool\naction a(t: Thread) {\n  assert b\n}\n")
    assert [a for a, _ in p.asserts] == ["a@5"]


def test_expect_when_selects_the_configuration():
    """`expect ... when C` applies only where C holds for the parameters."""
    text = ("model m\nparam MODE: {x, y} = x\nthreads(1)\nvar b: bool\n"
            "invariant i: b\nexpect violated i when MODE == x\nexpect holds i when MODE == y\n")
    assert [(e.name, e.outcome) for e in ok(text).expects] == [("i", "violated")]
    assert [(e.name, e.outcome) for e in ok(text, {"MODE": "y"}).expects] == [("i", "holds")]


def test_check_is_deterministic():
    """Checking the same text twice gives equal programs."""
    assert ok(GOOD) == ok(GOOD)


# ---- diagnostics -----------------------------------------------------------------------


def test_unknown_name_with_did_you_mean():
    """A misspelt variable is SC101 at the name with a did-you-mean hint."""
    d = one_error("model m\nvar count: bool\ninvariant i: coutn\n")
    assert d.code == "SC101"
    assert loc(d) == (3, 14) and spanned(d) == "coutn"
    assert d.hint == "did you mean `count`?"


def test_unknown_name_without_close_match_has_no_guess():
    """A name unlike any declaration is SC101 without a did-you-mean hint."""
    d = one_error("model m\nvar count: bool\ninvariant i: zzzzzz\n")
    assert d.code == "SC101"
    assert d.hint is None or "did you mean" not in d.hint


def test_unknown_function_and_lock_suggest_close_names():
    """Unknown functions and locks also get SC101 with a suggestion."""
    d = one_error("model m\nthreads(1)\nlock ext: mutex\ninvariant i: helds(ext)\n")
    assert d.code == "SC101" and "held" in d.hint
    d = one_error("model m\nthreads(1)\nlock ext_lock: mutex\n"
                  "action a(t: Thread) { acquire ext_lok }\n")
    assert d.code == "SC101" and d.hint == "did you mean `ext_lock`?"


def test_duplicate_declaration_points_at_second_and_notes_first():
    """A name declared twice is SC102 at the second with a note about the first."""
    d = one_error("model m\nvar x: bool\nlock x: mutex\n")
    assert d.code == "SC102"
    assert loc(d) == (3, 1)
    assert any("m.spec:2:1" in note for note in d.notes)


def test_duplicate_enum_value_and_routine_parameter():
    """Repeated enum values and repeated routine parameters are SC102."""
    assert one_error("model m\nenum E {a, a}\n").code == "SC102"
    assert one_error("model m\nthreads(1)\naction a(t: Thread, t: Thread) { }\n").code == "SC102"


def test_two_expectations_for_one_property():
    """Two expectations applying to one property are SC102."""
    d = one_error("model m\nvar b: bool\ninvariant i: b\nexpect holds i\nexpect violated i\n")
    assert d.code == "SC102" and loc(d) == (5, 1)


@pytest.mark.parametrize("text, where", [
    ("model m\nvar x: bool = 1\n", (2, 15)),
    ("model m\nvar x: bool\ninvariant i: x == 1\n", (3, 14)),
    ("model m\nvar x: bool\ninvariant i: if x then 1 else true\n", (3, 14)),
    ("model m\nvar x: int[0..2]\ninvariant i: x\n", (3, 14)),
    ("model m\nvar x: bool\ninvariant i: x + 1 > 0\n", (3, 14)),
    ("model m\nsort S(true)\n", (2, 8)),
])
def test_type_mismatch(text, where):
    """Ill-typed expressions are SC201 at the offending expression."""
    d = one_error(text)
    assert d.code == "SC201"
    assert loc(d) == where


@pytest.mark.parametrize("text", [
    "model m\nthreads(1)\nlock l: mutex\ninvariant i: held(l, l)\n",
    "model m\nvar b: bool\ndef f(a: bool): bool = a\ninvariant i: f(b, b)\n",
    "model m\nvar b: bool\ndef f(a: bool): bool = a\ninvariant i: f()\n",
    "model m\nsort K(2)\nvar m2: K -> bool\ninvariant i: m2[k1, k2]\n",
    "model m\nsort K(2)\nthreads(1)\nlock f[K]: mutex\naction a(t: Thread) { acquire f[k1, k1] }\n",
])
def test_wrong_arity(text):
    """Calls, maps and lock families with the wrong number of arguments are SC202."""
    assert one_error(text).code == "SC202"


def test_builtin_arity_hint_describes_the_builtin():
    """A built-in called with the wrong arity gets its description as the hint."""
    d = one_error("model m\nthreads(1)\nlock l: mutex\ninvariant i: held(l, l)\n")
    assert d.hint is not None and d.hint.startswith("held(L)")


@pytest.mark.parametrize("text, what", [
    ("model m\nthreads(0)\n", "threads"),
    ("model m\nthreads(9)\n", "threads"),
    ("model m\ninterpreters(0)\n", "interpreters"),
    ("model m\ninterpreters(9)\n", "interpreters"),
    ("model m\nsort S(0)\n", "`S`"),
    ("model m\nsort S(33)\n", "`S`"),
    ("model m\nvar x: int[3..1]\n", "int[3..1]"),
    ("model m\nvar x: int[0..2000]\n", "int[0..2000]"),
])
def test_sizes_out_of_range(text, what):
    """Sizes outside their limits and empty or huge int ranges are SC401."""
    d = one_error(text)
    assert d.code == "SC401"
    assert what in d.message
    assert d.span is not None and d.span.line_col()[0] == 2


def test_sizes_at_the_limits_are_accepted():
    """The largest allowed sizes check without error."""
    p = ok("model m\nthreads(8)\ninterpreters(8)\nsort S(32)\nvar x: int[0..1024]\n")
    assert len(p.thread.values) == 8 and len(p.interp.values) == 8
    assert len(p.sorts[-1].values) == 32


def test_override_out_of_range_size_is_sc401_at_the_use():
    """-D giving a size out of range is SC401 where the parameter is used as a size."""
    d = one_error("model m\nparam N = 2\nthreads(N)\n", {"N": "9"})
    assert d.code == "SC401" and loc(d) == (3, 9)


def test_unknown_override_parameter():
    """-D naming no parameter is SC501 (no location) with a did-you-mean hint."""
    d = one_error("model m\nparam KEYS = 2\n", {"KEY": "1"})
    assert d.code == "SC501"
    assert d.span is None
    assert "KEY" in d.message
    assert d.hint == "did you mean `KEYS`?"


def test_unknown_override_when_model_has_no_parameters():
    """-D on a model without parameters says it declares none."""
    d = one_error("model m\n", {"N": "1"})
    assert d.code == "SC501" and "none" in d.hint


@pytest.mark.parametrize("decl, value, expected", [
    ("param N = 2", "two", "integer"),
    ("param N = 2", "true", "integer"),
    ("param B = true", "maybe", "true or false"),
    ("param B = true", "1", "true or false"),
    ("param E: {shared, own} = own", "mine", "shared, own"),
])
def test_bad_override_values(decl, value, expected):
    """-D values of the wrong kind are SC502 saying what was expected."""
    name = decl.split()[1].rstrip(":")
    d = one_error(f"model m\n{decl}\n", {name: value})
    assert d.code == "SC502"
    assert d.span is None
    assert expected in d.message and value in d.message


def test_bad_enum_override_suggests_a_value():
    """A misspelt enum value on -D gets a did-you-mean hint."""
    d = one_error("model m\nparam GIL: {shared, own} = own\n", {"GIL": "shard"})
    assert d.code == "SC502" and d.hint == "did you mean `shared`?"


def test_several_errors_are_reported_together():
    """Errors in independent declarations and statements come in one SpecError."""
    diags = errors("model m\n"
                   "var a: bool = 1\n"
                   "var b: Nope\n"
                   "var c: bool\n"
                   "invariant i: missing\n"
                   "invariant j: c == 1\n")
    assert [d.code for d in diags] == ["SC201", "SC104", "SC101", "SC201"]
    assert len(diags) >= 2


def test_command_line_and_model_errors_come_together():
    """Bad -D values do not hide the model's own errors (and vice versa)."""
    diags = errors("model m\nparam N = 1\ninvariant i: nope\n", {"X": "1", "N": "x"})
    assert sorted(d.code for d in diags) == ["SC101", "SC501", "SC502"]


def test_errors_are_sorted_by_position():
    """Diagnostics are ordered by file position, whatever pass found them."""
    diags = errors("model m\n"
                   "invariant i: nope\n"     # found in the second pass
                   "var x: bool = 1\n"       # found in the first pass
                   "var x: bool\n"
                   "invariant k: zilch\n", {"Q": "1"})
    assert [d.code for d in diags] == ["SC501", "SC101", "SC201", "SC102", "SC101"]
    positions = [d.span.start for d in diags if d.span is not None]
    assert positions == sorted(positions)
    assert diags[0].span is None  # command-line errors have no location and come first


def test_failed_declaration_does_not_cascade():
    """Uses of a declaration that already failed add no further errors."""
    diags = errors("model m\nvar x: Nope\ninvariant i: x\ninvariant j: x == x\n")
    assert [d.code for d in diags] == ["SC104"]


def test_missing_model_declaration_stops_early():
    """A file without `model NAME` is SC103 and nothing else is reported."""
    d = one_error("var x: bool\ninvariant i: nope\n")
    assert d.code == "SC103"


def test_model_not_first_and_twice():
    """`model` must come first and only once (SC103)."""
    assert [d.code for d in errors("var x: bool\nmodel m\n")] == ["SC103"]
    assert [d.code for d in errors("model m\nmodel n\n")] == ["SC103"]


def test_include_in_text_is_rejected():
    """load_text refuses `include` (it has no directory to read from)."""
    with pytest.raises(SpecError) as info:
        load_text("m.spec", 'model m\ninclude "runtime.spec"\n')
    assert info.value.diagnostics[0].code == "SC001"


@pytest.mark.parametrize("bounds", ["a..3", "0..none", "false..true", "0..main"])
def test_integer_range_bounds_must_be_integers(bounds):
    """`int[lo..hi]` with a non-integer bound is a type error (SC201), not a crash."""
    d = one_error(f"model m\ninterpreters(1)\nenum E {{a}}\nvar x: int[{bounds}]\n")
    assert d.code == "SC201"
    assert loc(d)[0] == 4


def test_definitions_may_use_later_declarations():
    """A `def` may mention a variable declared after it."""
    p = ok("model m\ndef f: bool = x\nvar x: bool\ninvariant i: f\n")
    assert p.invariants[0].term == T.VarRef("x", BOOL)


@pytest.mark.parametrize("text", ["model m\ndef f: bool = f\ninvariant i: f\n",
                                  "model m\ndef f: bool = g\ndef g: bool = not f\n"
                                  "invariant i: f\n"])
def test_recursive_definitions(text):
    """Definitions that refer to themselves, directly or not, are SC108."""
    d = one_error(text)
    assert d.code == "SC108" and "f" in d.message


def test_integers_beyond_the_encoder_width():
    """Literals too large for the solver encoding are SC206."""
    assert one_error("model m\nvar x: int[0..3] = 999999999\n").code == "SC206"
