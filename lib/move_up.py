"""Moving up: copy an embedded DuckDB database into an empty PostgreSQL database (`python -m lib.cli migrate --to`,
issue #14 §5), and `seed` on PostgreSQL (a demo seeded in a temporary DuckDB file, then moved up).

Every table goes over with PostgreSQL's COPY in one transaction, so a failure leaves the target as empty as it was;
each sequence is set past the ids copied; `check` must be ok on both ends and every table's row count and every
money column's sum must be equal, or the transaction is rolled back.
"""
from decimal import Decimal

from lib.db import apply_migrations, scalar
from lib.transfer import duck_to_pg
from lib.errors import VoidDeskError
from lib.queries.check import run_checks

# Filled by the migrations themselves; replaced by the source's rows.
MIGRATION_FILLED = ("reasons", "settings", "counters", "category_bits")
SKIPPED = ("schema_migrations", "memo_version")   # each side records its own migrations; a server its own counter


class TargetNotEmpty(VoidDeskError):
    key = "migrate.target_not_empty"


class CopyMismatch(VoidDeskError):
    key = "migrate.mismatch"


def tables(cur) -> list[str]:
    rows = cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                       " AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
    return [r[0] for r in rows if r[0] not in SKIPPED]


def columns(cur, table: str) -> list[str]:
    rows = cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                       " AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    return [r[0] for r in rows]


def money_columns(cur, table: str) -> list[str]:
    rows = cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                       " AND table_name = ? AND data_type LIKE 'DECIMAL%' ORDER BY ordinal_position",
                       [table]).fetchall()
    return [r[0] for r in rows]


def filled_tables(cur) -> list[str]:
    """The tables holding rows of their own (beyond what the migrations put in): empty means none."""
    return [t for t in tables(cur) if t not in MIGRATION_FILLED and scalar(cur, f"SELECT count(*) FROM {t}")]


def fingerprint(cur, names: list[str], money: dict[str, list[str]]) -> dict[str, tuple]:
    """table -> (rows, sum of each money column): what must be equal on both ends."""
    out = {}
    for table in names:
        sums = "".join(f", coalesce(sum({c}), 0)" for c in money[table])
        row = cur.execute(f"SELECT count(*){sums} FROM {table}").fetchall()[0]
        out[table] = (int(row[0]), *(Decimal(v) for v in row[1:]))
    return out


def move_up(source, target, progress=None) -> dict:
    """Copy the DuckDB database `source` into the PostgreSQL database `target` (migrated here, and empty but for
    what the migrations put in). Returns {"tables": {name: rows}, "checks_ok": True}; raises TargetNotEmpty,
    CopyMismatch (nothing copied) or the database's own error."""
    apply_migrations(source)
    apply_migrations(target)
    with source.read() as src:
        names = tables(src)
        money = {t: money_columns(src, t) for t in names}
        before = fingerprint(src, names, money)
    source_checks = run_checks(source)
    with target.transaction() as dst:
        filled = filled_tables(dst)
        if filled:
            raise TargetNotEmpty(tables=", ".join(filled))
        total, done = sum(n for n, *_ in before.values()) or 1, 0
        indexes = _drop_secondary_indexes(dst)
        for table in names:
            if table in MIGRATION_FILLED:
                dst.execute(f"DELETE FROM {table}")
            done += _copy_table(source, dst, table)
            if progress:
                progress(done / total)
        for definition in indexes:   # built once over the copied rows: several times faster than row by row
            dst.execute(definition)
        dst.execute("ANALYZE")
        _set_sequences(dst)
        after = fingerprint(dst, names, money)
        differ = sorted(t for t in names if before[t] != after[t])
        if differ:
            raise CopyMismatch(tables=", ".join(differ))
    target_checks = run_checks(target)
    return {"tables": {t: before[t][0] for t in names}, "checks_ok": source_checks["ok"] and target_checks["ok"],
            "source_checks": source_checks, "target_checks": target_checks}


def _drop_secondary_indexes(dst) -> list[str]:
    """Drop the indexes that back no constraint (the migrations' lookup indexes), in this transaction; return
    their definitions to create them again once the rows are in."""
    rows = dst.execute("""SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ORDER BY i.indexname""").fetchall()
    for name, _ in rows:
        dst.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def _copy_table(source, dst, table: str) -> int:
    """One table from DuckDB into PostgreSQL's COPY (lib.transfer); return the rows copied."""
    with source.read() as src:
        kinds = src.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema ="
                            " current_schema() AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
        return duck_to_pg(src, f"SELECT {', '.join(c for c, _ in kinds)} FROM {table}", dst, table, kinds)


def _set_sequences(dst) -> None:
    """Every sequence a column default draws from, set past the largest value copied into that column."""
    for table, column, default in dst.execute(
            "SELECT table_name, column_name, column_default FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'").fetchall():
        sequence = default.split("'")[1]
        dst.execute(f"SELECT setval(?, (SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)", [sequence])
