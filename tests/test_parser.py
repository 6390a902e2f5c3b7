"""Parsing model text into spec.syntax nodes, doc comments, spans and syntax errors."""

from __future__ import annotations

import pytest

from spec import syntax as S
from spec.diagnostics import SpecError
from spec.parser import grammar_keywords, parse
from spec.source import SourceFile


def p(text: str) -> S.Module:
    return parse(SourceFile.from_text("test.spec", text))


def decl(text: str) -> S.Decl:
    """Parse `model m` followed by text and return the one declaration after it."""
    m = p("model m\n" + text)
    assert len(m.decls) == 2, m.decls
    return m.decls[1]


def expr(text: str) -> S.Expr:
    d = decl(f"invariant i: {text}")
    assert isinstance(d, S.InvariantDecl)
    return d.expr


def stmts(text: str) -> tuple[S.Stmt, ...]:
    d = decl(f"proc q(t: Thread) {{ {text} }}")
    assert isinstance(d, S.ProcDecl)
    return d.body.stmts


def syntax_error(text: str) -> tuple[str, ...]:
    with pytest.raises(SpecError) as info:
        p(text)
    return tuple(d.code for d in info.value.diagnostics)


def only_diag(text: str):
    with pytest.raises(SpecError) as info:
        p(text)
    assert len(info.value.diagnostics) == 1
    return info.value.diagnostics[0]


def text_of(node) -> str:
    return node.span.source.text[node.span.start:node.span.end]


def i(v: int) -> S.IntLit:
    return S.IntLit(v, None)  # type: ignore[arg-type]


def n(name: str) -> S.Name:
    return S.Name(name, None)  # type: ignore[arg-type]


B = None  # spans are not compared, so tests build expected nodes with span=None


# ---- declarations ----------------------------------------------------------------------


def test_empty_text_parses_to_empty_module():
    """Empty text is a module with no declarations."""
    assert p("").decls == ()


def test_model_decl():
    """`model NAME` gives a ModelDecl with that name."""
    m = p("model extcache")
    assert m.decls == (S.ModelDecl("extcache", (), B),)


def test_include_decl_strips_quotes():
    """`include "x.spec"` keeps the path without its quotes."""
    d = decl('include "runtime.spec"')
    assert d == S.IncludeDecl("runtime.spec", (), B)


@pytest.mark.parametrize("text, kind, values, default", [
    ("param N = 2", None, (), i(2)),
    ("param N: int = 3", "int", (), i(3)),
    ("param N: bool = true", "bool", (), S.BoolLit(True, B)),
    ("param N: {shared, own} = own", "enum", ("shared", "own"), n("own")),
    ("param N: {a, b,} = a", "enum", ("a", "b"), n("a")),
])
def test_param_decl(text, kind, values, default):
    """Parameters record their declared kind, enum values and default."""
    assert decl(text) == S.ParamDecl("N", kind, values, default, (), B)


def test_interpreters_and_threads_decls():
    """`interpreters(E)` and `threads(E)` keep their size expressions."""
    m = p("model m\ninterpreters(INTERPS)\nthreads(1 + 1)")
    assert m.decls[1] == S.InterpretersDecl(n("INTERPS"), (), B)
    assert m.decls[2] == S.ThreadsDecl(S.Binary("+", i(1), i(1), B), (), B)


def test_sort_and_enum_decls():
    """`sort S(N)` and `enum E {a, b}` parse to SortDecl and EnumDecl."""
    assert decl("sort Key(KEYS)") == S.SortDecl("Key", n("KEYS"), (), B)
    assert decl("enum Phase {init, run, done}") == S.EnumDecl("Phase", ("init", "run", "done"),
                                                               (), B)


@pytest.mark.parametrize("text, type_, init", [
    ("var x: bool", S.BoolType(B), None),
    ("var x: bool = false", S.BoolType(B), S.BoolLit(False, B)),
    ("var x: int[0..3] = 1", S.IntType(i(0), i(3), B), i(1)),
    ("var x: Key?", S.OptionType(S.NamedType("Key", B), B), None),
    ("var x: Key -> bool", S.MapType((S.NamedType("Key", B),), S.BoolType(B), B), None),
    ("var x: (Key, Thread) -> Interp?",
     S.MapType((S.NamedType("Key", B), S.NamedType("Thread", B)),
               S.OptionType(S.NamedType("Interp", B), B), B), None),
    ("var x: Key -> Thread -> bool",
     S.MapType((S.NamedType("Key", B),),
               S.MapType((S.NamedType("Thread", B),), S.BoolType(B), B), B), None),
    ("var x: bool = none", S.BoolType(B), S.NoneLit(B)),
])
def test_var_decl_types(text, type_, init):
    """Variable declarations parse every type form and the optional initial value."""
    assert decl(text) == S.VarDecl("x", type_, init, (), B)


def test_def_decl_with_and_without_params():
    """`def` takes optional parameters; `def f()` and `def f` both give no parameters."""
    d = decl("def own_gil(i: Interp): bool = GIL == own")
    assert d == S.DefDecl("own_gil", (S.Param("i", S.NamedType("Interp", B), B),),
                          S.BoolType(B), S.Binary("==", n("GIL"), n("own"), B), (), B)
    assert decl("def k: int[0..1] = 1") == S.DefDecl("k", (), S.IntType(i(0), i(1), B), i(1),
                                                     (), B)
    assert decl("def k(): bool = true") == S.DefDecl("k", (), S.BoolType(B),
                                                     S.BoolLit(True, B), (), B)


@pytest.mark.parametrize("text, index, kind, rel", [
    ("lock l: mutex", (), "mutex", False),
    ("lock l: rlock", (), "rlock", False),
    ("lock l: mutex releases_gil", (), "mutex", True),
    ("lock l[Key, Thread]: rlock releases_gil",
     (S.NamedType("Key", B), S.NamedType("Thread", B)), "rlock", True),
])
def test_lock_decl(text, index, kind, rel):
    """Lock declarations record their index sorts, kind and `releases_gil`."""
    assert decl(text) == S.LockDecl("l", index, kind, rel, (), B)


def test_object_decls():
    """Plain, dict, raw and shared objects parse with their keys and guard."""
    assert decl("object o: object") == S.ObjectDecl("o", None, False, False, None, (), B)
    assert decl("object o: dict[Key] shared guarded_by ext_lock") == S.ObjectDecl(
        "o", (S.NamedType("Key", B),), False, True, n("ext_lock"), (), B)
    assert decl("object o: dict[Key, Thread] raw") == S.ObjectDecl(
        "o", (S.NamedType("Key", B), S.NamedType("Thread", B)), True, False, None, (), B)
    assert decl("object o: object raw shared guarded_by gil(main)") == S.ObjectDecl(
        "o", None, True, True, S.Call("gil", (n("main"),), B, B), (), B)


def test_tstate_decl():
    """`tstate NAME: detached E` keeps the interpreter expression."""
    assert decl("tstate ts: detached main") == S.TStateDecl("ts", n("main"), (), B)


def test_init_decl():
    """`init { ... }` holds assignments, `:= any` and `assume`."""
    d = decl("init { x := 1  m[k1] := any  assume x > 0 }")
    assert d == S.InitDecl(S.Block((
        S.Assign(S.Target("x", (), B), i(1), B),
        S.Assign(S.Target("m", (n("k1"),), B), None, B),
        S.Assume(S.Binary(">", n("x"), i(0), B), B),
    ), B), (), B)


def test_action_and_proc_decls():
    """Actions and procedures keep their parameters and bodies."""
    a = decl("action tick(t: Thread, k: Key) { skip }")
    assert a == S.ActionDecl("tick", (S.Param("t", S.NamedType("Thread", B), B),
                                      S.Param("k", S.NamedType("Key", B), B)),
                             S.Block((S.Skip(B),), B), (), B)
    q = decl("proc run() { }")
    assert q == S.ProcDecl("run", (), S.Block((), B), (), B)


def test_invariant_and_expect_decls():
    """Invariants keep their formula; expectations their outcome, name and `when`."""
    assert decl("invariant inv: true") == S.InvariantDecl("inv", S.BoolLit(True, B), (), B)
    assert decl("expect holds R1") == S.ExpectDecl("holds", "R1", None, (), B)
    assert decl("expect violated R2 when GIL == own") == S.ExpectDecl(
        "violated", "R2", S.Binary("==", n("GIL"), n("own"), B), (), B)


# ---- statements ------------------------------------------------------------------------


def test_assignments():
    """Assignments to plain and indexed targets, and `:= any`."""
    assert stmts("x := 1  m[a, b] := x  y := any") == (
        S.Assign(S.Target("x", (), B), i(1), B),
        S.Assign(S.Target("m", (n("a"), n("b")), B), n("x"), B),
        S.Assign(S.Target("y", (), B), None, B),
    )


def test_if_else_and_else_if():
    """`else if` is wrapped in a block holding one nested If."""
    (s,) = stmts("if a { skip } else if b { x := 1 } else { }")
    inner = S.If(n("b"), S.Block((S.Assign(S.Target("x", (), B), i(1), B),), B),
                 S.Block((), B), B)
    assert s == S.If(n("a"), S.Block((S.Skip(B),), B), S.Block((inner,), B), B)
    (s2,) = stmts("if a { }")
    assert s2 == S.If(n("a"), S.Block((), B), None, B)


def test_assert_await_assume():
    """`assert`, `assert ... as NAME`, `await` and `assume` keep their conditions."""
    assert stmts("assert a  assert b as named  await c  assume d") == (
        S.Assert(n("a"), None, B), S.Assert(n("b"), "named", B), S.Await(n("c"), B),
        S.Assume(n("d"), B))


def test_acquire_release():
    """`acquire`/`release` take lock expressions, including indexed ones and `gil`."""
    assert stmts("acquire gil  acquire f[k]  release gil(main)") == (
        S.Acquire(n("gil"), B), S.Acquire(S.Index("f", (n("k"),), B, B), B),
        S.Release(S.Call("gil", (n("main"),), B, B), B))


def test_switch_statements():
    """`switch to E [via TS] [keep_gil]` and `switch back [keep_gil]`."""
    assert stmts("switch to main  switch to sub1 via ts keep_gil  switch back  "
                 "switch back keep_gil") == (
        S.SwitchTo(n("main"), None, False, B), S.SwitchTo(n("sub1"), "ts", True, B),
        S.SwitchBack(False, B), S.SwitchBack(True, B))


@pytest.mark.parametrize("op", S.OBJECT_OPS)
def test_object_operations(op):
    """Every object operation parses to an ObjectOp with its target."""
    assert stmts(f"{op} cache[k]") == (S.ObjectOp(op, S.Target("cache", (n("k"),), B), B),)
    assert stmts(f"{op} cache") == (S.ObjectOp(op, S.Target("cache", (), B), B),)


def test_atomic_skip_semicolon_fork():
    """`atomic`, `skip`, `;` (a skip) and `fork [reinit ...]`."""
    assert stmts("atomic { skip ; } ; fork  fork reinit l, gil(main)") == (
        S.Atomic(S.Block((S.Skip(B), S.Skip(B)), B), B), S.Skip(B), S.Fork((), B),
        S.Fork((n("l"), S.Call("gil", (n("main"),), B, B)), B))


def test_detach_and_attach():
    """`detach` and `attach` are statements without operands."""
    assert stmts("detach  attach") == (S.Detach(B), S.Attach(B))


# ---- expressions -----------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("42", i(42)),
    ("true", S.BoolLit(True, B)),
    ("false", S.BoolLit(False, B)),
    ("none", S.NoneLit(B)),
    ("x", n("x")),
    ("f()", S.Call("f", (), B, B)),
    ("held(l, m)", S.Call("held", (n("l"), n("m")), B, B)),
    ("m[a, 1]", S.Index("m", (n("a"), i(1)), B, B)),
    ("-x", S.Unary("-", n("x"), B)),
    ("not x", S.Unary("not", n("x"), B)),
    ("not not x", S.Unary("not", S.Unary("not", n("x"), B), B)),
    ("(x)", n("x")),
])
def test_atoms_and_unary(text, expected):
    """Literals, names, calls, indexing, negation and parentheses."""
    assert expr(text) == expected


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons(op):
    """Every comparison operator is a Binary with that operator."""
    assert expr(f"a {op} 1") == S.Binary(op, n("a"), i(1), B)


def test_precedence_and_associativity():
    """`->` is right associative and binds loosest; `+`/`-` are left associative."""
    assert expr("a -> b -> c") == S.Binary("->", n("a"), S.Binary("->", n("b"), n("c"), B), B)
    assert expr("a or b and not c") == S.Binary(
        "or", n("a"), S.Binary("and", n("b"), S.Unary("not", n("c"), B), B), B)
    assert expr("a - b + c") == S.Binary("+", S.Binary("-", n("a"), n("b"), B), n("c"), B)
    assert expr("a + 1 < b") == S.Binary("<", S.Binary("+", n("a"), i(1), B), n("b"), B)
    assert expr("a == b -> c") == S.Binary("->", S.Binary("==", n("a"), n("b"), B), n("c"), B)


def test_ite_and_quantifiers():
    """`if/then/else` expressions and `forall`/`exists` with a typed variable."""
    assert expr("if a then 1 else 2") == S.Ite(n("a"), i(1), i(2), B)
    assert expr("forall k: Key. has(c, k)") == S.Quant(
        "forall", "k", S.NamedType("Key", B), S.Call("has", (n("c"), n("k")), B, B), B)
    assert expr("exists t: Thread. held(l) and x") == S.Quant(
        "exists", "t", S.NamedType("Thread", B),
        S.Binary("and", S.Call("held", (n("l"),), B, B), n("x"), B), B)


def test_comments_are_ignored():
    """Line and block comments do not change the parse."""
    with_comments = p("// top\nmodel m /* inline */\n/* multi\nline */ var x: bool // end\n")
    assert with_comments == p("model m\nvar x: bool")


def test_grammar_keywords_contains_reserved_words():
    """The keyword list comes from the grammar and holds its reserved words."""
    kw = grammar_keywords()
    for word in ("model", "acquire", "release", "forall", "guarded_by", "keep_gil", "when"):
        assert word in kw
    assert "x" not in kw and "Thread" not in kw


# ---- doc comments ----------------------------------------------------------------------


def test_doc_comments_attach_to_next_declaration():
    """`///` lines right before a declaration land in its docs, in order."""
    m = p("/// The model.\nmodel m\n/// first line\n///second\n///   indented\nvar x: bool\n")
    assert m.decls[0].docs == ("The model.",)
    assert m.decls[1].docs == ("first line", "second", "  indented")


def test_doc_comments_need_to_be_adjacent():
    """A blank line or a plain `//` comment between docs and a declaration drops them."""
    m = p("model m\n/// lost\n\nvar x: bool\n/// also lost\n// plain\nvar y: bool\n")
    assert m.decls[1].docs == ()
    assert m.decls[2].docs == ()


def test_plain_comments_are_not_docs():
    """Only `///` comments are docs; `//` ones are not."""
    m = p("model m\n// not a doc\nvar x: bool\n")
    assert m.decls[1].docs == ()


def test_docs_on_every_declaration_kind():
    """Docs attach to invariants, actions, locks and expectations alike."""
    m = p("model m\n/// i\ninvariant i: true\n/// a\naction a() { }\n/// l\nlock l: mutex\n"
          "/// e\nexpect holds i\n")
    assert [d.docs for d in m.decls[1:]] == [("i",), ("a",), ("l",), ("e",)]


def test_docs_not_taken_when_declaration_does_not_start_its_line():
    """A declaration sharing its line with earlier code gets no docs."""
    m = p("/// doc\nmodel m var x: bool\n")
    assert m.decls[0].docs == ("doc",)
    assert m.decls[1].docs == ()


# ---- spans ------------------------------------------------------------------------------


def test_spans_cover_their_text():
    """Declaration, statement, expression and name spans point at the right text."""
    src = ("model m\n"
           "var count: int[0..3] = 0\n"
           "proc work(t: Thread, k: Key) {\n"
           "  acquire locks[k]\n"
           "  count := count + 1\n"
           "}\n"
           "invariant small: held(l) -> count < 2\n")
    m = p(src)
    var, proc, inv = m.decls[1], m.decls[2], m.decls[3]
    assert text_of(var) == "var count: int[0..3] = 0"
    assert text_of(var.type) == "int[0..3]"
    assert text_of(proc.params[1]) == "k: Key"
    acq, assign = proc.body.stmts
    assert text_of(acq) == "acquire locks[k]"
    assert text_of(acq.lock) == "locks[k]"
    assert text_of(acq.lock).startswith(text_of_tok(acq.lock.base_span))
    assert text_of(assign) == "count := count + 1"
    assert text_of(assign.target) == "count"
    assert text_of(assign.value) == "count + 1"
    assert text_of(inv) == "invariant small: held(l) -> count < 2"
    call = inv.expr.left
    assert text_of(call) == "held(l)"
    assert text_of_tok(call.fn_span) == "held"
    assert inv.span.line_col() == (7, 1)
    assert assign.value.span.line_col() == (5, 12)
    assert m.span.start == 0 and m.span.end == len(src)


def text_of_tok(span) -> str:
    return span.source.text[span.start:span.end]


def test_spans_name_the_source_file():
    """Spans carry the display name of the file they came from."""
    m = parse(SourceFile.from_text("dir/x.spec", "model m\nvar x: bool"))
    assert m.decls[1].span.file == "dir/x.spec"
    assert m.decls[1].span.describe() == "dir/x.spec:2:1"


# ---- syntax errors ---------------------------------------------------------------------


def test_equals_instead_of_assignment_is_sc003_with_hint():
    """`x = 1` in a body is SC003 at the `=` with a hint mentioning `:=`."""
    d = only_diag("model m\nproc q(t: Thread) {\n  x = 1\n}\n")
    assert d.code == "SC003"
    assert d.span.line_col() == (3, 5)
    assert d.span.source.text[d.span.start:d.span.end] == "="
    assert ":=" in d.hint


def test_unexpected_keyword_is_sc003_with_expected_tokens():
    """A misplaced keyword is SC003 and the hint lists what was expected."""
    d = only_diag("model m\nvar x: bool bool\n")
    assert d.code == "SC003"
    assert "bool" in d.message
    assert d.span.line_col() == (2, 13)
    assert d.hint is not None and d.hint.startswith("expected")


def test_block_in_expression_if_hints_then():
    """`if c { }` where an expression is expected hints at `then ... else`."""
    d = only_diag("model m\ninvariant i: if a { b }\n")
    assert d.code == "SC003"
    assert "then" in d.hint


def test_bad_character_is_sc004():
    """A character no token starts with, like `$`, is SC004 at that character."""
    d = only_diag("model m\nvar $x: bool\n")
    assert d.code == "SC004"
    assert "$" in d.message
    assert d.span.line_col() == (2, 5)
    assert d.span.end - d.span.start == 1


@pytest.mark.parametrize("text, hint_word", [("model m\nvar x: bool && y", "and"),
                                              ("model m\ninvariant i: !x", "not")])
def test_c_style_operators_get_hints(text, hint_word):
    """C-style `&&` and `!` are rejected with a hint naming the keyword to use."""
    d = only_diag(text)
    assert d.code in ("SC003", "SC004")
    assert hint_word in d.hint


def test_control_character_is_sc004_and_shown_escaped():
    """A non-printable character is reported as SC004 with an escaped rendering."""
    d = only_diag("model m\x07")
    assert d.code == "SC004"
    assert "\\u0007" in d.message


def test_unexpected_end_of_file_is_sc005():
    """A block left open at the end of the file is SC005."""
    d = only_diag("model m\nproc q(t: Thread) {\n  skip\n")
    assert d.code == "SC005"
    assert d.span.start <= len("model m\nproc q(t: Thread) {\n  skip\n")


def test_unfinished_declaration_is_sc005():
    """A declaration cut off after its keyword is SC005 naming what was expected."""
    d = only_diag("model")
    assert d.code == "SC005"
    assert "name" in d.hint


def test_unterminated_block_comment_is_a_syntax_error():
    """An unterminated block comment is a coded syntax error, not a crash."""
    assert syntax_error("model m\n/* never closed\n")[0] in ("SC003", "SC004", "SC005")


def test_deep_nesting_is_a_diagnostic_not_a_crash():
    """Absurdly deep parentheses give a SpecError instead of a RecursionError."""
    deep = "model m\ninvariant i: " + "(" * 5000 + "x" + ")" * 5000 + "\n"
    try:
        p(deep)
    except SpecError as exc:
        assert exc.diagnostics[0].code.startswith("SC0")
