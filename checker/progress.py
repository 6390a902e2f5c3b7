"""Progress of long runs: what each running task is doing, as one status line.

Engines report through an optional callback (``Progress``) and never print;
``Board`` turns the latest event of every running task into one line that the
CLI draws on standard error when it is a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    task: str                # which model and configuration ("extcache GIL=own")
    stage: str               # "explicit search", "BMC", "PDR", ... or "done"
    depth: int | None = None
    states: int | None = None


# (stage, depth, states): what an engine calls; the runner adds the task name
Progress = Callable[[str, int | None, int | None], None]


def describe(e: Event) -> str:
    parts = [e.stage]
    if e.depth is not None:
        parts.append(f"depth {e.depth}")
    if e.states is not None:
        parts.append(f"{e.states} states")
    return f"{e.task}: " + ", ".join(parts)


@dataclass
class Board:
    """The latest event of every running task and how many tasks have finished."""

    total: int
    done: int = 0

    def __post_init__(self) -> None:
        self.running: dict[str, Event] = {}

    def update(self, e: Event) -> None:
        if e.stage == "done":
            self.running.pop(e.task, None)
            self.done += 1
        else:
            self.running[e.task] = e

    def line(self, width: int) -> str:
        text = f"[{self.done}/{self.total}] " + " | ".join(
            describe(e) for e in self.running.values())
        return text if len(text) <= width else text[: max(0, width - 3)] + "..."
