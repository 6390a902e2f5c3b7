"""The report of an internal error: a short banner, the traceback, exit code 70.

An internal error is a bug in speccheck (an exception no stage expected, a
trace that fails its replay, a certificate that fails its re-check), never a
mistake in the model: those are diagnostics with exit code 3. The banner says
so and asks for a report with what is needed to reproduce it.
"""

from __future__ import annotations

import platform
import shlex
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

BANNER = "speccheck: internal error, please report"


def versions() -> str:
    try:
        import z3
        solver = z3.get_version_string()
    except Exception:  # the report must not fail because z3 is broken
        solver = "unavailable"
    from checker.cli import VERSION
    return f"speccheck {VERSION}, Python {platform.python_version()}, z3 {solver}"


def report(argv: Sequence[str] | None, out: TextIO | None = None) -> None:
    """Print the banner and the traceback of the exception being handled."""
    out = out or sys.stderr
    args = list(sys.argv[1:] if argv is None else argv)
    print(BANNER, file=out)
    print("  This is a bug in speccheck, not a problem with your model. Please report it\n"
          "  with the model files, this command line and the traceback below.", file=out)
    print(f"  {versions()}", file=out)
    print(f"  command: {shlex.join(['speccheck', *args])}", file=out)
    traceback.print_exc(file=out)
    print("speccheck: stopped by an internal error (exit code 70)", file=out)
