"""Admin endpoints of NLU retraining.

- GET  /admin/nlu/review  -> the review file (Rasa NLU YAML) built from chat_logs, as a
  download; query: days (1-90, default 7) or since/until (ISO dates), threshold (0-1).
- POST /admin/nlu/review  -> same, also saved under reports/nlu/review/; JSON summary
  {file, messages, groups, by_intent, reasons, yaml}.
- GET  /admin/nlu/report  -> the latest retraining report (Markdown; ?format=json for the
  figures). 404 until a retrain ran.

Wire with `bot.retrain.routes.setup(app)` (admin role required on every route).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from app.http.auth import requires
from app.http.errors import error_response
from app.internal import INTERNAL_APP, internal_app
from app.keys import SETTINGS, STORE
from booking.errors import StoreUnavailable
from bot.retrain import admin, model_server, nlu_yaml
from bot.retrain.jobs import JobConfig, TrainingJobs
from bot.retrain.pii import PiiContext
from bot.retrain.project import Project
from bot.retrain.promote import LATEST_JSON, LATEST_MD
from bot.retrain.review import Review, ReviewOptions, build_review

log = logging.getLogger(__name__)

PROJECT = web.AppKey("retrain_project", Project)
JOB_CONFIG = web.AppKey("retrain_job_config", JobConfig)
STORIES = "tests/rasa/test_stories.yml"   # the conversation suite the gate runs
MAX_DAYS = 90


class BadQuery(ValueError):
    """A query parameter is out of range or not parseable."""


def _parse_dt(value: str, name: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadQuery(f"{name} must be an ISO date or datetime") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def review_query(params: dict[str, str], now: datetime
                 ) -> tuple[datetime, datetime, ReviewOptions]:
    """Pure: the time window and options of a review request."""
    until = _parse_dt(params["until"], "until") if params.get("until") else now
    if params.get("since"):
        since = _parse_dt(params["since"], "since")
    else:
        try:
            days = int(params.get("days", "7"))
        except ValueError as exc:
            raise BadQuery("days must be an integer") from exc
        if not 1 <= days <= MAX_DAYS:
            raise BadQuery(f"days must be between 1 and {MAX_DAYS}")
        since = until - timedelta(days=days)
    if since >= until or until - since > timedelta(days=MAX_DAYS):
        raise BadQuery(f"since must be before until, at most {MAX_DAYS} days apart")
    try:
        threshold = float(params.get("threshold", ReviewOptions.low_confidence))
    except ValueError as exc:
        raise BadQuery("threshold must be a number") from exc
    if not 0.0 <= threshold <= 1.0:
        raise BadQuery("threshold must be between 0 and 1")
    return since, until, ReviewOptions(low_confidence=threshold)


async def _build(request: web.Request) -> tuple[Review, datetime]:
    now = datetime.now(UTC)
    since, until, opts = review_query(dict(request.query), now)
    rs = request.config_dict[STORE].retrain
    logs = await rs.inbound_messages(since, until)
    ctx = await rs.masking_context(sorted({str(d.get("wa_id")) for d in logs}))
    pii = PiiContext.build(ctx["names"], ctx["doctors"], ctx["refs"])
    period = f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
    # Grouping is CPU work (pairwise similarity): keep it off the event loop.
    review = await asyncio.to_thread(build_review, logs, pii, opts, now=now, period=period)
    return review, now


async def _review_or_error(request: web.Request) -> tuple[Review, datetime] | web.Response:
    try:
        return await _build(request)
    except BadQuery as exc:
        return error_response(422, "invalid_input", str(exc))
    except StoreUnavailable as exc:
        log.warning("nlu review unavailable: %s", exc.message)
        return error_response(503, exc.code, "the database is unavailable, try again")


@requires("admin")
async def get_review(request: web.Request) -> web.Response:
    built = await _review_or_error(request)
    if isinstance(built, web.Response):
        return built
    review, now = built
    name = f"review-{now:%Y%m%dT%H%M%SZ}.yml"
    return web.Response(text=review.yaml, content_type="application/x-yaml", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Review-Messages": str(review.messages), "X-Review-Groups": str(len(review.groups))})


@requires("admin")
async def post_review(request: web.Request) -> web.Response:
    built = await _review_or_error(request)
    if isinstance(built, web.Response):
        return built
    review, now = built
    project = request.app[PROJECT]
    path = project.review_dir / f"review-{now:%Y%m%dT%H%M%SZ}.yml"
    await asyncio.to_thread(nlu_yaml.write_text_atomic, path, review.yaml)
    body: dict[str, Any] = {**review.summary(), "file": str(path), "yaml": review.yaml}
    return web.json_response(body, status=201, headers={"Cache-Control": "no-store"})


@requires("admin")
async def get_report(request: web.Request) -> web.Response:
    project = request.app[PROJECT]
    as_json = request.query.get("format") == "json"
    path = project.reports_dir / (LATEST_JSON if as_json else LATEST_MD)
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except FileNotFoundError:
        return error_response(404, "not_found", "no retraining report yet")
    if as_json:
        return web.json_response(json.loads(text), headers={"Cache-Control": "no-store"})
    return web.Response(text=text, content_type="text/markdown", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


def setup(app: web.Application, project: Project | None = None,
          config: JobConfig | None = None) -> None:
    """Add the admin NLU routes (review, report, inbox, jobs, models) and, on the internal
    listener, the model server; `project` defaults to this repository's assistant."""
    app[PROJECT] = project or Project.at()
    stories = app[PROJECT].root / STORIES
    app[JOB_CONFIG] = config or JobConfig(app[PROJECT],
                                          stories=stories if stories.exists() else None)
    app.router.add_get("/admin/nlu/review", get_review)
    app.router.add_post("/admin/nlu/review", post_review)
    app.router.add_get("/admin/nlu/report", get_report)
    admin.add_routes(app)
    if INTERNAL_APP in app:
        model_server.add_internal_route(internal_app(app))
    app.cleanup_ctx.append(nlu_ctx)


async def nlu_ctx(app: web.Application) -> AsyncIterator[None]:
    """Training jobs need the store (up once the core context ran); the base model is
    served when nothing was promoted yet."""
    store = app[STORE]
    jobs = TrainingJobs(store, app[JOB_CONFIG])
    app[admin.JOBS] = jobs
    settings = app.get(SETTINGS)
    try:
        await model_server.bootstrap(store, settings.nlu_base_model if settings else None)
    except StoreUnavailable as exc:
        log.warning("base NLU model not stored (%s)", exc.code)
    yield
    await jobs.close()
