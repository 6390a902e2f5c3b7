"""Surface syntax tree of a model: frozen dataclasses, each with its source span.

Produced by ``spec.parser``; consumed by ``spec.typecheck`` and ``spec.printer``.
Spans never take part in equality, so two parses of equivalent text are equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec.source import Span

# ---- types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoolType:
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IntType:
    lo: Expr
    hi: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class NamedType:
    name: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OptionType:
    inner: TypeExpr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MapType:
    keys: tuple[TypeExpr, ...]
    value: TypeExpr
    span: Span = field(compare=False, repr=False)


TypeExpr = BoolType | IntType | NamedType | OptionType | MapType

# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntLit:
    value: int
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class NoneLit:
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call:
    fn: str
    args: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)
    fn_span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Index:
    base: str
    args: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)
    base_span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" | "-"
    operand: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # and or -> == != < <= > >= + -
    left: Expr
    right: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Ite:
    cond: Expr
    then: Expr
    orelse: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Quant:
    kind: str  # "forall" | "exists"
    var: str
    type: TypeExpr
    body: Expr
    span: Span = field(compare=False, repr=False)


Expr = IntLit | BoolLit | NoneLit | Name | Call | Index | Unary | Binary | Ite | Quant

# ---- statements --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    indices: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Assign:
    target: Target
    value: Expr | None  # None means `any`
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Block
    orelse: Block | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Assert:
    cond: Expr
    name: str | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Await:
    cond: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Assume:
    cond: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Acquire:
    lock: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Release:
    lock: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SwitchTo:
    interp: Expr
    via: str | None
    keep_gil: bool
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SwitchBack:
    keep_gil: bool
    span: Span = field(compare=False, repr=False)


OBJECT_OPS = ("alloc", "free", "resize", "read", "write", "insert", "remove")


@dataclass(frozen=True, slots=True)
class ObjectOp:
    op: str  # one of OBJECT_OPS
    target: Target
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Atomic:
    body: Block
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Skip:
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Detach:
    """PyEval_SaveThread: drop the GIL and leave no current thread state."""

    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Attach:
    """PyEval_RestoreThread: take the GIL back and make the saved tstate current."""

    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Fork:
    reinit: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)


Stmt = (Assign | If | Assert | Await | Assume | Acquire | Release | SwitchTo | SwitchBack
        | ObjectOp | Atomic | Skip | Fork | Detach | Attach)


@dataclass(frozen=True, slots=True)
class Block:
    stmts: tuple[Stmt, ...]
    span: Span = field(compare=False, repr=False)


# ---- declarations ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: TypeExpr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ModelDecl:
    name: str
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IncludeDecl:
    path: str
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ParamDecl:
    name: str
    kind: str | None  # "int" | "bool" | "enum" | None (inferred from the default)
    values: tuple[str, ...]  # enum values
    default: Expr
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InterpretersDecl:
    size: Expr
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ThreadsDecl:
    size: Expr
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SortDecl:
    name: str
    size: Expr
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class EnumDecl:
    name: str
    values: tuple[str, ...]
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VarDecl:
    name: str
    type: TypeExpr
    init: Expr | None
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DefDecl:
    name: str
    params: tuple[Param, ...]
    type: TypeExpr
    body: Expr
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LockDecl:
    name: str
    index: tuple[TypeExpr, ...]
    kind: str  # "mutex" | "rlock"
    releases_gil: bool
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ObjectDecl:
    name: str
    keys: tuple[TypeExpr, ...] | None  # None: a plain object; else a dict with these keys
    raw: bool  # the container is raw memory (PyMem_RawMalloc): R2 never applies to it,
    # only to its items
    shared: bool
    guard: Expr | None
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TStateDecl:
    name: str
    interp: Expr
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InitDecl:
    body: Block
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ActionDecl:
    name: str
    params: tuple[Param, ...]
    body: Block
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ProcDecl:
    name: str
    params: tuple[Param, ...]
    body: Block
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InvariantDecl:
    name: str
    expr: Expr
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)
    lemma: bool = False  # a helper invariant for inductive proofs (`lemma NAME: ...`)


@dataclass(frozen=True, slots=True)
class ExpectDecl:
    outcome: str  # "holds" | "violated"
    name: str
    when: Expr | None  # the expectation applies only where this parameter condition holds
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SweepDecl:
    """`sweep A, B`: checking the model checks every combination of these parameters."""

    names: tuple[str, ...]
    docs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


Decl = (SweepDecl | ModelDecl | IncludeDecl | ParamDecl | InterpretersDecl | ThreadsDecl | SortDecl
        | EnumDecl | VarDecl | DefDecl | LockDecl | ObjectDecl | TStateDecl | InitDecl
        | ActionDecl | ProcDecl | InvariantDecl | ExpectDecl)


@dataclass(frozen=True, slots=True)
class Module:
    decls: tuple[Decl, ...]
    span: Span = field(compare=False, repr=False)
