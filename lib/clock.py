"""The day and time VoidDesk treats as now: the calendar's, or the day `VOIDDESK_TODAY` names.

Every "now" and "today" in lib/ and pages/ comes from here, so tests (and a demo recorded for a fixed day)
can run the whole product as if it were another day: the seed, the services' timestamps, the dashboards'
default windows and the CLI all move together. The shift is fixed per process and per value, so time
still runs forward (and never jumps back at midnight).
"""
import os
from datetime import date, datetime, timedelta
from functools import lru_cache

ENV = "VOIDDESK_TODAY"


@lru_cache(maxsize=8)
def _shift(day: str) -> timedelta:
    try:
        pinned = date.fromisoformat(day.strip())
    except ValueError:
        raise ValueError(f"{ENV}={day!r} is not a calendar day written YYYY-MM-DD") from None
    return datetime.combine(pinned, datetime.min.time()) - datetime.combine(date.today(), datetime.min.time())


def now() -> datetime:
    """The current local time, shifted to the day `VOIDDESK_TODAY` names when it is set."""
    day = os.environ.get(ENV, "").strip()
    return datetime.now() + _shift(day) if day else datetime.now()


def today() -> date:
    """The day VoidDesk treats as today."""
    return now().date()
