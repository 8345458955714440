"""The patient's data-protection rights over WhatsApp, answered by the gateway before Rasa
(bot/gateway.py): "hapus data saya" asks for a confirmation and then erases through the
shared operation (booking/privacy.py); "data saya" answers with a summary in the chat and,
when the account has an e-mail address, an e-mail with a download link. Also the one-time
privacy notice of a number's first message.

The pending erasure question lives in Redis for ERASE_CONFIRM_TTL_S (like the choices shown:
short-lived conversation state, not a record); an answer after that is a new message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from booking.errors import BookingError
from booking.formatting import local_when
from booking.models import User
from booking.privacy import Erasure, PrivacyService, Requester
from booking.store import Store
from booking.yesno import yes_no
from bot.privacy_requests import PrivacyRequest, privacy_request, request_language
from bot.render import normalise_choice
from bot.texts import ERASE_BUTTONS, say

log = logging.getLogger(__name__)

ERASE_PENDING_PREFIX = "wa:erase:"
ERASE_CONFIRM_TTL_S = 10 * 60
_NO_TITLES = {normalise_choice(t) for titles in ERASE_BUTTONS.values() for t in titles[1:]}
_YES_TITLES = {normalise_choice(titles[0]) for titles in ERASE_BUTTONS.values()}
SUMMARY_TZ = ZoneInfo("Asia/Jakarta")  # "since" dates as the clinics' patients read them
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
# Sends the export e-mail for a user (None when it cannot: no address) and says for how
# many hours its link is valid: built by the app (app/http/auth.py signs the link).
ExportMailer = Callable[[User, str], Awaitable[int | None]]


@dataclass
class PrivacyTurn:
    """The gateway's part of a message: replies to send; `done` = Rasa is not asked;
    `erase` = erase this number once the turn is logged (so the turn's own chat log goes
    too), then send the final reply without logging it."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    erase: bool = False
    lang: str | None = None  # the language the erasure question was asked in


class WhatsAppPrivacy:
    def __init__(self, store: Store, privacy: PrivacyService, redis: Redis, namespace: str, *,
                 chat_retention_days: int, privacy_url: str, web_url: str,
                 mail_export: ExportMailer | None = None) -> None:
        self.store = store
        self.privacy = privacy
        self.redis = redis
        self.ns = namespace
        self.chat_retention_days = chat_retention_days
        self.privacy_url = privacy_url
        self.web_url = web_url
        self.mail_export = mail_export

    def _pending_key(self, wa_id: str) -> str:
        return f"{self.ns}{ERASE_PENDING_PREFIX}{wa_id}"

    async def turn(self, wa_id: str, shown: str, lang: str) -> PrivacyTurn:
        """A text message's privacy part: the answer to a pending erasure question, or a
        new erase/access request; an empty turn when the message is none of these."""
        try:
            pending = await self.redis.getdel(self._pending_key(wa_id))
        except _REDIS_DOWN:
            pending = None  # the question is asked again on the next request
        if pending is not None:
            lang = pending.decode() if isinstance(pending, bytes) else str(pending)
            key = normalise_choice(shown)
            answer = False if key in _NO_TITLES else yes_no(shown, "", verb="erase")
            if answer:
                return PrivacyTurn(done=True, erase=True, lang=lang)
            kept = [{"text": say("erase_kept", lang)}]
            # a plain "no" ends here; anything else is also a new message for the bot
            return PrivacyTurn(replies=kept, done=answer is False)
        if normalise_choice(shown) in _YES_TITLES:  # a yes tapped after the question expired
            return PrivacyTurn(replies=[{"text": say("erase_expired", lang)}], done=True)
        request = privacy_request(shown)
        if request is not None:
            lang = request_language(shown) or lang
        if request == PrivacyRequest.erase:
            try:
                await self.redis.set(self._pending_key(wa_id), lang, ex=ERASE_CONFIRM_TTL_S)
            except _REDIS_DOWN:  # the yes could not be recognised: do not ask yet
                log.warning("erasure question not asked: conversation state unreachable")
                return PrivacyTurn(replies=[{"text": say("busy", lang)}], done=True)
            titles = ERASE_BUTTONS["en" if lang == "en" else "id"]
            return PrivacyTurn(replies=[{"text": say("erase_confirm", lang), "buttons": [
                {"title": t, "payload": t} for t in titles]}], done=True)
        if request == PrivacyRequest.access:
            return PrivacyTurn(replies=await self._summary(wa_id, lang), done=True)
        return PrivacyTurn()

    async def erase(self, wa_id: str, lang: str) -> tuple[Erasure, str]:
        """The confirmed erasure of this number; the final reply (sent, never logged)."""
        done = await self.privacy.erase_whatsapp(wa_id)
        n = done.cancelled_bookings
        cancelled = say("erase_cancelled", lang, n=str(n)) if n else ""
        return done, say("erase_done", lang, cancelled=cancelled)

    async def _summary(self, wa_id: str, lang: str) -> list[dict[str, Any]]:
        held = await self.privacy.whatsapp_summary(wa_id)
        refs = []
        for b in held.upcoming[:3]:
            try:
                doctor = await self.privacy.service.doctor(b["doctor_id"])
            except BookingError:  # (a doctor removed since): the code still says which
                refs.append(b["ref"])
                continue
            day, clock = local_when(b["start"], doctor.timezone, lang)
            refs.append(f"{b['ref']} {day} {clock}")
        since = say("access_since", lang,
                    date=held.since.astimezone(SUMMARY_TZ).strftime("%d-%m-%Y")) \
            if held.since else ""
        text = say("access_summary", lang, bookings=str(held.bookings),
                   upcoming=str(len(held.upcoming)), refs=(": " + "; ".join(refs)) if refs else "",
                   messages=str(held.messages), since=since, days=str(self.chat_retention_days))
        replies = [{"text": text}]
        detail = {"bookings": held.bookings, "upcoming": len(held.upcoming),
                  "chat_messages": held.messages}
        subject = held.user.id if held.user else \
            await self.store.privacy.number_subject(wa_id)
        now = self.privacy.service.clock()
        await self.privacy.audit("export", Requester(subject, "patient", "whatsapp"), subject,
                                 now, detail)
        hours = None
        if held.user is not None and held.user.email and self.mail_export is not None:
            hours = await self.mail_export(held.user, lang)
        if hours:
            await self.privacy.audit("export", Requester(subject, "patient", "email"), subject,
                                     now, {"emailed": 1})
            replies.append({"text": say("access_emailed", lang, hours=str(hours))})
        else:
            replies.append({"text": say("access_no_email", lang, web=self.web_url)})
        return replies

    async def notice_due(self, wa_id: str, now: datetime) -> bool:
        """True once per number: the first message gets the privacy notice (recorded on the
        contact as privacy_notice_shown_at in the same atomic update)."""
        return bool(await self.store.chat.mark_privacy_notice(wa_id, now))

    def notice(self, lang: str) -> dict[str, Any]:
        return {"text": say("privacy_notice", lang, days=str(self.chat_retention_days),
                            link=self.privacy_url)}
