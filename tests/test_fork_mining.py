"""Certificates for proofs of models that fork: after `fork` a dead thread's program
counter stays wherever it was, so the mined invariant must say what a thread's pc
implies *while it is alive* (live[t] is part of a thread's context)."""

from __future__ import annotations

from test_pdr import ts_of  # tests/ is on sys.path (pytest rootdir import)

import checker.engines.mining as mining
from checker.engines.explicit import explore

# t2 may die between `acquire l` and `release l`; the lock is reinitialised, so
# the dead thread's frozen pc sits at `release l` while nobody holds `l`.
FORK_MID_CRITICAL_SECTION = """
model fork_mid_critical_section
interpreters(1)
threads(2)
lock l: mutex
def forked: bool = not live(t1) or not live(t2)
proc hold(t: Thread) {
  acquire l
  release l
}
proc forker(t: Thread) {
  await not forked
  fork reinit l
}
"""


def _certified(contexts_include_live: bool) -> set[str]:
    ts = ts_of(FORK_MID_CRITICAL_SECTION)
    props = list(ts.properties)
    found, stats = explore(ts, props, keep_states=True)
    assert stats.exhausted and all(r.verdict.value == "proved" for r in found.values())
    original = mining.contexts
    if not contexts_include_live:
        def without_live(ts_: object) -> list[tuple[int, ...]]:
            return [cols[:-1] for cols in original(ts_)]  # type: ignore[arg-type]
        mining.contexts = without_live  # type: ignore[assignment]
    try:
        _, certs = mining.mine(ts, props, stats.reachable)
    finally:
        mining.contexts = original  # type: ignore[assignment]
    return set(certs)


def test_a_dead_threads_frozen_pc_does_not_block_the_certificate() -> None:
    assert "lock_sanity" in _certified(contexts_include_live=True)


def test_without_live_in_the_context_the_same_proof_has_no_certificate() -> None:
    """The contrast that shows what the live column is for."""
    assert "lock_sanity" not in _certified(contexts_include_live=False)
