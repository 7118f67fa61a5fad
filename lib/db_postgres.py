"""The shared-server backend: PostgreSQL through psycopg 3 and a psycopg_pool connection pool (issue #14).

PgDatabase offers what lib.db.Database offers — read(), transaction(), cursors whose execute() takes the SQL texts
the services already use — so services, rules, permissions, the CLI and the pages run unchanged on either backend.
Where the dialects agree the services keep one SQL text: `?` and `$name` placeholders are rewritten to psycopg's
`%s` / `%(name)s` once per text, and a statement without a result reads like DuckDB's, one row holding its row
count. Where they differ, the services keep both texts next to each other (lib.db.dialect).

Many processes share the database, so what a process keeps (PgCursor.memo: the rules, reasons and people every
void reads) is checked against a counter the server moves on with every change to them (migration 007), and races
are settled by the rows themselves: guarded `UPDATE … WHERE version = ?` in READ COMMITTED waits for the other
writer, re-reads the row and finds it changed.

Round trips, not the server, are most of a small write's cost here (a void: fourteen statements of 0.01–0.2 ms
each on the server). So a transaction's BEGIN and the writes whose results nobody reads (PgCursor.send: history,
ledger, audit, notifications, the submission key) are not sent on their own: they travel in one message with the
next statement or with the COMMIT, bound on the client by psycopg (ClientCursor.mogrify), as the simple query
protocol runs several statements. A failing statement still fails the whole transaction (PostgreSQL skips the rest
of the message and the transaction is rolled back); its error is raised by the statement it travelled with, or by
the COMMIT, inside the same `with db.transaction()` block.
"""
import re
import time
from contextlib import closing, contextmanager, suppress
from functools import lru_cache

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from lib.db import writes_memo_tables
from lib.errors import ConcurrentChange, InvalidInput

# A serialization failure or deadlock means another transaction got there first: the user is told, nothing half done.
CONFLICTS = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected, pg_errors.LockNotAvailable)
_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PgDatabase:
    backend = "postgresql"

    def __init__(self, url: str, max_connections: int = 20):
        self.path = url                  # what connect() takes again (a child process, a second handle)
        self.display_name = redact(url)  # what messages show
        # An unreachable server or a wrong password is said now, in one line, not by the pool retrying at first use.
        psycopg.connect(url, connect_timeout=10).close()
        self.last_commit = 0.0            # time.monotonic() of this process's latest commit (lib.replica)
        self._memo: dict[str, tuple[int, object]] = {}   # name -> (memo_version it was loaded at, value)
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=True, timeout=30,
                                    kwargs={"autocommit": True}, name="voiddesk")

    def forget(self) -> None:
        """Drop what PgCursor.memo keeps."""
        self._memo.clear()

    @contextmanager
    def read(self):
        """A cursor for reads; each statement sees what is committed when it starts."""
        with self._pool.connection() as conn, closing(PgCursor(conn, db=self)) as cur:
            yield cur

    @contextmanager
    def transaction(self):
        """A cursor inside BEGIN … COMMIT; any error rolls everything back; losing a race raises ConcurrentChange."""
        with self._pool.connection() as conn:
            cur = PgCursor(conn, db=self, locks_rows=True, deferred=True)
            try:
                yield cur
                cur.flush("COMMIT")
                self.last_commit = time.monotonic()
            except BaseException as exc:
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    with suppress(psycopg.Error):   # a broken connection: the pool drops it, the server rolls back
                        conn.execute("ROLLBACK")
                if isinstance(exc, CONFLICTS):
                    raise ConcurrentChange() from exc
                raise
            finally:
                cur.close()

    unlocked_transaction = transaction   # there is no process lock to leave out

    def reserve_ids(self, sequence: str, n: int) -> int:
        """Reserve n consecutive values of `sequence` and return the first (an import's block of ids). In a short
        transaction of its own: ALTER SEQUENCE makes other writers' nextval() wait until it commits, so nobody
        draws a value inside the block, and nobody waits longer than this."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(f"ALTER SEQUENCE {_identifier(sequence)} INCREMENT BY 1")   # the lock (no change)
            last, called = conn.execute(f"SELECT last_value, is_called FROM {_identifier(sequence)}").fetchone()
            first = last + 1 if called else last
            conn.execute("SELECT setval(%s, %s, true)", [sequence, first + n - 1])
        return int(first)

    def close(self) -> None:
        self._pool.close()


class PgCursor:
    """A psycopg cursor that takes the services' SQL texts and answers as a DuckDB cursor does."""

    backend = "postgresql"

    def __init__(self, conn: psycopg.Connection, db: PgDatabase | None = None, locks_rows: bool = False,
                 deferred: bool = False):
        self._conn = conn
        self._cur = conn.cursor()
        self._db = db
        # Inside transaction(): what waits to travel with the next statement, BEGIN first (see the module's
        # docstring); None for a cursor of read(), whose statements each go at once.
        self._unsent: list[str] | None = ["BEGIN"] if deferred else None
        self._binder: psycopg.ClientCursor | None = None
        self._memo_version: int | None = None   # read once per cursor, by the first memo()
        self._wrote_memo_tables = False
        self.locks_rows = locks_rows   # inside transaction(): lib.db.for_update locks what the service will change

    def execute(self, sql: str, parameters=None) -> "PgCursor":
        if not self._wrote_memo_tables and writes_memo_tables(sql):
            self._wrote_memo_tables = True
        if self._unsent:
            self.flush(self._bound(sql, parameters))
        elif parameters is None or (isinstance(parameters, (list, tuple)) and not parameters):
            self._cur.execute(sql)   # without parameters psycopg sends the text as it is (scripts too)
        elif isinstance(parameters, dict):
            self._cur.execute(_translated(sql, True), {k: _param(v) for k, v in parameters.items()})
        else:
            self._cur.execute(_translated(sql, False), [_param(v) for v in parameters])
        return self

    def send(self, sql: str, parameters=None) -> None:
        """execute() for a write whose result nobody reads: inside transaction() it goes with the next statement
        or the COMMIT, not on its own."""
        if self._unsent is None:
            self.execute(sql, parameters)
            return
        if not self._wrote_memo_tables and writes_memo_tables(sql):
            self._wrote_memo_tables = True
        self._unsent.append(self._bound(sql, parameters))

    def flush(self, last: str | None = None) -> None:
        """Send what waits, and `last` after it, as one message; the cursor then holds the last statement's
        result."""
        texts = (self._unsent or []) + ([last] if last else [])
        if self._unsent is not None:
            self._unsent = []
        if texts == ["BEGIN", "COMMIT"]:
            return   # a transaction that ran nothing
        if texts:
            self._cur.execute("; ".join(texts))
            while self._cur.nextset():
                pass

    def _bound(self, sql: str, parameters) -> str:
        """The statement with its parameters written in as literals (psycopg's own quoting)."""
        if parameters is None or (isinstance(parameters, (list, tuple)) and not parameters):
            return sql
        if self._binder is None:
            self._binder = psycopg.ClientCursor(self._conn)
        if isinstance(parameters, dict):
            return self._binder.mogrify(_translated(sql, True), {k: _param(v) for k, v in parameters.items()})
        return self._binder.mogrify(_translated(sql, False), [_param(v) for v in parameters])

    def executemany(self, sql: str, rows) -> "PgCursor":
        self.flush()
        self._cur.executemany(_translated(sql, False), [[_param(v) for v in row] for row in rows])
        return self

    def fetchall(self) -> list[tuple]:
        if self._cur.description is None:       # INSERT/UPDATE/DELETE without RETURNING: DuckDB gives the count
            return [(self._cur.rowcount,)]
        return self._cur.fetchall()

    def copy(self, statement: str):
        """PostgreSQL's COPY (psycopg's Copy object): how `migrate --to` moves whole tables."""
        self.flush()
        return self._cur.copy(statement)

    def fetchmany(self, size: int) -> list[tuple]:
        return self._cur.fetchmany(size)

    def fetchone(self):
        if self._cur.description is None:
            return (self._cur.rowcount,)
        return self._cur.fetchone()

    @property
    def description(self):
        return self._cur.description

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def df(self):
        import pandas as pd

        names = [d[0] for d in self._cur.description]
        return pd.DataFrame(self._cur.fetchall(), columns=names)

    def memo(self, name: str, load):
        """load(self), kept by the process while the server's memo_version stays where it was when loaded. The
        counter is read once per cursor: a transaction sees one version of the rules and reasons. A cursor that
        changed those tables itself loads afresh (its change is not committed yet)."""
        if self._db is None or self._wrote_memo_tables:
            return load(self)
        if self._memo_version is None:
            self._memo_version = self.execute("SELECT version FROM memo_version").fetchall()[0][0]
        kept = self._db._memo.get(name)
        if kept is not None and kept[0] == self._memo_version:
            return kept[1]
        value = load(self)
        self._db._memo[name] = (self._memo_version, value)
        return value

    # A read that must see one snapshot (a count and its page) runs inside begin() … commit(); the pool rolls back
    # whatever a cursor leaves open.
    def begin(self) -> None:
        self._cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        self._cur.execute("COMMIT")

    def rollback(self) -> None:
        self._cur.execute("ROLLBACK")

    def close(self) -> None:
        self._cur.close()
        if self._binder is not None:
            self._binder.close()


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a sequence name: {name!r}")
    return name


def as_bigint(value):
    """A Python int of 2^63 and up (a UBIGINT category mask) as the BIGINT with the same 64 bits; anything else
    as it is."""
    if isinstance(value, int) and not isinstance(value, bool) and _I64_MAX < value < _U64:
        return value - _U64
    return value


def _param(value):
    """A parameter as PostgreSQL takes it (as_bigint). Text holding a NUL character, which PostgreSQL cannot
    store, is refused in plain words (the transaction rolls back)."""
    if isinstance(value, str) and "\x00" in value:
        raise InvalidInput("input.nul_character")
    if isinstance(value, int):
        return as_bigint(value)
    if isinstance(value, list):
        return [_param(v) for v in value]
    return value


_TOKENS = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\?|\$[A-Za-z_]\w*|%)""")


@lru_cache(maxsize=4096)
def _translated(sql: str, named: bool) -> str:
    """DuckDB's placeholders (`?`, `$name`) as psycopg's and every literal % doubled; a ? or $name inside quotes or
    a comment is left alone."""
    def swap(m: re.Match) -> str:
        token = m.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if token.startswith("$"):
            return f"%({token[1:]})s" if named else token
        return token.replace("%", "%%")   # psycopg reads % everywhere, even inside quotes
    return _TOKENS.sub(swap, sql)
