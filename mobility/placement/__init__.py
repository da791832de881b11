"""placement layer of mobility (see README)."""
