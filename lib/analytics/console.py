"""A read-only SQL console for analysts (SPEC §8 "Explore"): whatever is typed, only reads run.

Four layers; each later one catches what an earlier one could miss:
1. DuckDB splits the text: exactly one statement, of type SELECT (which includes WITH … and VALUES).
2. Its parse tree (json_serialize_sql), checked before anything is bound (binding read_csv or 'x.csv' already
   opens the file): query nodes only (no DELETE/INSERT/UPDATE in a CTE), the app's tables or the query's own
   CTEs, table functions range/generate_series/unnest only, no function reaching outside (getenv, query, nextval).
3. The bound plan (json_serialize_plan): only the binder knows what `*`, a row as `users`, `COLUMNS('pass.*')`
   or a WHERE clause really read, so hidden tables and columns are checked again here.
4. A cursor of its own in a READ ONLY transaction, always rolled back; row_limit + 1 rows fetched at most; a
   watchdog interrupts it at the time limit.
Not used: `SET enable_external_access = false` / lock_configuration are global to the database instance and
cannot be undone while it runs, so they would bind every other DuckDB file access of this process; a second,
read-only instance on the same file cannot be opened in-process.
"""
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from datetime import time as dt_time
from decimal import Decimal

import duckdb
import pandas as pd

from lib.db import Database, analytics_db, scalar
from lib.domain import User, require
from lib.errors import InvalidInput

HIDDEN_TABLES = ("sessions", "login_attempts", "login_pace")   # sign-in secrets and who tried to sign in, from where
HIDDEN_COLUMNS = {"users": ("password_hash",)}
TABLE_FUNCTIONS = ("range", "generate_series", "unnest")
MAX_SQL = 20_000
MAX_ROWS = 100_000
MAX_SECONDS = 60

_QUERY_NODES = ("SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE")
_UNCHECKED_REFS = ("SHOW_REF", "COLUMN_DATA", "DELIM_GET", "BOUND_TABLE_REF")
# Scalar functions that read the environment, change sequences or reach other files, and name prefixes of
# whole families (read_csv, parquet_metadata, duckdb_secrets, pragma_…): refused wherever they appear.
_DENIED_FUNCTIONS = ("getenv", "current_setting", "nextval", "setval", "currval", "glob", "sniff_csv", "query",
                     "query_table", "which_secret", "load_extension", "install_extension", "enable_logging",
                     "disable_logging", "truncate_duckdb_logs", "checkpoint", "force_checkpoint", "set_config")
_DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "parquet_", "sqlite_", "postgres_", "mysql_", "iceberg_",
                    "delta_", "http", "s3", "json_serialize", "json_deserialize", "json_execute")
_WRITE_OPERATORS = ("INSERT", "DELETE", "UPDATE", "MERGE", "CREATE", "ALTER", "DROP", "COPY", "EXPORT", "PRAGMA",
                    "SET", "RESET", "ATTACH", "DETACH", "VACUUM", "LOAD", "TRANSACTION", "SIMPLE", "EXECUTE")
_SCALARS = (str, int, float, bool, Decimal, date, dt_time)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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
            _check(cur, statement.query)
            return _fetch(cur, statement, row_limit, time_limit_s)
        finally:
            _rollback(cur)


def _check(cur, sql: str) -> None:
    """Both checks; anything they cannot read is refused, never run."""
    try:
        tables = visible_columns(cur)
        check_tree(cur, sql, tables)
        check_plan(cur, sql, tables)
    except duckdb.Error as exc:
        raise InvalidInput("console.failed", detail=_first_line(exc)) from None
    except (RecursionError, ValueError, KeyError, TypeError, AttributeError):   # a tree shaped unexpectedly
        raise InvalidInput("console.unchecked") from None


def schema(db: Database, user: User) -> dict[str, list[str]]:
    """The tables and columns the console can read (hidden ones left out), for the list beside it."""
    require(user, "sql.console")
    with analytics_db(db).read() as cur:
        return visible_columns(cur)


def visible_columns(cur) -> dict[str, list[str]]:
    """table -> readable columns, over the app's own tables (schema main of this database)."""
    rows = cur.execute("SELECT table_name, column_name FROM duckdb_columns()"
                       " WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
                       " ORDER BY table_name, column_index").fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        table, column = table.lower(), column.lower()
        if table not in HIDDEN_TABLES and column not in HIDDEN_COLUMNS.get(table, ()):
            tables.setdefault(table, []).append(column)
    return tables


def single_select(sql: str) -> duckdb.Statement:
    """The one SELECT statement in `sql`, as DuckDB reads it."""
    text = (sql or "").strip()
    if not text:
        raise InvalidInput("console.empty")
    if len(text) > MAX_SQL:
        raise InvalidInput("console.too_long", n=MAX_SQL)
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise InvalidInput("console.syntax", detail=_first_line(exc)) from None
    if not statements:                       # only comments or semicolons
        raise InvalidInput("console.empty")
    if len(statements) > 1:
        raise InvalidInput("console.one_statement", n=len(statements))
    kind = statements[0].type.name
    if kind == "MULTI":                      # PIVOT … as a statement: several statements inside
        raise InvalidInput("console.unchecked")
    if kind != "SELECT":
        raise InvalidInput("console.read_only", kind=kind)
    return statements[0]


def _nodes(tree):
    """Every dict inside a JSON tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def check_tree(cur, sql: str, tables: dict[str, list[str]]) -> None:
    """Refuse writes, unknown tables and outside-reaching functions anywhere in the parse tree."""
    tree = json.loads(scalar(cur, "SELECT json_serialize_sql(?::VARCHAR)", [sql]))
    if tree.get("error"):
        raise InvalidInput("console.unchecked")
    ctes = _cte_names(tree)
    catalog = scalar(cur, "SELECT current_database()").lower()
    for node in _nodes(tree):
        kind = node.get("type")
        if isinstance(kind, str) and kind.endswith("_NODE") and kind not in _QUERY_NODES:
            raise InvalidInput("console.writes", kind=kind.removesuffix("_QUERY_NODE").removesuffix("_NODE"))
        if kind in _UNCHECKED_REFS:
            raise InvalidInput("console.unchecked")
        if kind == "BASE_TABLE":
            _check_table_ref(node, tables, ctes, catalog)
        elif kind == "TABLE_FUNCTION":
            _check_table_function(node["function"].get("function_name", ""))
        if node.get("class") == "FUNCTION":
            _check_function(node.get("function_name", ""))
        elif node.get("class") == "PARAMETER":
            raise InvalidInput("console.no_parameters")


def _cte_names(tree) -> set[str]:
    names = {entry["key"].lower() for node in _nodes(tree) if isinstance(node.get("cte_map"), dict)
             for entry in node["cte_map"].get("map", [])}
    for name in names:
        # A CTE named like a file or a hidden table could hide a reference to one inside its own definition.
        if not _IDENTIFIER.match(name) or name in HIDDEN_TABLES:
            raise InvalidInput("console.bad_cte_name", name=name[:60])
    return names


def _check_table_ref(node: dict, tables: dict, ctes: set[str], catalog: str) -> None:
    name = node.get("table_name", "").lower()
    schema_name, catalog_name = node.get("schema_name", "").lower(), node.get("catalog_name", "").lower()
    if name in HIDDEN_TABLES:
        raise InvalidInput("console.hidden_table", name=name)
    if not schema_name and not catalog_name and name in ctes:
        return
    if name in tables and schema_name in ("", "main") and catalog_name in ("", catalog):
        return
    raise InvalidInput("console.table_not_allowed", name=".".join(p for p in (catalog_name, schema_name, name) if p)[:80])


def _check_table_function(name: str) -> None:
    if name.lower() not in TABLE_FUNCTIONS:
        raise InvalidInput("console.function_not_allowed", name=name[:60], allowed=", ".join(TABLE_FUNCTIONS))


def _check_function(name: str) -> None:
    name = name.lower()
    if name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES):
        raise InvalidInput("console.function_not_allowed", name=name[:60], allowed=", ".join(TABLE_FUNCTIONS))


def check_plan(cur, sql: str, tables: dict[str, list[str]]) -> None:
    """Refuse a bound plan that writes, scans anything but the readable tables, or reads a hidden column."""
    plan = json.loads(scalar(cur, "SELECT json_serialize_plan(?::VARCHAR)", [sql]))
    if plan.get("error"):
        if plan.get("error_type") == "not implemented":
            raise InvalidInput("console.unchecked")
        raise InvalidInput("console.failed", detail=_first_line(plan.get("error_message", "")))
    catalog = scalar(cur, "SELECT current_database()").lower()
    for node in _nodes(plan):
        kind = node.get("type")
        if not isinstance(kind, str) or not kind.startswith("LOGICAL_"):
            continue
        if any(word in kind for word in _WRITE_OPERATORS):
            raise InvalidInput("console.writes", kind=kind.removeprefix("LOGICAL_"))
        if kind == "LOGICAL_GET":
            _check_scan(node, tables, catalog)


def _check_scan(node: dict, tables: dict, catalog: str) -> None:
    path = [p.lower() for p in node.get("qname", {}).get("path", [])]
    if path != ["seq_scan"]:
        _check_table_function(path[-1] if path else "?")
        return
    data = node.get("function_data") or {}
    table = str(data.get("table", "")).lower()
    if table in HIDDEN_TABLES:
        raise InvalidInput("console.hidden_table", name=table)
    if table not in tables or str(data.get("schema", "")).lower() != "main" \
            or str(data.get("catalog", "")).lower() != catalog:
        raise InvalidInput("console.table_not_allowed", name=table[:80])
    names = node.get("names", [])
    read = {names[c["index"]].lower() for c in node.get("column_indexes", []) if c.get("index", -1) < len(names)}
    for column in HIDDEN_COLUMNS.get(table, ()):
        if column in read:
            raise InvalidInput("console.hidden_column", table=table, column=column)


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
        raise InvalidInput("console.failed", detail=_first_line(exc)) from None
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


def _first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def _rollback(cur) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass  # an interrupted or failed transaction is already rolled back
