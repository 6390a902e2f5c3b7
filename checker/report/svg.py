"""A counterexample as an SVG sequence diagram: one lane per thread, one row per
step, top to bottom.

Each step is a box in the lane of the thread that runs it, tinted with the
colour of the interpreter it runs in, listing the lock, ownership, interpreter
and thread-state changes it makes. Beside each lane a bar shows the thread's
current interpreter and thinner bars the locks it holds. The violating step
(or, for a state property, the step into the bad state) is drawn in red with
the violation's message.

A pure function of the trace: plain SVG 1.1 with presentation attributes,
no scripts, no external fonts or links, the same bytes for the same trace.
Element classes (``lane``, ``step``, ``violation``) and ``data-*``
attributes name what each group shows, for tests and for styling.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from checker.report.cells import show_value
from checker.report.steps import (
    Change,
    action_text,
    changes,
    held,
    interpreters,
    locks,
    value_at,
)
from checker.report.steps import threads as trace_threads
from checker.results import ModelReport, PropertyResult, Trace
from spec.program import CUR

FONT = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
SIZE = 12            # font size (px)
CHAR = 7.3           # advance of one monospace character at SIZE
LINE = 16            # line height
GUTTER = 44          # step numbers
LANE = 320           # lane width
PAD = 6              # inside a box
HEAD_H = 46

# interpreter tints (box fill, bar/label colour), in declaration order
INTERP_COLOURS = (("#e8f0fe", "#1a73e8"), ("#e6f4ea", "#188038"), ("#fef7e0", "#b06000"),
                  ("#f3e8fd", "#8430ce"), ("#e4f7fb", "#007b83"), ("#fce8f3", "#b80672"))
# locks in colours no interpreter uses, so the two kinds of bars are not confused
LOCK_COLOURS = ("#5f6368", "#c5221f", "#795548", "#202124", "#9e9d24", "#ad1457", "#4e342e")
RED, RED_FILL, GREY, INK = "#c5221f", "#fce8e6", "#5f6368", "#202124"


@dataclass(frozen=True)
class _Row:
    index: int                 # step number from 0
    actor: str | None
    interp: str | None
    lines: tuple[tuple[str, str], ...]  # (text, style): main | change | lock:ID | bad
    bad: bool
    height: float
    line: int | None


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=True,
                         break_on_hyphens=False, subsequent_indent="  ") or [""]


def _wrap_first(text: str, width: int, first: int) -> list[str]:
    """Wrap with a shorter first line (it shares its line with the badge)."""
    head = _wrap(text, first)[0]
    rest = text[len(head):].strip()
    return [head, *(_wrap("  " + rest, width) if rest else [])]


def describe(change: Change, actor: str | None) -> tuple[str, str]:
    """A change in words, and how to draw it."""
    if change.kind == "lock" and change.cell.startswith("holder"):
        if change.before == "none" and change.after == actor:
            return f"acquires {change.key}", f"lock:{change.key}"
        if change.after == "none" and change.before == actor:
            return f"releases {change.key}", f"lock:{change.key}"
        return f"{change.key}: held by {change.before} -> {change.after}", f"lock:{change.key}"
    if change.kind == "lock":
        return f"{change.cell}: {change.before} -> {change.after}", f"lock:{change.key}"
    if change.kind == "interp" and change.key == actor:
        return f"now in {change.after} (was {change.before})", "change"
    if change.kind == "tstate":
        if change.before == "none":
            return f"binds {change.key} to {change.after}", "change"
        if change.after == "none":
            return f"unbinds {change.key} from {change.before}", "change"
    if change.kind == "owner":
        if change.before == "none":
            return f"{change.key}: allocated by {change.after}", "change"
        if change.after == "none":
            return f"{change.key}: freed (was {change.before}'s)", "change"
        return f"{change.key}: owner {change.before} -> {change.after}", "change"
    return str(change), "change"


def _rows(trace: Trace, prop: str | None, message: str | None,
          width_of: Callable[[str | None], int]) -> list[_Row]:
    rows: list[_Row] = []
    last = len(trace.steps) - 1
    state_bad = len(trace.steps) < len(trace.states)
    for i, step in enumerate(trace.steps):
        chars = width_of(step.actor)
        lines: list[tuple[str, str]] = []
        badge = len(step.interp) + 5 if step.interp else 0  # room for the "in X" badge
        lines += [(x, "main") for x in _wrap_first(action_text(step), chars, chars - badge)]
        for c in changes(trace, i):
            if c.kind == "pc":
                continue
            said, style = describe(c, step.actor)
            lines += [(x, style) for x in _wrap(said, chars)]
        bad = step.failure is not None or (state_bad and i == last)
        if step.failure is not None:
            lines += [(x, "bad") for x in _wrap(f"✗ {prop or 'violation'}: {step.failure}", chars)]
        elif bad:
            what = f"✗ {prop} violated in state {i + 1}" if prop else f"✗ bad state {i + 1}"
            lines += [(x, "bad") for x in _wrap(what + (f": {message}" if message else ""),
                                                 chars)]
        height = 2 * PAD + LINE * len(lines)
        rows.append(_Row(i, step.actor, step.interp, tuple(lines), bad, height, step.line))
    return rows


def _text(x: float, y: float, s: str, *, fill: str = INK, weight: str | None = None,
          anchor: str | None = None, size: int = SIZE) -> str:
    extra = "" if weight is None else f' font-weight="{weight}"'
    extra += "" if anchor is None else f' text-anchor="{anchor}"'
    extra += "" if size == SIZE else f' font-size="{size}"'
    return f'<text x="{x:g}" y="{y:g}" fill="{fill}"{extra}>{escape(s)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, stroke: str | None = None,
          width: float = 1, rx: float = 0) -> str:
    line = "" if stroke is None else f' stroke="{stroke}" stroke-width="{width:g}"'
    rounded = "" if not rx else f' rx="{rx:g}"'
    return (f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}"'
            f'{line}{rounded}/>')


def render(trace: Trace, *, prop: str | None = None, message: str | None = None,
           title: str | None = None) -> str:
    """The trace as a standalone SVG document (a string, ending in a newline).

    ``prop`` names the violated property and ``message`` says how it fails
    (both as in the text report); ``title`` is drawn above the lanes."""
    names = trace_threads(trace)
    interps = interpreters(trace)
    lock_ids = locks(trace)
    colour = {n: INTERP_COLOURS[i % len(INTERP_COLOURS)] for i, n in enumerate(interps)}
    lock_colour = {n: LOCK_COLOURS[i % len(LOCK_COLOURS)] for i, n in enumerate(lock_ids)}
    box_left = 14 + 7 * len(lock_ids) + 4        # from the lane's left edge
    chars = max(16, int((LANE - box_left - 8 - 2 * PAD) / CHAR))
    # steps by no thread (plain actions) span the whole width
    wide_chars = max(chars, int((LANE * max(1, len(names)) - box_left - 8 - 2 * PAD) / CHAR))
    width = GUTTER + LANE * max(1, len(names)) + 8
    rows = _rows(trace, prop, message, lambda actor: chars if actor in names else wide_chars)
    title_lines = _wrap(title, int((width - 16) / (CHAR * 14 / SIZE))) if title else []
    top = (12 + 20 * len(title_lines) if title_lines else 8) + HEAD_H
    gap = 8
    y_of: list[float] = []
    y: float = top + gap
    for r in rows:
        y_of.append(y)
        y += r.height + gap
    body_end = y
    legend_items = [(n, colour[n][1], "interp") for n in interps] + \
        [(n, lock_colour[n], "lock") for n in lock_ids]
    legend_h = LINE * 2 + 8
    height = body_end + legend_h + 8
    lane_x = {n: GUTTER + LANE * k for k, n in enumerate(names)}
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width:g}" '
        f'height="{height:g}" viewBox="0 0 {width:g} {height:g}" font-family={quoteattr(FONT)} '
        f'font-size="{SIZE}" class="speccheck-trace">',
        f"<title>{escape(title or 'counterexample')}</title>",
        f"<desc>{escape(_summary(trace, prop))}</desc>",
        _rect(0, 0, width, height, "#ffffff"),
    ]
    for n, line in enumerate(title_lines):
        out.append(_text(8, 20 + 20 * n, line, weight="bold", size=14))
    # lanes: heading, then per row the interpreter bar and the lock bars
    for k, name in enumerate(names):
        x0 = lane_x[name]
        start = _cur(trace, 0, name)
        out.append(f'<g class="lane" data-thread={quoteattr(name)}>')
        if k:
            out.append(f'<line x1="{x0:g}" y1="{top - HEAD_H + 4:g}" x2="{x0:g}" '
                       f'y2="{body_end:g}" stroke="#dadce0" stroke-dasharray="4 4"/>')
        head_y = top - HEAD_H + 4
        out.append(_rect(x0 + 4, head_y, LANE - 12, HEAD_H - 10, "#f1f3f4", "#dadce0", rx=4))
        out.append(_text(x0 + 12, head_y + 16, f"thread {name}", weight="bold"))
        starts = f"starts in {start}" if start else "no thread state"
        out.append(_text(x0 + 12, head_y + 31, starts, fill=GREY, size=11))
        for r, ry in zip(rows, y_of, strict=True):
            after = min(r.index + 1, len(trace.states) - 1)  # as the step leaves it
            here = _cur(trace, after, name)
            span = r.height + gap
            if here is not None:
                out.append(_rect(x0 + 4, ry - gap / 2, 6, span, colour[here][1]))
            for j, lock in enumerate(lock_ids):
                if lock in held(trace, after, name):
                    out.append(_rect(x0 + 14 + 7 * j, ry - gap / 2, 5, span, lock_colour[lock]))
        out.append("</g>")
    # steps
    for r, ry in zip(rows, y_of, strict=True):
        if r.actor in lane_x:
            bx, bw = lane_x[r.actor] + box_left, LANE - box_left - 8
        else:
            bx, bw = GUTTER + box_left, LANE * max(1, len(names)) - box_left - 8
        fill, edge = colour.get(r.interp or "", ("#f1f3f4", GREY))
        cls = "step violation" if r.bad else "step"
        out.append(f'<g class="{cls}" data-step="{r.index + 1}" '
                   f'data-thread={quoteattr(r.actor or "")} '
                   f'data-interp={quoteattr(r.interp or "")}>')
        out.append(_text(GUTTER - 8, ry + PAD + SIZE, f"{r.index + 1}.", fill=RED if r.bad
                         else GREY, anchor="end", weight="bold" if r.bad else None))
        if r.line:
            out.append(_text(GUTTER - 8, ry + PAD + SIZE + LINE, f"l.{r.line}", fill=GREY,
                             anchor="end", size=10))
        out.append(_rect(bx, ry, bw, r.height, RED_FILL if r.bad else fill,
                         RED if r.bad else edge, 2.5 if r.bad else 1, rx=4))
        if r.interp:
            badge = f"in {r.interp}"
            bwid = CHAR * len(badge) * 11 / SIZE + 10
            out.append(_rect(bx + bw - bwid - 4, ry + 3, bwid, 16, edge, rx=8))
            out.append(_text(bx + bw - bwid / 2 - 4, ry + 15, badge, fill="#ffffff", size=11,
                             anchor="middle"))
        for n, (line, style) in enumerate(r.lines):
            ty = ry + PAD + SIZE + LINE * n
            if style == "main":
                out.append(_text(bx + PAD, ty, line, weight="bold"))
            elif style.startswith("lock:"):  # in the colour of the lock's bar
                out.append(_text(bx + PAD, ty, "▸ " + line,
                                 fill=lock_colour.get(style[5:], GREY), weight="bold"))
            elif style == "bad":
                out.append(_text(bx + PAD, ty, line, fill=RED, weight="bold"))
            else:
                out.append(_text(bx + PAD, ty, "▸ " + line, fill=GREY))
        out.append("</g>")
    # legend
    ly = body_end + LINE
    out.append('<g class="legend">')
    x = 8.0
    out.append(_text(x, ly, "interpreter:", fill=GREY, size=11))
    x += 13 * CHAR
    for name, c, what in legend_items:
        if what == "lock" and name == lock_ids[0]:
            ly += LINE + 2
            x = 8.0
            out.append(_text(x, ly, "lock held:", fill=GREY, size=11))
            x += 13 * CHAR
        out.append(_rect(x, ly - 10, 10, 10, c))
        out.append(_text(x + 14, ly, name, size=11))
        x += 14 + CHAR * (len(name) + 3)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _cur(trace: Trace, state: int, thread: str) -> str | None:
    v = value_at(trace, state, CUR, thread)
    return v if isinstance(v, str) else None


def _summary(trace: Trace, prop: str | None) -> str:
    steps = "1 step" if trace.length == 1 else f"{trace.length} steps"
    return (f"Counterexample to {prop}: {steps}" if prop else f"Trace of {steps}") + \
        ", one lane per thread; the violating step is drawn in red."


def picture_title(report: ModelReport, r: PropertyResult) -> str:
    """What a picture shows: the property, the model and its configuration."""
    params = " ".join(f"{n}={show_value(v)}" for n, v in report.params)
    return f"{r.name} violated: model {report.model}" + (f" ({params})" if params else "")


def numbered(path: str, n: int) -> str:
    """The file of the n-th picture (from 1): FILE itself, then FILE-2, FILE-3, ...
    with the number before the extension (out.svg, out-2.svg)."""
    if n == 1:
        return path
    head, dot, ext = path.rpartition(".")
    if not dot or "/" in ext or not head or head.endswith("/"):
        return f"{path}-{n}"
    return f"{head}-{n}.{ext}"


def pictures(reports: Sequence[ModelReport]) -> list[tuple[str, str]]:
    """(label, SVG) for every counterexample, in report order: models as given,
    configurations in sweep order, properties in declaration order."""
    out: list[tuple[str, str]] = []
    for report in reports:
        for r in report.results:
            if r.trace is None:
                continue
            title = picture_title(report, r)
            out.append((title, render(r.trace, prop=r.name, message=r.message, title=title)))
    return out
