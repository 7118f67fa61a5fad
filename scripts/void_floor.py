"""How fast can DuckDB do the writes of one void at all? (issue #4: ≥ 200 voids/s in sequence)

Copies the bench's seeded database, then voids orders one transaction at a time three ways and prints the
median time and the rate of each:
  service   lib.services.voids.void_order, as the app and `bench` do;
  bare      the same reads and writes as bare SQL (no rules, no Python around them): order, lines, guarded
            order update, void record, stock balance, ledger, refund when paid, status history, audit,
            notification, commit;
  minimum   only order read, guarded update and the void record, commit.
The gap between service and bare is the app's own cost; bare against the bar is DuckDB's.

Usage: python scripts/void_floor.py [--orders N] [--count N] [--cache-dir DIR]
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from lib.tools.bench_seed import cache_dir, seeded_base  # noqa: E402
from lib.db import Database, apply_migrations, rows_as_dicts  # noqa: E402
from lib.services.auth import user_from_row  # noqa: E402
from lib.services.voids import void_order  # noqa: E402

SQL = {name: duckdb.extract_statements(text)[0] for name, text in {
    "order": "SELECT * FROM orders WHERE order_no = ?",
    "lines": "SELECT sku, qty - qty_shipped FROM order_lines WHERE order_id = ? AND qty > qty_shipped",
    "claim": "UPDATE orders SET status = 'voided', voided_at = ?, version = version + 1, updated_at = ?"
             " WHERE id = ? AND version = ? AND status IN ('pending', 'processing')",
    "void": "INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh,"
            " requested_by, requested_at, applied_at, status_before, amount_paid)"
            " VALUES (?, ?, 'applied', 'customer_cancelled', 'Customer cancelled', '客户取消', 1, ?, ?, ?, ?)"
            " RETURNING id",
    "stock": "UPDATE stock_balances SET reserved = reserved - map_extract_value(MAP(?::VARCHAR[], ?::BIGINT[]), sku),"
             " updated_at = ? WHERE warehouse = ? AND list_contains(?::VARCHAR[], sku)",
    "ledger": "INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_reserved, ref_type, ref_id, order_no,"
              " actor_id) SELECT ?, ?, unnest(?::VARCHAR[]), 'release', unnest(?::BIGINT[]), 'void', ?, ?, 1",
    "refund": "INSERT INTO refunds (order_id, order_no, source, source_id, amount, status, created_at, created_by)"
              " VALUES (?, ?, 'void', ?, ?, 'pending', ?, 1)",
    "history": "INSERT INTO order_status_history (order_id, from_status, to_status, by_user_id, created_at)"
               " VALUES (?, ?, 'voided', 1, ?)",
    "audit": "INSERT INTO audit_log (created_at, actor_id, actor_name, action, entity_type, entity_id, order_no,"
             " before, after) VALUES (?, 1, 'lead', 'void.apply', 'void', ?, ?, '{}', '{}')",
    "notify": "INSERT INTO notifications (user_id, created_at, kind, params, order_no) VALUES (?, ?, 'void.applied',"
              " '{}', ?)",
}.items()}


def bare(cur, order_no: str, full: bool) -> None:
    now = datetime.now()
    cur.begin()
    rows = rows_as_dicts(cur, SQL["order"], [order_no])
    o = rows[0]
    lines = cur.execute(SQL["lines"], [o["id"]]).fetchall() if full else []
    cur.execute(SQL["claim"], [now, now, o["id"], o["version"]]).fetchall()
    void_id = cur.execute(SQL["void"], [o["id"], order_no, now, now, o["status"], o["amount_paid"]]).fetchall()[0][0]
    if full:
        skus, qtys = [s for s, _ in lines], [int(q) for _, q in lines]
        if skus:
            cur.execute(SQL["stock"], [skus, qtys, now, o["warehouse"], skus]).fetchall()
            cur.execute(SQL["ledger"], [now, o["warehouse"], skus, [-q for q in qtys], void_id, order_no]).fetchall()
        if o["amount_paid"]:
            cur.execute(SQL["refund"], [o["id"], order_no, void_id, o["amount_paid"], now]).fetchall()
        cur.execute(SQL["history"], [o["id"], o["status"], now]).fetchall()
        cur.execute(SQL["audit"], [now, str(void_id), order_no]).fetchall()
        cur.execute(SQL["notify"], [o["rep_id"] or 1, now, order_no]).fetchall()
    cur.commit()


def timed(name: str, numbers: list[str], one) -> None:
    one(numbers[0])   # warm-up
    times, started = [], time.perf_counter()
    for number in numbers[1:]:
        t0 = time.perf_counter()
        one(number)
        times.append(time.perf_counter() - t0)
    rate = len(times) / (time.perf_counter() - started)
    print(f"{name:8s} median {statistics.median(times) * 1000:6.2f} ms   {rate:6.0f} voids/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--count", type=int, default=200, help="voids per way (default 200)")
    parser.add_argument("--cache-dir")
    args = parser.parse_args()
    base, _ = seeded_base(args.orders, cache_dir(args.cache_dir), print)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "floor.duckdb"
        shutil.copyfile(base, work)
        db = Database(str(work))
        apply_migrations(db)
        with db.read() as cur:
            lead = user_from_row(rows_as_dicts(cur, "SELECT * FROM users WHERE username = 'lead'")[0])
            numbers = [r[0] for r in cur.execute(
                "SELECT order_no FROM orders o WHERE status IN ('pending', 'processing') AND total < 10000"
                " AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'pending_approval')"
                " ORDER BY id DESC LIMIT ?", [3 * (args.count + 1)]).fetchall()]
        n = args.count + 1
        if len(numbers) < 3 * n:
            raise SystemExit(f"error: only {len(numbers)} voidable orders; use a larger --orders or a smaller --count")
        print(f"{args.orders:,} orders, {args.count} voids each way, DuckDB {duckdb.__version__}")
        timed("service", numbers[:n], lambda no: void_order(db, lead, no, "customer_cancelled"))
        cur = db.cursor()
        timed("bare", numbers[n:2 * n], lambda no: bare(cur, no, True))
        timed("minimum", numbers[2 * n:], lambda no: bare(cur, no, False))
        cur.close()
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
