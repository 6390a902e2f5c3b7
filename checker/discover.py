"""Which model files a run checks: files as given, directories searched for `.spec`.

A directory is searched recursively in sorted order (hidden directories
skipped). A `.spec` file found there that has no `model` declaration and is
included by another file found there is a shared include (like
models/runtime.spec) and is not checked on its own; any other file is. Files
named on the command line are always checked, in the order given; a file
reached twice is checked once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spec import codes
from spec import syntax as S
from spec.diagnostics import Diagnostic, SpecError
from spec.loader import read_source
from spec.parser import parse

SUFFIX = ".spec"


@dataclass(frozen=True)
class Found:
    files: tuple[str, ...]                 # model files, in run order
    skipped: tuple[str, ...]               # shared includes found in directories
    errors: tuple[tuple[str, tuple[Diagnostic, ...]], ...]   # (path, diagnostics)


def _walk(root: str) -> tuple[list[str], list[Diagnostic]]:
    out: list[str] = []
    problems: list[Diagnostic] = []

    def failed(exc: OSError) -> None:
        where = exc.filename or root
        problems.append(codes.make("SC001", f"cannot read directory `{where}`: "
                                   f"{exc.strerror or type(exc).__name__}", None,
                                   hint="check the path and its permissions"))

    for here, dirs, files in os.walk(root, onerror=failed):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        out.extend(os.path.normpath(os.path.join(here, f)) for f in files if f.endswith(SUFFIX))
    return sorted(out), problems


def _shape(path: str) -> tuple[bool, set[Path]]:
    """(declares a model, the files it includes); a file that cannot be read or
    parsed counts as a model, so checking it reports the problem."""
    try:
        module = parse(read_source(Path(path), path))
    except SpecError:
        return True, set()
    is_model = any(isinstance(d, S.ModelDecl) for d in module.decls)
    here = Path(path).resolve().parent
    return is_model, {(here / d.path).resolve() for d in module.decls
                      if isinstance(d, S.IncludeDecl)}


def discover(paths: Sequence[str]) -> Found:
    files: list[str] = []
    skipped: list[str] = []
    errors: list[tuple[str, tuple[Diagnostic, ...]]] = []
    seen: set[Path] = set()

    def add(path: str) -> None:
        real = Path(path).resolve()
        if real not in seen:
            seen.add(real)
            files.append(path)

    for path in paths:
        if not os.path.isdir(path):
            add(path)  # a missing or unreadable file is reported when it is checked
            continue
        found, problems = _walk(path)
        if problems:
            errors.append((path, tuple(problems)))
        shapes = {f: _shape(f) for f in found}
        included = set().union(*(inc for _, inc in shapes.values()))
        models = []
        for f in found:
            is_model, _ = shapes[f]
            if not is_model and Path(f).resolve() in included:
                skipped.append(f)
            else:
                models.append(f)
        if not models and not problems:
            errors.append((path, (codes.make(
                "SC008", f"`{path}` holds no model files", None,
                hint=f"model files end in `{SUFFIX}`; directories are searched recursively"),)))
        for f in models:
            add(f)
    return Found(tuple(files), tuple(skipped), tuple(errors))
