"""`python -m lib.cli bench` (SPEC §11, §12): the speed and memory bars, measured on a seeded copy.

Where each part lives: the seeded databases and their cache (bench_seed), the void figures (bench_voids), the
dashboards and Explain (bench_dashboards), the pandas comparison (bench_naive), the import (bench_import), the shared
server (bench_postgres), the bars and the tables printed (bench_report). Timings are medians of repeated calls
through the same services and queries the app uses.
"""
import os
import resource
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import duckdb

from lib.db import Database, apply_migrations, rows_as_dicts, scalar
from lib.queries import home
from lib.queries.orders import get_order
from lib.queries.search import SearchFilters, search_orders
from lib.services.auth import user_from_row
from lib.tools.bench_dashboards import dashboard_figures
from lib.tools.bench_naive import NAIVE_MAX_ORDERS, naive_searches
from lib.tools.bench_report import check_bars
from lib.tools.bench_seed import cache_dir, fresh_copy
from lib.tools.bench_voids import void_figures, voidable

MIN_ORDERS = 1000


def run_bench(orders: int, cache: str | None = None, say: Callable[[str], None] | None = None,
              server: str | None = None, import_lines: int = 0, repeat: int = 7) -> dict:
    """Build or reuse the seeded database for `orders`, measure on a fresh copy, return the named figures.
    `server`: a PostgreSQL URL; the copy is then a database on that server (lib.tools.bench_postgres).
    `import_lines`: the size of the ERP export the import figures load (0: none; DuckDB only).
    `repeat`: timed calls per figure (after one warm-up call), whose median is the figure."""
    if orders < MIN_ORDERS:
        raise SystemExit(f"error: bench needs at least {MIN_ORDERS:,} orders")
    say = say or (lambda _msg: None)
    figures: dict = {"orders": orders, "load_average_start": _load(), "cpus": os.cpu_count(),
                     "duckdb": duckdb.__version__, "backend": "postgresql" if server else "duckdb"}
    if server:
        from lib.tools import bench_postgres

        db, figures["database"] = bench_postgres.fresh_database(server, orders, cache_dir(cache), say)
    else:
        work, figures["database"] = fresh_copy(orders, cache_dir(cache), say)
        db = Database(str(work))
    try:
        apply_migrations(db)
        figures.update(_measure(db, orders, say, lambda fn, n=repeat: _median(fn, min(n, repeat))))
        if server:
            figures.update(bench_postgres.server_figures(db, user_named(db, "ops"), voidable, say))
            figures["postgresql"] = bench_postgres.server_version(db)
    finally:
        db.close()
    figures["peak_rss_mb"] = _peak_rss_mb()
    if import_lines and not server:
        from lib.tools.bench_import import import_figures

        figures.update(import_figures(cache_dir(cache), import_lines, say))
    figures["load_average_end"] = _load()
    figures["bars"] = check_bars(figures)
    return figures


def _measure(db: Database, orders: int, say, _median: Callable) -> dict:
    ops, rep = user_named(db, "ops"), user_named(db, "sales")
    f: dict = {"order_lines": _count(db, "order_lines")}
    if db.backend == "postgresql":   # made first, as the app makes it when it starts (lib.replica.warm_up)
        say("the analytics copy")
        from lib.replica import copy_of

        t0 = time.perf_counter()
        f["analytics_first_copy_rows"] = copy_of(db).fresh().last_rows
        f["analytics_first_copy_s"] = round(time.perf_counter() - t0, 2)
        f["peak_rss_mb_after_copy"] = _peak_rss_mb()
    say("lookups and searches")
    number = _an_order_number(db)
    f["lookup_by_number_ms"] = _median(lambda: search_orders(db, ops, SearchFilters(number=number)))
    f["order_page_ms"] = _median(lambda: get_order(db, ops, number))
    cases = search_cases(db, ops, rep)
    f["search_ms"] = {name: _median(lambda c=c: search_orders(db, c[0], c[1], sort=c[2])) for name, c in cases.items()}
    say("home figures")
    f["home_ms"] = {"home_figures": _median(lambda: home.home_figures(db, ops)),
                    "weekly_voids_by_reason": _median(lambda: home.weekly_voids_by_reason(db, ops, "en")),
                    "recent_voids": _median(lambda: home.recent_voids(db, ops, "en"))}
    say("dashboards")
    f.update(dashboard_figures(db, user_named(db, "analyst"), _median))
    say("voids")
    f.update(void_figures(db, ops))
    # ru_maxrss only grows: read it before the naive searches load whole tables.
    f["peak_rss_mb_search_void_phase"] = _peak_rss_mb()
    if db.backend == "postgresql":
        f["naive"] = {"skipped": "the naive searches compare with DuckDB's file"}
    elif orders <= NAIVE_MAX_ORDERS:
        say("naive searches (whole tables in pandas)")
        f["naive"] = naive_searches(db, cases, f["search_ms"], _median)
    else:
        f["naive"] = {"skipped": f"{orders:,} orders is more than {NAIVE_MAX_ORDERS:,}: whole tables would not fit"}
    return f


def search_cases(db: Database, ops, rep) -> dict[str, tuple]:
    """name -> (user, filters, sort): the searches of SPEC §3 that the bench times, on values in this database."""
    with db.read() as cur:
        newest = scalar(cur, "SELECT max(created_at) FROM orders")
        sku = scalar(cur, "SELECT sku FROM products ORDER BY sku LIMIT 1 OFFSET 100")
        category = scalar(cur, "SELECT code FROM categories ORDER BY sort_order, code LIMIT 1")
    day = newest.date()
    return {
        "no_filter_newest_50": (ops, SearchFilters(), "created_at:desc"),
        "status_and_date_range": (ops, SearchFilters(statuses=["shipped", "completed"],
                                                     date_from=day - timedelta(days=90),
                                                     date_to=day - timedelta(days=60)), "created_at:desc"),
        "customer_contains": (ops, SearchFilters(customer="logistics"), "created_at:desc"),
        "sku": (ops, SearchFilters(product=sku), "created_at:desc"),
        "category_warehouse_amount": (ops, SearchFilters(category=[category], warehouse=["SH"],
                                                         min_total=Decimal("1000"), max_total=Decimal("5000")),
                                      "created_at:desc"),
        "category_only": (ops, SearchFilters(category=[category]), "created_at:desc"),
        "sort_by_total": (ops, SearchFilters(), "total:desc"),
        "sales_rep_own": (rep, SearchFilters(), "created_at:desc"),
    }


def user_named(db: Database, username: str):
    """The account `username` as the services take it."""
    with db.read() as cur:
        return user_from_row(rows_as_dicts(cur, "SELECT id, username, display_name, role, language,"
                                                " must_change_password FROM users WHERE username = ?", [username])[0])


def _an_order_number(db: Database) -> str:
    with db.read() as cur:
        return scalar(cur, "SELECT order_no FROM orders WHERE id >= (SELECT (min(id) + max(id)) / 2 FROM orders)"
                           " ORDER BY id LIMIT 1")


def _count(db: Database, table: str) -> int:
    with db.read() as cur:
        return scalar(cur, f"SELECT count(*) FROM {table}")   # fixed names only


# --- measuring ----------------------------------------------------------------------------------

def _median(fn: Callable[[], object], repeat: int = 7) -> float:
    """Median wall time of `repeat` calls in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


