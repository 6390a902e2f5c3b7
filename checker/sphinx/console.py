"""The ``speccheck-output`` directive: what ``speccheck ARGS`` prints, made while
the documentation is built (see docs/extension.rst).

    .. speccheck-output::

       $ speccheck --engine induction counter.spec   # exit 4
       $ speccheck idle.spec   # lines 1, /^coverage:/..
       $ echo $?

Each ``$ speccheck`` line is run as the CLI runs it (in-process, standard output
and standard error together as a terminal shows them) and shown with its
output; ``# exit N`` says what it must exit with (0 unless given, ``any``), and
``# lines ...`` keeps some lines of a long output, each gap shown as ``...``;
``$ echo $?`` shows the exit code before it, ``$ cat FILE`` a file a run wrote.
Commands run in a scratch directory holding the model files the page showed
before the block (``code-block``\\ s captioned ``NAME.spec``), or, with
``:root:``, in the project root. Outputs are kept in the Sphinx environment
under a key made of the commands, the files they read and the checker's
source, so an incremental build runs nothing that did not change.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shlex
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from checker.sphinx import state

logger = logging.getLogger(__name__)

SCHEMA = "1"       # bump when a stored Output changes meaning
OUTPUTS = "speccheck_outputs"  # env: key -> tuple[Output, ...]
USED = "speccheck_output_keys"  # env: docname -> the keys its directives use
COMMAND = re.compile(r"^\$ (?P<cmd>.*?)(?:\s+#\s*(?P<notes>.*))?$")
POSITION = re.compile(r"^(?:(?P<num>-?\d+)|/(?P<re>.+)/)$")
REPORT_FILES = ("--json", "--junit", "--sarif")  # their documents name the cache


@dataclass(frozen=True)
class Step:
    """One ``$`` line: a speccheck run (``argv`` after ``speccheck``), ``echo $?``
    or ``cat FILE`` (a file a run wrote)."""

    shown: str                    # the command as the page shows it
    argv: tuple[str, ...] | None  # None for `echo $?` and `cat`
    exit: int | None = 0          # the exit code it must give; None for any
    lines: str | None = None      # which output lines to show; None for all


@dataclass(frozen=True)
class Output:
    code: int
    text: str


def _notes(text: str) -> tuple[int | None, str | None]:
    exit_: int | None = 0
    lines = None
    for note in (n.strip() for n in text.split(";") if n.strip()):
        word, _, rest = note.partition(" ")
        rest = rest.strip()
        if word == "exit" and (rest == "any" or rest.isdigit()):
            exit_ = None if rest == "any" else int(rest)
        elif word == "lines" and rest:
            check_selection(rest)  # a bad selection is an error now, not after the run
            lines = rest
        else:
            raise ValueError(f"unknown note {note!r}: expected `exit N`, `exit any` or "
                             "`lines SELECTION`")
    return exit_, lines


def parse(content: list[str]) -> tuple[Step, ...]:
    """The steps of the directive's content (raises ValueError)."""
    steps: list[Step] = []
    for line in content:
        if not line.strip():
            continue
        m = COMMAND.match(line.strip())
        if m is None:
            raise ValueError(f"expected `$ speccheck ARGS` or `$ echo $?`, got {line.strip()!r}")
        cmd = m.group("cmd").strip()
        exit_, lines = _notes(m.group("notes") or "")
        if cmd == "echo $?":
            if not steps:
                raise ValueError("`echo $?` needs a command before it")
            steps.append(Step(cmd, None))
            continue
        argv = shlex.split(cmd)
        if len(argv) == 2 and argv[0] == "cat" and not Path(argv[1]).is_absolute() \
                and ".." not in Path(argv[1]).parts:
            steps.append(Step(cmd, None, lines=lines))
            continue
        if not argv or argv[0] != "speccheck":
            raise ValueError(f"only `speccheck`, `echo $?` and `cat FILE` run, not {cmd!r}")
        steps.append(Step(cmd, tuple(argv[1:]), exit_, lines))
    if not steps:
        raise ValueError("no `$ speccheck` line")
    return tuple(steps)


def _items(spec: str) -> list[tuple[str, bool, str]]:
    """The items of a selection: (first, is a range, last); raises ValueError."""
    out = []
    for item in (i.strip() for i in re.split(r",\s+", spec.strip()) if i.strip()):
        first, dots, last = (p.strip() for p in item.partition(".."))
        for end in (first, last):
            if end and not POSITION.match(end):
                raise ValueError(f"expected a line number or /REGEX/, got {end!r}")
            if end and end.lstrip("-") == "0":
                raise ValueError("line numbers start at 1")
        if not first and not dots:
            raise ValueError(f"empty item in {spec!r}")
        out.append((first, bool(dots), last))
    if not out:
        raise ValueError("an empty selection (use `none`)")
    return out


def _position(text: str, lines: list[str], start: int) -> int:
    """A 0-based line index: ``N`` (1-based; negative counts from the end) or
    ``/REGEX/`` (the first line from ``start`` on that it matches)."""
    m = POSITION.match(text)
    assert m is not None
    if m.group("num") is not None:
        n = int(m.group("num"))
        return n - 1 if n > 0 else len(lines) + n
    pattern = re.compile(m.group("re"))
    for i in range(max(start, 0), len(lines)):
        if pattern.search(lines[i]):
            return i
    raise LookupError(f"no line matches /{m.group('re')}/")


def check_selection(spec: str) -> None:
    if spec.strip() != "none":
        _items(spec)


def select(lines: list[str], spec: str) -> list[str]:
    """The lines a selection keeps, in order, with ``...`` for each gap.

    A selection is ``none`` or items separated by ``, ``: a position, or a range
    ``A..B`` (either end may be left out). Raises ValueError for a malformed
    selection and LookupError for one this output does not have."""
    keep: set[int] = set()
    if spec.strip() != "none":
        cursor = 0
        for first, is_range, last in _items(spec):
            begin = _position(first, lines, cursor) if first else 0
            end = begin if not is_range else \
                _position(last, lines, begin) if last else len(lines) - 1
            if not (0 <= begin <= end < len(lines)):
                raise LookupError(f"`{first}{'..' if is_range else ''}{last}` is not within "
                                  f"the {len(lines)} lines of the output")
            keep.update(range(begin, end + 1))
            cursor = end + 1
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in keep:
            out.append(line)
        elif not out or out[-1] != "...":
            out.append("...")
    return out


def _cli(argv: list[str]) -> Output:
    from checker.cli import main
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = main(argv)
    return Output(code, buf.getvalue())


def _with_cache(argv: tuple[str, ...], cache_dir: str) -> list[str]:
    """The CLI's result cache for a run of one file (its text report does not say
    whether results came from the cache; a run over several files, or with a JSON,
    JUnit or SARIF document, would)."""
    words = set(argv)
    if (not cache_dir or argv[:1] == ("mutate",) or words & {"--cache-dir", "--no-cache"}
            or any(w.split("=")[0] in REPORT_FILES for w in argv)
            or any(Path(w).is_dir() for w in argv)
            or sum(1 for w in argv if w.endswith(".spec")) != 1):
        return list(argv)
    return [*argv, "--cache-dir", cache_dir]


@contextlib.contextmanager
def _workdir(root: str | None, files: dict[str, str]) -> Iterator[str]:
    if root is not None:
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="speccheck-output-") as scratch:
        for name, text in files.items():
            path = Path(scratch, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        yield scratch


def run(steps: tuple[Step, ...], root: str | None, files: dict[str, str],
        cache_dir: str = "") -> tuple[Output, ...]:
    """Run the steps' commands (``echo $?`` is answered from the one before)."""
    out: list[Output] = []
    with _workdir(root, files) as cwd, contextlib.chdir(cwd):
        for step in steps:
            if step.shown.startswith("cat "):
                name = shlex.split(step.shown)[1]
                out.append(Output(0, Path(name).read_text(encoding="utf-8")))
            elif step.argv is None:
                out.append(Output(out[-1].code, f"{out[-1].code}\n"))
            else:
                argv = _with_cache(step.argv, cache_dir) if root is not None else list(step.argv)
                out.append(_cli(argv))
    return tuple(out)


def transcript(steps: tuple[Step, ...], outputs: tuple[Output, ...]) -> str:
    """The console text: each command, then (the selected lines of) its output."""
    text: list[str] = []
    for step, output in zip(steps, outputs, strict=True):
        text.append(f"$ {step.shown}")
        lines = output.text.rstrip("\n").splitlines() if output.text.strip() else []
        text.extend(select(lines, step.lines) if step.lines is not None else lines)
    return "\n".join(line.rstrip() for line in text)


def page_files(document: nodes.document) -> dict[str, str]:
    """The model files the document showed so far: code blocks captioned ``NAME.spec``
    (a later block of the same name replaces an earlier one)."""
    found: dict[str, str] = {}
    for block in document.findall(nodes.literal_block):
        parent = block.parent
        if not isinstance(parent, nodes.container) or "literal-block-wrapper" not in \
                parent["classes"]:
            continue
        caption = next((c.astext().strip() for c in parent.children
                        if isinstance(c, nodes.caption)), "")
        if caption.endswith(".spec") and " " not in caption:
            found[caption] = block.astext() + "\n"
    return found


def _root_inputs(steps: tuple[Step, ...], root: str) -> list[Path]:
    """Files a run in the project root may read: the files and directories it names,
    and the model files next to a named model (its includes)."""
    found: set[Path] = set()
    for step in steps:
        for word in step.argv or ():
            path = Path(root, word)
            if path.is_dir():
                found.update(path.rglob("*.spec"))
            elif path.suffix == ".spec" and path.is_file():
                found.update(path.parent.glob("*.spec"))
    return sorted(p.resolve() for p in found)


def key(steps: tuple[Step, ...], root: str | None, files: dict[str, str],
        inputs: list[Path]) -> str:
    h = hashlib.sha256(f"{SCHEMA}\0{state.results_code()}\0{root is not None}\0"
                       f"{[(s.shown, s.argv) for s in steps]!r}\0".encode())
    for name, text in sorted(files.items()):
        h.update(f"{name}\0{text}\0".encode())
    for path in inputs:
        h.update(str(path).encode() + b"\0")
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
    return h.hexdigest()


def outputs(env: Any) -> dict[str, tuple[Output, ...]]:
    found = getattr(env, OUTPUTS, None)
    if not isinstance(found, dict):
        found = {}
        setattr(env, OUTPUTS, found)
    return found


def used(env: Any) -> dict[str, set[str]]:
    found = getattr(env, USED, None)
    if not isinstance(found, dict):
        found = {}
        setattr(env, USED, found)
    return found


class SpeccheckOutputDirective(SphinxDirective):
    """``.. speccheck-output::`` with ``$ speccheck ...`` lines as content."""

    has_content = True
    option_spec: ClassVar[dict[str, Callable[[str], object]]] = {
        "root": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        try:
            steps = parse(list(self.content))
        except ValueError as exc:
            raise self.error(f"speccheck-output: {exc}") from None
        app = state.app_of(self.env)
        project = state.root(app)
        root = project if "root" in self.options else None
        files = {} if root is not None else page_files(self.state.document)
        inputs = _root_inputs(steps, project) if root is not None else []
        for path in inputs:
            self.env.note_dependency(str(path))
        state.documents(self.env)[self.env.docname] = True  # re-read when the checker changes
        stored = outputs(self.env)
        k = key(steps, root, files, inputs)
        used(self.env).setdefault(self.env.docname, set()).add(k)
        if k not in stored:
            shared = app.config.speccheck_cache_dir
            logger.info("speccheck-output: running %s",
                        "; ".join(s.shown for s in steps if s.argv is not None))
            try:
                stored[k] = run(steps, root, files, str(Path(project, shared)) if shared else "")
            except Exception as exc:  # a warning with the reason, never a crashed build
                logger.warning("speccheck-output: %s", exc, location=self.get_location())
                return []
        found = stored[k]
        for step, output in zip(steps, found, strict=True):
            if step.argv is not None and step.exit is not None and output.code != step.exit:
                logger.warning("speccheck-output: `%s` exits with %d, the page expects %d",
                               step.shown, output.code, step.exit,
                               location=self.get_location())
        try:
            text = transcript(steps, found)
        except (ValueError, LookupError) as exc:
            logger.warning("speccheck-output: %s", exc, location=self.get_location())
            text = transcript(tuple(Step(s.shown, s.argv) for s in steps), found)
        block = nodes.literal_block(text, text, classes=["speccheck-output"])
        block["language"] = "console"
        self.set_source_info(block)
        return [block]


def setup(app: Any) -> None:
    """Register the directive and keep its outputs across parallel reads."""

    def merge(app: Any, env: Any, docnames: set[str], other: Any) -> None:
        outputs(env).update(outputs(other))
        used(env).update({d: keys for d, keys in used(other).items() if d in docnames})

    def purge(app: Any, env: Any, docname: str) -> None:
        used(env).pop(docname, None)  # its outputs stay until env-updated, for its re-read

    def prune(app: Any, env: Any) -> list[str]:
        """Forget the outputs no document uses any more (older commands, older checker)."""
        live = set().union(*used(env).values())
        for k in [k for k in outputs(env) if k not in live]:
            del outputs(env)[k]
        return []

    app.add_directive("speccheck-output", SpeccheckOutputDirective)
    app.connect("env-merge-info", merge)
    app.connect("env-purge-doc", purge)
    app.connect("env-updated", prune)
