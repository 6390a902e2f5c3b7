"""Property tests (hypothesis): parser and checker totality, print/parse round trip,
and the explicit engine against BMC on random small models."""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checker.engines.bmc import bmc
from checker.engines.explicit import explore
from checker.options import CheckOptions
from checker.replay import validate
from checker.results import Verdict
from checker.run import build
from spec import syntax as S
from spec.diagnostics import SpecError
from spec.loader import load_text
from spec.parser import grammar_keywords, parse
from spec.printer import print_module
from spec.source import SourceFile, Span
from spec.typecheck import check

KEYWORDS = grammar_keywords()
D = Span(SourceFile.from_text("<gen>", ""), 0, 0)  # spans take no part in equality

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parse_text(text: str) -> S.Module:
    return parse(SourceFile.from_text("gen.spec", text))


# ---- (a) totality -------------------------------------------------------------------------

PUNCT = ["(", ")", "{", "}", "[", "]", ":", ":=", "=", "==", "!=", "<", "<=", ">", ">=", "+",
         "-", "->", ".", "..", ",", "?", ";", '"x.spec"', "///", "//", "/*", "*/", "\n", "$",
         "&&", "!", "\t", "0", "1", "42", "\x00", "é"]
TOKEN = st.one_of(st.sampled_from(sorted(KEYWORDS)), st.sampled_from(PUNCT),
                  st.sampled_from(["a", "b", "x", "t", "Key", "Thread", "Interp", "main", "l"]))


@SETTINGS
@given(st.text(max_size=200))
def test_parser_is_total_on_arbitrary_text(text):
    """Any text either parses to a Module or raises SpecError with SC0xx codes."""
    try:
        m = parse_text(text)
    except SpecError as exc:
        assert exc.diagnostics and all(d.code.startswith("SC0") for d in exc.diagnostics)
        return
    assert isinstance(m, S.Module)


@SETTINGS
@given(st.lists(TOKEN, max_size=60).map(" ".join))
def test_parser_is_total_on_token_soup(text):
    """Text made of the grammar's own tokens parses or fails with a SpecError."""
    try:
        m = parse_text(text)
    except SpecError as exc:
        assert all(d.code in ("SC003", "SC004", "SC005") for d in exc.diagnostics)
        return
    assert isinstance(m, S.Module)


# ---- syntax trees -----------------------------------------------------------------------------

POOL = ["a", "b", "x", "y", "k", "t", "l", "o", "f", "Key", "Thread", "Interp", "main", "sub1",
        "t1", "key1", "held", "gil", "holder", "alive", "cur", "R1", "deadlock"]
names = st.one_of(
    st.sampled_from(POOL),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True),
).filter(lambda s: s not in KEYWORDS)

CMP = ["==", "!=", "<", "<=", ">", ">="]
BIN = ["and", "or", "->", "+", "-", *CMP]


def exprs(max_leaves: int = 12) -> st.SearchStrategy[S.Expr]:
    leaves = st.one_of(
        st.integers(0, 40).map(lambda v: S.IntLit(value=v, span=D)),
        st.booleans().map(lambda v: S.BoolLit(value=v, span=D)),
        st.just(S.NoneLit(span=D)),
        names.map(lambda n: S.Name(id=n, span=D)),
    )

    def extend(kids: st.SearchStrategy[S.Expr]) -> st.SearchStrategy[S.Expr]:
        return st.one_of(
            st.builds(lambda f, a: S.Call(fn=f, args=tuple(a), span=D, fn_span=D),
                      names, st.lists(kids, max_size=2)),
            st.builds(lambda b, a: S.Index(base=b, args=tuple(a), span=D, base_span=D),
                      names, st.lists(kids, min_size=1, max_size=2)),
            st.builds(lambda op, x: S.Unary(op=op, operand=x, span=D),
                      st.sampled_from(["not", "-"]), kids),
            st.builds(lambda op, x, y: S.Binary(op=op, left=x, right=y, span=D),
                      st.sampled_from(BIN), kids, kids),
            st.builds(lambda c, x, y: S.Ite(cond=c, then=x, orelse=y, span=D), kids, kids, kids),
            st.builds(lambda q, v, t, b: S.Quant(kind=q, var=v, type=t, body=b, span=D),
                      st.sampled_from(["forall", "exists"]), names, types(0), kids),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


small_exprs = st.deferred(lambda: exprs(4))


def types(depth: int = 2) -> st.SearchStrategy[S.TypeExpr]:
    bound = st.one_of(st.integers(0, 9).map(lambda v: S.IntLit(value=v, span=D)),
                      names.map(lambda n: S.Name(id=n, span=D)), small_exprs)
    simple = st.one_of(
        st.just(S.BoolType(span=D)),
        names.map(lambda n: S.NamedType(name=n, span=D)),
        st.builds(lambda lo, hi: S.IntType(lo=lo, hi=hi, span=D), bound, bound),
    )
    if depth == 0:
        return st.one_of(simple, simple.map(lambda t: S.OptionType(inner=t, span=D)))
    sub = types(depth - 1)
    scalar = sub.filter(lambda t: not isinstance(t, S.MapType))  # `(A -> B)?` has no syntax
    return st.one_of(
        simple,
        scalar.map(lambda t: S.OptionType(inner=t, span=D)),
        st.builds(lambda ks, v: S.MapType(keys=tuple(ks), value=v, span=D),
                  st.lists(sub, min_size=1, max_size=2), sub),
    )


def targets() -> st.SearchStrategy[S.Target]:
    return st.builds(lambda n, ix: S.Target(name=n, indices=tuple(ix), span=D),
                     names, st.lists(small_exprs, max_size=2))


def blocks(depth: int) -> st.SearchStrategy[S.Block]:
    return st.lists(stmts(depth), max_size=3).map(lambda xs: S.Block(stmts=tuple(xs), span=D))


def stmts(depth: int = 2) -> st.SearchStrategy[S.Stmt]:
    e = small_exprs
    flat = [
        st.builds(lambda t, v: S.Assign(target=t, value=v, span=D), targets(), st.none() | e),
        st.builds(lambda c, n: S.Assert(cond=c, name=n, span=D), e, st.none() | names),
        st.builds(lambda c: S.Await(cond=c, span=D), e),
        st.builds(lambda c: S.Assume(cond=c, span=D), e),
        st.builds(lambda x: S.Acquire(lock=x, span=D), e),
        st.builds(lambda x: S.Release(lock=x, span=D), e),
        st.builds(lambda i, v, k: S.SwitchTo(interp=i, via=v, keep_gil=k, span=D),
                  e, st.none() | names, st.booleans()),
        st.builds(lambda k: S.SwitchBack(keep_gil=k, span=D), st.booleans()),
        st.builds(lambda op, t: S.ObjectOp(op=op, target=t, span=D),
                  st.sampled_from(S.OBJECT_OPS), targets()),
        st.just(S.Skip(span=D)),
        st.just(S.Detach(span=D)),
        st.just(S.Attach(span=D)),
        st.builds(lambda xs: S.Fork(reinit=tuple(xs), span=D), st.lists(e, max_size=2)),
    ]
    if depth > 0:
        inner = blocks(depth - 1)
        flat += [
            st.builds(lambda c, a, b: S.If(cond=c, then=a, orelse=b, span=D), e, inner,
                      st.none() | inner),
            st.builds(lambda b: S.Atomic(body=b, span=D), inner),
        ]
    return st.one_of(*flat)


doc_lines = st.lists(
    st.text(alphabet=string.ascii_letters + string.digits + " .,`()-:", max_size=24)
    .map(str.strip), max_size=2).map(tuple)
params = st.lists(st.builds(lambda n, t: S.Param(name=n, type=t, span=D), names, types(1)),
                  max_size=2).map(tuple)


def decls() -> st.SearchStrategy[S.Decl]:
    e = small_exprs
    return st.one_of(
        st.builds(lambda n, d: S.ModelDecl(name=n, docs=d, span=D), names, doc_lines),
        st.builds(lambda p, d: S.IncludeDecl(path=p, docs=d, span=D),
                  st.from_regex(r"[a-z_./]{1,10}", fullmatch=True), doc_lines),
        st.builds(lambda n, kv, v, d: S.ParamDecl(name=n, kind=kv[0], values=kv[1], default=v,
                                                   docs=d, span=D),
                  names,
                  st.one_of(st.sampled_from([(None, ()), ("int", ()), ("bool", ())]),
                            st.lists(names, min_size=1, max_size=3)
                            .map(lambda vs: ("enum", tuple(vs)))),
                  e, doc_lines),
        st.builds(lambda x, d: S.InterpretersDecl(size=x, docs=d, span=D), e, doc_lines),
        st.builds(lambda x, d: S.ThreadsDecl(size=x, docs=d, span=D), e, doc_lines),
        st.builds(lambda n, x, d: S.SortDecl(name=n, size=x, docs=d, span=D), names, e,
                  doc_lines),
        st.builds(lambda n, vs, d: S.EnumDecl(name=n, values=tuple(vs), docs=d, span=D), names,
                  st.lists(names, min_size=1, max_size=3), doc_lines),
        st.builds(lambda n, t, v, d: S.VarDecl(name=n, type=t, init=v, docs=d, span=D),
                  names, types(), st.none() | e, doc_lines),
        st.builds(lambda n, ps, t, v, d: S.DefDecl(name=n, params=ps, type=t, body=v, docs=d,
                                                   span=D),
                  names, params, types(), e, doc_lines),
        st.builds(lambda n, ix, k, r, d: S.LockDecl(name=n, index=tuple(ix), kind=k,
                                                    releases_gil=r, docs=d, span=D),
                  names, st.lists(types(0), max_size=2), st.sampled_from(["mutex", "rlock"]),
                  st.booleans(), doc_lines),
        st.builds(lambda n, ks, raw, g, d: S.ObjectDecl(name=n, keys=ks, raw=raw,
                                                        shared=g is not None, guard=g, docs=d,
                                                        span=D),
                  names, st.none() | st.lists(types(0), min_size=1, max_size=2).map(tuple),
                  st.booleans(), st.none() | e, doc_lines),
        st.builds(lambda n, x, d: S.TStateDecl(name=n, interp=x, docs=d, span=D), names, e,
                  doc_lines),
        st.builds(lambda b, d: S.InitDecl(body=b, docs=d, span=D), blocks(1), doc_lines),
        st.builds(lambda n, ps, b, d: S.ActionDecl(name=n, params=ps, body=b, docs=d, span=D),
                  names, params, blocks(2), doc_lines),
        st.builds(lambda n, ps, b, d: S.ProcDecl(name=n, params=ps, body=b, docs=d, span=D),
                  names, params, blocks(2), doc_lines),
        st.builds(lambda n, x, d: S.InvariantDecl(name=n, expr=x, docs=d, span=D), names, exprs(),
                  doc_lines),
        st.builds(lambda o, n, w, d: S.ExpectDecl(outcome=o, name=n, when=w, docs=d, span=D),
                  st.sampled_from(["holds", "violated"]), names, st.none() | e, doc_lines),
    )


modules = st.lists(decls(), max_size=6).map(lambda ds: S.Module(decls=tuple(ds), span=D))
models_with_header = st.builds(
    lambda n, ds: S.Module(decls=(S.ModelDecl(name=n, docs=(), span=D), *ds), span=D),
    names, st.lists(decls().filter(lambda d: not isinstance(d, S.ModelDecl | S.IncludeDecl)),
                    max_size=6))


# ---- (b) print / parse round trip --------------------------------------------------------


@SETTINGS
@given(modules)
def test_print_then_parse_gives_the_same_module(m):
    """parse(print(m)) == m for generated modules, and printing is a fixed point."""
    text = print_module(m)
    parsed = parse_text(text)
    assert parsed == m
    assert print_module(parsed) == text
    assert parse_text(print_module(parsed)) == parsed


@SETTINGS
@given(exprs(20))
def test_expressions_round_trip(e):
    """Every generated expression prints to text that parses back to it."""
    m = S.Module(decls=(S.InvariantDecl(name="i", expr=e, docs=(), span=D),), span=D)
    assert parse_text(print_module(m)) == m


def test_double_negation_round_trips():
    """`-(-1)` prints to text that parses back to the same expression."""
    m = parse_text("model m\ninvariant i: -(-1) == 1\n")
    assert parse_text(print_module(m)) == m


# ---- (a') checker totality on text that parses -------------------------------------------


@SETTINGS
@given(models_with_header)
def test_checker_is_total_on_parsed_models(m):
    """load_text + check either returns a Program or raises SpecError, never crashes."""
    text = print_module(m)
    try:
        parse_text(text)
    except SpecError:
        assume(False)  # only texts that parse are of interest here
    try:
        program = check(load_text("gen.spec", text))
    except SpecError as exc:
        assert exc.diagnostics
        keys = [d.sort_key() for d in exc.diagnostics]
        assert keys == sorted(keys)
        return
    assert program.name == m.decls[0].name


# ---- (c) explicit engine vs BMC on random well-typed models ---------------------------------


@st.composite
def engine_models(draw) -> str:
    """A small well-typed model: 2 threads, bool, int and optional int vars, locks, maybe an
    object and a thread state, 1-3 actions and procedures, and an invariant."""
    interps = draw(st.sampled_from([None, 1, 2]))
    bools = [f"b{i}" for i in range(draw(st.integers(1, 2)))]
    ints = [f"n{i}" for i in range(draw(st.integers(0, 2)))]
    opts = [f"q{i}" for i in range(draw(st.integers(0, 1)))]  # `int[0..2]?` variables
    locks = [(f"l{i}", draw(st.sampled_from(["mutex", "mutex", "rlock"])))
             for i in range(draw(st.integers(1, 2)))]
    lock_names = [n for n, _ in locks]
    obj = None
    if interps is not None and draw(st.booleans()):
        obj = ("o", draw(st.none() | st.sampled_from(lock_names)))

    tstate = interps == 2 and draw(st.booleans())

    def bool_expr(depth: int, local: bool) -> str:
        options = [*bools, "true"] + (["false"] if local else [])
        options += [f"{n} {op} {c}" for n in ints for op in ("<", "==", ">=") for c in (0, 1, 2)]
        options += [f"held({lk})" for lk in lock_names]
        options += [f"{q} {op} {c}" for q in opts for op in ("==", "!=") for c in ("none", 1, 2)]
        if local:
            options += [f"holder({lk}) == t" for lk in lock_names]
            if interps == 2:
                options += ["cur(t) == main", "cur(t) == sub1"]
        else:
            options += [f"holder({lk}) == t1" for lk in lock_names]
        if obj:
            options.append(f"alive({obj[0]})")
        atom = draw(st.sampled_from(options))
        if depth <= 0:
            return atom
        shape = draw(st.sampled_from(["atom", "not", "and", "or", "->"]))
        if shape == "atom":
            return atom
        if shape == "not":
            return f"not ({bool_expr(depth - 1, local)})"
        return f"({bool_expr(depth - 1, local)}) {shape} ({bool_expr(depth - 1, local)})"

    def int_expr(target: str) -> str:
        return draw(st.sampled_from([target + " + 1", target + " - 1", "0", "1", "2",
                                     *ints]))

    def stmt_list(depth: int, in_proc: bool, max_size: int) -> list[str]:
        out: list[str] = []
        for _ in range(draw(st.integers(1, max_size))):
            kinds = ["assign_bool", "acquire", "release", "await", "assert"]
            if ints:
                kinds.append("assign_int")
            if opts:
                kinds.append("assign_opt")
            if obj:
                kinds += ["obj", "obj"]
            if depth > 0:
                kinds.append("if")
                if in_proc:
                    kinds.append("atomic")
            if in_proc and interps == 2 and depth > 0:
                kinds.append("switch")
            if in_proc and interps is not None:
                kinds.append("runtime")
            kind = draw(st.sampled_from(kinds))
            if kind == "assign_bool":
                out.append(f"{draw(st.sampled_from(bools))} := {bool_expr(1, True)}")
            elif kind == "assign_int":
                n = draw(st.sampled_from(ints))
                out.append(f"{n} := {int_expr(n)}")
            elif kind == "assign_opt":
                q = draw(st.sampled_from(opts))
                value = draw(st.sampled_from(["none", "0", "2", *ints,
                                              *[f"{n} + 1" for n in ints for _ in "xyz"]]))
                out.append(f"{q} := {value}")
            elif kind in ("acquire", "release"):
                out.append(f"{kind} {draw(st.sampled_from(lock_names))}")
            elif kind == "await":
                out.append(f"await {bool_expr(1, True)}")
            elif kind == "assert":
                out.append(f"assert {bool_expr(1, True)}")
            elif kind == "obj":
                op = draw(st.sampled_from(["alloc", "free", "read", "write", "resize"]))
                if draw(st.booleans()):
                    cond = "not alive(o)" if op == "alloc" else "alive(o)"
                    out.append(f"if {cond} {{ {op} o }}")
                else:
                    out.append(f"{op} o")
            elif kind == "if":
                then = " ".join(stmt_list(depth - 1, in_proc, 2))
                orelse = " ".join(stmt_list(depth - 1, in_proc, 2)) if draw(st.booleans()) \
                    else None
                text = f"if {bool_expr(1, True)} {{ {then} }}"
                out.append(text + (f" else {{ {orelse} }}" if orelse is not None else ""))
            elif kind == "atomic":
                out.append("atomic { " + " ".join(stmt_list(0, in_proc, 2)) + " }")
            elif kind == "switch":
                where = draw(st.sampled_from(["main", "sub1"]))
                via = " via ts" if tstate and draw(st.booleans()) else ""
                keep = draw(st.sampled_from([" keep_gil", " keep_gil", ""]))
                body = " ".join(stmt_list(0, in_proc, 2))
                out.append(f"switch to {where}{via}{keep} {body} switch back{keep}")
            elif kind == "runtime":
                out.append(draw(st.sampled_from(["acquire gil", "release gil", "detach",
                                                 "attach"])))
        return out

    lines = ["model random", "threads(2)"]
    if interps is not None:
        lines.append(f"interpreters({interps})")
    for b in bools:
        lines.append(f"var {b}: bool = {draw(st.sampled_from(['true', 'false']))}")
    for n in ints:
        lines.append(f"var {n}: int[0..2] = {draw(st.integers(0, 2))}")
    for q in opts:
        lines.append(f"var {q}: int[0..2]? = {draw(st.sampled_from(['none', '1']))}")
    for name, kind in locks:
        lines.append(f"lock {name}: {kind}")
    if obj:
        guard = f" shared guarded_by {obj[1]}" if obj[1] else ""
        lines.append(f"object {obj[0]}: object{guard}")
    if tstate:
        lines.append("tstate ts: detached main")
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["action", "proc"]))
        body = stmt_list(1, kind == "proc", 4 if kind == "proc" else 2)
        lines.append(f"{kind} r{i}(t: Thread) {{")
        lines += [f"  {s}" for s in body]
        lines.append("}")
    lines.append(f"invariant inv: {bool_expr(2, False)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(engine_models())
def test_explicit_and_bmc_agree(text):
    """On random small models both engines find the same violations with equal shortest
    traces; BMC never claims a proof; every trace replays."""
    ts = build(load_text("random.spec", text), CheckOptions())
    props = list(ts.properties)
    found, stats = explore(ts, props, max_states=20_000)
    assume(all(r.verdict is not Verdict.UNKNOWN for r in found.values()))
    violated = {n for n, r in found.items() if r.verdict is Verdict.VIOLATED}
    for r in found.values():
        assert r.verdict in (Verdict.PROVED, Verdict.VIOLATED)
    longest = max((found[n].trace.length for n in violated), default=0)
    depth = max(stats.depth, longest)
    assume(depth <= 14)  # keep the solver's share of the run short
    by_bmc = bmc(ts, props, depth=depth)
    assert {n for n, r in by_bmc.items() if r.verdict is Verdict.VIOLATED} == violated, text
    for name, r in by_bmc.items():
        assert r.verdict in (Verdict.VIOLATED, Verdict.BOUNDED), (name, r.verdict)
        if r.verdict is Verdict.VIOLATED:
            ex = found[name]
            assert r.trace.length == ex.trace.length, (name, text)
            validate(ts, r.trace, ts.property(name))
            validate(ts, ex.trace, ts.property(name))
        else:
            assert r.depth == depth


MUTANTS = ["main", "sub1", "t", "t1", "Thread", "Interp", "l0", "o", "b0", "n0", "gil", "none",
           "true", "0", "3", "-1", "inv", "r0", "held(l0)", "holder(l0)", "alive(o)", "cur(t)",
           "level(l0)", "owner(o)", "Lock", "bool", "int[0..2]", "Thread?", "Thread -> bool",
           "switch back", "switch to sub1", "fork reinit l0", "atomic { skip }", "free o",
           "acquire gil", "x := any", "assume true", "n0[1]", "b0(1)", "if true then 1 else none",
           "exists t: Thread. held(l0)", "interpreters(2)", "object p: dict[Thread]"]
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|:=|\S")


@st.composite
def mutated_models(draw) -> str:
    """A valid random model with one to three tokens replaced by plausible others."""
    text = draw(engine_models())
    for _ in range(draw(st.integers(1, 3))):
        start, end = draw(st.sampled_from([m.span() for m in WORD.finditer(text)]))
        text = text[:start] + draw(st.sampled_from(MUTANTS)) + text[end:]
    return text


@SETTINGS
@given(mutated_models())
def test_front_end_is_total_on_near_valid_models(text):
    """Checking and lowering a slightly broken model either works or raises SpecError."""
    try:
        ts = build(load_text("mutant.spec", text), CheckOptions())
    except SpecError as exc:
        assert exc.diagnostics
        return
    assert len({a.id for a in ts.actions}) == len(ts.actions)  # ids are replay keys
    assert len({p.name for p in ts.properties}) == len(ts.properties)
