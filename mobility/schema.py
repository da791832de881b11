"""JSON Schema of the documents the package writes (``plan.json``, ``routes.json``, ``sweep.json``,
``backtest.json``): generated from their models, never written by hand."""

from __future__ import annotations

from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of every document schema."""


def document_schema(
    schema: dict[str, Any], title: str, *, description: str | None = None, schema_id: str | None = None
) -> dict[str, Any]:
    """``schema`` (a pydantic model's or adapter's serialization schema) as a standalone document
    schema: the draft 2020-12 ``$schema``, an optional ``$id``, a ``title`` and a ``description``."""
    schema["$schema"] = DRAFT
    if schema_id is not None:
        schema["$id"] = schema_id
    schema["title"] = title
    if description is not None:
        schema["description"] = description
    return schema
