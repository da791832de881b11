"""Dask worker preload of the fault tests: the solver job kinds replaced by the test fakes.

Used as ``dask worker --preload tests/api/fault_worker.py`` so that a worker process killed with
``kill -9`` runs the same fake jobs as the in-process tests. The project root goes on ``sys.path``
so that the fakes come from ``tests.api.api_support``, the one name every test module uses.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from api.jobs import register_job_kind
from tests.api.api_support import fake_rebalancing, fake_scenario

register_job_kind("scenario", fake_scenario)
register_job_kind("rebalancing", fake_rebalancing)
