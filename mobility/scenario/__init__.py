"""Scenario schemas (pydantic), shared by the YAML files in ``scenarios/``, the CLI and the API.

- :mod:`mobility.scenario.expansion`: where new stations go and how the fleet is spread.
- :mod:`mobility.scenario.nightly`: the nightly rebalancing run (depots, trucks, shift).
"""
