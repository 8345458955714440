"""Outbound Wati client on one shared aiohttp ClientSession.

v3 paths by default, v1 selectable. A 200 is "accepted", not "delivered"; a 200
whose body says result/ok/success false is a failure. Only transient failures
(timeouts, connection errors, 5xx, 429) are retried, with backoff and jitter,
honouring Retry-After; 4xx business errors never are. Numbers are masked in logs.
"""

from __future__ import annotations

import email.utils
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from booking.phone import mask_phone
from notify.whatsapp_messages import Buttons, ListMessage, Outgoing, Text

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=3, sock_connect=3, sock_read=10)
MAX_RETRY_AFTER_S = 30.0  # a longer Retry-After is the dispatcher's business (next run)


class WatiError(Exception):
    """A send Wati did not accept."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class WatiTransient(WatiError):
    """Worth retrying: timeout, connection error, 5xx, 429 (the outcome of a 5xx is unknown)."""


class WatiRejected(WatiError):
    """Permanent for this request: 4xx or a 200 whose body says it failed."""


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str | None           # the id status webhooks will carry
    ids: tuple[str, ...] = ()        # every id Wati returned (message id, local id, ...)
    raw: dict[str, Any] = field(default_factory=dict)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def business_failure(body: Any) -> str | None:
    """Why a 200 body is a failure, or None: result/ok/success false, per-recipient errors."""
    if not isinstance(body, dict):
        return None
    for key in ("result", "ok", "success"):
        value = body.get(key)
        if value is False or (isinstance(value, str) and value.lower() in ("false", "error")):
            detail = body.get("error") or body.get("info") or body.get("message") or key
            return f"{key}=false: {str(detail)[:200]}"
    for key in ("recipients", "receivers"):
        for rec in body.get(key) or []:
            if isinstance(rec, dict):
                if rec.get("errors"):
                    return f"recipient error: {str(rec['errors'])[:200]}"
                if rec.get("isValidWhatsAppNumber") is False:
                    return "not a valid WhatsApp number"
    return None


def _ids(body: Any) -> tuple[str, ...]:
    found: list[Any] = []
    if isinstance(body, dict):
        msg = body.get("message")
        if isinstance(msg, dict):
            found += [msg.get("id"), msg.get("local_message_id"), msg.get("localMessageId"),
                      msg.get("whatsappMessageId")]
        found += [body.get("id"), body.get("localMessageId"), body.get("local_message_id")]
        for key in ("recipients", "receivers"):
            for rec in body.get(key) or []:
                if isinstance(rec, dict):
                    found += [rec.get("local_message_id"), rec.get("localMessageId")]
    return tuple(dict.fromkeys(str(i) for i in found if i))


class WatiClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, *,
                 version: str = "v3", attempts: int = 3, backoff_s: float = 0.2,
                 backoff_max_s: float = 5.0,
                 timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        if version not in ("v1", "v3"):
            raise ValueError("version must be v1 or v3")
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.timeout = timeout
        self._auth = token if token.lower().startswith("bearer ") else f"Bearer {token}"

    # ---- public sends ------------------------------------------------------------------
    async def send(self, to: str, message: Outgoing) -> SendResult:
        if isinstance(message, Text):
            return await self.send_text(to, message.text)
        if isinstance(message, Buttons):
            return await self.send_buttons(to, message)
        return await self.send_list(to, message)

    async def send_text(self, to: str, text: str) -> SendResult:
        if self.version == "v3":
            return await self._post("/api/ext/v3/conversations/messages/text", to,
                                    json={"target": to, "text": text})
        form = aiohttp.FormData()
        form.add_field("messageText", text)
        return await self._post(f"/api/v1/sendSessionMessage/{to}", to, data=form)

    async def send_buttons(self, to: str, msg: Buttons) -> SendResult:
        if self.version == "v3":
            bm: dict[str, Any] = {"body": msg.body, "buttons": [{"text": b} for b in msg.buttons]}
            if msg.header:
                bm["header"] = {"type": "text", "text": msg.header}
            if msg.footer:
                bm["footer"] = msg.footer
            return await self._post("/api/ext/v3/conversations/messages/interactive", to,
                                    json={"target": to, "type": "buttons", "button_message": bm})
        body: dict[str, Any] = {"body": msg.body, "buttons": [{"text": b} for b in msg.buttons]}
        if msg.header:
            body["header"] = {"type": "Text", "text": msg.header}
        if msg.footer:
            body["footer"] = msg.footer
        return await self._post("/api/v1/sendInteractiveButtonsMessage", to,
                                 params={"whatsappNumber": to}, json=body)

    async def send_list(self, to: str, msg: ListMessage) -> SendResult:
        rows = [{"title": r.title, **({"description": r.description} if r.description else {})}
                for r in msg.rows]
        sections = [{"title": msg.section_title, "rows": rows}]
        if self.version == "v3":
            lm = {"header": msg.header or "", "body": msg.body, "footer": msg.footer or "",
                  "button_text": msg.button_text, "sections": sections}
            return await self._post("/api/ext/v3/conversations/messages/interactive", to,
                                    json={"target": to, "type": "list", "list_message": lm})
        body = {"header": msg.header or "", "body": msg.body, "footer": msg.footer or "",
                "buttonText": msg.button_text, "sections": sections}
        return await self._post("/api/v1/sendInteractiveListMessage", to,
                                params={"whatsappNumber": to}, json=body)

    async def send_template(self, to: str, template: str, params: dict[str, str], *,
                            broadcast_name: str, local_message_id: str) -> SendResult:
        named = [{"name": k, "value": str(v)} for k, v in params.items()]
        if self.version == "v3":
            body = {"template_name": template, "broadcast_name": broadcast_name,
                    "recipients": [{"phone_number": to, "local_message_id": local_message_id,
                                    "custom_params": named}]}
            result = await self._post("/api/ext/v3/messageTemplates/send", to, json=body)
        else:
            body = {"template_name": template, "broadcast_name": broadcast_name,
                    "parameters": named}
            result = await self._post("/api/v1/sendTemplateMessage", to,
                                      params={"whatsappNumber": to}, json=body)
        ids = tuple(dict.fromkeys((*result.ids, local_message_id)))
        # Status webhooks of templates carry our localMessageId: that is the id to match.
        message_id = local_message_id if local_message_id in ids else result.message_id
        return SendResult(message_id, ids, result.raw)

    async def assign_operator(self, to: str, email: str | None) -> SendResult:
        """Hand the conversation to a person in Wati's inbox (email), or back to the bot
        (None). v3: PUT /api/ext/v3/conversations/{target}/operator {"assignee_email": ...};
        v1: POST /api/v1/assignOperator?email=&whatsappNumber= (no email = the bot)."""
        if self.version == "v3":
            return await self._post(f"/api/ext/v3/conversations/{to}/operator", to,
                                    method="PUT", json={"assignee_email": email})
        params = {"whatsappNumber": to, **({"email": email} if email else {})}
        return await self._post("/api/v1/assignOperator", to, params=params)

    # ---- transport --------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, WatiError) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER_S)
        ceiling = min(self.backoff_max_s, self.backoff_s * 2 ** (state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)

    async def _post(self, path: str, to: str, method: str = "POST", **kwargs: Any
                    ) -> SendResult:
        retrying = AsyncRetrying(stop=stop_after_attempt(self.attempts), wait=self._wait,
                                 retry=retry_if_exception_type(WatiTransient), reraise=True)
        async for attempt in retrying:
            with attempt:
                return await self._post_once(path, to, attempt.retry_state.attempt_number,
                                             method, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post_once(self, path: str, to: str, attempt: int, method: str = "POST",
                         **kwargs: Any) -> SendResult:
        url = self.base_url + path
        headers = {"Authorization": self._auth}
        try:
            async with self.session.request(method, url, headers=headers,
                                            timeout=self.timeout, **kwargs) as resp:
                try:
                    body: Any = await resp.json(content_type=None)
                except ValueError:
                    body = None
                status = resp.status
                retry_after = _retry_after(resp.headers.get("Retry-After"))
        except TimeoutError as exc:
            log.warning("wati %s to %s timed out (attempt %d)", _op(path), mask_phone(to),
                        attempt)
            raise WatiTransient("timeout") from exc
        except aiohttp.ClientError as exc:
            log.warning("wati %s to %s failed: %s (attempt %d)", _op(path), mask_phone(to),
                        type(exc).__name__, attempt)
            raise WatiTransient(f"connection error: {type(exc).__name__}") from exc
        if status == 429 or status >= 500:
            log.warning("wati %s to %s: HTTP %d (attempt %d)", _op(path), mask_phone(to),
                        status, attempt)
            raise WatiTransient(f"HTTP {status}", status=status, retry_after=retry_after)
        if status >= 400:
            detail = body.get("message") if isinstance(body, dict) else None
            log.warning("wati %s to %s rejected: HTTP %d", _op(path), mask_phone(to), status)
            raise WatiRejected(f"HTTP {status}: {str(detail or '')[:200]}", status=status)
        failure = business_failure(body)
        if failure:
            log.warning("wati %s to %s not accepted: %s", _op(path), mask_phone(to), failure)
            raise WatiRejected(failure, status=status)
        ids = _ids(body)
        log.debug("wati %s to %s accepted", _op(path), mask_phone(to))
        return SendResult(ids[0] if ids else None, ids, body if isinstance(body, dict) else {})


def _op(path: str) -> str:
    """The operation name of a path, without the number (v1 puts it in the path)."""
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        if part.startswith("send") or part in ("text", "interactive"):
            return part
        if part == "messageTemplates" and i + 1 < len(parts):
            return "template"
    return parts[-1] if parts else path
