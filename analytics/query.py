"""The analytics request: a local date range in a clinic time zone plus optional filters."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from booking.models import check_timezone

DEFAULT_TZ = "Asia/Jakarta"
DEFAULT_DAYS = 30
MAX_DAYS = 366
_ID_PATTERN = r"^[A-Za-z0-9_.\- ]{1,100}$"


class AnalyticsQuery(BaseModel):
    """`from`/`to` are local dates (inclusive) in `tz`; filters narrow the booking metrics."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    tz: str = DEFAULT_TZ
    city: str | None = Field(default=None, pattern=_ID_PATTERN)
    specialty: str | None = Field(default=None, pattern=_ID_PATTERN)
    doctor_id: str | None = Field(default=None, pattern=_ID_PATTERN)

    @model_validator(mode="before")
    @classmethod
    def _default_range(cls, data: Any) -> Any:
        """No dates given: the last 30 days up to today in the chosen clinic time zone."""
        if not isinstance(data, dict) or ("to" in data and "from" in data):
            return data
        try:
            today = datetime.now(ZoneInfo(str(data.get("tz") or DEFAULT_TZ))).date()
        except (ZoneInfoNotFoundError, ValueError):
            return data   # the tz validator reports it
        return _with_defaults(data, today)

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        return check_timezone(v)

    @field_validator("city", "specialty", "doctor_id", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if v == "" else v

    @model_validator(mode="after")
    def _range(self) -> AnalyticsQuery:
        if self.date_to < self.date_from:
            raise ValueError("'to' must not be before 'from'")
        if (self.date_to - self.date_from).days + 1 > MAX_DAYS:
            raise ValueError(f"the range may span at most {MAX_DAYS} days")
        return self

    @classmethod
    def from_params(cls, params: dict[str, str], *, today: date) -> AnalyticsQuery:
        """Query string to model; the default range is the last 30 days up to today."""
        return cls.model_validate(_with_defaults(dict(params), today))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def utc_start(self) -> datetime:
        return datetime.combine(self.date_from, time(0), self.zone).astimezone(UTC)

    @property
    def utc_end(self) -> datetime:
        """Exclusive: local midnight after the last day."""
        return datetime.combine(self.date_to + timedelta(days=1), time(0),
                                self.zone).astimezone(UTC)

    def days(self) -> list[date]:
        n = (self.date_to - self.date_from).days + 1
        return [self.date_from + timedelta(days=i) for i in range(n)]

    def public(self) -> dict[str, Any]:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
                "tz": self.tz, "city": self.city, "specialty": self.specialty,
                "doctor_id": self.doctor_id}

    def cache_key(self) -> str:
        raw = json.dumps(self.public(), sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:32]


def _with_defaults(data: dict[str, Any], today: date) -> dict[str, Any]:
    data = dict(data)
    data.setdefault("to", today.isoformat())
    if "from" not in data:
        to = date.fromisoformat(data["to"]) if _is_date(data["to"]) else today
        data["from"] = (to - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    return data


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return False
    return True
