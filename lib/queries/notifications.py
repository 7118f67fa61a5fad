"""Read side of the notification inbox."""
import json

from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User
from lib.i18n import t


def unread_count(db: Database, user: User) -> int:
    with db.read() as cur:
        return scalar(cur, "SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
                      [user.id])


def inbox(db: Database, user: User, unread_only: bool = False, limit: int = 100) -> list[dict]:
    """The user's own notifications, newest first: {id, created_at, kind, params (dict), order_no,
    return_no, read_at}."""
    with db.read() as cur:
        rows = rows_as_dicts(cur, "SELECT id, created_at, kind, params, order_no, return_no, read_at"
                                  " FROM notifications WHERE user_id = ? AND (NOT ? OR read_at IS NULL)"
                                  " ORDER BY created_at DESC, id DESC LIMIT ?",
                             [user.id, bool(unread_only), max(0, min(int(limit), 10_000))])
    for row in rows:
        row["params"] = _params(row["params"])
    return rows


def message(notification: dict, lang: str = "en") -> str:
    """The notification as a sentence in `lang` (plain text: show it as text, never as HTML)."""
    return t(f"notification.{notification['kind']}", lang, **notification.get("params", {}))


def _params(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def outbox(db: Database, user: User, status: str | None = None, limit: int = 500):
    """The mail outbox, newest first (admin only): what was sent, what waits, what failed and why."""
    from lib.domain import require

    require(user, "users.manage")
    with db.read() as cur:
        return cur.execute(
            "SELECT id, created_at, to_address, subject, status, attempts, last_error, sent_at FROM mail_outbox"
            " WHERE ?::VARCHAR IS NULL OR status = ? ORDER BY id DESC LIMIT ?", [status, status, limit]).df()
