"""Demo data (SPEC §9, `python -m lib.cli seed`): two years of a realistic order desk, in one transaction.

The world is simulated with numpy (lib/seed/world, orders, voids, returns, stock, events) and bulk-inserted
through Arrow tables (lib/seed/arrow, write, write_logs), so a million orders take seconds, not hours. Everything
derives from `seed` and `today`: the same arguments give the same data (password salts aside).
"""
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import numpy as np

from lib import clock
from lib.db import Database, scalar
from lib.errors import InvalidInput, NotEmpty
from lib.seed.data import DEMO_PASSWORD, HORIZON_DAYS, USERS
from lib.seed.events import plan_assignments, plan_comments
from lib.seed.orders import observe, place_orders, plan_lifecycle
from lib.seed.returns import plan_refunds, plan_returns, settle_payments
from lib.seed.voids import add_open_requests, finish_voids, plan_voids
from lib.seed.world import build_catalog, build_customers
from lib.seed.write import write_world

__all__ = ["DEMO_PASSWORD", "seed", "simulate"]

_GUARDED = ("users", "customers", "products", "orders")
_DEFAULT_THRESHOLD = 1_000_000   # cents, when the setting is missing or unreadable


def seed(db: Database, orders: int = 200_000, seed: int = 42, today: date | None = None,
         progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Fill an empty database with demo data and return the rows written per table.

    Raises NotEmpty (and writes nothing) when there already are users, customers, products or orders.
    "Now" for the demo is midnight at the start of `today`: every event lies before it.
    """
    if not isinstance(orders, int) or orders < 0:
        raise InvalidInput("seed.bad_orders")
    say = progress or (lambda _msg: None)
    today = today or clock.today()
    today = today.date() if isinstance(today, datetime) else today
    with db.transaction() as cur:
        _refuse_non_empty(cur)
        # Argon2 is slow on purpose and releases the GIL: hash the passwords while numpy simulates.
        with ThreadPoolExecutor(max_workers=2) as pool:
            hashes = [pool.submit(_hash, DEMO_PASSWORD) for _ in USERS]
            world = simulate(np.random.default_rng(seed), orders, today, _threshold_cents(cur), say)
            say("users")
            counts = write_world(cur, world, [h.result() for h in hashes], say)
        # Marks a demo database: the sign-in page may then mention the shared demo password.
        cur.execute("INSERT INTO settings (key, value) VALUES ('demo_database', 'true')"
                    " ON CONFLICT (key) DO UPDATE SET value = 'true'")
        return counts


def _refuse_non_empty(cur) -> None:
    for table in _GUARDED:  # fixed names, never user input
        if scalar(cur, f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1) t"):
            raise NotEmpty()


def _hash(password: str) -> str:
    from lib.services.auth import hash_password  # imported late: it builds a hash at import time

    return hash_password(password)


def _threshold_cents(cur) -> int:
    value = scalar(cur, "SELECT value FROM settings WHERE key = 'approval_threshold'")
    try:
        return int(round(float(value) * 100))
    except (TypeError, ValueError):
        return _DEFAULT_THRESHOLD


def _epoch(day: date) -> int:
    return int((datetime.combine(day, datetime.min.time()) - datetime(1970, 1, 1)).total_seconds())


def simulate(rng, n: int, today: date, threshold_cents: int, say=lambda _msg: None) -> SimpleNamespace:
    """The demo world as numpy arrays, no database involved; its logs are derived from it when written."""
    start = today - timedelta(days=HORIZON_DAYS)
    start_s, now = _epoch(start), _epoch(today)
    spike_start = _epoch(today - timedelta(days=today.weekday() + 21))   # the Monday three weeks back
    catalog = build_catalog(rng)
    customers = build_customers(rng, max(200, n // 20), start_s, HORIZON_DAYS)
    say("simulating orders")
    o = place_orders(rng, n, start, start_s, HORIZON_DAYS, customers, catalog)
    plan_lifecycle(rng, o)
    voids = plan_voids(rng, o, now, threshold_cents, spike_start)
    seen = observe(o, now)
    voids = finish_voids(rng, o, add_open_requests(rng, o, seen["status"], voids, now, threshold_cents), now)
    say("simulating returns and refunds")
    notes, lines = plan_returns(rng, o, seen, now)
    refunds = plan_refunds(rng, o, voids, notes, now)
    settle_payments(o, seen, refunds)
    assigns, assignee = plan_assignments(rng, o, seen, now)
    comments = plan_comments(rng, o, seen, assignee, now)
    # The big logs (ledger, history, audit, inbox) are built by lib.seed.write_logs one at a time, just
    # before each is written, so only one of them is in memory at once.
    return SimpleNamespace(rng=rng, start=start, start_s=start_s, now=now, spike_start=spike_start,
                           catalog=catalog, customers=customers, o=o, seen=seen, voids=voids, notes=notes,
                           lines=lines, refunds=refunds, assigns=assigns, assignee=assignee, comments=comments,
                           created=_epoch(start) - 60 * 86_400 + 9 * 3600)
