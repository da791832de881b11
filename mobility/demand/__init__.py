"""demand layer of mobility (see README)."""
