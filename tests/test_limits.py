"""--timeout is a hard bound: every stage looks at the deadline before each query.

These tests use a deadline that has already passed, so they check behaviour
(what each stage reports), never wall-clock time.
"""

from __future__ import annotations

import time

from test_pdr import MUTEX, STRENGTHEN, ts_of  # tests/ is on sys.path (pytest rootdir import)

from checker.certificate import recheck
from checker.engines.explicit import explore
from checker.engines.induction import induction, kinduction
from checker.engines.mining import mine
from checker.engines.pdr import pdr
from checker.limits import expired, query_ms
from checker.options import CheckOptions
from checker.results import Verdict
from checker.run import check_with_coverage


def past() -> float:
    return time.monotonic() - 1.0


def test_query_ms_takes_the_smaller_limit() -> None:
    assert query_ms(None, None) is None
    assert query_ms(500, None) == 500
    far = time.monotonic() + 3600
    assert query_ms(500, far) == 500
    assert 3_000_000 < (query_ms(None, far) or 0) <= 3_600_000
    assert query_ms(500, past()) == 1  # never 0: z3 reads 0 as "no limit"
    assert expired(past()) and not expired(far) and not expired(None)


def test_recheck_after_the_deadline_is_undecided_not_failed_silently() -> None:
    ts = ts_of(STRENGTHEN)
    ok, why = recheck(ts, ts.property("small"), "true", None, past())
    assert not ok and why == "initiation: unknown"


def test_mining_stops_at_the_deadline() -> None:
    ts = ts_of(MUTEX)
    props = list(ts.properties)
    found, stats = explore(ts, props, keep_states=True)
    assert stats.exhausted
    assert mine(ts, props, stats.reachable, deadline=past()) == (None, {})
    smt, certs = mine(ts, props, stats.reachable)  # the same call without a deadline works
    assert smt is not None and certs


def test_proof_engines_say_unknown_after_the_deadline() -> None:
    ts = ts_of(STRENGTHEN)
    props = list(ts.properties)
    for results in (induction(ts, props, deadline=past()),
                    kinduction(ts, props, max_k=3, deadline=past()),
                    pdr(ts, props, deadline=past())):
        assert {r.verdict for r in results.values()} == {Verdict.UNKNOWN}, results
        assert all("time limit" in (r.reason or "") for r in results.values()), results


def test_the_timeout_counts_from_the_start_of_the_model() -> None:
    """A model whose time is used up before the engines start gets only unknowns."""
    ts = ts_of(MUTEX)
    options = CheckOptions(timeout=0.5)
    results, _, _, _ = check_with_coverage(ts, options, start=time.monotonic() - 10)
    assert {r.verdict for r in results} == {Verdict.UNKNOWN}
    fresh, _, _, _ = check_with_coverage(ts, CheckOptions(timeout=60))
    assert {r.verdict for r in fresh} == {Verdict.PROVED}
