"""The shared-server backend: PostgreSQL through psycopg 3 and a psycopg_pool connection pool (issue #14).

PgDatabase offers what lib.db.Database offers — read(), transaction(), cursors whose execute() takes the SQL texts
the services already use — so services, rules, permissions, the CLI and the pages run unchanged on either backend.
Where the dialects agree the services keep one SQL text: `?` and `$name` placeholders are rewritten to psycopg's
`%s` / `%(name)s` once per text, and a statement without a result reads like DuckDB's, one row holding its row
count. Where they differ, the services keep both texts next to each other (lib.db.dialect).

Many processes share the database, so nothing is kept in memory between transactions (Cursor.memo loads every
time), and races are settled by the rows themselves: guarded `UPDATE … WHERE version = ?` in READ COMMITTED waits
for the other writer, re-reads the row and finds it changed.
"""
import re
import time
from contextlib import closing, contextmanager
from functools import lru_cache

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

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
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=True, timeout=30,
                                    kwargs={"autocommit": True}, name="voiddesk")

    def forget(self) -> None:
        """Nothing is kept (see the module's docstring)."""

    @contextmanager
    def read(self):
        """A cursor for reads; each statement sees what is committed when it starts."""
        with self._pool.connection() as conn, closing(PgCursor(conn)) as cur:
            yield cur

    @contextmanager
    def transaction(self):
        """A cursor inside BEGIN … COMMIT; any error rolls everything back; losing a race raises ConcurrentChange."""
        with self._pool.connection() as conn:
            cur = PgCursor(conn, locks_rows=True)
            try:
                with conn.transaction():
                    yield cur
                self.last_commit = time.monotonic()
            except CONFLICTS as exc:
                raise ConcurrentChange() from exc
            finally:
                cur.close()

    unlocked_transaction = transaction   # there is no process lock to leave out

    def close(self) -> None:
        self._pool.close()


class PgCursor:
    """A psycopg cursor that takes the services' SQL texts and answers as a DuckDB cursor does."""

    backend = "postgresql"

    def __init__(self, conn: psycopg.Connection, locks_rows: bool = False):
        self._conn = conn
        self._cur = conn.cursor()
        self.locks_rows = locks_rows   # inside transaction(): lib.db.for_update locks what the service will change

    def execute(self, sql: str, parameters=None) -> "PgCursor":
        if parameters is None or (isinstance(parameters, (list, tuple)) and not parameters):
            self._cur.execute(sql)   # without parameters psycopg sends the text as it is (scripts too)
        elif isinstance(parameters, dict):
            self._cur.execute(_translated(sql, True), {k: _param(v) for k, v in parameters.items()})
        else:
            self._cur.execute(_translated(sql, False), [_param(v) for v in parameters])
        return self

    def executemany(self, sql: str, rows) -> "PgCursor":
        self._cur.executemany(_translated(sql, False), [[_param(v) for v in row] for row in rows])
        return self

    def fetchall(self) -> list[tuple]:
        if self._cur.description is None:       # INSERT/UPDATE/DELETE without RETURNING: DuckDB gives the count
            return [(self._cur.rowcount,)]
        return self._cur.fetchall()

    def copy(self, statement: str):
        """PostgreSQL's COPY (psycopg's Copy object): how `migrate --to` moves whole tables."""
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
        return load(self)

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
