"""The import service (SPEC §9): check every row of a file, then load all of it in one transaction, or nothing.

check_import() only reports (the wizard's preview); run_import() checks again inside the loading transaction, so
what is loaded is exactly what was checked against the database as it is at that moment."""
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from lib import clock
from lib.db import DATABASE_ERRORS, Database
from lib.domain import User, require
from lib.errors import VoidDeskError
from lib.i18n import LANGUAGES
from lib.imports import catalog, lines, mapping as mappings, orders, orders_load, report, server, upsert, upsert_writes
from lib.imports.base import Context, count
from lib.imports.mapping import Mapping
from lib.imports.readers import Source
from lib.imports.stage import check_types, create_stage
from lib.services import audit

PREVIEW_ROWS = 20
# DuckDB's memory while an import runs: what does not fit goes to its temporary directory on disk. 6,000,000 order
# lines then load with a peak of 1.1 GB (Parquet) or 1.2 GB (CSV) instead of 7 GB, at the same speed (measured
# 2026-12-06). The limit is DuckDB's, for the whole process: other sessions share it while the import runs.
IMPORT_MEMORY = "768MB"
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Kind:
    resolve: Callable
    check: Callable
    load: Callable
    preview_sql: Callable


KINDS = {
    "orders": Kind(orders.resolve, orders.check, orders_load.load, orders.preview_sql),
    "lines": Kind(lines.resolve, lines.check, lines.load, lines.preview_sql),
    "customers": Kind(catalog.resolve_customers, catalog.check_customers, catalog.load_customers,
                      lambda ctx: catalog.PREVIEW_CUSTOMERS),
    "products": Kind(catalog.resolve_products, catalog.check_products, catalog.load_products,
                     lambda ctx: catalog.PREVIEW_PRODUCTS),
    "stock": Kind(catalog.resolve_stock, catalog.check_stock_rows, catalog.load_stock,
                  lambda ctx: catalog.PREVIEW_STOCK),
}


@dataclass
class ImportResult:
    kind: str
    file_name: str
    rows: int                          # data rows in the file
    rejected: int                      # rows with at least one problem
    loaded: int = 0                    # rows loaded: all of them, or 0
    counts: dict[str, int] = field(default_factory=dict)   # rows written per table
    problems: pd.DataFrame | None = None   # the first problems: row, field, value, reason (user's language)
    mode: str = "insert"
    outcome: dict[str, int] | None = None   # an upsert's records inserted, updated, unchanged, conflicts, rejected
    conflicts: pd.DataFrame | None = None   # an upsert's first conflicts (as problems), left as they are
    conflict_report: bytes | None = None    # every conflict as CSV
    preview: pd.DataFrame | None = None    # the first rows as they will be stored
    report: bytes | None = None            # every problem as CSV, when there are any

    @property
    def ok(self) -> bool:
        return self.rejected == 0


def check_import(db: Database, actor: User, source: Source, mapping: Mapping, *, lang: str = "en",
                 progress: Progress | None = None, mode: str = "insert") -> ImportResult:
    """Check every row and show how the first ones will be stored (and, in an upsert, what each record will
    become); writes nothing."""
    ctx = _start(actor, source, mapping, lang, mode)
    with _session(db, write=False) as (cur, ws):
        return _check(cur, ctx, source, lang, progress or _quiet, ws=ws)


def run_import(db: Database, actor: User, source: Source, mapping: Mapping, *, lang: str = "en",
               progress: Progress | None = None, mode: str = "insert") -> ImportResult:
    """Check every row; when none is rejected, load them all in one transaction. Any rejected row: nothing loads
    and the result carries the problems and the report. `mode` "upsert": records already in the database are
    compared, and updated or left as they are (lib.imports.upsert), in the same transaction.

    Either way the audit log says so: `import.run` with the load, or `import.fail` afterwards (rows rejected, or
    the refusal or error that stopped it) — the one thing a failed import writes (team chat reads both, #17)."""
    require(actor, "import.run")
    try:
        result = _run_import(db, actor, source, mapping, lang, progress or _quiet, mode)
    except (VoidDeskError, *DATABASE_ERRORS) as exc:
        _audit_failure(db, actor, source, mapping, mode, rows=None, rejected=None, error=exc)
        raise
    if not result.ok:
        _audit_failure(db, actor, source, mapping, mode, rows=result.rows, rejected=result.rejected, error=None)
    return result


def _run_import(db: Database, actor: User, source: Source, mapping: Mapping, lang: str, say: Progress,
                mode: str) -> ImportResult:
    ctx = _start(actor, source, mapping, lang, mode)
    with _session(db, write=True) as (cur, ws):
        result = _check(cur, ctx, source, lang, say, fraction=0.5, ws=ws)
        if not result.ok:
            return result
        say(0.55, "import.progress.load")
        if ctx.upsert:
            upsert.keep_new(cur)
        result.counts = KINDS[ctx.kind].load(cur, ctx)
        result.loaded = result.rows
        if ws is not None:
            ws.write_back(cur)
        if ctx.upsert:
            say(0.8, "import.progress.update")
            target = ws.pg if ws is not None else cur
            for table, n in upsert_writes.apply(cur, target, ctx).items():
                result.counts[table] = result.counts.get(table, 0) + n
        _audit_run(ws.pg if ws is not None else cur, ctx, result)
        say(0.95, "import.progress.commit")
    say(1.0, "import.progress.done")
    return result


def _quiet(fraction: float, key: str) -> None:
    pass


@contextmanager
def _session(db: Database, write: bool):
    """(cursor, workspace): on a DuckDB file the import runs in the database itself (workspace None); on a
    PostgreSQL server in a DuckDB workspace written back to the server (lib.imports.server)."""
    if db.backend == "postgresql":
        with server.workspace(db, write) as (cur, ws), bounded_memory(cur):
            yield cur, ws
    else:
        with (db.transaction() if write else db.read()) as cur, bounded_memory(cur):
            yield cur, None


@contextmanager
def bounded_memory(cur):
    """DuckDB's memory limited to IMPORT_MEMORY inside the block, and as before afterwards."""
    before = cur.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    cur.execute(f"SET memory_limit = '{IMPORT_MEMORY}'")
    try:
        yield
    finally:
        cur.execute(f"SET memory_limit = '{before}'")


def _start(actor: User, source: Source, mapping: Mapping, lang: str, mode: str) -> Context:
    require(actor, "import.run")
    mappings.check_kind(mapping.kind)
    mode = upsert.check_mode(mode, mapping.kind)
    mappings.check(mapping, source, lang)
    return Context(mapping, actor, clock.now().replace(microsecond=0), source.name, mode)


def _check(cur, ctx: Context, source: Source, lang: str, say: Progress, fraction: float = 1.0,
           ws=None) -> ImportResult:
    kind = KINDS[ctx.kind]
    say(0.05 * fraction, "import.progress.read")
    order = create_stage(cur, source, ctx.mapping)
    say(0.3 * fraction, "import.progress.types")
    check_types(cur, ctx.mapping, ctx.now, order)
    if ws is not None:   # what the checks look up, from the server
        numbered = ctx.kind in ("orders", "lines")
        ws.pull(cur, "SELECT order_no_raw FROM imp_stage" if numbered else None,
                with_lines=ctx.kind == "lines" or (ctx.upsert and orders.has_lines(ctx)))
    kind.resolve(cur, ctx)
    cur.execute("DROP TABLE IF EXISTS imp_stage")   # imp_rows holds all of it now: memory for loading
    say(0.6 * fraction, "import.progress.checks")
    kind.check(cur, ctx)
    rejected = count(cur, "SELECT count(DISTINCT _row) FROM imp_rejects")
    result = ImportResult(ctx.kind, source.name, source.rows, rejected, mode=ctx.mode)
    result.preview = cur.execute(kind.preview_sql(ctx), [PREVIEW_ROWS]).df()
    if rejected:
        result.problems = report.problems(cur, ctx.kind, lang)
        result.report = report.report_csv(cur, ctx.kind, lang)
    if ctx.upsert:
        outcome = upsert.classify(cur, ws.pg if ws is not None else cur, ctx)
        result.outcome = outcome.as_dict(rejected)
        if outcome.conflicts:
            result.conflicts = report.problems(cur, ctx.kind, lang, table="imp_conflicts")
            result.conflict_report = report.report_csv(cur, ctx.kind, lang, table="imp_conflicts")
    say(fraction, "import.progress.checked")
    return result


def _audit_failure(db: Database, actor: User, source: Source, mapping: Mapping, mode: str, *, rows, rejected,
                   error) -> None:
    after = {"kind": mapping.kind, "file": source.name, "mode": mode, "rows": rows, "rejected": rejected}
    if error is not None:   # in both languages: each chat channel speaks one of them
        after.update({f"error_{lang}": error.message(lang) if isinstance(error, VoidDeskError)
                      else (str(error).strip().splitlines() or [type(error).__name__])[0][:300] for lang in LANGUAGES})
    with db.transaction() as cur:
        audit.record(cur, actor, "import.fail", "import", f"{mapping.kind}-{clock.now():%Y%m%d%H%M%S}", after=after)


def _audit_run(cur, ctx: Context, result: ImportResult) -> None:
    after = {"kind": ctx.kind, "file": ctx.file_name, "rows": result.rows, "counts": result.counts}
    if result.outcome:
        after.update(mode=ctx.mode, outcome=result.outcome)
    audit.record(cur, ctx.actor, "import.run", "import", f"{ctx.kind}-{ctx.now:%Y%m%d%H%M%S}", after=after,
                 note=ctx.note, at=ctx.now)
