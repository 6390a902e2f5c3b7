"""Lowering: checked Program -> TransitionSystem.

* Procedures become a control-flow graph: every top-level statement is one
  atomic step at its own program-counter label (`atomic { }` groups
  statements into one step); an `if` is a step of its own that takes a branch;
  a `call` step starts the procedure and stores its arguments per thread.
* Domain statements become plain updates plus failure conditions (the
  built-in checks R1, R2, lock_sanity, memory, tstate, bounds; see
  NOTE(action-semantics) in ``checker.ir``).
* Statements inside one step run in order: a small symbolic executor threads a
  store of current values through them, guards each write with the path
  condition, and conjoins blocking conditions into the step's guard.
* Waiting on a lock that `releases_gil` is three steps (try; drop the GIL and
  wait; re-take the GIL), as in CPython's PyMutex slow path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.ir import Action, Failure, Init, Property, StateVar, TransitionSystem
from spec import codes
from spec import terms as T
from spec.diagnostics import SpecError
from spec.program import (
    BUILTIN_PROPERTIES,
    CUR,
    HOLDER,
    LEVEL,
    LEVEL_T,
    LIVE,
    MAX_RLOCK_LEVEL,
    PARKED,
    PC,
    PROC,
    SAVED,
    ObjectInfo,
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
    TStmt,
    TSwitchBack,
    TSwitchTo,
    arg_var,
    items_var,
    obj_var,
    tstate_var,
)
from spec.sorts import (
    BOOL,
    EnumT,
    IntT,
    MapT,
    NoneT,
    OptionT,
    Type,
    Value,
    default_value,
    domain,
    map_keys,
)
from spec.source import BUILTIN_SPAN, Span

IDLE = "idle"
NONE = T.Lit(None, NoneT())


def lower(program: Program) -> TransitionSystem:
    return _Lowering(program).run()


# ---- pseudo statements used only inside the lowering ---------------------------------------


@dataclass(frozen=True)
class _SetCur:
    interp: T.Term          # new current interpreter
    save: bool              # remember the old one for `switch back`
    span: Span = field(compare=False)


@dataclass(frozen=True)
class _RestoreCur:
    span: Span = field(compare=False)


@dataclass(frozen=True)
class _Bind:
    tstate: str
    interp: T.Term  # where the switch goes
    span: Span = field(compare=False)


@dataclass(frozen=True)
class _Unbind:
    tstate: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class _Reattach:
    span: Span = field(compare=False)


@dataclass(frozen=True)
class _Goto:
    """Edge condition only (used by branch steps)."""

    span: Span = field(compare=False)


_Any = object


@dataclass
class _Edge:
    cond: T.Term
    stmts: list[_Any]
    succ: str
    text: str
    span: Span


@dataclass
class _Node:
    label: str
    edges: list[_Edge]


class _Lowering:
    def __init__(self, program: Program) -> None:
        self.p = program
        self.sorts = {s.name: s for s in (*program.sorts, program.lock_sort, program.proc_sort)}
        self.thread = program.thread
        self.interp = program.interp
        self.lock_t = program.lock_sort
        self.vars: list[StateVar] = []
        self.var_types: dict[str, Type] = {}
        self.props_used: set[str] = set()
        self.nodes: list[tuple[RoutineInfo, _Node]] = []
        self.label_count = 0
        self._entry: dict[str, str] = {}

    def final(self, t: Type) -> Type:
        """The type with every sort in its final form (see TransitionSystem.sorts)."""
        match t:
            case EnumT(name):
                return self.sorts.get(name, t)
            case OptionT(inner):
                return OptionT(self.final(inner))
            case MapT(keys, value):
                return MapT(tuple(self.final(k) for k in keys), self.final(value))
        return t

    # ---- variables ---------------------------------------------------------------------
    def add_var(self, name: str, t: Type, display: str) -> None:
        self.vars.append(StateVar(name, t, display))
        self.var_types[name] = t

    def ref(self, name: str) -> T.Term:
        return T.VarRef(name, self.var_types[name])

    def run(self) -> TransitionSystem:
        p = self.p
        for v in p.vars:
            self.add_var(v.name, self.final(v.type), v.name)
        procs = [r for r in p.routines if r.kind == "proc"]
        if self.thread is not None:
            th = self.thread
            self.add_var(PROC, MapT((th,), OptionT(p.proc_sort)), "proc")
            if procs:
                for r in procs:
                    for name, t in r.params[1:]:
                        self.add_var(arg_var(r.name, name), MapT((th,), t),
                                     f"{r.name}.{name}")
            if self.interp is not None:
                self.add_var(CUR, MapT((th,), OptionT(self.interp)), "cur")
                self.add_var(SAVED, MapT((th,), OptionT(self.interp)), "saved")
                if _uses(p, (TDetach, TAttach)):
                    self.add_var(PARKED, MapT((th,), OptionT(self.interp)), "detached_from")
            self.add_var(LIVE, MapT((th,), BOOL), "live")
            if self.lock_t.values:
                self.add_var(HOLDER, MapT((self.lock_t,), OptionT(th)), "holder")
                if any(info.kind == "rlock" for info in p.locks):
                    self.add_var(LEVEL, MapT((self.lock_t,), LEVEL_T), "level")
        if self.interp is not None:
            for o in p.objects:
                self.add_var(obj_var(o.name), OptionT(self.interp), f"owner({o.name})")
                if o.keys is not None:
                    self.add_var(items_var(o.name), MapT(o.keys, OptionT(self.interp)),
                                 f"owner({o.name}[])")
        if self.thread is not None:
            for ts in p.tstates:
                self.add_var(tstate_var(ts.name), OptionT(self.thread), f"bound({ts.name})")
        labels: list[str] = [IDLE]
        self.pc_t = EnumT("PC", ())
        if self.thread is not None:
            self.var_types[PC] = MapT((self.thread,), self.pc_t)  # placeholder while compiling
        for r in procs:
            for node in self.compile_proc(r):
                self.nodes.append((r, node))
                labels.append(node.label)
        if self.thread is not None:
            self.pc_t = EnumT("PC", tuple(labels))
            self.var_types.pop(PC)
            self.add_var(PC, MapT((self.thread,), self.pc_t), "pc")
            # show the program counter first in traces
            self.vars.insert(len(p.vars), self.vars.pop())

        actions: list[Action] = []
        for r in p.routines:
            if r.kind == "action":
                actions.append(self.lower_action(r))
            else:
                actions.append(self.lower_call(r))
        for r, node in self.nodes:
            for i, edge in enumerate(node.edges):
                actions.append(self.lower_edge(r, node, i, edge))
        init = self.lower_init()
        self.check_steps(labels)
        props = self.properties(actions)
        return TransitionSystem(
            name=p.name, docs=p.docs, files=p.files, vars=tuple(self.vars), init=init,
            actions=tuple(actions), properties=props,
            params=tuple((x.name, x.value) for x in p.params),
            thread_values=self.thread.values if self.thread else (),
            sorts=(*p.sorts, p.lock_sort, p.proc_sort, self.pc_t),
        )

    def check_steps(self, labels: list[str]) -> None:
        """Every `at(t, p, n)` in an invariant names a step the lowering made (SC408)."""
        known = set(labels)
        errors = []
        for inv in self.p.invariants:
            for name in sorted(_pc_literals(inv.term) - known):
                proc = name.rsplit(".", 1)[0]
                steps = [x for x in labels if x.startswith(proc + ".")]
                errors.append(codes.make(
                    "SC408", f"`{proc}` has no step {name.rsplit('.', 1)[1]}", inv.span,
                    hint=f"its steps are 1 to {len(steps)}" if steps else None))
        if errors:
            raise SpecError(errors)

    # ---- control flow ------------------------------------------------------------------
    def new_label(self, r: RoutineInfo) -> str:
        self.label_count += 1
        return f"{r.name}.#{self.label_count}"

    def compile_proc(self, r: RoutineInfo) -> list[_Node]:
        nodes: list[_Node] = []
        entry = self.compile_seq(r, list(r.body), IDLE, nodes)
        # number the steps in source order (they were built back to front)
        order = sorted(range(len(nodes)), key=lambda i: (nodes[i].edges[0].span.start, -i))
        rename = {nodes[i].label: f"{r.name}.{n}" for n, i in enumerate(order, 1)}
        rename[IDLE] = IDLE
        out = []
        for i in order:
            node = nodes[i]
            for e in node.edges:
                e.succ = rename[e.succ]
            out.append(_Node(rename[node.label], node.edges))
        self._entry[r.name] = rename[entry]
        return out

    def compile_seq(self, r: RoutineInfo, stmts: list[TStmt], succ: str,
                    nodes: list[_Node]) -> str:
        for s in reversed(stmts):
            succ = self.compile_stmt(r, s, succ, nodes)
        return succ

    def compile_stmt(self, r: RoutineInfo, s: TStmt, succ: str, nodes: list[_Node]) -> str:
        text = _source_text(s.span)
        actor = T.Local(r.actor, self.thread)  # type: ignore[arg-type]
        if isinstance(s, TIf) and isinstance(s.cond, T.Lit):
            # a condition on parameters only: compile just the branch this instance takes
            return self.compile_seq(r, list(s.then if s.cond.value else s.orelse), succ, nodes)
        if isinstance(s, TIf):
            then = self.compile_seq(r, list(s.then), succ, nodes)
            orelse = self.compile_seq(r, list(s.orelse), succ, nodes)
            label = self.new_label(r)
            head = _first_line(text)
            nodes.append(_Node(label, [
                _Edge(s.cond, [], then, f"{head} -> true", s.span),
                _Edge(T.neg(s.cond), [], orelse, f"{head} -> false", s.span),
            ]))
            return label
        if isinstance(s, TAcquire) and s.family != "gil" and self.lock_releases_gil(s.family):
            # PyMutex-style: try; on contention drop the GIL, wait, then re-take the GIL
            gil = self.gil_term(actor)
            regil = self.new_label(r)
            nodes.append(_Node(regil, [_Edge(T.TRUE, [TAcquire(gil, "gil", s.span)], succ,
                                             f"{text} (re-take the GIL)", s.span)]))
            wait = self.new_label(r)
            nodes.append(_Node(wait, [_Edge(T.TRUE, [s], regil, f"{text} (waiting, GIL "
                                            "released)", s.span)]))
            try_label = self.new_label(r)
            avail = self.available(s.lock, s.family, actor, {})
            nodes.append(_Node(try_label, [
                _Edge(avail, [s], succ, text, s.span),
                _Edge(T.neg(avail), [TRelease(gil, "gil", s.span)], wait,
                      f"{text} (contended: drop the GIL)", s.span),
            ]))
            return try_label
        if isinstance(s, TSwitchTo):
            # like switch_to_main_interpreter(): a no-op when already there
            stmts: list[_Any] = []
            if s.via is not None:
                stmts.append(_Bind(s.via, s.interp, s.span))
            after = succ
            if not s.keep_gil:
                after = self.new_label(r)
                nodes.append(_Node(after, [_Edge(T.TRUE, [TAcquire(self.gil_term(actor), "gil",
                                                                   s.span)], succ,
                                                 f"{text} (take {_show(s.interp)}'s GIL)",
                                                 s.span)]))
                stmts.append(TRelease(self.gil_term(actor), "gil", s.span))
            stmts.append(_SetCur(s.interp, True, s.span))
            label = self.new_label(r)
            here = T.eq(T.select(self.ref(CUR), (actor,)), s.interp)
            nodes.append(_Node(label, [
                _Edge(T.neg(here), stmts, after, text, s.span),
                _Edge(here, [], succ, f"{text} (already there: nothing to do)", s.span)]))
            return label
        if isinstance(s, TAttach):
            # PyEval_RestoreThread: take the GIL (may wait), then the tstate is current again
            label = self.new_label(r)
            nodes.append(_Node(label, [_Edge(T.TRUE, [_Reattach(s.span)], succ, text, s.span)]))
            return label
        if isinstance(s, TSwitchBack):
            stmts = []
            after = succ
            if not s.keep_gil:
                after = self.new_label(r)
                nodes.append(_Node(after, [_Edge(T.TRUE, [TAcquire(self.gil_term(actor), "gil",
                                                                   s.span)], succ,
                                                 f"{text} (take the GIL back)", s.span)]))
                stmts.append(TRelease(self.gil_term(actor), "gil", s.span))
            stmts.append(_RestoreCur(s.span))
            if s.via is not None:
                stmts.append(_Unbind(s.via, s.span))
            label = self.new_label(r)
            switched = T.ne(T.select(self.ref(SAVED), (actor,)), NONE)
            nodes.append(_Node(label, [
                _Edge(switched, stmts, after, text, s.span),
                _Edge(T.neg(switched), [], succ, f"{text} (had not switched: nothing to do)",
                      s.span)]))
            return label
        label = self.new_label(r)
        body: list[_Any] = list(s.body) if isinstance(s, TAtomic) else [s]
        shown = _shorten(text) if isinstance(s, TAtomic) else _first_line(text)
        nodes.append(_Node(label, [_Edge(T.TRUE, body, succ, shown, s.span)]))
        return label

    def lock_releases_gil(self, family: str) -> bool:
        for info in self.p.locks:
            if info.name == family:
                return info.releases_gil
        return False

    def lock_kind(self, family: str) -> str:
        for info in self.p.locks:
            if info.name == family:
                return info.kind
        return "mutex"

    # ---- actions -----------------------------------------------------------------------
    def param_locals(self, r: RoutineInfo) -> dict[str, T.Term]:
        """Inside a procedure step, parameters are read from per-thread argument vars."""
        actor = T.Local(r.actor, self.thread)  # type: ignore[arg-type]
        return {name: T.select(self.ref(arg_var(r.name, name)), (actor,))
                for name, _ in r.params[1:]}

    def lower_call(self, r: RoutineInfo) -> Action:
        assert r.actor is not None and self.thread is not None
        actor = T.Local(r.actor, self.thread)
        entry = self._entry[r.name]
        updates: dict[str, T.Term] = {}
        updates[PC] = T.store(self.ref(PC), (actor,), T.Lit(entry, self.pc_t))
        updates[PROC] = T.store(self.ref(PROC), (actor,),
                                T.Lit(r.name, self.p.proc_sort) if entry != IDLE else NONE)
        for name, t in r.params[1:]:
            updates[arg_var(r.name, name)] = T.store(self.ref(arg_var(r.name, name)), (actor,),
                                                     T.Local(name, t))
        enabled = T.conj(self.alive(actor), T.eq(T.select(self.ref(PC), (actor,)),
                                                 T.Lit(IDLE, self.pc_t)))
        args = ", ".join(n for n, _ in r.params[1:])
        params = tuple((n, self.final(t)) for n, t in r.params)
        return Action(f"{r.name}", r.name, "call", f"call {r.name}({args})", params, r.actor,
                      enabled, T.TRUE, tuple(updates.items()), (), (), r.span, at=IDLE)

    def lower_action(self, r: RoutineInfo) -> Action:
        ex = _Exec(self, r, {}, T.TRUE)
        for s in r.body:
            ex.run(s)
        enabled: T.Term = T.TRUE
        if r.actor is not None and self.thread is not None:
            actor = T.Local(r.actor, self.thread)
            enabled = T.conj(self.alive(actor), T.eq(T.select(self.ref(PC), (actor,)),
                                                     T.Lit(IDLE, self.pc_t)))
        shown = ", ".join(n for n, _ in r.params)
        params = tuple((n, self.final(t)) for n, t in r.params)
        return Action(r.name, r.name, "action", f"{r.name}({shown})", params, r.actor,
                      enabled, ex.guard, ex.updates(), tuple(ex.failures), tuple(ex.waits),
                      r.span, at=IDLE if r.actor is not None and self.thread is not None else None)

    def lower_edge(self, r: RoutineInfo, node: _Node, i: int, edge: _Edge) -> Action:
        assert r.actor is not None and self.thread is not None
        actor = T.Local(r.actor, self.thread)
        locals_ = self.param_locals(r)
        cond = T.substitute(edge.cond, locals_)
        ex = _Exec(self, r, locals_, T.TRUE)
        for s in edge.stmts:
            ex.run(s)
        ex.write(PC, (actor,), T.Lit(edge.succ, self.pc_t))
        if edge.succ == IDLE:
            ex.write(PROC, (actor,), NONE)
        enabled = T.conj(self.alive(actor),
                         T.eq(T.select(self.ref(PC), (actor,)), T.Lit(node.label, self.pc_t)),
                         cond)
        action_id = node.label if len(node.edges) == 1 else f"{node.label}{'abcdefgh'[i]}"
        return Action(action_id, r.name, "step", edge.text, ((r.actor, self.thread),),
                      r.actor, enabled, ex.guard, ex.updates(), tuple(ex.failures),
                      tuple(ex.waits), edge.span, at=node.label)

    # ---- runtime helpers ---------------------------------------------------------------
    def alive(self, thread: T.Term) -> T.Term:
        return T.select(self.ref(LIVE), (thread,))

    def cur_of(self, thread: T.Term, store: dict[str, T.Term] | None = None) -> T.Term:
        m = (store or {}).get(CUR, self.ref(CUR))
        return T.select(m, (thread,))

    def gil_term(self, actor: T.Term) -> T.Term:
        """GIL of the actor's current interpreter, read when the statement runs."""
        return self.gil_of_interp(T.select(self.ref(CUR), (actor,)))

    def gil_of_interp(self, interp: T.Term) -> T.Term:
        """The GIL id an interpreter term uses (an if-chain over the interpreters)."""
        assert self.interp is not None
        gil_of = dict(self.p.gil_of)
        out: T.Term = T.Lit(gil_of["main"], self.lock_t)
        for i in reversed(self.interp.values):
            out = T.ite(T.eq(interp, T.Lit(i, self.interp)), T.Lit(gil_of[i], self.lock_t), out)
        return out

    def allocator(self, interp: T.Term) -> T.Term:
        """Interpreter whose obmalloc serves `interp` (none for none)."""
        assert self.interp is not None
        alloc = dict(self.p.allocator_of)
        ot = OptionT(self.interp)
        if all(alloc[i] == i for i in self.interp.values):
            return interp
        out: T.Term = T.Lit(None, ot)
        for i in reversed(self.interp.values):
            out = T.ite(T.eq(interp, T.Lit(i, self.interp)), T.Lit(alloc[i], ot), out)
        return out

    def available(self, lock: T.Term, family: str, actor: T.Term,
                  store: dict[str, T.Term]) -> T.Term:
        holder = T.select(store.get(HOLDER, self.ref(HOLDER)), (lock,))
        free = T.eq(holder, NONE)
        if family != "gil" and self.lock_kind(family) == "rlock":
            return T.disj(free, T.eq(holder, actor))
        return free

    # ---- init --------------------------------------------------------------------------
    def lower_init(self) -> Init:
        values: dict[str, Value] = {}
        for v in self.vars:
            values[v.name] = default_value(v.type)
        for info in self.p.vars:
            if info.init is not None:
                cell = _const(info.init)
                values[info.name] = (tuple(cell for _ in map_keys(info.type))
                                     if isinstance(info.type, MapT) else cell)
        if self.thread is not None:
            values[PC] = tuple(IDLE for _ in self.thread.values)
            values[LIVE] = tuple(True for _ in self.thread.values)
        choices: list[tuple[str, tuple[Value, ...] | None, tuple[Value, ...]]] = []
        if self.thread is not None and self.interp is not None:
            for t in self.thread.values:
                choices.append((CUR, (t,), self.interp.values))
        assumes: list[T.Term] = []
        for s in self.p.init:
            if isinstance(s, TAssign):
                vt = self.var_types[s.var]
                idx = tuple(_const(i) for i in s.index) if s.index else None
                if s.value is None:
                    cell_t = vt.value if isinstance(vt, MapT) else vt
                    choices = [c for c in choices if not (c[0] == s.var and c[1] == idx)]
                    if idx is None and isinstance(vt, MapT):
                        choices = [c for c in choices if c[0] != s.var]
                        for key in map_keys(vt):
                            choices.append((s.var, key, domain(cell_t)))
                    else:
                        choices.append((s.var, idx, domain(cell_t)))
                    continue
                val = _const(s.value)
                choices = [c for c in choices if not (c[0] == s.var and (c[1] == idx
                                                                      or idx is None))]
                if idx is None:
                    values[s.var] = (tuple(val for _ in map_keys(vt)) if isinstance(vt, MapT)
                                     else val)
                else:
                    assert isinstance(vt, MapT)
                    keys = map_keys(vt)
                    current = values[s.var]
                    assert isinstance(current, tuple)
                    cells = list(current)
                    cells[keys.index(idx)] = val
                    values[s.var] = tuple(cells)
            elif isinstance(s, TAssume):
                assumes.append(s.cond)
        return Init(tuple((v.name, values[v.name]) for v in self.vars), tuple(choices),
                    tuple(assumes))

    # ---- properties --------------------------------------------------------------------
    def properties(self, actions: list[Action]) -> tuple[Property, ...]:
        expects = {e.name: e for e in self.p.expects}

        def make(name: str, kind: str, desc: str, formula: T.Term | None, span: Span) -> Property:
            e = expects.get(name)
            return Property(name, kind, desc, formula, e.outcome if e else "holds", span,
                            e.span if e else None)

        used = {f.prop for a in actions for f in a.failures}
        out: list[Property] = []
        for name, desc in BUILTIN_PROPERTIES.items():
            if name == "deadlock":
                if self.thread is not None and self.lock_t.values and (
                        any(a.waits for a in actions) or name in expects):
                    out.append(make(name, "builtin", desc, T.neg(self.deadlock(actions)),
                                    BUILTIN_SPAN))
                elif name in expects:  # no threads or no locks: nothing can wait
                    out.append(make(name, "builtin", desc, T.TRUE, BUILTIN_SPAN))
            elif name in used or name in expects:
                out.append(make(name, "builtin", desc, None, BUILTIN_SPAN))
        for inv in self.p.invariants:
            out.append(make(inv.name, "lemma" if inv.lemma else "invariant",
                            " ".join(inv.docs) or inv.text, inv.term, inv.span))
        for name, span in self.p.asserts:
            out.append(make(name, "assert", f"assertion at line {span.line_col()[0]}", None,
                            span))
        return tuple(out)

    def deadlock(self, actions: list[Action]) -> T.Term:
        assert self.thread is not None
        th = self.thread
        waits: list[tuple[str, T.Term, T.Term]] = []
        for waiter in th.values:
            w = T.Lit(waiter, th)
            for a in actions:
                # NOTE(wait-for): only a thread inside a procedure waits; an idle
                # thread that could start an action is not waiting for anything
                if not a.waits or a.actor is None or a.kind != "step":
                    continue
                env = {a.actor: w}
                for lock, blocked in a.waits:
                    lk = T.substitute(lock, env)
                    cond = T.conj(T.substitute(a.enabled, env), T.substitute(blocked, env))
                    if cond != T.FALSE:
                        waits.append((waiter, cond, T.select(self.ref(HOLDER), (lk,))))
        alive = tuple((t, T.select(self.ref(LIVE), (T.Lit(t, th),))) for t in th.values)
        return T.WaitCycle(th.values, tuple(waits), alive)


class _Exec:
    """Symbolic execution of the statements of one atomic step."""

    def __init__(self, lw: _Lowering, r: RoutineInfo, locals_: dict[str, T.Term],
                 path: T.Term) -> None:
        self.lw = lw
        self.r = r
        self.locals = locals_
        self.store: dict[str, T.Term] = {}
        self.path = path
        self.guard: T.Term = T.TRUE
        self.failures: list[Failure] = []
        self.waits: list[tuple[T.Term, T.Term]] = []
        self.actor: T.Term | None = (T.Local(r.actor, lw.thread) if r.actor and lw.thread
                                     else None)

    # -- store
    def cur_value(self, var: str) -> T.Term:
        return self.store.get(var, self.lw.ref(var))

    def read(self, t: T.Term) -> T.Term:
        t = T.substitute(t, self.locals)
        return T.substitute(t, None, {k: v for k, v in self.store.items()}) if self.store else t

    def write(self, var: str, index: tuple[T.Term, ...], value: T.Term) -> None:
        old = self.cur_value(var)
        new = T.store(old, index, value) if index else value
        self.store[var] = T.ite(self.path, new, old) if self.path != T.TRUE else new

    def updates(self) -> tuple[tuple[str, T.Term], ...]:
        return tuple((v.name, self.store[v.name]) for v in self.lw.vars if v.name in self.store)

    def fail(self, prop: str, cond: T.Term, message: str, span: Span) -> None:
        c = T.conj(self.guard, self.path, cond)
        if c != T.FALSE:
            self.failures.append(Failure(prop, c, message, span))

    def block_on(self, cond: T.Term) -> None:
        self.guard = T.conj(self.guard, T.implies(self.path, cond))

    # -- statements
    def run(self, s: _Any) -> None:  # noqa: C901 - one case per statement kind
        lw = self.lw
        a = self.actor
        text = _source_text(getattr(s, "span", BUILTIN_SPAN))
        match s:
            case TAssign(var, index, value, span):
                assert value is not None
                v = self.read(value)
                idx = tuple(self.read(i) for i in index)
                t = lw.var_types[var]
                cell = t.value if isinstance(t, MapT) else t
                bare = cell.inner if isinstance(cell, OptionT) else cell
                if isinstance(bare, IntT) and not (isinstance(v, T.Lit)):
                    in_range = T.conj(T.Op("ge", (v, T.Lit(bare.lo, bare)), BOOL),
                                      T.Op("le", (v, T.Lit(bare.hi, bare)), BOOL))
                    if isinstance(cell, OptionT):
                        in_range = T.disj(T.eq(v, NONE), in_range)
                    self.fail("bounds", T.neg(in_range), f"`{text}` leaves {cell}", span)
                    old = T.select(self.cur_value(var), idx) if idx else self.cur_value(var)
                    v = T.ite(in_range, v, old)
                self.write(var, idx, v)
            case TIf(cond, then, orelse):
                c = self.read(cond)
                saved = self.path
                self.path = T.conj(saved, c)
                for x in then:
                    self.run(x)
                self.path = T.conj(saved, T.neg(c))
                for x in orelse:
                    self.run(x)
                self.path = saved
            case TAtomic(body):
                for x in body:
                    self.run(x)
            case TAssert(cond, prop, span):
                self.fail(prop, T.neg(self.read(cond)), f"assertion `{text}` fails", span)
            case TAwait(cond):
                self.block_on(self.read(cond))
            case TAssume():
                raise AssertionError("assume outside init")
            case TAcquire(lock, family, span):
                assert a is not None
                if family == "gil":
                    self.fail("tstate", T.eq(self.read(lw.cur_of(a)), NONE),
                              f"`{text}` by a thread with no current thread state", span)
                self.acquire(self.read(lock), family, span, text)
            case TRelease(lock, family, span):
                self.release(self.read(lock), family, span, text)
            case _SetCur(interp, save, span):
                assert a is not None
                old = T.select(self.cur_value(CUR), (a,))
                new = self.read(interp)
                if save:
                    self.write(SAVED, (a,), old)
                self.write(CUR, (a,), new)
            case _RestoreCur(span):
                assert a is not None
                saved = T.select(self.cur_value(SAVED), (a,))
                self.write(CUR, (a,), saved)
                self.write(SAVED, (a,), NONE)
            case _Bind(ts, target, span):
                assert a is not None and lw.interp is not None
                var = tstate_var(ts)
                bound = self.cur_value(var)
                home = next(x.interp for x in lw.p.tstates if x.name == ts)
                self.fail("tstate", T.ne(self.read(target), T.Lit(home, lw.interp)),
                          f"`{ts}` belongs to {home} but is used to switch to another "
                          "interpreter", span)
                self.fail("tstate", T.conj(T.ne(bound, NONE), T.ne(bound, a)),
                          f"`{ts}` bound by a second thread while another thread has it bound",
                          span)
                self.write(var, (), a)
            case _Unbind(ts, span):
                self.write(tstate_var(ts), (), NONE)
            case TObjectOp(op, obj, index, span):
                self.object_op(op, obj, tuple(self.read(i) for i in index), span, text)
            case TFork(reinit, span):
                self.fork(reinit)
            case TDetach(span):
                assert a is not None
                cur = T.select(self.cur_value(CUR), (a,))
                self.fail("tstate", T.eq(cur, NONE), "`detach` with no current thread state", span)
                self.release(self.lw.gil_of_interp(cur), "gil", span, text)
                self.write(PARKED, (a,), cur)
                self.write(CUR, (a,), NONE)
            case TAttach(span) | _Reattach(span):
                assert a is not None
                parked = T.select(self.cur_value(PARKED), (a,))
                self.fail("tstate", T.eq(parked, NONE), "`attach` without an earlier `detach`",
                          span)
                gil = self.lw.gil_of_interp(parked)
                self.write(CUR, (a,), parked)
                self.write(PARKED, (a,), NONE)
                self.acquire(gil, "gil", span, text)
            case _:
                raise AssertionError(s)

    def acquire(self, lk: T.Term, family: str, span: Span, text: str) -> None:
        """Take lock `lk` (a term over the current store); blocks until it is free."""
        lw = self.lw
        a = self.actor
        assert a is not None
        holder = T.select(self.cur_value(HOLDER), (lk,))
        kind = "gil" if family == "gil" else lw.lock_kind(family)
        name = "the GIL" if family == "gil" else f"`{_show_lock(text)}`"
        if kind == "rlock":
            avail = T.disj(T.eq(holder, NONE), T.eq(holder, a))
            level = T.select(self.cur_value(LEVEL), (lk,))
            deep = T.conj(T.eq(holder, a),
                          T.Op("ge", (level, T.Lit(MAX_RLOCK_LEVEL, LEVEL_T)), BOOL))
            self.fail("bounds", deep, f"{name} acquired more than {MAX_RLOCK_LEVEL} times "
                      "(the model's bound for recursive locks)", span)
            self.block_on(T.neg(deep))
            self.write(LEVEL, (lk,), T.ite(T.eq(holder, a),
                                           T.Op("add", (level, T.Lit(1, LEVEL_T)), LEVEL_T),
                                           T.Lit(1, LEVEL_T)))
        else:
            avail = T.eq(holder, NONE)
            self.fail("lock_sanity", T.eq(holder, a),
                      f"{name} re-acquired by the thread that holds it", span)
        # the thread waits for this lock when it got this far in the step and
        # the lock is taken (NOTE(wait-for): only procedure steps count)
        self.waits.append((lk, T.conj(self.guard, self.path, T.neg(avail))))
        self.block_on(avail)
        self.write(HOLDER, (lk,), a)

    def release(self, lk: T.Term, family: str, span: Span, text: str) -> None:
        lw = self.lw
        a = self.actor
        assert a is not None
        holder = T.select(self.cur_value(HOLDER), (lk,))
        name = "the GIL" if family == "gil" else f"`{_show_lock(text)}`"
        self.fail("lock_sanity", T.ne(holder, a),
                  f"{name} released by a thread that does not hold it", span)
        mine = T.eq(holder, a)
        if family != "gil" and lw.lock_kind(family) == "rlock":
            level = T.select(self.cur_value(LEVEL), (lk,))
            last = T.Op("le", (level, T.Lit(1, LEVEL_T)), BOOL)
            self.write(LEVEL, (lk,), T.ite(mine, T.ite(last, T.Lit(0, LEVEL_T),
                                                       T.Op("sub", (level, T.Lit(1, LEVEL_T)),
                                                            LEVEL_T)),
                                           level))
            self.write(HOLDER, (lk,), T.ite(T.conj(mine, last), NONE, holder))
        else:
            self.write(HOLDER, (lk,), T.ite(mine, NONE, holder))

    def object_op(self, op: str, obj: str, idx: tuple[T.Term, ...], span: Span, text: str) -> None:
        lw = self.lw
        a = self.actor
        assert a is not None and lw.interp is not None
        info: ObjectInfo = next(o for o in lw.p.objects if o.name == obj)
        cur = self.read(lw.cur_of(a))
        self.fail("tstate", T.eq(cur, NONE), f"`{text}` with no current thread state", span)
        if info.shared and info.guard is not None:
            from spec.program import ACTOR
            guard = T.substitute(T.substitute(info.guard, {ACTOR: a}), None, dict(self.store))
            holder = T.select(self.cur_value(HOLDER), (guard,))
            self.fail("R1", T.ne(holder, a),
                      f"`{text}` touches shared `{obj}` without holding "
                      f"`{info.guard_text}`", span)
        owner = self.cur_value(obj_var(obj))
        here = lw.allocator(cur)

        def not_current(o: T.Term) -> T.Term:
            if info.raw and o is owner:  # a raw container belongs to no interpreter
                return T.FALSE
            return T.conj(T.ne(o, NONE), T.ne(lw.allocator(o), here))

        items = self.cur_value(items_var(obj)) if info.keys is not None else None
        alive = T.ne(owner, NONE)
        if op == "alloc":
            self.fail("memory", alive, f"`{text}` while `{obj}` is still allocated (the "
                      "old object leaks)", span)
            self.write(obj_var(obj), (), cur)
            if items is not None:
                assert isinstance(items.type, MapT)
                self.write(items_var(obj), (), T.Lit(tuple(None for _ in map_keys(items.type)),
                                                     items.type))
            return
        if op == "free":
            self.fail("memory", T.neg(alive), f"`{text}`: `{obj}` is not allocated (double "
                      "free)", span)
            self.fail("R2", not_current(owner), f"`{text}` frees `{obj}` while its "
                      "allocator's interpreter is not current", span)
            if items is not None:
                assert isinstance(items.type, MapT)
                bad_item = T.disj(*(not_current(T.select(items, tuple(
                    T.Lit(v, k) for v, k in zip(key, items.type.keys, strict=True))))
                    for key in map_keys(items.type)))
                self.fail("R2", bad_item, f"`{text}` frees an item of `{obj}` while its "
                          "allocator's interpreter is not current", span)
                self.write(items_var(obj), (), T.Lit(tuple(None for _ in map_keys(items.type)),
                                                     items.type))
            self.write(obj_var(obj), (), NONE)
            return
        self.fail("memory", T.neg(alive), f"`{text}` uses `{obj}` while it is not allocated",
                  span)
        if op == "resize":
            self.fail("R2", not_current(owner), f"`{text}` resizes `{obj}` while its "
                      "allocator's interpreter is not current", span)
            return
        if op == "read":  # a lookup: a missing key is an answer, not an error
            return
        if op == "write":
            if idx:
                assert items is not None
                item = T.select(items, idx)
                self.fail("memory", T.conj(alive, T.eq(item, NONE)),
                          f"`{text}` changes an item that is not in `{obj}`", span)
            return
        assert items is not None
        item = T.select(items, idx)
        if op == "insert":
            self.fail("R2", T.conj(T.eq(item, NONE), not_current(owner)),
                      f"`{text}` adds a key, which may resize `{obj}`, while its allocator's "
                      "interpreter is not current", span)
            self.fail("R2", not_current(item), f"`{text}` replaces (frees) an item of "
                      f"`{obj}` while its allocator's interpreter is not current", span)
            self.write(items_var(obj), idx, T.ite(alive, cur, item))
            return
        if op == "remove":
            self.fail("R2", not_current(item), f"`{text}` frees an item of `{obj}` while its "
                      "allocator's interpreter is not current", span)
            self.write(items_var(obj), idx, NONE)
            return
        raise AssertionError(op)

    def fork(self, reinit: tuple[tuple[T.Term, str], ...]) -> None:
        """PyOS_AfterFork_Child: only the forking thread survives; listed locks are
        reinitialised unlocked; the forking thread holds its interpreter's GIL."""
        lw = self.lw
        a = self.actor
        assert a is not None and lw.thread is not None
        for t in lw.thread.values:
            tv = T.Lit(t, lw.thread)
            other = T.ne(tv, a)
            self.write(LIVE, (tv,), T.ite(other, T.FALSE, T.select(self.cur_value(LIVE), (tv,))))
        for lock, family in reinit:
            lk = self.read(lock)
            self.write(HOLDER, (lk,), NONE)
            if family != "gil" and lw.lock_kind(family) == "rlock":
                self.write(LEVEL, (lk,), T.Lit(0, LEVEL_T))


def _uses(p: Program, kinds: tuple[type, ...]) -> bool:
    def walk(stmts: tuple[TStmt, ...]) -> bool:
        for s in stmts:
            if isinstance(s, kinds):
                return True
            if isinstance(s, TIf) and (walk(s.then) or walk(s.orelse)):
                return True
            if isinstance(s, TAtomic) and walk(s.body):
                return True
        return False
    return any(walk(r.body) for r in p.routines)


def _pc_literals(t: T.Term) -> set[str]:
    """Program-counter labels a term names (from `at`)."""
    out: set[str] = set()

    def go(x: T.Term) -> T.Term:
        if isinstance(x, T.Lit) and isinstance(x.type, EnumT) and x.type.name == "PC":
            out.add(str(x.value))
        return T.map_children(x, go)

    go(t)
    return out


def _const(t: T.Term) -> Value:
    from spec.typecheck import _const_eval
    return _const_eval(t)


def _source_text(span: Span) -> str:
    return " ".join(span.source.text[span.start:span.end].split())


def _first_line(text: str) -> str:
    return text.split("{", 1)[0].strip() if "{" in text else text


def _shorten(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _show(t: T.Term) -> str:
    return str(t.value) if isinstance(t, T.Lit) else "the target"


def _show_lock(text: str) -> str:
    for word in ("acquire ", "release "):
        if text.startswith(word):
            return text[len(word):]
    return text


__all__ = ["lower", "IDLE"]
