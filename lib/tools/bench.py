"""`python -m lib.cli bench` (SPEC §11, §12): the speed and memory bars, measured on a seeded copy.

The seeded database is built once per order count (in a child process, so its memory does not count here) and
kept in the cache directory; every run works on a fresh copy of it, because the void figures void real orders.
Timings are medians of repeated calls through the same services and queries the app uses.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import gettempdir

import duckdb

from lib.db import Database, apply_migrations, rows_as_dicts, scalar
from lib.queries import home
from lib.queries.orders import get_order
from lib.queries.search import SearchFilters, search_orders
from lib.services.auth import user_from_row
from lib.queries.settings import read_rules
from lib.services.voids import void_batch, void_order
from lib.tools.bench_dashboards import EXPLAIN_FIGURES, FIGURES as DASHBOARD_FIGURES, dashboard_figures
from lib.tools.bench_naive import NAIVE_MAX_ORDERS, naive_searches

CACHE_ENV = "VOIDDESK_BENCH_DIR"
ROOT = Path(__file__).resolve().parents[2]
SEED_BYTES_PER_ORDER = 2_800   # peak memory of `seed`, measured: ≈2.7 GB per million orders
SINGLE_VOIDS = 200             # voids timed one after another
BATCH_SIZE = 1000
CLIENTS = 16                   # sessions voiding at once (void_concurrent)
CONCURRENT_VOIDS = 800         # voids they make between them
MIN_ORDERS = 1000

# figure -> (bar, larger is better), from SPEC §12
BARS = {"lookup_by_number_ms": (5, False), "search_ms": (100, False), "home_ms": (500, False),
        "void_single_ms": (10, False), "voids_concurrent_per_second": (300, True), "batch_void_s": (2, False),
        "void_dashboard_ms": (500, False), "explain_voids_ms": (500, False),
        # issue #15: an ERP export through the command line, each load in a process of its own
        "import_parquet_lines_per_s": (100_000, True), "import_csv_lines_per_s": (60_000, True),
        "import_peak_mb": (1536, False)}
# On a PostgreSQL server (issue #14's bars: durable commits, dashboards from the analytics copy)
BARS_POSTGRES = {"lookup_by_number_ms": (2, False), "search_ms": (50, False), "home_ms": (500, False),
                 "void_single_ms": (3, False), "voids_per_second": (300, True),
                 "voids_4_writers_per_second": (500, True), "batch_void_s": (1, False),
                 "void_dashboard_ms": (300, False), "refresh_lag_max_s": (2, False)}


def bars_for(f: dict) -> dict:
    return BARS_POSTGRES if f.get("backend") == "postgresql" else BARS


def cache_dir(explicit: str | None = None) -> Path:
    """--cache-dir, else $VOIDDESK_BENCH_DIR, else voiddesk-bench in the system temp directory."""
    return Path(explicit or os.environ.get(CACHE_ENV) or Path(gettempdir()) / "voiddesk-bench")


def run_bench(orders: int, cache: str | None = None, say: Callable[[str], None] | None = None,
              server: str | None = None, import_lines: int = 0) -> dict:
    """Build or reuse the seeded database for `orders`, measure on a fresh copy, return the named figures.
    `server`: a PostgreSQL URL; the copy is then a database on that server (lib.tools.bench_postgres).
    `import_lines`: the size of the ERP export the import figures load (0: none; DuckDB only)."""
    if orders < MIN_ORDERS:
        raise SystemExit(f"error: bench needs at least {MIN_ORDERS:,} orders")
    say = say or (lambda _msg: None)
    figures: dict = {"orders": orders, "load_average_start": _load(), "cpus": os.cpu_count(),
                     "duckdb": duckdb.__version__, "backend": "postgresql" if server else "duckdb"}
    if server:
        from lib.tools import bench_postgres

        db, figures["database"] = bench_postgres.fresh_database(server, orders, cache_dir(cache), say)
    else:
        work, figures["database"] = _fresh_copy(orders, cache_dir(cache), say)
        db = Database(str(work))
    try:
        apply_migrations(db)
        figures.update(_measure(db, orders, say))
        if server:
            figures.update(bench_postgres.server_figures(db, _user(db, "ops"), _voidable, say))
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


def _measure(db: Database, orders: int, say) -> dict:
    ops, rep = _user(db, "ops"), _user(db, "sales")
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
    f.update(dashboard_figures(db, _user(db, "analyst"), _median))
    say("voids")
    f.update(_void_figures(db, ops))
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


def _void_figures(db: Database, ops) -> dict:
    numbers = _voidable(db, SINGLE_VOIDS + 1 + BATCH_SIZE + CONCURRENT_VOIDS)
    at_once = min(CONCURRENT_VOIDS, len(numbers) // 3)   # small databases: a third voided at once
    concurrent, numbers = numbers[:at_once], numbers[at_once:]
    split = min(SINGLE_VOIDS + 1, len(numbers) // 2)   # small databases: half one by one, half as the batch
    single, batch = numbers[:split], numbers[split:]
    f: dict = {"voidable_orders_found": len(numbers) + len(concurrent)}
    if concurrent:
        f.update(concurrent_voids(db, ops, concurrent))
        if db.backend == "duckdb":   # the concurrent phase's log into the file first (DuckDB does so by itself every
            with db.read() as cur:   # 16 MB of log), so that the lone voids below do not pay for the phase before
                cur.execute("CHECKPOINT")
    if len(single) >= 2:
        void_order(db, ops, single[0], "customer_cancelled")   # warm-up, not counted
        times, started = [], time.perf_counter()
        for number in single[1:]:
            t0 = time.perf_counter()
            void_order(db, ops, number, "customer_cancelled")
            times.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
        f.update(void_single_ms=round(statistics.median(times), 2),
                 void_single_p90_ms=round(sorted(times)[int(0.9 * (len(times) - 1))], 2),
                 void_single_max_ms=round(max(times), 1), voids_in_sequence=len(times),
                 voids_per_second=round(len(times) / elapsed, 1))
    if batch:
        t0 = time.perf_counter()
        result = void_batch(db, ops, batch, "customer_cancelled")
        f.update(batch_void_s=round(time.perf_counter() - t0, 3), batch_void_orders=len(batch),
                 batch_voided=result["voided"])
    return f


def concurrent_voids(db: Database, ops, numbers: list[str], clients: int = CLIENTS, name: str = "voids_concurrent"
                     ) -> dict:
    """`clients` sessions (threads, as Streamlit's) voiding distinct orders at once: voids per second, and on DuckDB
    how many transactions carried them (lib.services.void_group writes the voids waiting together)."""
    import threading

    from lib.services.void_group import group_for

    queue, lock, errors = list(numbers), threading.Lock(), []

    def client():
        while True:
            with lock:
                if not queue:
                    return
                number = queue.pop()
            try:
                void_order(db, ops, number, "customer_cancelled")
            except Exception as exc:   # noqa: BLE001 - counted, not fatal
                errors.append(type(exc).__name__)

    rounds = group_for(db).rounds if db.backend == "duckdb" else 0
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    out = {f"{name}_per_second": round((len(numbers) - len(errors)) / elapsed, 1), f"{name}_clients": clients,
           name: len(numbers), f"{name}_errors": len(errors)}
    if db.backend == "duckdb":
        out[f"{name}_transactions"] = group_for(db).rounds - rounds
    return out


def _voidable(db: Database, limit: int) -> list[str]:
    """Orders an ops user can void at once: open, below the approval threshold, no request waiting."""
    with db.read() as cur:
        threshold = read_rules(cur).approval_threshold
        return [r[0] for r in cur.execute(
            "SELECT o.order_no FROM orders o WHERE o.status IN ('pending', 'processing') AND o.total < ?"
            " AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'pending_approval')"
            " ORDER BY o.id LIMIT ?", [threshold, limit]).fetchall()]


# --- the database -------------------------------------------------------------------------------

def seeded_base(orders: int, cache: Path, say) -> tuple[Path, dict]:
    """The cached seeded database for `orders` (seeded once, never written to): copy it before use."""
    cache.mkdir(parents=True, exist_ok=True)
    base = cache / f"seed-{orders}.duckdb"
    info = {"cache_dir": str(cache)}
    if base.exists():
        info["seed"] = "reused"
    else:
        info.update(_seed(base, orders, say))
    return base, info


def _fresh_copy(orders: int, cache: Path, say) -> tuple[Path, dict]:
    base, info = seeded_base(orders, cache, say)
    work = cache / f"work-{orders}.duckdb"
    say(f"copying {base.name} to {work.name}")
    for stale in (work, Path(f"{work}.wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(base, work)
    info["file_mb"] = round(work.stat().st_size / 2**20, 1)
    return work, info


def _seed(base: Path, orders: int, say) -> dict:
    """Seed in a child process (its peak memory is its own) into a temporary name, then move it in place."""
    need, free = orders * SEED_BYTES_PER_ORDER, _available_memory()
    if free is not None and need > free:
        raise SystemExit(f"error: seeding {orders:,} orders needs about {need / 2**30:.1f} GB of memory;"
                         f" {free / 2**30:.1f} GB is available")
    tmp = base.with_suffix(".seeding.duckdb")
    for stale in (tmp, Path(f"{tmp}.wal")):
        stale.unlink(missing_ok=True)
    say(f"seeding {orders:,} orders into {base} (once; later runs reuse it)")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lib.cli", "seed", "--db", str(tmp), "--orders", str(orders), "--json"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    tmp.rename(base)
    return {"seed": "seeded", "seed_s": round(time.perf_counter() - started, 1),
            "seed_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


def _available_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _user(db: Database, username: str):
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


def check_bars(f: dict) -> dict:
    """figure -> {value, bar, ok} for every figure SPEC §12 sets a bar for (worst search / home figure)."""
    out = {}
    for name, (bar, larger_is_better) in bars_for(f).items():
        value = f.get(name)
        if isinstance(value, dict):
            value = max(value.values()) if value else None
        if value is not None:
            out[name] = {"value": value, "bar": bar, "ok": value >= bar if larger_is_better else value <= bar}
    return out


# --- output -------------------------------------------------------------------------------------

def rows(f: dict) -> list[tuple[str, str, str]]:
    """(figure, value, bar) rows for the text and Markdown tables."""
    bars, limits = f.get("bars", {}), bars_for(f)

    def bar(name):
        b = bars.get(name)
        return "" if b is None else f"{'≥' if limits[name][1] else '≤'} {b['bar']}  {'ok' if b['ok'] else 'MISSED'}"

    where = (f"PostgreSQL {f.get('postgresql', '')}, {f['database']['file_mb']:,} MB ({f['database']['seed']})"
             if f.get("backend") == "postgresql" else f"{f['database']['file_mb']:,} MB ({f['database']['seed']})")
    out = [("orders / order lines", f"{f['orders']:,} / {f.get('order_lines', 0):,}", ""),
           ("database", where, "")]
    if "analytics_first_copy_s" in f:
        out.append(("analytics copy, first (whole)", f"{f['analytics_first_copy_s']} s"
                                                     f" ({f['analytics_first_copy_rows']:,} rows,"
                                                     f" {f['peak_rss_mb_after_copy']:,} MB RSS after it)", ""))
    for name in ("lookup_by_number_ms", "order_page_ms"):
        out.append((name, f"{f[name]} ms", bar(name)))
    naive = f.get("naive", {})
    for key, table in (("search_ms", "search"), ("home_ms", "home")):
        for name, ms in f[key].items():
            extra = ""
            if key == "search_ms" and name in naive.get("searches", {}):
                n = naive["searches"][name]
                extra = f"  (naive {n['ms']} ms in memory, x{n['ratio_in_memory']}; with load x{n['ratio_with_load']})"
            limit = limits[key][0]
            out.append((f"{table}: {name}", f"{ms} ms{extra}", f"≤ {limit}  {'ok' if ms <= limit else 'MISSED'}"))
    if "skipped" in naive:
        out.append(("naive searches", f"skipped: {naive['skipped']}", ""))
    elif naive:
        out.append(("naive: load whole tables", f"{naive['load_ms']} ms, +{naive['rss_growth_mb']} MB RSS", ""))
    for name, unit in [(d, "ms") for d in (*DASHBOARD_FIGURES, *EXPLAIN_FIGURES)] + [
            ("void_single_ms", "ms"), ("void_single_p90_ms", "ms"), ("voids_per_second", "/s"),
            ("voids_concurrent_per_second", f"/s ({f.get('voids_concurrent_clients')} sessions at once,"
                                            + (f" {f.get('voids_concurrent_transactions', '?')} transactions for"
                                               if "voids_concurrent_transactions" in f else "")
                                            + f" {f.get('voids_concurrent')} voids)"),
            ("voids_4_writers_per_second", f"/s ({f.get('voids_4_writers')} voids)"), ("batch_void_s", "s"),
            ("refresh_ms", "ms (median refresh of the analytics copy while voids stream in)"),
            ("refresh_lag_median_s", "s"),
            ("refresh_lag_max_s", f"s (a void on another replica to this replica's copy;"
                                  f" {f.get('refresh_lag_voids')} voids at {f.get('refresh_lag_rate_per_s')}/s,"
                                  f" {f.get('refresh_lag_unseen')} never seen)")]:
        if name in f:
            out.append((name, f"{f[name]} {unit}", bar(name) if name in limits else ""))
    if "import_lines" in f:
        mb = f["import_file_mb"]
        for fmt in ("parquet", "csv"):
            name = f"import_{fmt}_lines_per_s"
            out.append((name, f"{f[name]:,}/s ({f['import_lines']:,} lines, {mb[fmt]:,} MB file, {f[f'import_{fmt}_s']} s,"
                              f" peak {f[f'import_{fmt}_peak_mb']:,} MB)", bar(name)))
        out.append(("import_upsert_s", f"{f['import_upsert_s']} s (the CSV again, --mode upsert:"
                                       f" {f['import_upsert_unchanged']:,} orders unchanged)", ""))
        out.append(("import_peak_mb", f"{f['import_peak_mb']:,} MB", bar("import_peak_mb")))
    if "batch_void_orders" in f:
        out.append(("batch size / voided", f"{f['batch_void_orders']} / {f['batch_voided']}", ""))
    out += [("peak RSS, search + void phase", f"{f['peak_rss_mb_search_void_phase']} MB", ""),
            ("peak RSS, whole run", f"{f['peak_rss_mb']} MB", ""),
            ("load average start → end", f"{f['load_average_start']} → {f['load_average_end']} ({f['cpus']} cpus)", "")]
    return out


def format_table(f: dict) -> str:
    lines = rows(f)
    width = max(len(r[0]) for r in lines) + 2
    value_width = max(len(r[1]) for r in lines) + 2
    return "\n".join(f"{a:<{width}}{b:<{value_width}}{c}".rstrip() for a, b, c in lines)


def format_markdown(f: dict) -> str:
    head = f"# bench: {f['orders']:,} orders\n\n| figure | value | bar |\n|---|---|---|\n"
    return head + "".join(f"| {a} | {b} | {c} |\n" for a, b, c in rows(f))
