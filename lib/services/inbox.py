"""The notification inbox, write side: mark read. Reading one's own notifications is personal state, not
an audited change of the business."""

from lib import clock
from lib.db import Database
from lib.domain import User
from lib.errors import ConcurrentChange


def mark_read(db: Database, user: User, notification_ids) -> int:
    """Mark some of the user's own notifications read; others' ids are ignored. Returns how many changed."""
    ids = [int(i) for i in (notification_ids or [])]
    if not ids:
        return 0
    return _mark(db, " AND id = ANY(?)", [clock.now(), user.id, ids])


def mark_all_read(db: Database, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return _mark(db, "", [clock.now(), user.id])


def _mark(db: Database, extra: str, params: list) -> int:
    try:
        with db.transaction() as cur:
            return len(cur.execute("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL"
                                   f"{extra} RETURNING id", params).fetchall())
    except ConcurrentChange:
        return 0   # the same user's other browser tab marked them at the same moment
