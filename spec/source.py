"""Source files and spans.

Positions are 0-based, half-open character offsets into a file's text; they are
turned into 1-based ``line:col`` only when rendering (``SourceFile.line_col``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceFile:
    """A decoded model file: its display name (as the user gave it) and text."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_text(cls, name: str, text: str) -> SourceFile:
        starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                starts.append(i + 1)
        return cls(name, text, tuple(starts))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset (clamped to the file)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        """Text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]


@dataclass(frozen=True)
class Span:
    """Where a node came from. Never part of equality (fields use compare=False)."""

    source: SourceFile = field(repr=False)
    start: int
    end: int

    @property
    def file(self) -> str:
        return self.source.name

    def line_col(self) -> tuple[int, int]:
        return self.source.line_col(self.start)

    def describe(self) -> str:
        line, col = self.line_col()
        return f"{self.file}:{line}:{col}"


BUILTIN_SOURCE = SourceFile.from_text("<builtin>", "")
BUILTIN_SPAN = Span(BUILTIN_SOURCE, 0, 0)
