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
