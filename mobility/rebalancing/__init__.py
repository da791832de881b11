"""rebalancing layer of mobility (see README)."""
