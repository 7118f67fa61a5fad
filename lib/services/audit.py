"""The append-only audit log: one entry per state change (SPEC §7)."""
import json
from datetime import date, datetime
from decimal import Decimal

from lib import clock
from lib.domain import User


def _default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


AUDIT_COLUMNS = {"created_at": "TIMESTAMP", "actor_id": "INTEGER", "actor_name": "VARCHAR", "action": "VARCHAR",
                 "entity_type": "VARCHAR", "entity_id": "VARCHAR", "order_no": "VARCHAR", "before": "VARCHAR",
                 "after": "VARCHAR", "note": "VARCHAR"}


def to_json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=_default, sort_keys=True)


def record(cur, actor: User | None, action: str, entity_type: str, entity_id, *,
           before=None, after=None, note: str | None = None, order_no: str | None = None,
           at: datetime | None = None) -> None:
    """Append one audit entry inside the caller's transaction."""
    cur.execute(
        "INSERT INTO audit_log (created_at, actor_id, actor_name, action, entity_type, entity_id, order_no,"
        " before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [at or clock.now(), actor.id if actor else None, actor.username if actor else "system",
         action, entity_type, str(entity_id), order_no, to_json(before), to_json(after), note],
    )
