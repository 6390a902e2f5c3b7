"""Parsing: SourceFile -> syntax.Module.

The only module that imports lark. The grammar is ``spec/grammar/spec.lark``;
lark trees are turned into ``spec.syntax`` nodes by a separate Transformer pass
(so callbacks receive positions), and lark exceptions become SC0xx diagnostics.
"""

from __future__ import annotations

import functools
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from spec import codes
from spec import syntax as S
from spec.diagnostics import SpecError
from spec.source import SourceFile, Span


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark.open_from_package(
        "spec.grammar", "spec.lark", parser="lalr", strict=True, propagate_positions=True,
        maybe_placeholders=True,
    )


def grammar_keywords() -> frozenset[str]:
    """Every keyword the grammar accepts (used by the keyword-list test and the lexer)."""
    words = set()
    for term in _lark().terminals:
        pattern = term.pattern
        if pattern.type == "str" and pattern.value.isidentifier():
            words.add(pattern.value)
    return frozenset(words)


# Levels of the parse tree. Every later stage (type checking, lowering, both
# evaluators, the printer) recurses once or twice per level, so this bound keeps
# them far from Python's recursion limit; real models use about 20 levels.
MAX_NESTING = 200
# Longer literals are far out of range (Python refuses to convert those of more
# than 4300 digits; printing them in a message would not help either).
MAX_DIGITS = 12

_NESTING_HINT = ("name parts of a long expression with `def`, or split deeply nested "
                 "`if` blocks into separate steps")


def parse(source: SourceFile) -> S.Module:
    """Parse a whole model file; raise SpecError(SC003/SC004/SC005/SC009) on bad syntax."""
    try:
        tree = _lark().parse(source.text)
    except UnexpectedInput as exc:
        raise SpecError([_syntax_diagnostic(source, exc)]) from None
    except RecursionError:
        raise SpecError([_too_deep(Span(source, 0, 0))]) from None
    deepest = _deeper_than(tree, MAX_NESTING)
    if deepest is not None:
        raise SpecError([_too_deep(_node_span(source, deepest))])
    try:
        module = _Builder(source).transform(tree)
    except VisitError as exc:  # only our own SpecErrors are expected here
        if isinstance(exc.orig_exc, SpecError):
            raise exc.orig_exc from None
        if isinstance(exc.orig_exc, RecursionError):
            raise SpecError([_too_deep(Span(source, 0, 0))]) from None
        raise exc.orig_exc from exc
    except RecursionError:
        raise SpecError([_too_deep(Span(source, 0, 0))]) from None
    assert isinstance(module, S.Module)
    return module


def _too_deep(span: Span) -> Any:
    return codes.make("SC009", f"the model is nested more than {MAX_NESTING} levels deep here",
                      span, hint=_NESTING_HINT)


def _deeper_than(tree: Tree[Token], limit: int) -> Tree[Token] | None:
    """The first node (in source order) below `limit` levels, found without recursion."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        stack.extend((c, depth + 1) for c in reversed(node.children) if isinstance(c, Tree))
    return None


def _node_span(source: SourceFile, node: Tree[Token]) -> Span:
    meta = node.meta
    if getattr(meta, "empty", True):
        return Span(source, 0, 0)
    return Span(source, meta.start_pos, meta.end_pos)


# ---- syntax errors -------------------------------------------------------------------

_PUNCT_HINTS = {
    "=": "assignment is written `:=`; comparison is `==`",
    "&&": "use `and`",
    "||": "use `or`",
    "!": "use `not`",
}


def _terminal_text(name: str) -> str:
    for term in _lark().terminals:
        if term.name == name:
            if term.pattern.type == "str":
                return f"`{term.pattern.value}`"
            return {"NAME": "a name", "INT": "a number", "STRING": "a string"}.get(
                name, name.lower())
    return {"$END": "end of file"}.get(name, name.lower())


def _syntax_diagnostic(source: SourceFile, exc: UnexpectedInput) -> Any:
    end = len(source.text)
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = source.text[pos] if pos < end else ""
        hint = _PUNCT_HINTS.get(ch) or _PUNCT_HINTS.get(source.text[pos:pos + 2])
        shown = repr(ch)[1:-1] if ch.isprintable() else f"\\u{ord(ch):04x}" if ch else "?"
        return codes.make("SC004", f"unexpected character `{shown}`", Span(source, pos, pos + 1),
                          hint=hint or "remove it, or check for a missing quote")
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        expected = sorted(getattr(exc, "expected", ()) or ())
        pos = max(0, end - 1)
        return codes.make(
            "SC005", "unexpected end of file", Span(source, pos, end),
            hint=_expected_hint(expected) or "a block or declaration is not finished")
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    start = tok.start_pos if tok.start_pos is not None else 0
    stop = tok.end_pos if tok.end_pos is not None else start + len(str(tok))
    value = str(tok)
    expected = sorted(exc.expected)
    hint = _PUNCT_HINTS.get(value) or _expected_hint(expected)
    before = source.text[:start].rstrip().rsplit(None, 1)
    if before and before[-1] in ("forall", "exists"):
        hint = (f"a quantifier inside `and`, `or`, `not` or a comparison needs parentheses: "
                f"`({before[-1]} x: T. ...)`")
    if value == "{" and "THEN" in exc.expected:
        hint = "an `if` inside an expression needs `then ... else ...`"
    return codes.make("SC003", f"unexpected `{value}`", Span(source, start, stop),
                      label="not expected here", hint=hint)


def _expected_hint(expected: list[str]) -> str | None:
    if not expected:
        return None
    texts = sorted({_terminal_text(n) for n in expected})
    if len(texts) > 8:
        texts = texts[:8] + ["..."]
    return "expected " + ", ".join(texts)


# ---- tree -> syntax ----------------------------------------------------------------


def _docs_before(source: SourceFile, offset: int) -> tuple[str, ...]:
    line, _ = source.line_col(offset)
    docs: list[str] = []
    current = source.line_text(line)[: source.line_col(offset)[1] - 1].strip()
    if current:
        return ()
    n = line - 1
    while n >= 1:
        text = source.line_text(n).strip()
        if not text.startswith("///"):
            break
        body = text[3:]
        docs.append(body[1:] if body.startswith(" ") else body)
        n -= 1
    return tuple(reversed(docs))


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.source = source

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, 0, 0)
        return Span(self.source, meta.start_pos, meta.end_pos)

    def _tok(self, tok: Token) -> Span:
        return Span(self.source, tok.start_pos or 0, tok.end_pos or 0)

    def _docs(self, meta: Any) -> tuple[str, ...]:
        return _docs_before(self.source, meta.start_pos) if not getattr(meta, "empty", True) else ()

    # -- module and declarations
    def start(self, meta: Any, items: list[Any]) -> S.Module:
        return S.Module(tuple(items), Span(self.source, 0, len(self.source.text)))

    def top(self, meta: Any, items: list[Any]) -> Any:
        return items[0]

    def model_decl(self, meta: Any, c: list[Any]) -> S.ModelDecl:
        return S.ModelDecl(str(c[0]), self._docs(meta), self._span(meta))

    def include_decl(self, meta: Any, c: list[Any]) -> S.IncludeDecl:
        return S.IncludeDecl(str(c[0])[1:-1], self._docs(meta), self._span(meta))

    def param_decl(self, meta: Any, c: list[Any]) -> S.ParamDecl:
        name, ptype, default = c
        kind, values = (None, ()) if ptype is None else ptype
        return S.ParamDecl(str(name), kind, values, default, self._docs(meta), self._span(meta))

    def int_param(self, meta: Any, c: list[Any]) -> tuple[str, tuple[str, ...]]:
        return ("int", ())

    def bool_param(self, meta: Any, c: list[Any]) -> tuple[str, tuple[str, ...]]:
        return ("bool", ())

    def enum_param(self, meta: Any, c: list[Any]) -> tuple[str, tuple[str, ...]]:
        return ("enum", c[0])

    def name_list(self, meta: Any, c: list[Any]) -> tuple[str, ...]:
        return tuple(str(x) for x in c)

    def interps_decl(self, meta: Any, c: list[Any]) -> S.InterpretersDecl:
        return S.InterpretersDecl(c[0], self._docs(meta), self._span(meta))

    def threads_decl(self, meta: Any, c: list[Any]) -> S.ThreadsDecl:
        return S.ThreadsDecl(c[0], self._docs(meta), self._span(meta))

    def sort_decl(self, meta: Any, c: list[Any]) -> S.SortDecl:
        return S.SortDecl(str(c[0]), c[1], self._docs(meta), self._span(meta))

    def enum_decl(self, meta: Any, c: list[Any]) -> S.EnumDecl:
        return S.EnumDecl(str(c[0]), c[1], self._docs(meta), self._span(meta))

    def var_decl(self, meta: Any, c: list[Any]) -> S.VarDecl:
        return S.VarDecl(str(c[0]), c[1], c[2], self._docs(meta), self._span(meta))

    def def_decl(self, meta: Any, c: list[Any]) -> S.DefDecl:
        name, params, rtype, body = c
        return S.DefDecl(str(name), params or (), rtype, body, self._docs(meta), self._span(meta))

    def lock_decl(self, meta: Any, c: list[Any]) -> S.LockDecl:
        name, index, kind, rel = c
        return S.LockDecl(str(name), index or (), kind, rel is not None, self._docs(meta),
                          self._span(meta))

    def mutex(self, meta: Any, c: list[Any]) -> str:
        return "mutex"

    def rlock(self, meta: Any, c: list[Any]) -> str:
        return "rlock"

    def object_decl(self, meta: Any, c: list[Any]) -> S.ObjectDecl:
        name, keys, raw, shared, guard = c
        return S.ObjectDecl(str(name), keys, raw is not None, shared is not None, guard,
                            self._docs(meta), self._span(meta))

    def plain_object(self, meta: Any, c: list[Any]) -> None:
        return None

    def dict_object(self, meta: Any, c: list[Any]) -> tuple[S.TypeExpr, ...]:
        return tuple(c[0])

    def tstate_decl(self, meta: Any, c: list[Any]) -> S.TStateDecl:
        return S.TStateDecl(str(c[0]), c[1], self._docs(meta), self._span(meta))

    def init_decl(self, meta: Any, c: list[Any]) -> S.InitDecl:
        return S.InitDecl(c[0], self._docs(meta), self._span(meta))

    def action_decl(self, meta: Any, c: list[Any]) -> S.ActionDecl:
        return S.ActionDecl(str(c[0]), c[1] or (), c[2], self._docs(meta), self._span(meta))

    def proc_decl(self, meta: Any, c: list[Any]) -> S.ProcDecl:
        return S.ProcDecl(str(c[0]), c[1] or (), c[2], self._docs(meta), self._span(meta))

    def invariant_decl(self, meta: Any, c: list[Any]) -> S.InvariantDecl:
        return S.InvariantDecl(str(c[0]), c[1], self._docs(meta), self._span(meta))

    def lemma_decl(self, meta: Any, c: list[Any]) -> S.InvariantDecl:
        return S.InvariantDecl(str(c[0]), c[1], self._docs(meta), self._span(meta), lemma=True)

    def expect_decl(self, meta: Any, c: list[Any]) -> S.ExpectDecl:
        return S.ExpectDecl(c[0], str(c[1]), c[2], self._docs(meta), self._span(meta))

    def sweep_decl(self, meta: Any, c: list[Any]) -> S.SweepDecl:
        return S.SweepDecl(c[0], self._docs(meta), self._span(meta))

    def holds(self, meta: Any, c: list[Any]) -> str:
        return "holds"

    def violated(self, meta: Any, c: list[Any]) -> str:
        return "violated"

    def params(self, meta: Any, c: list[Any]) -> tuple[S.Param, ...]:
        return tuple(c)

    def param(self, meta: Any, c: list[Any]) -> S.Param:
        return S.Param(str(c[0]), c[1], self._span(meta))

    def type_list(self, meta: Any, c: list[Any]) -> tuple[S.TypeExpr, ...]:
        return tuple(c)

    # -- types
    def bool_type(self, meta: Any, c: list[Any]) -> S.BoolType:
        return S.BoolType(self._span(meta))

    def int_type(self, meta: Any, c: list[Any]) -> S.IntType:
        return S.IntType(c[0], c[1], self._span(meta))

    def named_type(self, meta: Any, c: list[Any]) -> S.NamedType:
        return S.NamedType(str(c[0]), self._span(meta))

    def option_type(self, meta: Any, c: list[Any]) -> S.OptionType:
        return S.OptionType(c[0], self._span(meta))

    def map_type(self, meta: Any, c: list[Any]) -> S.MapType:
        return S.MapType((c[0],), c[1], self._span(meta))

    def tuple_map_type(self, meta: Any, c: list[Any]) -> S.MapType:
        return S.MapType(tuple(c[0]), c[1], self._span(meta))

    # -- statements
    def block(self, meta: Any, c: list[Any]) -> S.Block:
        return S.Block(tuple(c), self._span(meta))

    def assign(self, meta: Any, c: list[Any]) -> S.Assign:
        return S.Assign(c[0], c[1], self._span(meta))

    def assign_any(self, meta: Any, c: list[Any]) -> S.Assign:
        return S.Assign(c[0], None, self._span(meta))

    def target(self, meta: Any, c: list[Any]) -> S.Target:
        return S.Target(str(c[0]), tuple(c[1] or ()), self._span(meta))

    def if_stmt(self, meta: Any, c: list[Any]) -> S.If:
        cond, then, orelse = c
        if isinstance(orelse, S.If):
            orelse = S.Block((orelse,), orelse.span)
        return S.If(cond, then, orelse, self._span(meta))

    def assert_stmt(self, meta: Any, c: list[Any]) -> S.Assert:
        return S.Assert(c[0], None if c[1] is None else str(c[1]), self._span(meta))

    def await_stmt(self, meta: Any, c: list[Any]) -> S.Await:
        return S.Await(c[0], self._span(meta))

    def assume_stmt(self, meta: Any, c: list[Any]) -> S.Assume:
        return S.Assume(c[0], self._span(meta))

    def acquire_stmt(self, meta: Any, c: list[Any]) -> S.Acquire:
        return S.Acquire(c[0], self._span(meta))

    def release_stmt(self, meta: Any, c: list[Any]) -> S.Release:
        return S.Release(c[0], self._span(meta))

    def switch_to_stmt(self, meta: Any, c: list[Any]) -> S.SwitchTo:
        return S.SwitchTo(c[0], None if c[1] is None else str(c[1]), c[2] is not None,
                          self._span(meta))

    def switch_back_stmt(self, meta: Any, c: list[Any]) -> S.SwitchBack:
        return S.SwitchBack(c[0] is not None, self._span(meta))

    def _objop(self, op: str, meta: Any, c: list[Any]) -> S.ObjectOp:
        return S.ObjectOp(op, c[0], self._span(meta))

    def alloc_stmt(self, meta: Any, c: list[Any]) -> S.ObjectOp:
        return self._objop("alloc", meta, c)

    def free_stmt(self, meta: Any, c: list[Any]) -> S.ObjectOp:
        return self._objop("free", meta, c)

    def resize_stmt(self, meta: Any, c: list[Any]) -> S.ObjectOp:
        return self._objop("resize", meta, c)

    def read_stmt(self, meta: Any, c: list[Any]) -> S.ObjectOp:
        return self._objop("read", meta, c)

    def write_stmt(self, meta: Any, c: list[Any]) -> S.ObjectOp:
        return self._objop("write", meta, c)

    def insert_stmt(self, meta: Any, c: list[Any]) -> S.ObjectOp:
        return self._objop("insert", meta, c)

    def remove_stmt(self, meta: Any, c: list[Any]) -> S.ObjectOp:
        return self._objop("remove", meta, c)

    def atomic_stmt(self, meta: Any, c: list[Any]) -> S.Atomic:
        return S.Atomic(c[0], self._span(meta))

    def skip_stmt(self, meta: Any, c: list[Any]) -> S.Skip:
        return S.Skip(self._span(meta))

    def detach_stmt(self, meta: Any, c: list[Any]) -> S.Detach:
        return S.Detach(self._span(meta))

    def attach_stmt(self, meta: Any, c: list[Any]) -> S.Attach:
        return S.Attach(self._span(meta))

    def fork_stmt(self, meta: Any, c: list[Any]) -> S.Fork:
        return S.Fork(tuple(c[0] or ()), self._span(meta))

    # -- expressions
    def forall(self, meta: Any, c: list[Any]) -> S.Quant:
        return S.Quant("forall", str(c[0]), c[1], c[2], self._span(meta))

    def exists(self, meta: Any, c: list[Any]) -> S.Quant:
        return S.Quant("exists", str(c[0]), c[1], c[2], self._span(meta))

    def ite(self, meta: Any, c: list[Any]) -> S.Ite:
        return S.Ite(c[0], c[1], c[2], self._span(meta))

    def implies(self, meta: Any, c: list[Any]) -> S.Binary:
        return S.Binary("->", c[0], c[1], self._span(meta))

    def or_expr(self, meta: Any, c: list[Any]) -> S.Binary:
        return S.Binary("or", c[0], c[1], self._span(meta))

    def and_expr(self, meta: Any, c: list[Any]) -> S.Binary:
        return S.Binary("and", c[0], c[1], self._span(meta))

    def not_expr(self, meta: Any, c: list[Any]) -> S.Unary:
        return S.Unary("not", c[0], self._span(meta))

    def compare(self, meta: Any, c: list[Any]) -> S.Binary:
        return S.Binary(str(c[1]), c[0], c[2], self._span(meta))

    def arith(self, meta: Any, c: list[Any]) -> S.Binary:
        return S.Binary(str(c[1]), c[0], c[2], self._span(meta))

    def negate(self, meta: Any, c: list[Any]) -> S.Unary:
        return S.Unary("-", c[0], self._span(meta))

    def int_lit(self, meta: Any, c: list[Any]) -> S.IntLit:
        if len(c[0]) > MAX_DIGITS:
            raise SpecError([codes.make(
                "SC206", f"an integer of {len(c[0])} digits is far beyond 262144, the largest "
                "integer a model may use", self._span(meta))])
        return S.IntLit(int(c[0]), self._span(meta))

    def true_lit(self, meta: Any, c: list[Any]) -> S.BoolLit:
        return S.BoolLit(True, self._span(meta))

    def false_lit(self, meta: Any, c: list[Any]) -> S.BoolLit:
        return S.BoolLit(False, self._span(meta))

    def none_lit(self, meta: Any, c: list[Any]) -> S.NoneLit:
        return S.NoneLit(self._span(meta))

    def name(self, meta: Any, c: list[Any]) -> S.Name:
        return S.Name(str(c[0]), self._span(meta))

    def call(self, meta: Any, c: list[Any]) -> S.Call:
        return S.Call(str(c[0]), tuple(c[1] or ()), self._span(meta), self._tok(c[0]))

    def index(self, meta: Any, c: list[Any]) -> S.Index:
        return S.Index(str(c[0]), tuple(c[1]), self._span(meta), self._tok(c[0]))

    def expr_list(self, meta: Any, c: list[Any]) -> tuple[S.Expr, ...]:
        return tuple(c)

    def __default__(self, data: Any, children: Any, meta: Any) -> Any:
        raise AssertionError(f"grammar rule without a builder: {data}")


__all__ = ["parse", "grammar_keywords", "Tree"]
