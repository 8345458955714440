"""Client of Rasa's REST channel (and, for the chat log, of its tracker API)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

# Rasa answers in ~60 ms idle but seconds under load (it is CPU-bound, ~25 msg/s on 2 cores).
RASA_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=3)
TRACKER_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)
ATTEMPTS = 3  # only connection failures are retried: a timed-out message may have been handled
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
HANDOFF_WORDS = ("handoff", "human", "agent")


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


@dataclass(slots=True)
class Understanding:
    """What Rasa made of the latest message (for the chat log and analytics)."""

    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    fallback: bool = False
    handoff: bool = False
    language: str | None = None


class RasaBridge:
    def __init__(self, session: aiohttp.ClientSession, base_url: str,
                 token: str | None = None) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        # Rasa's HTTP API (tracker, status) wants ?token= when it runs with --auth-token;
        # the REST channel webhook does not check it (it stays reachable from the app only).
        self.api_params = {"token": token} if token else {}

    async def send(self, sender: str, message: str, *, sender_name: str | None,
                   message_id: str | None) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": message,
                "metadata": {"senderName": sender_name, "messageId": message_id}}
        url = self.base_url + "/webhooks/rest/webhook"
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.session.post(url, json=body, timeout=RASA_TIMEOUT) as resp:
                    if resp.status != 200:
                        raise RasaUnavailable(f"rasa HTTP {resp.status}")
                    replies = await resp.json(content_type=None)
                    return [r for r in replies or [] if isinstance(r, dict)]
            except aiohttp.ClientConnectionError as exc:
                if attempt == ATTEMPTS or isinstance(exc, aiohttp.ServerTimeoutError):
                    raise RasaUnavailable(type(exc).__name__) from exc
                await asyncio.sleep(0.3 * attempt)
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise RasaUnavailable(type(exc).__name__) from exc
        raise RasaUnavailable("unreachable")  # pragma: no cover

    async def understanding(self, sender: str) -> Understanding:
        """Intent, confidence and entities of the sender's latest message (best effort)."""
        url = f"{self.base_url}/conversations/{quote(sender, safe='')}/tracker"
        try:
            async with self.session.get(url, params={"include_events": "NONE",
                                                     **self.api_params},
                                        timeout=TRACKER_TIMEOUT) as resp:
                if resp.status != 200:
                    return Understanding()
                tracker = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.debug("rasa tracker unavailable: %s", type(exc).__name__)
            return Understanding()
        return understanding_of(tracker)


def understanding_of(tracker: Any) -> Understanding:
    if not isinstance(tracker, dict):
        return Understanding()
    latest = tracker.get("latest_message") or {}
    intent = latest.get("intent") or {}
    name = intent.get("name")
    confidence = intent.get("confidence")
    entities = [{k: e.get(k) for k in ("entity", "value", "start", "end", "extractor",
                                       "confidence_entity", "role", "group") if k in e}
                for e in latest.get("entities") or [] if isinstance(e, dict)]
    action = tracker.get("latest_action_name") or ""
    slots = tracker.get("slots") or {}
    language = slots.get("language") if isinstance(slots.get("language"), str) else None
    handoff = any(w in (name or "") or w in action for w in HANDOFF_WORDS) or \
        bool(slots.get("handoff"))
    return Understanding(
        intent=name, confidence=float(confidence) if confidence is not None else None,
        entities=entities,
        fallback=name in FALLBACK_INTENTS or action in FALLBACK_ACTIONS,
        handoff=handoff, language=language)
