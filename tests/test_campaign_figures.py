"""tests/campaign_figures.py: logs of several campaign runs summed into one table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from campaign_figures import main


def log(path: Path, **figures: int | str) -> Path:
    path.write_text(json.dumps(figures), encoding="utf-8")
    return path


def test_runs_are_summed_and_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = log(tmp_path / "seed2.json", seed=2, models=300, properties=1000, violated=200,
            states=5000, seconds=600, **{"cpu seconds": 150, "pdr proved": 7,
                                         "outcome": "passed"})
    b = log(tmp_path / "seed3.json", seed=3, models=50, properties=100, violated=20,
            states=700, seconds=60, commit="def5678",
            **{"cpu seconds": 25, "pdr proved": 1, "too slow": 1})
    assert main([str(b), str(a), "--date", "today", "--commit", "2=abc1234"]) == 0
    raw = capsys.readouterr().out
    out = " ".join(raw.split())  # the intro paragraph is wrapped
    assert "distinct seeds (2, 3)" in out
    assert "350 models so far, short of the 10,000" in out
    assert "1,100, of which 220 violated" in out
    assert "abc1234" in out and "def5678" in out and "8 proofs" in out
    assert "passed" in out and "stopped" in out  # seed 3 has no outcome and no .out
    assert "0.50 s per model" in out              # 175 CPU seconds, 350 models
    assert "     - none" in raw                   # no run failed


def test_old_logs_do_not_count_too_slow_models(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # before logs recorded CPU time, a model stopped as too slow was counted as checked
    old = log(tmp_path / "seed1.json", models=1050, properties=10, violated=1, states=5,
              seconds=2252, **{"too slow": 3})
    assert main([str(old), "--target", "1000"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1,047 models, at least the 1,000" in out
    assert "not recorded" in out


def test_a_failed_run_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = log(tmp_path / "seed4.json", seed=4, models=10, **{"cpu seconds": 5})
    (tmp_path / "seed4.out").write_text("F\n1 failed in 20.00s\n", encoding="utf-8")
    assert main([str(a)]) == 0
    assert "runs that failed (seeds 4)" in " ".join(capsys.readouterr().out.split())
    (tmp_path / "seed4.out").write_text("F    [100%]\n", encoding="utf-8")  # pytest -q
    assert main([str(a)]) == 0
    assert "runs that failed (seeds 4)" in " ".join(capsys.readouterr().out.split())
    (tmp_path / "seed4.out").write_text(".    [100%]\n", encoding="utf-8")
    assert main([str(a)]) == 0
    out = capsys.readouterr().out
    assert "     - passed" in out and "     - none" in out


def test_a_repeated_seed_is_refused(tmp_path: Path) -> None:
    a = log(tmp_path / "a.json", seed=5, models=1)
    b = log(tmp_path / "b.json", seed=5, models=1)
    assert main([str(a), str(b)]) == 2
