"""A read-only SQL console for analysts (SPEC §8 "Explore"): whatever is typed, only reads run, a time limit that
holds, bounded results, and only what the user's role may read on the pages (lib.analytics.console_access).

Where the query runs, and why (issue #16, finding 2). DuckDB notices interrupt() only between chunks of rows: it
does not stop one long expression (levenshtein of two 150,000-character strings is one call of 20 s and more), nor
binding, which evaluates constant arguments (range(…), LIMIT …, COLUMNS(…)), nor the optimizer folding constants.
`threads` and `memory_limit` are settings of the whole database instance (duckdb_settings() says GLOBAL), and the
per-connection `operator_memory_limit` let string_agg over a cross join take 6.5 GB in 5 s. So a query in the app's
process can be neither stopped at its limit nor bounded, and takes the cores the people voiding orders need.

It runs in a worker process instead (lib.analytics.console_worker, pooled by lib.analytics.console_pool): killed
when its time is up, at the lowest CPU priority, with one DuckDB thread and a memory ceiling. The worker cannot open
the database: while the app has a DuckDB file open read-write, no other process may open it, even read-only, and
the analytics copy of PostgreSQL deployments (lib.replica) is such a file too; forking the app is no way round it
(DuckDB's state is not fork-safe, duckdb/duckdb-python#292). So:
  1. the worker checks the query (lib.analytics.console_checks) on empty tables shaped like the app's readable
     ones, and answers with the columns the query reads;
  2. this process names a snapshot holding those columns (lib.analytics.console_snapshot: a file copied from the
     database in one transaction, shared by the queries of a role until it is a minute old, made first when
     there is none such), never a withheld column (checked again here);
  3. the worker attaches the snapshot read-only, runs the query on views over it and sends back at most row_limit
     rows and RESULT_MB bytes.
Measured on this 2-core machine at 1,000,000 orders: the levenshtein query is stopped 0.02 s after its limit
(before: after 40–140 s, whatever the limit). While one ran to a 10 s limit, the app's process spent 0.01 s of CPU on
it (before: 26 s); a 200 MB result raised the app's memory by 20 MB (before: 920 MB). The time limit counts the
checks and the run, not the making of a snapshot, which every query of the next minutes shares.
"""
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from functools import partial

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from lib.analytics import console_pool, console_snapshot
from lib.analytics.console_access import console_access
from lib.analytics.console_checks import (MAX_SQL, Access, NotPermittedHere, check_plan, check_tree,  # noqa: F401
                                          first_line, single_select)
from lib import clock
from lib.db import Database, analytics_db, data_as_of, scalar
from lib.domain import User, require
from lib.errors import InvalidInput

MAX_ROWS = 100_000
MAX_SECONDS = 60
RESULT_MB = 16        # a larger result is cut: the page sends it to the browser whole (Streamlit stops at 200 MB)
_SCALARS = (str, int, float, bool, Decimal, date, dt_time)
_NULLABLE = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
             pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
             pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype()}


@dataclass
class ConsoleResult:
    frame: pd.DataFrame
    truncated: bool          # more than row_limit rows: the frame holds the first row_limit
    elapsed_ms: float
    bytes_cut: bool = False  # larger than RESULT_MB: the frame holds the first rows that fit
    data_as_of: datetime | None = None   # when the snapshot the query read was taken (None: it read none)


def run_readonly(db: Database, user: User, sql: str, row_limit: int = 10_000, time_limit_s: float = 10,
                 data_max_age_s: float = console_snapshot.MAX_AGE_S) -> ConsoleResult:
    """Run one read-only query typed by an analyst, on data at most data_max_age_s old; InvalidInput (in plain
    words) for anything else."""
    require(user, "sql.console")
    row_limit = max(1, min(int(row_limit), MAX_ROWS))
    time_limit_s = max(0.1, min(float(time_limit_s), MAX_SECONDS))
    statement = single_select(sql)
    adb = analytics_db(db)                 # on PostgreSQL: the DuckDB copy, never the shared database
    with adb.read() as cur:
        access, tables = console_access(cur, user)
        job = {"sql": statement.query, "tables": tables, "readable": access.readable, "withheld": access.withheld,
               "timezone": scalar(cur, "SELECT current_setting('TimeZone')"), "row_limit": row_limit,
               "byte_limit": RESULT_MB << 20, "seconds": time_limit_s}
        snapshot = partial(console_snapshot.reading, adb, console_snapshot.key_of(access.readable),
                           max_age_s=data_max_age_s, as_of=lambda: data_as_of(db) or clock.now())
        return _run(job, access, snapshot)


def schema(db: Database, user: User) -> dict[str, list[str]]:
    """The tables and columns the console lets this user read, for the list beside it."""
    require(user, "sql.console")
    with analytics_db(db).read() as cur:
        return console_access(cur, user)[0].readable


def _run(job: dict, access: Access, snapshot) -> ConsoleResult:
    """The checks, then the query on `snapshot(reads)`, each within the time limit (the snapshot's making is not
    the query's: it serves the queries of the next minutes)."""
    seconds = job["seconds"]
    with console_pool.worker(seconds) as worker:
        started = time.perf_counter()
        with _limited(seconds, worker):
            worker.send(job)
            reads = dict((table, columns) for table, columns in _answer(worker)["reads"])
        _only_readable(reads, access)
        with snapshot(reads) as snap, _limited(seconds, worker):
            worker.send({"snapshot": str(snap.path), "columns": {t: snap.columns[t] for t in reads}})
            info = _answer(worker)
            table = ipc.open_stream(worker.stdout).read_all()
        worker.clean = not info["retire"]
        elapsed = (time.perf_counter() - started) * 1000
    return ConsoleResult(frame=_frame(table), truncated=info["rows_cut"], bytes_cut=info["bytes_cut"],
                         elapsed_ms=round(elapsed, 1), data_as_of=snap.taken)


@contextmanager
def _limited(seconds: float, worker):
    """The worker's part, killed when `seconds` are up; its failures in the user's words."""
    with _Deadline(seconds, worker) as deadline:
        try:
            yield
        except (OSError, EOFError, ValueError, duckdb.Error, pa.ArrowException) as exc:
            if deadline.expired:
                raise InvalidInput("console.timeout", n=f"{seconds:g}") from None
            raise InvalidInput("console.failed", detail=first_line(exc) or type(exc).__name__) from None


def _answer(worker) -> dict:
    """The worker's next message; its refusal raised as the user's error."""
    message = worker.receive()
    if "refused" in message:
        worker.clean = not message["retire"]
        kind = NotPermittedHere if "roles" in message["params"] else InvalidInput
        raise kind(message["refused"], **message["params"])
    return message


def _only_readable(reads: dict, access: Access) -> None:
    """What the worker asked for, within what the role may read: a snapshot never holds more than its checks
    allow, whatever the worker says."""
    for table, columns in reads.items():
        if table not in access.readable or not set(columns) <= set(access.readable[table]):
            raise InvalidInput("console.table_not_allowed", name=str(table)[:80])


def _frame(table: pa.Table) -> pd.DataFrame:
    """The result as DuckDB's own conversion made it when queries ran in this process (missing integers and booleans
    as pandas' nullable kinds, decimals as floats, dates as timestamps), without copying text: DuckDB's conversion
    held five times the result's bytes at its peak, this one the result's."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_decimal(column.type):
            column = column.cast(pa.float64())
        elif pa.types.is_date(column.type):
            column = column.cast(pa.timestamp("us"))
        elif column.type == pa.month_day_nano_interval():
            columns[name] = pd.Series([None if v is None else pd.Timedelta(days=v.months * 30 + v.days,
                                                                           nanoseconds=v.nanoseconds)
                                       for v in column.to_pylist()], dtype="timedelta64[us]")
            continue
        nullable = _NULLABLE.get(column.type) if column.null_count else None
        columns[name] = column.to_pandas(types_mapper={column.type: nullable}.get if nullable else None,
                                         maps_as_pydicts="strict")
    return _plain(pd.DataFrame(columns))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells a table and a spreadsheet can hold: lists, structs, maps, blobs and UUIDs as text, times without a
    time zone."""
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            frame[column] = values.dt.tz_localize(None)
        elif values.dtype == object:
            frame[column] = values.map(_cell)
    return frame


def _cell(value):
    if value is None or isinstance(value, _SCALARS):
        return value
    return str(value.tolist() if hasattr(value, "tolist") else value)


class _Deadline:
    """Kills the worker when time is up."""

    def __init__(self, seconds: float, worker):
        self.worker = worker
        self.expired = self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
        self.worker.kill()

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            if self.expired:
                self.worker.clean = False

