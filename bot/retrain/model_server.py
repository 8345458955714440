"""The model server Rasa pulls from: `GET /models/current.tar.gz` on the internal listener.

Rasa 3.6 (`rasa/core/agent.py`, `_pull_model_and_fingerprint`) sends the ETag of the model it
runs as `If-None-Match` every `wait_time_between_pulls` seconds; 204/304 (or 404) keep the
model, a 200 is saved under the `filename` header and loaded, and its `ETag` becomes the
next fingerprint. So the ETag here is the served model's sha256: a promotion or a rollback
changes it and every replica loads the model at its next pull, without a restart.

The route needs `Authorization: Bearer <ACTIONS_TOKEN>` (the secret Rasa already holds for
the actions endpoint on the same listener; a header keeps it out of access logs).
`bootstrap` puts NLU_BASE_MODEL into the store and serves it when nothing was promoted yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from app.internal import bearer_ok, unauthorized
from app.keys import SETTINGS, STORE
from booking.store import Store

log = logging.getLogger(__name__)

PATH = "/models/current.tar.gz"


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison; Rasa sends back exactly the ETag it got."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.strip('"')
    for tag in if_none_match.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag == wanted:
            return True
    return False


async def current_model(request: web.Request) -> web.StreamResponse:
    if not bearer_ok(request, request.app[SETTINGS].actions_token.get_secret_value()):
        return unauthorized()
    store: Store = request.app[STORE]
    serving = await store.nlu_models.serving()
    if not serving:
        return web.json_response({"error": "no_model", "message": "no model is served yet"},
                                 status=404)
    etag = etag_of(str(serving["sha256"]))
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    model_id = str(serving["model_id"])
    resp = web.StreamResponse(headers={
        **headers, "Content-Type": "application/gzip",
        "Content-Length": str(int(serving["size"])), "filename": f"{model_id}.tar.gz"})
    await resp.prepare(request)
    for n in range(int(serving.get("chunks") or 0)):
        await resp.write(await store.nlu_models.model_chunk(model_id, n))
    await resp.write_eof()
    return resp


def _sha_prefix(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


async def bootstrap(store: Store, base_model: str | None) -> str | None:
    """Serve the base model when no model was promoted yet, or when the served model is an
    older base model (the assistant changed; a promoted retrained model is kept). Idempotent
    and race-safe (several app processes may start at once). Returns the served model id."""
    serving = await store.nlu_models.serving()
    current = str(serving["model_id"]) if serving else None
    if not base_model:
        return current
    path = Path(base_model)
    if not path.is_file():
        log.warning("NLU_BASE_MODEL %s is not a file: nothing new served", path)
        return current
    model_id = f"base-{await asyncio.to_thread(_sha_prefix, path)}"
    if current is not None and (current == model_id or not current.startswith("base-")):
        return current
    model = await store.nlu_models.get_model(model_id)
    if model is None:
        model = await store.nlu_models.put_model(model_id, path, {
            "created_at": datetime.now(UTC), "job_id": None, "source": path.name,
            "gate": {"passed": True, "reasons": [], "base": True}})
    done = await store.nlu_models.set_serving(
        model, current, {"action": "bootstrap", "by": "system", "at": datetime.now(UTC),
                         "gate": {"base": True}})
    if done is None:
        serving = await store.nlu_models.serving()
        return str(serving["model_id"]) if serving else None
    log.info("serving the base NLU model %s (%s)", model_id, path.name)
    return model_id


def add_internal_route(internal: web.Application) -> None:
    internal.router.add_get(PATH, current_model)
