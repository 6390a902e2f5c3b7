"""Diagnostics as values, and their rendering.

Stages raise ``SpecError`` carrying one or more ``Diagnostic``s; only the CLI
renders them. Rendering never raises: if the span cannot be shown it falls back
to ``file: code: message``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from spec.source import Span


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    hint: str | None = None
    notes: tuple[str, ...] = ()
    label: str | None = None
    severity: str = "error"

    def sort_key(self) -> tuple[str, int, str]:
        if self.span is None:
            return ("", -1, self.code)
        return (self.span.file, self.span.start, self.code)


class SpecError(Exception):
    """A user mistake in a model or on the command line (never an internal bug)."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=Diagnostic.sort_key)
        )
        super().__init__("; ".join(d.message for d in self.diagnostics))


@dataclass
class DiagnosticSink:
    """Collects diagnostics so a stage can report all of them at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)


def render(diagnostic: Diagnostic) -> str:
    """Render one diagnostic in the rustc-like layout documented in docs/errors.rst."""
    try:
        return _render(diagnostic)
    except Exception:  # the renderer must never crash the CLI
        where = diagnostic.span.file if diagnostic.span is not None else "speccheck"
        return f"{where}: {diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"


# A longer source line is shown as a window around the span (a hostile or
# generated model may put megabytes on one line).
MAX_SHOWN = 120


def _window(text: str, col: int, length: int) -> tuple[str, int, int]:
    """(the part of the line to show, the span's column in it, the caret length)."""
    if len(text) <= MAX_SHOWN:
        return text, col, length
    start = max(0, col - 1 - MAX_SHOWN // 3)
    shown = text[start:start + MAX_SHOWN]
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + MAX_SHOWN < len(text) else ""
    shown_col = col - start + len(prefix)
    length = max(1, min(length, len(shown) - (col - 1 - start)))
    return prefix + shown + suffix, shown_col, length


def _render(d: Diagnostic) -> str:
    out = [f"{d.severity}[{d.code}]: {d.message}"]
    if d.span is not None:
        line, col = d.span.line_col()
        out.append(f"  --> {d.span.file}:{line}:{col}")
        text = d.span.source.line_text(line).replace("\t", " ")
        if text or d.span.source.text:
            width = len(str(line))
            pad = " " * width
            end_line, end_col = d.span.source.line_col(max(d.span.start, d.span.end - 1))
            length = (end_col - col + 1) if end_line == line and d.span.end > d.span.start else 1
            length = max(1, min(length, max(1, len(text) - col + 1)))
            text, shown_col, length = _window(text, col, length)
            caret = " " * (shown_col - 1) + "^" * length
            if d.label:
                caret += " " + d.label
            out.append(f"{pad} |")
            out.append(f"{line} | {text}")
            out.append(f"{pad} | {caret}")
    for note in d.notes:
        out.append(f"  = note: {note}")
    if d.hint:
        out.append(f"  = help: {d.hint}")
    return "\n".join(out)
