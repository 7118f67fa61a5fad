"""Notifications (SPEC §7): an inbox row per recipient, and a mail in the outbox for those with an e-mail."""
import json
from datetime import datetime

from lib.db import insert_rows
from lib.i18n import t


def recipients_by_role(cur, roles: tuple[str, ...]) -> list[int]:
    return [r[0] for r in cur.execute(
        "SELECT id FROM users WHERE active AND list_contains(?, role)", [list(roles)]).fetchall()]


def notify(cur, user_ids, kind: str, params: dict, *, order_no: str | None = None,
           return_no: str | None = None, exclude: int | None = None) -> int:
    """Create one notification per distinct recipient (the actor excluded) and queue its mail."""
    now = datetime.now()
    targets = sorted({u for u in user_ids if u is not None and u != exclude})
    payload = json.dumps(params, ensure_ascii=False, default=str)
    for user_id in targets:
        nid = cur.execute(
            "INSERT INTO notifications (user_id, created_at, kind, params, order_no, return_no)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [user_id, now, kind, payload, order_no, return_no]).fetchall()[0][0]
        _queue_mail(cur, nid, user_id, kind, params, now)
    return len(targets)


def _queue_mail(cur, notification_id: int, user_id: int, kind: str, params: dict, now: datetime) -> None:
    rows = cur.execute("SELECT email, coalesce(language, 'en') FROM users WHERE id = ?", [user_id]).fetchall()
    if not rows or not rows[0][0]:
        return
    email, lang = rows[0]
    subject = t(f"notification.{kind}", lang, **params)
    cur.execute(
        "INSERT INTO mail_outbox (notification_id, to_address, subject, body, created_at)"
        " VALUES (?, ?, ?, ?, ?)", [notification_id, email, f"[VoidDesk] {subject}", subject, now])


def active_users(cur) -> dict[int, dict]:
    """id -> {role, email, language, username, display_name} of every active user (a small table)."""
    return {r[0]: {"role": r[1], "email": r[2], "language": r[3] or "en", "username": r[4], "display_name": r[5]}
            for r in cur.execute("SELECT id, role, email, language, username, display_name FROM users"
                                 " WHERE active").fetchall()}


_NOTIFICATION_COLUMNS = {"user_id": "INTEGER", "created_at": "TIMESTAMP", "kind": "VARCHAR", "params": "VARCHAR",
                         "order_no": "VARCHAR"}
_MAIL_COLUMNS = {"notification_id": "BIGINT", "to_address": "VARCHAR", "subject": "VARCHAR", "body": "VARCHAR",
                 "created_at": "TIMESTAMP"}


def notify_many(cur, people: dict, items: list[tuple], *, exclude: int | None, now: datetime) -> None:
    """Inbox rows (and queued mails, as lib.services.notify does) for (user id, kind, params, order) items;
    the actor, inactive users and repeats of the same message to the same person are left out."""
    seen, rows = set(), []
    for user_id, kind, params, order in items:
        key = (user_id, kind, order["order_no"])
        if user_id in people and user_id != exclude and key not in seen:
            seen.add(key)
            rows.append((user_id, kind, json.dumps(params, ensure_ascii=False, default=str), order["order_no"]))
    if not rows:
        return
    made = insert_rows(cur, "notifications", _NOTIFICATION_COLUMNS, [(u, now, k, p, o) for u, k, p, o in rows],
                       returning="id, user_id, kind, params")
    mails = []
    for nid, user_id, kind, params in made:
        person = people[user_id]
        if person["email"]:
            subject = t(f"notification.{kind}", person["language"], **json.loads(params))
            mails.append((nid, person["email"], f"[VoidDesk] {subject}", subject))
    if mails:
        insert_rows(cur, "mail_outbox", _MAIL_COLUMNS, [(*m, now) for m in mails])
