"""What the SQL console's queries read: a copy of the columns analysts query, in a DuckDB file of its own that the
console's worker process attaches read-only (issue #16, finding 2: "the console's load must never slow the people
voiding orders").

Why a copy. The worker cannot open the app's database (lib.analytics.console says why), so until now this process
read the columns every query needed and streamed them to the worker as Arrow: per query, a scan, a conversion and a
pipe's worth of writes in the process that serves the people voiding orders, competing with them for the cores and
for Python's lock. Measured at 1,000,000 orders with two analysts running heavy queries back to back (python -m
lib.tools.bench_console): a lone void's median went from 10.4 to 15–20 ms, its 90th percentile from 12 to 36–40 ms.

Now a query's columns are copied once into a snapshot (one transaction: one consistent moment for every table),
which serves every query of the same role's readable columns until it is MAX_AGE_S old; the worker reads it from
disk at its own low priority, and this process does nothing per query but wait. A snapshot holds what queries have
read (the columns of its tables they named), never the whole database: the first query naming a new column, and the
first after MAX_AGE_S, make the next one (the query waits for it; the page says how old the data it read is).
Snapshots are per role's readable set, so a file holds only what its readers may read, and they live in a private
temporary directory of this process (mode 0700), deleted when superseded and no query reads them any more.
"""
import json
import os
import threading
import time
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from lib import clock
from lib.analytics.console_checks import first_line
from lib.analytics.console_worker import quote
from lib.db import sql_string
from lib.private_folder import private_folder
from lib.errors import InvalidInput

MAX_AGE_S = 60           # data the console reads is at most this old (SPEC §10: analytics say how fresh)
ROWS_ONLY = "row_marker"  # the one column of a table whose rows are counted but none of whose columns is read


@dataclass
class Snapshot:
    path: Path
    taken: datetime                      # the data is as of this moment
    made: float                          # time.monotonic() when made: its age
    columns: dict[str, list[str]]        # table -> the columns it holds
    used: dict[str, set[str]] = field(default_factory=dict)   # what queries read from it: the next one holds these
    readers: int = 0
    superseded: bool = False

    def holds(self, reads: dict[str, list[str]]) -> bool:
        return all(t in self.columns and set(c) <= set(self.columns[t]) for t, c in reads.items())


@dataclass
class _Chain:
    """The snapshots of one database for one readable set: the current one, and who makes the next."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    current: Snapshot | None = None


_chains: "weakref.WeakKeyDictionary[object, dict[str, _Chain]]" = weakref.WeakKeyDictionary()
_registry = threading.Lock()
_directory: Path | None = None
_executor: ThreadPoolExecutor | None = None


def key_of(readable: dict[str, list[str]]) -> str:
    return json.dumps(readable, sort_keys=True)


@contextmanager
def reading(adb, readable_key: str, reads: dict[str, list[str]], max_age_s: float = MAX_AGE_S, as_of=clock.now):
    """A snapshot of `adb` holding the columns `reads` names, at most max_age_s old, made now if there is none
    such; kept on disk while the caller's block runs. `as_of()`: when the data `adb` holds was taken, asked as a
    snapshot is made (on PostgreSQL the analytics copy's time, refreshed first: lib.db.data_as_of)."""
    chain = _chain(adb, readable_key)
    with chain.lock:
        snap = chain.current
        fresh = snap is not None and time.monotonic() - snap.made <= max_age_s and snap.path.exists()
        if not (fresh and snap.holds(reads)):
            wanted = _union(snap.columns if fresh else (snap.used if snap else {}), reads)
            try:
                new = _maker().submit(_make, adb, wanted, as_of).result()
            except (duckdb.Error, OSError) as exc:      # a full disk, say: said in the user's words, no paths
                raise InvalidInput("console.failed", detail=first_line(exc).replace(str(_dir()), "…")) from None
            if snap is not None:
                snap.superseded = True
                _drop_if_unread(snap)
            chain.current = snap = new
        snap.readers += 1
        for table, columns in reads.items():
            snap.used.setdefault(table, set()).update(columns)
    try:
        yield snap
    finally:
        with chain.lock:
            snap.readers -= 1
            _drop_if_unread(snap)


def _union(held: dict, reads: dict[str, list[str]]) -> dict[str, list[str]]:
    out = {t: set(c) for t, c in held.items()}
    for table, columns in reads.items():
        out.setdefault(table, set()).update(columns)
    return {t: sorted(c) for t, c in sorted(out.items())}


def _maker() -> ThreadPoolExecutor:
    """The one thread making snapshots, at the lowest CPU priority (Linux sets it per thread): the copy's share
    that runs on it yields to the people voiding orders. Measured at 1,000,000 orders, voids while snapshots were
    made back to back: median 18.7 ms from a thread of normal priority, 13.0 ms from this one (alone: 11.0 ms)."""
    global _executor
    with _registry:
        if _executor is None:
            _executor = ThreadPoolExecutor(1, thread_name_prefix="console-snapshot", initializer=_lowest_priority)
        return _executor


def _lowest_priority() -> None:
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _make(adb, wanted: dict[str, list[str]], as_of) -> Snapshot:
    """Copy the `wanted` columns of the analytics database into a new file, in one transaction."""
    taken = as_of()
    with adb.read() as cur:
        return _copy(cur, wanted, taken)


def _copy(cur, wanted: dict[str, list[str]], taken: datetime) -> Snapshot:
    path = _dir() / f"{uuid.uuid4().hex}.duckdb"
    alias = f"console_snapshot_{path.stem}"
    cur.execute(f"ATTACH {sql_string(str(path))} AS {alias}")
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            for table, columns in wanted.items():
                select = ", ".join(quote(c) for c in columns) or f"NULL::BOOLEAN AS {ROWS_ONLY}"
                cur.execute(f"CREATE TABLE {alias}.{quote(table)} AS SELECT {select} FROM main.{quote(table)}")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    except BaseException:
        cur.execute(f"DETACH {alias}")
        path.unlink(missing_ok=True)
        raise
    cur.execute(f"DETACH {alias}")
    path.chmod(0o600)
    return Snapshot(path=path, taken=taken, made=time.monotonic(), columns=wanted)


def _drop_if_unread(snap: Snapshot) -> None:
    if snap.superseded and snap.readers == 0:
        snap.path.unlink(missing_ok=True)
        Path(f"{snap.path}.wal").unlink(missing_ok=True)


def _chain(adb, readable_key: str) -> _Chain:
    with _registry:
        chains = _chains.get(adb)
        if chains is None:
            chains = _chains[adb] = {}
            weakref.finalize(adb, _forget, chains)
        return chains.setdefault(readable_key, _Chain())


def _forget(chains: dict[str, _Chain]) -> None:
    """The database is gone: its snapshots with it."""
    for chain in chains.values():
        if chain.current is not None:
            chain.current.superseded = True
            _drop_if_unread(chain.current)


def _dir() -> Path:
    global _directory
    with _registry:
        if _directory is None or not _directory.exists():
            _directory = private_folder("console")   # mode 0700, removed at exit (or by the next, if killed)
        return _directory
