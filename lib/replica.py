"""The analytics copy: on PostgreSQL, dashboards, Explore, spike alerts and the SQL console read an in-memory DuckDB
copy of the shared database, refreshed incrementally (issue #14 §4). Search, order pages, queues and every action
read PostgreSQL itself, so nothing a user acts on is ever stale.

The copy is a DuckDB database with the app's own migrations, so the analytics SQL runs on it unchanged and at
DuckDB's speed (the same aggregates are 16–60× slower as PostgreSQL SQL). Each refresh runs in one REPEATABLE READ
snapshot of PostgreSQL and pulls the rows written by transactions the previous snapshot did not see (the
`changed_by_xact` column, PostgreSQL migration 005): exact, also for a transaction that began before the last
refresh and committed after it. The first refresh of a process copies everything. Nothing here is ever deleted
from the shared database, so a refresh only replaces rows by key and adds new ones.

Secrets stay behind: sign-in sessions and the sign-in attempts are not copied, nor the users' password hashes.
"""
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime

import pyarrow as pa

from lib import clock
from lib.db import Database, apply_migrations
from lib.private_folder import private_folder
from lib.transfer import pg_to_duck

# table -> the columns that name a row. Codes and ids never change once written. These are the tables analytics
# read (dashboards, Explore, spike alerts) and the console offers.
KEYS = {
    "users": ("id",), "categories": ("code",), "products": ("sku",), "warehouses": ("code",), "customers": ("id",),
    "category_bits": ("code",), "reasons": ("kind", "code"), "settings": ("key",), "counters": ("name",),
    "stock_balances": ("warehouse", "sku"), "orders": ("id",), "order_lines": ("id",), "voids": ("id",),
    "return_notes": ("id",), "return_lines": ("id",), "refunds": ("id",),
}
# Not copied, and not in the copy at all: the records of work (the stock ledger, the audit log, status history,
# assignments, comments, notifications, mail, submission keys). At 5,000,000 orders they are four fifths of the
# rows (81 of 103 million) and of a copy's memory, and no dashboard reads them; the Stock, Audit and order pages
# read them on the server.
LEFT_ON_THE_SERVER = ("stock_ledger", "audit_log", "order_status_history", "assignments", "comments",
                      "notifications", "mail_outbox", "submissions", "chat_channels", "chat_deliveries")
WITHHELD = {"users": {"password_hash": "''"}}   # column -> what the copy holds instead
# Which orders have a line of a SKU, sorted by SKU: a search by SKU or product reads a few row groups of it instead of
# every line (order_lines is in id order: 26 ms to find one SKU's lines at 5,000,000 orders, 1 ms here). Lines never
# change SKU or order, so new lines are added and none removed. Its own schema: the SQL console reads only `main`.
LINES_BY_SKU = "by_sku.order_lines"
MAX_AGE_S = 1.0          # a read refreshes the copy first when it is older than this
CHUNK = 50_000           # rows fetched from PostgreSQL at a time

_ARROW = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "SMALLINT": pa.int16(),
          "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32(), "DOUBLE": pa.float64(),
          "UBIGINT": pa.uint64()}


class AnalyticsCopy:
    """One process's DuckDB copy of one PostgreSQL database."""

    def __init__(self, source):
        self.source = source
        # A file in the temp directory, not ":memory:": DuckDB compresses what it writes to a file (an in-memory
        # database it does not), so scans read a fraction of the bytes, and the operating system's page cache, not
        # this process, holds it. Removed when the process ends.
        self._folder = str(private_folder("analytics"))
        self.copy = Database(os.path.join(self._folder, "copy.duckdb"))
        apply_migrations(self.copy)
        with self.copy.read() as cur:
            for table in LEFT_ON_THE_SERVER:
                cur.execute(f"DROP TABLE {table}")
        self._columns = self._copy_columns()
        self._snapshot: str | None = None     # the PostgreSQL snapshot the copy holds, as text
        self._refreshed = -1.0                # time.monotonic() just before the last refresh's snapshot
        self.as_of: datetime | None = None    # when that snapshot was taken (the business clock)
        self.last_rows = 0                    # rows the last refresh brought over
        self.version = 0                      # goes up with every refresh that brought rows (cache keys use it)
        self._lock = threading.Lock()

    def _copy_columns(self) -> dict[str, list[tuple[str, str]]]:
        with self.copy.read() as cur:
            rows = cur.execute("SELECT table_name, column_name, data_type FROM information_schema.columns"
                               " WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall()
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in rows:
            if table in KEYS:
                columns.setdefault(table, []).append((column, kind))
        return columns

    def stale(self) -> bool:
        """Older than MAX_AGE_S, or older than this process's latest commit (a user sees their own change at once;
        other replicas' changes within MAX_AGE_S)."""
        return time.monotonic() - self._refreshed > MAX_AGE_S or self.source.last_commit >= self._refreshed

    def fresh(self) -> "AnalyticsCopy":
        """The copy, refreshed first when stale (one refresh at a time; readers wait for it)."""
        if self.stale():
            with self._lock:
                if self.stale():
                    self.refresh()
        return self

    def refresh(self) -> int:
        """Bring over what changed since the last refresh (everything, the first time); return the rows copied."""
        if self._snapshot is None:
            return self._first_copy()
        copied = 0
        with self.source.read() as src, self.copy.transaction() as dst:
            src.begin()    # one REPEATABLE READ snapshot for every table
            try:
                # Taken just before the snapshot: a commit after this moment makes the copy stale again.
                taken, started = time.monotonic(), clock.now()
                snapshot = src.execute("SELECT pg_current_snapshot()::text").fetchall()[0][0]
                for table in KEYS:
                    copied += self._pull(src, dst, table)
            finally:
                src.rollback()
        self._snapshot, self._refreshed, self.as_of, self.last_rows = snapshot, taken, started, copied
        self.version += 1 if copied else 0
        return copied

    def _first_copy(self) -> int:
        """Every table, in one snapshot, by two connections at once: PostgreSQL writes one table's CSV while DuckDB
        reads another's (the second connection joins the first one's snapshot: pg_export_snapshot). Readers wait
        for it (fresh() holds the lock; ready_copy() sees no copy until as_of is set)."""
        with self.source.read() as src:
            src.begin()
            try:
                taken, started = time.monotonic(), clock.now()
                snapshot = src.execute("SELECT pg_current_snapshot()::text").fetchall()[0][0]
                exported = src.execute("SELECT pg_export_snapshot()").fetchall()[0][0]
                sizes = dict(src.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(?)",
                                         [list(KEYS)]).fetchall())
                halves: tuple[list[str], list[str]] = ([], [])
                for table in sorted(KEYS, key=lambda t: -max(sizes.get(t, 0), 0)):   # largest first, to the lighter
                    min(halves, key=lambda h: sum(max(sizes.get(t, 0), 0) for t in h)).append(table)
                counts: list[int] = []
                failed: list[BaseException] = []

                def second():
                    try:
                        with self.source.read() as other:
                            other.begin()
                            try:
                                other.execute(f"SET TRANSACTION SNAPSHOT '{exported}'")
                                counts.append(self._whole_tables(other, halves[1]))
                            finally:
                                other.rollback()
                    except BaseException as exc:   # noqa: BLE001 - raised in the caller's thread below
                        failed.append(exc)
                helper = threading.Thread(target=second, name="voiddesk-analytics-copy-2")
                helper.start()
                try:
                    counts.append(self._whole_tables(src, halves[0]))
                finally:
                    helper.join()
                if failed:
                    raise failed[0]
            finally:
                src.rollback()
        copied = sum(counts)
        with self.copy.read() as cur:
            cur.execute("CREATE SCHEMA by_sku")
            cur.execute(f"CREATE TABLE {LINES_BY_SKU} AS SELECT sku, order_id FROM order_lines ORDER BY sku, order_id")
            cur.execute("CHECKPOINT")   # written compressed now; later refreshes are small
        self._snapshot, self._refreshed, self.as_of, self.last_rows = snapshot, taken, started, copied
        self.version += 1
        return copied

    def _whole_tables(self, src, tables: list[str]) -> int:
        """The tables emptied and copied whole from `src` (its snapshot), through a DuckDB cursor of this thread."""
        copied = 0
        with self.copy.read() as dst:
            for table in tables:
                columns = self._columns[table]
                select = ", ".join(WITHHELD.get(table, {}).get(c, c) for c, _ in columns)
                dst.execute(f"DELETE FROM {table}")   # the copy's own migrations filled some (reasons, rules)
                copied += pg_to_duck(src, f"SELECT {select} FROM {table}", dst, table, columns)
        return copied

    def _pull(self, src, dst, table: str) -> int:
        columns = self._columns[table]
        select = ", ".join(WITHHELD.get(table, {}).get(c, c) for c, _ in columns)
        src.execute(f"SELECT {select} FROM {table} WHERE changed_by_xact >= pg_snapshot_xmin(?::pg_snapshot)"
                    " AND NOT pg_visible_in_snapshot(changed_by_xact, ?::pg_snapshot)",
                    [self._snapshot, self._snapshot])
        total = 0
        while rows := src.fetchmany(CHUNK):
            total += len(rows)
            self._store(dst, table, columns, rows)
        return total

    def _store(self, dst, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
        names = [c for c, _ in columns]
        arrays = [_arrow(kind, [r[i] for r in rows]) for i, (_, kind) in enumerate(columns)]
        dst.register("incoming", pa.Table.from_arrays(arrays, names=names))
        try:
            key = ", ".join(KEYS[table])
            if table == "order_lines":   # the new ones (their ids bound the lookup: order_lines is in id order)
                dst.execute(f"""INSERT INTO {LINES_BY_SKU} SELECT sku, order_id FROM incoming WHERE id NOT IN
                    (SELECT id FROM order_lines WHERE id BETWEEN (SELECT min(id) FROM incoming)
                                                             AND (SELECT max(id) FROM incoming))""")
            dst.execute(f"DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM incoming)")
            dst.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM incoming")
        finally:
            dst.unregister("incoming")

    @contextmanager
    def read(self):
        with self.fresh().copy.read() as cur:
            yield cur


def _arrow(kind: str, values: list) -> pa.Array:
    if kind.startswith("DECIMAL"):
        precision, scale = (int(x) for x in kind[kind.index("(") + 1:-1].split(","))
        return pa.array(values, type=pa.decimal128(precision, scale))
    if kind == "UBIGINT":   # PostgreSQL holds the 64 bits as a signed BIGINT (its migration 004)
        values = [None if v is None else v & 0xFFFF_FFFF_FFFF_FFFF for v in values]
    return pa.array(values, type=_ARROW[kind])


_copies: dict[str, AnalyticsCopy] = {}
_copies_lock = threading.Lock()
_warming: set[str] = set()


def warm_up(source) -> None:
    """Start this process's first (whole) copy in the background, once: the app calls it as it starts, so the first
    dashboard a user opens does not wait for it (at 100,000 orders it takes about five seconds)."""
    if source.backend != "postgresql":
        return
    with _copies_lock:
        if source.path in _warming:
            return
        _warming.add(source.path)
    threading.Thread(target=lambda: copy_of(source).fresh(), name="voiddesk-analytics-copy", daemon=True).start()


def copy_of(source) -> AnalyticsCopy:
    """This process's analytics copy of the PostgreSQL database `source`, made (a full copy) on first use."""
    with _copies_lock:
        copy = _copies.get(source.path)
        if copy is None or copy.source is not source:
            copy = _copies[source.path] = AnalyticsCopy(source)
        return copy
