"""Admin API of the NLU inbox, training jobs and the model store (admin role on every route).

- GET  /admin/nlu/inbox                    groups, most frequent first; ?state=open|labelled|
                                           ignored, ?limit (1-200), ?offset; plus the intents
                                           and entities a label may use
- POST /admin/nlu/inbox/{group_id}/label   {"intent": "...", "entities": [{"start", "end",
                                           "entity"[, "value"]}]} (spans in the group's
                                           masked text) or {"ignore": true}; {"reopen": true}
- POST /admin/nlu/retrain                  starts a training job: 202 {id}; 409 when one runs
- GET  /admin/nlu/jobs/{job_id}            state, phase, logs tail, gate results, model id
- GET  /admin/nlu/models                   stored models, the served one, the audit trail
- POST /admin/nlu/models/{model_id}/promote  serve it (refused, 409, when its gate failed)
- POST /admin/nlu/rollback                 serve the model served before the current one

Every promotion and rollback is audited (who, when, which model, its gate figures); Rasa
replicas pick the served model up from the model server (bot/retrain/model_server.py).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import web

from app.http.auth import principal_of, requires
from app.http.errors import error_response
from app.keys import STORE
from booking.catalog import CITIES, SPECIALTIES
from booking.store import Store
from booking.store_nlu_models import utcnow
from bot.retrain.inbox import LabelRejected, check_label
from bot.retrain.jobs import TrainingJobs

log = logging.getLogger(__name__)

JOBS = web.AppKey("nlu_training_jobs", TrainingJobs)
ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
MAX_BODY = 16 * 1024
NO_STORE = {"Cache-Control": "no-store"}
# Canonical entity values (the synonyms' targets, from booking/catalog.py) a label may give.
CATALOGUE = {"specialty": sorted(s.code for s in SPECIALTIES),
             "city": sorted(c.name for c in CITIES)}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=NO_STORE,
                             dumps=lambda d: json.dumps(d, default=str))


def _id(request: web.Request, name: str) -> str | None:
    value = request.match_info.get(name, "")
    return value if ID.match(value) else None


def _bad_id(name: str) -> web.Response:
    return error_response(422, "invalid_input", f"{name} is not a valid id")


def _group_view(g: dict[str, Any]) -> dict[str, Any]:
    intents = g.get("intents") or {}
    predicted = max(intents.items(), key=lambda kv: kv[1])[0] if intents else None
    return {"id": g["_id"], "text": g.get("text"), "example": g.get("example"),
            "count": g.get("count", 0), "senders": len(g.get("senders") or []),
            "predicted_intent": predicted, "intents": intents,
            "confidence": {"min": g.get("conf_min"), "max": g.get("conf_max")},
            "reasons": g.get("reasons") or {}, "variants": g.get("variants") or [],
            "first_at": g.get("first_at"), "last_at": g.get("last_at"),
            "state": g.get("state"), "label": g.get("label")}


def _int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise LabelRejected(f"{name} must be an integer between {lo} and {hi}")
    return int(raw)


def _jobs(request: web.Request) -> TrainingJobs:
    return request.app[JOBS]


def _store(request: web.Request) -> Store:
    return request.config_dict[STORE]


@requires("admin")
async def get_inbox(request: web.Request) -> web.Response:
    try:
        state = request.query.get("state", "open")
        if state not in ("open", "labelled", "ignored"):
            raise LabelRejected("state must be open, labelled or ignored")
        limit = _int_param(request, "limit", 50, 1, 200)
        offset = _int_param(request, "offset", 0, 0, 100_000)
    except LabelRejected as exc:
        return error_response(422, "invalid_input", str(exc))
    store = _store(request)
    groups, total = await store.nlu_inbox.list_groups(state, limit, offset)
    know = _jobs(request).knowledge
    return _json({"groups": [_group_view(g) for g in groups], "total": total,
                  "counts": await store.nlu_inbox.counts(), "intents": know.intents,
                  "entities": sorted(know.domain.entities),
                  "values": {k: v for k, v in CATALOGUE.items() if k in know.domain.entities}})


async def _body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise LabelRejected("body too large")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise LabelRejected("body too large")
    try:
        return json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise LabelRejected("body must be JSON") from exc


@requires("admin")
async def post_label(request: web.Request) -> web.Response:
    group_id = _id(request, "group_id")
    if group_id is None:
        return _bad_id("group id")
    store = _store(request)
    try:
        body = await _body(request)
        group = await store.nlu_inbox.get_group(group_id)
        if group is None:
            return error_response(404, "not_found", "no such inbox group")
        if body == {"reopen": True}:
            state, label = "open", None
        else:
            label = check_label(group, body, _jobs(request).knowledge)
            state = "ignored" if label.get("ignore") else "labelled"
    except LabelRejected as exc:
        return error_response(422, "invalid_input", str(exc))
    if label is not None:
        label = {**label, "by": principal_of(request).user_id, "at": utcnow()}
    updated = await store.nlu_inbox.set_label(group_id, state, label)
    if updated is None:
        return error_response(404, "not_found", "no such inbox group")
    return _json(_group_view(updated))


@requires("admin")
async def post_retrain(request: web.Request) -> web.Response:
    job = await _jobs(request).start(principal_of(request).user_id)
    if job is None:
        return error_response(409, "job_running", "a training job is running; wait for it")
    return _json({"id": job["_id"], "state": job["state"],
                  "url": f"/admin/nlu/jobs/{job['_id']}"}, status=202)


def _job_view(job: dict[str, Any]) -> dict[str, Any]:
    return {"id": job["_id"], "state": job.get("state"), "phase": job.get("phase"),
            "by": job.get("by"), "created_at": job.get("created_at"),
            "finished_at": job.get("finished_at"), "heartbeat_at": job.get("heartbeat_at"),
            "logs": job.get("logs") or [], "error": job.get("error"),
            "model_id": job.get("model_id"), "gate": job.get("gate"),
            "examples": job.get("examples"), "left_out": job.get("left_out") or []}


@requires("admin")
async def get_job(request: web.Request) -> web.Response:
    job_id = _id(request, "job_id")
    if job_id is None:
        return _bad_id("job id")
    job = await _jobs(request).get(job_id)
    if job is None:
        return error_response(404, "not_found", "no such job")
    return _json(_job_view(job))


def _model_view(m: dict[str, Any], serving: dict[str, Any] | None) -> dict[str, Any]:
    gate = m.get("gate") or {}
    after = gate.get("after") or {}
    before = gate.get("before") or {}
    return {"id": m["_id"], "created_at": m.get("created_at"), "size": m.get("size"),
            "sha256": m.get("sha256"), "job_id": m.get("job_id"),
            "served": bool(serving and serving.get("model_id") == m["_id"]),
            "gate": {"passed": bool(gate.get("passed")), "reasons": gate.get("reasons", []),
                     "baseline": gate.get("baseline"),
                     "intent_macro_f1": {"before": before.get("intent_macro_f1"),
                                         "after": after.get("intent_macro_f1")},
                     "entity_f1": {"before": before.get("entity_f1"),
                                   "after": after.get("entity_f1")},
                     "report": gate.get("report")}}


@requires("admin")
async def get_models(request: web.Request) -> web.Response:
    store = _store(request)
    serving = await store.nlu_models.serving()
    models = await store.nlu_models.list_models()
    served = next((m for m in models if serving and m["_id"] == serving.get("model_id")), None)
    since = served.get("labels_at") if served and served.get("job_id") else None
    changes, changed = await store.nlu_inbox.labelled_since(since)
    return _json({"serving": {k: serving.get(k) for k in ("model_id", "sha256", "at",
                                                          "history")} if serving else None,
                  "models": [_model_view(m, serving) for m in models],
                  # labels a new job would add to the served model (all when it is the base)
                  "since_served": {"labels": changed, "examples": [
                      {"text": c.get("text"), "intent": (c.get("label") or {}).get("intent"),
                       "example": (c.get("label") or {}).get("example")} for c in changes]},
                  "audit": await store.nlu_models.audit_log()})


def _audit(request: web.Request, action: str, model: dict[str, Any]) -> dict[str, Any]:
    gate = model.get("gate") or {}
    return {"action": action, "by": principal_of(request).user_id, "at": utcnow(),
            "gate": {"passed": gate.get("passed"), "reasons": gate.get("reasons", []),
                     "intent_macro_f1": (gate.get("after") or {}).get("intent_macro_f1"),
                     "entity_f1": (gate.get("after") or {}).get("entity_f1")}}


@requires("admin")
async def post_promote(request: web.Request) -> web.Response:
    model_id = _id(request, "model_id")
    if model_id is None:
        return _bad_id("model id")
    store = _store(request)
    model = await store.nlu_models.get_model(model_id)
    if model is None:
        return error_response(404, "not_found", "no such model")
    gate = model.get("gate") or {}
    if not gate.get("passed"):
        return error_response(409, "gate_failed", "this model failed the regression gate "
                              "and cannot be promoted", {"reasons": gate.get("reasons", [])})
    serving = await store.nlu_models.serving()
    current = serving.get("model_id") if serving else None
    if current == model_id:
        return _json({"serving": model_id, "previous": None, "changed": False})
    done = await store.nlu_models.set_serving(model, current, _audit(request, "promote", model))
    if done is None:
        return error_response(409, "conflict", "the served model changed meanwhile; reload")
    log.info("nlu model %s promoted by %s", model_id, principal_of(request).user_id)
    return _json({"serving": model_id, "previous": current, "changed": True})


@requires("admin")
async def post_rollback(request: web.Request) -> web.Response:
    store = _store(request)
    serving = await store.nlu_models.serving()
    history = (serving or {}).get("history") or []
    if not serving or not history:
        return error_response(409, "nothing_to_roll_back", "no earlier model was served")
    previous = await store.nlu_models.get_model(str(history[-1]))
    if previous is None:
        return error_response(409, "nothing_to_roll_back", "the earlier model is gone")
    done = await store.nlu_models.set_serving(previous, serving["model_id"],
                                              _audit(request, "rollback", previous),
                                              rollback=True)
    if done is None:
        return error_response(409, "conflict", "the served model changed meanwhile; reload")
    log.info("nlu model rolled back to %s by %s", previous["_id"],
             principal_of(request).user_id)
    return _json({"serving": previous["_id"], "rolled_back": serving["model_id"]})


def add_routes(app: web.Application) -> None:
    """The routes; app[JOBS] is set when the app starts (bot.retrain.routes.nlu_ctx)."""
    r = app.router
    r.add_get("/admin/nlu/inbox", get_inbox)
    r.add_post("/admin/nlu/inbox/{group_id}/label", post_label)
    r.add_post("/admin/nlu/retrain", post_retrain)
    r.add_get("/admin/nlu/jobs/{job_id}", get_job)
    r.add_get("/admin/nlu/models", get_models)
    r.add_post("/admin/nlu/models/{model_id}/promote", post_promote)
    r.add_post("/admin/nlu/rollback", post_rollback)
