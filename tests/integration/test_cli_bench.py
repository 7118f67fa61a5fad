"""`python -m lib.cli bench` end to end on a tiny database: the figures are there (timings are not judged here)."""
import json

from tests.integration.cli_helpers import run_cli


def test_bench_prints_every_named_figure_as_json(tmp_path, monkeypatch):
    monkeypatch.setenv("VOIDDESK_BENCH_DIR", str(tmp_path))
    run = run_cli(["bench", "--orders", "2000", "--import-lines", "2000", "--repeat", "1", "--json", "--markdown",
                   str(tmp_path / "bench.md")])
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    for key in ("orders", "database", "lookup_by_number_ms", "search_ms", "home_ms", "naive", "void_single_ms",
                "voids_per_second", "batch_void_s", "peak_rss_mb", "peak_rss_mb_search_void_phase", "bars",
                "import_parquet_lines_per_s", "import_csv_lines_per_s", "import_peak_mb"):
        assert key in figures, key
    assert set(figures["search_ms"]) == {"no_filter_newest_50", "status_and_date_range", "customer_contains", "sku",
                                         "category_warehouse_amount", "category_only", "sort_by_total",
                                         "sales_rep_own"}
    assert all(s["same_total"] for s in figures["naive"]["searches"].values())
    assert figures["import_upsert_unchanged"] == 500   # the export's 500 orders, loaded, then all unchanged
    assert (tmp_path / "seed-2000.duckdb").exists() and "| figure |" in (tmp_path / "bench.md").read_text()
