"""The bars bench judges its figures by (SPEC §12, issues #14, #15, #17), and the figures as a text or Markdown
table."""
from lib.tools.bench_dashboards import EXPLAIN_FIGURES, FIGURES as DASHBOARD_FIGURES

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
