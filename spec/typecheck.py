"""Name resolution and type checking: LoadedModel (+ -D overrides) -> Program.

Resolves every name against one global namespace (declarations, sort
elements, enum values) plus local scopes (parameters, quantified variables),
folds model parameters to constants, inlines `def`s, and turns surface
expressions into typed ``spec.terms``. Errors are collected per declaration
and statement and raised together as one SpecError (SC1xx, SC2xx, SC3xx, SC4xx,
SC5xx), sorted by position.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from spec import budget, codes
from spec import syntax as S
from spec import terms as T
from spec.diagnostics import Diagnostic, DiagnosticSink, SpecError
from spec.loader import LoadedModel
from spec.printer import print_expr
from spec.program import (
    ACTOR,
    BUILTIN_PROPERTIES,
    CUR,
    HOLDER,
    LEVEL,
    LEVEL_T,
    LIVE,
    PC,
    PROC,
    SAVED,
    ExpectInfo,
    InvariantInfo,
    LockInfo,
    ObjectInfo,
    ParamInfo,
    Program,
    RoutineInfo,
    TAcquire,
    TAssert,
    TAssign,
    TAssume,
    TAtomic,
    TAttach,
    TAwait,
    TDetach,
    TFork,
    TIf,
    TObjectOp,
    TRelease,
    TStateInfo,
    TStmt,
    TSwitchBack,
    TSwitchTo,
    VarInfo,
    arg_var,
    gil_id,
    items_var,
    obj_var,
    tstate_var,
)
from spec.sorts import (
    BOOL,
    BoolT,
    EnumT,
    IntT,
    MapT,
    NoneT,
    OptionT,
    Type,
    Value,
    assignable,
    cell_count,
    domain_size,
    strip_option,
)
from spec.source import BUILTIN_SPAN, Span

MAX_INTERPS = 8
MAX_THREADS = 8
MAX_SORT = 32
MAX_INT_WIDTH = 1024
MAX_MAP_CELLS = 4096
# integers stay well inside the encoder's bit-vectors (checker/encode.py, WIDTH)
MAX_INT_MAGNITUDE = 2 ** 18

BUILTIN_FUNCTIONS: dict[str, str] = {
    "holder": "holder(L): the thread holding lock L, or none",
    "held": "held(L): whether any thread holds lock L",
    "level": "level(L): recursion level of a recursive lock",
    "owner": "owner(O) / owner(O[k]): interpreter that allocated O (or item k), or none",
    "alive": "alive(O): whether object O is allocated",
    "has": "has(O, k): whether dict object O has an item at key k",
    "cur": "cur(t): interpreter of thread t's current thread state, or none",
    "gil": "gil(i): the GIL interpreter i uses (its own, or main's when shared)",
    "live": "live(t): whether thread t still exists (false after another thread forked)",
    "bound": "bound(ts): the thread a detached thread state is bound to, or none",
    "running": "running(t, p): whether thread t is inside procedure p",
    "idle": "idle(t): whether thread t is not inside any procedure",
    "at": "at(t, p, n, ...): whether thread t is at step n (or one of the steps) of procedure p",
    "saved": "saved(t): the interpreter `switch back` returns thread t to, or none",
    "arg": "arg(t, p, x): argument x of thread t's latest call of procedure p",
}


class _Bail(Exception):
    """Abandon the current declaration or statement after recording a diagnostic."""


@dataclass
class _Def:
    params: tuple[tuple[str, Type], ...]
    type: Type
    decl: S.DefDecl
    body: T.Term | None = None  # checked on first use (so a def may use later declarations)


@dataclass
class _Env:
    locals: dict[str, Type] = field(default_factory=dict)
    actor: str | None = None
    state: bool = True  # may the expression read state?
    what: str = "expression"


def check(model: LoadedModel, overrides: Mapping[str, str] | None = None) -> Program:
    budget.check_nesting(model)  # before inlining definitions copies them everywhere
    try:
        program = _Checker(model, dict(overrides or {})).run()
    except RecursionError:
        raise SpecError([codes.make("SC009", "the model is nested too deeply to check",
                                    Span(model.root, 0, 0),
                                    hint="split deep expressions with `def`")]) from None
    budget.check_size(program)  # before any engine expands quantifiers and parameters
    return program


class _Checker:
    def __init__(self, model: LoadedModel, overrides: dict[str, str]) -> None:
        self.model = model
        self.overrides = overrides
        self.sink = DiagnosticSink()
        self.globals: dict[str, tuple[str, Span]] = {}  # name -> (kind, span)
        self.params: dict[str, ParamInfo] = {}
        self.sorts: dict[str, EnumT] = {}
        self.elements: dict[str, EnumT] = {}
        self.defs: dict[str, _Def] = {}
        self.vars: dict[str, VarInfo] = {}
        self.locks: dict[str, LockInfo] = {}
        self.objects: dict[str, ObjectInfo] = {}
        self.tstates: dict[str, TStateInfo] = {}
        self.procs: list[str] = []
        self.proc_decls: dict[str, S.ProcDecl] = {}
        self.interp: EnumT | None = None
        self.thread: EnumT | None = None
        self.lock_sort = EnumT("Lock", ())
        self.proc_sort = EnumT("Proc", ())
        self.asserts: dict[str, Span] = {}
        self.failed: set[str] = set()
        self.sweep: list[str] = []
        self.def_stack: list[str] = []
        self.runtime_ready = False
        self.gil_of: dict[str, str] = {}
        self.alloc_of: dict[str, str] = {}

    # ---- helpers -----------------------------------------------------------------------
    def err(self, code: str, message: str, span: Span | None, **kw: object) -> _Bail:
        self.sink.add(codes.make(code, message, span, **kw))  # type: ignore[arg-type]
        return _Bail()

    def declare(self, name: str, kind: str, span: Span) -> None:
        if name in BUILTIN_FUNCTIONS or name in BUILTIN_PROPERTIES or name in ("gil", "main"):
            raise self.err("SC106", f"`{name}` is a built-in name and cannot be redeclared", span,
                           hint="choose another name")
        if name in self.globals:
            prev_kind, prev = self.globals[name]
            raise self.err("SC102", f"`{name}` is already declared (as a {prev_kind})", span,
                           notes=[f"first declared at {prev.describe()}"],
                           hint="rename one of them")
        self.globals[name] = (kind, span)

    def run(self) -> Program:
        decls = self.model.decls
        model_decl = self._model_decl(decls)
        self._check_overrides(decls)
        later: list[S.Decl] = []
        for d in decls:
            try:
                self._declare_first(d, later)
            except _Bail:
                name = getattr(d, "name", None)
                if isinstance(name, str):
                    self.failed.add(name)  # later uses of it report nothing more
        self._finish_runtime()
        routines: list[RoutineInfo] = []
        invariants: list[InvariantInfo] = []
        init: list[TStmt] = []
        expects: list[S.ExpectDecl] = []
        for d in later:
            try:
                if isinstance(d, S.InvariantDecl):
                    term = self.expr(d.expr, _Env(what="invariant"), BOOL)
                    invariants.append(InvariantInfo(d.name, term, print_expr(d.expr), d.span,
                                                    d.docs, d.lemma))
                elif isinstance(d, S.InitDecl):
                    init.extend(self.block(d.body.stmts, _Env(what="init"), "init", "init", []))
                elif isinstance(d, S.ActionDecl | S.ProcDecl):
                    routines.append(self.routine(d))
                elif isinstance(d, S.ExpectDecl):
                    expects.append(d)
                elif isinstance(d, S.SweepDecl):
                    for name in d.names:
                        p = self.params.get(name)
                        if p is None:
                            raise self._unknown(d.span, "parameter", name, list(self.params))
                        if not isinstance(p.type, BoolT | EnumT):
                            raise self.err("SC201", f"`sweep` takes boolean and enumeration "
                                           f"parameters; `{name}` is {p.type}", d.span,
                                           hint="fix integer parameters with -D instead")
                        if name not in self.sweep:
                            self.sweep.append(name)
            except _Bail:
                pass
        expect_infos = self._expects(expects, invariants)
        self.sink.raise_if_any()
        assert model_decl is not None
        return Program(
            name=model_decl.name, docs=model_decl.docs, span=model_decl.span,
            files=self.model.files, params=tuple(self.params.values()),
            sorts=tuple(self.sorts.values()), interp=self.interp, thread=self.thread,
            lock_sort=self.lock_sort, proc_sort=self.proc_sort,
            vars=tuple(self.vars.values()), locks=tuple(self.locks.values()),
            objects=tuple(self.objects.values()), tstates=tuple(self.tstates.values()),
            init=tuple(init), routines=tuple(routines), invariants=tuple(invariants),
            asserts=tuple(self.asserts.items()), expects=expect_infos,
            gil_of=tuple(self.gil_of.items()), allocator_of=tuple(self.alloc_of.items()),
            lock_kinds=tuple((i, info.kind, info.releases_gil)
                             for info in self.locks.values() for i in info.ids),
            sweep=tuple(self.sweep),
        )

    def _model_decl(self, decls: tuple[S.Decl, ...]) -> S.ModelDecl | None:
        models = [d for d in decls if isinstance(d, S.ModelDecl)]
        if not models:
            self.sink.add(codes.make("SC103", "the file does not start with `model NAME`",
                                     _first_span(self.model),
                                     hint="add `model <name>` as the first declaration"))
            self.sink.raise_if_any()
        if decls and not isinstance(decls[0], S.ModelDecl):
            self.sink.add(codes.make("SC103", "`model NAME` must be the first declaration",
                                     models[0].span, hint="move it to the top of the file"))
        for extra in models[1:]:
            self.sink.add(codes.make("SC103", "a file declares only one model", extra.span))
        return models[0]

    def _check_overrides(self, decls: tuple[S.Decl, ...]) -> None:
        declared = [d.name for d in decls if isinstance(d, S.ParamDecl)]
        for name in self.overrides:
            if name not in declared:
                self.sink.add(codes.make(
                    "SC501", f"-D {name}: the model has no parameter `{name}`", None,
                    hint=codes.did_you_mean(name, declared) or
                    ("parameters: " + ", ".join(declared) if declared else "it declares none")))

    # ---- declarations that others depend on --------------------------------------------
    def _declare_first(self, d: S.Decl, later: list[S.Decl]) -> None:
        match d:
            case S.ModelDecl() | S.IncludeDecl():
                return
            case S.ParamDecl():
                self._param(d)
            case S.InterpretersDecl():
                self._runtime_sort(d, "Interp")
            case S.ThreadsDecl():
                self._runtime_sort(d, "Thread")
            case S.SortDecl():
                self.declare(d.name, "sort", d.span)
                n = self._size(d.size, MAX_SORT, f"sort `{d.name}`")
                base = d.name.lower()
                self._add_sort(EnumT(d.name, tuple(f"{base}{i}" for i in range(1, n + 1))), d.span)
            case S.EnumDecl():
                self.declare(d.name, "enum", d.span)
                if len(set(d.values)) != len(d.values):
                    raise self.err("SC102", f"enum `{d.name}` repeats a value", d.span)
                self._add_sort(EnumT(d.name, d.values), d.span)
            case S.DefDecl():
                self._def(d)
            case S.VarDecl():
                self._var(d)
            case S.LockDecl():
                self._lock(d)
            case S.ObjectDecl():
                self._object_decl(d)
            case S.TStateDecl():
                self._tstate(d)
            case S.ProcDecl():
                self.declare(d.name, "procedure", d.span)
                self.procs.append(d.name)
                self.proc_decls[d.name] = d
                later.append(d)
            case S.ActionDecl():
                self.declare(d.name, "action", d.span)
                later.append(d)
            case S.InvariantDecl():
                self.declare(d.name, "lemma" if d.lemma else "invariant", d.span)
                later.append(d)
            case S.InitDecl() | S.ExpectDecl() | S.SweepDecl():
                later.append(d)
            case _:
                raise AssertionError(d)

    def _param(self, d: S.ParamDecl) -> None:
        self.declare(d.name, "parameter", d.span)
        ptype: Type
        if d.kind == "enum":
            if len(set(d.values)) != len(d.values):
                raise self.err("SC102", f"parameter `{d.name}` repeats a value", d.span)
            ptype = EnumT(d.name, d.values)
            for v in d.values:
                self.declare(v, f"value of parameter {d.name}", d.span)
                self.elements[v] = ptype
        default = self.expr(d.default, _Env(state=False, what="parameter default"))
        if d.kind == "int" or (d.kind is None and isinstance(default.type, IntT)):
            ptype = IntT(-(2**31), 2**31 - 1)
        elif d.kind == "bool" or (d.kind is None and isinstance(default.type, BoolT)):
            ptype = BOOL
        elif d.kind is None:
            ptype = default.type
        if not assignable(ptype, default.type):
            raise self.err("SC201", f"parameter `{d.name}` is {ptype} but its default is "
                           f"{default.type}", d.default.span)
        value = self.const(default, d.default.span)
        if d.name in self.overrides:
            value = self._override_value(d.name, ptype, self.overrides[d.name])
        self.params[d.name] = ParamInfo(d.name, ptype, value, d.span, d.docs)

    def _override_value(self, name: str, ptype: Type, text: str) -> Value:
        text = text.strip()
        if isinstance(ptype, IntT):
            try:
                n = int(text)
            except ValueError:
                pass
            else:
                if abs(n) <= MAX_INT_MAGNITUDE:
                    return n
        elif isinstance(ptype, BoolT) and text in ("true", "false"):
            return text == "true"
        elif isinstance(ptype, EnumT) and text in ptype.values:
            return text
        expected = (f"an integer between -{MAX_INT_MAGNITUDE} and {MAX_INT_MAGNITUDE}"
                    if isinstance(ptype, IntT) else "true or false"
                    if isinstance(ptype, BoolT) else "one of " + ", ".join(ptype.values)
                    if isinstance(ptype, EnumT) else str(ptype))
        raise self.err("SC502", f"-D {name}={text}: expected {expected}", None,
                       hint=codes.did_you_mean(text, ptype.values)
                       if isinstance(ptype, EnumT) else None)

    def _size(self, e: S.Expr, limit: int, what: str) -> int:
        term = self.expr(e, _Env(state=False, what="size"))
        if not isinstance(term.type, IntT):
            raise self.err("SC201", f"the size of {what} must be an integer", e.span)
        n = self.const(term, e.span)
        assert isinstance(n, int)
        if n < 1 or n > limit:
            raise self.err("SC401", f"{what} has size {n}; sizes must be between 1 and {limit}",
                           e.span, hint="choose a smaller instance (override it with -D)")
        return n

    def _runtime_sort(self, d: S.InterpretersDecl | S.ThreadsDecl, name: str) -> None:
        if name in self.sorts:
            raise self.err("SC102", f"`{name}` is already declared", d.span)
        self.globals[name] = ("sort", d.span)
        if name == "Interp":
            n = self._size(d.size, MAX_INTERPS, "the interpreters")
            values = ("main", *(f"sub{i}" for i in range(1, n)))
        else:
            n = self._size(d.size, MAX_THREADS, "the threads")
            values = tuple(f"t{i}" for i in range(1, n + 1))
        sort = EnumT(name, values)
        self._add_sort(sort, d.span)
        if name == "Interp":
            self.interp = sort
        else:
            self.thread = sort

    def _add_sort(self, sort: EnumT, span: Span) -> None:
        self.sorts[sort.name] = sort
        for v in sort.values:
            if v in self.globals and self.globals[v][0] != f"element of {sort.name}":
                raise self.err("SC102", f"element `{v}` of `{sort.name}` clashes with a "
                               "declaration", span, hint="rename the declaration")
            self.globals[v] = (f"element of {sort.name}", span)
            self.elements[v] = sort

    def _def(self, d: S.DefDecl) -> None:
        self.declare(d.name, "definition", d.span)
        params = tuple((p.name, self.type(p.type)) for p in d.params)
        rtype = self.type(d.type)
        self.defs[d.name] = _Def(params, rtype, d)

    def def_body(self, name: str) -> T.Term:
        df = self.defs[name]
        if df.body is None:
            if name in self.def_stack:
                chain = " -> ".join([*self.def_stack[self.def_stack.index(name):], name])
                raise self.err("SC108", f"definition `{name}` refers to itself ({chain})",
                               df.decl.span, hint="definitions are macros; they cannot recurse")
            self.def_stack.append(name)
            try:
                env = _Env(locals=dict(df.params), what=f"definition `{name}`")
                df.body = self.expr(df.decl.body, env, df.type)
            except _Bail:
                self.failed.add(name)
                raise
            finally:
                self.def_stack.pop()
        return df.body

    def _var(self, d: S.VarDecl) -> None:
        self.declare(d.name, "variable", d.span)
        vtype = self.type(d.type)
        if isinstance(vtype, MapT) and cell_count(vtype) > MAX_MAP_CELLS:
            raise self.err("SC407", f"`{d.name}` has {cell_count(vtype)} cells; the limit is "
                           f"{MAX_MAP_CELLS}", d.type.span, hint="use smaller sorts")
        init: T.Term | None = None
        if d.init is not None:
            cell = vtype.value if isinstance(vtype, MapT) else vtype
            init = self.expr(d.init, _Env(state=False, what="initial value"), cell)
            self.const(init, d.init.span)
        self.vars[d.name] = VarInfo(d.name, vtype, init, d.span, d.docs)

    def _lock(self, d: S.LockDecl) -> None:
        self.declare(d.name, "lock", d.span)
        index = tuple(self.type(t) for t in d.index)
        for t, syn in zip(index, d.index, strict=True):
            if not isinstance(t, EnumT):
                raise self.err("SC207", "lock families are indexed by sorts", syn.span)
        ids: tuple[str, ...]
        if index:
            import itertools
            ids = tuple(f"{d.name}[{', '.join(map(str, combo))}]"
                        for combo in itertools.product(*(t.values for t in index)))  # type: ignore[union-attr]
        else:
            ids = (d.name,)
        self.locks[d.name] = LockInfo(d.name, index, d.kind, d.releases_gil, ids, d.span, d.docs)
        self.lock_sort = EnumT("Lock", (*self.lock_sort.values, *ids))

    def _object_decl(self, d: S.ObjectDecl) -> None:
        self.declare(d.name, "object", d.span)
        keys = None if d.keys is None else tuple(self.type(k) for k in d.keys)
        if self.interp is None:
            raise self.err("SC405", "objects need `interpreters(N)` declared before them", d.span,
                           hint='add `include "runtime.spec"` or `interpreters(2)`')
        self.objects[d.name] = ObjectInfo(d.name, keys, d.raw, d.shared, None, "", d.span,
                                          d.docs)
        if d.shared and d.guard is None:
            raise self.err("SC403", f"shared object `{d.name}` needs `guarded_by LOCK`", d.span)
        if d.guard is not None and not d.shared:
            raise self.err("SC403", f"`guarded_by` needs `shared` on object `{d.name}`", d.span)

    def _tstate(self, d: S.TStateDecl) -> None:
        self.declare(d.name, "thread state", d.span)
        if self.interp is None:
            raise self.err("SC405", "thread states need `interpreters(N)` declared first", d.span)
        term = self.expr(d.interp, _Env(state=False, what="thread state"), self.interp)
        value = self.const(term, d.interp.span)
        self.tstates[d.name] = TStateInfo(d.name, str(value), d.span, d.docs)

    def _finish_runtime(self) -> None:
        """GILs, allocators and shared-object guards, once every declaration is known."""
        if self.interp is not None:
            for i in self.interp.values:
                try:
                    own = i == "main" or self._flag("own_gil", i, default=False)
                except _Bail:  # reported; carry on as if the flag were false
                    own = i == "main"
                self.gil_of[i] = gil_id(i if own else "main")
                try:
                    main_alloc = i != "main" and self._flag("shares_main_obmalloc", i,
                                                            default=False)
                except _Bail:
                    main_alloc = False
                self.alloc_of[i] = "main" if main_alloc else i
            self.runtime_ready = True
            gils = tuple(dict.fromkeys(self.gil_of.values()))
            self.locks["gil"] = LockInfo("gil", (self.interp,), "gil", False, gils, BUILTIN_SPAN)
            self.lock_sort = EnumT("Lock", (*self.lock_sort.values, *gils))
        self.proc_sort = EnumT("Proc", tuple(self.procs))
        self.runtime_ready = True
        for name in self.defs:  # report errors in definitions nothing uses
            if name not in self.failed:
                with contextlib.suppress(_Bail):
                    self.def_body(name)
        for d in self.model.decls:
            if isinstance(d, S.ObjectDecl) and d.guard is not None and d.name in self.objects:
                try:
                    env = _Env(locals={}, actor=ACTOR if self.thread else None, what="guard")
                    if self.thread is not None:
                        env.locals[ACTOR] = self.thread
                    guard, _ = self.lock_term(d.guard, env)
                    info = self.objects[d.name]
                    text = str(guard.value) if isinstance(guard, T.Lit) else print_expr(d.guard)
                    self.objects[d.name] = ObjectInfo(info.name, info.keys, info.raw, info.shared,
                                                      guard, text, info.span, info.docs)
                except _Bail:
                    pass

    def _flag(self, name: str, interp: str, default: bool) -> bool:
        if name not in self.defs:
            return default
        if name in self.failed:
            raise _Bail()
        df = self.defs[name]
        if len(df.params) != 1 or df.params[0][1] != self.interp or df.type != BOOL:
            span = self.globals[name][1]
            raise self.err("SC201", f"`{name}` must be `def {name}(i: Interp): bool`", span)
        body = self.def_body(name)
        value = self.const(T.substitute(body, {df.params[0][0]: T.Lit(interp, self.interp)}),
                           self.globals[name][1])
        return bool(value)

    def _expects(self, expects: list[S.ExpectDecl], invariants: list[InvariantInfo]
                 ) -> tuple[ExpectInfo, ...]:
        known = [i.name for i in invariants] + list(BUILTIN_PROPERTIES) + list(self.asserts)
        out: list[ExpectInfo] = []
        seen: dict[str, Span] = {}
        for d in expects:
            if d.name not in known:
                self.sink.add(codes.make("SC105", f"`expect` names unknown property `{d.name}`",
                                         d.span, hint=codes.did_you_mean(d.name, known) or
                                         "properties: " + ", ".join(known)))
                continue
            if d.when is not None:
                try:
                    cond = self.expr(d.when, _Env(state=False, what="`when` condition"), BOOL)
                    applies = bool(self.const(cond, d.when.span))
                except _Bail:
                    continue
                if not applies:
                    continue
            if d.name in seen:
                self.sink.add(codes.make("SC102", f"two expectations for `{d.name}` apply to this "
                                         "configuration", d.span,
                                         notes=[f"the other is at {seen[d.name].describe()}"],
                                         hint="make their `when` conditions exclusive"))
                continue
            seen[d.name] = d.span
            out.append(ExpectInfo(d.name, d.outcome, d.span))
        return tuple(out)

    # ---- types -------------------------------------------------------------------------
    def type(self, t: S.TypeExpr) -> Type:
        match t:
            case S.BoolType():
                return BOOL
            case S.IntType(lo, hi):
                env = _Env(state=False, what="integer bound")
                bounds: list[int] = []
                for bound in (lo, hi):
                    term = self.expr(bound, env)
                    if not isinstance(term.type, IntT):
                        raise self.err("SC201", f"an integer bound must be an integer, found "
                                       f"{term.type}", bound.span)
                    value = self.const(term, bound.span)
                    assert isinstance(value, int) and not isinstance(value, bool)
                    bounds.append(value)
                lo_v, hi_v = bounds
                if max(-lo_v, hi_v) > MAX_INT_MAGNITUDE:
                    raise self.err("SC401", f"int[{lo_v}..{hi_v}] reaches beyond "
                                   f"±{MAX_INT_MAGNITUDE}", t.span, hint="use a small range")
                if lo_v > hi_v or hi_v - lo_v > MAX_INT_WIDTH:
                    raise self.err("SC401", f"int[{lo_v}..{hi_v}] is empty or wider than "
                                   f"{MAX_INT_WIDTH}", t.span, hint="use a small range")
                return IntT(lo_v, hi_v)
            case S.NamedType(name):
                if name in self.sorts:
                    return self.sorts[name]
                if name in self.params and isinstance(self.params[name].type, EnumT):
                    return self.params[name].type
                if name == "Lock":
                    return self.lock_sort
                raise self.err("SC104", f"unknown type `{name}`", t.span,
                               hint=codes.did_you_mean(name, [*self.sorts, "bool", "int"])
                               or "declare it with `sort`, `enum`, `interpreters` or `threads`")
            case S.OptionType(inner):
                it = self.type(inner)
                if isinstance(it, OptionT | MapT):
                    raise self.err("SC207", f"`{it}?` is not supported", t.span,
                                   hint="options hold scalar values")
                return OptionT(it)
            case S.MapType(keys, value):
                kts = tuple(self.type(k) for k in keys)
                vt = self.type(value)
                for k, syn in zip(kts, keys, strict=True):
                    if isinstance(k, MapT) or domain_size(k) > MAX_MAP_CELLS:
                        raise self.err("SC207", f"`{k}` cannot index a map", syn.span)
                if isinstance(vt, MapT):
                    raise self.err("SC207", "maps of maps are not supported", value.span,
                                   hint="use a tuple key: `(A, B) -> V`")
                return MapT(kts, vt)
        raise AssertionError(t)

    # ---- constants ---------------------------------------------------------------------
    def const(self, term: T.Term, span: Span) -> Value:
        try:
            return _const_eval(term)
        except _NotConst:
            raise self.err("SC406", "this must be a constant (parameters, literals and "
                           "arithmetic only)", span) from None

    # ---- expressions -------------------------------------------------------------------
    def expr(self, e: S.Expr, env: _Env, expected: Type | None = None) -> T.Term:
        term = self._expr(e, env)
        if expected is not None and not assignable(expected, term.type):
            raise self.err("SC201", f"expected {expected}, found {term.type}", e.span,
                           label=f"this is {term.type}")
        bare = expected.inner if isinstance(expected, OptionT) else expected
        if (isinstance(bare, IntT) and isinstance(term, T.Lit) and isinstance(term.value, int)
                and not isinstance(term.value, bool) and not bare.lo <= term.value <= bare.hi):
            raise self.err("SC206", f"{term.value} is outside {bare}", e.span)
        return term

    def _expr(self, e: S.Expr, env: _Env) -> T.Term:
        match e:
            case S.IntLit(v):
                if v > MAX_INT_MAGNITUDE:
                    raise self.err("SC206", f"{v} is larger than {MAX_INT_MAGNITUDE}, the largest "
                                   "integer a model may use", e.span)
                return T.Lit(v, IntT(v, v))
            case S.BoolLit(v):
                return T.Lit(v, BOOL)
            case S.NoneLit():
                return T.Lit(None, NoneT())
            case S.Name(name):
                return self._name(name, e.span, env)
            case S.Index(base, args):
                return self._index(e, base, args, env)
            case S.Call(fn, args):
                return self._call(e, fn, args, env)
            case S.Unary("not", operand):
                return T.neg(self.expr(operand, env, BOOL))
            case S.Unary("-", operand):
                x = self._int(operand, env)
                assert isinstance(x.type, IntT)
                if isinstance(x, T.Lit):
                    return T.Lit(-x.value, IntT(-x.value, -x.value))  # type: ignore[operator]
                return T.Op("neg", (x,), IntT(-x.type.hi, -x.type.lo))
            case S.Binary(op, left, right):
                return self._binary(e, op, left, right, env)
            case S.Ite(c, a, b):
                cond = self.expr(c, env, BOOL)
                ta, tb = self._expr(a, env), self._expr(b, env)
                joined = self._join(ta.type, tb.type, e.span)
                return T.ite(cond, _retype(ta, joined), _retype(tb, joined))
            case S.Quant(kind, var, vtype, body):
                vt = self.type(vtype)
                if isinstance(vt, MapT):
                    raise self.err("SC207", "cannot quantify over maps", vtype.span)
                if var in env.locals or var in self.globals:
                    raise self.err("SC102", f"`{var}` shadows another name", e.span,
                                   hint="pick a fresh name for the bound variable")
                inner = _Env(dict(env.locals), env.actor, env.state, env.what)
                inner.locals[var] = vt
                qbody = self.expr(body, inner, BOOL)
                return T.Quant(kind, var, vt, qbody)
        raise AssertionError(e)

    def _int(self, e: S.Expr, env: _Env) -> T.Term:
        t = self._expr(e, env)
        if not isinstance(t.type, IntT):
            raise self.err("SC201", f"expected an integer, found {t.type}", e.span)
        return t

    def _join(self, a: Type, b: Type, span: Span) -> Type:
        if a == b:
            return a
        if isinstance(a, IntT) and isinstance(b, IntT):
            return IntT(min(a.lo, b.lo), max(a.hi, b.hi))
        if isinstance(a, NoneT) and not isinstance(b, MapT):
            return b if isinstance(b, OptionT | NoneT) else OptionT(b)
        if isinstance(b, NoneT):
            return self._join(b, a, span)
        if isinstance(a, OptionT) and assignable(a, b):
            return a
        if isinstance(b, OptionT) and assignable(b, a):
            return b
        raise self.err("SC201", f"branches have different types: {a} and {b}", span)

    def _binary(self, e: S.Expr, op: str, left: S.Expr, right: S.Expr, env: _Env) -> T.Term:
        if op in ("and", "or", "->"):
            a, b = self.expr(left, env, BOOL), self.expr(right, env, BOOL)
            return T.conj(a, b) if op == "and" else T.disj(a, b) if op == "or" else T.implies(a, b)
        if op in ("+", "-"):
            a, b = self._int(left, env), self._int(right, env)
            assert isinstance(a.type, IntT) and isinstance(b.type, IntT)
            if op == "+":
                rt = IntT(a.type.lo + b.type.lo, a.type.hi + b.type.hi)
            else:
                rt = IntT(a.type.lo - b.type.hi, a.type.hi - b.type.lo)
            if min(rt.lo, -rt.hi) < -MAX_INT_MAGNITUDE:
                raise self.err("SC206", f"this arithmetic can reach {rt.lo}..{rt.hi}, beyond the "
                               f"supported ±{MAX_INT_MAGNITUDE}", e.span,
                               hint="use smaller integer ranges")
            if isinstance(a, T.Lit) and isinstance(b, T.Lit):
                assert isinstance(a.value, int) and isinstance(b.value, int)
                n = a.value + b.value if op == "+" else a.value - b.value
                return T.Lit(n, IntT(n, n))
            return T.Op("add" if op == "+" else "sub", (a, b), rt)
        if op in ("<", "<=", ">", ">="):
            a, b = self._int(left, env), self._int(right, env)
            name = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
            if isinstance(a, T.Lit) and isinstance(b, T.Lit):
                return T.Lit(_const_eval(T.Op(name, (a, b), BOOL)), BOOL)
            return T.Op(name, (a, b), BOOL)
        # == and !=
        a, b = self._expr(left, env), self._expr(right, env)
        if isinstance(a.type, MapT) or isinstance(b.type, MapT):
            raise self.err("SC201", "maps cannot be compared as a whole", e.span,
                           hint="compare cells, or quantify over the keys")
        if not (assignable(a.type, b.type) or assignable(b.type, a.type)
                or (isinstance(a.type, OptionT) and assignable(a.type.inner, b.type))
                or (isinstance(b.type, OptionT) and assignable(b.type.inner, a.type))):
            raise self.err("SC201", f"cannot compare {a.type} with {b.type}", e.span,
                           label="different types")
        return T.eq(a, b) if op == "==" else T.ne(a, b)

    def _name(self, name: str, span: Span, env: _Env) -> T.Term:
        if name in self.failed and name not in env.locals:
            raise _Bail()
        if name in env.locals:
            return T.Local(name, env.locals[name])
        if name in self.params:
            p = self.params[name]
            if isinstance(p.type, IntT):
                assert isinstance(p.value, int)
                return T.Lit(p.value, IntT(p.value, p.value))
            return T.Lit(p.value, p.type)
        if name in self.elements:
            return T.Lit(name, self.elements[name])
        if name in self.vars:
            if not env.state:
                raise self.err("SC406", f"{env.what} cannot read variable `{name}`", span,
                               hint="only parameters and literals are allowed here")
            return T.VarRef(name, self.vars[name].type)
        if name in self.defs:
            return self._inline(name, (), span, env)
        if name == "gil":
            if env.actor is None:
                raise self.err("SC302", "`gil` alone means the running thread's GIL; there is no "
                               "running thread here", span, hint="write `gil(main)` or `gil(i)`")
            return self._gil_of(self._cur(T.Local(env.actor, self.thread)),  # type: ignore[arg-type]
                                span)
        if name in self.locks:
            if self.locks[name].index:
                raise self.err("SC202", f"lock family `{name}` needs an index", span,
                               hint=f"write `{name}[...]`")
            return T.Lit(name, self.lock_sort)
        if name in self.globals:
            kind = self.globals[name][0]
            raise self.err("SC201", f"`{name}` is a {kind} and has no value here", span)
        known = [*env.locals, *self.params, *self.elements, *self.vars, *self.defs, *self.locks]
        raise self._unknown(span, "name", name, known)

    def _unknown(self, span: Span, what: str, name: str, known: list[str]) -> _Bail:
        self.sink.add(codes.unknown_name(span, what, name, known))
        return _Bail()

    def _inline(self, name: str, args: tuple[S.Expr, ...], span: Span, env: _Env) -> T.Term:
        df = self.defs[name]
        if len(args) != len(df.params):
            raise self.err("SC202", f"`{name}` takes {len(df.params)} argument(s), "
                           f"{len(args)} given", span)
        values = {p: self.expr(a, env, t) for (p, t), a in zip(df.params, args, strict=True)}
        body = T.substitute(self.def_body(name), values)
        if not env.state and T.free_vars(body):
            raise self.err("SC406", f"{env.what} cannot use `{name}`: it reads state", span)
        return body

    def _index(self, e: S.Expr, base: str, args: tuple[S.Expr, ...], env: _Env) -> T.Term:
        if base in self.failed:
            raise _Bail()
        if base in self.vars:
            vt = self.vars[base].type
            if not isinstance(vt, MapT):
                raise self.err("SC203", f"`{base}` is {vt}, not a map", e.span)
            if len(args) != len(vt.keys):
                raise self.err("SC202", f"`{base}` takes {len(vt.keys)} index(es), "
                               f"{len(args)} given", e.span)
            idx = tuple(self.expr(a, env, k) for a, k in zip(args, vt.keys, strict=True))
            if not env.state:
                raise self.err("SC406", f"{env.what} cannot read variable `{base}`", e.span)
            return T.select(T.VarRef(base, vt), idx)
        if base in self.locks:
            term, _ = self.lock_term(e, env)
            return term
        if base in self.objects:
            raise self.err("SC203", f"`{base}[...]` is an item of a dict object, not a value",
                           e.span, hint=f"use `has({base}, k)` or `owner({base}[k])`")
        if base in self.globals:
            raise self.err("SC203", f"`{base}` cannot be indexed", e.span)
        raise self._unknown(e.span, "map", base, [*self.vars, *self.locks, *self.objects])

    def _call(self, e: S.Expr, fn: str, args: tuple[S.Expr, ...], env: _Env) -> T.Term:
        if fn in self.failed:
            raise _Bail()
        if fn in self.defs:
            return self._inline(fn, args, e.span, env)
        if fn not in BUILTIN_FUNCTIONS:
            if fn in self.globals:
                raise self.err("SC204", f"`{fn}` is a {self.globals[fn][0]}, not a function",
                               e.span)
            raise self._unknown(e.span, "function", fn, [*self.defs, *BUILTIN_FUNCTIONS])
        if fn == "at":
            return self._at(e, args, env)
        if fn == "arg":
            return self._arg(e, args, env)
        arity = {"has": 2, "running": 2}.get(fn, 1)
        if len(args) != arity:
            raise self.err("SC202", f"`{fn}` takes {arity} argument(s), {len(args)} given",
                           e.span, hint=BUILTIN_FUNCTIONS[fn])
        if not env.state and fn != "gil":
            raise self.err("SC406", f"{env.what} cannot read runtime state (`{fn}`)", e.span)
        if fn in ("holder", "held", "level"):
            self._need_thread(e.span)
            lock, family = self.lock_term(args[0], env)
            holder = T.select(T.VarRef(HOLDER, self._holder_t()), (lock,))
            if fn == "holder":
                return holder
            if fn == "held":
                return T.ne(holder, T.Lit(None, NoneT()))
            if family in ("gil", "any") or self.locks[family].kind != "rlock":
                raise self.err("SC402", "`level` is defined for recursive locks (`rlock`)",
                               args[0].span)
            return T.select(T.VarRef(LEVEL, MapT((self.lock_sort,), LEVEL_T)), (lock,))
        if fn in ("owner", "alive"):
            target = args[0]
            if isinstance(target, S.Name) and target.id in self.objects:
                owner = T.VarRef(obj_var(target.id), OptionT(self._need_interp(e.span)))
                return owner if fn == "owner" else T.ne(owner, T.Lit(None, NoneT()))
            if isinstance(target, S.Index) and target.base in self.objects and fn == "owner":
                return self._item(target.base, target.args, target.span, env)
            raise self.err("SC403", f"`{fn}` needs a declared object", target.span,
                           hint=codes.did_you_mean(print_expr(target), list(self.objects)))
        if fn == "has":
            target = args[0]
            if not (isinstance(target, S.Name) and target.id in self.objects):
                raise self.err("SC403", "`has` needs a dict object", target.span)
            item = self._item(target.id, (args[1],), e.span, env)
            return T.ne(item, T.Lit(None, NoneT()))
        if fn in ("cur", "live", "idle", "running", "saved"):
            thread = self.expr(args[0], env, self._need_thread(e.span))
            if fn == "cur":
                return self._cur(thread)
            if fn == "saved":
                interp_t = self._need_interp(e.span)
                return T.select(T.VarRef(SAVED, MapT((self.thread,), OptionT(interp_t))),  # type: ignore[arg-type]
                                (thread,))
            if fn == "live":
                return T.select(T.VarRef(LIVE, MapT((self.thread,), BOOL)), (thread,))  # type: ignore[arg-type]
            proc = T.select(T.VarRef(PROC, MapT((self.thread,), OptionT(self.proc_sort_now()))),  # type: ignore[arg-type]
                            (thread,))
            if fn == "idle":
                return T.eq(proc, T.Lit(None, NoneT()))
            p = args[1]
            if not (isinstance(p, S.Name) and p.id in self.procs):
                raise self.err("SC101", "`running` needs a procedure name", p.span,
                               hint=codes.did_you_mean(print_expr(p), self.procs))
            return T.eq(proc, T.Lit(p.id, self.proc_sort_now()))
        if fn == "gil":
            interp = self.expr(args[0], env, self._need_interp(e.span))
            return self._gil_of(interp, e.span)
        if fn == "bound":
            target = args[0]
            if not (isinstance(target, S.Name) and target.id in self.tstates):
                raise self.err("SC404", "`bound` needs a declared thread state", target.span,
                               hint=codes.did_you_mean(print_expr(target), list(self.tstates)))
            return T.VarRef(tstate_var(target.id), OptionT(self._need_thread(e.span)))
        raise AssertionError(fn)

    def _at(self, e: S.Expr, args: tuple[S.Expr, ...], env: _Env) -> T.Term:
        """`at(t, p, n, ...)`: thread t's program counter is one of these steps of p
        (step numbers as in traces and `--witness`; checked by the lowering, SC408)."""
        if len(args) < 3:
            raise self.err("SC202", "`at` takes a thread, a procedure and step numbers",
                           e.span, hint=BUILTIN_FUNCTIONS["at"])
        if not env.state:
            raise self.err("SC406", f"{env.what} cannot read runtime state (`at`)", e.span)
        thread_t = self._need_thread(e.span)
        thread = self.expr(args[0], env, thread_t)
        p = args[1]
        if not (isinstance(p, S.Name) and p.id in self.procs):
            raise self.err("SC101", "`at` needs a procedure name", p.span,
                           hint=codes.did_you_mean(print_expr(p), self.procs))
        pc_t = EnumT("PC", ())  # the labels are known after lowering (TransitionSystem.sorts)
        pc = T.select(T.VarRef(PC, MapT((thread_t,), pc_t)), (thread,))
        steps: list[T.Term] = []
        for a in args[2:]:
            if not isinstance(a, S.IntLit) or a.value < 1:
                raise self.err("SC201", "a step of a procedure is a positive integer literal",
                               a.span, hint="step numbers are the ones traces show, e.g. "
                               f"`{p.id}.3` is step 3")
            steps.append(T.eq(pc, T.Lit(f"{p.id}.{a.value}", pc_t)))
        return T.disj(*steps)

    def _arg(self, e: S.Expr, args: tuple[S.Expr, ...], env: _Env) -> T.Term:
        """`arg(t, p, x)`: the argument `x` of thread t's latest call of procedure p
        (kept per thread while it runs p; lemmas pair it with `at` or `running`)."""
        if len(args) != 3:
            raise self.err("SC202", f"`arg` takes 3 argument(s), {len(args)} given", e.span,
                           hint=BUILTIN_FUNCTIONS["arg"])
        if not env.state:
            raise self.err("SC406", f"{env.what} cannot read runtime state (`arg`)", e.span)
        thread_t = self._need_thread(e.span)
        thread = self.expr(args[0], env, thread_t)
        p = args[1]
        if not (isinstance(p, S.Name) and p.id in self.procs):
            raise self.err("SC101", "`arg` needs a procedure name", p.span,
                           hint=codes.did_you_mean(print_expr(p), self.procs))
        params = self.proc_decls[p.id].params[1:]  # the first is the running thread
        x = args[2]
        names = [q.name for q in params]
        if not (isinstance(x, S.Name) and x.id in names):
            raise self.err("SC101", f"`{p.id}` has no argument `{print_expr(x)}`", x.span,
                           hint=codes.did_you_mean(print_expr(x), names) or (
                               f"its arguments after the thread: {', '.join(names)}"
                               if names else f"`{p.id}` takes only its thread"))
        pt = self.type(next(q.type for q in params if q.name == x.id))
        return T.select(T.VarRef(arg_var(p.id, x.id), MapT((thread_t,), pt)), (thread,))

    def proc_sort_now(self) -> EnumT:
        return EnumT("Proc", tuple(self.procs))

    def _item(self, obj: str, args: tuple[S.Expr, ...], span: Span, env: _Env) -> T.Term:
        info = self.objects[obj]
        if info.keys is None:
            raise self.err("SC403", f"`{obj}` is a plain object and has no items", span)
        if len(args) != len(info.keys):
            raise self.err("SC202", f"`{obj}` items take {len(info.keys)} key(s)", span)
        idx = tuple(self.expr(a, env, k) for a, k in zip(args, info.keys, strict=True))
        mt = MapT(info.keys, OptionT(self._need_interp(span)))
        return T.select(T.VarRef(items_var(obj), mt), idx)

    def _need_interp(self, span: Span) -> EnumT:
        if self.interp is None:
            raise self.err("SC405", "this needs `interpreters(N)` declared", span,
                           hint='add `include "runtime.spec"` or `interpreters(2)`')
        return self.interp

    def _need_thread(self, span: Span) -> EnumT:
        if self.thread is None:
            raise self.err("SC405", "this needs `threads(N)` declared", span,
                           hint='add `include "runtime.spec"` or `threads(2)`')
        return self.thread

    def _holder_t(self) -> MapT:
        return MapT((self.lock_sort,), OptionT(self.thread or EnumT("Thread", ())))

    def _cur(self, thread: T.Term) -> T.Term:
        interp = self._need_interp(BUILTIN_SPAN)
        return T.select(T.VarRef(CUR, MapT((self.thread,), OptionT(interp))), (thread,))  # type: ignore[arg-type]

    def _gil_of(self, interp: T.Term, span: Span) -> T.Term:
        """The GIL id used by an interpreter term (an ite over the interpreters)."""
        assert self.interp is not None
        if not self.runtime_ready:
            raise self.err("SC406", "`gil(...)` is not a constant: it depends on the "
                           "interpreters' configuration", span)
        if isinstance(interp, T.Lit):
            return T.Lit(self.gil_of.get(str(interp.value), gil_id("main")), self.lock_sort)
        out: T.Term = T.Lit(gil_id("main"), self.lock_sort)
        for i in reversed(self.interp.values):
            out = T.ite(T.eq(interp, T.Lit(i, self.interp)),
                        T.Lit(self.gil_of.get(i, gil_id("main")), self.lock_sort), out)
        return out

    def lock_term(self, e: S.Expr, env: _Env) -> tuple[T.Term, str]:
        """A lock expression: `name`, `family[i]`, `gil`, `gil(i)` or a conditional."""
        match e:
            case S.Name(name) if name in env.locals and env.locals[name] == self.lock_sort:
                return T.Local(name, self.lock_sort), "any"
            case S.Name("gil"):
                return self._name("gil", e.span, env), "gil"
            case S.Call("gil", _):
                return self._call(e, "gil", e.args, env), "gil"
            case S.Name(name) if name in self.locks:
                return self._name(name, e.span, env), name
            case S.Index(base, args) if base in self.locks:
                info = self.locks[base]
                if len(args) != len(info.index):
                    raise self.err("SC202", f"lock family `{base}` takes {len(info.index)} "
                                   "index(es)", e.span)
                idx = [self.expr(a, env, t) for a, t in zip(args, info.index, strict=True)]
                return self._family_member(base, info, idx), base
            case S.Ite(c, a, b):
                cond = self.expr(c, env, BOOL)
                la, fa = self.lock_term(a, env)
                lb, fb = self.lock_term(b, env)
                if isinstance(cond, T.Lit):
                    return (la, fa) if cond.value else (lb, fb)
                if fa != fb:
                    raise self.err("SC402", "both branches must name locks of one kind", e.span)
                return T.ite(cond, la, lb), fa
        if isinstance(e, S.Name):
            if e.id in self.globals:
                raise self.err("SC402", f"`{e.id}` is a {self.globals[e.id][0]}, not a lock",
                               e.span, hint=codes.did_you_mean(e.id, list(self.locks)))
            raise self._unknown(e.span, "lock", e.id, [*self.locks])
        raise self.err("SC402", "expected a lock", e.span,
                       hint="locks: " + ", ".join(self.locks) if self.locks else None)

    def _family_member(self, base: str, info: LockInfo, idx: list[T.Term]) -> T.Term:
        import itertools
        combos = list(itertools.product(*(t.values for t in info.index)))  # type: ignore[union-attr]
        out: T.Term = T.Lit(info.ids[-1], self.lock_sort)
        for combo, lock_id in reversed(list(zip(combos, info.ids, strict=True))[:-1]):
            cond = T.conj(*(T.eq(i, T.Lit(v, t)) for i, v, t in zip(idx, combo, info.index,
                                                                     strict=True)))
            out = T.ite(cond, T.Lit(lock_id, self.lock_sort), out)
        return out

    # ---- statements --------------------------------------------------------------------
    def routine(self, d: S.ActionDecl | S.ProcDecl) -> RoutineInfo:
        kind = "proc" if isinstance(d, S.ProcDecl) else "action"
        params: list[tuple[str, Type]] = []
        for p in d.params:
            if any(p.name == q for q, _ in params):
                raise self.err("SC102", f"parameter `{p.name}` given twice", p.span)
            if p.name in self.globals:
                raise self.err("SC102", f"parameter `{p.name}` shadows a declaration", p.span,
                               hint="rename the parameter")
            pt = self.type(p.type)
            if isinstance(pt, MapT):
                raise self.err("SC207", "parameters cannot be maps", p.type.span)
            params.append((p.name, pt))
        actor = params[0][0] if params and self.thread is not None and \
            params[0][1] == self.thread else None
        if kind == "proc" and actor is None:
            raise self.err("SC302", f"procedure `{d.name}` must take its running thread first",
                           d.span, hint=f"write `proc {d.name}(t: Thread, ...)`")
        env = _Env(dict(params), actor, True, f"{kind} `{d.name}`")
        body = self.block(d.body.stmts, env, kind, d.name, [])
        return RoutineInfo(kind, d.name, tuple(params), actor, tuple(body), d.span, d.docs)

    def block(self, stmts: tuple[S.Stmt, ...], env: _Env, ctx: str, owner: str,
              switches: list[str | None]) -> list[TStmt]:
        out: list[TStmt] = []
        for s in stmts:
            try:
                t = self.stmt(s, env, ctx, owner, switches)
            except _Bail:
                continue
            if t is not None:
                out.append(t)
        return out

    def _need_actor(self, env: _Env, span: Span, what: str) -> str:
        if env.actor is None:
            raise self.err("SC302", f"`{what}` needs a running thread", span,
                           hint="make the first parameter `t: Thread`")
        return env.actor

    def stmt(self, s: S.Stmt, env: _Env, ctx: str, owner: str,
             switches: list[str | None]) -> TStmt | None:
        init = ctx == "init"
        if init and not isinstance(s, S.Assign | S.Assume | S.Skip):
            raise self.err("SC301", "`init` may only assign variables and `assume` conditions",
                           s.span, hint="move this into an action or procedure")
        match s:
            case S.Skip():
                return None
            case S.Assign(target, value):
                if target.name not in self.vars:
                    if target.name in self.globals or target.name in env.locals:
                        kind = self.globals.get(target.name, ("parameter",))[0]
                        raise self.err("SC205", f"cannot assign to `{target.name}` (a {kind})",
                                       target.span, hint="only `var`s can be assigned")
                    raise self._unknown(target.span, "variable", target.name, list(self.vars))
                vt = self.vars[target.name].type
                idx: tuple[T.Term, ...] = ()
                if target.indices:
                    if not isinstance(vt, MapT) or len(target.indices) != len(vt.keys):
                        raise self.err("SC203" if not isinstance(vt, MapT) else "SC202",
                                       f"`{target.name}` cannot take {len(target.indices)} "
                                       "index(es)", target.span)
                    idx = tuple(self.expr(i, env if not init else _Env(state=False,
                                what="init index"), k)
                                for i, k in zip(target.indices, vt.keys, strict=True))
                    cell = vt.value
                else:
                    cell = vt
                if value is None:
                    if not init:
                        raise self.err("SC301", "`:= any` is only allowed in `init`", s.span,
                                       hint="give the routine a parameter instead")
                    return TAssign(target.name, idx, None, s.span)
                venv = _Env(state=False, what="initial value") if init else env
                v = self.expr(value, venv, cell)
                return TAssign(target.name, idx, v, s.span)
            case S.Assume(cond):
                if not init:
                    raise self.err("SC301", "`assume` is only allowed in `init`", s.span,
                                   hint="use `await` to block until a condition holds")
                return TAssume(self.expr(cond, env, BOOL), s.span)
            case S.If(cond, then, orelse):
                c = self.expr(cond, env, BOOL)
                sw_then = list(switches)
                t1 = self.block(then.stmts, env, ctx, owner, sw_then)
                t2 = self.block(orelse.stmts, env, ctx, owner, list(switches)) if orelse else []
                switches[:] = sw_then
                return TIf(c, tuple(t1), tuple(t2), s.span)
            case S.Assert(cond, name):
                c = self.expr(cond, env, BOOL)
                line, _ = s.span.line_col()
                prop = name or f"{owner}@{line}"
                if name is not None and name in BUILTIN_PROPERTIES:
                    raise self.err("SC106", f"`{name}` is a built-in property; name the "
                                   "assertion differently", s.span)
                if name is not None and name in self.globals:
                    raise self.err("SC102", f"assertion name `{name}` clashes with a declaration",
                                   s.span)
                self.asserts.setdefault(prop, s.span)
                return TAssert(c, prop, s.span)
            case S.Await(cond):
                return TAwait(self.expr(cond, env, BOOL), s.span)
            case S.Acquire(lock):
                self._need_actor(env, s.span, "acquire")
                term, family = self.lock_term(lock, env)
                if family == "any":
                    raise self.err("SC402", "`acquire` needs a declared lock, a lock family "
                                   "member or a GIL", lock.span)
                return TAcquire(term, family, s.span)
            case S.Release(lock):
                self._need_actor(env, s.span, "release")
                term, family = self.lock_term(lock, env)
                if family == "any":
                    raise self.err("SC402", "`release` needs a declared lock, a lock family "
                                   "member or a GIL", lock.span)
                return TRelease(term, family, s.span)
            case S.SwitchTo(interp, via, keep):
                self._need_actor(env, s.span, "switch")
                if ctx != "proc" or env.what.startswith("atomic"):
                    raise self.err("SC301", "`switch to` must be a step of a procedure",
                                   s.span, hint="a switch takes the target's GIL, which may "
                                   "wait; it cannot be part of an atomic action")
                if switches:
                    raise self.err("SC303", "`switch to` while already switched", s.span,
                                   hint="switch back first; nested switches are not modelled")
                i = self.expr(interp, env, self._need_interp(s.span))
                if via is not None and via not in self.tstates:
                    if via in self.globals:
                        raise self.err("SC404", f"`{via}` is not a thread state", s.span)
                    raise self._unknown(s.span, "thread state", via, list(self.tstates))
                switches.append(via)
                return TSwitchTo(i, via, keep, s.span)
            case S.SwitchBack(keep):
                self._need_actor(env, s.span, "switch back")
                if ctx != "proc" or env.what.startswith("atomic"):
                    raise self.err("SC301", "`switch back` must be a step of a procedure",
                                   s.span, hint="it may wait for a GIL; keep it out of atomic "
                                   "actions")
                if not switches:
                    raise self.err("SC303", "`switch back` without an earlier `switch to`", s.span,
                                   hint="switch to an interpreter first")
                via = switches.pop()
                return TSwitchBack(via, keep, s.span)
            case S.ObjectOp(op, target):
                self._need_actor(env, s.span, op)
                if target.name not in self.objects:
                    if target.name in self.globals:
                        raise self.err("SC403", f"`{target.name}` is a "
                                       f"{self.globals[target.name][0]}, not an object",
                                       target.span)
                    raise self._unknown(target.span, "object", target.name, list(self.objects))
                info = self.objects[target.name]
                item_ops = ("insert", "remove")
                if op in item_ops and (info.keys is None or not target.indices):
                    raise self.err("SC403", f"`{op}` needs an item of a dict object: "
                                   f"`{op} {target.name}[key]`", s.span)
                if op in ("alloc", "free", "resize") and target.indices:
                    raise self.err("SC403", f"`{op}` applies to a whole object", s.span,
                                   hint=f"write `{op} {target.name}`")
                idx2: tuple[T.Term, ...] = ()
                if target.indices:
                    if info.keys is None or len(target.indices) != len(info.keys):
                        raise self.err("SC202", f"`{target.name}` items take "
                                       f"{len(info.keys or ())} key(s)", target.span)
                    idx2 = tuple(self.expr(i, env, k)
                                 for i, k in zip(target.indices, info.keys, strict=True))
                return TObjectOp(op, target.name, idx2, s.span)
            case S.Atomic(body):
                inner = _Env(env.locals, env.actor, env.state, f"atomic block in {env.what}")
                return TAtomic(tuple(self.block(body.stmts, inner, ctx, owner, switches)), s.span)
            case S.Detach():
                self._need_actor(env, s.span, "detach")
                return TDetach(s.span)
            case S.Attach():
                self._need_actor(env, s.span, "attach")
                return TAttach(s.span)
            case S.Fork(reinit):
                self._need_actor(env, s.span, "fork")
                locks = tuple(self.lock_term(x, env) for x in reinit)
                return TFork(locks, s.span)
        raise AssertionError(s)


def _retype(t: T.Term, ty: Type) -> T.Term:
    if isinstance(t, T.Lit):
        return T.Lit(t.value, ty)
    return t


def _first_span(model: LoadedModel) -> Span:
    return Span(model.root, 0, min(1, len(model.root.text)))


class _NotConst(Exception):
    pass


def _const_eval(t: T.Term) -> Value:
    match t:
        case T.Lit(v):
            return v
        case T.Op(op, args):
            vals = [_const_eval(a) for a in args]
            match op:
                case "not":
                    return not vals[0]
                case "and":
                    return all(vals)
                case "or":
                    return any(vals)
                case "implies":
                    return (not vals[0]) or bool(vals[1])
                case "eq":
                    return vals[0] == vals[1]
                case "ne":
                    return vals[0] != vals[1]
                case "lt":
                    return vals[0] < vals[1]  # type: ignore[operator]
                case "le":
                    return vals[0] <= vals[1]  # type: ignore[operator]
                case "gt":
                    return vals[0] > vals[1]  # type: ignore[operator]
                case "ge":
                    return vals[0] >= vals[1]  # type: ignore[operator]
                case "add":
                    return vals[0] + vals[1]  # type: ignore[operator]
                case "sub":
                    return vals[0] - vals[1]  # type: ignore[operator]
                case "neg":
                    return -vals[0]  # type: ignore[operator]
                case "ite":
                    return vals[1] if vals[0] else vals[2]
    raise _NotConst()


__all__ = ["check", "BUILTIN_FUNCTIONS", "SpecError", "Diagnostic", "strip_option"]
