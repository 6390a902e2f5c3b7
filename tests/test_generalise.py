"""Candidate lemmas from PDR certificates (checker/engines/generalise.py): clauses
over one small instance's cells read as statements about any interchangeable
elements, in the modeling language."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import z3
from test_allsizes import GUARDED  # one mutex guards a shared object

from checker.encode import NONE_CODE
from checker.engines.allsizes import instance, prove, with_lemmas
from checker.engines.generalise import Generaliser, certificates
from checker.engines.lemmas import Candidate, taken_names
from checker.ir import TransitionSystem
from checker.lower import lower
from checker.results import ExitCode
from checker.sizes import instance_defines, plan
from spec.loader import load_file
from spec.program import CUR, HOLDER, PC, obj_var
from spec.sorts import EnumT, MapT, map_keys
from spec.typecheck import check


def _setup(write_model: Callable[..., Path]) -> tuple[Generaliser, TransitionSystem, Any]:
    model = load_file(write_model(GUARDED, runtime=True))
    p = plan(model, ())
    program = check(model, dict(instance_defines(p, {"Interp": 2, "Thread": 2})))
    ts = lower(program)
    return Generaliser(ts, program, p, taken_names(program)), ts, model


def _cell(g: Generaliser, var: str, *key: str) -> Any:
    z = g.enc.state(0)[var]
    t = g.ts.vars[g.ts.var_index()[var]].type
    if not isinstance(t, MapT):
        return z
    return dict(zip(map_keys(t), z.values(), strict=True))[key]


def _code(ts: TransitionSystem, sort: str, value: str) -> int:
    return ts.sort(EnumT(sort, ())).values.index(value)


def _smt(e: Any) -> str:
    return str(e.sexpr())


def test_a_clause_about_one_thread_is_read_for_every_thread(
        write_model: Callable[..., Path]) -> None:
    g, ts, _ = _setup(write_model)
    clause = z3.Or(z3.Not(_cell(g, PC, "t2") == _code(ts, "PC", "work.2")),
                   _cell(g, HOLDER, "l") == _code(ts, "Thread", "t2"))
    assert g.candidates(_smt(clause)) == [
        "forall t: Thread. at(t, work, 2) -> holder(l) == t",
        # the other reading of {t2} in a two-thread instance: "none of the others"
        "forall t: Thread. forall t_2: Thread. t != t_2 -> (at(t, work, 2) -> "
        "(holder(l) != none and holder(l) != t_2))",
    ]


def test_a_set_of_elements_has_two_readings_the_named_one_first(
        write_model: Callable[..., Path]) -> None:
    # holder(l) in {none, t1}: in a two-thread instance, the same as holder(l) != t2
    g, ts, _ = _setup(write_model)
    holder = _cell(g, HOLDER, "l")
    clause = z3.Or(z3.Not(_cell(g, PC, "t2") == _code(ts, "PC", "work.2")),
                   z3.Not(z3.Or(holder == NONE_CODE, holder == _code(ts, "Thread", "t1"))))
    assert g.candidates(_smt(clause)) == [
        "forall t: Thread. at(t, work, 2) -> holder(l) == t",
        "forall t: Thread. forall t_2: Thread. t != t_2 -> not (at(t, work, 2) and "
        "(holder(l) == none or holder(l) == t_2))",
    ]


def test_every_interchangeable_element_allowed_reads_as_any(
        write_model: Callable[..., Path]) -> None:
    g, ts, _ = _setup(write_model)
    holder = _cell(g, HOLDER, "l")
    both = z3.Or(holder == _code(ts, "Thread", "t1"), holder == _code(ts, "Thread", "t2"))
    clause = z3.Or(z3.Not(_cell(g, PC, "t1") == _code(ts, "PC", "work.3")), both)
    assert g.candidates(_smt(clause)) == [
        "forall t: Thread. at(t, work, 3) -> holder(l) != none",
        "forall t: Thread. forall t_2: Thread. t != t_2 -> (at(t, work, 3) -> "
        "(holder(l) == t or holder(l) == t_2))"]


def test_arithmetic_on_value_codes_is_read_by_its_truth_table(
        write_model: Callable[..., Path]) -> None:
    # Spacer compares codes; equal codes of two Interp? cells mean equal values
    g, _, _ = _setup(write_model)
    owner, cur = _cell(g, obj_var("data"), ), _cell(g, CUR, "t1")
    assert g.candidates(_smt(owner - cur == 0)) == ["forall t: Thread. cur(t) == owner(data)"]
    # not (owner's code below cur's): with one interchangeable interpreter, both
    # "a sub-interpreter" and "that same one" are proposed
    texts = g.candidates(_smt(z3.Not(owner - cur <= -1)))
    assert texts == [
        "forall t: Thread. (cur(t) == main -> owner(data) != none) and "
        "((cur(t) != none and cur(t) != main) -> (owner(data) != none and "
        "owner(data) != main))",
        "forall t: Thread. forall i: Interp. i != main -> ((cur(t) == main -> "
        "(owner(data) == main or owner(data) == i)) and (cur(t) == i -> owner(data) == i))",
    ], texts


def test_what_the_language_cannot_say_is_skipped(write_model: Callable[..., Path]) -> None:
    g, _, _ = _setup(write_model)
    sum_ = _cell(g, CUR, "t1") + _cell(g, CUR, "t2") <= _cell(g, obj_var("data"))
    assert g.candidates(_smt(sum_)) == []  # three cells in one atom
    assert g.candidates(_smt(_cell(g, PC, "t1") == _cell(g, PC, "t2"))) == [
        "forall t: Thread. forall t_2: Thread. t != t_2 -> ((idle(t) -> idle(t_2)) and "
        "(at(t, work, 1) -> at(t_2, work, 1)) and (at(t, work, 2) -> at(t_2, work, 2)) and "
        "(at(t, work, 3) -> at(t_2, work, 3)) and (at(t, work, 4) -> at(t_2, work, 4)) and "
        "(at(t, work, 5) -> at(t_2, work, 5)))"]  # two steps, by their truth table
    assert g.candidates("(this is not smt") == []


def test_generalised_certificates_type_check_and_prove(
        write_model: Callable[..., Path]) -> None:
    g, ts, model = _setup(write_model)
    smts = certificates(ts, list(ts.properties), None)
    assert len(smts) == len(ts.properties)  # PDR proves each in the small instance
    texts = [x for smt in smts for x in g.candidates(smt)]
    assert texts
    cands = [Candidate(f"c{i}", x) for i, x in enumerate(texts)]
    instance(with_lemmas(model, cands), ())  # every candidate is a well-typed lemma
    names = [p.name for p in lower(check(model)).properties]
    alone = prove(model, (), names, sources=())
    assert not alone.results["R1"].proved  # R1 needs a lemma: the holder of `l`
    found = prove(model, (), names, sources=("certificates",))
    for n in names:
        assert found.results[n].proved, (n, found.results[n].reason)
    assert any("holder(l) == t" in text for _, text in found.lemmas), found.lemmas


def test_lemmas_from_is_on_the_replay_line_and_reproduces_the_run(
        write_model: Callable[..., Path], run_cli: Callable[..., Any]) -> None:
    path = write_model(GUARDED, runtime=True)
    first = run_cli([path, "--all-sizes", "--lemmas-from", "certificates", "--no-certificates"])
    assert first.code == ExitCode.OK, first.out
    replay = re.search(r"^replay: (.*)$", first.out, re.MULTILINE)
    assert replay is not None and "--lemmas-from certificates" in replay.group(1)
    again = run_cli(shlex.split(replay.group(1))[1:])
    assert again.out == first.out  # the same lemmas: PDR's budget is not a time limit
    # without candidates only the model's own lemmas count: R1 is not inductive alone
    bare = run_cli([path, "--all-sizes", "--lemmas-from", "none", "--no-certificates"])
    assert bare.code == ExitCode.INCONCLUSIVE
    assert "lemmas found for all sizes" not in bare.out
