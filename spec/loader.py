"""Reading model files and expanding `include`s: path -> ordered declarations.

Rules (docs/language.rst, "Includes"): an include path is relative to the
including file; it must stay inside the directory of the top-level file (or
an extra include directory the caller names); cycles are errors. Files must
be UTF-8 text without NUL bytes and at most ``MAX_FILE_BYTES`` long. Nothing
in a model file is ever executed.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from spec import codes
from spec import syntax as S
from spec.diagnostics import SpecError
from spec.parser import parse
from spec.source import SourceFile, Span

MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class LoadedModel:
    root: SourceFile
    decls: tuple[S.Decl, ...]
    files: tuple[str, ...]


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _read_regular(path: Path, display: str, span: Span | None) -> tuple[bytes, int]:
    """The bytes of a regular file, at most one more than MAX_FILE_BYTES. Opening
    does not block (a named pipe without a writer would), and anything but a
    regular file (a pipe, /dev/zero, a socket) is refused before it is read.
    Returns the bytes read and the file's size."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            raise SpecError([codes.make("SC001", f"`{display}` is a directory, not a model file",
                                        span, hint="pass a .spec file")])
        if not stat.S_ISREG(mode):
            raise SpecError([codes.make("SC001", f"`{display}` is {_kind(mode)}, not a model "
                                        "file", span, hint="model files are regular files")])
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
        return data, max(info.st_size, len(data))
    finally:
        os.close(fd)


def read_source(path: Path, display: str, span: Span | None = None) -> SourceFile:
    try:
        data, size = _read_regular(path, display, span)
    except SpecError:
        raise
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise SpecError([codes.make("SC001", f"`{display}` is a directory, not a model file",
                                        span, hint="pass a .spec file")]) from None
        reason = exc.strerror or type(exc).__name__
        raise SpecError([codes.make("SC001", f"cannot read `{display}`: {reason}", span,
                                    hint="check the path and its permissions")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecError([codes.make("SC007", f"`{display}` is {size} bytes; the limit is "
                                    f"{MAX_FILE_BYTES}", span,
                                    hint="split the model with `include`")])
    if b"\x00" in data:
        raise SpecError([codes.make("SC002", f"`{display}` looks like a binary file", span,
                                    hint="model files are UTF-8 text")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([codes.make("SC002", f"`{display}` is not UTF-8 (byte {exc.start})", span,
                                    hint="save the file as UTF-8")]) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile.from_text(display, text)


def load_text(name: str, text: str) -> LoadedModel:
    """Parse model text that has no includes (used by tests and the docs)."""
    source = SourceFile.from_text(name, text)
    module = parse(source)
    for d in module.decls:
        if isinstance(d, S.IncludeDecl):
            raise SpecError([codes.make("SC001", "`include` needs a model read from a file",
                                        d.span)])
    return LoadedModel(source, module.decls, (name,))


def load_file(path: str | os.PathLike[str], include_dirs: tuple[Path, ...] = ()) -> LoadedModel:
    return _load(Path(path), read_source(Path(path), str(path)), include_dirs)


def load_text_at(path: str | os.PathLike[str], text: str,
                 include_dirs: tuple[Path, ...] = ()) -> LoadedModel:
    """Model text standing in for the file at `path`: its includes are found next
    to that file, under the same rules (used for the mutants of a model)."""
    return _load(Path(path), SourceFile.from_text(str(path), text), include_dirs)


def _load(top: Path, root: SourceFile, include_dirs: tuple[Path, ...]) -> LoadedModel:
    allowed = tuple(p.resolve() for p in (top.resolve().parent, *include_dirs))
    files: list[str] = [root.name]
    decls = _expand(root, top.resolve(), allowed, (top.resolve(),), files)
    return LoadedModel(root, tuple(decls), tuple(files))


def _expand(source: SourceFile, real: Path, allowed: tuple[Path, ...], stack: tuple[Path, ...],
            files: list[str]) -> list[S.Decl]:
    module = parse(source)
    out: list[S.Decl] = []
    for d in module.decls:
        if not isinstance(d, S.IncludeDecl):
            out.append(d)
            continue
        target = (real.parent / d.path).resolve()
        display = os.path.normpath(os.path.join(os.path.dirname(source.name), d.path))
        if not any(target == a or a in target.parents for a in allowed):
            raise SpecError([codes.make(
                "SC001", f"include `{d.path}` leaves the model's directory", d.span,
                hint="includes may only name files under the top-level model's directory")])
        if target in stack:
            chain = " -> ".join(p.name for p in (*stack, target))
            raise SpecError([codes.make("SC006", f"include cycle: {chain}", d.span,
                                        hint="remove one of the includes")])
        if display in files:
            continue  # each file is included once, like a header with a guard
        included = read_source(target, display, d.span)
        files.append(display)
        inner = _expand(included, target, allowed, (*stack, target), files)
        for x in inner:
            if isinstance(x, S.ModelDecl):
                raise SpecError([codes.make(
                    "SC103", "an included file cannot declare `model`", x.span,
                    hint="only the top-level file names the model")])
        out.extend(inner)
    return out
