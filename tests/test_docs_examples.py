"""The documentation's example models give the exit code their pages state.

An example is marked in the reST source by a comment ``.. check: exit N [FLAGS]``
before the ``code-block`` whose ``:caption:`` names the model file. Files shown
earlier on the same page (``runtime.spec``) are there too, so includes work.
The model is checked as ``speccheck FLAGS FILE``; its exit code must be N.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARK = re.compile(r"^\.\. check: exit (\d+)(.*)$")
BLOCK = re.compile(r"^\.\. code-block::")
OPTION = re.compile(r"^   :(\w[\w-]*):(.*)$")


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    exit: int
    flags: tuple[str, ...]
    model: str
    files: tuple[tuple[str, str], ...]  # (file name, text), the model's and earlier ones


def _block(lines: list[str], i: int) -> tuple[dict[str, str], str, int]:
    """The options and body of the code block at line i, and the line after it."""
    j, options = i + 1, {}
    while j < len(lines) and (m := OPTION.match(lines[j])):
        options[m.group(1)] = m.group(2).strip()
        j += 1
    body: list[str] = []
    while j < len(lines) and (lines[j].startswith("   ") or not lines[j].strip()):
        body.append(lines[j])
        j += 1
    return options, textwrap.dedent("\n".join(body)).strip("\n") + "\n", j


def examples() -> list[Example]:
    found: list[Example] = []
    for page in sorted(DOCS.glob("*.rst")):
        lines = page.read_text(encoding="utf-8").splitlines()
        files: dict[str, str] = {}
        pending: tuple[int, int, tuple[str, ...]] | None = None
        i = 0
        while i < len(lines):
            mark = MARK.match(lines[i])
            if mark:
                pending = (i + 1, int(mark.group(1)), tuple(shlex.split(mark.group(2))))
            if BLOCK.match(lines[i]):
                options, body, after = _block(lines, i)
                name = options.get("caption", "")
                if name.endswith(".spec"):
                    files[name] = body
                    if pending is not None:
                        line, code, flags = pending
                        found.append(Example(page.name, line, code, flags, name,
                                             tuple(files.items())))
                        pending = None
                i = after
                continue
            i += 1
    return found


EXAMPLES = examples()


def test_the_pages_have_examples():
    assert len(EXAMPLES) >= 15
    assert {e.page for e in EXAMPLES} >= {"language.rst", "checking.rst"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.page}:{e.line}")
def test_example_gives_its_exit_code(example: Example, tmp_path, monkeypatch, run_cli):
    for name, text in example.files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    # certificates do not change an exit code; leaving them out keeps this test fast
    flags = [*example.flags, "--no-certificates"]
    res = run_cli([*flags, example.model])
    assert res.code == example.exit, (
        f"{example.page}:{example.line}: `speccheck {shlex.join(flags)} {example.model}` "
        f"exits with {res.code}, the page says {example.exit}\n{res.out}{res.err}")
