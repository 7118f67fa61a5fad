"""Document numbers SO-YYYYMMDD-NNNNN and RT-YYYYMMDD-NNNNN from per-day counters."""
from datetime import datetime

from lib import clock
from lib.db import scalar


def next_number(cur, prefix: str, at: datetime | None = None) -> str:
    """The next number of the day, inside the caller's transaction (concurrent callers conflict, never collide)."""
    day = (at or clock.now()).strftime("%Y%m%d")
    name = f"{prefix}-{day}"
    value = scalar(cur, "INSERT INTO counters VALUES (?, 1) ON CONFLICT (name) DO UPDATE"
                        " SET value = counters.value + 1 RETURNING value", [name])
    return f"{name}-{value:05d}"
