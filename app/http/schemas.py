"""Schemas every role's HTTP handlers share: the strict request and response bases and the one
error body."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class In(BaseModel):
    """Base of request bodies and query strings: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Out(BaseModel):
    """Base of responses: exactly the documented fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorOut(Out):
    error: str
    message: str
    details: dict[str, object] = Field(default_factory=dict)
