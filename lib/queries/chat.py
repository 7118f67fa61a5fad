"""Read side of team-chat notifications (issue #17 part 2): the channels, secrets masked, and the delivery history."""
import json
from urllib.parse import urlsplit

import pandas as pd

from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User, require

STATUSES = ("queued", "claimed", "posting", "sent", "retrying", "failed", "unconfirmed")
SHOWN_STATUSES = ("queued", "posting", "sent", "retrying", "failed", "unconfirmed")   # the filter ('claimed' is brief)
RESENDABLE = ("failed", "unconfirmed", "retrying")
BASE_URL_KEY = "app_base_url"


def channels(db: Database, user: User) -> list[dict]:
    """The channels that are not deleted, oldest first: id, name, kind, address (masked), has_secret, language,
    events (a list), active, version, and their deliveries counted by status."""
    require(user, "chat.manage")
    with db.read() as cur:
        rows = rows_as_dicts(cur, """SELECT c.id, c.name, c.kind, c.webhook_url, c.secret IS NOT NULL AS has_secret,
                c.language, c.events, c.active, c.version,
                count(d.id) FILTER (WHERE d.status = 'sent') AS sent,
                count(d.id) FILTER (WHERE d.status IN ('failed', 'unconfirmed')) AS problems
            FROM chat_channels c LEFT JOIN chat_deliveries d ON d.channel_id = c.id
            WHERE NOT c.deleted
            GROUP BY c.id, c.name, c.kind, c.webhook_url, c.secret, c.language, c.events, c.active, c.version
            ORDER BY c.id""")
    for row in rows:
        row["address"] = mask(row.pop("webhook_url"))
        row["events"] = [e for e in row["events"].split(",") if e]
    return rows


def deliveries(db: Database, user: User, *, status: str | None = None, channel_id: int | None = None,
               limit: int = 500) -> pd.DataFrame:
    """The delivery history, newest first: id, created_at, channel, event, order_no, summary, status, attempts,
    last_error, next_at, sent_at."""
    require(user, "chat.manage")
    with db.read() as cur:
        return cur.execute(
            "SELECT d.id, d.created_at, c.name AS channel, d.event, d.order_no, d.summary, d.status, d.attempts,"
            " d.last_error, d.next_at, d.sent_at FROM chat_deliveries d JOIN chat_channels c ON c.id = d.channel_id"
            " WHERE (?::VARCHAR IS NULL OR d.status = ?) AND (?::BIGINT IS NULL OR d.channel_id = ?)"
            " ORDER BY d.id DESC LIMIT ?", [status, status, channel_id, channel_id, int(limit)]).df()


def delivery_status(db: Database, user: User, audit_id: int) -> str | None:
    """The status of the delivery of one event (a test send: it has one channel)."""
    require(user, "chat.manage")
    with db.read() as cur:
        return scalar(cur, "SELECT status FROM chat_deliveries WHERE audit_id = ? ORDER BY id LIMIT 1", [audit_id])


def mask(url: str | None) -> str:
    """An address as shown back: scheme, host and the last four characters (https://qyapi.weixin.qq.com/…3f9a)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{host}/…{url[-4:]}" if len(url) > 12 else "…"


def base_url_of(cur) -> str | None:
    """The app's address as people open it (setting app_base_url), for links in messages; None when unset."""
    text = scalar(cur, "SELECT value FROM settings WHERE key = ?", [BASE_URL_KEY])
    value = json.loads(text) if text else None
    return value or None
