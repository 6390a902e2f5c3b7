"""The counterexample picture (checker/report/svg.py) and `speccheck --trace-svg`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from checker.options import CheckOptions
from checker.report import svg
from checker.report.steps import changes, threads
from checker.results import PropertyResult, Verdict
from checker.run import check_file

NS = "{http://www.w3.org/2000/svg}"

# a lock, a shared table, and a lookup that forgets the lock: R1 fails at the read
UNLOCKED = """\
model modules
interpreters(2)
threads(2)
sort Mod(2)
lock table_lock: mutex
object table: dict[Mod] shared guarded_by table_lock
init { assume cur(t1) == main and cur(t2) == sub1 }
proc register(t: Thread, m: Mod) {
  acquire table_lock
  if not alive(table) { alloc table }
  insert table[m]
  release table_lock
}
proc lookup(t: Thread, m: Mod) {
  if alive(table) { read table[m] }
}
"""

# three threads, a state invariant that two increments break; t3 never needs to run
COUNTER = """\
model counter
interpreters(2)
threads(3)
var n: int[0..3] = 0
init { assume cur(t1) == main and cur(t2) == sub1 and cur(t3) == main }
proc bump(t: Thread) { n := n + 1 }
invariant small: n < 2
"""

FAST = CheckOptions(certify=False)


def _violated(path: Path, name: str) -> PropertyResult:
    report = check_file(str(path), FAST)
    (r,) = [r for r in report.results if r.name == name]
    assert r.verdict is Verdict.VIOLATED and r.trace is not None
    return r


def _parse(text: str) -> ET.Element:
    root = ET.fromstring(text)  # raises on malformed XML
    assert root.tag == NS + "svg"
    return root


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(NS + "g") if cls in g.get("class", "").split()]


def _texts(el: ET.Element) -> str:
    return "\n".join("".join(t.itertext()) for t in el.iter(NS + "text"))


def test_check_violation_picture(write_model):
    r = _violated(write_model(UNLOCKED), "R1")
    assert r.trace is not None
    root = _parse(svg.render(r.trace, prop=r.name, message=r.message, title="R1"))
    lanes = _groups(root, "lane")
    assert [g.get("data-thread") for g in lanes] == ["t1", "t2"]
    steps = _groups(root, "step")
    assert len(steps) == r.trace.length
    bad = _groups(root, "violation")
    assert len(bad) == 1 and bad[0] is steps[-1]
    assert bad[0].get("data-step") == str(r.trace.length)
    assert "touches shared `table` without holding `table_lock`" in " ".join(
        _texts(bad[0]).split())
    # each step sits in its thread's lane and says which interpreter it runs in
    for step, g in zip(r.trace.steps, steps, strict=True):
        assert g.get("data-thread") == step.actor
        assert g.get("data-interp") == step.interp
        assert f"in {step.interp}" in _texts(g)
    # the lock changes are spelled out in the step that makes them
    acquiring = [i for i in range(r.trace.length)
                 if any(c.kind == "lock" and c.after == r.trace.steps[i].actor
                        for c in changes(r.trace, i))]
    assert acquiring
    for i in acquiring:
        assert "acquires table_lock" in _texts(steps[i])
    # ownership: the step that allocates the table says by whom
    assert any("allocated by" in _texts(g) for g in steps)


def test_state_invariant_picture_has_a_lane_per_thread(write_model):
    r = _violated(write_model(COUNTER), "small")
    assert r.trace is not None
    assert threads(r.trace) == ("t1", "t2", "t3")
    root = _parse(svg.render(r.trace, prop=r.name, message=r.message))
    assert [g.get("data-thread") for g in _groups(root, "lane")] == ["t1", "t2", "t3"]
    steps = _groups(root, "step")
    bad = _groups(root, "violation")
    # the step into the bad state is the highlighted one
    assert len(bad) == 1 and bad[0] is steps[-1]
    assert "small violated in state" in _texts(bad[0])
    assert all("violation" not in g.get("class", "") for g in steps[:-1])


def test_picture_is_deterministic_and_escapes_text(write_model):
    r = _violated(write_model(UNLOCKED), "R1")
    assert r.trace is not None
    first = svg.render(r.trace, prop=r.name, message=r.message, title="a < b & \"c\"")
    assert first == svg.render(r.trace, prop=r.name, message=r.message,
                               title="a < b & \"c\"")
    root = _parse(first)
    assert "<script" not in first and "href" not in first
    assert root.find(NS + "title") is not None
    assert root.findtext(NS + "title") == "a < b & \"c\""


@pytest.mark.parametrize(("path", "n", "expected"), [
    ("out.svg", 1, "out.svg"), ("out.svg", 2, "out-2.svg"), ("d.x/out", 3, "d.x/out-3"),
    ("pics/r1.trace.svg", 2, "pics/r1.trace-2.svg"), (".svg", 2, ".svg-2"),
])
def test_numbered_file_names(path, n, expected):
    assert svg.numbered(path, n) == expected


def test_cli_trace_svg_writes_one_file_per_counterexample(write_model, run_cli, tmp_path):
    model = write_model(UNLOCKED.replace("cur(t2) == sub1", "cur(t2) == main")
                        + "invariant never_two: not (has(table, mod1) and "
                        "has(table, mod2))\nexpect violated R1\nexpect violated never_two\n")
    out = tmp_path / "pics" / "trace.svg"
    out.parent.mkdir()
    res = run_cli([model, "--no-certificates", "--trace-svg", out])
    assert res.code == 0, res.out + res.err
    second = tmp_path / "pics" / "trace-2.svg"
    assert out.exists() and second.exists()
    assert not (tmp_path / "pics" / "trace-3.svg").exists()
    first_root = _parse(out.read_text(encoding="utf-8"))
    assert first_root.findtext(NS + "title", "").startswith("R1 violated: model modules")
    assert _parse(second.read_text(encoding="utf-8")).findtext(NS + "title", "").startswith(
        "never_two violated")
    assert f"trace picture {out}: R1 violated" in res.err
    assert f"trace picture {second}: never_two violated" in res.err


def test_cli_trace_svg_without_counterexample(write_model, run_cli, tmp_path):
    # at most three threads pass the test at n == 2, so n stays within 0..5
    model = write_model(COUNTER.replace("n := n + 1", "if n < 3 { n := n + 1 }")
                        .replace("int[0..3]", "int[0..5]").replace("n < 2", "n <= 5"))
    out = tmp_path / "none.svg"
    res = run_cli([model, "--no-certificates", "--trace-svg", out])
    assert res.code == 0
    assert not out.exists()
    assert "no counterexample to draw" in res.err


def test_cli_trace_svg_unwritable(write_model, run_cli, tmp_path):
    model = write_model(UNLOCKED + "expect violated R1\n")
    res = run_cli([model, "--no-certificates", "--trace-svg", tmp_path / "no" / "x.svg"])
    assert res.code == 2
    assert "cannot write" in res.err
    assert "R1" in res.out  # the report itself is still printed


def test_readme_picture_is_current():
    """README.md shows docs/_static/extcache-r1.svg: it must be what --trace-svg draws
    today (regenerate with the command in README.md when the model or svg.py change)."""
    root = Path(__file__).resolve().parent.parent
    committed = (root / "docs" / "_static" / "extcache-r1.svg").read_text(encoding="utf-8")
    report = check_file(str(root / "models" / "extcache.spec"), CheckOptions(
        defines=(("GIL", "own"),), only=("R1",), certify=False))
    ((_, drawn),) = svg.pictures([report])
    assert drawn == committed, ("regenerate: speccheck models/extcache.spec -D GIL=own "
                                "--only R1 --trace-svg docs/_static/extcache-r1.svg")
    assert "docs/_static/extcache-r1.svg" in (root / "README.md").read_text(encoding="utf-8")
