"""Chat log documents (`chat_logs`; analytics and NLU retraining read exactly these fields).

Intent, confidence, entities and the fallback/handoff flags describe the patient's
message and are set on inbound rows; outbound rows carry the reply and latency_ms
(webhook received → reply accepted by Wati) and refs: the booking codes the turn told the
patient (the outbox's "already told in the chat" matches on them).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bot.rasa_bridge import Understanding


def inbound(wa_id: str, text: str, kind: str, message_id: str | None, at: datetime,
            understood: Understanding | None, language: str) -> dict[str, Any]:
    u = understood or Understanding()
    return {"_id": uuid.uuid4().hex, "wa_id": wa_id, "direction": "in", "text": text,
            "type": kind, "intent": u.intent, "confidence": u.confidence,
            "entities": u.entities, "message_id": message_id, "at": at, "latency_ms": None,
            "fallback": u.fallback, "handoff": u.handoff, "language": u.language or language}


def outbound(wa_id: str, text: str, kind: str, message_id: str | None, at: datetime,
             latency_ms: float | None, language: str, error: str | None = None,
             refs: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
           "_id": uuid.uuid4().hex, "wa_id": wa_id, "direction": "out", "text": text,
           "type": kind, "intent": None, "confidence": None, "entities": [],
           "message_id": message_id, "at": at,
           "latency_ms": round(latency_ms, 1) if latency_ms is not None else None,
           "fallback": False, "handoff": False, "language": language,
           "refs": list(refs or [])}
    if error:
        doc["error"] = error
    return doc
