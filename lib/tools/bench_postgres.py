"""`python -m lib.cli bench --db postgresql://…` (issue #14 §8): the same figures on a PostgreSQL server, and what
only a shared server has — voids from four writers at once, and how long a void made on one replica takes to reach
another replica's analytics copy under a steady stream of voids.

The data: the DuckDB file bench seeds and keeps for the order count, moved up once (lib.move_up) into a database
named voiddesk_bench_seed_<orders> on that server and kept there; each run measures on a fresh database,
voiddesk_bench_work, made from it with CREATE DATABASE … TEMPLATE (a file copy on the server). The URL's database
is only used to connect; its user needs the CREATEDB privilege.
"""
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from lib.db import Database, connect
from lib.move_up import move_up
from lib.replica import copy_of
from lib.services.voids import void_order

SEED_DB = "voiddesk_bench_seed_{orders}"
WORK_DB = "voiddesk_bench_work"
WRITERS = 4                 # the bar: voids per second from four writers at once
WRITER_VOIDS = 800
LAG_RATE = 50               # voids per second made on another replica while the lag is measured
LAG_SECONDS = 10
READ_EVERY_S = 0.05         # how often the reading replica looks at its copy (a dashboard being used)


def database_url(server: str, name: str) -> str:
    """The server URL with another database name."""
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


def fresh_database(server: str, orders: int, cache: Path, say):
    """A fresh work database with the seeded data for `orders`; (handle, facts about where it came from)."""
    from lib.tools.bench_seed import fresh_copy   # the seeded DuckDB file, copied (bench's own cache)

    seed, info = SEED_DB.format(orders=orders), {"server": server}
    with psycopg.connect(server, autocommit=True) as admin:
        if not _exists(admin, seed):
            work_file, info_file = fresh_copy(orders, cache, say)
            info.update({f"duckdb_{k}": v for k, v in info_file.items()})
            info["seed_moved_up_s"] = _move_up(admin, server, seed, work_file, say)
        else:
            info["seed"] = "reused"
        say(f"copying {seed} to {WORK_DB}")
        admin.execute(f'DROP DATABASE IF EXISTS "{WORK_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{WORK_DB}" TEMPLATE "{seed}"')
        info["database_mb"] = round(admin.execute("SELECT pg_database_size(%s)", [WORK_DB]).fetchone()[0] / 2**20, 1)
    info.setdefault("seed", "moved up")
    info["file_mb"] = info["database_mb"]
    return connect(database_url(server, WORK_DB)), info


def _exists(admin, name: str) -> bool:
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _move_up(admin, server: str, seed: str, work_file: Path, say) -> float:
    """The seeded file into a new database, under a temporary name until it is whole (an interrupted run leaves
    nothing that looks finished)."""
    loading = f"{seed}_loading"
    admin.execute(f'DROP DATABASE IF EXISTS "{loading}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{loading}"')
    say(f"moving the seeded file up into {seed} (once; later runs reuse it)")
    started = time.perf_counter()
    source, target = Database(str(work_file)), connect(database_url(server, loading))
    try:
        move_up(source, target)
        with target.read() as cur:
            cur.execute("VACUUM ANALYZE")
    finally:
        source.close()
        target.close()
    admin.execute(f'ALTER DATABASE "{loading}" RENAME TO "{seed}"')
    return round(time.perf_counter() - started, 1)


def server_version(db) -> str:
    with db.read() as cur:
        return cur.execute("SHOW server_version").fetchall()[0][0]


def server_figures(db, ops, voidable, say) -> dict:
    """Four writers at once, then the refresh lag; `voidable(db, n)` names orders ops may void at once."""
    from lib.tools.bench_voids import concurrent_voids

    numbers = voidable(db, WRITER_VOIDS + LAG_RATE * LAG_SECONDS)
    writers, streamed = numbers[:len(numbers) // 2 if len(numbers) < WRITER_VOIDS * 2 else WRITER_VOIDS], []
    streamed = numbers[len(writers):]
    f: dict = {}
    if writers:
        say(f"voids from {WRITERS} writers at once")
        f.update(concurrent_voids(db, ops, writers, clients=WRITERS, name="voids_4_writers"))
    if streamed:
        say(f"refresh lag: {LAG_RATE} voids a second on another replica")
        f.update(refresh_lag(db, ops, streamed))
    return f


def refresh_lag(db, ops, numbers: list[str]) -> dict:
    """Another replica (its own handle) voids LAG_RATE orders a second; this one reads its analytics copy as a
    dashboard does (copy_of(db).fresh()) every READ_EVERY_S. Lag: from a void's commit on the other replica to
    the first read of this copy that holds it."""
    writer, copy = connect(db.path), copy_of(db)
    committed: dict[str, float] = {}
    done, failed = threading.Event(), []

    def stream():
        try:
            start = time.perf_counter()
            for i, number in enumerate(numbers):
                pause = start + i / LAG_RATE - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                void_order(writer, ops, number, "customer_cancelled")
                committed[number] = time.perf_counter()
        except Exception as exc:   # noqa: BLE001 - reported, the reader must not wait forever
            failed.append(repr(exc))
        finally:
            done.set()

    thread = threading.Thread(target=stream, name="bench-other-replica")
    seen: dict[str, float] = {}
    refreshes: list[float] = []
    thread.start()
    deadline = time.perf_counter() + len(numbers) / LAG_RATE + 30
    try:
        while time.perf_counter() < deadline and not (done.is_set() and set(committed) <= set(seen)):
            stale = copy.stale()
            t0 = time.perf_counter()
            fresh = copy.fresh()
            if stale:
                refreshes.append(time.perf_counter() - t0)
            now = time.perf_counter()
            with fresh.copy.read() as cur:
                voided = cur.execute("SELECT order_no FROM orders WHERE status = 'voided' AND order_no = ANY(?)",
                                     [numbers]).fetchall()
            for (number,) in voided:
                seen.setdefault(number, now)
            time.sleep(READ_EVERY_S)
    finally:
        thread.join()
        writer.close()
    lags = sorted(max(0.0, seen[n] - committed[n]) for n in committed if n in seen)
    out = {"refresh_lag_voids": len(committed), "refresh_lag_rate_per_s": LAG_RATE,
           "refresh_lag_unseen": len(set(committed) - set(seen)), "refresh_lag_errors": failed}
    if lags:
        out.update(refresh_lag_median_s=round(statistics.median(lags), 3),
                   refresh_lag_p90_s=round(lags[int(0.9 * (len(lags) - 1))], 3),
                   refresh_lag_max_s=round(lags[-1], 3))
    if refreshes:
        out["refresh_ms"] = round(statistics.median(refreshes) * 1000, 1)
    return out
