"""Trip ingest throughput: the DuckDB streaming path against a pandas read_csv baseline.

The three real trip files are each repeated ``--copies`` times into one bigger file per layout
(header once), in a temporary folder: about 188,000 × copies rows (16 copies ≈ 3.0 M rows).
Both methods then turn the same files into one Parquet file:

* **duckdb** — :func:`mobility.sources.trips.ingest_trips` (detects layout and encoding, parses
  times, maps station keys, counts rejects, writes Parquet sorted by rent time);
* **pandas** — the plain baseline: ``pandas.read_csv`` of each whole file, ``to_datetime`` of
  the two time columns, ``to_numeric`` of the station numbers, ``concat``, ``to_parquet``
  (no rejects, no station mapping, no sorting: it does less work than the DuckDB path).

Each method runs in its own child process so that its peak memory (max RSS) is measured apart.
Prints the machine, a table, the speed and memory ratios, and a last line of JSON.

Usage::

    .venv/bin/python bench/trips_ingest.py [--copies 16] [--data-dir DIR] [--threads N] [--memory-limit 1GB]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mobility.benchcli import ProgressLines, existing_dir, memory_size, positive_int, run_main
from mobility.machine import describe, machine

# the three shared layouts: time columns and station-number columns for the pandas baseline
_PANDAS_COLUMNS = {
    "trips_2016-03_fullmonth.csv": (("rent_datetime", "return_datetime"), ()),
    "trips_2018_1pct_sample.csv": (("rent_time", "return_time"), ("rent_station_no", "return_station_no")),
    "trips_2022-01-01_fullday.csv": (("RENT_DT", "RTN_DT"), ("RENT_ID", "RTN_ID")),
}


def make_inputs(data_dir: Path, folder: Path, copies: int) -> list[Path]:
    """One file per layout: the real file's header once, then its body ``copies`` times."""
    out = []
    for name in _PANDAS_COLUMNS:
        src = data_dir / "ttareungi" / name
        raw = src.read_bytes()
        header, _, body = raw.partition(b"\n")
        if not body.endswith(b"\n"):
            body += b"\n"
        dst = folder / f"x{copies}_{name}"
        with dst.open("wb") as fh:
            fh.write(header + b"\n")
            for _ in range(copies):
                fh.write(body)
        out.append(dst)
    return out


def worker_duckdb(
    paths: list[Path], out: Path, data_dir: Path, threads: int | None, memory_limit: str
) -> dict[str, Any]:
    from mobility.sources.trips import ingest_trips

    t0 = time.perf_counter()
    result = ingest_trips(paths, out, data_dir=data_dir, threads=threads, memory_limit=memory_limit)
    seconds = time.perf_counter() - t0
    return {"rows": result.rows_read, "kept": result.rows_kept, "seconds": seconds}


def worker_pandas(paths: list[Path], out: Path) -> dict[str, Any]:
    import pandas as pd

    t0 = time.perf_counter()
    frames = []
    rows = 0
    for p in paths:
        name = p.name.split("_", 1)[1]
        times, stations = _PANDAS_COLUMNS[name]
        df = pd.read_csv(p, dtype=str, keep_default_na=True, na_values=["\\N"])
        rows += len(df)
        for c in times:
            df[c] = pd.to_datetime(df[c], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        for c in stations:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
        frames.append(
            pd.DataFrame(
                {
                    "rent_time": df[times[0]],
                    "return_time": df[times[1]],
                    "rent_station": df[stations[0]] if stations else pd.NA,
                    "return_station": df[stations[1]] if stations else pd.NA,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    table.to_parquet(out)
    seconds = time.perf_counter() - t0
    return {"rows": rows, "kept": len(table), "seconds": seconds}


def run_child(
    method: str, inputs: list[Path], out: Path, data_dir: Path, threads: int | None, memory_limit: str
) -> dict[str, Any]:
    """Run one method in a fresh interpreter; return its result plus its own peak RSS."""
    cmd = [sys.executable, __file__, "--worker", method, "--out", str(out), "--data-dir", str(data_dir)]
    cmd += ["--memory-limit", memory_limit]
    if threads:
        cmd += ["--threads", str(threads)]
    cmd += ["--inputs", *map(str, inputs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{method} worker failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["max_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    result["rows_per_s"] = round(result["rows"] / result["seconds"])
    result["out_mb"] = round(out.stat().st_size / 1e6, 1)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=positive_int, default=16, help="repeat each real file this many times")
    ap.add_argument("--data-dir", type=existing_dir, default=None)
    ap.add_argument("--threads", type=positive_int, default=None, help="DuckDB threads (default: all cores)")
    ap.add_argument(
        "--memory-limit", type=memory_size, default="1GB", help="DuckDB memory_limit, e.g. 4GB (default 1GB)"
    )
    ap.add_argument("--worker", choices=["duckdb", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--inputs", nargs="*", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        if args.worker == "duckdb":
            res = worker_duckdb(args.inputs, args.out, args.data_dir, args.threads, args.memory_limit)
        else:
            res = worker_pandas(args.inputs, args.out)
        print(json.dumps(res))
        return

    from mobility.config import resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    info = machine()
    print(f"machine: {describe(info)}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-trips-"))
    try:
        step = ProgressLines()
        step(f"writing the input: {args.copies} copies of each real trips file")
        t0 = time.perf_counter()
        inputs = make_inputs(data_dir, tmp, args.copies)
        in_mb = sum(p.stat().st_size for p in inputs) / 1e6
        print(
            f"input: {len(inputs)} files, {in_mb:.0f} MB "
            f"({args.copies} copies; built in {time.perf_counter() - t0:.1f} s)"
        )
        results = {}
        for method in ("pandas", "duckdb"):
            step(f"{method}: ingest in a fresh interpreter")
            results[method] = run_child(
                method, inputs, tmp / f"{method}.parquet", data_dir, args.threads, args.memory_limit
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(
        f"{'method':<8} {'rows':>11} {'kept':>11} {'seconds':>8} {'rows/s':>11} "
        f"{'max RSS MB':>11} {'out MB':>7}"
    )
    for method, r in results.items():
        print(
            f"{method:<8} {r['rows']:>11,} {r['kept']:>11,} {r['seconds']:>8.2f} {r['rows_per_s']:>11,} "
            f"{r['max_rss_mb']:>11,.0f} {r['out_mb']:>7.1f}"
        )
    speed = results["duckdb"]["rows_per_s"] / results["pandas"]["rows_per_s"]
    memory = results["duckdb"]["max_rss_mb"] / results["pandas"]["max_rss_mb"]
    print(f"\nduckdb / pandas: {speed:.2f}x rows per second, {memory:.2f}x peak memory")
    per_m = results["pandas"]["max_rss_mb"] / (results["pandas"]["rows"] / 1e6)
    print(
        f"pandas holds the whole input in memory ({per_m:.0f} MB per million rows incl. the interpreter); "
        f"duckdb's working memory is bounded by memory_limit={args.memory_limit} and spills to disk "
        "beyond it (its RSS adds the interpreter and reader buffers): compare two --copies values"
    )
    summary = {
        "benchmark": "trips_ingest",
        "machine": info,
        "copies": args.copies,
        "input_mb": round(in_mb, 1),
        "results": results,
        "speed_ratio_duckdb_over_pandas": round(speed, 3),
        "memory_ratio_duckdb_over_pandas": round(memory, 3),
        "duckdb_memory_limit": args.memory_limit,
        "pandas_mb_per_million_rows": round(per_m, 1),
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    run_main(main)
