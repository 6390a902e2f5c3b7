"""The `speccheck` command: golden outputs, JSON schema, exit codes, determinism.

Each tests/golden/cases/*.spec whose first line is `// speccheck: FLAGS` is a case:
the CLI runs with FLAGS and the file name (from inside the cases directory, so
paths are relative) and its output must equal the .expected file next to it:
stdout, then `--- stderr` and stderr if any, then `--- exit N`. Run pytest with
--update-golden to rewrite the expected files.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from pathlib import Path

import pytest

from checker.cli import VERSION
from checker.results import Verdict

CASES_DIR = Path(__file__).resolve().parent / "golden" / "cases"
HEADER = "// speccheck:"


def _cases() -> list[Path]:
    return sorted(p for p in CASES_DIR.glob("*.spec")
                  if p.read_text(encoding="utf-8").startswith(HEADER))


def _flags(case: Path) -> list[str]:
    first = case.read_text(encoding="utf-8").splitlines()[0]
    return shlex.split(first[len(HEADER):])


def _normalise(text: str) -> str:
    text = text.replace(str(CASES_DIR) + "/", "").replace(str(CASES_DIR), ".")
    return text.replace("\r\n", "\n")


def _transcript(res) -> str:
    out = _normalise(res.out)
    if out and not out.endswith("\n"):
        out += "\n"
    err = _normalise(res.err)
    if err and not err.endswith("\n"):
        err += "\n"
    return out + (f"--- stderr\n{err}" if err else "") + f"--- exit {res.code}\n"


def _run_case(case: Path, run_cli, monkeypatch) -> str:
    monkeypatch.chdir(CASES_DIR)
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps usage text to the terminal width
    return _transcript(run_cli([*_flags(case), case.name]))


def test_golden_cases_exist():
    """The golden directory holds the cases this file is about."""
    names = {p.stem for p in _cases()}
    assert {"proof", "expected_violation", "unexpected", "spec_error", "json", "only",
            "define", "version", "usage"} <= names
    assert "runtime" not in names  # an include, not a case


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_golden(case, run_cli, monkeypatch, update_golden):
    """The CLI output for each case equals its .expected file."""
    actual = _run_case(case, run_cli, monkeypatch)
    expected_path = case.with_suffix(".expected")
    if update_golden:
        expected_path.write_text(actual, encoding="utf-8")
        return
    if not expected_path.exists():
        pytest.fail(f"{expected_path.name} is missing; run pytest --update-golden")
    expected = expected_path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"{expected_path.name} (expected)", "actual"))
        pytest.fail(f"output differs from {expected_path.name}:\n{diff}", pytrace=False)


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_output_is_deterministic(case, run_cli, monkeypatch):
    """Running a case twice gives identical output."""
    assert _run_case(case, run_cli, monkeypatch) == _run_case(case, run_cli, monkeypatch)


def _exit_of(case_name: str, run_cli, monkeypatch) -> int:
    text = _run_case(CASES_DIR / f"{case_name}.spec", run_cli, monkeypatch)
    return int(re.search(r"--- exit (\d+)\n\Z", text).group(1))


@pytest.mark.parametrize("name, code", [
    ("proof", 0), ("expected_violation", 0), ("unexpected", 1), ("spec_error", 3),
    ("json", 0), ("only", 0), ("define", 0), ("bounded", 0), ("version", 0), ("usage", 2),
    ("runtime_r2", 0),
])
def test_case_exit_codes(name, code, run_cli, monkeypatch):
    """Each case exits with the documented code."""
    assert _exit_of(name, run_cli, monkeypatch) == code


# ---- JSON -----------------------------------------------------------------------------


def _json_doc(run_cli, monkeypatch) -> dict:
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--engine", "explicit", "--json", "-", "json.spec"])
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_json_schema(run_cli, monkeypatch):
    """--json - prints a versioned document with one entry per model and property."""
    doc = _json_doc(run_cli, monkeypatch)
    assert doc["schema_version"] == 1
    assert doc["tool"] == "speccheck"
    assert doc["exit_code"] == 0
    (model,) = doc["models"]
    assert model["file"] == "json.spec" and model["model"] == "json_report"
    assert isinstance(model["states"], int) and model["states"] > 0
    assert model["replay"].startswith("speccheck json.spec")
    verdicts = {r["name"]: r["verdict"] for r in model["results"]}
    assert verdicts["memory"] == Verdict.VIOLATED.value
    assert set(verdicts.values()) <= {v.value for v in Verdict}
    for r in model["results"]:
        assert {"name", "kind", "verdict", "engine", "expected", "as_expected", "trace"} <= set(r)
        assert r["as_expected"] is True


def test_json_itf_trace_shape(run_cli, monkeypatch):
    """Counterexamples are ITF traces: '#meta', 'vars' and indexed 'states'."""
    doc = _json_doc(run_cli, monkeypatch)
    (memory,) = [r for r in doc["models"][0]["results"] if r["name"] == "memory"]
    trace = memory["trace"]
    assert set(trace) == {"#meta", "vars", "states"}
    assert trace["#meta"]["format"] == "ITF"
    assert set(trace["#meta"]["varTypes"]) == set(trace["vars"])
    assert len(trace["states"]) == memory["depth"]  # check violation: one state per step
    for i, state in enumerate(trace["states"]):
        assert state["#meta"]["index"] == i
        assert set(state) - {"#meta"} == set(trace["vars"])
        if i > 0:
            assert {"action", "text", "thread"} <= set(state["#meta"])
    failing = trace["#meta"]["failingStep"]
    assert "double free" in failing["message"]
    assert failing["thread"] == "t1"
    assert memory["location"]["line"] == 9


def test_json_values_use_itf_encodings(run_cli, monkeypatch):
    """Integers are `#bigint` strings, maps are `#map` pairs, empty options are tagged None."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--engine", "explicit", "--json", "-", "expected_violation.spec"])
    (small,) = [r for r in json.loads(res.out)["models"][0]["results"] if r["name"] == "small"]
    states = small["trace"]["states"]
    assert [s["x"] for s in states] == [{"#bigint": "0"}, {"#bigint": "1"}, {"#bigint": "2"}]
    pc = states[0]["$pc"]["#map"]
    assert pc == [["t1", "idle"], ["t2", "idle"]]
    mem = json.loads(run_cli(["--engine", "explicit", "--json", "-", "json.spec"]).out)
    (memory,) = [r for r in mem["models"][0]["results"] if r["name"] == "memory"]
    owners = [s["obj:o"] for s in memory["trace"]["states"]]
    assert owners[0] == {"tag": "None", "value": {"#tup": []}}
    assert {"tag": "Some", "value": "main"} in owners


def test_json_to_a_file(run_cli, monkeypatch, tmp_path):
    """--json FILE writes the document there and still prints the text report."""
    monkeypatch.chdir(CASES_DIR)
    target = tmp_path / "report.json"
    res = run_cli(["--engine", "explicit", "--json", str(target), "proof.spec"])
    assert res.code == 0
    assert "model proof" in res.out
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["models"][0]["model"] == "proof"


def test_json_to_an_unwritable_path_is_a_usage_error(run_cli, monkeypatch, tmp_path):
    """--json into a missing directory fails with exit 2 and no traceback."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--json", str(tmp_path / "no" / "such" / "dir.json"), "proof.spec"])
    assert res.code == 2
    assert "cannot write" in res.err and "Traceback" not in res.err


def test_json_for_spec_error(run_cli, monkeypatch):
    """With a spec error, --json - still prints a document with exit code 3."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--json", "-", "spec_error.spec"])
    assert res.code == 3
    doc = json.loads(res.out)
    assert doc["exit_code"] == 3 and doc["models"] == []
    assert "SC101" in res.err


# ---- options and exit codes -----------------------------------------------------------


def test_version(run_cli):
    """--version prints the version and exits 0."""
    res = run_cli(["--version"])
    assert res.code == 0
    assert res.out == f"speccheck {VERSION}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)


@pytest.mark.parametrize("argv", [
    [], ["--engine", "warp", "x.spec"], ["--depth", "-1", "x.spec"], ["--depth", "ten", "x.spec"],
    ["-D", "NOEQUALS", "x.spec"], ["-D", "1bad=2", "x.spec"], ["--bogus", "x.spec"],
])
def test_usage_errors_exit_2(argv, run_cli):
    """Bad command lines print usage and exit 2 without a traceback."""
    res = run_cli(argv)
    assert res.code == 2
    assert "usage: speccheck" in res.err
    assert "speccheck: error:" in res.err
    assert "Traceback" not in res.err + res.out


def test_only_selects_properties(run_cli, monkeypatch):
    """--only limits the report to the named properties."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--only", "small", "--engine", "bmc", "--depth", "5", "only.spec"])
    lines = [ln.split()[0] for ln in res.out.splitlines() if ln.startswith("  ") and
             len(ln.split()) > 1 and ln.split()[0] in ("small", "always", "bounds")]
    assert lines == ["small"]
    res2 = run_cli(["--only", "small", "--only", "always", "--engine", "explicit", "only.spec"])
    names = {ln.split()[0] for ln in res2.out.splitlines() if ln.startswith("  ")}
    assert {"small", "always"} <= names and "bounds" not in names


def test_define_changes_the_instance(run_cli, monkeypatch):
    """-D KEYS=3 shows in the header and in the replay line."""
    monkeypatch.chdir(CASES_DIR)
    two = run_cli(["--engine", "explicit", "define.spec"])
    three = run_cli(["-D", "KEYS=3", "--engine", "explicit", "define.spec"])
    assert "(KEYS=2)" in two.out and "(KEYS=3)" in three.out
    assert "-D KEYS=3" in three.out  # the replay line repeats the override
    assert two.code == three.code == 0


def test_unexpected_violation_exit_1(run_cli, monkeypatch):
    """A violation of a property expected to hold exits 1 and says UNEXPECTED."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["unexpected.spec"])
    assert res.code == 1
    assert "violated (UNEXPECTED)" in res.out
    assert "NOT as expected: deadlock" in res.out


def test_expected_violation_not_found_exit_1(run_cli, write_model):
    """A property expected violated but proved exits 1."""
    path = write_model("model m\nthreads(1)\nvar b: bool\ninvariant i: not b\n"
                       "expect violated i\n")
    res = run_cli(["--engine", "explicit", path])
    assert res.code == 1
    assert "a violation was expected" in res.out


def test_bounded_where_violation_expected_is_inconclusive(run_cli, write_model):
    """BMC finding nothing where a violation is expected exits 4 (inconclusive)."""
    path = write_model("model m\nthreads(1)\nvar x: int[0..5] = 0\n"
                       "action inc(t: Thread) { await x < 5  x := x + 1 }\n"
                       "invariant i: x < 5\nexpect violated i\n")
    res = run_cli(["--engine", "bmc", "--depth", "2", path])
    assert res.code == 4
    res_deep = run_cli(["--engine", "bmc", "--depth", "5", path])
    assert res_deep.code == 0


def test_state_limit_is_inconclusive(run_cli, monkeypatch):
    """An explicit search cut off by --max-states reports unknown and exits 4."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--engine", "explicit", "--max-states", "3", "proof.spec"])
    assert res.code == 4
    assert "unknown" in res.out and "state limit 3" in res.out


def test_no_color_when_not_a_terminal(run_cli, monkeypatch):
    """Captured output has no ANSI escapes."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["unexpected.spec"])
    assert "\x1b[" not in res.out


def test_timings_flag_prints_time(run_cli, monkeypatch):
    """--timings adds a `time:` line."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--timings", "--engine", "explicit", "proof.spec"])
    assert re.search(r"^time: \d+\.\d\ds$", res.out, re.MULTILINE)


def test_replay_line_reproduces_the_run(run_cli, monkeypatch):
    """Running the printed replay command gives the same report."""
    monkeypatch.chdir(CASES_DIR)
    first = run_cli(["-D", "KEYS=3", "--engine", "explicit", "define.spec"])
    replay = re.search(r"^replay: (.*)$", first.out, re.MULTILINE).group(1)
    argv = shlex.split(replay)
    assert argv[0] == "speccheck"
    again = run_cli(argv[1:])
    assert again.out == first.out and again.code == first.code


def test_two_models_in_one_invocation(run_cli, monkeypatch):
    """Several files are each reported, in order, then summarised; the worst exit code wins."""
    monkeypatch.chdir(CASES_DIR)
    alone = run_cli(["unexpected.spec"])
    both = run_cli(["--no-cache", "json.spec", "unexpected.spec"])
    assert "Traceback" not in both.err and "internal error" not in both.err
    assert both.code == 1
    assert both.out.index("model json_report") < both.out.index("model unexpected")
    assert alone.out in both.out
    assert both.out.index(alone.out) < both.out.index("\nsummary:\n")


def test_spec_error_in_one_file_does_not_stop_the_others(run_cli, monkeypatch):
    """A file with errors is reported on stderr; the others are still checked; exit 3."""
    monkeypatch.chdir(CASES_DIR)
    res = run_cli(["--no-cache", "spec_error.spec", "proof.spec"])
    assert res.code == 3
    assert "model proof" in res.out
    assert "spec_error.spec: 2 errors; nothing was checked" in res.err
