"""A million order lines from Parquet load, set-based, and `check` stays ok (issue #7). Run with --runslow. How
fast and in how much memory is `bench`'s (lib.tools.bench_import), not a test's."""
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.imports import propose, read_path, run_import
from lib.queries.check import run_checks
from tests.conftest import add_user

LINES = 1_000_000
PRODUCTS, CUSTOMERS = 1000, 10_000
STATUSES = np.array(["已完成", "已发货", "待处理", "处理中", "已作废"])


def _catalogue(db) -> None:
    """Warehouses, products, customers, and plenty of stock received through the ledger."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO warehouses VALUES ('SH', 'Shanghai', '上海仓'), ('GZ', 'Guangzhou', '广州仓'),"
                    " ('BJ', 'Beijing', '北京仓')")
        cur.execute("INSERT INTO categories VALUES ('phones', 'Phones', '手机', 1)")
        cur.execute("INSERT INTO products SELECT 'P-' || lpad(i::VARCHAR, 5, '0'), 'Product ' || i, 'phones',"
                    " 10 + i % 500, TRUE FROM range(?) t(i)", [PRODUCTS])
        cur.execute("INSERT INTO customers (code, name) SELECT 'C-' || lpad(i::VARCHAR, 6, '0'), 'Customer ' || i"
                    " FROM range(?) t(i)", [CUSTOMERS])
        cur.execute("INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_on_hand) SELECT now(), w, sku,"
                    " 'receipt', 1000000 FROM products, (VALUES ('SH'), ('GZ'), ('BJ')) v(w)")
        cur.execute("INSERT INTO stock_balances (warehouse, sku, on_hand) SELECT warehouse, sku, sum(d_on_hand)"
                    " FROM stock_ledger GROUP BY ALL")


def _parquet(path) -> None:
    """An ERP-style export: three lines per order, the header repeated, Chinese headers and statuses."""
    rng = np.random.default_rng(7)
    orders = -(-LINES // 3)
    order = np.repeat(np.arange(orders), 3)[:LINES]
    line = np.tile(np.arange(3), orders)[:LINES]
    created = np.datetime64("2025-01-01T00:00:00") + np.sort(rng.integers(0, 365 * 86400, orders)).astype("timedelta64[s]")
    customer = rng.integers(0, CUSTOMERS, orders)
    pq.write_table(pa.table({
        "订单编号": np.char.add("BIG-", order.astype(str)),
        "客户编码": np.char.add("C-", np.char.zfill(customer[order].astype(str), 6)),
        "下单时间": created[order],
        "订单状态": STATUSES[rng.choice(5, orders, p=[.5, .2, .1, .1, .1])[order]],
        "仓库": np.array(["SH", "GZ", "BJ"])[rng.integers(0, 3, orders)][order],
        "商品编码": np.char.add("P-", np.char.zfill(((order * 7 + line * 131) % PRODUCTS).astype(str), 5)),
        "数量": rng.integers(1, 5, LINES),
        "单价": np.round(rng.uniform(5, 500, LINES), 2)}), path)


@pytest.mark.slow
def test_a_million_parquet_lines_load(db, tmp_path):
    _catalogue(db)
    lead = add_user(db, "lead", "ops_lead")
    path = tmp_path / "big.parquet"
    _parquet(path)
    started = time.perf_counter()
    source = read_path(path)
    result = run_import(db, lead, source, propose("orders", source))
    seconds = time.perf_counter() - started
    print(f"\n1,000,000-line Parquet import: {seconds:.1f} s; {result.counts}")
    assert result.ok and result.loaded == LINES
    assert result.counts["order_lines"] == LINES and result.counts["orders"] == -(-LINES // 3)
    assert run_checks(db)["ok"]
