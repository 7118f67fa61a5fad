"""Rules an ops lead can change (SPEC §9): approval threshold, restore window, low-stock level, sales void requests."""
import json
from decimal import Decimal, InvalidOperation

from lib import clock
from lib.db import Database
from lib.domain import User, require
from lib.errors import InvalidInput
from lib.queries.settings import load_rules
from lib.services import audit
from lib.services._catalogue import whole_number


def is_demo(db) -> bool:
    """True for a database filled by `seed` (the login page may then mention the demo password)."""
    with db.read() as cur:
        rows = cur.execute("SELECT value FROM settings WHERE key = 'demo_database'").fetchall()
    return bool(rows) and json.loads(rows[0][0]) is True


# --- changing the rules (SPEC §9 rules page) ---------------------------------------------------------

MAX_THRESHOLD = Decimal("999999999999.99")     # the largest DECIMAL(14,2)
MIN_WINDOW_HOURS, MAX_WINDOW_HOURS = 1, 720
MAX_LOW_STOCK = 1_000_000
MIN_IMPORT_MB, MAX_IMPORT_MB = 1, 10_240
RULE_KEYS = ("approval_threshold", "restore_window_hours", "low_stock_level", "sales_may_request_voids",
             "import_max_mb")


def update_rules(db: Database, actor: User, **changes) -> dict:
    """Change some of the rules (RULE_KEYS); return {key: (before, after)} of those that changed.

    Every value is checked before anything is written; each change gets its own audit entry with before
    and after; a save that changes nothing writes nothing. Services see the new values at once (lib.queries.settings.read_rules).
    """
    require(actor, "settings.edit")
    unknown = set(changes) - set(RULE_KEYS)
    if unknown:
        raise TypeError(f"unknown rules: {sorted(unknown)}")
    wanted = {key: _CLEANERS[key](value) for key, value in changes.items() if value is not None}
    with db.transaction() as cur:
        current = load_rules(cur)
        changed = {k: (getattr(current, k), v) for k, v in wanted.items() if getattr(current, k) != v}
        now = clock.now()
        for key, (before, after) in changed.items():
            save_setting(cur, actor, key, _as_json(after), before, after, now)
    return changed


def save_setting(cur, actor: User, key: str, text: str, before, after, now) -> None:
    """Store one setting (its JSON text) with its audit entry, in the caller's transaction."""
    cur.execute("INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
                " updated_by = excluded.updated_by", [key, text, now, actor.id])
    audit.record(cur, actor, "settings.update", "setting", key, before={key: before}, after={key: after}, at=now)


def rule_changes(db: Database) -> dict[str, dict]:
    """key -> {updated_at, updated_by} (a display name) for each rule someone has changed."""
    with db.read() as cur:
        rows = cur.execute("SELECT s.key, s.updated_at, u.display_name FROM settings s"
                           " JOIN users u ON u.id = s.updated_by WHERE s.key = ANY(?)",
                           [list(RULE_KEYS)]).fetchall()
    return {key: {"updated_at": at, "updated_by": name} for key, at, name in rows}


def _as_json(value) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value)


def _threshold(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise InvalidInput("rules.threshold_not_number")
    if amount < 0:
        raise InvalidInput("rules.threshold_negative")
    if amount > MAX_THRESHOLD:
        raise InvalidInput("rules.threshold_too_large", max=format(MAX_THRESHOLD, ","))
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("rules.threshold_cents")
    return amount.quantize(Decimal("0.01"))


def _whole(value, low: int, high: int, key: str) -> int:
    number = whole_number(value)
    if number is None or not low <= number <= high:
        raise InvalidInput(key, low=low, high=high)
    return number


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("rules.bad_flag")
    return value


_CLEANERS = {
    "approval_threshold": _threshold,
    "restore_window_hours": lambda v: _whole(v, MIN_WINDOW_HOURS, MAX_WINDOW_HOURS, "rules.window_range"),
    "low_stock_level": lambda v: _whole(v, 0, MAX_LOW_STOCK, "rules.low_stock_range"),
    "sales_may_request_voids": _flag,
    "import_max_mb": lambda v: _whole(v, MIN_IMPORT_MB, MAX_IMPORT_MB, "rules.import_max_range"),
}
