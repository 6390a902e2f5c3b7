"""The ``speccheck`` directive: check a model while the documentation is built
and show the results (see docs/extension.rst for the options).

    .. speccheck:: ../models/extcache.spec
       :define: GIL=own
       :show: +source

The page depends on the model and every file it includes, so Sphinx reads it
again when one of them changes. A result other than the expected exit code
(``:exit:``, 0 unless given; ``any`` to accept every result) is a build
warning, so ``sphinx-build -W`` fails like a proof run would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from checker.options import ENGINES
from checker.results import ExitCode, Verdict
from checker.sphinx import state
from checker.sphinx.render import DEFAULT_PARTS, PARTS, render
from checker.sphinx.runner import SWEEPS, Outcome, Request, plan

logger = logging.getLogger(__name__)


def _words(text: str | None) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text or "") if w]


def defines(text: str | None) -> tuple[tuple[str, str], ...]:
    out = []
    for word in _words(text):
        name, eq, value = word.partition("=")
        if not eq or not name.isidentifier() or not value:
            raise ValueError(f"expected NAME=VALUE, got {word!r}")
        out.append((name, value))
    return tuple(out)


def parts(show: str | None, hide: str | None) -> frozenset[str]:
    """``:show:`` lists the parts to show (``all``, or ``+part`` to add to the
    default ones); ``:hide:`` takes parts away."""
    chosen = set(DEFAULT_PARTS)
    words = _words(show)
    if words and not all(w.startswith("+") for w in words):
        chosen = set()
    for w in words:
        name = w.lstrip("+")
        if name == "all":
            chosen |= set(PARTS)
        elif name in PARTS:
            chosen.add(name)
        else:
            raise ValueError(f"unknown part {name!r}; parts: all, {', '.join(PARTS)}")
    for w in _words(hide):
        if w not in PARTS:
            raise ValueError(f"unknown part {w!r}; parts: {', '.join(PARTS)}")
        chosen.discard(w)
    return frozenset(chosen)


VERDICT_WORDS = {"proved": Verdict.PROVED, "violated": Verdict.VIOLATED,
                 "bounded": Verdict.BOUNDED, "unknown": Verdict.UNKNOWN}


def verdicts(text: str | None) -> tuple[tuple[str, Verdict], ...]:
    """``:verdicts: R1=violated R2=proved``: what the page's text says."""
    out = []
    for word in _words(text):
        name, eq, value = word.partition("=")
        if not eq or value not in VERDICT_WORDS:
            raise ValueError(f"expected PROPERTY=VERDICT ({', '.join(VERDICT_WORDS)}), "
                             f"got {word!r}")
        out.append((name, VERDICT_WORDS[value]))
    return tuple(out)


def verdict_mismatches(outcome: Outcome, claimed: tuple[tuple[str, Verdict], ...]
                       ) -> list[str]:
    """Claims the results contradict (in the default configuration of a sweep)."""
    if not claimed:
        return []
    if not outcome.reports:
        return ["the model was not checked"]
    report = outcome.reports[outcome.default if outcome.default is not None else 0]
    found = {r.name: r.verdict for r in report.results}
    out = []
    for name, verdict in claimed:
        if name not in found:
            out.append(f"no property `{name}`")
        elif found[name] is not verdict:
            out.append(f"`{name}` is {found[name].value}, the page says {verdict.value}")
    return out


def _exit(text: str | None) -> str:
    value = (text or "").strip()
    if value != "any" and not value.isdigit():
        raise ValueError("expected an exit code or 'any'")
    return value


def _engine(text: str | None) -> str:
    return directives.choice(text or "", ENGINES)


def relative_to_root(path: Path, root: str) -> str:
    """The model's path as the CLI run from the project root names it."""
    try:
        return os.path.relpath(path, root) if path.resolve().is_relative_to(root) else str(path)
    except ValueError:  # another drive
        return str(path)


def commands(outcome: Outcome) -> str:
    """The command lines whose exit code the page's is: a sweep proved for all sizes
    in its default configuration is two runs."""
    if outcome.all_sizes is None:
        return f"`{outcome.request.command()}`"
    if outcome.swept is None:
        return f"`{outcome.all_sizes_command}`"
    return f"`{outcome.request.command()}` (with `{outcome.all_sizes_command}`)"


def check_request(directive: SphinxDirective, request: Request) -> Outcome:
    """Plan, note the dependencies, and check (or find the cached results)."""
    app = state.app_of(directive.env)
    root = state.root(app)
    found = plan(request, root)
    directive.env.note_dependency(str(Path(root, request.path).resolve()))
    for f in found.info.files if found.info is not None else ():
        directive.env.note_dependency(f)
    state.documents(directive.env)[directive.env.docname] = True
    return state.runner(app).outcomes([found])[0]


class SpeccheckDirective(SphinxDirective):
    """``.. speccheck:: PATH`` (relative to the document, or to the source
    directory when it starts with ``/``)."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Callable[[str], object]]] = {
        "define": defines,
        "sweep": directives.flag,
        "no-sweep": directives.flag,
        "engine": _engine,
        "depth": directives.nonnegative_int,
        "max-states": directives.nonnegative_int,
        "only": directives.unchanged,
        "no-certificates": directives.flag,
        "show": directives.unchanged,
        "hide": directives.unchanged,
        "exit": _exit,
        "verdicts": verdicts,
        "examples": directives.flag,
        "all-sizes": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        try:
            shown = parts(self.options.get("show"), self.options.get("hide"))
        except ValueError as exc:
            raise self.error(f"speccheck: {exc}") from None
        if "sweep" in self.options and "no-sweep" in self.options:
            raise self.error("speccheck: :sweep: and :no-sweep: exclude each other")
        _, abspath = self.env.relfn2path(self.arguments[0])
        root = state.root(state.app_of(self.env))
        sweep = "all" if "sweep" in self.options else "none" if "no-sweep" in self.options \
            else "declared"
        assert sweep in SWEEPS
        request = Request(
            path=relative_to_root(Path(abspath), root),
            defines=self.options.get("define", ()),
            sweep=sweep,
            engine=self.options.get("engine", "auto"),
            depth=self.options.get("depth", Request.depth),
            max_states=self.options.get("max-states", Request.max_states),
            only=tuple(_words(self.options.get("only"))),
            certify="no-certificates" not in self.options,
            timeout=self.config.speccheck_timeout,
            examples="examples" in self.options,
            all_sizes="all-sizes" in self.options)
        outcome = check_request(self, request)
        expected = self.options.get("exit", "0")
        if outcome.error is not None:
            logger.warning("speccheck: internal error checking %s:\n%s", request.path,
                           outcome.error, location=self.get_location())
        elif expected != "any" and outcome.exit != int(expected):
            logger.warning("speccheck: %s exits with %d (%s), the page expects %s",
                           commands(outcome), outcome.exit, ExitCode(outcome.exit).name,
                           expected, location=self.get_location())
        for problem in verdict_mismatches(outcome, self.options.get("verdicts", ())):
            logger.warning("speccheck: `%s`: %s", request.command(), problem,
                           location=self.get_location())

        def new_id() -> str:
            n = self.env.new_serialno("speccheck")
            return nodes.make_id(f"speccheck-{n}")

        box = nodes.container(classes=["speccheck"])
        box.extend(render(outcome, shown, new_id))
        return [box]
