"""Team-chat channels an administrator sets up (issue #17 part 2): add, change, disable, delete, test, resend.

Each change is audited without the secrets: the webhook address (a robot's key is in it) and DingTalk's signing
secret appear masked, or as "changed". A deleted channel is kept (marked) for its delivery history.
"""
import json
from urllib.parse import urlsplit

from lib import clock
from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User, require
from lib.errors import ConcurrentChange, InvalidInput, NotFound
from lib.i18n import LANGUAGES
from lib.services import audit
from lib.queries.chat import BASE_URL_KEY, base_url_of, mask
from lib.services.chat_messages import EVENTS, TEST_ACTION
from lib.services.chat_payloads import KINDS
from lib.services.settings import save_setting

ACTION = "chat.manage"
MAX_NAME, MAX_URL, MAX_SECRET = 80, 2000, 200


def add_channel(db: Database, actor: User, *, name: str, kind: str, webhook_url: str, language: str,
                events: list[str], secret: str | None = None) -> int:
    """A new, active channel; it receives the events of later audit entries only. Returns its id."""
    require(actor, ACTION)
    fields = _checked(name, kind, webhook_url, language, events, secret)
    now = clock.now()
    with db.transaction() as cur:
        since = scalar(cur, "SELECT coalesce(max(id), 0) FROM audit_log")
        channel_id = scalar(cur, "INSERT INTO chat_channels (name, kind, webhook_url, secret, language, events,"
                                 " since_audit_id, created_at, created_by, updated_at)"
                                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                            [*fields.values(), since, now, actor.id, now])
        audit.record(cur, actor, "chat.channel.create", "chat_channel", channel_id, after=_shown(fields), at=now)
    return channel_id


def update_channel(db: Database, actor: User, channel_id: int, version: int, *, name: str, language: str,
                   events: list[str], webhook_url: str | None = None, secret: str | None = None) -> None:
    """Change a channel (`version`: as the form read it). An empty webhook_url or secret keeps the one stored."""
    require(actor, ACTION)
    with db.transaction() as cur:
        old = _channel(cur, channel_id)
        fields = _checked(name, old["kind"], webhook_url or old["webhook_url"], language, events,
                          secret or old["secret"])
        _write(cur, actor, old, version, fields, "chat.channel.update")


def set_active(db: Database, actor: User, channel_id: int, version: int, active: bool) -> None:
    """Disable (nothing more is queued for it; what waits stays) or enable again."""
    require(actor, ACTION)
    with db.transaction() as cur:
        old = _channel(cur, channel_id)
        _write(cur, actor, old, version, {"active": bool(active)},
               "chat.channel.enable" if active else "chat.channel.disable")


def delete_channel(db: Database, actor: User, channel_id: int, version: int) -> None:
    """Remove a channel from the list; its delivery history stays."""
    require(actor, ACTION)
    with db.transaction() as cur:
        old = _channel(cur, channel_id)
        _write(cur, actor, old, version, {"active": False, "deleted": True}, "chat.channel.delete")


def record_test(db: Database, actor: User, channel_id: int) -> int:
    """Audit a test send to one channel (chat_events routes it there only); returns the entry's id, which
    lib.services.chat_delivery.send_pending(audit_ids=[…]) then posts at once."""
    require(actor, ACTION)
    with db.transaction() as cur:
        channel = _channel(cur, channel_id)
        audit.record(cur, actor, TEST_ACTION, "chat_channel", channel_id, after={"name": channel["name"]})
        return scalar(cur, "SELECT max(id) FROM audit_log WHERE action = ? AND entity_id = ?",
                      [TEST_ACTION, str(channel_id)])


def resend(db: Database, actor: User, delivery_id: int) -> None:
    """Queue a failed or unconfirmed delivery again, to be posted on the next run (same event id)."""
    require(actor, ACTION)
    with db.transaction() as cur:
        row = rows_as_dicts(cur, "UPDATE chat_deliveries SET status = 'queued', attempts = 0, next_at = ?"
                                 " WHERE id = ? AND status IN ('failed', 'unconfirmed', 'retrying')"
                                 " RETURNING id, status, audit_id, channel_id", [clock.now(), delivery_id])
        if not row:
            raise ConcurrentChange("chat.not_resendable")
        audit.record(cur, actor, "chat.delivery.resend", "chat_delivery", delivery_id,
                     after={"audit_id": row[0]["audit_id"], "channel_id": row[0]["channel_id"]})


def set_base_url(db: Database, actor: User, url: str) -> str:
    """The app's address as people open it (links in messages); empty: no links. Returns it as stored."""
    require(actor, ACTION)
    value = (url or "").strip().rstrip("/")
    if value and not _is_web_address(value):
        raise InvalidInput("chat.bad_base_url")
    with db.transaction() as cur:
        save_setting(cur, actor, BASE_URL_KEY, json.dumps(value), base_url_of(cur), value, clock.now())
    return value


def _channel(cur, channel_id: int) -> dict:
    rows = rows_as_dicts(cur, "SELECT * FROM chat_channels WHERE id = ? AND NOT deleted", [int(channel_id)])
    if not rows:
        raise NotFound("chat.channel_not_found")
    return rows[0]


def _write(cur, actor: User, old: dict, version: int, fields: dict, action: str) -> None:
    sets = ", ".join(f"{column} = ?" for column in fields)   # column names from this module, never from input
    now = clock.now()
    done = cur.execute(f"UPDATE chat_channels SET {sets}, version = version + 1, updated_at = ?"
                       " WHERE id = ? AND version = ? RETURNING id", [*fields.values(), now, old["id"], version])
    if not done.fetchall():
        raise ConcurrentChange("chat.changed_meanwhile", name=old["name"])
    before = {k: old[k] for k in fields}
    audit.record(cur, actor, action, "chat_channel", old["id"], before=_shown(before), after=_shown(fields), at=now)


def _shown(fields: dict) -> dict:
    """What the audit log may hold: the address masked, the secret only as set or not."""
    shown = dict(fields)
    if "webhook_url" in shown:
        shown["webhook_url"] = mask(shown["webhook_url"])
    if "secret" in shown:
        shown["secret"] = "***" if shown["secret"] else None
    return shown


def _checked(name, kind, webhook_url, language, events, secret) -> dict:
    name, url = (name or "").strip(), (webhook_url or "").strip()
    secret = (secret or "").strip() or None if kind == "dingtalk" else None     # only DingTalk signs
    if not name or len(name) > MAX_NAME:
        raise InvalidInput("chat.bad_name", n=MAX_NAME)
    if kind not in KINDS:
        raise InvalidInput("chat.bad_kind", value=str(kind)[:20])
    if not _is_web_address(url) or len(url) > MAX_URL:
        raise InvalidInput("chat.bad_url")
    if language not in LANGUAGES:
        raise InvalidInput("chat.bad_language")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise InvalidInput("chat.bad_event", value=str(unknown[0])[:40])
    if kind == "dingtalk" and not secret:
        raise InvalidInput("chat.secret_needed")
    if secret and len(secret) > MAX_SECRET:
        raise InvalidInput("chat.bad_secret", n=MAX_SECRET)
    chosen = ",".join(e for e in EVENTS if e in events)
    return {"name": name, "kind": kind, "webhook_url": url, "secret": secret, "language": language, "events": chosen}


def _is_web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)
