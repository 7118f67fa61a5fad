"""The rules in force (SPEC §9), read side: what every void, preview and low-stock flag reads."""
import json
from decimal import Decimal

from lib.db import memo
from lib.domain import Rules


def read_rules(cur) -> Rules:
    """The rules in force, read inside the caller's transaction (kept between transactions: lib.db.memo)."""
    return memo(cur, "rules", load_rules)


def load_rules(cur) -> Rules:
    """read_rules without the memo (a write that compares with what is stored now)."""
    values = {k: json.loads(v) for k, v in cur.execute("SELECT key, value FROM settings").fetchall()}
    return Rules(
        approval_threshold=Decimal(str(values.get("approval_threshold", 10000))),
        restore_window_hours=int(values.get("restore_window_hours", 72)),
        low_stock_level=int(values.get("low_stock_level", 20)),
        sales_may_request_voids=bool(values.get("sales_may_request_voids", True)),
        import_max_mb=int(values.get("import_max_mb", 1024)),
    )
