"""Shared fixtures: model files in tmp_path, the CLI run in-process, golden updates."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the project is not installed in the venv
    sys.path.insert(0, str(ROOT))

# The runtime prelude most models include (a copy, so tests never read /tmp or models/).
RUNTIME_SPEC = """\
/// runtime
param INTERPS = 2
param THREADS = 2
interpreters(INTERPS)
threads(THREADS)
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/cases/*.expected from the current output")
    # differential testing of the engines (tests/test_differential.py, docs/soundness.rst)
    parser.addoption("--campaign", type=int, default=0, metavar="N",
                     help="check N random models against the explicit explorer")
    parser.addoption("--campaign-seed", type=int, default=0, metavar="S",
                     help="random seed of the campaign")
    parser.addoption("--campaign-log", default=None, metavar="FILE",
                     help="write the campaign's figures (JSON) to FILE")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether golden files should be rewritten instead of compared."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def write_model(tmp_path: Path) -> Callable[..., Path]:
    """Write model text to tmp_path (plus runtime.spec when asked) and return its path."""

    def write(text: str | bytes, name: str = "model.spec", *, runtime: bool = False) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        if runtime:
            (path.parent / "runtime.spec").write_text(RUNTIME_SPEC, encoding="utf-8")
        return path

    return write


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[[Sequence[str]], CliResult]:
    """Run `speccheck` in-process and return its exit code, stdout and stderr."""
    from checker.cli import main

    def run(argv: Sequence[str]) -> CliResult:
        capsys.readouterr()  # drop anything printed before
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
