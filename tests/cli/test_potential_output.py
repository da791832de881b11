"""``demand potential --cv`` prints the mean its errors are measured against."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.demand.potential import CVReport

runner = CliRunner()


class _Model:
    def describe(self) -> dict[str, Any]:
        return {"n_stations": 2, "features": ["pop"]}


def test_cv_footer_quotes_the_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    import mobility.demand.potential as potential

    metrics = {"model": {"mae": 30.0, "rmse": 40.0, "r2": 0.5, "mae_log": 0.4}}
    report = CVReport(folds=5, groups=[], metrics=metrics, per_fold={}, n=2, mean_target=90.04)
    monkeypatch.setattr(potential, "fit_from_data", lambda *a, **k: (_Model(), report))
    res = runner.invoke(app, ["demand", "potential", "--cv"])
    assert res.exit_code == 0, res.output
    assert "(trips per day: rentals + returns; 2023 mean 90.0)" in res.output
