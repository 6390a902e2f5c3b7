"""Time limits: how long the next solver query may run.

``--timeout`` bounds a whole model; ``--obligation-timeout`` one query. Every
engine asks ``query_ms`` before each query, so a run that reaches its deadline
stops within one short query of it and reports ``unknown``.
"""

from __future__ import annotations

import time
from typing import Any

# z3 treats a timeout of 0 as "no limit": the smallest limit we hand out is 1 ms
MIN_MS = 1


def expired(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def query_ms(timeout_ms: int | None, deadline: float | None) -> int | None:
    """The per-query limit: the smaller of ``timeout_ms`` and the time left (None: none)."""
    limits = [] if timeout_ms is None or timeout_ms <= 0 else [timeout_ms]
    if deadline is not None:
        limits.append(max(MIN_MS, int((deadline - time.monotonic()) * 1000)))
    return min(limits) if limits else None


def limit(solver: object, timeout_ms: int | None, deadline: float | None) -> None:
    """Set the solver's timeout for its next query (no-op when there is no limit)."""
    ms = query_ms(timeout_ms, deadline)
    if ms is not None:
        solver.set("timeout", ms)  # type: ignore[attr-defined]


def trusted_model(solver: Any) -> Any:
    """The solver's model if it satisfies every assertion, else None.

    A query interrupted by its time limit just after deciding `sat` can leave
    an incomplete model (z3 stops converting it back through its
    preprocessing); a trace decoded from it would not replay. Such an answer
    is treated like `unknown`.
    """
    import z3  # local: this module is otherwise free of z3

    assert isinstance(solver, z3.Solver)
    try:
        model = solver.model()
        ok = all(z3.is_true(model.eval(a, model_completion=True)) for a in solver.assertions())
    except z3.Z3Exception:
        return None
    return model if ok else None
