"""network layer of mobility (see README)."""
