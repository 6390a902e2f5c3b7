"""The Sphinx extension (checker/sphinx/): the catalogue pages and table, the
`speccheck` directive's checks (exit code, verdicts), rebuilding when a model
changes, and the cache of results. Each test builds a small project in tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

from checker.sphinx.directive import defines, parts
from checker.sphinx.doccomment import references
from checker.sphinx.render import DEFAULT_PARTS

PRELUDE = """\
/// a prelude, not a model of its own
param THREADS = 2
"""

# a global lock and a table; `peek` reads without the lock, which the model expects
RACY = """\
/// A shared table (gh-100227, see Python/import.c and commit dcd6f226d6).
model racy
include "prelude.spec"
interpreters(2)
threads(THREADS)
lock l: mutex
object table: object shared guarded_by l
init { assume cur(t1) == main and cur(t2) == main }
proc make(t: Thread) { acquire l  if not alive(table) { alloc table }  release l }
proc peek(t: Thread) { if alive(table) { read table } }
expect violated R1
"""

# everything under the lock, unless CARELESS (not the default) lets `peek` skip it
SAFE = """\
/// Everything under the lock.
model safe
interpreters(2)
threads(2)
param CARELESS: bool = false
lock l: mutex
object table: object shared guarded_by l
init { assume cur(t1) == main and cur(t2) == main }
proc make(t: Thread) { acquire l  if not alive(table) { alloc table }  release l }
proc peek(t: Thread) { if CARELESS and alive(table) { read table } }
expect violated R1 when CARELESS
"""

CONF = """\
extensions = ["checker.sphinx"]
speccheck_models = "models"
speccheck_skip = ["prelude.spec"]
speccheck_root = "."
speccheck_jobs = {jobs}
speccheck_all_sizes = False
html_theme = "alabaster"
"""

INDEX = """\
Test
====

.. toctree::

   catalogue/index
   page

"""


def _project(tmp: Path, page: str = "Page\n====\n", jobs: int = 1) -> Path:
    src = tmp / "src"
    (src / "models").mkdir(parents=True)
    (src / "conf.py").write_text(CONF.format(jobs=jobs), encoding="utf-8")
    (src / "index.rst").write_text(INDEX, encoding="utf-8")
    (src / "page.rst").write_text(page, encoding="utf-8")
    (src / "models" / "prelude.spec").write_text(PRELUDE, encoding="utf-8")
    (src / "models" / "racy.spec").write_text(RACY, encoding="utf-8")
    (src / "models" / "safe.spec").write_text(SAFE, encoding="utf-8")
    return src


def _build(src: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = build_main(["-W", "--keep-going", "-b", "html", *extra, str(src),
                       str(src / "_build")])
    out = capsys.readouterr()
    return code, out.out + out.err


def _html(src: Path, name: str) -> str:
    return (src / "_build" / f"{name}.html").read_text(encoding="utf-8")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_catalogue_pages_table_and_pictures(tmp_path, capsys):
    src = _project(tmp_path)
    code, log = _build(src, capsys)
    assert code == 0, log
    # one page per model, none for the prelude; the generated directory is complete
    assert sorted(p.name for p in (src / "catalogue").glob("*.rst")) == [
        "index.rst", "racy.rst", "safe.rst"]
    table = _text(_html(src, "catalogue/index"))
    assert "racy" in table and "safe" in table and "prelude" not in table
    assert re.search(r"R1 violated \(expected\)", table)
    assert re.search(r"safe .*R1 proved", table)
    racy = _html(src, "catalogue/racy")
    # the counterexample is drawn, with one lane per thread and the violating step
    assert racy.count('<svg xmlns="http://www.w3.org/2000/svg"') == 1
    assert racy.count('class="lane"') == 2
    assert 'class="step violation"' in racy
    assert "sc-violation" in racy  # the numbered trace highlights it too
    # doc comment, references, source, certificates of the proofs
    words = _text(racy)
    assert "A shared table" in words
    for url in ("https://github.com/python/cpython/issues/100227",
                "https://github.com/python/cpython/blob/main/Python/import.c",
                "https://github.com/python/cpython/commit/dcd6f226d6"):
        assert f'href="{url}"' in racy
    assert "model source: models/racy.spec" in words
    assert "certificate of" in words
    # safe is proved by default; its expected violation is shown in the configuration
    # where the model expects it
    safe = _html(src, "catalogue/safe")
    words = _text(safe)
    assert re.search(r"R1 proved", words)
    assert "Expected violations in other configurations" in words
    assert "shown below in CARELESS=true" in words
    assert safe.count('<svg xmlns="http://www.w3.org/2000/svg"') == 1
    assert "R1 violated: model safe (CARELESS=true)" in safe


def test_directive_warns_when_the_page_is_wrong(tmp_path, capsys):
    page = ("Page\n====\n\n.. speccheck:: models/racy.spec\n   :verdicts: R1=proved\n\n"
            ".. speccheck:: models/safe.spec\n   :exit: 1\n")
    src = _project(tmp_path, page)
    code, log = _build(src, capsys)
    assert code != 0
    assert "`R1` is violated, the page says proved" in log
    assert "exits with 0 (OK), the page expects 1" in log


def test_directive_options_and_rebuild_on_model_change(tmp_path, capsys):
    page = ("Page\n====\n\n.. speccheck:: models/racy.spec\n   :show: output\n"
            "   :define: THREADS=3\n   :verdicts: R1=violated\n")
    src = _project(tmp_path, page)
    code, log = _build(src, capsys)
    assert code == 0, log
    shown = _text(_html(src, "page"))
    assert "$ speccheck models/racy.spec -D THREADS=3" in shown
    assert "THREADS=3" in shown and "counterexample: R1" in shown
    # nothing changed: nothing is checked again
    code, log = _build(src, capsys, "-v")
    assert code == 0 and "speccheck: checking" not in log
    # a change to an included file re-reads the pages that use it and re-checks
    prelude = src / "models" / "prelude.spec"
    prelude.write_text(PRELUDE.replace("THREADS = 2", "THREADS = 3"), encoding="utf-8")
    code, log = _build(src, capsys, "-v")
    assert code == 0, log
    assert "speccheck: checking" in log
    racy = _html(src, "catalogue/racy")
    assert racy.count('class="lane"') == 3  # the catalogue page now has three threads


def test_removed_model_loses_its_page(tmp_path, capsys):
    src = _project(tmp_path)
    assert _build(src, capsys)[0] == 0
    (src / "models" / "safe.spec").unlink()
    code, log = _build(src, capsys)
    assert code == 0, log
    assert not (src / "catalogue" / "safe.rst").exists()
    assert "safe" not in _text(_html(src, "catalogue/index")).split("racy")[1]


def test_worker_processes_give_the_same_pages(tmp_path, capsys):
    one = _project(tmp_path / "one", jobs=1)
    two = _project(tmp_path / "two", jobs=2)
    assert _build(one, capsys)[0] == 0
    assert _build(two, capsys)[0] == 0
    for name in ("catalogue/index", "catalogue/racy", "catalogue/safe"):
        assert _html(one, name) == _html(two, name)


def test_option_parsing():
    assert defines("A=1, B=x  C=y") == (("A", "1"), ("B", "x"), ("C", "y"))
    with pytest.raises(ValueError):
        defines("A")
    assert parts("+source", None) == DEFAULT_PARTS | {"source"}
    assert parts("output", None) == {"output"}
    assert parts(None, "doc traces") == DEFAULT_PARTS - {"doc", "traces"}
    with pytest.raises(ValueError):
        parts("pictures", None)


def test_references_in_doc_comments():
    refs = references(("gh-100227 and bpo-46070, PEP 684; PR 103084 (commit dcd6f226d6)",
                       "Python/import.c and Include/internal/pycore_import.h; gh-100227",
                       "words that look hex: added, decade, 1234567 are not commits"))
    assert [r.label for r in refs] == [
        "gh-100227", "bpo-46070", "PEP 684", "PR 103084", "dcd6f226d6", "Python/import.c",
        "Include/internal/pycore_import.h"]
    assert refs[2].url == "https://peps.python.org/pep-0684/"


def test_results_come_from_the_cli_result_cache(tmp_path, capsys, run_cli, monkeypatch):
    """`speccheck models/` fills .speccheck-cache; a fresh docs build then checks
    nothing itself, and its pages equal those of a build without the cache."""
    src = _project(tmp_path)
    monkeypatch.chdir(src)
    assert run_cli(["--no-color", "models/racy.spec", "models/safe.spec"]).code == 0
    assert list((src / ".speccheck-cache").rglob("*.json"))
    code, log = _build(src, capsys, "-v")
    assert code == 0, log
    assert "2 from the result cache" in log
    cached = {n: _html(src, n) for n in ("catalogue/index", "catalogue/racy")}
    (src / "conf.py").write_text(CONF.format(jobs=1) + 'speccheck_cache_dir = ""\n',
                                 encoding="utf-8")
    code, log = _build(src, capsys, "-v", "-E")
    assert code == 0 and "from the result cache" not in log
    for n, html in cached.items():
        assert _html(src, n) == html


# ---- proofs for all sizes (:all-sizes:, speccheck_all_sizes) -------------------------------

RUNTIME = """\
/// the runtime prelude: sizes are parameters
param INTERPS = 2
param THREADS = 2
interpreters(INTERPS)
threads(THREADS)
"""

# one mutex guards a shared object: every property holds for every size, unless CARELESS
# (swept; the all-sizes proof is of the default configuration only)
GUARDED = """\
/// Guarded by one mutex.
model guarded
include "runtime.spec"
param CARELESS: bool = false
lock l: mutex
object data: object shared guarded_by l
proc work(t: Thread) {
  if not CARELESS { acquire l }
  if not alive(data) { alloc data }
  read data
  if not CARELESS { release l }
}
sweep CARELESS
expect violated R1 when CARELESS
expect violated memory when CARELESS
"""

# proved for the default two threads, not for all sizes: three threads break it
TWO = """\
/// At most two threads in `enter`.
model two
include "runtime.spec"
var x: bool
proc enter(t: Thread) {
  x := true
  x := false
}
invariant at_most_two: forall a: Thread. forall b: Thread. forall c: Thread.
  (a != b and b != c and a != c) ->
    not (running(a, enter) and running(b, enter) and running(c, enter))
"""

SIZES_CONF = """\
extensions = ["checker.sphinx"]
speccheck_models = "models"
speccheck_skip = ["runtime.spec"]
speccheck_root = "."
speccheck_jobs = 1
speccheck_all_sizes = {chosen}
html_theme = "alabaster"
"""


def _sizes_project(tmp: Path, page: str, chosen: str = "True") -> Path:
    src = tmp / "src"
    (src / "models").mkdir(parents=True)
    (src / "conf.py").write_text(SIZES_CONF.format(chosen=chosen), encoding="utf-8")
    (src / "index.rst").write_text(INDEX, encoding="utf-8")
    (src / "page.rst").write_text(page, encoding="utf-8")
    for name, text in (("runtime.spec", RUNTIME), ("guarded.spec", GUARDED),
                       ("two.spec", TWO)):
        (src / "models" / name).write_text(text, encoding="utf-8")
    return src


def _row(table_html: str, model: str, prop: str) -> str:
    """The text of the catalogue row of a property (the first after the model's link)."""
    after = _text(table_html).split(f" {model} ", 1)[1]
    found = re.search(rf"(?:^| ){prop} (.*)", after)
    assert found is not None, after
    return found.group(1)[:80]


def test_all_sizes_in_catalogue_and_directive(tmp_path, capsys):
    page = ("Page\n====\n\n.. speccheck:: models/two.spec\n   :all-sizes:\n   :exit: 4\n"
            "   :show: results all-sizes output\n")
    src = _sizes_project(tmp_path, page)
    code, log = _build(src, capsys, "-v")
    assert code == 0, log
    assert "all-sizes proofs of models/guarded.spec, models/two.spec" in log
    # the index: an own column, next to the instance verdict
    index = _html(src, "catalogue/index")
    assert "all sizes (default configuration)" in index
    assert _row(index, "guarded", "R1").startswith("proved proved for all sizes")
    assert _row(index, "two", "at_most_two").startswith("proved unknown")
    assert "for all sizes: proved 5, unknown 1" in _text(index)
    # guarded: the instance table is unchanged, the proof has its own table
    guarded = _html(src, "catalogue/guarded")
    words = _text(guarded)
    instance, lifted = words.split("Proofs for all sizes", 1)
    assert "proved for all sizes" not in instance
    assert "default configuration (INTERPS=2 THREADS=2 CARELESS=false)" in lifted
    assert re.search(r"R1 proved for all sizes inductive together with the other proved "
                     r"properties and \d+ lemmas stratified EPR", lifted)
    assert "Fragment: many-sorted EPR with stratified functions" in lifted
    assert "Deadlock, by a lock order:" in lifted and "earlier in the order l" in lifted
    # the lemmas, highlighted as the modeling language
    assert 'class="highlight-speccheck' in guarded
    assert re.search(r'<span class="k">lemma</span>(<span class="w"> </span>)?'
                     r'<span class="n">found_1</span>', guarded)
    assert "speccheck models/guarded.spec --no-sweep --all-sizes" in words
    assert "Counterexample to induction" not in words
    # two: proved for the instance, unknown for all sizes, its CTI labelled as such
    two = _html(src, "catalogue/two")
    words = _text(two)
    instance, lifted = words.split("Proofs for all sizes", 1)
    assert re.search(r"at_most_two proved explicit", instance)
    assert re.search(r"at_most_two unknown not inductive for every size", lifted)
    assert ("Counterexample to induction for all sizes: at_most_two (NOT a violation)"
            in lifted)
    assert "Not a violation. A finite structure with 1 interpreter, 3 threads" in lifted
    cti = two.split('class="sc-cti', 1)[1]
    assert re.search(r'<ol class="[^"]*sc-trace', cti)
    assert "pre-state (14 cells)" in _text(cti) and "pc[t3] = enter.2" in cti
    assert "1. thread t1 in main : call enter() (line 5)" in _text(cti) or \
        re.search(r"<li[^>]*><p><strong>thread t1</strong> in <em>main</em>: .*call", cti)
    assert ("at_most_two does not hold after this step (from a pre-state that may be "
            "unreachable: not a violation)") in _text(cti)
    assert "sc-violation" not in cti and "<svg" not in cti  # drawn as no violation
    # the unknown verdict links to the counterexample to induction
    anchor = re.search(r'<div class="sc-cti[^"]*" id="([^"]+)"', two)
    assert anchor is not None and f'href="#{anchor.group(1)}"' in two
    # the directive: the page's output is `speccheck --all-sizes`, exit 4 as the page says
    shown = _text(_html(src, "page"))
    assert "$ speccheck models/two.spec --all-sizes" in shown
    assert "counterexample to induction for all sizes: at_most_two" in shown
    # a page that expects exit 0 is told why not; the proofs are not run again
    (src / "page.rst").write_text(page.replace(":exit: 4", ":exit: 0"), encoding="utf-8")
    code, log = _build(src, capsys, "-v")
    assert code != 0
    assert ("`speccheck models/two.spec --all-sizes` exits with 4 (INCONCLUSIVE), "
            "the page expects 0") in log
    assert "speccheck: checking" not in log


def test_all_sizes_only_for_chosen_models_on_cached_instances(tmp_path, capsys, run_cli,
                                                              monkeypatch):
    """The instance results come from the proof run's cache; only the proof for all
    sizes is run by the build, and only for the models chosen."""
    src = _sizes_project(tmp_path, "Page\n====\n", chosen='["guarded.spec"]')
    monkeypatch.chdir(src)
    assert run_cli(["--no-color", "models/"]).code == 0
    code, log = _build(src, capsys, "-v")
    assert code == 0, log
    assert "3 from the result cache" in log
    assert "checking 1 all-sizes proof of models/guarded.spec" in log
    assert ":all-sizes:" in (src / "catalogue" / "guarded.rst").read_text(encoding="utf-8")
    assert ":all-sizes:" not in (src / "catalogue" / "two.rst").read_text(encoding="utf-8")
    index = _html(src, "catalogue/index")
    assert _row(index, "two", "at_most_two").startswith("proved -")
    assert "Proofs for all sizes" not in _text(_html(src, "catalogue/two"))


def test_all_sizes_pages_do_not_depend_on_the_process(tmp_path, capsys, monkeypatch):
    """Lemma discovery once numbered its lemmas in an order that followed
    PYTHONHASHSEED (a set of sample rows), so pages differed between processes."""
    pages = []
    for seed in ("1", "2"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)  # the worker processes' string hashes
        src = _project(tmp_path / seed, jobs=2)
        conf = src / "conf.py"
        conf.write_text(conf.read_text(encoding="utf-8").replace(
            "speccheck_all_sizes = False", "speccheck_all_sizes = True"),  # two proofs: -j 2
            encoding="utf-8")
        assert _build(src, capsys)[0] == 0
        pages.append(_html(src, "catalogue/racy"))
    assert "Proofs for all sizes" in pages[0]
    assert pages[0] == pages[1]
