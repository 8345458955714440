"""Client of Rasa's REST channel.

What Rasa understood of a message (for the chat log and analytics) comes inside the reply:
the actions add a turn report (actions/turn.py) that `split_turn` takes out. Only an action
server that sends none (an older deployment) makes the gateway read the tracker instead.

With several Rasa replicas (RASA_URLS) each WhatsApp number goes to one replica, chosen by
rendezvous hashing of the number: the same patient always reaches the same replica, so
their messages are handled in order there (Rasa 3.6's Redis lock store is not atomic
across replicas: the stickiness is what keeps one patient's turns serial), and adding or
removing a replica moves only the patients of that replica. When a replica does not
answer, the patient moves to the next replica of their ranking, which continues the
conversation from the shared tracker store (Redis)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
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
TURN_KEY = "klinik_turn"  # actions/turn.py sends it (tests/bot checks both agree)


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


class RasaDown(RasaUnavailable):
    """This replica cannot be reached at all (the next replica may take the patient)."""


@dataclass(slots=True)
class Understanding:
    """What Rasa made of the latest message (for the chat log and analytics)."""

    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    fallback: bool = False
    handoff: bool = False
    language: str | None = None
    refs: list[str] = field(default_factory=list)  # booking codes this turn told the patient


def split_turn(replies: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Understanding | None]:
    """The messages for the patient, and the turn report(s) merged (None: the actions sent
    none)."""
    messages: list[dict[str, Any]] = []
    found: Understanding | None = None
    for reply in replies:
        custom = reply.get("custom") if isinstance(reply, dict) else None
        part = custom.get(TURN_KEY) if isinstance(custom, dict) else None
        if not isinstance(part, dict):
            messages.append(reply)
            continue
        u = found = found or Understanding()
        if isinstance(part.get("intent"), str):
            u.intent = part["intent"]
            u.fallback = u.fallback or part["intent"] in FALLBACK_INTENTS
        if isinstance(part.get("confidence"), int | float):
            u.confidence = float(part["confidence"])
        if isinstance(part.get("entities"), list):
            u.entities = [e for e in part["entities"] if isinstance(e, dict)]
        if isinstance(part.get("language"), str):
            u.language = part["language"]
        u.handoff = u.handoff or part.get("handoff") is True
        u.fallback = u.fallback or part.get("fallback") is True
        u.refs += [r for r in part.get("refs") or [] if isinstance(r, str) and r not in u.refs]
    return messages, found


def ranked(urls: Sequence[str], sender: str) -> list[str]:
    """The replicas in the order this sender tries them (rendezvous / highest-random-weight
    hashing): stable per sender, spread evenly, and a replica's removal moves only its own
    senders, each to their own second choice."""
    def weight(url: str) -> bytes:
        return hashlib.blake2b(f"{url}|{sender}".encode(), digest_size=8).digest()

    return sorted(urls, key=weight, reverse=True)


class RasaBridge:
    def __init__(self, session: aiohttp.ClientSession, base_urls: str | Sequence[str],
                 token: str | None = None) -> None:
        self.session = session
        self.urls = [u.rstrip("/") for u in ([base_urls] if isinstance(base_urls, str)
                                             else base_urls)]
        # Rasa's HTTP API (tracker, status) wants ?token= when it runs with --auth-token;
        # the REST channel webhook does not check it (it stays reachable from the app only).
        self.api_params = {"token": token} if token else {}
        self._last: dict[str, str] = {}  # sender -> replica that answered them last

    @property
    def base_url(self) -> str:
        return self.urls[0]

    @base_url.setter
    def base_url(self, url: str) -> None:
        self.urls = [url.rstrip("/")]

    async def send(self, sender: str, message: str, *, sender_name: str | None,
                   message_id: str | None) -> list[dict[str, Any]]:
        """The sender's replica answers; if it cannot be reached, the next one in their
        ranking (a timed-out message is not resent: it may have been handled)."""
        body = {"sender": sender, "message": message,
                "metadata": {"senderName": sender_name, "messageId": message_id}}
        failures = []
        for base in ranked(self.urls, sender):
            try:
                replies = await self._post(base, body)
            except RasaDown as exc:
                failures.append(f"{base}: {exc}")
                log.warning("rasa replica unreachable, moving the patient on: %s", exc)
                continue
            self._last[sender] = base
            return replies
        raise RasaUnavailable("; ".join(failures) or "no rasa replica")

    async def _post(self, base: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        url = base + "/webhooks/rest/webhook"
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.session.post(url, json=body, timeout=RASA_TIMEOUT) as resp:
                    if resp.status >= 500 and resp.status != 504:
                        raise RasaDown(f"HTTP {resp.status}")
                    if resp.status != 200:
                        raise RasaUnavailable(f"rasa HTTP {resp.status}")
                    replies = await resp.json(content_type=None)
                    return [r for r in replies or [] if isinstance(r, dict)]
            except aiohttp.ClientConnectionError as exc:
                if isinstance(exc, aiohttp.ServerTimeoutError):
                    raise RasaUnavailable(type(exc).__name__) from exc
                if attempt == ATTEMPTS:
                    raise RasaDown(type(exc).__name__) from exc
                await asyncio.sleep(0.3 * attempt)
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise RasaUnavailable(type(exc).__name__) from exc
        raise RasaDown("unreachable")  # pragma: no cover

    async def forget(self, sender: str) -> bool:
        """Empty the sender's conversation in Rasa's tracker store (an erasure): Rasa's HTTP
        API replaces the tracker's events with none. Best effort: False when no replica
        did it (the tracker store's own expiry then applies)."""
        for base in ranked(self.urls, sender):
            url = f"{base}/conversations/{quote(sender, safe='')}/tracker/events"
            try:
                async with self.session.put(url, json=[], params=self.api_params,
                                            timeout=TRACKER_TIMEOUT) as resp:
                    if resp.status == 200:
                        return True
                    log.warning("rasa did not forget a conversation: HTTP %s", resp.status)
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.warning("rasa replica unreachable to forget a conversation: %s",
                            type(exc).__name__)
        return False

    async def understanding(self, sender: str) -> Understanding:
        """Intent, confidence and entities of the sender's latest message (best effort)."""
        base = self._last.pop(sender, None) or ranked(self.urls, sender)[0]
        url = f"{base}/conversations/{quote(sender, safe='')}/tracker"
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
