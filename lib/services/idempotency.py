"""Double-submit protection: a form's one-time key maps to the result of the first submission."""
import json

import duckdb

from lib import clock
from lib.db import Database
from lib.domain import User
from lib.errors import VoidDeskError


def _prior(db: Database, key: str):
    with db.read() as cur:
        rows = cur.execute("SELECT result FROM submissions WHERE key = ?", [key]).fetchall()
    return json.loads(rows[0][0]) if rows else None


def run_once(db: Database, key: str | None, kind: str, actor: User | None, work):
    """Run work(cur) in one transaction unless `key` was already handled; return its (JSON-able) result.

    A second submission with the same key — sequential or racing — gets the first one's result
    instead of acting again (also when, racing, it found the first one's work done and was refused for it).
    """
    if key:
        prior = _prior(db, key)
        if prior is not None:
            return prior
    try:
        with db.transaction() as cur:
            encoded = json.dumps(work(cur), default=str)
            if key:
                cur.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?)",
                            [key, kind, actor.id if actor else None, clock.now(), encoded])
        return json.loads(encoded)  # the same shape a repeated submission gets
    except (VoidDeskError, duckdb.ConstraintException):
        prior = _prior(db, key) if key else None
        if prior is not None:
            return prior
        raise
