"""Is a proof obligation in a fragment where z3's answer is complete?

An obligation is a set of formulas whose conjunction must be unsatisfiable.
After negation normal form and skolemisation, an existential under universals
becomes a function from the universals' sorts to the existential's sort; a
state map is already such a function. When only universal quantifiers remain
and the *sort graph* — an edge A -> B for every function (state map or
skolem) from A to B between uninterpreted sorts — is acyclic, the set of
ground terms is finite, so instantiating the universals over it is a decision
procedure (effectively propositional logic, EPR, in its many-sorted
stratified form). z3's model-based quantifier instantiation is complete
there: `unsat` is a proof and `sat` comes with a finite model.

Finite theories do not break this: booleans, enumerations (z3 datatypes
without fields) and bounded integers (bit-vectors). Mathematical integers,
reals and arrays do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from checker.lift import find_cycle

_FINITE = {z3.Z3_BOOL_SORT, z3.Z3_BV_SORT, z3.Z3_DATATYPE_SORT, z3.Z3_UNINTERPRETED_SORT}


@dataclass(frozen=True)
class Fragment:
    ok: bool
    name: str                                  # which fragment, or why none
    edges: tuple[tuple[str, str, str], ...]    # (from sort, to sort, what makes the edge)

    def describe(self) -> str:
        return self.name


def _label(name: str) -> str:
    base = name.split("@", 1)[0]
    return {"$cur": "cur", "$saved": "saved", "$holder": "holder", "$parked": "detached_from",
            "$pc": "pc", "$proc": "proc", "$live": "live"}.get(base.split("#")[0], base)


def _sort_ok(s: Any) -> bool:
    if s.kind() not in _FINITE:
        return False
    if s.kind() == z3.Z3_DATATYPE_SORT:
        return all(s.constructor(i).arity() == 0 for i in range(s.num_constructors()))
    return True


def analyse(formulas: list[tuple[str, Any]]) -> Fragment:
    """The fragment of the conjunction of labelled formulas."""
    edges, problems = collect(formulas)
    return judge(edges, problems)


Edges = frozenset[tuple[str, str, str]]
Memo = dict[tuple[int, int, tuple[str, ...]], tuple[Edges, tuple[str, ...]]]


def collect(formulas: list[tuple[str, Any]], memo: Memo | None = None
            ) -> tuple[dict[tuple[str, str], str], list[str]]:
    """The sort-graph edges (with what makes each) and the theory problems. `memo`
    may be shared by calls on formulas of one z3 context (obligations repeat
    their hypotheses)."""
    memo = {} if memo is None else memo
    edges: dict[tuple[str, str], str] = {}
    problems: list[str] = []
    for label, f in formulas:
        found, probs = _walk(f, 1, (), memo)
        for a, b, why in sorted(found):
            edges.setdefault((a, b), why if why.startswith("the map") else f"{why} in {label}")
        problems += [f"{p} in {label}" for p in probs]
    return edges, problems


def _walk(e: Any, pol: int, univ: tuple[str, ...], memo: Memo  # noqa: C901
          ) -> tuple[Edges, tuple[str, ...]]:
    quantified = _has_quantifier(e, memo)
    key = (e.get_id(), pol if quantified else 0, univ if quantified else ())
    if key in memo:
        return memo[key]
    edges: set[tuple[str, str, str]] = set()
    problems: list[str] = []

    def sub(x: Any, p: int, u: tuple[str, ...]) -> None:
        got, probs = _walk(x, p, u, memo)
        edges.update(got)
        problems.extend(probs)

    if z3.is_quantifier(e):
        if e.is_lambda():
            problems.append("a lambda term")
        else:
            sorts = [e.var_sort(i) for i in range(e.num_vars())]
            problems += [f"a quantifier over {s}" for s in sorts if not _sort_ok(s)]
            names = tuple(s.name() for s in sorts if s.kind() == z3.Z3_UNINTERPRETED_SORT)
            exists = e.is_exists()
            kinds = {1: ["exists" if exists else "forall"],
                     -1: ["forall" if exists else "exists"], 0: ["forall", "exists"]}[pol]
            for k in kinds:
                if k == "exists":
                    edges.update((u, v, "a forall-exists alternation") for u in univ
                                 for v in names)
                    sub(e.body(), pol, univ)
                else:
                    sub(e.body(), pol, tuple(sorted(set(univ) | set(names))))
    elif z3.is_app(e):
        if not _sort_ok(e.sort()):
            problems.append(f"{e.sort()} terms ({_label(e.decl().name())})")
        d = e.decl()
        kind = d.kind()
        if kind == z3.Z3_OP_UNINTERPRETED and d.arity() > 0 and \
                d.range().kind() == z3.Z3_UNINTERPRETED_SORT:
            for i in range(d.arity()):
                if d.domain(i).kind() == z3.Z3_UNINTERPRETED_SORT:
                    edges.add((d.domain(i).name(), d.range().name(),
                               f"the map {_label(d.name())}"))
        children = e.children()
        if not quantified:
            for c in children:
                sub(c, 0, ())
        elif kind == z3.Z3_OP_NOT:
            sub(children[0], -pol, univ)
        elif kind in (z3.Z3_OP_AND, z3.Z3_OP_OR):
            for c in children:
                sub(c, pol, univ)
        elif kind == z3.Z3_OP_IMPLIES:
            sub(children[0], -pol, univ)
            sub(children[1], pol, univ)
        elif kind == z3.Z3_OP_ITE and z3.is_bool(e):
            sub(children[0], 0, univ)
            sub(children[1], pol, univ)
            sub(children[2], pol, univ)
        else:
            for c in children:
                sub(c, 0 if z3.is_bool(c) else pol, univ)
    out = (frozenset(edges), tuple(problems))
    memo[key] = out
    return out


def _has_quantifier(e: Any, memo: Memo) -> bool:
    key = (e.get_id(), 2, ())  # a slot of the memo no walk uses
    hit = memo.get(key)
    if hit is not None:
        return bool(hit[1])
    out = z3.is_quantifier(e) or (z3.is_app(e) and any(_has_quantifier(c, memo)
                                                       for c in e.children()))
    memo[key] = (frozenset(), ("q",) if out else ())
    return out


def judge(edges: dict[tuple[str, str], str], problems: list[str]) -> Fragment:
    listed = tuple((a, b, why) for (a, b), why in sorted(edges.items()))
    if problems:
        return Fragment(False, "outside the decidable fragment: " + problems[0], listed)
    cycle = find_cycle(list(listed))
    if cycle is not None:
        path = " -> ".join([cycle[0][0]] + [f"{b} ({why})" for _, b, why in cycle])
        return Fragment(False, "outside the decidable fragment: the sort graph has the cycle "
                        + path, listed)
    if not listed:
        return Fragment(True, "EPR (only universal quantifiers after skolemisation, no "
                        "functions between uninterpreted sorts)", listed)
    graph = ", ".join(sorted({f"{a} -> {b}" for a, b, _ in listed}))
    return Fragment(True, "many-sorted EPR with stratified functions (acyclic sort graph: "
                    f"{graph})", listed)
