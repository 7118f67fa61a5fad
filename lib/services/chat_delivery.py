"""Posts the team-chat outbox (issue #17 part 2): exactly once per event and channel, out of band, through restarts.

Runs in the app's background thread (lib/ui/chat_worker.py) and as `python -m lib.cli chat send`; any number at
once (replicas on PostgreSQL, the CLI beside the app) — a void never waits for a channel. A delivery moves

    queued ──claim──▶ claimed ──▶ posting ──answer──▶ sent
                                          ├─ refused / not reached ──▶ retrying (next_at: backoff) … failed
                                          └─ no answer (timeout, dropped) ──▶ unconfirmed

each step a status-guarded UPDATE in its own transaction, so two senders never both take a row. What a crash
leaves behind:

- `claimed`: taken, the request not yet sent. After LEASE_SECONDS it is queued again: nothing was sent.
- `posting`: written just before the request leaves. A sender killed now (SIGKILL mid-POST) may have delivered
  it, so after LEASE_SECONDS it becomes `unconfirmed`, as a request that timed out does: never sent again by
  itself; the administrator sees it and may Resend (the generic webhook's event_id lets receivers drop repeats).

Rows are never deleted. Errors are kept without the channel's address or secret (chat_payloads.scrub).
"""
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from lib import clock
from lib.db import CONFLICT_ERRORS, Database, rows_as_dicts
from lib.errors import ConcurrentChange
from lib.services.chat_events import derive
from lib.services.chat_payloads import refusal, scrub, signed_url

TIMEOUT = httpx.Timeout(5.0, connect=3.0)   # a slow robot must not hold the sender up for long
LEASE_SECONDS = 60          # longer than any request can take (TIMEOUT): a claim this old was left by a dead sender
MAX_ATTEMPTS = 8
BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 30, 3600   # 30 s, 1 min, 2 min … at most an hour between tries
MAX_ERROR = 300
# Requests that never reached the other end: tried again. Any other failure may have delivered it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol,
            httpx.InvalidURL, httpx.LocalProtocolError, httpx.ProxyError)
Now = Callable[[], datetime]

# httpx logs every request's full address at INFO: for a robot that is its key.
logging.getLogger("httpx").setLevel(logging.WARNING)

_CANDIDATES = """SELECT d.id, d.status, d.attempts, d.payload, c.kind, c.webhook_url, c.secret
    FROM chat_deliveries d JOIN chat_channels c ON c.id = d.channel_id
    WHERE d.status IN ('queued', 'retrying') AND d.next_at <= ? AND {which} ORDER BY d.id LIMIT ?"""


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try."""
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def send_pending(db: Database, *, now: Now = clock.now, limit: int = 100, timeout=TIMEOUT,
                 max_attempts: int = MAX_ATTEMPTS, audit_ids: list[int] | None = None) -> dict:
    """Queue the new events (chat_events.derive), settle what dead senders left, then post what is due (at most
    `limit`; only those of `audit_ids` when given: a test send). Returns counts: sent, retrying, failed,
    unconfirmed, skipped (taken by another sender), queued (new deliveries), waiting (still to be tried)."""
    counts = {"queued": derive(db, now()), "sent": 0, "retrying": 0, "failed": 0, "unconfirmed": 0, "skipped": 0}
    settle(db, now())
    rows = _candidates(db, now(), limit, audit_ids)
    if rows:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            for row in rows:
                counts[deliver(db, client, row, now, max_attempts)] += 1
    return {**counts, "waiting": _waiting(db)}


def _candidates(db: Database, at: datetime, limit: int, audit_ids: list[int] | None) -> list[dict]:
    which, params = ("c.active AND NOT c.deleted", []) if audit_ids is None else ("d.audit_id = ANY(?)", [audit_ids])
    with db.read() as cur:
        return rows_as_dicts(cur, _CANDIDATES.format(which=which), [at, *params, limit])


def settle(db: Database, at: datetime) -> None:
    """Claims older than the lease: not yet posted → queued again; posting → unconfirmed (may have been sent)."""
    stale = at - timedelta(seconds=LEASE_SECONDS)
    with db.transaction() as cur:
        cur.execute("UPDATE chat_deliveries SET status = 'queued', claimed_at = NULL"
                    " WHERE status = 'claimed' AND claimed_at < ?", [stale])
        cur.execute("UPDATE chat_deliveries SET status = 'unconfirmed', last_error = ?"
                    " WHERE status = 'posting' AND posted_at < ?", ["sender stopped while posting", stale])


def deliver(db: Database, client: httpx.Client, row: dict, now: Now, max_attempts: int) -> str:
    """Claim one delivery, post it, record the outcome; returns the outcome (a key of send_pending's counts)."""
    attempt = row["attempts"] + 1
    if not _step(db, row["id"], "claimed", "claimed_at", now(), row["status"], row["attempts"], attempt):
        return "skipped"
    url = signed_url(row["kind"], row["webhook_url"], row["secret"])
    if not _step(db, row["id"], "posting", "posted_at", now(), "claimed", attempt, attempt):
        return "skipped"
    try:
        answer = client.post(url, content=row["payload"].encode("utf-8"),
                             headers={"Content-Type": "application/json; charset=utf-8"})
    except NOT_SENT as exc:
        return _retry_or_fail(db, row, attempt, _error(exc, row), now(), max_attempts)
    except Exception as exc:  # no answer after the request went out: it may have been delivered
        _finish(db, row["id"], attempt, "unconfirmed", _error(exc, row), now())
        return "unconfirmed"
    why = refusal(row["kind"], answer.status_code, answer.text)
    if why is None:
        _finish(db, row["id"], attempt, "sent", None, now())
        return "sent"
    return _retry_or_fail(db, row, attempt, scrub(why, row["webhook_url"], row["secret"])[:MAX_ERROR], now(),
                          max_attempts)


def _step(db: Database, delivery_id: int, status: str, stamp: str, at: datetime, was: str, attempts: int,
          attempt: int) -> bool:
    """One guarded move (status `was` with `attempts` tries → `status`, tries = `attempt`); False when another
    sender moved the row first."""
    try:
        with db.transaction() as cur:
            return bool(cur.execute(
                f"UPDATE chat_deliveries SET status = ?, attempts = ?, {stamp} = ?"
                " WHERE id = ? AND status = ? AND attempts = ? RETURNING id",
                [status, attempt, at, delivery_id, was, attempts]).fetchall())
    except (ConcurrentChange, *CONFLICT_ERRORS):
        return False


def _retry_or_fail(db: Database, row: dict, attempt: int, error: str, at: datetime, max_attempts: int) -> str:
    status = "failed" if attempt >= max_attempts else "retrying"
    _finish(db, row["id"], attempt, status, error, at, next_at=at + backoff(attempt))
    return status


def _finish(db: Database, delivery_id: int, attempt: int, status: str, error: str | None, at: datetime,
            next_at: datetime | None = None) -> None:
    # Guarded by this sender's own claim: a row settled meanwhile (a very slow post) keeps what settle() said.
    with db.transaction() as cur:
        cur.execute("UPDATE chat_deliveries SET status = ?, last_error = ?, sent_at = ?, next_at = coalesce(?, next_at)"
                    " WHERE id = ? AND status = 'posting' AND attempts = ?",
                    [status, error, at if status == "sent" else None, next_at, delivery_id, attempt])


def _error(exc: Exception, row: dict) -> str:
    return scrub(f"{type(exc).__name__}: {exc}", row["webhook_url"], row["secret"])[:MAX_ERROR]


def _waiting(db: Database) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM chat_deliveries WHERE status IN ('queued', 'retrying', 'claimed',"
                           " 'posting')").fetchall()[0][0]
