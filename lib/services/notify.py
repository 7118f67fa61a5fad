"""Notifications (SPEC §7): an inbox row per recipient, written with the change that causes it; the mail for
those with an e-mail address is made from them afterwards (queue_mail), outside the change's transaction."""
import json
from datetime import datetime

from lib import clock
from lib.db import insert_rows, memo
from lib.i18n import in_language, t


def recipients_by_role(cur, roles: tuple[str, ...]) -> list[int]:
    return [r[0] for r in cur.execute(
        "SELECT id FROM users WHERE active AND role = ANY(?)", [list(roles)]).fetchall()]


def notify(cur, user_ids, kind: str, params: dict, *, order_no: str | None = None,
           return_no: str | None = None, exclude: int | None = None) -> int:
    """Create one notification per distinct recipient (the actor excluded) and queue its mail."""
    now = clock.now()
    targets = sorted({u for u in user_ids if u is not None and u != exclude})
    payload = json.dumps(params, ensure_ascii=False, default=str)
    for user_id in targets:
        cur.execute(
            "INSERT INTO notifications (user_id, created_at, kind, params, order_no, return_no)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [user_id, now, kind, payload, order_no, return_no])
    return len(targets)


WATERMARK = "mail_queued_through"   # counters row: the last notification id already turned into mail
_NEW_MAIL = """SELECT n.id, u.email, coalesce(u.language, 'en'), n.kind, n.params
    FROM notifications n JOIN users u ON u.id = n.user_id
    WHERE n.id > ? AND n.id <= ? AND u.email IS NOT NULL AND trim(u.email) <> '' ORDER BY n.id"""


def queue_mail(db, limit: int = 5000) -> int:
    """Put a mail in the outbox for each notification made since the last run (recipient with an e-mail
    address, in their language); returns how many. Runs before every send and when the outbox is shown, in
    one transaction with the watermark, so each notification gets its mail exactly once."""
    with db.transaction() as cur:
        done = cur.execute("SELECT value FROM counters WHERE name = ?", [WATERMARK]).fetchall()
        start = done[0][0] if done else 0
        last = cur.execute("SELECT coalesce(max(id), 0) FROM notifications WHERE id > ?", [start]).fetchall()[0][0]
        last = min(last, start + limit)
        if last <= start:
            return 0
        now = clock.now()
        mails = []
        for nid, email, lang, kind, params in cur.execute(_NEW_MAIL, [start, last]).fetchall():
            subject = t(f"notification.{kind}", lang, **in_language(json.loads(params), lang))
            mails.append((nid, email.strip(), f"[VoidDesk] {subject}", subject, now))
        if mails:
            insert_rows(cur, "mail_outbox", _MAIL_COLUMNS, mails)
        cur.execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [WATERMARK, last])
        return len(mails)


def active_users(cur) -> dict[int, dict]:
    """id -> {role, email, language, username, display_name} of every active user (a small table, kept
    between transactions: lib.db.memo). Treat the result as read-only."""
    return memo(cur, "active_users", _load_active_users)


def _load_active_users(cur) -> dict[int, dict]:
    return {r[0]: {"role": r[1], "email": r[2], "language": r[3] or "en", "username": r[4], "display_name": r[5]}
            for r in cur.execute("SELECT id, role, email, language, username, display_name FROM users"
                                 " WHERE active").fetchall()}


_NOTIFICATION_COLUMNS = {"user_id": "INTEGER", "created_at": "TIMESTAMP", "kind": "VARCHAR", "params": "VARCHAR",
                         "order_no": "VARCHAR"}
_MAIL_COLUMNS = {"notification_id": "BIGINT", "to_address": "VARCHAR", "subject": "VARCHAR", "body": "VARCHAR",
                 "created_at": "TIMESTAMP"}


def notify_many(cur, people: dict, items: list[tuple], *, exclude: int | None, now: datetime) -> None:
    """Inbox rows for (user id, kind, params, order) items, one statement; the actor, inactive users and repeats
    of the same message to the same person are left out (their mail follows: queue_mail)."""
    seen, rows = set(), []
    for user_id, kind, params, order in items:
        key = (user_id, kind, order["order_no"])
        if user_id in people and user_id != exclude and key not in seen:
            seen.add(key)
            rows.append((user_id, kind, json.dumps(params, ensure_ascii=False, default=str), order["order_no"]))
    if not rows:
        return
    insert_rows(cur, "notifications", _NOTIFICATION_COLUMNS, [(u, now, k, p, o) for u, k, p, o in rows])
