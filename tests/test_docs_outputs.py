"""Shown speccheck output in the docs and the README is what speccheck prints.

Output that the docs build cannot make itself (the README is not built by
Sphinx; diagnostics, runs over directories) is written in the page as a
console transcript and marked, in reST, by a comment on the line before the
``code-block:: console``::

    .. check-output:
    .. check-output: root

and in Markdown by ``<!-- check-output -->`` (or ``<!-- check-output: root -->``)
before a fenced ``console`` block (``root``: run in the project root; ``crash``:
with a simulated bug in the explicit engine, to show the internal-error report).
Each ``$ speccheck ARGS`` line of the block is run (standard output and
standard error together, as a terminal shows them) and must print the lines
that follow it, up to the next ``$`` line; a line ``...`` stands for any
number of lines, and times and version numbers may differ. ``$ echo $?`` prints the last
exit code, ``$ mkdir DIR`` makes a directory. Commands run in a scratch
directory holding the page's example files shown so far (``code-block``\\ s
whose ``:caption:`` names a ``.spec`` file, and ``.. make-file: NAME
hex=BYTES``, ``size=N`` (N bytes) or ``chain=N`` (a model with a chain of N
definitions) comments), or with ``root`` in the project root.

Every other console block that shows a ``$ speccheck`` command must be a
``speccheck-output`` directive (docs/extension.rst), whose output the build
generates; ``test_every_shown_run_is_checked`` keeps it that way.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RST_MARK = re.compile(r"^\.\. check-output:(.*)$")
MD_MARK = re.compile(r"^<!-- check-output:?(.*?)-->$")
CAPTION = re.compile(r"^   :caption:\s*(\S+\.spec)\s*$")
MAKE_FILE = re.compile(r"^\.\. make-file: (\S+) (hex|size|chain)=(\w+)$")
CONSOLE = re.compile(r"^\.\. code-block:: console\s*$")
BLOCK = re.compile(r"^\.\. code-block::")
TIME = re.compile(r"\b\d+(?:\.\d+)? ?s\b")
VERSIONS = re.compile(r"speccheck \S+, Python \S+, z3 \S+")


@dataclass(frozen=True)
class Transcript:
    page: str
    line: int                           # of the block's first line, 1-based
    root: bool                          # run in the project root
    crash: bool                         # with a simulated bug in the explicit engine
    text: str                           # the transcript
    files: tuple[tuple[str, bytes], ...]  # the page's example files so far


def _body(lines: list[str], start: int) -> tuple[str, int]:
    """The indented body of the directive at ``start`` (options skipped)."""
    j = start + 1
    while j < len(lines) and lines[j].startswith("   :"):
        j += 1
    body: list[str] = []
    while j < len(lines) and (lines[j].startswith("   ") or not lines[j].strip()):
        body.append(lines[j])
        j += 1
    return textwrap.dedent("\n".join(body)).strip("\n") + "\n", j


def _made(kind: str, value: str) -> bytes:
    if kind == "chain":  # N definitions, each using the one before (SC009's example)
        n = int(value)
        defs = [f"def d{k}: bool = d{k - 1} and b" for k in range(1, n)]
        text = ["model chain", "var b: bool", "def d0: bool = b", *defs,
                f"invariant i: d{n - 1}"]
        return ("\n".join(text) + "\n").encode("utf-8")
    return bytes.fromhex(value) if kind == "hex" else b"x" * int(value)


def shows_output(body: str) -> bool:
    """Whether a block shows a speccheck run with what it printed."""
    lines = body.splitlines()
    return any(x.startswith("$ speccheck") for x in lines) and \
        any(x.strip() and not x.startswith("$ ") for x in lines)


def rst_blocks(page: Path) -> tuple[list[Transcript], list[int]]:
    """Marked transcripts, and the lines of unmarked console blocks running speccheck."""
    lines = page.read_text(encoding="utf-8").splitlines()
    files: dict[str, bytes] = {}
    found: list[Transcript] = []
    unmarked: list[int] = []
    mark: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := RST_MARK.match(line):
            mark = m.group(1).strip()
        elif m := MAKE_FILE.match(line):
            files[m.group(1)] = _made(m.group(2), m.group(3))
        elif BLOCK.match(line):
            body, after = _body(lines, i)
            caption = next((c.group(1) for c in map(CAPTION.match, lines[i + 1:i + 4]) if c),
                           None)
            if caption is not None:
                files[caption] = body.encode("utf-8")
            elif CONSOLE.match(line) and mark is not None:
                found.append(Transcript(page.name, i + 1, "root" in mark.split(),
                                        "crash" in mark.split(), body, tuple(files.items())))
            elif CONSOLE.match(line) and shows_output(body):
                unmarked.append(i + 1)
            mark = None
            i = after
            continue
        elif line.strip() and not line.startswith(".. "):
            mark = None  # a mark applies to the block right after it
        i += 1
    return found, unmarked


def md_blocks(page: Path) -> tuple[list[Transcript], list[int]]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Transcript] = []
    unmarked: list[int] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            j = lines.index("```", i + 1)
            body = "\n".join(lines[i + 1:j]) + "\n"
            m = MD_MARK.match(lines[i - 1].strip()) if i else None
            if m and lines[i] == "```console":
                found.append(Transcript(page.name, i + 1, "root" in m.group(1).split(),
                                        "crash" in m.group(1).split(), body, ()))
            elif shows_output(body):
                unmarked.append(i + 1)
            i = j + 1
            continue
        i += 1
    return found, unmarked


def all_blocks() -> tuple[list[Transcript], list[str]]:
    found: list[Transcript] = []
    unmarked: list[str] = []
    pages = [*sorted(DOCS.glob("*.rst")), ROOT / "README.md"]
    for page in pages:
        blocks, loose = (md_blocks if page.suffix == ".md" else rst_blocks)(page)
        found += blocks
        unmarked += [f"{page.name}:{n}" for n in loose]
    return found, unmarked


TRANSCRIPTS, UNMARKED = all_blocks()


def steps(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected lines) for each ``$`` line of a transcript."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"a transcript starts with a `$` line, not {line!r}")
    return out


def normalise(line: str) -> str:
    line = line.rstrip()
    if line.strip() == "...":
        return "..."
    return TIME.sub("T", VERSIONS.sub("speccheck V, Python V, z3 V", line))


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the lines match, ``...`` standing for any number of lines."""
    exp = [normalise(x) for x in expected]
    act = [normalise(x) for x in actual]
    while exp and not exp[-1]:
        exp.pop()
    while act and not act[-1]:
        act.pop()
    # positions in `act` each prefix of `exp` can end at
    ends = {0}
    for e in exp:
        if e == "...":
            ends = set(range(min(ends), len(act) + 1)) if ends else set()
        else:
            ends = {k + 1 for k in ends if k < len(act) and act[k] == e}
        if not ends:
            return False
    return len(act) in ends


def run_speccheck(args: list[str]) -> tuple[int, str]:
    from checker.cli import main
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = main(args)
    return code, buf.getvalue()


def run_transcript(t: Transcript, scratch: Path) -> list[str]:
    """The problems of one transcript (empty when it is what speccheck prints)."""
    for name, data in t.files:
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_bytes(data)
    problems: list[str] = []
    code = 0
    crash = mock.patch("checker.run.explore", side_effect=RuntimeError("simulated bug")) \
        if t.crash else contextlib.nullcontext()
    with contextlib.chdir(ROOT if t.root else scratch), crash:
        for command, expected in steps(t.text):
            argv = shlex.split(command)
            if argv[0] == "speccheck":
                code, out = run_speccheck(argv[1:])
            elif argv == ["echo", "$?"]:
                out = f"{code}\n"
            elif argv[0] == "mkdir" and len(argv) == 2 and not t.root:
                os.makedirs(argv[1], exist_ok=True)
                out = ""
            else:
                raise AssertionError(f"{t.page}:{t.line}: cannot run `{command}`")
            if not matches(expected, out.splitlines()):
                problems.append(f"$ {command}\n--- the page shows:\n" + "\n".join(expected)
                                + "\n--- speccheck prints:\n" + out)
    return problems


def test_matching_with_elisions():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert matches(["...", "c"], ["a", "b", "c", ""])
    assert matches(["a", "..."], ["a"])
    assert matches(["took 1.5s"], ["took 0.25 s"])
    assert matches(["a", "  ...", "b"], ["a", "x", "b"])
    assert not matches(["a", "...", "d"], ["a", "b", "c"])
    assert not matches(["a", "c"], ["a", "b", "c"])
    assert not matches(["a"], ["a", "b"])
    assert not matches([], ["a"])


def test_the_docs_have_checked_transcripts():
    pages = {t.page for t in TRANSCRIPTS}
    assert {"errors.rst", "README.md"} <= pages


def test_every_shown_run_is_checked():
    """A console block showing a speccheck run is checked here or generated by the build."""
    assert UNMARKED == [], ("console blocks with `$ speccheck` that nothing checks (mark them "
                            "`.. check-output:` or use `.. speccheck-output::`): "
                            + ", ".join(UNMARKED))


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=lambda t: f"{t.page}:{t.line}")
def test_transcript_is_what_speccheck_prints(transcript: Transcript, tmp_path: Path):
    problems = run_transcript(transcript, tmp_path)
    assert not problems, f"{transcript.page}:{transcript.line}: stale output\n" + \
        "\n\n".join(problems)


# --- the speccheck-output directive (checker/sphinx/console.py) -------------------------

TINY = "model tiny\nvar x: int[0..1]\naction set() { x := 1 }\ninvariant zero: x == 0\n"

CONF = """\
extensions = ["checker.sphinx"]
speccheck_catalogue = ""
speccheck_root = "."
speccheck_cache_dir = ""
speccheck_jobs = 1
html_theme = "alabaster"
"""


def test_output_steps_and_selections():
    from checker.sphinx.console import Step, parse, select
    steps = parse(["$ speccheck --sweep gate.spec   # exit 1; lines 1, /^every/..",
                   "", "$ echo $?"])
    assert steps == (Step("speccheck --sweep gate.spec", ("--sweep", "gate.spec"), 1,
                          "1, /^every/.."), Step("echo $?", None))
    lines = ["a", "b", "c", "every d", "e"]
    assert select(lines, "1, /^every/..") == ["a", "...", "every d", "e"]
    assert select(lines, "1..2, -1") == ["a", "b", "...", "e"]
    assert select(lines, "/b/../d/") == ["...", "b", "c", "every d", "..."]
    assert select(lines, "none") == ["..."]
    for bad in (["$ ls"], ["output"], ["$ echo $?"], ["$ speccheck x.spec  # lines 0"],
                ["$ speccheck x.spec  # exits 1"], []):
        with pytest.raises(ValueError):
            parse(bad)
    with pytest.raises(LookupError):
        select(lines, "/nowhere/")
    with pytest.raises(LookupError):
        select(lines, "7")


def _page_build(tmp_path: Path, page: str, capsys: pytest.CaptureFixture[str],
                *extra: str) -> tuple[int, str, str]:
    from sphinx.cmd.build import build_main
    src = tmp_path / "src"
    (src / "models").mkdir(parents=True, exist_ok=True)
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    (src / "index.rst").write_text(page, encoding="utf-8")
    (src / "models" / "tiny.spec").write_text(TINY, encoding="utf-8")
    capsys.readouterr()
    code = build_main(["-W", "--keep-going", "-b", "html", *extra, str(src), str(tmp_path / "out")])
    log = capsys.readouterr()
    html = tmp_path / "out" / "index.html"
    return code, log.out + log.err, html.read_text(encoding="utf-8") if html.exists() else ""


def _plain(html: str) -> str:
    import html as h
    return h.unescape(re.sub(r"<[^>]+>", "", html))


def test_directive_shows_what_speccheck_prints(tmp_path: Path, capsys):
    page = ("Page\n====\n\n.. code-block:: text\n   :caption: tiny.spec\n\n"
            + textwrap.indent(TINY, "   ") + "\n"
            ".. speccheck-output::\n\n   $ speccheck tiny.spec  # exit 1; lines 1..2, /^replay/\n"
            "   $ echo $?\n\n"
            ".. speccheck-output::\n   :root:\n\n"
            "   $ speccheck --json - models/tiny.spec  # exit 1\n")
    code, log, html = _page_build(tmp_path, page, capsys)
    assert code == 0, log
    text = _plain(html)
    with contextlib.chdir(tmp_path / "src"):
        _, real = run_speccheck(["models/tiny.spec"])
    real_lines = real.replace("models/tiny.spec", "tiny.spec").splitlines()
    shown = "\n".join(["$ speccheck tiny.spec", *real_lines[:2], "...",
                       next(x for x in real_lines if x.startswith("replay:")),
                       "$ echo $?", "1"])
    assert shown in text
    assert '"file": "models/tiny.spec"' in text  # run in the project root
    # nothing changed: nothing runs again
    code, log, _ = _page_build(tmp_path, page, capsys, "-v")
    assert code == 0 and "speccheck-output: running" not in log, log
    # a page that expects another exit code fails the build
    code, log, _ = _page_build(tmp_path, page.replace("# exit 1;", "#"), capsys)
    assert code != 0
    assert "`speccheck tiny.spec` exits with 1, the page expects 0" in log


def test_cached_runs_print_the_same_report(tmp_path: Path):
    """speccheck-output lets one-model runs in the project root use the result cache:
    that is only right if a cached result prints what a fresh check prints."""
    from checker.sphinx.console import _with_cache
    (tmp_path / "tiny.spec").write_text(TINY, encoding="utf-8")
    cache = str(tmp_path / "cache")
    with contextlib.chdir(tmp_path):
        fresh = run_speccheck(["--show-certificates", "tiny.spec"])
        argv = _with_cache(("--show-certificates", "tiny.spec"), cache)
        assert argv[-2:] == ["--cache-dir", cache]
        stored = run_speccheck(argv)
        cached = run_speccheck(argv)
    assert fresh == stored == cached
    assert any((tmp_path / "cache").rglob("*.json"))  # the second run read an entry
    # runs whose output says where results came from keep their own options
    for argv2 in (("models/",), ("a.spec", "b.spec"), ("--json", "-", "tiny.spec"),
                  ("--no-cache", "tiny.spec"), ("mutate", "tiny.spec")):
        assert _with_cache(argv2, cache) == list(argv2)
