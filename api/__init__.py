"""The HTTP service: a thin FastAPI layer over :mod:`mobility` (built in its own issue)."""
