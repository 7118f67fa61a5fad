"""A read-only SQL console for analysts (SPEC §8 "Explore"): whatever is typed, only reads run, and only what the
user's role may read on the pages (lib.analytics.console_access).

Four layers; each later one catches what an earlier one could miss:
1-3. lib.analytics.console_checks: one SELECT statement; its parse tree; its bound plan.
4. A cursor of its own in a READ ONLY transaction, always rolled back; row_limit + 1 rows fetched at most; a
   watchdog interrupts it at the time limit.
Not used: `SET enable_external_access = false` / lock_configuration are global to the database instance and
cannot be undone while it runs, so they would bind every other DuckDB file access of this process; a second,
read-only instance on the same file cannot be opened in-process.
"""
import threading
import time
from dataclasses import dataclass
from datetime import date
from datetime import time as dt_time
from decimal import Decimal

import duckdb
import pandas as pd

from lib.analytics.console_access import console_access
from lib.analytics.console_checks import (MAX_SQL, check, check_plan, check_tree, first_line,  # noqa: F401
                                          single_select)
from lib.db import Database, analytics_db
from lib.domain import User, require
from lib.errors import InvalidInput

MAX_ROWS = 100_000
MAX_SECONDS = 60

_SCALARS = (str, int, float, bool, Decimal, date, dt_time)


@dataclass
class ConsoleResult:
    frame: pd.DataFrame
    truncated: bool          # more than row_limit rows: the frame holds the first row_limit
    elapsed_ms: float


def run_readonly(db: Database, user: User, sql: str, row_limit: int = 10_000,
                 time_limit_s: float = 10) -> ConsoleResult:
    """Run one read-only query typed by an analyst; InvalidInput (in plain words) for anything else."""
    require(user, "sql.console")
    row_limit = max(1, min(int(row_limit), MAX_ROWS))
    time_limit_s = max(0.1, min(float(time_limit_s), MAX_SECONDS))
    statement = single_select(sql)
    with analytics_db(db).read() as cur:   # on PostgreSQL: the DuckDB copy, never the shared database
        cur.execute("BEGIN TRANSACTION READ ONLY")
        try:
            check(cur, statement.query, console_access(cur, user)[0])
            return _fetch(cur, statement, row_limit, time_limit_s)
        finally:
            _rollback(cur)


def schema(db: Database, user: User) -> dict[str, list[str]]:
    """The tables and columns the console lets this user read, for the list beside it."""
    require(user, "sql.console")
    with analytics_db(db).read() as cur:
        return console_access(cur, user)[0].readable


def _fetch(cur, statement, row_limit: int, seconds: float) -> ConsoleResult:
    """Run the checked statement with a row limit and a watchdog that interrupts it after `seconds`."""
    done, stopped = threading.Event(), threading.Event()

    def watch():
        if not done.wait(seconds):
            stopped.set()
            cur.interrupt()

    watchdog = threading.Thread(target=watch, name="console-watchdog", daemon=True)
    started = time.perf_counter()
    watchdog.start()
    try:
        result = cur.execute(statement)
        names = [d[0] for d in result.description]
        frame = _first_rows(result, row_limit + 1)
    except duckdb.Error as exc:
        if stopped.is_set():
            raise InvalidInput("console.timeout", n=f"{seconds:g}") from None
        raise InvalidInput("console.failed", detail=first_line(exc)) from None
    finally:
        done.set()
        watchdog.join()
    elapsed = (time.perf_counter() - started) * 1000
    frame.columns = _unique(names)
    return ConsoleResult(frame=_plain(frame.head(row_limit)), truncated=len(frame) > row_limit,
                         elapsed_ms=round(elapsed, 1))


def _first_rows(result, n: int) -> pd.DataFrame:
    """Up to n rows, fetched a chunk (2,048 rows) at a time through DuckDB's own DataFrame conversion."""
    chunks = [result.fetch_df_chunk(1)]
    while sum(len(c) for c in chunks) < n and len(chunks[-1]):
        chunks.append(result.fetch_df_chunk(1))
    return pd.concat(chunks, ignore_index=True).head(n) if len(chunks) > 1 else chunks[0]


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


def _unique(names: list[str]) -> list[str]:
    """Column names made unique (`SELECT 1, 1` has two columns called 1), so the table can be shown."""
    out: list[str] = []
    for name in names:
        count = sum(1 for n in names[:len(out)] if n == name)
        out.append(f"{name}_{count + 1}" if count else name)
    return out


def _rollback(cur) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass  # an interrupted or failed transaction is already rolled back
