"""Rules an ops lead can change (SPEC §9): approval threshold, restore window, low-stock level."""
import json
from dataclasses import dataclass
from decimal import Decimal

from lib.db import memo


@dataclass(frozen=True)
class Rules:
    approval_threshold: Decimal
    restore_window_hours: int
    low_stock_level: int
    sales_may_request_voids: bool


def read_rules(cur) -> Rules:
    """The rules in force, read inside the caller's transaction (kept between transactions: lib.db.memo)."""
    return memo(cur, "rules", _load_rules)


def _load_rules(cur) -> Rules:
    values = {k: json.loads(v) for k, v in cur.execute("SELECT key, value FROM settings").fetchall()}
    return Rules(
        approval_threshold=Decimal(str(values.get("approval_threshold", 10000))),
        restore_window_hours=int(values.get("restore_window_hours", 72)),
        low_stock_level=int(values.get("low_stock_level", 20)),
        sales_may_request_voids=bool(values.get("sales_may_request_voids", True)),
    )


def is_demo(db) -> bool:
    """True for a database filled by `seed` (the login page may then mention the demo password)."""
    with db.read() as cur:
        rows = cur.execute("SELECT value FROM settings WHERE key = 'demo_database'").fetchall()
    return bool(rows) and json.loads(rows[0][0]) is True
