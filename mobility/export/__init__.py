"""export layer of mobility (see README)."""
