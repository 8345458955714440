"""Operator injection: `{"$ne": null}`, `{"$gt": ""}`, `{"$where": ...}` and arrays where a
string belongs, in every body field and query parameter of every operation of the OpenAPI
document (so a new route is covered by construction), and in path ids. Every one is a 422
naming the field (or a 404 for an id): never a query, never a match."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

OPERATORS: list[Any] = [{"$ne": None}, {"$gt": ""}, {"$where": "sleep(1000) || true"}]
ARRAY = ["rina@test.id"]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(doc, doc["components"]["schemas"][ref.rsplit("/", 1)[1]])
    return schema


def _types(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = _resolve(doc, schema)
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    found: set[str] = set()
    for option in options:
        option = _resolve(doc, option)
        if "type" in option:
            found.add(option["type"])
        elif "enum" in option or "const" in option:
            found.add("string")
    return found


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in doc["paths"].items()
            for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]


async def _call(api: Api, method: str, path: str, **kwargs: Any) -> Any:
    """As admin; routes only patients may call refuse admins (403) before reading the body."""
    resp = await api.client.request(method, path, headers=api.headers(api.seed.admin),
                                    **kwargs)
    if resp.status == 403:
        resp = await api.client.request(method, path, headers=api.headers(api.seed.patient),
                                        **kwargs)
    return resp


def _path(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


def _names_field(body: dict[str, Any], field: str) -> bool:
    return any(field in [str(p) for p in err["loc"]] for err in body["details"]["errors"])


async def test_operator_injection_in_every_body_field(api: Api) -> None:
    doc = await (await api.client.get("/openapi.json")).json()
    ids = {"doctor_id": api.seed.doctor.id, "user_id": api.seed.patient.id,
           "booking_id": "bk-missing", "handoff_id": "0" * 32, "entry_id": "0" * 32}
    tried = 0
    for method, path, op in _operations(doc):
        if "requestBody" not in op:
            continue
        schema = _resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])
        for field, prop in schema.get("properties", {}).items():
            kinds = _types(doc, prop)
            payloads = [p for p in OPERATORS if "object" not in kinds]
            payloads += [ARRAY] if "array" not in kinds else [[{"$ne": None}]]
            for payload in payloads:
                resp = await _call(api, method, _path(path, ids), json={field: payload})
                label = f"{method} {path} {field}={payload}"
                assert resp.status == 422, label + " " + await resp.text()
                body = await resp.json()
                assert body["error"] == "validation_error" and _names_field(body, field), label
                tried += 1
    assert tried >= 150  # every field of every body, several payloads each


async def test_operator_injection_in_every_query_parameter(api: Api) -> None:
    doc = await (await api.client.get("/openapi.json")).json()
    ids = {"doctor_id": api.seed.doctor.id, "user_id": api.seed.patient.id,
           "booking_id": "bk-missing", "handoff_id": "0" * 32, "entry_id": "0" * 32}
    tried = 0
    for method, path, op in _operations(doc):
        for param in op.get("parameters", []):
            if param["in"] != "query":
                continue
            name = param["name"]
            # PHP/Express-style operator keys (?email[$ne]=) are unknown parameters here
            resp = await _call(api, method, _path(path, ids), params={f"{name}[$ne]": "x"})
            assert resp.status == 422, f"{method} {path} {name}[$ne]"
            assert (await resp.json())["error"] == "validation_error"
            tried += 1
    assert tried >= 15


async def test_operator_text_in_a_search_is_a_literal(api: Api) -> None:
    for text in ('{"$ne": null}', ".*", "^dr", "$where"):
        resp = await api.client.get("/doctors", params={"q": text})
        assert resp.status == 200
        assert (await resp.json())["total"] == 0, text  # matches no name, not every name


async def test_operator_injection_in_path_ids(api: Api) -> None:
    for raw in ('{"$ne":null}', "[$ne]", "$where"):
        for path in (f"/bookings/{raw}", f"/users/{raw}", f"/doctors/{raw}"):
            resp = await api.client.get(path, headers=api.headers(api.seed.admin))
            assert resp.status == 404, path
