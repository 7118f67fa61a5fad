"""Whole tables between DuckDB and PostgreSQL, as CSV through a temporary file: each side's own bulk reader and writer
(DuckDB's COPY TO / read_csv, PostgreSQL's COPY), no Python object per row — about ten times faster than fetching
rows. Used by `migrate --to` (lib.move_up), the analytics copy (lib.replica) and imports on a server
(lib.imports.server).

Both sides read CSV the same way: an unquoted empty field is NULL, a quoted one ("") the empty string. PostgreSQL
holds a UBIGINT (a category mask) as the BIGINT with the same 64 bits (its migration 004); the SQL below converts
on the way.
"""
import tempfile

from lib.db import sql_string

_TWO_63, _TWO_64 = "9223372036854775808", "18446744073709551616"


def duck_to_pg(duck, select: str, pg, table: str, columns: list[tuple[str, str]], params=None) -> int:
    """COPY the rows of DuckDB query `select` (its columns in the order of `columns`: (name, DuckDB type)) into
    PostgreSQL `table`; returns the rows copied."""
    values = ", ".join(f"CASE WHEN {c} >= {_TWO_63} THEN ({c}::HUGEINT - {_TWO_64})::BIGINT ELSE {c}::BIGINT END"
                       if kind == "UBIGINT" else c for c, kind in columns)
    names = ", ".join(c for c, _ in columns)
    with tempfile.TemporaryDirectory(prefix="voiddesk-transfer-") as folder:
        path = f"{folder}/rows.csv"   # DuckDB writes a new file there: read it by its name, not a handle
        duck.execute(f"COPY (SELECT {values} FROM ({select}) AS s) TO {sql_string(path)} (FORMAT csv, HEADER false)",
                     params or [])
        with open(path, "rb") as spool, pg.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            while block := spool.read(1 << 20):
                copy.write(block)
        return pg.rowcount


def pg_to_duck(pg, select: str, duck, table: str, columns: list[tuple[str, str]]) -> int:
    """COPY the rows of PostgreSQL query `select` (columns in the order of `columns`) into DuckDB `table`; returns
    the rows `table` then holds."""
    with tempfile.NamedTemporaryFile(suffix=".csv", prefix="voiddesk-transfer-") as spool:
        with pg.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                spool.write(chunk)
        spool.flush()
        types = {c: ("BIGINT" if kind == "UBIGINT" else kind) for c, kind in columns}
        values = ", ".join(f"CASE WHEN {c} < 0 THEN ({c}::HUGEINT + {_TWO_64})::UBIGINT ELSE {c}::UBIGINT END"
                           if kind == "UBIGINT" else c for c, kind in columns)
        duck.execute(f"INSERT INTO {table} ({', '.join(c for c, _ in columns)}) SELECT {values} FROM read_csv(?,"
                     " header = false, columns = ?, allow_quoted_nulls = false, auto_detect = false)",
                     [spool.name, types])
        return int(duck.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

