"""Slowing down password guessing without letting a stranger lock the owner out (issue #16 finding 1).

Each sign-in attempt is counted before its password is checked, in the transaction that reads the earlier ones, so
attempts made at the same moment are counted one after another: a process's writers take turns on a DuckDB file,
and on PostgreSQL the counting rows are locked FOR UPDATE, so replicas take turns too. Two counts:

- per account and client address, strictly: FREE_ATTEMPTS attempts, then each waits FIRST_DELAY after the one
  before, doubling up to MAX_DELAY. A successful sign-in, or QUIET time without attempts, starts the count over.
- per account, loosely, only from addresses that have never signed in to it: ACCOUNT_BURST attempts at once, then
  one every ACCOUNT_INTERVAL. Guessing from many addresses is slowed down; the owner at a computer they signed in
  from before is not, and guessing from one address alone never uses the allowance up.

Refused attempts are not counted, so hammering does not make anyone's wait longer, and nobody waits more than a
minute: there is no lockout to wait out.
"""
import ipaddress
import math
from datetime import datetime, timedelta

from lib.db import for_update
from lib.errors import TooManyAttempts

FREE_ATTEMPTS = 5
FIRST_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(seconds=60)
QUIET = timedelta(minutes=15)
ACCOUNT_BURST = 20
ACCOUNT_INTERVAL = timedelta(seconds=30)
MAX_ADDRESS = 64


def address_key(address: str | None) -> str:
    """The address attempts are counted under: '' when there is none (the command line, a local browser); an IPv6
    address by its /64 network, since one line is handed a whole /64 to pick addresses from."""
    address = (address or "").strip().lower()[:MAX_ADDRESS]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def client_address(peer: str | None, forwarded_for: str | None) -> str | None:
    """The browser's address: the connection's own, or, when that comes from this machine (a local browser, or the
    nginx of lib/tools/cluster.py in front of the replicas), the last X-Forwarded-For entry, the one the proxy
    added. Earlier entries are whatever the browser sent, so they are never trusted."""
    if peer:
        return peer
    last = (forwarded_for or "").rsplit(",", 1)[-1].strip()
    return last or None


def reserve(db, username: str, address: str, now: datetime) -> None:
    """Count one attempt for `username` from `address` (an address_key), or raise TooManyAttempts and count
    nothing."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO login_attempts (username, address, attempts, last_at) VALUES (?, ?, 0, ?)"
                    " ON CONFLICT DO NOTHING", [username, address, now])
        attempts, last_at, signed_in_at = cur.execute(
            "SELECT attempts, last_at, signed_in_at FROM login_attempts WHERE username = ? AND address = ?"
            + for_update(cur), [username, address]).fetchall()[0]
        if now - last_at >= QUIET:
            attempts = 0
        wait = _backoff(attempts, last_at, now)
        if wait > timedelta(0):
            raise TooManyAttempts(seconds=_whole_seconds(wait))
        if signed_in_at is None:
            _take_account_turn(cur, username, now)
        cur.execute("UPDATE login_attempts SET attempts = ?, last_at = ? WHERE username = ? AND address = ?",
                    [attempts + 1, now, username, address])


def _backoff(attempts: int, last_at: datetime, now: datetime) -> timedelta:
    if attempts < FREE_ATTEMPTS:
        return timedelta(0)
    doublings = min(attempts - FREE_ATTEMPTS, 10)   # MAX_DELAY is reached long before; 2 ** n stays small
    return last_at + min(FIRST_DELAY * 2 ** doublings, MAX_DELAY) - now


def _take_account_turn(cur, username: str, now: datetime) -> None:
    """The account's allowance for unfamiliar addresses: next_at runs ahead of the clock by ACCOUNT_INTERVAL for
    every attempt and falls back with time; an attempt is let through while it is less than ACCOUNT_BURST
    intervals ahead."""
    cur.execute("INSERT INTO login_pace (username, next_at) VALUES (?, ?) ON CONFLICT DO NOTHING", [username, now])
    next_at = cur.execute("SELECT next_at FROM login_pace WHERE username = ?" + for_update(cur),
                          [username]).fetchall()[0][0]
    next_at = max(next_at, now)
    wait = next_at - now - ACCOUNT_INTERVAL * (ACCOUNT_BURST - 1)
    if wait > timedelta(0):
        raise TooManyAttempts("auth.too_many_attempts_account", seconds=_whole_seconds(wait))
    cur.execute("UPDATE login_pace SET next_at = ? WHERE username = ?", [next_at + ACCOUNT_INTERVAL, username])


def signed_in(db, username: str, address: str, now: datetime) -> None:
    """A successful sign-in from `address`: its count starts over, and it is a computer the owner uses."""
    with db.transaction() as cur:
        cur.execute("UPDATE login_attempts SET attempts = 0, signed_in_at = ? WHERE username = ? AND address = ?",
                    [now, username, address])


def _whole_seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))
