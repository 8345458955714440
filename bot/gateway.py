"""One accepted webhook event → its effect: a patient's message goes to Rasa and the replies
to WhatsApp; a status event updates the outbox; a new contact is registered."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.metrics import OUTBOX, WEBHOOKS
from booking.errors import BookingError, NotFound
from booking.formatting import local_when
from booking.language import detect_language
from booking.models import Booking, Role
from booking.service import Actor, BookingService
from booking.store import Store
from booking.waitlist import WaitlistService
from bot import chatlog, render
from bot.choices import Choices
from bot.payloads import Action, WatiEvent, provider_ids
from bot.privacy import PrivacyTurn, WhatsAppPrivacy
from bot.rasa_bridge import RasaBridge, RasaUnavailable, Understanding, split_turn
from bot.retrain.inbox import InboxFeeder
from bot.texts import say
from notify import texts as notify_texts
from notify import window
from notify.handoff import HandoffDesk
from notify.handoff_rules import BOT_WORDS, Reason, Resolution, after_hours_note
from notify.handoff_rules import say as handoff_say
from notify.outbox import OutboxStatus
from notify.parked import ParkedStatuses
from notify.whatsapp import WatiClient, WatiError
from notify.whatsapp_messages import Outgoing, chat_text, message_type

log = logging.getLogger(__name__)

TEXT_TYPES = frozenset({"text", "interactive", "button", "list"})
# Not worth an answer (a reaction to a message, a placeholder): logged only.
SILENT_TYPES = frozenset({"reaction", "media_placeholder", "unsupported", "system",
                          "ephemeral", "revoked"})
# The appointment_reminder template's quick replies (notify/texts.py, both languages), as a
# tapped title is looked up: normalised title -> what the patient chose.
REMINDER_REPLIES = {render.normalise_choice(title): choice
                    for titles in notify_texts.REMINDER_REPLIES.values()
                    for title, choice in zip(titles, ("attend", "reschedule", "cancel"),
                                             strict=True)}
RASA_INTENTS = {"reschedule": "reschedule_appointment", "cancel": "cancel_appointment"}
# Answers to a waitlist offer (notify/rules.py WAITLIST_REPLIES), typed or tapped.
WAITLIST_REPLIES = {"ambil": "take", "take it": "take", "take": "take",
                    "lewati": "skip", "skip": "skip"}
# Written by the actions (action_handoff, the second fallback in a row): a request for a
# person that the gateway turns into a handoff after Rasa answered (actions/flows.py).
HANDOFF_KEY = "handoff:"
# A reply from our staff inbox comes back from Wati as an operator's message: within this
# long, the same text is taken for that echo, not a second message.
STAFF_ECHO_WINDOW = timedelta(minutes=2)


def utcnow() -> datetime:
    return datetime.now(UTC)


def offers_a_person(replies: list[dict[str, Any]]) -> bool:
    """Rasa's replies offer a person (utter_fallback_handoff's "Hubungi staf" button)."""
    return any(isinstance(b, dict) and b.get("payload") == "/human_handoff"
               for r in replies for b in (r.get("buttons") or []))


class Gateway:
    def __init__(self, *, store: Store, service: BookingService,
                 wati: WatiClient, rasa: RasaBridge, choices: Choices,
                 parked: ParkedStatuses | None = None,
                 handoffs: HandoffDesk | None = None,
                 waitlist: WaitlistService | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 nlu_inbox: InboxFeeder | None = None,
                 privacy: WhatsAppPrivacy | None = None) -> None:
        self.store = store
        self.chat = store.chat
        self.outbox = store.outbox
        self.service = service
        self.wati = wati
        self.rasa = rasa
        self.choices = choices
        self.parked = parked
        self.handoffs = handoffs
        self.waitlist = waitlist
        self.clock = clock
        self.nlu_inbox = nlu_inbox  # what the NLU was unsure about, for admins to label
        self.privacy = privacy  # data-protection requests and the first-contact notice

    async def handle(self, doc: dict[str, Any]) -> None:
        """The inbox's handler for one accepted event."""
        event = WatiEvent.model_validate(doc.get("event") or {})
        action = Action(doc["action"])
        if action == Action.status:
            await self._status(event, OutboxStatus(doc["status_event"]))
        elif action == Action.contact:
            await self._contact(event)
        elif action == Action.message:
            await self.on_message(event, doc["received_at"])
        elif action == Action.staff:
            await self._staff_message(event)
        elif action == Action.solved:
            await self._solved(event)

    # ---- status and contacts ------------------------------------------------------------
    async def _status(self, event: WatiEvent, status: OutboxStatus) -> None:
        error = None
        if status == OutboxStatus.failed:
            error = f"whatsapp {event.failedCode or '?'}: {event.failedDetail or 'failed'}"
        ids = provider_ids(event)
        changed = await self.outbox.status_by_provider_id(ids, status, self.clock(), error)
        if changed:
            OUTBOX.labels(kind="any", channel="whatsapp", outcome=status.value).inc()
        elif self.parked is not None and ids:
            # Maybe an outbox send whose id is not recorded yet: the dispatcher applies it.
            await self.parked.park(ids, status, error)

    async def _contact(self, event: WatiEvent) -> None:
        assert event.waId
        if await self.chat.register_contact(event.waId, event.senderName, self.clock()):
            log.info("new WhatsApp contact registered")

    # ---- staff in Wati's inbox ------------------------------------------------------------
    async def _staff_message(self, event: WatiEvent) -> None:
        """A person wrote from Wati's inbox: logged in the chat log as staff's; the
        conversation is theirs (a handoff is opened if none is). Our own sends reported
        with an operator are treated as the status events they are."""
        wa_id = event.waId
        assert wa_id
        ids = provider_ids(event)
        now = self.clock()
        if await self.store.handoffs.outbound_logged(ids) or \
                await self.outbox.status_by_provider_id(ids, OutboxStatus.sent, now) or \
                await self.store.handoffs.staff_reply_logged(wa_id, event.text or "",
                                                             now - STAFF_ECHO_WINDOW):
            return
        by = event.operatorEmail or event.operatorName or "wati"
        await self.chat.insert_chat_logs([{
            "wa_id": wa_id, "direction": "out", "text": event.text or "",
            "type": (event.type or "text").lower(), "message_id": event.message_key,
            "at": now, "by": by, "staff": True, "language": None}])
        if self.handoffs is None:
            return
        handoff = await self.handoffs.open_for(wa_id)
        if handoff is None:
            handoff, _ = await self.handoffs.begin(wa_id, Reason.staff, by=by, operator=by)
        await self.handoffs.staff_wrote(handoff, event.text or "", now, by)

    async def _solved(self, event: WatiEvent) -> None:
        assert event.waId
        if self.handoffs is None:
            return
        handoff = await self.handoffs.open_for(event.waId)
        if handoff is not None:
            await self.handoffs.resolve(handoff["id"], Resolution.wati,
                                        by=event.operatorEmail or "wati")

    async def _handed_off(self, wa_id: str, shown: str, kind: str, event: WatiEvent,
                          received_at: datetime, lang: str) -> bool:
        """While a person has the conversation the message is stored and logged, not sent to
        Rasa (True). An expired handoff is given back first (the patient gets the note);
        the BOT_WORDS still reach the bot, which keeps helping while the patient waits."""
        if self.handoffs is None:
            return False
        handoff = await self.handoffs.open_for(wa_id)
        if handoff is None:
            return False
        if handoff["expires_at"] <= self.clock():
            await self.handoffs.resolve(handoff["id"], Resolution.timeout, by="timeout")
            return False
        await self.handoffs.patient_wrote(handoff, shown or f"[{kind}]", received_at)
        if render.normalise_choice(shown) in BOT_WORDS:
            return False
        await self.chat.insert_chat_logs([chatlog.inbound(
            wa_id, shown or f"[{kind}]", kind, event.message_key, received_at,
            Understanding(handoff=True), lang)])
        WEBHOOKS.labels(outcome="handed_off").inc()
        return True

    async def _handoff_requested(self, wa_id: str, lang: str, name: str | None, shown: str,
                                 replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """After Rasa: did an action ask for a person (kv handoff:<waId>)? Then open the
        handoff. The replies to send: Rasa's, and outside opening hours when a person will
        answer; after the second fallback in a row the bot's offer becomes the handoff."""
        if self.handoffs is None:
            return replies
        request = await self.store.kv.get(HANDOFF_KEY + wa_id)
        if not isinstance(request, dict) or not request.get("open"):
            return replies
        reason = Reason.fallback if request.get("reason") == "fallback" else Reason.requested
        lang = str(request["language"]) if request.get("language") in ("id", "en") else lang
        await self.handoffs.begin(wa_id, reason, language=lang, name=name, current=shown)
        await self.store.kv.set(HANDOFF_KEY + wa_id, {**request, "open": False,
                                                      "taken_at": self.clock().isoformat()})
        if reason == Reason.fallback:
            replies = [{"text": handoff_say("started", lang)}]
        note = after_hours_note(self.clock(), lang)
        return [*replies, {"text": note}] if note else replies

    # ---- messages -----------------------------------------------------------------------
    async def on_message(self, event: WatiEvent, received_at: datetime) -> None:
        wa_id = event.waId
        assert wa_id
        received_at = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
        kind = (event.type or "text").lower()
        shown = (event.reply_title or event.text or "").strip()
        guessed = detect_language(shown)
        before = await self.chat.touch_inbound(wa_id, received_at, event.senderName, guessed)
        lang = guessed or (before or {}).get("language") or "id"
        logs: list[dict[str, Any]] = []
        understood: Understanding | None = None
        ask_tracker = False
        privacy = PrivacyTurn()
        if (shown or kind not in TEXT_TYPES) and \
                await self._handed_off(wa_id, shown, kind, event, received_at, lang):
            return
        if kind in SILENT_TYPES:
            replies = []
            shown = shown or f"[{kind}]"
        elif kind not in TEXT_TYPES:
            replies = [{"text": say("text_only", lang)}]
            shown = shown or f"[{kind}]"
        elif not shown:
            WEBHOOKS.labels(outcome="empty").inc()
            return
        else:
            replies, understood, ask_tracker, privacy = await self._answer(wa_id, kind, shown,
                                                                           lang, event)
            lang = (understood.language if understood else None) or lang
        rendered = render.render(replies, lang)
        if rendered.choices:
            await self.choices.remember(wa_id, rendered.choices)
        refs = understood.refs if understood else []

        async def send_all() -> None:
            for out in rendered.messages:
                logs.append(await self._reply(wa_id, out, received_at, lang, refs))

        if understood is not None and ask_tracker:
            # Rasa is done with this message (and the sender's next one waits in its lane):
            # read what it understood while the replies go out.
            _, got = await asyncio.gather(send_all(), self.rasa.understanding(wa_id))
            understood = got
            lang = got.language or lang
        else:
            await send_all()
        if understood is not None and (understood.handoff or understood.intent is None):
            # asked for a person (or not understood at all): see the actions' kv request
            extra = await self._handoff_requested(wa_id, lang, event.senderName, shown, [])
            for out in render.render(extra, lang).messages:
                logs.append(await self._reply(wa_id, out, received_at, lang))
        if not privacy.erase:  # (an erasure's number is not kept, notice or not)
            logs += await self._first_contact(wa_id, kind, received_at, lang, before)
        logs.insert(0, chatlog.inbound(wa_id, shown, kind, event.message_key, received_at,
                                       understood, lang))
        await self._log_turn(wa_id, logs, received_at, understood,
                             (before or {}).get("last_inbound_at"))
        if privacy.erase:
            await self._erase(wa_id, received_at, privacy.lang or lang)
        WEBHOOKS.labels(outcome="processed").inc()

    async def _log_turn(self, wa_id: str, logs: list[dict[str, Any]], received_at: datetime,
                        understood: Understanding | None, previous_at: datetime | None) -> None:
        """Write the turn's chat log (logs[0]: the patient's message), then let the NLU
        inbox look at it (`previous_at`: the sender's message before, for its rows)."""
        try:
            await self.chat.insert_chat_logs(logs)
        except BookingError as exc:
            # The patient has been answered: retrying the event would run it through Rasa
            # a second time. The log line is what is lost, and it is said here.
            log.warning("chat log not written (%s): %d lines", exc.code, len(logs))
        else:
            if self.nlu_inbox is not None and understood is not None:
                await self.nlu_inbox.observe_safely(wa_id, received_at, latest=logs[0],
                                                    previous_at=previous_at)

    async def _answer(self, wa_id: str, kind: str, shown: str, lang: str, event: WatiEvent
                      ) -> tuple[list[dict[str, Any]], Understanding | None, bool, PrivacyTurn]:
        """A text message: a data-protection request is answered here, before Rasa ("hapus
        data saya", "data saya", the answer to the erasure question); the rest goes on."""
        privacy = PrivacyTurn()
        if self.privacy is not None:
            privacy = await self.privacy.turn(wa_id, shown, lang)
        if privacy.done:
            return privacy.replies, None, False, privacy
        replies, understood, ask_tracker = await self._ask(wa_id, kind, shown, lang, event)
        return [*privacy.replies, *replies], understood, ask_tracker, privacy

    async def _first_contact(self, wa_id: str, kind: str, received_at: datetime, lang: str,
                             contact: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The privacy notice, once per number, after the answer to its first message (the
        patient is not held up: the booking goes on in the same turn). Its log lines.
        `contact` is the contact as it was before this message: once it says the notice was
        shown, no store call is needed (the flag is only ever set, or the contact erased)."""
        if self.privacy is None or kind in SILENT_TYPES or \
                (contact or {}).get("privacy_notice_shown_at") is not None or \
                not await self.privacy.notice_due(wa_id, received_at):
            return []
        return [await self._reply(wa_id, out, received_at, lang)
                for out in render.render([self.privacy.notice(lang)], lang).messages]

    async def _erase(self, wa_id: str, received_at: datetime, lang: str) -> None:
        """The confirmed erasure of this number. It runs after the turn was logged, so this
        conversation's own lines go with the rest; the closing reply is sent but not
        logged (logging it would store the number again)."""
        assert self.privacy is not None
        _, text = await self.privacy.erase(wa_id, lang)
        await self.rasa.forget(wa_id)  # what Rasa's tracker holds of earlier conversations
        if self.nlu_inbox is not None:
            self.nlu_inbox.forget(wa_id)
        for out in render.render([{"text": text}], lang).messages:
            await self._reply(wa_id, out, received_at, lang)

    async def _ask(self, wa_id: str, kind: str, shown: str, lang: str, event: WatiEvent
                   ) -> tuple[list[dict[str, Any]], Understanding | None, bool]:
        """The replies to a text message; what Rasa understood (None: Rasa did not answer);
        True when that is still to be read from the tracker (actions without turn reports)."""
        message = await self._rasa_message(wa_id, kind, shown, lang)
        if isinstance(message, list):  # answered here (a reminder's "Hadir", an offer)
            return message, None, False
        try:
            replies = await self.rasa.send(wa_id, message, sender_name=event.senderName,
                                           message_id=event.message_key)
        except RasaUnavailable as exc:
            log.warning("rasa unavailable: %s", exc)
            return [{"text": say("busy", lang)}], None, False
        replies, understood = split_turn(replies)
        if offers_a_person(replies):  # the second fallback: see the kv request
            replies = await self._handoff_requested(wa_id, lang, event.senderName, shown,
                                                    replies)
        return replies, understood or Understanding(), understood is None

    async def _rasa_message(self, wa_id: str, kind: str, shown: str, lang: str
                            ) -> str | list[dict[str, Any]]:
        """What Rasa gets: the payload behind a tapped/typed choice, or the text itself."""
        if kind == "button":
            handled = await self._reminder_reply(wa_id, shown, lang)
            if handled is not None:
                return handled
        choice = WAITLIST_REPLIES.get(render.normalise_choice(shown))
        if choice is not None:
            answered = await self._waitlist_reply(wa_id, choice, shown, lang)
            if answered is not None:
                return answered
        payload = await self.choices.resolve(wa_id, shown)
        return payload or shown

    async def _waitlist_reply(self, wa_id: str, choice: str, shown: str, lang: str
                              ) -> list[dict[str, Any]] | None:
        """'Ambil'/'Lewati' to an open waitlist offer; None when there is none (Rasa)."""
        if self.waitlist is None:
            return None
        patient = await self.store.users.find(whatsapp=wa_id)
        if patient is None:
            return None
        offer = await self.waitlist.open_offer(patient.id)
        if offer is None:
            return None
        lang = "en" if render.normalise_choice(shown) in ("take it", "take", "skip") else lang
        if choice == "skip":
            await self.waitlist.skip(offer["id"], patient.id)
            return [{"text": say("waitlist_skipped", lang)}]
        result = await self.waitlist.take(offer["id"], patient.id)
        if result.booking is None:
            return [{"text": say(f"waitlist_{result.outcome}", lang)}]
        doctor = await self.service.doctor(result.booking.doctor_id)
        day, clock = local_when(result.booking.start, doctor.timezone, lang)
        return [{"text": say(f"waitlist_{result.outcome}", lang, doctor=doctor.name, date=day,
                             time=clock, ref=result.booking.ref)}]

    async def _reminder_reply(self, wa_id: str, shown: str, lang: str
                              ) -> str | list[dict[str, Any]] | None:
        choice = REMINDER_REPLIES.get(render.normalise_choice(shown))
        if choice is None:
            return None
        reminder = await self.outbox.latest_reminder(wa_id)
        if not reminder or not reminder.get("booking_id"):
            return None
        try:
            booking: Booking = await self.store.bookings.get(reminder["booking_id"])
        except NotFound:
            return None
        lang = "en" if shown.strip().lower() in ("attend", "reschedule", "cancel") else lang
        if choice == "attend":
            try:
                await self.service.confirm_attendance(
                    booking.id, actor=Actor(booking.patient_id, Role.patient))
            except BookingError:
                return [{"text": say("booking_inactive", lang, ref=booking.ref)}]
            return [{"text": say("attendance_noted", lang, ref=booking.ref)}]
        entities = json.dumps({"booking_ref": booking.ref}, separators=(",", ":"))
        return f"/{RASA_INTENTS[choice]}{entities}"

    async def _reply(self, wa_id: str, out: Outgoing, received_at: datetime,
                     lang: str, refs: list[str] | None = None) -> dict[str, Any]:
        decision = window.choose(received_at, self.clock(), template=None, language=lang)
        text = chat_text(out)
        if decision.mode != window.Mode.session:  # processed a day late (long outage)
            log.warning("reply dropped: the 24-hour window closed before it could be sent")
            return chatlog.outbound(wa_id, text, message_type(out), None, self.clock(),
                                    None, lang, error="window_closed")
        try:
            result = await self.wati.send(wa_id, out)
        except WatiError as exc:
            WEBHOOKS.labels(outcome="reply_failed").inc()
            return chatlog.outbound(wa_id, text, message_type(out), None, self.clock(),
                                    None, lang, error=str(exc)[:200])
        accepted = self.clock()
        latency = (accepted - received_at).total_seconds() * 1000
        return chatlog.outbound(wa_id, text, message_type(out), result.message_id,
                                accepted, latency, lang, refs=refs)
