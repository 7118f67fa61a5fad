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
(DuckDB's state is not fork-safe, duckdb/duckdb-python#292). So the worker is sent the data it needs:
  1. the worker checks the query (lib.analytics.console_checks) on empty tables shaped like the app's readable
     ones, and answers with the columns the query reads;
  2. this process reads those columns in one READ ONLY transaction (one snapshot for every table) and sends them as
     Arrow, never a withheld one (checked again here), at most READ_MB;
  3. the worker runs the query on views over them and sends back at most row_limit rows and RESULT_MB bytes.
Measured on this 2-core machine at 1,000,000 orders: the levenshtein query is stopped 0.02 s after its limit
(before: after 40–140 s, whatever the limit). While one ran to a 10 s limit, the app's process spent 0.01 s of CPU on
it (before: 26 s), and on a self-join of order lines 0.07 s (before: 3.3 s); a 200 MB result raised the app's
memory by 20 MB (before: 920 MB). Sending costs the app ≈0.1 s of CPU per 100 MB (orders' status alone 0.03 s, all
21 columns of orders 0.2 s), and a small query takes ≈0.1–0.5 s where it took 10 ms. A query that reads more than
READ_MB of columns (`SELECT *` from orders at 5,000,000 orders) is refused, with a message to name the columns.
"""
import threading
import time
from dataclasses import dataclass
from datetime import date
from datetime import time as dt_time
from decimal import Decimal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from lib.analytics import console_pool
from lib.analytics.console_access import console_access
from lib.analytics.console_checks import (MAX_SQL, Access, NotPermittedHere, check_plan, check_tree,  # noqa: F401
                                          first_line, single_select)
from lib.analytics.console_worker import quote
from lib.db import Database, analytics_db, scalar
from lib.domain import User, require
from lib.errors import InvalidInput

MAX_ROWS = 100_000
MAX_SECONDS = 60
RESULT_MB = 16        # a larger result is cut: the page sends it to the browser whole (Streamlit stops at 200 MB)
READ_MB = 256         # data sent to the worker per query
_BATCH_ROWS = 16_384
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


def run_readonly(db: Database, user: User, sql: str, row_limit: int = 10_000,
                 time_limit_s: float = 10) -> ConsoleResult:
    """Run one read-only query typed by an analyst; InvalidInput (in plain words) for anything else."""
    require(user, "sql.console")
    row_limit = max(1, min(int(row_limit), MAX_ROWS))
    time_limit_s = max(0.1, min(float(time_limit_s), MAX_SECONDS))
    statement = single_select(sql)
    with analytics_db(db).read() as cur:   # on PostgreSQL: the DuckDB copy, never the shared database
        access, tables = console_access(cur, user)
        job = {"sql": statement.query, "tables": tables, "readable": access.readable, "withheld": access.withheld,
               "timezone": scalar(cur, "SELECT current_setting('TimeZone')"), "row_limit": row_limit,
               "byte_limit": RESULT_MB << 20, "seconds": time_limit_s}
        return _run(cur, job, access, time_limit_s)


def schema(db: Database, user: User) -> dict[str, list[str]]:
    """The tables and columns the console lets this user read, for the list beside it."""
    require(user, "sql.console")
    with analytics_db(db).read() as cur:
        return console_access(cur, user)[0].readable


def _run(cur, job: dict, access: Access, seconds: float) -> ConsoleResult:
    with console_pool.worker(seconds) as worker, _Deadline(seconds, worker, cur) as deadline:
        started = time.perf_counter()
        try:
            worker.send(job)
            _send_data(cur, worker, _answer(worker)["reads"], access)
            info = _answer(worker)
            table = ipc.open_stream(worker.stdout).read_all()
        except (OSError, EOFError, ValueError, duckdb.Error, pa.ArrowException) as exc:
            if deadline.expired:
                raise InvalidInput("console.timeout", n=f"{seconds:g}") from None
            raise InvalidInput("console.failed", detail=first_line(exc) or type(exc).__name__) from None
        worker.clean = not info["retire"]
        elapsed = (time.perf_counter() - started) * 1000
    return ConsoleResult(frame=_frame(table), truncated=info["rows_cut"], bytes_cut=info["bytes_cut"],
                         elapsed_ms=round(elapsed, 1))


def _answer(worker) -> dict:
    """The worker's next message; its refusal raised as the user's error."""
    message = worker.receive()
    if "refused" in message:
        worker.clean = not message["retire"]
        kind = NotPermittedHere if "roles" in message["params"] else InvalidInput
        raise kind(message["refused"], **message["params"])
    return message


def _send_data(cur, worker, reads: list, access: Access) -> None:
    """The columns the worker asked for, one Arrow stream per table, within READ_MB in all, from one snapshot: a
    READ ONLY transaction held only while they are read, not while the worker runs the query."""
    for table, columns in reads:
        if table not in access.readable or not set(columns) <= set(access.readable[table]):
            raise InvalidInput("console.table_not_allowed", name=str(table)[:80])   # more than its checks allow
    room = READ_MB << 20
    cur.execute("BEGIN TRANSACTION READ ONLY")
    try:
        for table, columns in reads:
            select = ", ".join(quote(c) for c in columns) or "NULL::BOOLEAN AS row_marker"   # count(*): rows alone
            reader = cur.sql(f"SELECT {select} FROM main.{quote(table)}").to_arrow_reader(_BATCH_ROWS)
            stream = ipc.new_stream(worker.stdin, reader.schema)
            for batch in reader:
                room -= batch.nbytes
                if room < 0:
                    raise InvalidInput("console.reads_too_much", mb=READ_MB)
                stream.write_batch(batch)
            stream.close()
        worker.stdin.flush()
    finally:
        _rollback(cur)


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
    """Kills the worker when time is up, and interrupts this process's own reading of the data it is sent."""

    def __init__(self, seconds: float, worker, cur):
        self.worker, self.cur = worker, cur
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
        self.cur.interrupt()

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            if self.expired:
                self.worker.clean = False


def _rollback(cur) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass  # an interrupted or failed transaction is already rolled back
