"""Results as data: verdicts, traces, per-property results, run reports, exit codes.

Engines return these; reporters render them; only the CLI prints. The verdict
words are fixed here, so no engine can call a bounded search "proved".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from spec.sorts import Type, Value
from spec.source import Span


class Verdict(enum.Enum):
    PROVED = "proved"
    VIOLATED = "violated"
    BOUNDED = "no violation up to depth"
    UNKNOWN = "unknown"


class ExitCode(enum.IntEnum):
    """Documented in docs/cli.rst and README.md."""

    OK = 0            # every result matches its expectation
    UNEXPECTED = 1    # a violation against expectation, or an expected violation proved absent
    USAGE = 2         # bad command line
    SPEC_ERROR = 3    # the model has errors (diagnostics printed)
    INCONCLUSIVE = 4  # some result is unknown, or only bounded where a violation was expected
    INTERNAL = 70     # a bug in speccheck (please report)


@dataclass(frozen=True)
class Step:
    action: str                       # IR action id (replay key)
    text: str                         # what the step does, in the model's words
    routine: str
    kind: str                         # "action" | "call" | "step"
    actor: str | None                 # running thread
    interp: str | None                # its current interpreter before the step
    params: tuple[tuple[str, Value], ...]
    line: int | None = None
    failure: str | None = None        # set on the final step of a check violation
    file: str | None = None           # the file `line` is in (an include's, maybe)


@dataclass(frozen=True)
class Trace:
    """states[0] is initial; steps[i] leads from states[i] to states[i+1]. A
    trace for a check violation ends with one extra step that fails at the last
    state (so len(steps) == len(states))."""

    var_names: tuple[str, ...]
    var_displays: tuple[str, ...]
    var_types: tuple[Type, ...]
    states: tuple[tuple[Value, ...], ...]
    steps: tuple[Step, ...]

    @property
    def length(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class Certificate:
    """An inductive invariant that implies a property, already re-checked.

    ``smt`` is the invariant as an SMT-LIB term over the integer-encoded state
    constants of step 0 (``checker.encode``, ints mode); ``text`` is the same
    invariant in the model's vocabulary; ``size`` counts its atoms."""

    prop: str
    smt: str
    text: str
    size: int


@dataclass(frozen=True)
class AllSizes:
    """The outcome of an all-sizes proof (``--all-sizes``), kept apart from the
    instance verdict: `proved` only when every obligation was decided in a
    fragment where z3 is complete (``fragment`` names it)."""

    proved: bool
    reason: str                        # how it was proved, or why it is unknown
    sizes: str                         # what "all sizes" covers
    fragment: str | None = None
    lemmas: tuple[str, ...] = ()       # lemmas the proof uses (ModelReport.lemmas)
    cti: Trace | None = None           # counterexample to induction on a finite structure
    cti_sizes: tuple[tuple[str, int], ...] = ()

    @property
    def verdict(self) -> str:
        return "proved for all sizes" if self.proved else "unknown"


@dataclass(frozen=True)
class PropertyResult:
    name: str
    kind: str
    description: str
    verdict: Verdict
    engine: str
    expected: str                     # "holds" | "violated"
    depth: int | None = None          # bound reached (bounded) or trace length
    states: int | None = None         # distinct states explored (explicit)
    trace: Trace | None = None
    reason: str | None = None         # for unknown, or how a proof was obtained
    check_span: Span | None = field(default=None, compare=False)
    message: str | None = None        # the violated check's message
    certificate: Certificate | None = None
    cti: Trace | None = None          # counterexample to induction (never a violation)
    all_sizes: AllSizes | None = None  # the parameterised proof, with --all-sizes

    @property
    def as_expected(self) -> bool:
        if self.expected == "violated":
            return self.verdict is Verdict.VIOLATED
        return self.verdict in (Verdict.PROVED, Verdict.BOUNDED)

    @property
    def unexpected_violation(self) -> bool:
        return self.expected == "holds" and self.verdict is Verdict.VIOLATED


@dataclass(frozen=True)
class Coverage:
    """Which steps can fire, from an explicit search (complete or not)."""

    actions: int
    dead: tuple[tuple[str, str, int | None], ...]  # (action id, text, line) that never fired
    vacuous: tuple[str, ...]                       # implications never triggered
    complete: bool                                 # the search saw every reachable state

    @property
    def clean(self) -> bool:
        return not self.dead and not self.vacuous


@dataclass(frozen=True)
class ModelReport:
    file: str
    model: str
    params: tuple[tuple[str, Value], ...]
    results: tuple[PropertyResult, ...]
    replay: str
    states: int | None = None
    seconds: float | None = None
    coverage: Coverage | None = None
    witness_of: str | None = None   # --witness STEP
    witness: Trace | None = None
    lemmas: tuple[tuple[str, str], ...] = ()  # (name, expression) of lemmas found for all sizes


def exit_code(reports: list[ModelReport], fail_on_vacuity: bool = False) -> ExitCode:
    results = [r for m in reports for r in m.results]
    if fail_on_vacuity and any(m.coverage is not None and not m.coverage.clean
                               for m in reports):
        return ExitCode.UNEXPECTED
    if any(not r.as_expected and r.verdict in (Verdict.VIOLATED, Verdict.PROVED)
           for r in results):
        return ExitCode.UNEXPECTED
    if any(not r.as_expected for r in results):
        return ExitCode.INCONCLUSIVE
    if any(r.all_sizes is not None and not r.all_sizes.proved and r.expected == "holds"
           for r in results):  # --all-sizes asked for a proof it did not get
        return ExitCode.INCONCLUSIVE
    if any(r.verdict is Verdict.UNKNOWN for r in results):
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK
