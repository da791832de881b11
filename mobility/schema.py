"""JSON Schema of the documents the package writes (``plan.json``, ``routes.json``, ``sweep.json``,
``backtest.json``): generated from their models, never written by hand."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

DRAFT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of every document schema."""


class WrittenDocumentSchema(GenerateJsonSchema):
    """Schema generator for documents as the package writes them: in serialization mode every
    field is required, defaulted ones included, because the writers (``model_dump``,
    ``dataclasses.asdict``) always emit every key. pydantic's default marks only the fields
    without a default, which let a reader of ``plan.json`` believe ``provenance.seed`` may be
    missing. Validation mode (what a reader accepts) is pydantic's own."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        """Every emitted field in serialization mode; pydantic's rule otherwise."""
        if self.mode == "serialization":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)


def document_schema(
    schema: dict[str, Any] | type[BaseModel],
    title: str,
    *,
    description: str | None = None,
    schema_id: str | None = None,
) -> dict[str, Any]:
    """``schema`` (a pydantic model, whose serialization schema by alias is taken, or an adapter's
    schema) as a standalone document schema: the draft 2020-12 ``$schema``, an optional ``$id``,
    a ``title`` and a ``description``."""
    if isinstance(schema, type):
        schema = schema.model_json_schema(
            mode="serialization", by_alias=True, schema_generator=WrittenDocumentSchema
        )
    schema["$schema"] = DRAFT
    if schema_id is not None:
        schema["$id"] = schema_id
    schema["title"] = title
    if description is not None:
        schema["description"] = description
    return schema


class DataclassDocument:
    """Base of the documents written from frozen dataclasses (``sweep.json``, ``backtest.json``):
    :meth:`to_dict` and :meth:`json_schema`, with the schema's title in ``TITLE``."""

    TITLE: ClassVar[str]
    if TYPE_CHECKING:  # set by @dataclass on every subclass
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema of the document (generated from the dataclasses)."""
        return document_schema(
            TypeAdapter(cls).json_schema(mode="serialization", schema_generator=WrittenDocumentSchema),
            cls.TITLE,
        )
