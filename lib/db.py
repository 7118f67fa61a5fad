"""The database handle: one DuckDB connection per process, a cursor per unit of work, numbered migrations."""
import re
import threading
from contextlib import closing, contextmanager
from functools import lru_cache
from pathlib import Path

import duckdb
import psycopg

from lib import clock
from lib.errors import ConcurrentChange

MIGRATIONS = Path(__file__).parent / "migrations"

_handles: dict[str, "Database"] = {}
_handles_lock = threading.Lock()


# What each backend raises when a unique key is taken (a racing double submit) or another writer got there first.
CONSTRAINT_ERRORS = (duckdb.ConstraintException, psycopg.errors.IntegrityError)
CONFLICT_ERRORS = (duckdb.TransactionException, psycopg.errors.SerializationFailure,
                   psycopg.errors.DeadlockDetected)
DATABASE_ERRORS = (duckdb.Error, psycopg.Error)


def is_server_url(target: str) -> bool:
    """Whether --db / VOIDDESK_DB names a PostgreSQL server rather than a DuckDB file."""
    return str(target).startswith(("postgresql://", "postgres://"))


def connect(target: str):
    """A handle on `target`: a PostgreSQL URL (the shared server, lib.db_postgres) or a DuckDB file path."""
    if is_server_url(target):
        from lib.db_postgres import PgDatabase

        return PgDatabase(str(target))
    return Database(target)


def analytics_db(db):
    """Where analytics read (dashboards, Explore, spike alerts, the SQL console): a DuckDB file is its own analytics
    engine; for PostgreSQL it is this process's DuckDB copy, refreshed first when older than a second
    (lib.replica)."""
    if db.backend == "duckdb":
        return db
    from lib.replica import copy_of

    return copy_of(db).fresh().copy


def ready_copy(db):
    """On PostgreSQL, this process's analytics copy once its first (whole) copy is made, refreshed first when
    older than a second; else None (a DuckDB file, or a copy still being made). Counting millions of orders takes
    PostgreSQL hundreds of milliseconds and the copy a few: a search's total is counted there, its rows are read
    from PostgreSQL."""
    if db.backend == "duckdb":
        return None
    from lib.replica import copy_of

    copy = copy_of(db)
    return copy.fresh().copy if copy.as_of is not None else None


def data_as_of(db):
    """When the analytics copy of `db` was taken (a datetime; refreshed first if stale, so the figures read next come
    from it), or None when analytics read the database itself."""
    if db.backend == "duckdb":
        return None
    from lib.replica import copy_of

    return copy_of(db).fresh().as_of


def for_update(cur) -> str:
    """" FOR UPDATE" for a read inside a PostgreSQL write transaction, else "".

    A service reads the rows it is about to change this way (orders, in id order), so two replicas changing the
    same order take turns as this process's writers do on DuckDB (Database.transaction): the second waits, then
    reads what the first committed and decides on that (a refusal, not a lost batch)."""
    return " FOR UPDATE" if getattr(cur, "locks_rows", False) else ""


def dialect(handle, **texts: str) -> str:
    """The SQL text for the backend of `handle` (a database or a cursor), where the dialects differ:
    dialect(cur, duckdb="…", postgresql="…")."""
    return texts[getattr(handle, "backend", "duckdb")]


class Database:
    """Owns the process's only connection to one file; hands out a fresh cursor per unit of work.

    DuckDB connections must not be shared across threads (each Streamlit session is a thread), but
    cursors made from one connection are separate connections with their own transactions.
    """

    backend = "duckdb"

    def __init__(self, path: str):
        if is_server_url(path):   # it would become a DuckDB file in a folder called "postgresql:"
            raise ValueError("a PostgreSQL address is opened with lib.db.connect, not as a DuckDB file")
        self.path = str(path)
        self.display_name = self.path
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(self.path)
        self._lock = threading.Lock()
        # Writers in this process take turns. DuckDB 2.0.0 misses some write-write conflicts between an
        # UPDATE … RETURNING (done as delete + insert on indexed tables) and a plain UPDATE of the same
        # row, so racing writers could lose an update. Version checks still tell a user whose view is stale.
        # (Orders and stock balances are only ever updated in place, with counted rows, never RETURNING.)
        self._write_lock = threading.RLock()
        self._memo: dict[str, object] = {}
        self._invalidated = False

    def cursor(self) -> "Cursor":
        with self._lock:
            if self._invalidated:
                self._reopen()
            return Cursor(self._con.cursor(), self)

    def invalidated(self) -> None:
        """DuckDB met an internal error and refuses every statement from now on ("database has been invalidated
        … must be restarted"): the next cursor opens the file afresh, so one failed page does not take the app
        down until someone restarts it. What was committed is in the file; the failed statement changed nothing."""
        self._invalidated = self.path != ":memory:"

    def _reopen(self) -> None:
        try:
            self._con.close()
        except duckdb.Error:
            pass
        self._con = duckdb.connect(self.path)
        self._memo.clear()
        self._invalidated = False

    def forget(self) -> None:
        """Drop what Cursor.memo keeps (after any write to MEMO_TABLES)."""
        self._memo.clear()

    @contextmanager
    def read(self):
        """A cursor for reads, closed afterwards."""
        with closing(self.cursor()) as cur:
            yield cur

    @contextmanager
    def transaction(self):
        """A cursor inside BEGIN … COMMIT; any error rolls everything back.

        DuckDB reports a write-write conflict as a TransactionException and leaves the transaction
        aborted (a later COMMIT would silently do nothing), so roll back and raise ConcurrentChange.
        """
        with self._write_lock, self.unlocked_transaction() as cur:
            cur._may_memo = True
            yield cur

    @contextmanager
    def unlocked_transaction(self):
        """transaction() without the process's write lock (tests use it to provoke real conflicts)."""
        cur = self.cursor()
        cur.begin()
        try:
            yield cur
            cur.commit()
        except duckdb.TransactionException as exc:
            _rollback(cur)
            if "conflict" in str(exc).lower():
                raise ConcurrentChange() from exc
            raise
        except BaseException:
            _rollback(cur)
            raise
        finally:
            if cur._wrote_memo_tables:
                self.forget()   # committed or rolled back: what was kept may be stale either way
            cur.close()

    def close(self) -> None:
        self._con.close()


class Cursor:
    """A DuckDB cursor (a connection with its own transaction) whose execute() does not parse SQL text twice.

    DuckDB's Python client parses, binds and plans every statement afresh and offers no prepared statements
    (EXECUTE takes no `?` parameters). Parsing is a fifth to a third of a small statement's cost (measured here:
    0.12–0.14 ms of 0.35–0.8 ms), and one void runs fifteen statements, so the parsed form of each SQL text is
    kept. DuckDB copies a parsed statement on every execute, so one cache serves all threads.
    """

    __slots__ = ("_cur", "_db", "_may_memo", "_wrote_memo_tables")
    backend = "duckdb"

    def __init__(self, cur: duckdb.DuckDBPyConnection, db: "Database | None" = None):
        self._cur = cur
        self._db = db
        self._may_memo = False          # set inside Database.transaction(): see memo()
        self._wrote_memo_tables = False

    def execute(self, sql, parameters=None) -> duckdb.DuckDBPyConnection:
        if isinstance(sql, str):
            if writes_memo_tables(sql):
                self._wrote_memo_tables = True
                if self._db is not None:
                    self._db.forget()
            sql = _parsed(sql)
        try:
            return self._cur.execute(sql, parameters)
        except (duckdb.InternalException, duckdb.FatalException):
            if self._db is not None:
                self._db.invalidated()
            raise

    def send(self, sql: str, parameters=None) -> None:
        """execute() for a write whose result nobody reads (PostgreSQL's cursor sends it with the next statement)."""
        self.execute(sql, parameters)

    def memo(self, name: str, load):
        """load(self), kept per database until a write to MEMO_TABLES (rules, reasons, people: read by every
        void, changed rarely). Kept only when loaded inside Database.transaction(): its write lock orders this
        process's writers, and only this process can write the file, so nothing newer can be missed. A
        transaction that changed those tables itself always loads afresh."""
        if self._db is None or self._wrote_memo_tables:
            return load(self)
        memo = self._db._memo
        if name in memo:
            return memo[name]
        value = load(self)
        if self._may_memo:
            memo[name] = value
        return value

    def __getattr__(self, name):
        return getattr(self._cur, name)


MEMO_TABLES = ("settings", "reasons", "users")
_MEMO_TABLE_NAMES = re.compile(r"\b(?:" + "|".join(MEMO_TABLES) + r")\b", re.IGNORECASE)
_READ_ONLY = re.compile(r"^\s*(?:SELECT|WITH|FROM|VALUES|DESCRIBE|SHOW|EXPLAIN|SUMMARIZE)\b", re.IGNORECASE)


@lru_cache(maxsize=2048)
def writes_memo_tables(sql: str) -> bool:
    """Whether a statement may change a table that Cursor.memo keeps (any non-read naming one of them)."""
    return bool(_MEMO_TABLE_NAMES.search(sql)) and not _READ_ONLY.match(sql)


@lru_cache(maxsize=2048)
def _parsed(sql: str):
    """The parsed statement for a one-statement text; a script stays text (DuckDB runs it statement by statement)."""
    statements = duckdb.extract_statements(sql)
    return statements[0] if len(statements) == 1 else sql


def _rollback(cur) -> None:
    try:
        cur.rollback()
    except duckdb.Error:
        pass  # already rolled back by DuckDB


def open_database(path: str, migrate: bool = True) -> Database:
    """The process-wide handle for `path`, created (and migrated) on first use."""
    key = path if path == ":memory:" or is_server_url(path) else str(Path(path).resolve())
    with _handles_lock:
        db = _handles.get(key)
        if db is None:
            db = connect(path)
            if migrate:
                apply_migrations(db)
            _handles[key] = db
        return db


def close_database(path: str) -> None:
    key = path if is_server_url(path) else str(Path(path).resolve())
    with _handles_lock:
        db = _handles.pop(key, None)
    if db is not None:
        db.close()


def migration_files(backend: str = "duckdb") -> list[tuple[int, str, Path]]:
    """The numbered migrations, in order. One text serves both backends, except where migrations/<backend>/ holds
    the same number in that backend's dialect."""
    own = {f.name: f for f in (MIGRATIONS / backend).glob("*.sql")} if backend != "duckdb" else {}
    files = []
    for f in sorted(MIGRATIONS.glob("*.sql")):
        number = int(f.name.split("_", 1)[0])
        files.append((number, f.stem, own.get(f.name, f)))
    return files


def schema_version(db: Database) -> int:
    with db.read() as cur:
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchall()[0][0]
        if not exists:
            return 0
        return cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]


# Replicas starting together on one PostgreSQL server take turns at the migrations (an advisory lock, held by the
# transaction that applies one); DuckDB files have one writer process anyway.
_MIGRATION_LOCK = {"duckdb": None, "postgresql": "SELECT pg_advisory_xact_lock(730114)"}


def apply_migrations(db: Database) -> int:
    """Apply every migration not yet recorded, each in its own transaction; return the schema version."""
    lock = _MIGRATION_LOCK[db.backend]
    with db.transaction() as cur:
        if lock:
            cur.execute(lock)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
    applied, current = False, schema_version(db)
    for number, name, path in migration_files(db.backend):
        if number <= current:
            continue
        with db.transaction() as cur:
            if lock:
                cur.execute(lock)
                if number <= cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]:
                    continue   # another process applied it while this one waited
            cur.execute(path.read_text(encoding="utf-8"))
            cur.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [number, name, clock.now()]
            )
        applied = True
    if applied and db.backend == "duckdb" and db.path != ":memory:":
        # A migration may rewrite millions of rows; written into the file now, later small writes stay fast.
        with db.read() as cur:
            cur.execute("CHECKPOINT")
    return schema_version(db)


def memo(cur, name: str, load):
    """cur.memo where the cursor is one of ours (lib.db.Cursor, lib.db_postgres.PgCursor), else load(cur)."""
    keep = getattr(cur, "memo", None)
    return keep(name, load) if keep is not None else load(cur)


def send(cur, sql: str, params=None) -> None:
    """A write whose result nobody reads: cur.send where the cursor has it (see PgCursor.send), else execute."""
    quiet = getattr(cur, "send", None)
    if quiet is not None:
        quiet(sql, params)
    else:
        cur.execute(sql, params or [])


def sql_string(text) -> str:
    """`text` as an SQL string literal, for the few places a value cannot be a parameter (COPY … TO a path, a
    table function's file name, a constant in a statement's select list)."""
    return "'" + str(text).replace("'", "''") + "'"


def scalar(cur, sql: str, params=None):
    """First column of the first row, or None."""
    rows = cur.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def rows_as_dicts(cur, sql: str, params=None) -> list[dict]:
    result = cur.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def insert_rows(cur, table: str, columns: dict[str, str], rows: list[tuple], returning: str = "",
                on_conflict: str = "") -> list[tuple]:
    """INSERT `rows` (tuples in the order of `columns`, a {column: SQL type} dict) in one statement and return
    what `returning` names (else nothing, and the insert is sent as send() sends: on PostgreSQL it costs no round
    trip of its own). `on_conflict`: e.g. "(a, b) DO NOTHING".

    DuckDB parses and plans every statement afresh, and the plan of `unnest(?::T[])` per column costs about
    twice that of a one-row VALUES: one row goes in as VALUES, more as one list per column, which plans in
    the same time for three rows or three thousand. Table and column names come from code, never from input.
    """
    names = ", ".join(columns)
    tail = (f" ON CONFLICT {on_conflict}" if on_conflict else "") + (f" RETURNING {returning}" if returning else "")
    if len(rows) == 1:
        sql, params = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)}){tail}", list(rows[0])
    else:
        lists = ", ".join(f"unnest(?::{kind}[])" for kind in columns.values())
        sql, params = f"INSERT INTO {table} ({names}) SELECT {lists}{tail}", [list(c) for c in zip(*rows)]
    if not returning:
        send(cur, sql, params)
        return []
    return cur.execute(sql, params).fetchall()
