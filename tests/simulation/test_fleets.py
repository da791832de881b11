"""The fleet sizes of a sweep: one reader, one limit, for ``--fleet`` and the API's ``fleet``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from mobility.errors import InputError
from mobility.simulation import fleets
from mobility.simulation.fleets import MAX_FLEET_POINTS, parse_fleet


def test_sizes_are_counted_before_they_are_listed() -> None:
    assert parse_fleet("20000:30000:5000") == [20000, 25000, 30000]
    assert parse_fleet("0:24:1") == list(range(MAX_FLEET_POINTS))
    assert parse_fleet("5, 7,9") == [5, 7, 9]
    too_many = f"at most {MAX_FLEET_POINTS} fleet sizes (it has 1000001: more than 25 points)"
    with pytest.raises(InputError, match="--fleet") as err:
        parse_fleet("0:1000000:1")
    assert err.value.expected == too_many
    with pytest.raises(InputError, match=r"^fleet: got '0:9999999999:1'; expected at most 25 fleet sizes"):
        parse_fleet("0:9999999999:1", field="fleet")  # ten billion sizes: refused, never listed
    with pytest.raises(InputError, match="more than 25 points"):
        parse_fleet(",".join(["100"] * 26))
    with pytest.raises(InputError, match=r"expected A:B:STEP with 0 <= A <= B and STEP > 0$"):
        parse_fleet("5:1:1", field="fleet")


def test_the_cli_refuses_too_many_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mobility.simulation.pipeline
    from mobility.cli import main

    def no_work(*_a: object, **_k: object) -> None:
        raise AssertionError("the sweep started with more fleet sizes than allowed")

    monkeypatch.setattr(mobility.simulation.pipeline, "prepare", no_work)
    argv = ["simulate", "sweep", "2019-12", "--day", "2019-06-12", "--fleet", "0:100000:1"]
    monkeypatch.setattr(sys, "argv", ["mobility", *argv, "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as ex:
        main()
    assert ex.value.code == 2
    assert "error: --fleet: got '0:100000:1'; expected at most 25 fleet sizes" in capsys.readouterr().err


def test_the_api_reads_fleet_with_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.schemas import SimulationRequest

    body = {"day": "2023-06-14", "fleet": "1:3:1"}
    assert SimulationRequest.model_validate(body).fleets() == [1, 2, 3]
    monkeypatch.setattr(fleets, "MAX_FLEET_POINTS", 2)  # the library's limit is the API's
    with pytest.raises(ValidationError) as err:
        SimulationRequest.model_validate(body)
    e = err.value.errors()[0]
    assert e["loc"] == ("fleet",)
    assert e["msg"] == "got '1:3:1'; expected at most 2 fleet sizes (it has 3: more than 2 points)"
