"""OpenAPI 3.1 document generated from the app's routes and the pydantic models on them.

Every handler decorated with app.http.spec.endpoint documents itself (summary, query
and body models, responses); app.http.auth.requires adds its roles. Nothing is
written twice: the router gives methods and paths, the models give schemas.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from api.schemas import ErrorOut, HealthOut
from app.http.spec import ResponseDoc, Spec

TITLE = "Klinik WhatsApp booking API"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
OPENAPI_KEY = web.AppKey("openapi_cache", dict[str, Any])
# Routes other code registers without a spec (app.main's liveness probe).
EXTRA: dict[tuple[str, str], Spec] = {
    ("get", "/health"): Spec("Liveness", ("operations",), responses={200: HealthOut},
                             public=True),
}
PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
DESCRIPTIONS = {200: "OK", 201: "Created", 204: "No content", 400: "Body is not JSON",
                401: "Missing or invalid access token", 403: "Role not allowed",
                404: "Not found", 409: "Conflict", 413: "Body too large",
                415: "Not JSON", 422: "Invalid input", 429: "Too many attempts",
                503: "Not ready"}


class _Schemas:
    """Collects component schemas from models as they are referenced."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        self.components.setdefault(model.__name__, schema)
        return {"$ref": REF.format(model=model.__name__)}

    def inline(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        return schema


def _response(doc: ResponseDoc, status: int, schemas: _Schemas) -> dict[str, Any]:
    out: dict[str, Any] = {"description": DESCRIPTIONS.get(status, "Response")}
    if doc is None:
        return out
    if isinstance(doc, str):
        kind = "object" if doc == "application/json" else "string"
        out["content"] = {doc: {"schema": {"type": kind}}}
    elif isinstance(doc, tuple):
        out["content"] = {"application/json": {
            "schema": {"anyOf": [schemas.ref(m, "serialization") for m in doc]}}}
    else:
        out["content"] = {"application/json": {"schema": schemas.ref(doc, "serialization")}}
    return out


def _parameters(path: str, spec: Spec, schemas: _Schemas) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": 64,
                    "pattern": r"^[A-Za-z0-9_\-]+$"}}
        for name in PATH_PARAM.findall(path)]
    if spec.query is not None:
        schema = schemas.inline(spec.query, "validation")
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    for name, description in spec.headers:
        params.append({"name": name, "in": "header", "required": False,
                       "description": description,
                       "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_\-:.]{8,128}$"}})
    return params


def operation(method: str, path: str, spec: Spec, roles: tuple[str, ...] | None,
              schemas: _Schemas) -> dict[str, Any]:
    responses: dict[int, ResponseDoc] = dict(spec.responses)
    if roles is not None:
        responses.setdefault(401, ErrorOut)
        responses.setdefault(403, ErrorOut)
    if spec.query is not None or spec.body is not None or spec.headers:
        responses.setdefault(422, ErrorOut)
    if spec.body is not None:
        for status in (400, 413, 415):
            responses.setdefault(status, ErrorOut)
    if PATH_PARAM.search(path):
        responses.setdefault(404, ErrorOut)
    op: dict[str, Any] = {
        "operationId": f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}",
        "summary": spec.summary, "tags": list(spec.tags),
        "parameters": _parameters(path, spec, schemas),
        "responses": {str(code): _response(doc, code, schemas)
                      for code, doc in sorted(responses.items())},
        "security": [{"bearerAuth": []}] if roles is not None else [],
    }
    if roles is not None:
        op["description"] = "Roles: " + ", ".join(roles)
    if spec.body is not None:
        body_schema = spec.body.model_json_schema(mode="validation")
        op["requestBody"] = {"required": bool(body_schema.get("required")),
                             "content": {"application/json": {
                                 "schema": schemas.ref(spec.body, "validation")}}}
    return op


def build_openapi(app: web.Application) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    entries: list[tuple[str, str, Spec, tuple[str, ...] | None]] = []
    for route in app.router.routes():
        method = route.method.lower()
        if method == "head" or route.resource is None:
            continue
        path = route.resource.canonical
        spec = getattr(route.handler, "__api_spec__", None) or EXTRA.get((method, path))
        if spec is None:
            continue  # another role's route that does not describe itself
        entries.append((method, path, spec, getattr(route.handler, "__api_roles__", None)))
    for method, path, spec, roles in sorted(entries, key=lambda e: (e[1], e[0])):
        paths.setdefault(path, {})[method] = operation(method, path, spec, roles, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "REST API over the booking core. Times are ISO 8601 with the "
                                "clinic's UTC offset. Errors: {error, message, details}."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.components.items())),
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                          "bearerFormat": "JWT"}}},
    }


def cached_openapi(app: web.Application) -> dict[str, Any]:
    holder = app[OPENAPI_KEY]
    if "doc" not in holder:
        holder["doc"] = build_openapi(app)
    doc: dict[str, Any] = holder["doc"]
    return doc


# A self-contained page (no CDN): lists operations with their parameters and schemas.
DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Klinik API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}
.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;width:4.5rem;font-weight:bold;text-transform:uppercase}
.get{color:#1565c0}.post{color:#2e7d32}.put{color:#ef6c00}.patch{color:#6a1b9a}
.delete{color:#c62828}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:.8rem}
summary{cursor:pointer}</style></head>
<body><h1>Klinik WhatsApp booking API</h1>
<p>Machine-readable document: <a href="/openapi.json">/openapi.json</a>.
Authenticate with <code>POST /auth/login</code>, then send
<code>Authorization: Bearer &lt;access_token&gt;</code>.</p><div id="ops">Loading...</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const box = document.getElementById('ops'); box.textContent = '';
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const d = document.createElement('details'); d.className = 'op';
      const s = document.createElement('summary');
      const m = document.createElement('span'); m.className = 'm ' + method;
      m.textContent = method; s.appendChild(m);
      s.appendChild(document.createTextNode(path + ' - ' + op.summary +
        (op.description ? ' (' + op.description + ')' : '')));
      d.appendChild(s);
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify({parameters: op.parameters,
        requestBody: op.requestBody, responses: op.responses}, null, 2);
      d.appendChild(pre); box.appendChild(d);
    }
  }
  const h = document.createElement('h2'); h.textContent = 'Schemas'; box.appendChild(h);
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(doc.components.schemas, null, 2); box.appendChild(pre);
});
</script></body></html>
"""
