"""Hostile input: whatever a model file holds, speccheck answers with coded
diagnostics or results, never a traceback, a hang or an internal error; models
cannot run code or reach files outside their directory; limits give `unknown`.

The fuzz tests are hypothesis tests over the front end (reading, including,
parsing, type checking, the size limits of spec/budget.py, lowering). Each
example also gets a short explicit search, so a model that is accepted but
would blow up an engine is noticed too. "No hang" is checked as CPU time per
example, which does not depend on how busy the machine is.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import models_with_header  # grammar-based syntax trees

from checker.engines.bmc import bmc
from checker.engines.explicit import explore
from checker.engines.induction import induction, kinduction
from checker.engines.pdr import pdr
from checker.options import CheckOptions
from checker.results import ExitCode, Verdict
from checker.run import build
from spec import budget
from spec.codes import CODES
from spec.diagnostics import SpecError
from spec.loader import load_file, load_text
from spec.parser import MAX_NESTING
from spec.printer import print_module

ROOT = Path(__file__).resolve().parent.parent
CPU_SECONDS = 30.0   # per example: far more than any of them needs
FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@contextlib.contextmanager
def model_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def front_end(path: Path) -> set[str]:
    """Load, check and lower a model, then search it a little: the diagnostic codes
    it gets (empty if it is accepted). Anything but a SpecError fails the test."""
    start = time.process_time()
    try:
        ts = build(load_file(path), CheckOptions())
    except SpecError as exc:
        found = {d.code for d in exc.diagnostics}
        assert found and found <= set(CODES), found
        return found
    finally:
        assert time.process_time() - start < CPU_SECONDS
    explore(ts, list(ts.properties), max_states=300, deadline=time.monotonic() + 10)
    assert time.process_time() - start < CPU_SECONDS
    return set()


# ---- fuzzing the front end --------------------------------------------------------------


@FUZZ
@given(models_with_header)
def test_models_generated_from_the_grammar(m):
    """Syntax trees drawn from the grammar, printed, read from a file."""
    with model_dir() as d:
        (d / "model.spec").write_text(print_module(m), encoding="utf-8")
        front_end(d / "model.spec")


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data):
    with model_dir() as d:
        (d / "model.spec").write_bytes(data)
        codes = front_end(d / "model.spec")
        assert codes  # no random bytes make a model (they never start with `model`)


@FUZZ
@given(st.binary(min_size=1, max_size=8).filter(lambda b: not _utf8(b)),
       st.integers(0, 40))
def test_text_that_is_not_utf8(junk, at):
    text = b"model m\nvar b: bool\ninvariant i: b or not b\n"
    with model_dir() as d:
        (d / "model.spec").write_bytes(text[:at] + junk + text[at:])
        assert front_end(d / "model.spec") == {"SC002"}


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in b


NESTINGS = {
    "not": lambda n: "invariant i: " + "not " * n + "b\n",
    "parens": lambda n: "invariant i: " + "(" * n + "b" + ")" * n + "\n",
    "implies": lambda n: "invariant i: " + "b -> " * n + "b\n",
    "sum": lambda n: "invariant i: " + " + ".join(["k"] * n) + " >= 0\n",
    "ite": lambda n: "invariant i: " + "if b then b else " * n + "true\n",
    "quant": lambda n: "invariant i: " + "".join(f"forall x{j}: S. " for j in range(n))
    + "b\n",
    "negate": lambda n: "invariant i: " + "-(" * n + "k" + ")" * n + " <= 1\n",
    "if": lambda n: "action a(t: Thread) {" + "if b {" * n + "b := not b" + "}" * n + "}\n",
    "atomic": lambda n: "proc p(t: Thread) {" + "atomic {" * n + "b := true" + "}" * n
    + "}\n",
    "else": lambda n: "proc p(t: Thread) { if b { b := false }"
    + " else if b { b := false }" * n + " }\n",
    "defs": lambda n: "".join(f"def d{j + 1}: bool = d{j} and b\n" for j in range(n))
    + f"invariant i: d{n}\n",
    "double": lambda n: "".join(f"def d{j + 1}: bool = d{j} or not d{j}\n" for j in range(n))
    + f"invariant i: d{n}\n",
}
HEADER = ("model deep\nthreads(1)\nsort S(1)\nvar b: bool\nvar k: int[0..1]\n"
          "def d0: bool = b\n")


@FUZZ
@given(st.sampled_from(sorted(NESTINGS)), st.integers(1, 700))
def test_deep_nesting(kind, depth):
    """Deep nesting is accepted, or refused with SC009 (SC407 when definitions
    double), never a RecursionError."""
    with model_dir() as d:
        (d / "model.spec").write_text(HEADER + NESTINGS[kind](depth), encoding="utf-8")
        assert front_end(d / "model.spec") <= {"SC009", "SC407"}


def test_the_deepest_accepted_models_run_on_every_engine():
    """At the largest nesting the parser accepts, every engine still works."""
    for kind in ("not", "implies", "ite", "if", "else", "defs"):
        lo, hi = 1, 2 * MAX_NESTING
        while lo < hi:  # the deepest accepted nesting of this kind
            mid = (lo + hi + 1) // 2
            try:
                build(load_text("deep.spec", HEADER + NESTINGS[kind](mid)), CheckOptions())
                lo = mid
            except SpecError:
                hi = mid - 1
        ts = build(load_text("deep.spec", HEADER + NESTINGS[kind](lo)), CheckOptions())
        props = list(ts.properties)
        explore(ts, props)
        bmc(ts, props, depth=2)
        induction(ts, props)
        kinduction(ts, props, max_k=2)
        pdr(ts, props, timeout_ms=10_000)


HUGE_PLACES = [
    "var x: int[0..{n}]\n",
    "invariant i: {n} > 0\n",
    "param P = {n}\n",
    "sort S({n})\n",
    "threads({n})\n",
    "interpreters({n})\n",
    "var x: int[-{n}..0]\n",
    "param P = 1\nvar x: int[0..P + {n}]\n",
]


@FUZZ
@given(st.sampled_from(HUGE_PLACES), st.integers(1, 6000))
def test_huge_integers(place, digits):
    """Integers of any length: in range, or SC206/SC401, never a crash."""
    with model_dir() as d:
        text = "model m\n" + place.format(n="9" * digits)
        (d / "model.spec").write_text(text, encoding="utf-8")
        assert front_end(d / "model.spec") <= {"SC206", "SC401"}


@FUZZ
@given(st.integers(1, 8), st.integers(1, 40), st.integers(0, 6), st.integers(0, 5),
       st.integers(1, 3000), st.booleans())
def test_huge_sizes(threads, sort, params, quants, hi, init_any):
    """Large sorts, ranges, parameter lists and quantifier nests are checked within
    the limits, or refused (SC401, SC407), without hanging the front end or the
    explicit search."""
    text = [f"model big\nthreads({threads})\nsort S({sort})\nvar n: int[0..{hi}]\n"
            "var m: (S, S) -> int[0..3]\n"]
    if init_any:
        text.append("init { m := any  assume n > 0 }\n")
    args = "".join(f", a{j}: S" for j in range(params))
    text.append(f"action step(t: Thread{args}) {{ n := n + 1 }}\n")
    body = "".join(f"forall q{j}: S. " for j in range(quants)) + "n >= 0"
    text.append(f"invariant i: {body}\n")
    with model_dir() as d:
        (d / "model.spec").write_text("".join(text), encoding="utf-8")
        codes = front_end(d / "model.spec")
        # a refused sort may also be reported where it is used (SC104, SC205)
        assert not codes or codes & {"SC401", "SC407"}, codes


def test_init_choices_beyond_enumeration_are_refused_by_the_explicit_search():
    """`m := any` over a big map cannot be enumerated: explicit search says so at
    once (BMC and PDR, which treat `init` symbolically, take over)."""
    ts = build(load_text("m.spec", "model m\nsort S(32)\nvar m: (S, S) -> int[0..9]\n"
                         "init { m := any  assume false }\ninvariant i: true\n"),
               CheckOptions())
    start = time.process_time()
    found, stats = explore(ts, list(ts.properties), max_states=1000)
    assert time.process_time() - start < 5
    assert found["i"].verdict is Verdict.UNKNOWN
    assert "combinations of `any` values" in (found["i"].reason or "")


def test_memory_bound_stops_the_explicit_search(write_model, run_cli):
    """--max-memory bounds the explicit search's stored states: results are unknown,
    with the reason, and the exit code says inconclusive."""
    path = write_model("model m\nthreads(2)\nvar n: int[0..200]\n"
                       "action up(t: Thread) { if n < 200 { n := n + 1 } }\n"
                       "invariant i: n <= 200\n")
    found, _ = explore(build(load_file(path), CheckOptions()),
                       list(build(load_file(path), CheckOptions()).properties),
                       max_memory=0)
    assert found["i"].verdict is Verdict.UNKNOWN and "memory limit" in (found["i"].reason or "")
    res = run_cli(["--engine", "explicit", "--max-memory", "0", path])
    assert res.code == ExitCode.INCONCLUSIVE and "memory limit 0 MB reached" in res.out


def test_a_solver_timeout_gives_unknown(write_model, run_cli):
    """A solver that runs out of time gives `unknown`, never a verdict."""
    path = ROOT / "models" / "extcache.spec"
    ts = build(load_file(path), CheckOptions())
    props = list(ts.properties)
    for name, r in bmc(ts, props, depth=12, timeout_ms=1).items():
        assert r.verdict in (Verdict.UNKNOWN, Verdict.BOUNDED), name
    assert any(r.verdict is Verdict.UNKNOWN for r in bmc(ts, props, depth=12,
                                                          timeout_ms=1).values())
    for r in pdr(ts, props[:2], timeout_ms=1).values():
        assert r.verdict is Verdict.UNKNOWN and "timeout" in (r.reason or "")
    for r in induction(ts, props[:2], timeout_ms=1).values():
        assert r.verdict is Verdict.UNKNOWN
    res = run_cli(["--engine", "pdr", "--obligation-timeout", "0.001", path])
    assert res.code == ExitCode.INCONCLUSIVE and "proved" not in res.out


# ---- files that are not model files, and includes ------------------------------------


def test_special_files_are_refused_without_blocking(tmp_path, run_cli):
    """A named pipe (no writer), a device and a socket-like path: SC001 at once."""
    fifo = tmp_path / "pipe.spec"
    os.mkfifo(fifo)
    (tmp_path / "zero.spec").symlink_to("/dev/zero")
    (tmp_path / "top.spec").write_text('model m\ninclude "pipe.spec"\n', encoding="utf-8")
    for target, words in ((fifo, "named pipe"), ("/dev/zero", "character device"),
                          (tmp_path / "zero.spec", "character device"),
                          (tmp_path / "top.spec", "named pipe")):
        res = run_cli([target])
        assert res.code == ExitCode.SPEC_ERROR and "error[SC001]" in res.err, res.err
        assert words in res.err


FILES = ["a.spec", "b.spec", "c.spec"]
INCLUDES = [*FILES, "missing.spec", "adir", "pipe.spec", "zero.spec", "../out.spec",
            "/etc/hostname", "sub/../a.spec", "link.spec", "linkdir/x.spec"]


@FUZZ
@given(st.lists(st.lists(st.sampled_from(INCLUDES), max_size=3), min_size=3, max_size=3))
def test_include_graphs(includes):
    """Random include graphs over a few files, with cycles, missing files,
    directories, pipes, devices and paths out of the directory: coded diagnostics
    (SC001, SC006, SC103, ...) or a model, never a hang."""
    with model_dir() as d:
        (d / "adir").mkdir()
        os.mkfifo(d / "pipe.spec")
        (d / "zero.spec").symlink_to("/dev/zero")
        (d.parent / f"{d.name}-out.spec").write_text("var o: bool\n", encoding="utf-8")
        (d / "link.spec").symlink_to(d.parent / f"{d.name}-out.spec")
        (d / "linkdir").symlink_to(d.parent)
        for i, (name, incs) in enumerate(zip(FILES, includes, strict=True)):
            head = "model top\n" if i == 0 else ""
            body = "".join(f'include "{x}"\n' for x in incs) + f"var v{i}: bool\n"
            (d / name).write_text(head + body, encoding="utf-8")
        try:
            front_end(d / "a.spec")
        finally:
            (d.parent / f"{d.name}-out.spec").unlink()


# ---- no code execution ---------------------------------------------------------------------

PAYLOADS = [
    "__import__('os').system('touch {flag}')",
    "import os; os.system('touch {flag}')",
    "$(touch {flag})",
    "`touch {flag}`",
    "invariant i: __import__('os').system('touch {flag}') == 0",
    'include "$(touch {flag}).spec"',
    'include "`touch {flag}`"',
    'include "; touch {flag}"',
    "param P = eval('1')",
    "def f: bool = exec('open(\"{flag}\", \"w\")')",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_model_files_cannot_run_code(payload, tmp_path, run_cli):
    """Python or shell code in a model is text: a diagnostic, and nothing runs."""
    flag = tmp_path / "pwned"
    path = tmp_path / "model.spec"
    path.write_text("model m\nvar b: bool\n" + payload.format(flag=flag) + "\n",
                    encoding="utf-8")
    res = run_cli([path])
    assert res.code == ExitCode.SPEC_ERROR, res.out + res.err
    assert re.search(r"error\[SC\d{3}\]", res.err) and "Traceback" not in res.err
    assert not flag.exists()


def test_includes_cannot_leave_the_model_directory(tmp_path, run_cli):
    """`..`, absolute paths, a symlinked file and a symlinked directory that lead
    outside the top-level model's directory are all refused (SC001)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.spec").write_text("var secret: bool\n", encoding="utf-8")
    top = tmp_path / "models"
    top.mkdir()
    (top / "link.spec").symlink_to(outside / "secret.spec")
    (top / "linkdir").symlink_to(outside)
    (top / "inner").mkdir()
    (top / "inner" / "ok.spec").write_text("var fine: bool\n", encoding="utf-8")
    for include in ("../outside/secret.spec", str(outside / "secret.spec"), "link.spec",
                    "linkdir/secret.spec", "inner/../../outside/secret.spec"):
        (top / "m.spec").write_text(f'model m\ninclude "{include}"\n', encoding="utf-8")
        res = run_cli([top / "m.spec"])
        assert res.code == ExitCode.SPEC_ERROR and "error[SC001]" in res.err, include
        assert "leaves the model's directory" in res.err
    (top / "m.spec").write_text('model m\ninclude "inner/ok.spec"\n', encoding="utf-8")
    assert run_cli(["--no-certificates", top / "m.spec"]).code == ExitCode.OK


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
FORBIDDEN_MODULES = {"subprocess", "pickle", "marshal", "shelve", "pty", "code", "runpy"}
FORBIDDEN_ATTRS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"),
                   ("os", "spawnv"), ("os", "startfile")}


def test_the_checker_has_no_way_to_run_model_code():
    """No module of spec/ or checker/ calls eval/exec/compile, imports subprocess or
    pickle, or starts a shell: a model's text can only ever be parsed."""
    for path in sorted([*(ROOT / "spec").rglob("*.py"), *(ROOT / "checker").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in FORBIDDEN_CALLS, where
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & FORBIDDEN_MODULES, where
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in FORBIDDEN_MODULES, where
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in FORBIDDEN_ATTRS, where


# ---- internal errors --------------------------------------------------------------------------


def test_internal_errors_have_their_own_banner_and_exit_code(write_model, run_cli,
                                                               monkeypatch):
    """An exception inside speccheck: the banner, versions, the command, the
    traceback, exit code 70; user errors (3) and usage errors (2) show none of it."""
    import checker.run as run_module

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("simulated bug in an engine")

    path = write_model("model m\nvar b: bool\ninvariant i: b or not b\n")
    monkeypatch.setattr(run_module, "explore", broken)
    res = run_cli(["--engine", "explicit", path])
    assert res.code == ExitCode.INTERNAL == 70
    assert res.err.startswith("speccheck: internal error, please report\n")
    assert "not a problem with your model" in res.err
    assert re.search(r"speccheck \S+, Python \S+, z3 \S+", res.err)
    assert f"command: speccheck --engine explicit {path}" in res.err
    assert "Traceback (most recent call last)" in res.err
    assert "RuntimeError: simulated bug in an engine" in res.err
    assert res.err.rstrip().endswith("(exit code 70)")
    monkeypatch.undo()
    user = run_cli([write_model("model m\nvar b: bool\ninvariant i: c\n")])
    usage = run_cli(["--engine", "nope", path])
    assert (user.code, usage.code) == (ExitCode.SPEC_ERROR, ExitCode.USAGE)
    for r in (user, usage):
        assert "internal error" not in r.err and "Traceback" not in r.err
    assert len({ExitCode.INTERNAL, *[c for c in ExitCode if c is not ExitCode.INTERNAL]}) \
        == len(ExitCode)


def test_the_size_limits_leave_every_model_alone():
    """The limits of spec/budget.py are far above what models/ needs."""
    for path in sorted((ROOT / "models").glob("*.spec")):
        try:
            build(load_file(path), CheckOptions())
        except SpecError as exc:  # include fragments (runtime.spec) have no `model`
            assert {d.code for d in exc.diagnostics} == {"SC103"}, path
    assert budget.MAX_WORK >= 100 * 10_000 and budget.MAX_EXPANDED_DEPTH > MAX_NESTING


# Found by the differential campaign (seed 1, three models stopped as too slow):
# a step whose statements read the state earlier ones left lowered in time
# exponential in its statements, because spec.terms.free_locals walked the
# shared lowered terms as a tree (minutes of CPU; it never finished here).
LONG_STEP = """\
model long_step
interpreters(1)
threads(1)
sort Key(2)
var b0: bool = true
def ok(x: Key): bool = cur(t1) == none
lock l0: mutex
lock l1: mutex
lock r0: rlock
object d0: dict[Key] shared guarded_by gil(main)
action a0(t: Thread) {
  if not (has(d0, key1)) { b0 := (forall k0: Key. ok(key2)) acquire r0 acquire r0 \
release gil if alive(d0) { resize d0 } release r0 acquire gil acquire r0 \
await (cur(t1) != none) -> (ok(key2)) acquire gil acquire l0 assert true release l0 \
release gil release r0 acquire l1 release gil release r0 } else { acquire gil(main) }
}
invariant inv0: (if ok(key1) then held(gil(main)) else holder(l1) == t1) -> idle(t1)
"""


def test_a_long_step_lowers_in_linear_time():
    start = time.process_time()
    ts = build(load_text("long_step.spec", LONG_STEP), CheckOptions())
    assert time.process_time() - start < 5
    assert [a.routine for a in ts.actions] == ["a0"]


def test_free_locals_visits_a_shared_subterm_once():
    from spec import terms as T
    from spec.sorts import BoolT
    x: T.Term = T.Local("a", BoolT())
    for _ in range(200):  # 2**200 paths, 201 nodes
        x = T.Op("and", (x, x), BoolT())
    assert T.free_locals(x) == frozenset({"a"})
