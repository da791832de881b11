"""``mobility simulate --json`` prints ``simulation.json``'s seconds as they are, and the writing of
the files (which the document cannot count) beside them as ``seconds_writing``. Before, its
``seconds_total`` was taken again after writing: 21.19 s printed, 20.9 s in the document."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli import simulate as simulate_cli
from mobility.simulation import pipeline

WRITING = 0.3
"""Seconds the stand-in writer takes."""


class _Result:
    """Stands in for the engine's result: the document as the command updates it."""

    seconds = 0.01
    seconds_total: float | None = None

    def model_copy(self, *, update: dict[str, Any]) -> _Result:
        copy = _Result()
        copy.seconds_total = update["seconds_total"]
        return copy

    def summary(self) -> dict[str, Any]:
        return {"seconds": self.seconds}


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The documents the command wrote (after :data:`WRITING` seconds of writing each)."""
    docs: list[Any] = []

    def slow_write(_out: Path, result: Any, *_a: Any) -> None:
        time.sleep(WRITING)
        docs.append(result)

    prep = SimpleNamespace(add_inputs=lambda _i: None, stations=[1, 2], input_notes=[])
    monkeypatch.setattr(pipeline, "prepare", lambda *_a, **_k: prep)
    monkeypatch.setattr(pipeline, "simulate", lambda *_a, **_k: (None, _Result()))
    monkeypatch.setattr(simulate_cli, "write_outputs", slow_write)
    return docs


def test_json_seconds_are_the_documents_and_the_writing_is_said_apart(
    tmp_path: Path, written: list[Any]
) -> None:
    argv = ["simulate", "2019-12", "--day", "2019-06-12", "--out", str(tmp_path / "o"), "--json"]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    doc, printed = written[0], json.loads(r.stdout)
    assert printed["seconds_total"] == doc.seconds_total  # what simulation.json says
    assert printed["seconds"] == doc.seconds
    assert WRITING <= printed["seconds_writing"] < WRITING + 1.0
