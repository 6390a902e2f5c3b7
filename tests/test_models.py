"""Every shipped model meets its own `expect` lines (models/*.spec, except the prelude)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.options import CheckOptions
from checker.run import check_file

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def _models() -> list[Path]:
    return sorted(p for p in MODELS_DIR.glob("*.spec") if p.name != "runtime.spec")


@pytest.mark.parametrize("path", _models() or [None],
                         ids=lambda p: p.stem if p is not None else "no-models")
def test_model_results_are_as_expected(path):
    """Checking the model with default options gives every result as its `expect` says."""
    if path is None:
        pytest.skip("models/ holds no models yet")
    report = check_file(str(path), CheckOptions())
    assert report.results, "the model checks no properties"
    wrong = [(r.name, r.expected, r.verdict.value, r.reason or r.message)
             for r in report.results if not r.as_expected]
    assert wrong == [], f"{path.name}: results not as expected: {wrong}"
