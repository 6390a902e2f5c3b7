"""A proof run over many models, as data: tasks, their outcomes, one entry per file.

Vocabulary (docs/ci.rst):

* an *obligation* is one property of one model file in one configuration:
  (file, configuration, property). Summary rows, JUnit test cases and SARIF
  results are obligations.
* a *task* is one model file in one configuration: every obligation of that
  configuration, decided together (the explicit search checks all properties
  of a configuration in one pass). Tasks are the unit of parallel work,
  caching and sharding.

Everything here is ordered by (file, configuration, property) in the order
of the plan, never by completion order.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.results import ModelReport
from spec.diagnostics import Diagnostic


@dataclass(frozen=True)
class Task:
    file: str
    configuration: tuple[tuple[str, str], ...]   # the swept parameters' values, in sweep order
    swept: bool = False                           # part of a sweep (even of one configuration)

    @property
    def label(self) -> str:
        """How the summary and the progress line name the configuration."""
        return " ".join(f"{n}={v}" for n, v in self.configuration) or "defaults"

    @property
    def ident(self) -> str:
        """Stable identity, the same on every machine: sharding hashes it."""
        return f"{self.file}\x00{self.label}"


@dataclass(frozen=True)
class TaskOutcome:
    task: Task
    report: ModelReport | None                    # None when checking raised diagnostics
    diagnostics: tuple[Diagnostic, ...] = ()
    cached: bool = False                          # the results came from the cache
    revalidated: bool = False                     # ... and were re-checked (certificates)
    seconds: float = 0.0                          # wall time of this task in this run
    warnings: tuple[str, ...] = ()                # cache entries ignored, and why


@dataclass(frozen=True)
class FileOutcome:
    """One model file: its tasks' outcomes, or the diagnostics that stopped it."""

    file: str
    sweep: tuple[str, ...] | None                 # swept parameter names; None: no sweep
    tasks: tuple[TaskOutcome, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def reports(self) -> list[ModelReport]:
        if self.diagnostics:
            return []
        return [t.report for t in self.tasks if t.report is not None]

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for t in self.tasks for w in t.warnings)


@dataclass(frozen=True)
class Shard:
    index: int   # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class RunInfo:
    """What the machine reports need to know about the run beyond the results."""

    files: tuple[FileOutcome, ...]
    shard: Shard | None = None
    cache_dir: str | None = None                  # None: the cache was off
    timings: bool = False                         # record times (off: reports are time-free)
    skipped: tuple[str, ...] = ()                 # include files found in directories
