"""Printing: syntax tree -> canonical model text.

``parse(print_module(m)) == m`` for every module (spans are not compared); a
property test checks it. Expressions are fully parenthesised where precedence
could be in doubt, so printing never changes meaning.
"""

from __future__ import annotations

from spec import syntax as S

_PREC = {"->": 1, "or": 2, "and": 3, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5,
         "+": 6, "-": 6}


def print_type(t: S.TypeExpr) -> str:
    match t:
        case S.BoolType():
            return "bool"
        case S.IntType(lo, hi):
            return f"int[{print_expr(lo)}..{print_expr(hi)}]"
        case S.NamedType(name):
            return name
        case S.OptionType(inner):
            return f"{print_type(inner)}?"
        case S.MapType(keys, value):
            if len(keys) == 1 and not isinstance(keys[0], S.MapType):
                return f"{print_type(keys[0])} -> {print_type(value)}"
            return f"({', '.join(print_type(k) for k in keys)}) -> {print_type(value)}"
    raise AssertionError(t)


def print_expr(e: S.Expr, prec: int = 0) -> str:
    match e:
        case S.IntLit(v):
            return str(v)
        case S.BoolLit(v):
            return "true" if v else "false"
        case S.NoneLit():
            return "none"
        case S.Name(name):
            return name
        case S.Call(fn, args):
            return f"{fn}({', '.join(print_expr(a) for a in args)})"
        case S.Index(base, args):
            return f"{base}[{', '.join(print_expr(a) for a in args)}]"
        case S.Unary("not", x):
            return _wrap(f"not {print_expr(x, 4)}", prec > 4)
        case S.Unary(_, x):  # the grammar takes `-` before an atom only
            return _wrap(f"-{print_expr(x, 8)}", prec >= 8)
        case S.Binary(op, a, b):
            p = _PREC[op]
            if op == "->":  # right associative
                text = f"{print_expr(a, p + 1)} -> {print_expr(b, p)}"
            elif p == 5:  # comparisons do not chain
                text = f"{print_expr(a, p + 1)} {op} {print_expr(b, p + 1)}"
            else:
                text = f"{print_expr(a, p)} {op} {print_expr(b, p + 1)}"
            return _wrap(text, prec > p)
        case S.Ite(c, a, b):
            return _wrap(f"if {print_expr(c)} then {print_expr(a)} else {print_expr(b)}", prec > 0)
        case S.Quant(kind, var, t, body):
            return _wrap(f"{kind} {var}: {print_type(t)}. {print_expr(body)}", prec > 0)
    raise AssertionError(e)


def _wrap(text: str, yes: bool) -> str:
    return f"({text})" if yes else text


def _target(t: S.Target) -> str:
    if t.indices:
        return f"{t.name}[{', '.join(print_expr(i) for i in t.indices)}]"
    return t.name


def print_block(b: S.Block, indent: int) -> str:
    if not b.stmts:
        return "{ }"
    pad = "  " * (indent + 1)
    lines = [pad + print_stmt(s, indent + 1) for s in b.stmts]
    return "{\n" + "\n".join(lines) + "\n" + "  " * indent + "}"


def print_stmt(s: S.Stmt, indent: int = 0) -> str:
    match s:
        case S.Assign(t, None):
            return f"{_target(t)} := any"
        case S.Assign(t, v):
            return f"{_target(t)} := {print_expr(v)}"  # type: ignore[arg-type]
        case S.If(c, then, orelse):
            text = f"if {print_expr(c)} {print_block(then, indent)}"
            if orelse is not None:
                text += f" else {print_block(orelse, indent)}"
            return text
        case S.Assert(c, name):
            return f"assert {print_expr(c)}" + (f" as {name}" if name else "")
        case S.Await(c):
            return f"await {print_expr(c)}"
        case S.Assume(c):
            return f"assume {print_expr(c)}"
        case S.Acquire(lock):
            return f"acquire {print_expr(lock)}"
        case S.Release(lock):
            return f"release {print_expr(lock)}"
        case S.SwitchTo(i, via, keep):
            return (f"switch to {print_expr(i)}" + (f" via {via}" if via else "")
                    + (" keep_gil" if keep else ""))
        case S.SwitchBack(keep):
            return "switch back" + (" keep_gil" if keep else "")
        case S.ObjectOp(op, t):
            return f"{op} {_target(t)}"
        case S.Atomic(body):
            return f"atomic {print_block(body, indent)}"
        case S.Skip():
            return "skip"
        case S.Detach():
            return "detach"
        case S.Attach():
            return "attach"
        case S.Fork(reinit):
            if not reinit:
                return "fork"
            return "fork reinit " + ", ".join(print_expr(x) for x in reinit)
    raise AssertionError(s)


def _params(ps: tuple[S.Param, ...]) -> str:
    return ", ".join(f"{p.name}: {print_type(p.type)}" for p in ps)


def print_decl(d: S.Decl) -> str:
    docs = "".join(f"/// {line}\n" for line in d.docs)
    match d:
        case S.ModelDecl(name):
            body = f"model {name}"
        case S.IncludeDecl(path):
            body = f'include "{path}"'
        case S.ParamDecl(name, kind, values, default):
            ty = {"int": ": int", "bool": ": bool", None: ""}.get(kind, "")
            if kind == "enum":
                ty = ": {" + ", ".join(values) + "}"
            body = f"param {name}{ty} = {print_expr(default)}"
        case S.InterpretersDecl(size):
            body = f"interpreters({print_expr(size)})"
        case S.ThreadsDecl(size):
            body = f"threads({print_expr(size)})"
        case S.SortDecl(name, size):
            body = f"sort {name}({print_expr(size)})"
        case S.EnumDecl(name, values):
            body = f"enum {name} {{{', '.join(values)}}}"
        case S.VarDecl(name, t, init):
            body = f"var {name}: {print_type(t)}" + (f" = {print_expr(init)}" if init else "")
        case S.DefDecl(name, params, t, e):
            args = f"({_params(params)})" if params else ""
            body = f"def {name}{args}: {print_type(t)} = {print_expr(e)}"
        case S.LockDecl(name, index, kind, rel):
            idx = f"[{', '.join(print_type(t) for t in index)}]" if index else ""
            body = f"lock {name}{idx}: {kind}" + (" releases_gil" if rel else "")
        case S.ObjectDecl(name, keys, raw, shared, guard):
            kind = "object" if keys is None else f"dict[{', '.join(print_type(k) for k in keys)}]"
            body = f"object {name}: {kind}" + (" raw" if raw else "")
            if shared:
                body += f" shared guarded_by {print_expr(guard)}"  # type: ignore[arg-type]
        case S.TStateDecl(name, interp):
            body = f"tstate {name}: detached {print_expr(interp)}"
        case S.InitDecl(b):
            body = f"init {print_block(b, 0)}"
        case S.ActionDecl(name, params, b):
            body = f"action {name}({_params(params)}) {print_block(b, 0)}"
        case S.ProcDecl(name, params, b):
            body = f"proc {name}({_params(params)}) {print_block(b, 0)}"
        case S.InvariantDecl(name, e, lemma=lemma):
            body = f"{'lemma' if lemma else 'invariant'} {name}: {print_expr(e)}"
        case S.SweepDecl(names):
            body = "sweep " + ", ".join(names)
        case S.ExpectDecl(outcome, name, when):
            body = f"expect {outcome} {name}" + (f" when {print_expr(when)}" if when else "")
        case _:
            raise AssertionError(d)
    return docs + body


def print_module(m: S.Module) -> str:
    return "\n\n".join(print_decl(d) for d in m.decls) + "\n"
