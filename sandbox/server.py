"""The Wati sandbox server: Wati's send endpoints (v3 and v1), status webhooks, faults on demand
and a WhatsApp-like chat page.

It answers like Wati (200 = accepted; v1 business failures as 200 with result false;
v3 per-recipient errors), records every accepted send, sends the app the same
webhooks Wati would (with ?token=), and can be told to fail, time out or
rate-limit for a while. Session messages to a number outside its 24-hour window
are accepted and then fail by webhook (WhatsApp error 131047), as on WhatsApp.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.page import CHAT_PAGE
from sandbox.templates import TEMPLATES

log = logging.getLogger(__name__)

WINDOW_S = 24 * 3600
SEND_OPS = ("text", "buttons", "list", "template")


@dataclass(slots=True)
class Fault:
    """Make the next sends fail: `count` requests (or all until `until`, monotonic seconds)."""

    mode: str                      # error | timeout | ratelimit | reject
    count: int | None = None
    until: float | None = None
    status: int = 500
    retry_after: float | None = 1.0
    delay_s: float = 30.0          # how long a "timeout" answer takes
    ops: tuple[str, ...] = SEND_OPS

    def active(self, op: str) -> bool:
        if op not in self.ops:
            return False
        if self.until is not None and time.monotonic() >= self.until:
            return False
        return self.count is None or self.count > 0


@dataclass(slots=True)
class SandboxState:
    sent: list[dict[str, Any]] = field(default_factory=list)      # accepted sends
    attempts: list[dict[str, Any]] = field(default_factory=list)  # every send request
    chats: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    last_inbound: dict[str, float] = field(default_factory=dict)  # wa_id -> unix time
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # what we posted to the app
    faults: list[Fault] = field(default_factory=list)
    fail_numbers: set[str] = field(default_factory=set)  # accepted, then a failed webhook
    # Who has each conversation: an operator's email, or absent = the bot (Wati's default).
    operators: dict[str, str] = field(default_factory=dict)
    assignments: list[dict[str, Any]] = field(default_factory=list)  # every assign request
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class WatiSandbox:
    def __init__(self, *, token: str = "sandbox-token",  # noqa: S107 (local stand-in)
                 webhook_url: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, status_webhooks: bool = True,
                 enforce_window: bool = True, read_receipts: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.token = token
        self.webhook_url = webhook_url
        self.host = host
        self.port = port
        self.status_webhooks = status_webhooks
        self.enforce_window = enforce_window
        self.read_receipts = read_receipts
        self.clock = clock
        self.state = SandboxState()
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()

    # ---- lifecycle -------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> WatiSandbox:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        if self.port == 0:
            server: Any = site._server
            assert server is not None and server.sockets
            self.port = int(server.sockets[0].getsockname()[1])
        log.info("Wati sandbox listening; chat page at %s/", self.url)
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WatiSandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ---- test helpers ----------------------------------------------------------------
    def fail(self, mode: str = "error", *, count: int | None = None, seconds: float | None = None,
             status: int = 500, retry_after: float | None = 1.0, delay_s: float = 30.0,
             ops: tuple[str, ...] = SEND_OPS) -> None:
        until = time.monotonic() + seconds if seconds is not None else None
        self.state.faults.append(Fault(mode, count, until, status, retry_after, delay_s, ops))

    def heal(self) -> None:
        self.state.faults.clear()

    @property
    def sent(self) -> list[dict[str, Any]]:
        return self.state.sent

    def sent_to(self, wa_id: str, op: str | None = None) -> list[dict[str, Any]]:
        return [s for s in self.state.sent if s["to"] == wa_id and (op is None or s["op"] == op)]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until predicate() is truthy (re-checked on every change); return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("sandbox condition not met in time")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.25))

    async def inject(self, wa_id: str, *, text: str | None = None, name: str = "Pasien",
                     kind: str = "text", title: str | None = None,
                     description: str | None = None, message_id: str | None = None,
                     deliver: bool = True) -> dict[str, Any]:
        """A patient's message as Wati would post it to the app (also shown in the chat)."""
        payload = self.inbound_payload(wa_id, text=text, name=name, kind=kind, title=title,
                                       description=description, message_id=message_id)
        self._record_inbound(wa_id, name, payload)
        if deliver:
            await self.post_webhook(payload)
        return payload

    # ---- payloads ------------------------------------------------------------------------
    def inbound_payload(self, wa_id: str, *, text: str | None, name: str, kind: str = "text",
                        title: str | None = None, description: str | None = None,
                        message_id: str | None = None) -> dict[str, Any]:
        now = self.clock()
        wamid = message_id or "wamid." + secrets.token_urlsafe(24)
        payload: dict[str, Any] = {
            "id": uuid.uuid4().hex[:24], "created": _iso(now), "whatsappMessageId": wamid,
            "conversationId": "conv-" + wa_id, "ticketId": "ticket-" + wa_id, "text": text,
            "type": "text", "data": None, "sourceId": None, "sourceUrl": None,
            "timestamp": str(int(now)), "owner": False, "eventType": "message",
            "statusString": "SENT", "avatarUrl": None, "assignedId": None,
            "operatorName": None, "operatorEmail": None, "waId": wa_id,
            "messageContact": None, "senderName": name, "listReply": None,
            "interactiveButtonReply": None, "buttonReply": None, "replyContextId": "",
            "sourceType": 0, "frequentlyForwarded": False, "forwarded": False,
            "channelId": None, "channelPhoneNumber": "6281100000000",
        }
        if kind == "button":      # a tapped interactive reply button
            payload.update(type="interactive", text=title,
                           interactiveButtonReply={"id": "1", "title": title})
        elif kind == "list":      # a chosen list row
            payload.update(type="interactive", text=title,
                           listReply={"id": "1", "title": title, "description": description})
        elif kind == "quick":     # a template quick-reply button
            payload.update(type="button", text=title,
                           buttonReply={"text": title,
                                        "payload": '{"ButtonIndex":0,"CarouselCardIndex":null}'})
        elif kind != "text":      # image, voice, location, sticker, document...
            payload.update(type=kind, text=text or "",
                           data=f"https://sandbox.local/api/file/showFile?fileName=data/{kind}")
        return payload

    def _record_inbound(self, wa_id: str, name: str, payload: dict[str, Any]) -> None:
        first = wa_id not in self.state.contacts
        self.state.contacts.setdefault(wa_id, {"wa_id": wa_id, "name": name})
        self.state.names[wa_id] = name
        self.state.last_inbound[wa_id] = self.clock()
        self._chat(wa_id, {"direction": "in", "kind": payload["type"],
                           "text": payload.get("text") or "", "id": payload["whatsappMessageId"]})
        if first and self.webhook_url:
            self._spawn(self.post_webhook({
                "eventType": "newContactMessageReceived", "id": uuid.uuid4().hex[:24],
                "created": _iso(self.clock()), "waId": wa_id, "senderName": name,
                "sourceId": None, "sourceUrl": None, "sourceType": 0}))

    def _chat(self, wa_id: str, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"seq": next(self.state.seq), "at": _iso(self.clock()), **entry}
        self.state.chats.setdefault(wa_id, []).append(entry)
        self._notify()
        return entry

    async def post_webhook(self, payload: dict[str, Any], *, attempts: int = 3) -> int | None:
        """POST to the app like Wati: retried on non-2xx (Wati retries for about a day)."""
        if not self.webhook_url or self._session is None:
            return None
        self.state.webhooks.append(payload)
        status = None
        for attempt in range(attempts):
            try:
                async with self._session.post(self.webhook_url, json=payload) as resp:
                    status = resp.status
                    await resp.read()
                if 200 <= status < 300:
                    return status
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.debug("webhook delivery failed: %s", type(exc).__name__)
            await asyncio.sleep(0.2 * (attempt + 1))
        return status

    # ---- the Wati API ---------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        v3 = "/api/ext/v3"
        r = app.router
        r.add_post(v3 + "/conversations/messages/text", self._v3_text)
        r.add_post(v3 + "/conversations/messages/interactive", self._v3_interactive)
        r.add_post(v3 + "/messageTemplates/send", self._v3_template)
        r.add_get(v3 + "/messageTemplates", self._templates)
        r.add_post(v3 + "/contacts", self._v3_contact)
        r.add_put(v3 + "/conversations/{target}/operator", self._v3_operator)
        for prefix in ("/api/v1", "/{tenant}/api/v1"):
            r.add_post(prefix + "/sendSessionMessage/{number}", self._v1_text)
            r.add_post(prefix + "/sendInteractiveButtonsMessage", self._v1_buttons)
            r.add_post(prefix + "/sendInteractiveListMessage", self._v1_list)
            r.add_post(prefix + "/sendTemplateMessage", self._v1_template)
            r.add_get(prefix + "/getMessageTemplates", self._templates)
            r.add_post(prefix + "/addContact/{number}", self._v1_contact)
            r.add_post(prefix + "/assignOperator", self._v1_operator)
        r.add_get("/", self._page)
        r.add_get("/_sandbox/api/messages", self._api_messages)
        r.add_post("/_sandbox/api/send", self._api_send)
        r.add_post("/_sandbox/api/staff", self._api_staff)
        r.add_post("/_sandbox/api/solve", self._api_solve)
        r.add_get("/_sandbox/api/operator", self._api_operator)
        r.add_get("/_sandbox/sent", self._api_sent)
        r.add_post("/_sandbox/faults", self._api_faults)
        r.add_delete("/_sandbox/faults", self._api_heal)
        r.add_post("/_sandbox/reset", self._api_reset)
        return app

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {self.token}"

    async def _gate(self, request: web.Request, op: str, to: str | None) -> web.Response | None:
        """Auth and injected faults; None when the request may proceed."""
        self.state.attempts.append({"op": op, "to": to, "at": self.clock(),
                                    "path": request.path})
        self._notify()
        if not self._authorized(request):
            return web.Response(status=401)
        for fault in self.state.faults:
            if not fault.active(op):
                continue
            if fault.count is not None:
                fault.count -= 1
            if fault.mode == "timeout":
                await asyncio.sleep(fault.delay_s)
                return web.json_response({"code": 504, "message": "timeout"}, status=504)
            if fault.mode == "ratelimit":
                headers = ({"Retry-After": f"{fault.retry_after:g}"}
                           if fault.retry_after is not None else {})
                return web.Response(status=429, headers=headers)
            if fault.mode == "reject":
                return web.json_response({"code": fault.status, "message": "rejected"},
                                         status=fault.status if fault.status < 500 else 400)
            return web.json_response({"code": fault.status, "message": "internal error"},
                                     status=fault.status)
        return None

    def _accept(self, api: str, op: str, to: str, content: dict[str, Any],
                local_id: str | None = None) -> dict[str, Any]:
        record = {"api": api, "op": op, "to": to, "message_id": uuid.uuid4().hex,
                  "local_message_id": local_id or str(uuid.uuid4()),
                  "whatsapp_message_id": "wamid." + secrets.token_urlsafe(18),
                  "at": self.clock(), **content}
        self.state.sent.append(record)
        chat = self._chat(to, {"direction": "out", "kind": op, "status": "sent",
                               **{k: v for k, v in content.items() if k != "raw"},
                               "message_id": record["message_id"]})
        record["seq"] = chat["seq"]
        outside = (op != "template" and self.enforce_window and
                   self.clock() - self.state.last_inbound.get(to, -1e12) >= WINDOW_S)
        if to in self.state.fail_numbers or outside:
            code, detail = (("131047", "Re-engagement message: more than 24 hours have passed")
                            if outside else ("131026", "Message undeliverable"))
            chat["status"] = "failed"
            self._spawn(self._status(record, "failed", code, detail))
        elif self.status_webhooks:
            self._spawn(self._status(record, "sent"))
            self._spawn(self._status(record, "delivered"))
        return record

    async def _status(self, record: dict[str, Any], status: str, code: str | None = None,
                      detail: str | None = None) -> None:
        template = record["op"] == "template"
        names = {"sent": "templateMessageSent_v2" if template else "sessionMessageSent_v2",
                 "delivered": "sentMessageDELIVERED_v2", "read": "sentMessageREAD_v2",
                 "failed": "templateMessageFailed" if template else "sessionMessageFailed"}
        payload: dict[str, Any] = {
            "eventType": names[status], "statusString": status.capitalize(),
            "localMessageId": record["local_message_id"], "id": record["message_id"],
            "whatsappMessageId": record["whatsapp_message_id"],
            "conversationId": "conv-" + record["to"], "ticketId": "ticket-" + record["to"],
            "text": record.get("text"), "type": "template" if template else "text",
            "timestamp": str(int(self.clock())), "waId": record["to"], "owner": True}
        if template:
            payload["templateName"] = record.get("template")
        if code:
            payload.update(failedCode=code, failedDetail=detail)
        await self.post_webhook(payload)

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # v3 ---------------------------------------------------------------------------------
    async def _v3_text(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        to = str(body.get("target") or "")
        if (denied := await self._gate(request, "text", to)) is not None:
            return denied
        text = body.get("text")
        if not to or not isinstance(text, str) or not text or len(text) > 4096:
            return _v3_error(400, "target and text (1..4096 chars) are required")
        rec = self._accept("v3", "text", to, {"text": text})
        return web.json_response({"message": _message_dto(rec, "text")})

    async def _v3_interactive(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        to = str(body.get("target") or "")
        kind = body.get("type")
        op = "buttons" if kind == "buttons" else "list"
        if (denied := await self._gate(request, op, to)) is not None:
            return denied
        if kind == "buttons":
            msg = body.get("button_message") or {}
            error = _check_buttons(msg)
            content = {"text": msg.get("body"), "buttons": [b.get("text") for b in
                                                            msg.get("buttons") or []],
                       "header": (msg.get("header") or {}).get("text"),
                       "footer": msg.get("footer")}
        elif kind == "list":
            msg = body.get("list_message") or {}
            error = _check_list(msg, "button_text")
            content = _list_content(msg, "button_text")
        else:
            return _v3_error(400, "type must be buttons or list")
        if not to or error:
            return _v3_error(400, error or "target is required")
        rec = self._accept("v3", op, to, content)
        return web.json_response({"message": _message_dto(rec, "interactive")})

    async def _v3_template(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        recipients = body.get("recipients") or []
        first = recipients[0] if recipients and isinstance(recipients[0], dict) else {}
        to = str(first.get("phone_number") or first.get("target") or "")
        if (denied := await self._gate(request, "template", to)) is not None:
            return denied
        template = TEMPLATES.get(str(body.get("template_name")))
        if template is None:
            return _v3_error(400, "template not found or not approved")
        if not body.get("broadcast_name"):
            return _v3_error(400, "broadcast_name is required")
        out = []
        for rec in recipients:
            number = str(rec.get("phone_number") or rec.get("target") or "")
            params = {str(p.get("name")): p.get("value")
                      for p in rec.get("custom_params") or [] if isinstance(p, dict)}
            errors = _template_errors(template.required(), params, number)
            local = rec.get("local_message_id") or str(uuid.uuid4())
            if not errors:
                self._accept("v3", "template", number, _template_content(template, params),
                             local)
            out.append({"local_message_id": local, "phone_number": number, "errors": errors})
        return web.json_response({"success": True, "broadcast_id": uuid.uuid4().hex,
                                  "error": None, "recipients": out})

    async def _templates(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        items = [{"elementName": t.name, "name": t.name, "language": t.language,
                  "category": t.category, "status": "APPROVED", "body": t.body,
                  "custom_params": [{"paramName": p} for p in t.required()],
                  "buttons": [{"type": "QUICK_REPLY", "text": q} for q in t.quick_replies]}
                 for t in TEMPLATES.values()]
        return web.json_response({"result": "success", "messageTemplates": items,
                                  "template_list": items})

    async def _v3_contact(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        number = str(body.get("whatsapp_number") or "")
        if not self._authorized(request):
            return web.Response(status=401)
        self.state.contacts[number] = {"wa_id": number, "name": body.get("name")}
        return web.json_response({"id": uuid.uuid4().hex, "wa_id": number,
                                  "name": body.get("name")})

    async def _v3_operator(self, request: web.Request) -> web.Response:
        """PUT /api/ext/v3/conversations/{target}/operator {"assignee_email": str | null}:
        null (or absent) hands the conversation back to the bot."""
        target = request.match_info["target"]
        number = target.rsplit(":", 1)[-1]  # PhoneNumber or Channel:PhoneNumber
        if (denied := await self._gate(request, "operator", number)) is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return _v3_error(400, "a JSON body is required")
        if not isinstance(body, dict) or set(body) - {"assignee_email"} or \
                "assignee_email" not in body:
            return _v3_error(400, "body: {assignee_email: string | null}")
        email = body["assignee_email"]
        if email is not None and (not isinstance(email, str) or "@" not in email):
            return _v3_error(400, "assignee_email must be an email address or null")
        if not number.isdigit():
            return _v3_error(400, "target must be a phone number")
        self._assign("v3", number, email)
        return web.json_response({"result": True})

    def _assign(self, api: str, number: str, email: str | None) -> None:
        self.state.assignments.append({"api": api, "to": number, "email": email,
                                       "at": self.clock()})
        if email:
            self.state.operators[number] = email
        else:
            self.state.operators.pop(number, None)
        self._chat(number, {"direction": "system", "kind": "system",
                            "text": (f"Percakapan ditugaskan ke {email}" if email
                                     else "Percakapan kembali ke bot")})

    # v1 ---------------------------------------------------------------------------------
    async def _v1_operator(self, request: web.Request) -> web.Response:
        number = request.query.get("whatsappNumber") or request.query.get("target") or ""
        if (denied := await self._gate(request, "operator", number)) is not None:
            return denied
        if not number.isdigit():
            return web.json_response({"result": False, "info": "whatsappNumber is required"})
        email = request.query.get("email") or None
        self._assign("v1", number, email)
        return web.json_response({"result": True})

    async def _v1_text(self, request: web.Request) -> web.Response:
        to = request.match_info["number"]
        text = request.query.get("messageText")
        if text is None and request.can_read_body:
            form = await request.post()
            value = form.get("messageText")
            text = value if isinstance(value, str) else None
        if (denied := await self._gate(request, "text", to)) is not None:
            return denied
        if not text or len(text) > 4096:
            return web.json_response({"result": False, "info": "messageText is required"})
        rec = self._accept("v1", "text", to, {"text": text})
        return web.json_response({"result": True, "ok": True, "info": "",
                                  "message": _message_dto(rec, "text")})

    async def _v1_buttons(self, request: web.Request) -> web.Response:
        to = request.query.get("whatsappNumber", "")
        body = await self._json(request)
        if (denied := await self._gate(request, "buttons", to)) is not None:
            return denied
        error = _check_buttons(body)
        if error or not to:
            return web.json_response({"result": False, "info": error or "whatsappNumber"})
        header = body.get("header")
        rec = self._accept("v1", "buttons", to, {
            "text": body.get("body"), "buttons": [b.get("text") for b in body["buttons"]],
            "header": header.get("text") if isinstance(header, dict) else header,
            "footer": body.get("footer")})
        return web.json_response({"result": True, "ok": True,
                                  "message": _message_dto(rec, "interactive")})

    async def _v1_list(self, request: web.Request) -> web.Response:
        to = request.query.get("whatsappNumber", "")
        body = await self._json(request)
        if (denied := await self._gate(request, "list", to)) is not None:
            return denied
        error = _check_list(body, "buttonText")
        if error or not to:
            return web.json_response({"result": False, "info": error or "whatsappNumber"})
        rec = self._accept("v1", "list", to, _list_content(body, "buttonText"))
        return web.json_response({"result": True, "ok": True,
                                  "message": _message_dto(rec, "interactive")})

    async def _v1_template(self, request: web.Request) -> web.Response:
        to = request.query.get("whatsappNumber", "")
        body = await self._json(request)
        if (denied := await self._gate(request, "template", to)) is not None:
            return denied
        template = TEMPLATES.get(str(body.get("template_name")))
        if template is None or not body.get("broadcast_name"):
            return web.json_response({"result": False, "error": "template not found",
                                      "receivers": []})
        params = {str(p.get("name")): p.get("value") for p in body.get("parameters") or []
                  if isinstance(p, dict)}
        errors = _template_errors(template.required(), params, to)
        local = str(uuid.uuid4())
        if errors:
            return web.json_response({"result": False, "error": "; ".join(errors),
                                      "receivers": [{"localMessageId": local, "waId": to,
                                                     "isValidWhatsAppNumber": to.isdigit(),
                                                     "errors": errors}]})
        self._accept("v1", "template", to, _template_content(template, params), local)
        return web.json_response({"result": True, "error": None,
                                  "templateName": template.name,
                                  "receivers": [{"localMessageId": local, "waId": to,
                                                 "isValidWhatsAppNumber": True, "errors": []}],
                                  "parameters": []})

    async def _v1_contact(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        number = request.match_info["number"]
        body = await self._json(request)
        self.state.contacts[number] = {"wa_id": number, "name": body.get("name")}
        return web.json_response({"result": True, "contact": {"wAid": number}})

    # ---- the chat page and its API ---------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=CHAT_PAGE, content_type="text/html")

    async def _api_messages(self, request: web.Request) -> web.Response:
        wa_id = request.query.get("wa_id", "")
        after = int(request.query.get("after", "0") or 0)
        items = [m for m in self.state.chats.get(wa_id, []) if m["seq"] > after]
        if self.read_receipts:  # the patient has now seen these: read receipts
            for m in items:
                if m["direction"] == "out" and m.get("status") in ("sent", "delivered"):
                    m["status"] = "read"
                    rec = next((s for s in self.state.sent
                                if s["message_id"] == m.get("message_id")), None)
                    if rec is not None and self.status_webhooks:
                        self._spawn(self._status(rec, "read"))
        return web.json_response({"messages": items})

    async def _api_send(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        wa_id = "".join(ch for ch in str(body.get("wa_id") or "") if ch.isdigit())
        if len(wa_id) < 8:
            return web.json_response({"error": "enter a phone number with country code"},
                                     status=400)
        name = str(body.get("name") or "Pasien")[:60]
        kind = str(body.get("kind") or "text")
        if kind not in ("text", "button", "list", "quick", "image", "location", "voice",
                        "sticker", "document"):
            return web.json_response({"error": "unknown kind"}, status=400)
        text = str(body.get("text") or "")[:4096]
        title = body.get("title")
        if kind == "text" and not text.strip():
            return web.json_response({"error": "empty message"}, status=400)
        payload = await self.inject(wa_id, text=text or None, name=name, kind=kind,
                                    title=str(title)[:100] if title else None,
                                    description=body.get("description"))
        return web.json_response({"id": payload["whatsappMessageId"]})

    async def staff_reply(self, wa_id: str, text: str, *, operator: str | None = None
                          ) -> dict[str, Any]:
        """A person in Wati's inbox writes to the patient: shown in the chat, and the app is
        told by a sessionMessageSent webhook (owner true, with the operator's name/email)."""
        email = operator or self.state.operators.get(wa_id) or "staff@klinik.local"
        rec = {"message_id": uuid.uuid4().hex, "local_message_id": str(uuid.uuid4()),
               "whatsapp_message_id": "wamid." + secrets.token_urlsafe(18)}
        self._chat(wa_id, {"direction": "out", "kind": "text", "status": "sent", "text": text,
                           "operator": email, "message_id": rec["message_id"]})
        payload = {
            "eventType": "sessionMessageSent_v2", "statusString": "Sent",
            "localMessageId": rec["local_message_id"], "id": rec["message_id"],
            "whatsappMessageId": rec["whatsapp_message_id"], "conversationId": "conv-" + wa_id,
            "ticketId": "ticket-" + wa_id, "text": text, "type": "text",
            "timestamp": str(int(self.clock())), "waId": wa_id, "owner": True,
            "operatorEmail": email, "operatorName": email.split("@")[0]}
        await self.post_webhook(payload)
        return payload

    async def solve(self, wa_id: str, *, operator: str | None = None) -> dict[str, Any]:
        """Staff mark the conversation solved in Wati: it goes back to the bot and the app
        gets a status webhook (the shape is this sandbox's; see docs/architecture.md)."""
        email = operator or self.state.operators.get(wa_id)
        self.state.operators.pop(wa_id, None)
        self._chat(wa_id, {"direction": "system", "kind": "system",
                           "text": "Percakapan ditandai selesai (solved)"})
        payload = {"eventType": "ticketStatusChanged", "id": uuid.uuid4().hex[:24],
                   "created": _iso(self.clock()), "conversationId": "conv-" + wa_id,
                   "ticketId": "ticket-" + wa_id, "waId": wa_id, "newStatus": "solved",
                   "operatorEmail": email, "owner": True}
        await self.post_webhook(payload)
        return payload

    async def _api_staff(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        wa_id = "".join(ch for ch in str(body.get("wa_id") or "") if ch.isdigit())
        text = str(body.get("text") or "")[:4096]
        if len(wa_id) < 8 or not text.strip():
            return web.json_response({"error": "wa_id and text are required"}, status=400)
        payload = await self.staff_reply(wa_id, text)
        return web.json_response({"id": payload["id"]})

    async def _api_solve(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        wa_id = "".join(ch for ch in str(body.get("wa_id") or "") if ch.isdigit())
        if len(wa_id) < 8:
            return web.json_response({"error": "wa_id is required"}, status=400)
        await self.solve(wa_id)
        return web.json_response({"solved": True})

    async def _api_operator(self, request: web.Request) -> web.Response:
        wa_id = request.query.get("wa_id", "")
        return web.json_response({"operator": self.state.operators.get(wa_id)})

    async def _api_sent(self, request: web.Request) -> web.Response:
        to = request.query.get("to")
        items = [s for s in self.state.sent if to is None or s["to"] == to]
        return web.json_response({"sent": items, "attempts": len(self.state.attempts)})

    async def _api_faults(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        mode = str(body.get("mode") or "error")
        if mode not in ("error", "timeout", "ratelimit", "reject"):
            return web.json_response({"error": "mode: error|timeout|ratelimit|reject"},
                                     status=400)
        self.fail(mode, count=body.get("count"), seconds=body.get("seconds"),
                  status=int(body.get("status") or 500),
                  retry_after=body.get("retry_after", 1.0),
                  delay_s=float(body.get("delay_s") or 30.0))
        return web.json_response({"faults": len(self.state.faults)})

    async def _api_heal(self, request: web.Request) -> web.Response:
        self.heal()
        return web.json_response({"faults": 0})

    async def _api_reset(self, request: web.Request) -> web.Response:
        self.state = SandboxState()
        self._notify()
        return web.json_response({"reset": True})


# ---- validation like Wati's -------------------------------------------------------------------
def _v3_error(status: int, message: str) -> web.Response:
    return web.json_response({"code": status, "message": message,
                              "timestamp": datetime.now(UTC).isoformat()}, status=status)


def _message_dto(rec: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"id": rec["message_id"], "created": _iso(rec["at"]),
            "conversation_id": "conv-" + rec["to"], "ticket_id": "ticket-" + rec["to"],
            "event_type": "message", "type": kind, "owner": True, "status": "SENT",
            "local_message_id": rec["local_message_id"], "text": rec.get("text")}


def _check_buttons(msg: dict[str, Any]) -> str | None:
    buttons = msg.get("buttons") or []
    body = msg.get("body") or ""
    if not body or len(body) > 1024:
        return "body is required (<= 1024 chars)"
    if not 1 <= len(buttons) <= 3:
        return "1 to 3 buttons"
    titles = [str((b or {}).get("text") or "") for b in buttons]
    if any(not t or len(t) > 20 for t in titles):
        return "button text is required (<= 20 chars)"
    if len({t.casefold() for t in titles}) != len(titles):
        return "button titles must be unique"
    header = msg.get("header")
    htext = header.get("text") if isinstance(header, dict) else header
    if htext and len(htext) > 60 or len(msg.get("footer") or "") > 60:
        return "header/footer <= 60 chars"
    return None


def _check_list(msg: dict[str, Any], button_key: str) -> str | None:
    body = msg.get("body") or ""
    if not body or len(body) > 1024:
        return "body is required (<= 1024 chars)"
    if not msg.get(button_key) or len(msg[button_key]) > 20:
        return f"{button_key} is required (<= 20 chars)"
    if len(msg.get("header") or "") > 60 or len(msg.get("footer") or "") > 60:
        return "header/footer <= 60 chars"
    rows = [r for s in msg.get("sections") or [] for r in (s or {}).get("rows") or []]
    if not 1 <= len(rows) <= 10:
        return "1 to 10 rows in total"
    for section in msg.get("sections") or []:
        if len((section or {}).get("title") or "") > 24:
            return "section title <= 24 chars"
    titles = [str(r.get("title") or "") for r in rows]
    if any(not t or len(t) > 24 for t in titles):
        return "row title is required (<= 24 chars)"
    if any(len(r.get("description") or "") > 72 for r in rows):
        return "row description <= 72 chars"
    if len({t.casefold() for t in titles}) != len(titles):
        return "row titles must be unique"
    return None


def _list_content(msg: dict[str, Any], button_key: str) -> dict[str, Any]:
    rows = [{"title": r.get("title"), "description": r.get("description")}
            for s in msg.get("sections") or [] for r in (s or {}).get("rows") or []]
    return {"text": msg.get("body"), "button_text": msg.get(button_key), "rows": rows,
            "header": msg.get("header"), "footer": msg.get("footer")}


def _template_errors(required: list[str], params: dict[str, Any], number: str) -> list[str]:
    errors = []
    if not number.isdigit() or not 8 <= len(number) <= 15:
        errors.append("invalid WhatsApp number")
    missing = [p for p in required if not params.get(p)]
    if missing:
        errors.append("missing parameters: " + ", ".join(missing))
    return errors


def _template_content(template: Any, params: dict[str, Any]) -> dict[str, Any]:
    return {"template": template.name, "params": params, "text": template.render(params),
            "quick_replies": list(template.quick_replies)}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
