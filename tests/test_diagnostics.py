"""One test per diagnostic code, triggered through the `speccheck` command line.

CASES maps every code in spec.codes.CODES to the files that trigger it, the
command line, and where the error should point. A coverage test fails when a
code is added without a case here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from checker.discover import discover
from checker.options import CheckOptions
from checker.results import ExitCode
from checker.run import check_file
from checker.sweep import sweep_file
from spec.codes import CODES
from spec.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    files: dict[str, str | bytes]   # written into the working directory
    args: tuple[str, ...] = ()      # extra arguments before the file
    target: str = "model.spec"      # the path given to speccheck
    where: str | None = None        # "file:line:col" the error points at, None if unlocated
    help: bool = False              # a `help:` line is expected
    defines: tuple[tuple[str, str], ...] = field(default=())
    only: tuple[str, ...] = ()
    sweep: bool = False             # raised by --sweep (checker.sweep.sweep_file)
    witness: str | None = None      # --witness STEP
    directory: bool = False         # raised when searching a directory (checker.discover)


def m(text: str, **kw) -> Case:
    return Case({"model.spec": text}, **kw)


CASES: dict[str, list[Case]] = {
    "SC001": [
        Case({}, target="missing.spec", help=True),
        Case({"model.spec": 'model m\ninclude "adir"\n', "adir/keep.txt": "x"},
             where="model.spec:2:1", help=True),
    ],
    "SC002": [
        Case({"model.spec": b"model m\n\x00\n"}, help=True),
        Case({"model.spec": b"model m\n\xff\xfe\n"}, help=True),
    ],
    "SC003": [m("model m\nvar x: bool\naction a() { x = true }\n",
                where="model.spec:3:16", help=True)],
    "SC004": [m("model m $\n", where="model.spec:1:9", help=True)],
    "SC005": [m("model m\naction a() {", where="model.spec:2:12", help=True)],
    "SC006": [Case({"model.spec": 'model a\ninclude "b.spec"\n',
                    "b.spec": '// b\ninclude "model.spec"\n'},
                   where="b.spec:2:1", help=True)],
    "SC007": [Case({"model.spec": "model m\n// " + "x" * 1_000_000 + "\n"}, help=True)],
    "SC008": [Case({"adir/keep.txt": "x"}, target="adir", help=True, directory=True)],
    "SC009": [m("model m\nvar b: bool\ninvariant i: " + "not " * 250 + "b\n",
                where="model.spec:3:802", help=True),
              m("model m\nvar b: bool\ndef d0: bool = b\n"
                + "".join(f"def d{i}: bool = d{i - 1} and b\n" for i in range(1, 130))
                + "invariant i: d129\n", where="model.spec:128:18", help=True)],
    "SC101": [m("model m\nvar count: bool\ninvariant i: coutn\n",
                where="model.spec:3:14", help=True)],
    "SC102": [m("model m\nvar x: bool\nvar x: bool\n", where="model.spec:3:1", help=True)],
    "SC103": [m("var x: bool\n", where="model.spec:1:1", help=True)],
    "SC104": [m("model m\nvar x: Foo\n", where="model.spec:2:8", help=True)],
    "SC105": [m("model m\nexpect holds nope\n", where="model.spec:2:1", help=True)],
    "SC106": [m("model m\nvar held: bool\n", where="model.spec:2:1", help=True)],
    "SC108": [m("model m\ndef f: bool = g\ndef g: bool = f\ninvariant i: f\n",
                where="model.spec:2:1", help=True)],
    "SC201": [m("model m\nvar x: bool = 1\n", where="model.spec:2:15")],
    "SC202": [m("model m\nthreads(1)\nlock l: mutex\ninvariant i: held(l, l)\n",
                where="model.spec:4:14", help=True)],
    "SC203": [m("model m\nvar x: bool\ninvariant i: x[1]\n", where="model.spec:3:14")],
    "SC204": [m("model m\nvar x: bool\ninvariant i: x(1)\n", where="model.spec:3:14")],
    "SC205": [m("model m\nthreads(1)\nlock l: mutex\naction a(t: Thread) { l := true }\n",
                where="model.spec:4:23", help=True)],
    "SC206": [m("model m\nvar x: int[0..2] = 5\n", where="model.spec:2:20")],
    "SC207": [m("model m\nvar x: bool??\n", where="model.spec:2:8", help=True)],
    "SC301": [m("model m\nvar x: bool\ninit { await x }\n", where="model.spec:3:8", help=True)],
    "SC302": [m("model m\nlock l: mutex\naction a() { acquire l }\n",
                where="model.spec:3:14", help=True)],
    "SC303": [m("model m\ninterpreters(2)\nthreads(1)\nproc p(t: Thread) { switch back }\n",
                where="model.spec:4:21", help=True)],
    "SC401": [m("model m\nsort S(0)\n", where="model.spec:2:8", help=True)],
    "SC402": [m("model m\nthreads(1)\nvar x: bool\naction a(t: Thread) { acquire x }\n",
                where="model.spec:4:31")],
    "SC403": [m("model m\ninterpreters(1)\nthreads(1)\nvar x: bool\n"
                "action a(t: Thread) { alloc x }\n", where="model.spec:5:29")],
    "SC404": [m("model m\ninterpreters(1)\nthreads(1)\nvar x: bool\n"
                "invariant i: bound(x) == none\n", where="model.spec:5:20")],
    "SC405": [m("model m\nobject o: object\n", where="model.spec:2:1", help=True)],
    "SC406": [m("model m\nvar x: int[0..2]\nvar y: int[0..2] = x\n",
                where="model.spec:3:20", help=True)],
    "SC407": [m("model m\nsort A(32)\nvar big: (A, A, A) -> bool\n",
                where="model.spec:3:10", help=True),
              m("model m\nthreads(8)\nsort K(32)\nvar b: bool\n"
                "action a(t: Thread, x: K, y: K, z: K) { b := true }\n",
                where="model.spec:5:1", help=True),
              m("model m\nsort K(32)\nvar s: K -> bool\ninvariant i: forall a: K. "
                "forall b: K. forall c: K. forall d: K. s[a] and s[b] -> s[c] or s[d]\n",
                where="model.spec:4:1", help=True)],
    "SC408": [m("model m\ninterpreters(1)\nthreads(1)\nlock l: mutex\n"
                "proc p(t: Thread) { acquire l  release l }\n"
                "invariant i: forall t: Thread. at(t, p, 3) -> holder(l) == t\n",
                where="model.spec:6:1", help=True)],
    "SC501": [m("model m\nparam N = 1\n", args=("-D", "NOPE=1"), help=True,
                defines=(("NOPE", "1"),))],
    "SC502": [m("model m\nparam N = 1\n", args=("-D", "N=abc"), defines=(("N", "abc"),))],
    "SC503": [m("model m\nvar b: bool\ninvariant i: b or not b\n", args=("--only", "NOPE"),
                help=True, only=("NOPE",))],
    "SC505": [m("model m\nvar b: bool\naction flip() { b := not b }\n",
                args=("--witness", "flop"), help=True, witness="flop")],
    "SC504": [m("model m\n" + "".join(f"param P{i}: bool = false\n" for i in range(9))
                + "var b: bool\ninvariant i: b or not b\n", args=("--sweep",), help=True,
                sweep=True)],
}

CASE_PARAMS = [pytest.param(code, case, id=f"{code}-{i}")
               for code, cases in CASES.items() for i, case in enumerate(cases)]

CARET = re.compile(r"^\s*\|\s*\^+", re.MULTILINE)


def _write(directory: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def test_every_code_has_a_case():
    """The table covers exactly the codes in spec.codes.CODES."""
    assert set(CASES) == set(CODES)
    assert all(CASES[c] for c in CASES)


@pytest.mark.parametrize("code, case", CASE_PARAMS)
def test_code_is_reported_by_the_cli(code, case, tmp_path, monkeypatch, run_cli):
    """The command line reports exactly this code, located and explained, with exit 3."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, case.files)
    res = run_cli([*case.args, case.target])
    combined = res.out + res.err
    assert res.code == ExitCode.SPEC_ERROR == 3
    assert "Traceback" not in combined
    assert "internal error" not in combined
    reported = re.findall(r"error\[(SC\d{3})\]", res.err)
    assert reported == [code], res.err
    assert f"{case.target}: 1 error; nothing was checked" in res.err
    assert res.out == ""
    if case.where is not None:
        assert f"--> {case.where}\n" in res.err, res.err
        assert CARET.search(res.err), res.err
    else:
        assert "-->" not in res.err
    if case.help:
        assert "  = help: " in res.err, res.err


@pytest.mark.parametrize("code, case", CASE_PARAMS)
def test_rendered_hints_match_the_diagnostics(code, case, tmp_path, monkeypatch, run_cli):
    """The CLI prints a help line exactly for the diagnostics that carry a hint."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, case.files)
    with pytest.raises(SpecError) as info:
        options = CheckOptions(defines=case.defines, only=case.only, witness=case.witness)
        if case.directory:
            raise SpecError(discover([case.target]).errors[0][1])
        if case.sweep:
            sweep_file(case.target, options)
        else:
            check_file(case.target, options)
    (diag,) = info.value.diagnostics
    assert diag.code == code
    res = run_cli([*case.args, case.target])
    if diag.hint:
        assert f"  = help: {diag.hint}\n" in res.err
    else:
        assert "= help:" not in res.err
    for note in diag.notes:
        assert f"  = note: {note}\n" in res.err


def test_errors_rst_documents_exactly_the_codes():
    """docs/errors.rst mentions every code in CODES and no other code."""
    path = ROOT / "docs" / "errors.rst"
    if not path.exists():
        pytest.skip("docs/errors.rst is not written yet")
    mentioned = set(re.findall(r"\bSC\d{3}\b", path.read_text(encoding="utf-8")))
    assert set(CODES) - mentioned == set(), "codes missing from docs/errors.rst"
    assert mentioned - set(CODES) == set(), "docs/errors.rst mentions unknown codes"


def test_codes_are_well_formed_and_titled():
    """Every code is SC plus three digits in a known group, with a non-empty title."""
    for code, title in CODES.items():
        assert re.fullmatch(r"SC[0-5]\d\d", code), code
        assert title and title == title.strip()


NEVER_INTERNAL = {
    "switch_in_action": "model m\ninterpreters(2)\nthreads(1)\n"
                        "action a(t: Thread) { switch to sub1 keep_gil  switch back keep_gil }\n",
    "switch_in_atomic": "model m\ninterpreters(2)\nthreads(1)\n"
                        "proc p(t: Thread) { atomic { switch to sub1 keep_gil } }\n",
    "lock_var_before_locks": "model m\nthreads(1)\nvar x: Lock?\nlock l: mutex\n"
                             "invariant i: x == none\n",
    "idle_without_procs": "model m\nthreads(1)\nvar b: bool\ninvariant i: idle(t1) or b\n",
    "held_without_threads": "model m\nlock l: mutex\ninvariant i: not held(l)\n",
    "enum_as_int_bound": "model m\nenum E {a}\nvar x: int[a..3]\n",
}


@pytest.mark.parametrize("name", sorted(NEVER_INTERNAL))
def test_odd_models_never_cause_an_internal_error(name, tmp_path, monkeypatch, run_cli):
    """Unusual but parseable models give a result or a diagnostic, never exit 70."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.spec").write_text(NEVER_INTERNAL[name], encoding="utf-8")
    res = run_cli(["--engine", "explicit", "model.spec"])
    assert "Traceback" not in res.err and "internal error" not in res.err, res.err
    assert res.code in (0, 1, 3, 4)
