"""Sends the mail outbox (SPEC §7): nothing is lost when the mail server is down.

A message is claimed with a status-guarded UPDATE (queued/failed → sending, attempts + 1) before it is
handed to the server, so two senders running at once never both send it; then it becomes `sent`, or
`failed` with the error, and is tried again on a later run until `max_attempts`. Rows are never deleted.
While a row is `sending`, `sent_at` holds the moment it was claimed: a sender that died mid-send leaves it
there, and after `lease_seconds` another run takes it over (the message may then go out twice — at least
once beats never).
"""
import os
import smtplib
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage


from lib import clock
from lib.db import CONFLICT_ERRORS, Database, rows_as_dicts
from lib.errors import ConcurrentChange
from lib.services.notify import queue_mail

Sender = Callable[[EmailMessage], None]
DEFAULT_FROM = "voiddesk@localhost"
MAX_ERROR = 500


def config_from_env(env=None) -> dict | None:
    """SMTP settings from VOIDDESK_SMTP_HOST/_PORT/_USER/_PASSWORD/_FROM/_STARTTLS/_SSL, or None when unset."""
    env = os.environ if env is None else env
    host = (env.get("VOIDDESK_SMTP_HOST") or "").strip()
    if not host:
        return None
    flag = lambda name: (env.get(name) or "").strip().lower() in ("1", "true", "yes")  # noqa: E731
    return {"host": host, "port": int(env.get("VOIDDESK_SMTP_PORT") or 25),
            "username": env.get("VOIDDESK_SMTP_USER") or None, "password": env.get("VOIDDESK_SMTP_PASSWORD") or None,
            "from_address": env.get("VOIDDESK_SMTP_FROM") or DEFAULT_FROM,
            "starttls": flag("VOIDDESK_SMTP_STARTTLS"), "ssl": flag("VOIDDESK_SMTP_SSL")}


def send_pending(db: Database, smtp_config: dict | None, *, max_attempts: int = 5, sender: Sender | None = None,
                 limit: int = 200, lease_seconds: int = 300) -> dict:
    """Send queued and failed messages (oldest first, at most `limit`); returns counts.

    {"sent", "failed", "skipped" (taken by another sender meanwhile), "configured", "waiting" (still to be
    tried), "given_up" (failed `max_attempts` times: kept, retried only with a higher max_attempts)}.
    New notifications are turned into queued mail first (lib.services.notify.queue_mail); without SMTP
    settings and without `sender` nothing is sent.
    """
    queue_mail(db)
    smtp = None
    if sender is None and smtp_config:
        smtp = SmtpSender(smtp_config)
        sender = smtp
    counts = {"sent": 0, "failed": 0, "skipped": 0, "configured": sender is not None}
    try:
        if sender is not None:
            from_address = (smtp_config or {}).get("from_address") or DEFAULT_FROM
            for row in _candidates(db, max_attempts, limit, lease_seconds):
                outcome = _send_one(db, row, sender, from_address)
                counts[outcome] += 1
    finally:
        if smtp is not None:
            smtp.close()
    return {**counts, **_backlog(db, max_attempts)}


def _candidates(db: Database, max_attempts: int, limit: int, lease_seconds: int) -> list[dict]:
    stale = clock.now() - timedelta(seconds=lease_seconds)
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT * FROM mail_outbox WHERE attempts < ? AND (status IN ('queued', 'failed')"
                                  " OR (status = 'sending' AND sent_at < ?)) ORDER BY id LIMIT ?",
                             [max_attempts, stale, limit])


def _send_one(db: Database, row: dict, sender: Sender, from_address: str) -> str:
    if not _claim(db, row):
        return "skipped"
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message.set_content(row["body"])
    try:
        sender(message)
    except Exception as exc:  # any failure of the server or the network keeps the message for a retry
        _finish(db, row, "failed", f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
        return "failed"
    _finish(db, row, "sent", None)
    return "sent"


def _claim(db: Database, row: dict) -> bool:
    """queued/failed/stale sending → sending, guarded by the status and attempts this run read."""
    try:
        with db.transaction() as cur:
            return bool(cur.execute(
                "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, sent_at = ?"
                " WHERE id = ? AND status = ? AND attempts = ? RETURNING id",
                [clock.now(), row["id"], row["status"], row["attempts"]]).fetchall())
    except (ConcurrentChange, *CONFLICT_ERRORS):
        return False


def _finish(db: Database, row: dict, status: str, error: str | None) -> None:
    # Guarded by this run's claim, so a sender that took over a stale claim is not overwritten.
    guard = [row["id"], row["attempts"] + 1]
    with db.transaction() as cur:
        if status == "sent":
            cur.execute("UPDATE mail_outbox SET status = 'sent', sent_at = ?, last_error = NULL"
                        " WHERE id = ? AND attempts = ? AND status = 'sending'", [clock.now(), *guard])
        else:
            cur.execute("UPDATE mail_outbox SET status = 'failed', sent_at = NULL, last_error = ?"
                        " WHERE id = ? AND attempts = ? AND status = 'sending'", [error, *guard])


def _backlog(db: Database, max_attempts: int) -> dict:
    with db.read() as cur:
        waiting, given_up = cur.execute(
            "SELECT count(*) FILTER (WHERE attempts < ?), count(*) FILTER (WHERE attempts >= ?)"
            " FROM mail_outbox WHERE status <> 'sent'", [max_attempts, max_attempts]).fetchall()[0]
    return {"waiting": waiting, "given_up": given_up}


class SmtpSender:
    """Sends through one SMTP connection, opened on first use and reopened after an error."""

    def __init__(self, config: dict):
        self.config = config
        self._smtp = None

    def __call__(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except Exception:
            self.close()
            raise

    def _connect(self):
        c = self.config
        cls = smtplib.SMTP_SSL if c.get("ssl") else smtplib.SMTP
        smtp = cls(c["host"], int(c.get("port") or (465 if c.get("ssl") else 25)), timeout=c.get("timeout", 10))
        if c.get("starttls"):
            smtp.starttls()
        if c.get("username"):
            smtp.login(c["username"], c.get("password") or "")
        return smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
