"""Double-submit protection for every service: a form's one-time key maps to the result of the first submission."""
import json

from lib import clock
from lib.db import CONSTRAINT_ERRORS, Database, send
from lib.domain import User
from lib.errors import VoidDeskError


def prior(cur, key: str):
    """The result the first submission with `key` got, or None."""
    rows = cur.execute("SELECT result FROM submissions WHERE key = ?", [key]).fetchall()
    return json.loads(rows[0][0]) if rows else None


def remember(cur, key: str | None, kind: str, actor: User | None, result) -> object:
    """Record `result` as the answer to `key` (in the caller's transaction); return it as a repeat gets it (JSON)."""
    encoded = json.dumps(result, default=str)
    if key:
        send(cur, "INSERT INTO submissions VALUES (?, ?, ?, ?, ?)",
             [key, kind, actor.id if actor else None, clock.now(), encoded])
    return json.loads(encoded)


def run_once(db: Database, key: str | None, kind: str, actor: User | None, work):
    """Run work(cur) in one transaction unless `key` was already handled; return its (JSON-able) result.

    A second submission with the same key — sequential or racing — gets the first one's result instead of acting
    again. The key is looked up inside the transaction, and Database.transaction() lets this process's writers in
    one at a time (only one process may write the file): a racing second submission waits for the first, then
    finds its result rather than a conflict, and the loser of a race reads the winner's state. Should the lookup
    still miss the first (issue #8), the refusal it then meets (its work already done, or the key taken) is
    answered with the first result too.
    """
    try:
        with db.transaction() as cur:
            first = prior(cur, key) if key else None
            if first is not None:
                return first
            result = remember(cur, key, kind, actor, work(cur))
        return result  # the same shape a repeated submission gets
    except (VoidDeskError, *CONSTRAINT_ERRORS):
        if not key:
            raise
        with db.read() as cur:
            first = prior(cur, key)
        if first is not None:
            return first
        raise
