"""Read side of the notification inbox."""
from lib.db import Database, scalar
from lib.domain import User


def unread_count(db: Database, user: User) -> int:
    with db.read() as cur:
        return scalar(cur, "SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
                      [user.id])
