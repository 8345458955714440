"""Endpoint metadata and request parsing: one declaration feeds both the handler and OpenAPI.

`@endpoint(...)` parses the query string and JSON body into the declared pydantic
models (request[QUERY], request[BODY]) before the handler runs, and records
the models and responses on the handler for api/openapi.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from app.http.errors import ApiError

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A response is documented by a model, several models (any of them), None (no body) or a
# media type string (a non-JSON body).
ResponseDoc = type[BaseModel] | tuple[type[BaseModel], ...] | str | None


BODY = web.RequestKey("body", BaseModel)
QUERY = web.RequestKey("query", BaseModel)


@dataclass(frozen=True)
class Spec:
    summary: str
    tags: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict[int, ResponseDoc] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()  # (name, description) of optional headers
    public: bool = False


def endpoint(summary: str, *, tags: tuple[str, ...] = (), body: type[BaseModel] | None = None,
             query: type[BaseModel] | None = None,
             responses: dict[int, ResponseDoc] | None = None,
             headers: tuple[tuple[str, str], ...] = (),
             public: bool = False) -> Callable[[Handler], Handler]:
    spec = Spec(summary, tags, body, query, dict(responses or {200: None}), headers, public)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            if spec.query is not None:
                request[QUERY] = parse_query(request, spec.query)
            if spec.body is not None:
                request[BODY] = await parse_body(request, spec.body)
            return await handler(request)

        wrapper.__api_spec__ = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


def parse_query(request: web.Request, model: type[M]) -> M:
    keys = list(request.query.keys())
    if len(keys) != len(set(keys)):
        raise ApiError(422, "validation_error", "a query parameter is repeated",
                       {"errors": [{"loc": ["query"], "msg": "repeated parameter",
                                    "type": "repeated"}]})
    return model.model_validate(dict(request.query))


async def parse_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    if not raw.strip():
        data: Any = {}
    else:
        if request.content_type not in ("application/json", "application/octet-stream", ""):
            raise ApiError(415, "unsupported_media_type", "send JSON (application/json)")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from exc
    return model.model_validate(data)


def body_of(request: web.Request, model: type[M]) -> M:
    value = request[BODY]
    assert isinstance(value, model)
    return value


def query_of(request: web.Request, model: type[M]) -> M:
    value = request[QUERY]
    assert isinstance(value, model)
    return value


def reply(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None
          ) -> web.Response:
    return web.Response(status=status, text=model.model_dump_json(by_alias=True),
                        content_type="application/json", headers=headers)
