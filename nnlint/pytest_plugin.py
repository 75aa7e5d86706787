"""The `nnlint_probe` pytest fixture, registered through the `pytest11` entry point when nnlint is installed.

    def test_model_trains(nnlint_probe):
        nnlint_probe(Net(), torch.randn(16, 8), task="multiclass")   # fails the test with the report

Imports nothing heavy: torch is imported when the fixture is called.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest


@pytest.fixture
def nnlint_probe() -> Callable[..., Any]:
    """Probe a model (the arguments of `nnlint.probe`) and fail the test on any warning or error; returns the report."""

    def run(model: Any, *args: Any, **kwargs: Any) -> Any:
        from nnlint.probe.api import probe

        report = probe(model, *args, **kwargs)
        if not report.ok:
            pytest.fail(f"nnlint found problems in {type(model).__name__}:\n{report}", pytrace=False)
        return report

    return run
