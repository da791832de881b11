"""``mobility export``'s errors name the option or argument, the value and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_data_settings import run


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """``mobility ARGV`` as the console script runs it: exit code, stdout, stderr on one line."""
    code, out, err = run(argv, capsys, monkeypatch)
    return code, out, " ".join(err.split())


def test_an_unknown_basemap_names_tiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["export", "current", "-f", "html", "--tiles", "google", "-o", str(tmp_path / "m.html")]
    code, out, err = _run(argv, capsys, monkeypatch)
    assert (code, out) == (2, "")
    styles = "open-street-map, carto-positron, carto-voyager"
    assert err == f"error: --tiles: got 'google'; expected one of {styles} (html only)"
    assert not (tmp_path / "m.html").exists()


@pytest.mark.parametrize("fmt", ["png", "svg", "geojson"])
def test_a_basemap_for_a_format_without_one_is_refused(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--tiles`` with ``-f png`` was ignored without a word (exit 0, no basemap)."""
    argv = ["export", "current", "-f", fmt, "--tiles", "carto-positron", "-o", str(tmp_path / f"m.{fmt}")]
    code, out, err = _run(argv, capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err == (
        "error: --tiles: got 'carto-positron'; expected only with --format html "
        "(the other formats draw no basemap)"
    )
    assert not (tmp_path / f"m.{fmt}").exists()


@pytest.mark.parametrize(("fmt", "text"), [("png", "x\n"), ("csv", "x\n"), ("geojson", "[1, 2]")])
def test_a_source_that_is_not_a_document_names_the_argument(
    fmt: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "afile.txt"
    src.write_text(text, encoding="utf-8")
    code, out, err = _run(["export", str(src), "-f", fmt, "-o", str(tmp_path / "z")], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"error: PLAN_OR_ROUTES: got '{src}'; expected a plan.json (from `mobility plan`), "
        "a routes.json (from `mobility rebalance`) or 'current'; afile.txt: "
    )
    assert ("not UTF-8 JSON" if text.startswith("x") else "expected a JSON object") in err


def test_routes_that_are_not_a_document_name_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "routes.json"
    bad.write_bytes(b"\xff\xfe not json")
    argv = ["export", "current", "-f", "png", "-o", str(tmp_path / "z.png"), "--routes", str(bad)]
    code, _out, err = _run(argv, capsys, monkeypatch)
    assert (
        code == 2
        and err.startswith(
            f"error: --routes: got '{bad}'; expected a routes.json (from `mobility rebalance`); "
        )
        and "not UTF-8 JSON" in err
    )
