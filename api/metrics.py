"""Prometheus metrics of the service (process-wide, registered once)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "mobility_http_requests_total",
    "HTTP requests by route template, method and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "mobility_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
JOBS_SUBMITTED = Counter("mobility_jobs_submitted_total", "Jobs accepted, by kind.", ["kind"])
JOBS = Gauge("mobility_jobs", "Jobs in the database, by status (sampled at scrape time).", ["status"])
WORKERS = Gauge("mobility_workers", "Dask workers known to the scheduler (sampled at scrape time).")
