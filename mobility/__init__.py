"""mobility: expansion planning and nightly rebalancing for Seoul's public bikes (Ttareungi, 따릉이).

The package is layered as the data flows (see ``README.md``)::

    sources -> network -> demand -> placement -> Plan
                    \\-------> rebalancing -> RebalancingPlan -> export / api

Every module uses only what stands to its left; the CLI (:mod:`mobility.cli`) and the service
(:mod:`api`) are consumers at the edge.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
