"""How fast are the main-line searches and Explain on a database? (issue #17; README "Performance", note ²)

Migrates the DuckDB file it is given (use a copy: it is changed), then prints the median time of Search's main
category / main product filters alone, a main category with 30 days of voids, and Explain over every dimension of
the last two 30-day windows (as `bench` asks it). Run it on the code of two commits to compare them.

Usage: python scripts/main_line_bench.py COPY.duckdb [--repeat N]
"""
import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.analytics.explain import explain_all  # noqa: E402
from lib.db import Database, apply_migrations, scalar  # noqa: E402
from lib.queries.search import SearchFilters, search_orders  # noqa: E402
from lib.tools.bench import _median, user_named  # noqa: E402


def cases(db: Database) -> tuple[dict, tuple, tuple]:
    """The searches (name -> filters) on values of this database, and Explain's two windows."""
    with db.read() as cur:
        today = scalar(cur, "SELECT max(created_at) FROM orders").date()
        sku = scalar(cur, "SELECT sku FROM products ORDER BY sku LIMIT 1 OFFSET 100")   # bench's SKU and category
        category = scalar(cur, "SELECT code FROM categories ORDER BY sort_order, code LIMIT 1")
        busiest = scalar(cur, "SELECT sku FROM order_lines GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    searches = {"main_category_only": SearchFilters(main_category=[category]),
                "main_product_only": SearchFilters(main_product=sku),
                "main_product_busiest": SearchFilters(main_product=busiest),
                "main_category_voided_30d": SearchFilters(main_category=[category],
                                                          voided_from=today - timedelta(days=29))}
    return searches, (today - timedelta(days=59), today - timedelta(days=30)), (today - timedelta(days=29), today)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a copy of a seeded DuckDB file (it is migrated)")
    parser.add_argument("--repeat", type=int, default=15, help="calls per median (default 15)")
    args = parser.parse_args()
    db = Database(args.path)
    started = time.perf_counter()
    print(f"migrated to {apply_migrations(db)} in {time.perf_counter() - started:.2f} s")
    ops, analyst = user_named(db, "ops"), user_named(db, "analyst")
    searches, before, after = cases(db)
    for name, f in searches.items():
        found = search_orders(db, ops, f).total
        print(f"{name:26s} {_median(lambda f=f: search_orders(db, ops, f), args.repeat):8.2f} ms ({found} orders)")
    for kind in ("voids", "returns"):
        ms = _median(lambda kind=kind: explain_all(db, analyst, kind, before, after), args.repeat)
        print(f"explain_all {kind:14s} {ms:8.2f} ms")


if __name__ == "__main__":
    main()
