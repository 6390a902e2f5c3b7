"""A hypothesis strategy for random small well-typed models, for differential testing.

``random_models()`` draws the text of a model that uses most of the language:
sorts, enums, maps, options, mutexes, rlocks, lock families, locks that release
the GIL, objects and dicts (raw, shared with a guard), owners, thread states,
runtime flags, procedures of several steps with `if`, `atomic`, `switch`,
`detach`/`attach`, actions with and without a running thread, `init` with
`any` and `assume`, assertions, invariants and lemmas. Every drawn model is
meant to type-check; a SpecError from one is a bug in this generator (or in
the front end), and the tests say so.

The models are small on purpose (two threads, sorts of one or two elements)
so that the explicit explorer can exhaust them; sizes are drawn so that most
models have a few hundred to a few thousand states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

KEY_OPS = ("<", "<=", "==", "!=", ">=", ">")


@dataclass
class World:
    """What a drawn model declares; expression and statement drawing read it."""

    interps: int | None
    threads: int
    keys: int | None                     # size of `sort Key`, or no sort
    enum: bool
    bools: list[str] = field(default_factory=list)
    ints: list[str] = field(default_factory=list)
    key_opts: list[str] = field(default_factory=list)      # `Key?`
    int_opts: list[str] = field(default_factory=list)      # `int[0..2]?`
    bool_maps: list[str] = field(default_factory=list)     # `Key -> bool`
    int_maps: list[str] = field(default_factory=list)      # `Key -> int[0..2]`
    phases: list[str] = field(default_factory=list)        # `Phase`
    mutexes: list[str] = field(default_factory=list)
    rlocks: list[str] = field(default_factory=list)
    family: str | None = None                              # `lf[Key]: mutex`
    objects: list[str] = field(default_factory=list)       # plain objects
    dicts: list[str] = field(default_factory=list)         # dict[Key]
    tstate: bool = False
    procs: list[str] = field(default_factory=list)
    helper: bool = False                                   # `def ok(x: Key): bool`
    guards: dict[str, str] = field(default_factory=dict)   # object -> its guard lock

    @property
    def locks(self) -> list[str]:
        return self.mutexes + self.rlocks


@dataclass(frozen=True)
class Scope:
    """Names a drawn expression may use: the running thread, a key parameter,
    quantified variables (thread and key)."""

    thread: str | None = None
    key: str | None = None
    qthreads: tuple[str, ...] = ()
    qkeys: tuple[str, ...] = ()

    def thread_terms(self, w: World) -> list[str]:
        out = [f"t{i + 1}" for i in range(w.threads)]
        return out + ([self.thread] if self.thread else []) + list(self.qthreads)

    def key_terms(self, w: World) -> list[str]:
        if w.keys is None:
            return []
        out = [f"key{i + 1}" for i in range(w.keys)]
        return out + ([self.key] if self.key else []) + list(self.qkeys)


def interp_names(w: World) -> list[str]:
    return ["main", *[f"sub{i}" for i in range(1, w.interps or 0)]]


class Drawer:
    """Wraps hypothesis' draw with the few choices the generator needs."""

    def __init__(self, draw: st.DrawFn, w: World) -> None:
        self.draw = draw
        self.w = w

    def pick(self, xs: list[str] | tuple[str, ...]) -> str:
        return self.draw(st.sampled_from(list(xs)))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 99)) < int(p * 100)

    def count(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    # ---- expressions ---------------------------------------------------------------

    def int_term(self, sc: Scope) -> str:
        w = self.w
        opts = ["0", "1", "2", *w.ints]
        keys = sc.key_terms(w)
        opts += [f"{m}[{k}]" for m in w.int_maps for k in keys]
        opts += [f"level({r})" for r in w.rlocks]
        return self.pick(opts)

    def atom(self, sc: Scope, *, state: bool = True) -> str:
        """A boolean atom; `state=False` gives one that reads no state (a constant)."""
        w = self.w
        if not state:
            return self.pick(["true", "false", "1 < 2", "2 == 1 + 1"])
        kinds = ["bool"]
        if w.ints or w.int_maps or w.rlocks:
            kinds += ["cmp", "cmp"]
        if w.key_opts or w.int_opts:
            kinds.append("opt")
        if w.bool_maps:
            kinds.append("map")
        if w.phases:
            kinds.append("phase")
        if w.locks or w.family:
            kinds += ["lock", "lock"]
        if w.objects or w.dicts:
            kinds += ["obj", "obj"]
        if w.interps:
            kinds.append("cur")
        kinds.append("thread")
        if w.tstate:
            kinds.append("tstate")
        if w.helper and sc.key_terms(w):
            kinds.append("helper")
        kind = self.pick(kinds)
        threads = sc.thread_terms(w)
        keys = sc.key_terms(w)
        if kind == "bool":
            return self.pick([*w.bools, "true"]) if w.bools else "true"
        if kind == "cmp":
            return f"{self.int_term(sc)} {self.pick(KEY_OPS)} {self.int_term(sc)}"
        if kind == "opt":
            choices = [f"{q} == none" for q in w.key_opts + w.int_opts]
            choices += [f"{q} == {k}" for q in w.key_opts for k in keys]
            choices += [f"{q} != {c}" for q in w.int_opts for c in ("none", "1", *w.ints)]
            return self.pick(choices)
        if kind == "map":
            return f"{self.pick(w.bool_maps)}[{self.pick(keys)}]"
        if kind == "phase":
            return f"{self.pick(w.phases)} {self.pick(['==', '!='])} {self.pick(['ph_a', 'ph_b'])}"
        if kind == "lock":
            lock = self.lock_expr(sc, running=False)
            shape = self.pick(["held", "holder", "holder_none"])
            if shape == "held":
                return f"held({lock})"
            if shape == "holder_none":
                return f"holder({lock}) == none"
            return f"holder({lock}) == {self.pick(threads)}"
        if kind == "obj":
            choices = [f"alive({o})" for o in w.objects + w.dicts]
            if w.interps:
                owners = ["none", *interp_names(w)]
                if sc.thread:
                    owners.append(f"cur({sc.thread})")
                choices += [f"owner({o}) {self.pick(['==', '!='])} {self.pick(owners)}"
                            for o in w.objects + w.dicts]
                choices += [f"owner({d}[{self.pick(keys)}]) == {self.pick(owners)}"
                            for d in w.dicts]
            choices += [f"has({d}, {self.pick(keys)})" for d in w.dicts]
            return self.pick(choices)
        if kind == "cur":
            return f"cur({self.pick(threads)}) {self.pick(['==', '!='])} " \
                   f"{self.pick(['none', *interp_names(w)])}"
        if kind == "tstate":
            return f"bound(ts) == {self.pick(['none', *threads])}"
        if kind == "helper":
            return f"ok({self.pick(keys)})"
        # thread: liveness and where it is
        t = self.pick(threads)
        choices = [f"live({t})", f"idle({t})"]
        choices += [f"running({t}, {p})" for p in w.procs]
        return self.pick(choices)

    def bool_expr(self, sc: Scope, depth: int = 1, *, state: bool = True) -> str:
        shape = self.pick(["atom", "atom", "not", "and", "or", "->", "ite", "quant"]
                          if depth > 0 else ["atom"])
        if shape == "atom":
            return self.atom(sc, state=state)
        if shape == "not":
            return f"not ({self.bool_expr(sc, depth - 1, state=state)})"
        if shape == "ite":
            return (f"(if {self.bool_expr(sc, 0, state=state)} then "
                    f"{self.bool_expr(sc, depth - 1, state=state)} else "
                    f"{self.bool_expr(sc, depth - 1, state=state)})")
        if shape == "quant":
            if not state:
                return self.atom(sc, state=False)
            q = self.pick(["forall", "exists"])
            n = len(sc.qthreads) + len(sc.qkeys)
            if self.w.keys is not None and self.chance(0.6):
                var = f"k{n}"
                inner = Scope(sc.thread, sc.key, sc.qthreads, (*sc.qkeys, var))
                return f"({q} {var}: Key. {self.bool_expr(inner, depth - 1)})"
            var = f"u{n}"
            inner = Scope(sc.thread, sc.key, (*sc.qthreads, var), sc.qkeys)
            return f"({q} {var}: Thread. {self.bool_expr(inner, depth - 1)})"
        left = self.bool_expr(sc, depth - 1, state=state)
        right = self.bool_expr(sc, depth - 1, state=state)
        return f"({left}) {shape} ({right})"

    def lock_expr(self, sc: Scope, *, running: bool) -> str:
        """A lock: declared, a family member, or (with interpreters) a GIL. `gil`
        alone needs a running thread."""
        w = self.w
        choices = list(w.locks)
        if w.family:
            choices += [f"{w.family}[{k}]" for k in sc.key_terms(w)]
        if w.interps:
            choices.append("gil(main)")
            if running:
                choices += ["gil", "gil"]
        return self.pick(choices)

    # ---- statements ----------------------------------------------------------------

    def assignment(self, sc: Scope) -> str:
        w = self.w
        targets: list[str] = ["bool"] if w.bools else []
        if w.ints:
            targets.append("int")
        if w.key_opts or w.int_opts:
            targets.append("opt")
        if w.bool_maps or w.int_maps:
            targets.append("map")
        if w.phases:
            targets.append("phase")
        if not targets:
            return "skip"
        kind = self.pick(targets)
        keys = sc.key_terms(w)
        if kind == "bool":
            return f"{self.pick(w.bools)} := {self.bool_expr(sc, 1)}"
        if kind == "int":
            n = self.pick(w.ints)
            return f"{n} := {self.pick([f'{n} + 1', f'{n} - 1', '0', '2', *w.ints])}"
        if kind == "opt":
            if w.key_opts and (not w.int_opts or self.chance(0.5)):
                return f"{self.pick(w.key_opts)} := {self.pick(['none', *keys])}"
            q = self.pick(w.int_opts)
            # only in-range literals: out-of-range option literals are a documented gap
            return f"{q} := {self.pick(['none', '0', '2', *[f'{n} + 1' for n in w.ints]])}"
        if kind == "phase":
            return f"{self.pick(w.phases)} := {self.pick(['ph_a', 'ph_b', 'ph_c'])}"
        k = self.pick(keys)
        if w.bool_maps and (not w.int_maps or self.chance(0.5)):
            return f"{self.pick(w.bool_maps)}[{k}] := {self.bool_expr(sc, 1)}"
        m = self.pick(w.int_maps)
        return f"{m}[{k}] := {self.pick([f'{m}[{k}] + 1', f'{m}[{k}] - 1', '0', '1'])}"

    def object_stmt(self, sc: Scope) -> str:
        w = self.w
        keys = sc.key_terms(w)
        choices: list[tuple[str, str]] = []
        for o in w.objects:
            choices += [(op, o) for op in ("alloc", "free", "read", "write", "resize")]
        for d in w.dicts:
            choices += [(op, d) for op in ("alloc", "free", "resize", "read")]
            choices += [(op, f"{d}[{self.pick(keys)}]")
                        for op in ("insert", "remove", "read", "write", "insert")]
        op, target = self.draw(st.sampled_from(choices))
        if self.chance(0.5):
            base = target.split("[")[0]
            if op == "alloc":
                cond = f"not alive({base})"
            elif op in ("write", "remove") and "[" in target:
                cond = f"alive({base}) and has({base}, {target[len(base) + 1:-1]})"
            else:
                cond = f"alive({base})"
            return f"if {cond} {{ {op} {target} }}"
        return f"{op} {target}"

    def stmts(self, sc: Scope, *, proc: bool, atomic: bool, depth: int, size: int) -> list[str]:
        """Statements of a body. `proc`: steps of a procedure (may wait across
        steps); `atomic`: inside `atomic` or an action (no switches)."""
        w = self.w
        out: list[str] = []
        for _ in range(self.count(1, size)):
            kinds = ["assign", "assign", "await", "assert"]
            if sc.thread is not None:
                if w.locks or w.family or w.interps:
                    kinds += ["acquire", "release", "locked", "locked", "locked"]
                if w.objects or w.dicts:
                    kinds += ["obj", "obj"]
                if w.interps and self.chance(0.4):
                    kinds.append("runtime")
                if self.chance(0.03):
                    kinds.append("fork")
            if depth > 0:
                kinds.append("if")
                if proc and not atomic:
                    kinds.append("atomic")
            kind = self.pick(kinds)
            if kind == "assign":
                out.append(self.assignment(sc))
            elif kind == "await":
                out.append(f"await {self.bool_expr(sc, 1)}")
            elif kind == "assert":
                out.append(f"assert {self.bool_expr(sc, 1)}")
            elif kind in ("acquire", "release"):
                out.append(f"{kind} {self.lock_expr(sc, running=True)}")
            elif kind == "locked":  # a balanced region, the common case in real code
                lock = self.lock_expr(sc, running=True)
                inner = self.stmts(sc, proc=proc, atomic=atomic, depth=max(0, depth - 1),
                                   size=2)
                out += [f"acquire {lock}", *inner, f"release {lock}"]
            elif kind == "obj":
                out.append(self.object_stmt(sc))
            elif kind == "runtime":
                out.append(self.pick(["detach", "attach", "acquire gil", "release gil"]))
            elif kind == "fork":
                reinit = [lk for lk in w.locks if self.chance(0.5)]
                out.append("fork" + (" reinit " + ", ".join(reinit) if reinit else ""))
            elif kind == "if":
                cond = self.bool_expr(sc, 1, state=not self.chance(0.1))
                then = self.stmts(sc, proc=proc, atomic=atomic, depth=depth - 1, size=2)
                text = f"if {cond} {{ {' '.join(then)} }}"
                if self.chance(0.5):
                    orelse = self.stmts(sc, proc=proc, atomic=atomic, depth=depth - 1, size=2)
                    text += f" else {{ {' '.join(orelse)} }}"
                out.append(text)
            elif kind == "atomic":
                body = self.stmts(sc, proc=proc, atomic=True, depth=0, size=2)
                out.append(f"atomic {{ {' '.join(body)} }}")
        return out

    def proc_body(self, sc: Scope) -> list[str]:
        """Top-level steps of a procedure, maybe with one switch or detach region."""
        w = self.w
        body = self.stmts(sc, proc=True, atomic=False, depth=1, size=3)
        if w.interps and self.chance(0.35):
            where = self.pick(interp_names(w))
            via = " via ts" if w.tstate and self.chance(0.6) else ""
            keep = self.pick([" keep_gil", " keep_gil", ""])
            inner = self.stmts(sc, proc=True, atomic=False, depth=0, size=2)
            back = keep if self.chance(0.85) else self.pick([" keep_gil", ""])
            at = self.count(0, len(body))
            body[at:at] = [f"switch to {where}{via}{keep}", *inner, f"switch back{back}"]
        elif w.interps and self.chance(0.15):
            inner = self.stmts(Scope(sc.thread, sc.key), proc=True, atomic=False, depth=0,
                               size=1)
            inner = [s for s in inner if not any(x in s for x in ("alloc", "free", "read",
                                                                  "write", "resize",
                                                                  "insert", "remove"))]
            body = [*body, "detach", *inner, "attach"]
        return body


def declarations(d: Drawer) -> list[str]:
    w = d.w
    lines = ["model random"]
    if w.interps is not None:
        lines.append(f"interpreters({w.interps})")
    lines.append(f"threads({w.threads})")
    if w.interps == 2 and d.chance(0.3):
        lines.append(f"def own_gil(i: Interp): bool = {d.pick(['true', 'i == sub1', 'false'])}")
    if w.interps == 2 and d.chance(0.2):
        lines.append("def shares_main_obmalloc(i: Interp): bool = true")
    if w.keys is not None:
        lines.append(f"sort Key({w.keys})")
    if w.enum:
        lines.append("enum Phase { ph_a, ph_b, ph_c }")
    for b in w.bools:
        lines.append(f"var {b}: bool = {d.pick(['true', 'false'])}")
    for n in w.ints:
        lines.append(f"var {n}: int[0..2] = {d.count(0, 2)}")
    for q in w.key_opts:
        lines.append(f"var {q}: Key?")
    for q in w.int_opts:
        lines.append(f"var {q}: int[0..2]? = {d.pick(['none', '1'])}")
    for m in w.bool_maps:
        lines.append(f"var {m}: Key -> bool")
    for m in w.int_maps:
        lines.append(f"var {m}: Key -> int[0..2]")
    for p in w.phases:
        lines.append(f"var {p}: Phase")
    if w.helper:
        w.helper = False  # the body must not call `ok` itself
        body = d.bool_expr(Scope(key="x"), 0)
        w.helper = True
        lines.append(f"def ok(x: Key): bool = {body}")
    for lk in w.mutexes:
        lines.append(f"lock {lk}: mutex{' releases_gil' if w.interps and d.chance(0.2) else ''}")
    for lk in w.rlocks:
        lines.append(f"lock {lk}: rlock{' releases_gil' if w.interps and d.chance(0.2) else ''}")
    if w.family:
        lines.append(f"lock {w.family}[Key]: mutex")
    for o in w.objects + w.dicts:
        kind = "object" if o in w.objects else "dict[Key]"
        raw = " raw" if d.chance(0.2) else ""
        guard = ""
        if d.chance(0.5):
            w.guards[o] = d.lock_expr(Scope(), running=False)
            guard = f" shared guarded_by {w.guards[o]}"
        lines.append(f"object {o}: {kind}{raw}{guard}")
    if w.tstate:
        lines.append("tstate ts: detached main")
    return lines


@st.composite
def random_models(draw: st.DrawFn) -> str:
    interps = draw(st.sampled_from([None, 1, 2, 2, 2]))
    keys = draw(st.sampled_from([None, 1, 2, 2]))
    w = World(interps=interps, threads=draw(st.sampled_from([1, 2, 2, 2])), keys=keys,
              enum=draw(st.booleans()))
    d = Drawer(draw, w)
    w.bools = [f"b{i}" for i in range(d.count(0, 2))]
    w.ints = [f"n{i}" for i in range(d.count(0, 2))]
    if keys is not None:
        w.key_opts = [f"kq{i}" for i in range(d.count(0, 1))]
        w.bool_maps = [f"bm{i}" for i in range(d.count(0, 1))]
        w.int_maps = [f"im{i}" for i in range(d.count(0, 1))]
        w.family = "lf" if d.chance(0.25) else None
        w.helper = d.chance(0.2)
    w.int_opts = [f"iq{i}" for i in range(d.count(0, 1))]
    if w.enum:
        w.phases = ["ph"]
    w.mutexes = [f"l{i}" for i in range(d.count(0, 2))]
    w.rlocks = [f"r{i}" for i in range(d.count(0, 1))]
    if interps is not None:
        w.objects = ["o0"] if d.chance(0.6) else []
        if keys is not None:
            w.dicts = ["d0"] if d.chance(0.5) else []
        w.tstate = interps == 2 and d.chance(0.3)
    n_routines = d.count(1, 3)
    kinds = [d.pick(["proc", "proc", "action", "action", "bare"]) for _ in range(n_routines)]
    w.procs = [f"p{i}" for i, k in enumerate(kinds) if k == "proc"]
    lines = declarations(d)
    if d.chance(0.35):
        init: list[str] = []
        for v in w.bools + w.ints + w.bool_maps:
            if d.chance(0.4):
                init.append(f"{v} := any")
        if w.interps == 2 and d.chance(0.6):
            init.append(f"assume cur(t1) == {d.pick(['main', 'sub1'])}")
        if d.chance(0.3):
            init.append(f"assume {d.bool_expr(Scope(), 0)}")
        if init:
            lines.append("init { " + "  ".join(init) + " }")
    for i, kind in enumerate(kinds):
        key = "k" if keys is not None and d.chance(0.4) else None
        params = ", ".join([*(["t: Thread"] if kind != "bare" else []),
                            *([f"{key}: Key"] if key else [])])
        sc = Scope(thread="t" if kind != "bare" else None, key=key)
        if kind == "proc":
            body = d.proc_body(sc)
        else:
            body = d.stmts(sc, proc=False, atomic=True, depth=1, size=2)
        lines.append(f"{'proc' if kind == 'proc' else 'action'} "
                     f"{'p' if kind == 'proc' else 'a'}{i}({params}) {{")
        lines += [f"  {s}" for s in body]
        lines.append("}")
    for o in w.objects + w.dicts:  # something to free, resize or insert into
        if d.chance(0.5):
            body = f"if not alive({o}) {{ alloc {o} }}"
            if o in w.guards and d.chance(0.8):
                body = f"acquire {w.guards[o]}  {body}  release {w.guards[o]}"
            lines.append(f"action mk_{o}(t: Thread) {{ {body} }}")
    for i in range(d.count(0, 2)):
        lines.append(f"invariant inv{i}: {d.bool_expr(Scope(), 2)}")
    if d.chance(0.15):
        lines.append(f"lemma lem: {d.bool_expr(Scope(), 1)}")
    return "\n".join(lines) + "\n"
