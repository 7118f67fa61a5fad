"""Notifications (SPEC §7): an inbox row per recipient, and a mail in the outbox for those with an e-mail."""
import json
from datetime import datetime

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
