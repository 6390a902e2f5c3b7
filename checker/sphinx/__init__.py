"""The speccheck Sphinx extension: ``extensions = ["checker.sphinx"]``.

* a Pygments lexer for models (``.. code-block:: speccheck``), ``lexer.py``;
* the ``speccheck`` directive, which checks a model while the documentation is
  built and shows its verdicts, certificates and counterexamples (numbered and
  drawn as SVG sequence diagrams), ``directive.py`` and ``render.py``;
* the generated catalogue of proven invariants, ``catalogue.py``;
* the ``speccheck-output`` directive, the CLI's output of a command, ``console.py``.

Documented in docs/extension.rst. This module imports nothing from Sphinx at
import time, so ``checker.sphinx.lexer`` works with Pygments alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"


def setup(app: Any) -> dict[str, Any]:
    from sphinx.application import Sphinx

    from checker.cli import VERSION
    from checker.sphinx import catalogue, console, directive, lexer, state
    assert isinstance(app, Sphinx)

    app.add_config_value("speccheck_root", "", "env", str)
    app.add_config_value("speccheck_jobs", 0, "", int)
    app.add_config_value("speccheck_cache_dir", ".speccheck-cache", "", str)
    app.add_config_value("speccheck_timeout", None, "env")
    app.add_config_value("speccheck_models", "../models", "env", str)
    app.add_config_value("speccheck_skip", ["runtime.spec"], "env", list)
    app.add_config_value("speccheck_catalogue", "catalogue", "env", str)
    # catalogue pages proved for all sizes: True (every model), False, or file names
    app.add_config_value("speccheck_all_sizes", True, "env", (bool, list))
    app.add_lexer("speccheck", lexer.SpecLexer)
    app.add_directive("speccheck", directive.SpeccheckDirective)
    app.add_directive("speccheck-catalogue", catalogue.CatalogueDirective)
    console.setup(app)  # the speccheck-output directive
    app.add_css_file("speccheck.css")

    def static(app: Sphinx) -> None:
        if app.builder.format == "html":
            app.config.html_static_path.append(str(STATIC))

    def outdated(app: Sphinx, env: Any, added: set[str], changed: set[str],
                 removed: set[str]) -> list[str]:
        """Documents that check models are read again when the checker changed."""
        stored = getattr(env, state.CODE, None)
        setattr(env, state.CODE, state.code())
        if stored is None or stored == state.code():
            return []
        return sorted(d for d in state.documents(env) if d not in removed)

    def purge(app: Sphinx, env: Any, docname: str) -> None:
        state.documents(env).pop(docname, None)

    def merge(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
        state.results(env).update(state.results(other))
        for d in docnames:
            if d in state.documents(other):
                state.documents(env)[d] = True

    def finished(app: Sphinx, exc: BaseException | None) -> None:
        state.close(app)

    app.connect("builder-inited", state.bind, priority=100)
    app.connect("builder-inited", static)
    app.connect("builder-inited", catalogue.generate)
    app.connect("env-get-outdated", outdated)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("build-finished", finished)
    return {"version": VERSION, "env_version": 1, "parallel_read_safe": True,
            "parallel_write_safe": True}
