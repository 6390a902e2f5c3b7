"""What the extension keeps between documents and builds.

Results live in the Sphinx environment (pickled with it, so an incremental
build re-checks nothing that did not change); the runner with its worker pool
lives with the application. The environment also records which documents use
the checker and the source hash the results were made with, so a change to
the checker re-reads those documents.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from checker.sphinx.runner import ConfigResult, Runner, checker_hash

logger = logging.getLogger(__name__)

RESULTS = "speccheck_results"    # env: key -> ConfigResult
DOCS = "speccheck_docs"          # env: docname -> True for documents that check models
CODE = "speccheck_code"          # env: the source hash the results and pages were made with

_runners: dict[int, Runner] = {}
_code: dict[str, str] = {}
_apps: dict[int, Sphinx] = {}  # id(env) -> the application building with it


def bind(app: Sphinx) -> None:
    """builder-inited: let directives find the application from their environment
    (``BuildEnvironment.app`` is deprecated)."""
    _apps[id(app.env)] = app


def app_of(env: BuildEnvironment) -> Sphinx:
    return _apps[id(env)]


def results(env: BuildEnvironment) -> dict[str, ConfigResult]:
    found = getattr(env, RESULTS, None)
    if not isinstance(found, dict):
        found = {}
        setattr(env, RESULTS, found)
    return found


def documents(env: BuildEnvironment) -> dict[str, bool]:
    found = getattr(env, DOCS, None)
    if not isinstance(found, dict):
        found = {}
        setattr(env, DOCS, found)
    return found


def code() -> str:
    """The hash of the checker (results) and of this package (pages), once per process."""
    if "all" not in _code:
        here = Path(__file__).resolve().parent
        h = hashlib.sha256(checker_hash().encode())
        for f in sorted(here.rglob("*")):
            if f.suffix in (".py", ".css"):
                h.update(f.name.encode() + f.read_bytes())
        _code["results"] = checker_hash()
        _code["all"] = h.hexdigest()
    return _code["all"]


def results_code() -> str:
    code()
    return _code["results"]


def root(app: Sphinx) -> str:
    """The project root: where `speccheck` runs, so paths read models/x.spec."""
    configured = app.config.speccheck_root
    base = Path(app.confdir)
    return str((base / configured).resolve()) if configured else str(base.parent.resolve())


def runner(app: Sphinx) -> Runner:
    """The application's runner, bound to the current environment's results."""
    found = _runners.get(id(app))
    cache = results(app.env)
    if found is None or found.cache is not cache:
        if found is not None:
            found.close()
        jobs = int(app.config.speccheck_jobs) or (os.cpu_count() or 1)
        shared = app.config.speccheck_cache_dir
        found = Runner(root(app), jobs, cache, results_code(), logger.info,
                       str(Path(root(app), shared)) if shared else "")
        _runners[id(app)] = found
    return found


def close(app: Sphinx) -> None:
    _apps.pop(id(app.env), None)
    found = _runners.pop(id(app), None)
    if found is not None:
        found.close()
