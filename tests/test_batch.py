"""Proof runs over many models (issue 5): directories, -j, --shard, the result cache,
and the machine outputs (JSON against its schema, ITF traces, JUnit, SARIF 2.1.0).

Every test works on a small temporary model directory, never on models/.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from checker.batch import in_shard, plan_file, select_shard
from checker.cache import task_key
from checker.discover import discover
from checker.options import CheckOptions
from checker.outcomes import Shard
from checker.progress import Board, Event

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "checker" / "report" / "schemas"
SARIF_SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-schema-2.1.0.json"

# A proof, with a lock and a certificate.
PROOF = """\
/// Two threads bump a counter under a lock.
model proof
threads(2)
var x: int[0..3] = 0
lock l: mutex
proc bump(t: Thread) {
  acquire l
  if x < 3 { x := x + 1 }
  release l
}
invariant in_range: x <= 3
"""

# An expected violation in one configuration of a sweep.
GATE = """\
model gate
param LOCKED = true
threads(2)
var n: int[0..3] = 0
var busy: bool = false
action enter(t: Thread) {
  await n < 2 and (not LOCKED or not busy)
  busy := true
  n := n + 1
}
action leave(t: Thread) {
  await busy and n > 0
  n := n - 1
  busy := n > 0
}
invariant one: n <= 1
expect violated one when not LOCKED
sweep LOCKED
"""

# Unexpected violations: a built-in check (the second acquire, line 7) and a deadlock
# (a built-in property with no statement of its own: located at its last step, line 6).
DOUBLE = """\
/// Re-acquires a mutex it holds.
model double
threads(1)
lock l: mutex
proc p(t: Thread) {
  acquire l
  acquire l
}
"""

# A model that includes a shared file (which is then not checked on its own).
COUNTER = """\
model counter
include "lib/prelude.spec"
var c: int[0..3] = 0
action inc() { await c < 3  c := c + 1 }
invariant small: c <= 3
"""
PRELUDE = "/// shared declarations\nthreads(1)\n"


@pytest.fixture
def catalogue(write_model):
    """A small catalogue: proof, a swept model, an included prelude. Returns its dir."""
    write_model(PROOF, "models/proof.spec")
    write_model(GATE, "models/gate.spec")
    write_model(COUNTER, "models/counter.spec")
    write_model(PRELUDE, "models/lib/prelude.spec")
    return write_model(PROOF, "models/proof.spec").parent


def _run(run_cli, *args):
    res = run_cli([*map(str, args)])
    assert "Traceback" not in res.err and "internal error" not in res.err, res.err
    return res


def _summary_rows(out: str) -> list[list[str]]:
    """The summary table's rows as (model, property, configuration, ..., source) cells."""
    block = out[out.index("\nsummary"):].splitlines()[3:]  # after the header
    rows = []
    for line in block:
        if not line.startswith("  "):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def _validate(doc: object, schema_file: Path) -> None:
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema).check_schema(schema)
    jsonschema.validate(doc, schema, cls=jsonschema.validators.validator_for(schema),
                        format_checker=jsonschema.FormatChecker())


# ---- discovery and planning ----------------------------------------------------------------


def test_directories_are_searched_in_sorted_order_and_includes_skipped(catalogue, tmp_path):
    """A directory gives its .spec files sorted by path; a file without `model` that
    another file includes is skipped; hidden directories are not searched."""
    hidden = catalogue / ".hidden"
    hidden.mkdir()
    (hidden / "x.spec").write_text(PROOF, encoding="utf-8")
    found = discover([str(catalogue)])
    names = [Path(f).relative_to(catalogue).as_posix() for f in found.files]
    assert names == ["counter.spec", "gate.spec", "proof.spec"]
    assert [Path(f).name for f in found.skipped] == ["prelude.spec"]
    assert found.errors == ()


def test_a_file_without_model_that_nobody_includes_is_still_checked(write_model, run_cli,
                                                                      monkeypatch, tmp_path):
    """A forgotten `model` line is reported (SC103), not silently skipped."""
    write_model(PROOF, "d/proof.spec")
    write_model("var x: bool\n", "d/orphan.spec")
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "--no-cache", "d")
    assert res.code == 3
    assert "error[SC103]" in res.err and "d/orphan.spec: 1 error; nothing was checked" in res.err
    assert "model proof" in res.out


def test_files_named_twice_are_checked_once(catalogue, run_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "--no-cache", "models/proof.spec", "models", "--engine", "explicit")
    assert res.out.count("model proof") == 1
    assert res.out.index("models/proof.spec: model proof") < res.out.index("model counter")


def test_shards_are_disjoint_and_complete():
    """Every task lands in exactly one shard, for any shard count, stably."""
    idents = [f"models/m{i}.spec\x00GIL={g}" for i in range(40) for g in ("own", "shared")]
    for count in (1, 2, 3, 7):
        owners = [[k for k in range(1, count + 1) if in_shard(i, Shard(k, count))]
                  for i in idents]
        assert all(len(o) == 1 for o in owners)
    assert [in_shard(i, Shard(1, 2)) for i in idents] == \
        [in_shard(i, Shard(1, 2)) for i in idents]
    assert 0 < sum(in_shard(i, Shard(1, 2)) for i in idents) < len(idents)


def test_plan_sweeps_declared_parameters(catalogue):
    plan = plan_file(str(catalogue / "gate.spec"), CheckOptions())
    assert plan.sweep == ("LOCKED",)
    assert [t.label for t in plan.tasks] == ["LOCKED=false", "LOCKED=true"]
    single = plan_file(str(catalogue / "gate.spec"), CheckOptions(), no_sweep=True)
    assert single.sweep is None and [t.label for t in single.tasks] == ["defaults"]
    assert select_shard([plan], None) == [plan]


# ---- cache keys ----------------------------------------------------------------------------


def test_cache_key_ignores_layout_but_not_meaning(write_model):
    """Comments and blank lines do not change the key; the model text, the
    configuration and the options that change results do."""
    a = plan_file(str(write_model(PROOF, "a.spec")), CheckOptions())
    b = plan_file(str(write_model("// a comment\n\n" + PROOF.replace("  ", "    "), "b.spec")),
                  CheckOptions())
    c = plan_file(str(write_model(PROOF.replace("x < 3", "x < 2"), "c.spec")), CheckOptions())
    assert a.model_hash == b.model_hash != c.model_hash
    base = CheckOptions()
    key = task_key(a.model_hash, base)
    assert key == task_key(b.model_hash, base)
    assert key != task_key(c.model_hash, base)
    for changed in (CheckOptions(depth=5), CheckOptions(engine="bmc"), CheckOptions(seed=1),
                    CheckOptions(defines=(("X", "1"),)), CheckOptions(only=("in_range",)),
                    CheckOptions(certify=False), CheckOptions(max_states=10)):
        assert task_key(a.model_hash, changed) != key, changed
    # the last -D of a name wins, as in the type checker
    assert task_key(a.model_hash, CheckOptions(defines=(("X", "2"), ("X", "1")))) == \
        task_key(a.model_hash, CheckOptions(defines=(("X", "1"),)))


# ---- the run and its outputs ---------------------------------------------------------------


def test_directory_run_writes_json_junit_and_sarif(catalogue, run_cli, monkeypatch, tmp_path):
    """`speccheck DIR -j 2 --json --junit --sarif` writes all three; they validate."""
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "models", "-j", "2", "--no-cache", "--json", "out.json",
               "--junit", "out.xml", "--sarif", "out.sarif")
    assert res.code == 0, res.out + res.err
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    _validate(doc, SCHEMAS / "report-v1.schema.json")
    assert [(m["file"], m["configuration"]) for m in doc["models"]] == [
        ("models/counter.spec", {}), ("models/gate.spec", {"LOCKED": "false"}),
        ("models/gate.spec", {"LOCKED": "true"}), ("models/proof.spec", {})]
    assert doc["summary"]["obligations"] == sum(len(m["results"]) for m in doc["models"])
    assert doc["summary"]["as_expected"] == doc["summary"]["obligations"]
    assert doc["skipped"] == ["models/lib/prelude.spec"]
    traces = [r["trace"] for m in doc["models"] for r in m["results"] if r["trace"]]
    assert traces, "the gate sweep has an expected violation with a trace"
    for trace in traces:
        _validate(trace, SCHEMAS / "itf-trace.schema.json")
        assert all(set(s) - {"#meta"} == set(trace["vars"]) for s in trace["states"])
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    _validate(sarif, SARIF_SCHEMA)
    assert sarif["runs"][0]["results"] == []  # everything as expected
    suites = ET.parse(tmp_path / "out.xml").getroot()
    cases = suites.findall("testsuite/testcase")
    assert len(cases) == doc["summary"]["obligations"]
    assert suites.get("failures") == "0" and suites.get("errors") == "0"
    assert "gate.spec" in res.out and "\nsummary:\n" in res.out


def test_unexpected_results_in_junit_and_sarif(write_model, run_cli, monkeypatch, tmp_path):
    """An unexpected violation is a JUnit failure with the trace, and a SARIF result at
    the failing statement's line with the trace as a code flow; exit code 1."""
    write_model(DOUBLE, "m/double.spec")
    write_model(PROOF, "m/proof.spec")
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "m", "--no-cache", "--json", "out.json", "--junit", "out.xml",
               "--sarif", "out.sarif")
    assert res.code == 1
    assert "NOT as expected" in res.out
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    _validate(sarif, SARIF_SCHEMA)
    result, deadlock = sarif["runs"][0]["results"]
    assert result["ruleId"] == "lock_sanity" and result["level"] == "error"
    assert deadlock["ruleId"] == "deadlock"
    assert deadlock["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    region = result["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "m/double.spec"
    assert region["region"]["startLine"] == 7  # the second `acquire l`
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [x["location"]["physicalLocation"]["region"]["startLine"] for x in flow][-1] == 7
    assert "acquire l" in flow[-1]["location"]["message"]["text"]
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["id"] == "lock_sanity"
    suites = ET.parse(tmp_path / "out.xml").getroot()
    failures = suites.findall("testsuite/testcase/failure")
    assert len(failures) == 2 and suites.get("failures") == "2"
    assert "counterexample: lock_sanity" in failures[0].text
    assert "replay: speccheck m/double.spec" in failures[0].text
    _validate(json.loads((tmp_path / "out.json").read_text(encoding="utf-8")),
              SCHEMAS / "report-v1.schema.json")


def test_model_errors_in_every_output(write_model, run_cli, monkeypatch, tmp_path):
    """A file with errors: diagnostics on stderr, a JUnit error, a located SARIF result,
    a JSON `errors` entry; the other files are checked; exit code 3."""
    write_model("model bad\nvar x: bool = 1\n", "m/bad.spec")
    write_model(PROOF, "m/proof.spec")
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "m", "--no-cache", "--json", "out.json", "--junit", "out.xml",
               "--sarif", "out.sarif")
    assert res.code == 3
    assert "m/bad.spec: 1 error; nothing was checked" in res.err
    assert "not checked (errors in the model): m/bad.spec" in res.out
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    _validate(doc, SCHEMAS / "report-v1.schema.json")
    assert doc["errors"][0]["file"] == "m/bad.spec"
    assert doc["errors"][0]["diagnostics"][0]["code"] == "SC201"
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    _validate(sarif, SARIF_SCHEMA)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "SC201"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    errors = ET.parse(tmp_path / "out.xml").getroot().findall("testsuite/testcase/error")
    assert len(errors) == 1 and "SC201" in errors[0].text


def test_parallel_output_equals_serial_output(catalogue, write_model, run_cli, monkeypatch,
                                              tmp_path):
    """-j 2 gives byte-identical stdout, stderr, JSON, JUnit and SARIF to -j 1."""
    write_model(DOUBLE, "models/double.spec")
    monkeypatch.chdir(tmp_path)
    outputs = []
    for jobs in ("1", "2"):
        res = _run(run_cli, "models", "-j", jobs, "--no-cache", "--json", f"{jobs}.json",
                   "--junit", f"{jobs}.xml", "--sarif", f"{jobs}.sarif")
        files = [(tmp_path / f"{jobs}{ext}").read_text(encoding="utf-8")
                 for ext in (".json", ".xml", ".sarif")]
        outputs.append((res.code, res.out, res.err, *files))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 1


def test_shards_together_are_the_whole_run(catalogue, run_cli, monkeypatch, tmp_path):
    """--shard 1/2 and 2/2 split the configurations; their union is the full run."""
    monkeypatch.chdir(tmp_path)
    whole = json.loads(_run(run_cli, "models", "--no-cache", "--json", "-").out)
    parts = [json.loads(_run(run_cli, "models", "--no-cache", "--shard", f"{i}/2",
                             "--json", "-").out) for i in (1, 2)]
    assert [p["shard"] for p in parts] == [{"index": 1, "count": 2}, {"index": 2, "count": 2}]

    def keyed(doc):
        return {(m["file"], json.dumps(m["configuration"])): m["results"] for m in doc["models"]}

    one, two = keyed(parts[0]), keyed(parts[1])
    assert not set(one) & set(two)
    assert {**one, **two} == keyed(whole)
    assert parts[0]["summary"]["obligations"] + parts[1]["summary"]["obligations"] == \
        whole["summary"]["obligations"]


def test_runs_are_time_free_unless_asked(catalogue, run_cli, monkeypatch, tmp_path):
    """Without --timings nothing in the output depends on time; with it the summary
    has a time column and the JSON has seconds."""
    monkeypatch.chdir(tmp_path)
    plain = _run(run_cli, "models", "--no-cache")
    assert not re.search(r"\d+\.\ds\b", plain.out)
    timed = _run(run_cli, "models", "--no-cache", "--timings", "--json", "t.json")
    header = timed.out[timed.out.index("\nsummary:\n"):].splitlines()[2]
    assert header.split()[-1] == "time"
    doc = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert all(isinstance(m["seconds"], float) for m in doc["models"])


# ---- the cache -----------------------------------------------------------------------------


def _cached_flags(doc) -> dict[tuple[str, str], bool]:
    return {(m["file"], json.dumps(m["configuration"])): m["cached"] for m in doc["models"]}


def test_second_run_answers_from_the_cache_and_says_so(catalogue, run_cli, monkeypatch,
                                                       tmp_path):
    monkeypatch.chdir(tmp_path)
    first = _run(run_cli, "models", "--json", "1.json")
    assert (tmp_path / ".speccheck-cache" / "CACHEDIR.TAG").exists()
    second = _run(run_cli, "models", "--json", "2.json")
    one = json.loads((tmp_path / "1.json").read_text(encoding="utf-8"))
    two = json.loads((tmp_path / "2.json").read_text(encoding="utf-8"))
    assert not any(_cached_flags(one).values())
    assert all(_cached_flags(two).values())
    n = two["summary"]["obligations"]
    assert two["summary"]["cached"] == n
    assert f"{n} as expected, {n} from the cache" in second.out
    assert f"{n} as expected, 0 from the cache" in first.out
    assert {row[-1] for row in _summary_rows(second.out)} == {"cached"}
    # the results themselves are the same (the cached trace was replayed, not trusted)
    for m in (one, two):
        for model in m["models"]:
            model.pop("cached")
    assert one["models"] == two["models"]
    # the per-model reports are the same too
    assert first.out[:first.out.index("\nsummary:")] == second.out[:second.out.index("\nsummary:")]


def test_editing_one_model_rechecks_only_its_obligations(catalogue, run_cli, monkeypatch,
                                                         tmp_path):
    monkeypatch.chdir(tmp_path)
    _run(run_cli, "models")
    proof = catalogue / "proof.spec"
    proof.write_text(proof.read_text(encoding="utf-8").replace("x < 3", "x < 2"),
                     encoding="utf-8")
    gate = catalogue / "gate.spec"  # layout only: still a cache hit
    gate.write_text("// reformatted\n\n" + gate.read_text(encoding="utf-8"), encoding="utf-8")
    doc = json.loads(_run(run_cli, "models", "--json", "-").out)
    flags = _cached_flags(doc)
    assert flags.pop(("models/proof.spec", "{}")) is False
    assert all(flags.values()), flags


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / ".speccheck-cache").rglob("*.json"))


def test_corrupted_entries_are_ignored_with_a_warning(catalogue, run_cli, monkeypatch,
                                                      tmp_path):
    """Garbage, a foreign entry (another key's), and a forged entry (valid checksum, a
    trace that does not replay) are each ignored with a warning and re-checked; the
    results equal an uncached run, and the next run is clean again."""
    monkeypatch.chdir(tmp_path)
    clean = json.loads(_run(run_cli, "models", "--no-cache", "--json", "-").out)
    _run(run_cli, "models")
    entries = _entries(tmp_path)
    assert len(entries) == 4
    with_trace = [p for p in entries if '"trace": {' in p.read_text(encoding="utf-8")]
    assert len(with_trace) == 1  # gate with LOCKED=false
    forged = with_trace[0]
    others = [p for p in entries if p != forged]
    others[0].write_text("{ not json", encoding="utf-8")
    others[1].write_text(others[2].read_text(encoding="utf-8"), encoding="utf-8")
    doc = json.loads(forged.read_text(encoding="utf-8"))
    trace = next(r["trace"] for r in doc["body"]["results"] if r["trace"])
    trace["states"][-1] = trace["states"][0]
    body = json.dumps(doc["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["checksum"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    forged.write_text(json.dumps(doc), encoding="utf-8")

    res = _run(run_cli, "models", "--json", "-")
    warnings = [line for line in res.err.splitlines() if line.startswith("speccheck: warning:")]
    assert len(warnings) == 3, res.err
    assert any("not valid JSON" in w for w in warnings)
    assert any("another key" in w for w in warnings)
    assert any("does not replay" in w for w in warnings)
    assert all("checking again" in w for w in warnings)
    doc = json.loads(res.out)
    assert sum(m["cached"] for m in doc["models"]) == 1
    for m in (*doc["models"], *clean["models"]):
        m.pop("cached")
    assert doc["models"] == clean["models"]
    again = _run(run_cli, "models", "--json", "-")
    assert again.err == ""
    assert all(m["cached"] for m in json.loads(again.out)["models"])


def test_recheck_cached_revalidates_certificates(catalogue, run_cli, monkeypatch, tmp_path):
    """--recheck-cached re-checks cached proofs through their certificates; a certificate
    that does not hold (checksum forged to match) is rejected with a warning."""
    monkeypatch.chdir(tmp_path)
    _run(run_cli, "models/proof.spec", "--cache-dir", "c")
    res = _run(run_cli, "models/proof.spec", "--cache-dir", "c", "--recheck-cached",
               "--json", "-")
    (model,) = json.loads(res.out)["models"]
    assert model["cached"] and model["revalidated"]
    (entry,) = sorted((tmp_path / "c").rglob("*.json"))
    doc = json.loads(entry.read_text(encoding="utf-8"))
    for r in doc["body"]["results"]:
        r["certificate"]["smt"] = "true"  # inductive, but does not imply the property
    body = json.dumps(doc["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["checksum"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    entry.write_text(json.dumps(doc), encoding="utf-8")
    res = _run(run_cli, "models/proof.spec", "--cache-dir", "c", "--recheck-cached",
               "--json", "-")
    assert "failed its re-check" in res.err
    (model,) = json.loads(res.out)["models"]
    assert not model["cached"] and res.code == 0


def test_single_file_runs_use_the_cache_only_when_asked(catalogue, run_cli, monkeypatch,
                                                        tmp_path):
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "models/proof.spec")
    assert "summary" not in res.out
    assert not (tmp_path / ".speccheck-cache").exists()


# ---- errors on the command line ----------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--shard", "3/2"], "argument --shard: 3/2: I must be between 1 and N"),
    (["--shard", "0/2"], "argument --shard: 0/2: I must be between 1 and N"),
    (["--shard", "half"], "argument --shard: expected I/N such as 1/4, got 'half'"),
    (["-j", "0"], "argument -j/--jobs: 0 is not between 1 and 256"),
    (["-j", "many"], "argument -j/--jobs: expected a number or 'auto', got 'many'"),
])
def test_bad_run_options_are_usage_errors(args, message, catalogue, run_cli, monkeypatch,
                                          tmp_path):
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, *args, "models")
    assert res.code == 2
    assert f"speccheck: error: {message}" in res.err


def test_unwritable_cache_dir(catalogue, run_cli, monkeypatch, tmp_path):
    """An explicit --cache-dir that cannot be written is a usage error; the default
    one only turns the cache off, with a warning."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    res = _run(run_cli, "models", "--cache-dir", "afile")
    assert res.code == 2 and res.out == ""
    assert res.err.startswith("speccheck: error: --cache-dir afile")
    (tmp_path / ".speccheck-cache").write_text("x", encoding="utf-8")
    res = _run(run_cli, "models")
    assert res.code == 0
    assert "speccheck: warning: the result cache is off" in res.err


def test_empty_directory_is_a_coded_error(tmp_path, run_cli, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "empty")
    assert res.code == 3
    assert "error[SC008]: `empty` holds no model files" in res.err
    assert res.out == ""


# ---- progress ----------------------------------------------------------------------------


def test_progress_board_shows_running_tasks_and_count():
    board = Board(total=3)
    board.update(Event("a.spec", "explicit search", depth=4, states=120))
    board.update(Event("b.spec [GIL=own]", "BMC", depth=7))
    assert board.line(200) == ("[0/3] a.spec: explicit search, depth 4, 120 states | "
                               "b.spec [GIL=own]: BMC, depth 7")
    board.update(Event("a.spec", "done"))
    assert board.line(200) == "[1/3] b.spec [GIL=own]: BMC, depth 7"
    assert len(board.line(20)) == 20 and board.line(20).endswith("...")


def test_no_progress_when_stderr_is_not_a_terminal(catalogue, run_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "models", "--no-cache")
    assert res.err == ""


def test_progress_line_on_a_terminal_is_drawn_and_wiped(catalogue, run_cli, monkeypatch,
                                                        tmp_path):
    """With standard error on a terminal the status line shows done/total and the stage,
    and is wiped before the reports; --no-progress turns it off."""
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TERM", raising=False)

    def run(*args):
        original = sys.stderr.isatty
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
        try:
            return _run(run_cli, "models", "--no-cache", *args)
        finally:
            monkeypatch.setattr(sys.stderr, "isatty", original)

    res = run()
    assert "\r\x1b[K[0/4] models/counter.spec: " in res.err
    assert "explicit search" in res.err
    assert res.err.endswith("\r\x1b[K")  # nothing left on the line
    assert run("--no-progress").err == ""


def test_recheck_cached_rechecks_proofs_without_certificates(catalogue, run_cli, monkeypatch,
                                                             tmp_path):
    """A cached proof with no certificate cannot be re-validated cheaply: with
    --recheck-cached its configuration is checked again (and says so)."""
    monkeypatch.chdir(tmp_path)
    _run(run_cli, "models", "--no-certificates")
    plain = json.loads(_run(run_cli, "models", "--no-certificates", "--json", "-").out)
    assert all(m["cached"] for m in plain["models"])
    strict = json.loads(_run(run_cli, "models", "--no-certificates", "--recheck-cached",
                             "--json", "-").out)
    by_file = {(m["file"], json.dumps(m["configuration"])): m for m in strict["models"]}
    # gate with LOCKED=false has a violation (replayed) but also a proof without certificate
    assert not any(m["cached"] for m in by_file.values())


def test_junit_marks_cached_test_cases(catalogue, run_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    _run(run_cli, "models", "--junit", "1.xml")
    _run(run_cli, "models", "--junit", "2.xml")
    first = ET.parse(tmp_path / "1.xml").getroot()
    second = ET.parse(tmp_path / "2.xml").getroot()
    assert first.findall(".//system-out") == []
    marks = second.findall("testsuite/testcase/system-out")
    assert len(marks) == len(second.findall("testsuite/testcase"))
    assert {m.text for m in marks} == {"answered from the result cache (counterexamples "
                                       "replayed)\n"}


def test_results_with_fields_the_cache_does_not_know_are_not_cached():
    """A result field added later (which an entry would not store) makes a report
    uncacheable instead of being dropped silently."""
    from dataclasses import dataclass, field

    from checker.cache import KNOWN_RESULT_FIELDS, _only_known

    @dataclass(frozen=True)
    class Later:
        name: str
        extra: tuple[str, ...] = field(default=())

    assert _only_known(Later("p"), KNOWN_RESULT_FIELDS)
    assert not _only_known(Later("p", ("more",)), KNOWN_RESULT_FIELDS)


def test_sarif_code_flow_steps_name_the_file_they_are_in(write_model, run_cli, monkeypatch,
                                                         tmp_path):
    """A step of a procedure declared in an included file is located in that file."""
    write_model('model uses\ninclude "lib.spec"\n', "m/uses.spec")
    write_model("/// a shared procedure\nthreads(1)\nlock l: mutex\n"
                "proc p(t: Thread) {\n  acquire l\n  acquire l\n}\n", "m/lib.spec")
    monkeypatch.chdir(tmp_path)
    res = _run(run_cli, "m", "--no-cache", "--sarif", "out.sarif")
    assert res.code == 1
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    _validate(sarif, SARIF_SCHEMA)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "lock_sanity")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "m/lib.spec"
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert {x["location"]["physicalLocation"]["artifactLocation"]["uri"] for x in flow} == \
        {"m/lib.spec"}


def test_a_worker_that_dies_ends_the_run_with_a_message(run_cli, monkeypatch, tmp_path):
    """A worker process that dies (killed, out of memory) names its task; the CLI
    reports it as an internal error (exit 70) without a traceback of its own."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    import checker.cli
    from checker.outcomes import Task
    from checker.workers import Job, WorkerDied, _in_order

    dead: Future = Future()
    dead.set_exception(BrokenProcessPool("gone"))
    job = Job(Task("models/a.spec", (("GIL", "own"),), swept=True), CheckOptions(), "", None,
              None, False)
    with pytest.raises(WorkerDied, match=r"models/a.spec \[GIL=own\]"):
        list(_in_order([dead], [job]))

    def die(*args):
        raise WorkerDied("a worker process died while checking x.spec (killed, or out of "
                         "memory)")

    monkeypatch.setattr(checker.cli, "_check_all", die)
    res = run_cli(["x.spec"])
    assert res.code == 70
    assert res.err == ("speccheck: a worker process died while checking x.spec (killed, or "
                       "out of memory)\n")
