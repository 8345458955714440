"""Wati webhook payloads: lenient models (every field optional, unknown fields kept) and
the pure classification of an event into what the gateway does with it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from notify.outbox import OutboxStatus

# WhatsApp's own limit on a text message: anything longer did not come from WhatsApp, and is
# cut before it is stored or reaches Rasa (whose NLU cost grows with the text).
MAX_TEXT = 4096
MAX_FIELD = 256  # ids, names, statuses


def _cut(limit: int) -> Any:
    def cut(cls: Any, v: Any) -> Any:
        return v[:limit] if isinstance(v, str) else v

    return classmethod(cut)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ButtonReply(_Lenient):
    """Template quick reply: {"text": "Hadir", "payload": "{...ButtonIndex...}"}."""

    text: str | None = None
    payload: str | None = None

    _cut_text = field_validator("text", "payload")(_cut(MAX_TEXT))


class InteractiveReply(_Lenient):
    """Interactive button or list row: {"id": "1", "title": "...", "description": "..."}."""

    id: str | None = None
    title: str | None = None
    description: str | None = None

    _cut_text = field_validator("id", "title", "description")(_cut(MAX_TEXT))


class WatiEvent(_Lenient):
    eventType: str | None = None  # noqa: N815 (Wati's field names)
    id: str | None = None
    whatsappMessageId: str | None = None  # noqa: N815
    localMessageId: str | None = None  # noqa: N815
    conversationId: str | None = None  # noqa: N815
    created: str | None = None
    timestamp: str | None = None
    waId: str | None = None  # noqa: N815
    senderName: str | None = None  # noqa: N815
    text: str | None = None
    type: str | None = None
    owner: bool | None = None
    statusString: str | None = None  # noqa: N815
    failedCode: str | None = None  # noqa: N815
    failedDetail: str | None = None  # noqa: N815
    buttonReply: ButtonReply | None = None  # noqa: N815
    interactiveButtonReply: InteractiveReply | None = None  # noqa: N815
    listReply: InteractiveReply | None = None  # noqa: N815
    operatorEmail: str | None = None  # noqa: N815 (a person in Wati's inbox)
    operatorName: str | None = None  # noqa: N815
    newStatus: str | None = None  # noqa: N815 (conversation status events)

    @field_validator("timestamp", "id", "whatsappMessageId", "localMessageId", "waId",
                     "failedCode", mode="before")
    @classmethod
    def _str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v

    _cut_text = field_validator("text")(_cut(MAX_TEXT))
    _cut_fields = field_validator(
        "eventType", "id", "whatsappMessageId", "localMessageId", "conversationId", "created",
        "timestamp", "waId", "senderName", "type", "statusString", "failedCode",
        "failedDetail", "operatorEmail", "operatorName", "newStatus")(_cut(MAX_FIELD))

    @field_validator("owner", mode="before")
    @classmethod
    def _bool(cls, v: Any) -> Any:
        if isinstance(v, str):
            return v.strip().lower() == "true"
        return v

    @field_validator("buttonReply", "interactiveButtonReply", "listReply", mode="before")
    @classmethod
    def _obj(cls, v: Any) -> Any:
        return v if isinstance(v, dict) else None

    @property
    def message_key(self) -> str | None:
        """Dedupe key of an inbound message: whatsappMessageId, else Wati's id."""
        return self.whatsappMessageId or self.id

    @property
    def reply_title(self) -> str | None:
        """What the patient tapped (interactive button, list row or template quick reply)."""
        for reply in (self.interactiveButtonReply, self.listReply):
            if reply is not None and reply.title:
                return reply.title
        if self.buttonReply is not None and self.buttonReply.text:
            return self.buttonReply.text
        return None


class Action(StrEnum):
    message = "message"        # a patient's message: goes to the conversation
    status = "status"          # progress of one of our sends: updates the outbox
    contact = "contact"        # a new contact: register it
    echo = "echo"              # our own send reported back (owner=true): ignored
    staff = "staff"            # a person wrote from Wati's inbox (owner=true, an operator)
    solved = "solved"          # staff marked the conversation solved in Wati
    ignore = "ignore"          # nothing to do


# Status events by name; they come with and without _v2 and _bsuid suffixes.
_SENT_MESSAGE = "SENTMESSAGE"
_PROGRESS = (("READ", OutboxStatus.read), ("REPLIED", OutboxStatus.read),
             ("DELIVERED", OutboxStatus.delivered), ("FAILED", OutboxStatus.failed))


@dataclass(frozen=True, slots=True)
class Classified:
    action: Action
    status: OutboxStatus | None = None


def status_of(event: WatiEvent) -> OutboxStatus | None:
    name = (event.eventType or "").upper()
    if name.startswith(_SENT_MESSAGE):
        rest = name[len(_SENT_MESSAGE):]
        return next((status for word, status in _PROGRESS if rest.startswith(word)), None)
    if name.startswith(("TEMPLATEMESSAGEFAILED", "SESSIONMESSAGEFAILED")):
        return OutboxStatus.failed
    if name.startswith(("TEMPLATEMESSAGESENT", "SESSIONMESSAGESENT")):
        return OutboxStatus.sent
    return None


# Conversation status events. Wati documents no webhook for "solved" (docs/architecture.md,
# Handoff): these names and `newStatus` are what the sandbox sends and what we accept.
_CONVERSATION_STATUS = ("ticketstatuschanged", "conversationstatuschanged", "ticketresolved",
                        "conversationresolved", "ticketclosed")
_SOLVED = frozenset({"solved", "resolved", "closed"})


def classify(event: WatiEvent) -> Classified:
    name = (event.eventType or "").lower()
    status = status_of(event)
    if status == OutboxStatus.sent and event.owner and event.waId and event.text and \
            (event.operatorEmail or event.operatorName) and \
            name.startswith("sessionmessagesent"):
        # Sent by a person in Wati's inbox (the gateway still checks it is not one of ours).
        return Classified(Action.staff, status)
    if name.startswith(_CONVERSATION_STATUS):
        solved = (event.newStatus or "").lower() in _SOLVED or \
            name.endswith(("resolved", "closed"))
        return Classified(Action.solved) if solved and event.waId else Classified(Action.ignore)
    if status is not None:
        return Classified(Action.status, status)
    if name.startswith("newcontactmessagereceived"):
        return Classified(Action.contact) if event.waId else Classified(Action.ignore)
    if name in ("message", "messagereceived", "message_bsuid") or (not name and event.waId):
        if event.owner:
            return Classified(Action.echo)
        if not event.waId or not event.message_key:
            return Classified(Action.ignore)
        return Classified(Action.message)
    return Classified(Action.ignore)


def dedupe_key(event: WatiEvent, classified: Classified) -> str | None:
    """Inbound messages by message id; status events by (message id, status)."""
    if classified.action == Action.message:
        return f"m:{event.message_key}"
    if classified.action == Action.status and classified.status is not None:
        ref = event.localMessageId or event.whatsappMessageId or event.id
        return f"s:{ref}:{classified.status.value}" if ref else None
    if classified.action == Action.contact:
        return f"c:{event.waId}"
    if classified.action == Action.staff:
        ref = event.localMessageId or event.whatsappMessageId or event.id
        return f"o:{ref}" if ref else None
    if classified.action == Action.solved:
        return f"t:{event.id or event.created}" if (event.id or event.created) else None
    return None


def provider_ids(event: WatiEvent) -> list[str]:
    return [i for i in (event.localMessageId, event.whatsappMessageId, event.id) if i]
