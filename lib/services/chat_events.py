"""Team-chat events from the audit log (issue #17 part 2): each entry of a chosen kind becomes one delivery per
channel that wants it, exactly once; a batch's entries of one event as one (lib.services.chat_groups).

Every change writes its audit entry in its own transaction; the change feed's mark (lib.services.change_feed,
target ':chat') hands out each entry once on both backends, and the deliveries are written in the transaction that
moves the mark on. The key (audit_id, channel_id) makes a second delivery of the same event impossible anyway. A
channel receives the events of entries after its own creation, and only while it is active; a test send goes to
the channel it names.
"""
import json
from datetime import datetime

from lib import clock
from lib.db import Database, insert_rows, rows_as_dicts, scalar
from lib.errors import ConcurrentChange
from lib.queries.chat import base_url_of
from lib.services.change_feed import close_window, open_window
from lib.services.chat_groups import compose_batch, grouped
from lib.services.chat_messages import ACTIONS, TEST_ACTION, compose, entry_from_row
from lib.services.chat_payloads import body

TARGET = ":chat"            # the change feed refuses ':' in an ERP's target: no export can take these entries
# the actor by the name people know in the group ("Li Lei"), the username when the entry has no account
_ENTRIES = """SELECT a.id, a.created_at, a.action, a.entity_id, a.order_no, a.after,
        coalesce(u.display_name, a.actor_name) AS actor_name, r.return_no
    FROM audit_log a
    LEFT JOIN users u ON u.id = a.actor_id
    LEFT JOIN return_notes r ON a.action = 'return.receive' AND CAST(r.id AS VARCHAR) = a.entity_id
    WHERE a.action IN ({actions}) AND a.id > ? AND {where}
    ORDER BY a.id"""
_COLUMNS = {"audit_id": "BIGINT", "channel_id": "BIGINT", "event": "VARCHAR", "order_no": "VARCHAR",
            "summary": "VARCHAR", "payload": "VARCHAR", "created_at": "TIMESTAMP", "next_at": "TIMESTAMP"}


def derive(db: Database, at: datetime | None = None) -> int:
    """Turn the audit entries written since the last run into deliveries, due at `at` (default now); returns how
    many were queued (0 when another sender's first run made the mark meanwhile: it queued them)."""
    try:
        return _derive(db, at or clock.now())
    except ConcurrentChange:
        return 0


def _derive(db: Database, now: datetime) -> int:
    with db.transaction() as cur:
        channels = rows_as_dicts(cur, "SELECT id, name, kind, language, events, active, since_audit_id"
                                      " FROM chat_channels WHERE NOT deleted ORDER BY id")
        if not channels:
            return 0
        window = open_window(cur, TARGET)
        actions = ", ".join(f"'{a}'" for a in (*ACTIONS, TEST_ACTION))
        rows = rows_as_dicts(cur, _ENTRIES.format(actions=actions, where=window.where),
                             [min(c["since_audit_id"] for c in channels), *window.params])
        base_url = base_url_of(cur)
        labels = _reason_labels(cur) if any(r["action"] == "spike.alert" for r in rows) else {}
        entries = grouped([entry_from_row(row, labels) for row in rows])   # a batch: one message per event
        deliveries = [d for entry in entries for d in _deliveries(entry, channels, base_url, now)]
        if deliveries:   # one statement however many (a batch void of 1,000 paid orders owes 1,000 refunds)
            insert_rows(cur, "chat_deliveries", _COLUMNS, deliveries, on_conflict="(audit_id, channel_id) DO NOTHING")
        through = _through(cur, window, rows)
        if window.snapshot is not None or not window.mark or through != window.mark["through_id"]:
            close_window(cur, window, through, len(rows), None)   # (a DuckDB file with nothing new: no write)
    return len(deliveries)


def _deliveries(entry, channels: list[dict], base_url: str | None, now) -> list[tuple]:
    rows = []
    for channel in (c for c in channels if _wants(c, entry)):
        message = (compose_batch(entry, channel["language"], base_url) if entry.members
                   else compose(entry, channel["language"], base_url, channel["name"]))
        payload = json.dumps(body(channel["kind"], entry, message, channel["language"]), ensure_ascii=False,
                             default=str)
        rows.append((entry.id, channel["id"], entry.event, entry.order_no, message.summary, payload, now, now))
    return rows


def _wants(channel: dict, entry) -> bool:
    if entry.action == TEST_ACTION:
        return entry.entity_id == str(channel["id"])
    return (channel["active"] and entry.id > channel["since_audit_id"]
            and entry.event in channel["events"].split(","))


def _through(cur, window, rows: list[dict]) -> int:
    """Where the mark moves: on a DuckDB file this process's writers take turns, so every entry up to the newest
    is committed and read; on PostgreSQL the snapshot is what counts (the id only for the record)."""
    if window.snapshot is None:
        return scalar(cur, "SELECT coalesce(max(id), 0) FROM audit_log")
    last = window.mark["through_id"] if window.mark else 0
    return max([last, *(r["id"] for r in rows)])


def _reason_labels(cur) -> dict[tuple[str, str], tuple[str, str]]:
    return {(kind, code): (en, zh) for kind, code, en, zh in
            cur.execute("SELECT kind, code, label_en, label_zh FROM reasons").fetchall()}

