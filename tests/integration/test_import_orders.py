"""Importing orders (issue #7): the same orders from every file format give the same rows; voids, reservations,
history and audit stay consistent; only ops leads and admins may import."""
from datetime import datetime as dt
from decimal import Decimal as D

import pytest

from lib.db import rows_as_dicts
from lib.errors import PermissionDenied
from lib.imports import propose, read_bytes, run_import
from lib.queries.check import run_checks
from lib.queries.voids import active_reasons
from tests.conftest import balance
from tests.integration import import_samples as samples

# The sample set as it must be stored, checked by hand: totals are the sums of the lines (IMP-1003's line has no
# price in the file, so the list price 99.50 applies); open orders reserve stock, the others move none.
EXPECTED = {
    "orders": [
        ("IMP-1001", "CUS-1", "SH", "pending", D("6296.50"), dt(2026, 3, 5, 9, 15), None, None, None),
        ("IMP-1002", "CUS-2", "SH", "voided", D("6500.00"), dt(2026, 3, 5, 14, 30), None, None, dt(2026, 3, 5, 14, 30)),
        ("IMP-1003", "CUS-2", "SH", "shipped", D("995.00"), dt(2026, 3, 6), dt(2026, 3, 6), None, None),
        ("IMP-1004", "CUS-1", "GZ", "completed", D("2899.00"), dt(2026, 3, 7, 18), dt(2026, 3, 7, 18),
         dt(2026, 3, 7, 18), None),
        ("IMP-1005", "CUS-1", "SH", "processing", D("475.00"), dt(2026, 3, 8, 10, 45), None, None, None)],
    "lines": [("IMP-1001", 1, "PHN-1", 2, D("2999.00"), 0), ("IMP-1001", 2, "TOY-1", 3, D("99.50"), 0),
              ("IMP-1002", 1, "PHN-2", 1, D("6500.00"), 0), ("IMP-1003", 1, "TOY-1", 10, D("99.50"), 10),
              ("IMP-1004", 1, "PHN-1", 1, D("2899.00"), 1), ("IMP-1005", 1, "TOY-1", 5, D("95.00"), 0)],
    "voids": [("IMP-1002", "applied", "imported", "导入时已作废", dt(2026, 3, 5, 14, 30), dt(2026, 3, 5, 14, 30))],
    "reserved": [("SH", "PHN-1", 2, "IMP-1001"), ("SH", "TOY-1", 3, "IMP-1001"), ("SH", "TOY-1", 5, "IMP-1005")],
    "balances": [("GZ", "PHN-1", 3, 0), ("SH", "PHN-1", 10, 2), ("SH", "PHN-2", 5, 0), ("SH", "TOY-1", 100, 8)],
    "history": [("IMP-1001", None, "pending"), ("IMP-1002", None, "voided"), ("IMP-1003", None, "shipped"),
                ("IMP-1004", None, "completed"), ("IMP-1005", None, "processing")],
    "audit": [("order.create", "order", "IMP-1001"), ("order.create", "order", "IMP-1002"),
              ("order.create", "order", "IMP-1003"), ("order.create", "order", "IMP-1004"),
              ("order.create", "order", "IMP-1005"), ("void.apply", "void", "IMP-1002")],
}


def load(shop, name: str, data: bytes, kind: str = "orders", user: str = "ops_lead"):
    source = read_bytes(name, data)
    return run_import(shop.db, shop.users[user], source, propose(kind, source))


def content(db) -> dict:
    """What an order import wrote, without ids and the import's own timestamps."""
    with db.read() as cur:
        def q(sql):
            return [tuple(r.values()) for r in rows_as_dicts(cur, sql)]
        return {
            "orders": q("SELECT order_no, c.code, o.warehouse, o.status, o.total, o.created_at, o.shipped_at,"
                        " o.completed_at, o.voided_at FROM orders o JOIN customers c ON c.id = o.customer_id"
                        " ORDER BY 1"),
            "lines": q("SELECT o.order_no, l.line_no, l.sku, l.qty, l.unit_price, l.qty_shipped FROM order_lines l"
                       " JOIN orders o ON o.id = l.order_id ORDER BY 1, 2"),
            "voids": q("SELECT order_no, status, reason_code, reason_label_zh, requested_at, applied_at FROM voids"
                       " ORDER BY 1"),
            "reserved": q("SELECT warehouse, sku, d_reserved, order_no FROM stock_ledger WHERE kind = 'reserve'"
                          " ORDER BY order_no, sku"),
            "balances": q("SELECT warehouse, sku, on_hand, reserved FROM stock_balances ORDER BY 1, 2"),
            "history": q("SELECT o.order_no, h.from_status, h.to_status FROM order_status_history h"
                         " JOIN orders o ON o.id = h.order_id ORDER BY 1"),
            "audit": q("SELECT action, entity_type, order_no FROM audit_log"
                       " WHERE action NOT IN ('import.run', 'import.fail') ORDER BY 1, 3"),
        }


def assert_consistent(db):
    result = run_checks(db)
    assert result["ok"], result["problems"]


@pytest.mark.parametrize("name, make", [("orders.csv", samples.utf8_csv), ("订单-gbk.csv", samples.gbk_csv),
                                        ("orders.xlsx", samples.excel), ("orders.parquet", samples.parquet)])
def test_every_format_stores_the_same_orders(shop, name, make):
    result = load(shop, name, make())
    assert (result.rejected, result.loaded, result.rows) == (0, 6, 6), result.problems
    assert (result.counts["orders"], result.counts["order_lines"], result.counts["voids"]) == (5, 6, 1)
    assert content(shop.db) == EXPECTED
    assert_consistent(shop.db)


def test_imported_orders_are_marked_unpaid_and_from_import(shop):
    load(shop, "orders.csv", samples.utf8_csv())
    with shop.db.read() as cur:
        rows = cur.execute("SELECT DISTINCT source, payment_status, amount_paid, version FROM orders").fetchall()
    assert rows == [("import", "unpaid", D("0.00"), 1)]


def test_paid_amounts_and_reps_are_imported(shop, db):
    from tests.conftest import add_user

    add_user(db, "rep_li", "sales")
    data = samples.orders_csv(["P-1,CUS-1,2026-03-01,completed,SH,TOY-1,2,100,paid,,rep_li",
                               "P-2,CUS-2,2026-03-02,completed,SH,TOY-1,1,100,,50,"],
                              samples.EN_HEADERS + ["payment_status", "amount_paid", "rep"])
    assert load(shop, "paid.csv", data).ok
    with db.read() as cur:
        rows = cur.execute("SELECT o.order_no, o.payment_status, o.amount_paid, u.username FROM orders o"
                           " LEFT JOIN users u ON u.id = o.rep_id ORDER BY 1").fetchall()
    assert rows == [("P-1", "paid", D("200.00"), "rep_li"), ("P-2", "paid", D("50.00"), None)]
    assert_consistent(db)


def test_imported_void_reason_is_kept_out_of_the_forms(shop):
    load(shop, "orders.csv", samples.utf8_csv())
    assert "imported" not in [r["code"] for r in active_reasons(shop.db, "void", "en")]
    with shop.db.read() as cur:
        assert cur.execute("SELECT label_en, active FROM reasons WHERE kind = 'void' AND code = 'imported'"
                           ).fetchall() == [("Imported as voided", False)]


def test_voiding_an_imported_open_order_releases_what_the_import_reserved(shop):
    from lib.services.voids import void_order

    load(shop, "orders.csv", samples.utf8_csv())
    assert balance(shop.db, "SH", "TOY-1") == (100, 8, 0)
    outcome = void_order(shop.db, shop.users["ops"], "IMP-1005", "customer_cancelled", None)
    assert outcome["outcome"] == "voided"
    assert balance(shop.db, "SH", "TOY-1") == (100, 3, 0)
    assert_consistent(shop.db)


def test_header_only_orders_then_their_lines(shop):
    headers = ["订单编号", "客户名称", "下单时间", "订单状态", "仓库", "订单金额"]
    orders = samples.orders_csv(["H-1,Beta Retail,2026-02-01 08:00,待处理,SH,0", "H-2,Beta Retail,2026-02-02,已完成,GZ,500"],
                                headers)
    result = load(shop, "headers.csv", orders)
    assert result.ok and result.counts["orders"] == 2 and "order_lines" not in result.counts
    lines = samples.orders_csv(["H-1,TOY-1,4,", "H-1,PHN-1,1,2500", "H-2,PHN-1,1,"], ["订单编号", "商品编码", "数量", "单价"])
    result = load(shop, "lines.csv", lines, kind="lines")
    assert result.ok, result.problems
    assert result.counts == {"order_lines": 3, "stock_ledger": 2, "orders": 2, "audit_log": 2}
    with shop.db.read() as cur:
        totals = cur.execute("SELECT order_no, total, version FROM orders ORDER BY 1").fetchall()
    # H-1 came without a total (0): the sum of its lines; H-2 keeps the ERP's 500 (the mapping's "totals": keep)
    assert totals == [("H-1", D("2898.00"), 2), ("H-2", D("500.00"), 2)]
    assert balance(shop.db, "SH", "TOY-1") == (100, 4, 0) and balance(shop.db, "GZ", "PHN-1") == (3, 0, 0)
    assert_consistent(shop.db)
    again = load(shop, "lines.csv", lines, kind="lines")
    assert (again.loaded, sorted(set(again.problems["row"]))) == (0, [2, 3, 4])
    assert set(again.problems["reason"]) == {"order H-1 already has lines", "order H-2 already has lines"}


def test_only_leads_and_admins_may_import(shop):
    with pytest.raises(PermissionDenied):
        load(shop, "orders.csv", samples.utf8_csv(), user="ops")
    assert load(shop, "orders.csv", samples.utf8_csv(), user="admin").ok


def test_proposed_mapping_reads_chinese_headers_and_status_words():
    source = read_bytes("订单.csv", samples.gbk_csv())
    mapping = propose("orders", source)
    assert (source.encoding, source.delimiter, source.rows) == ("gb18030", ",", 6)
    assert mapping.columns == {"order_no": "订单编号", "customer_code": "客户编码", "created_at": "下单时间",
                               "status": "订单状态", "warehouse": "仓库", "sku": "商品编码", "qty": "数量",
                               "unit_price": "单价"}
    assert mapping.values["status"] == {"待处理": "pending", "已作废": "voided", "已发货": "shipped",
                                        "已完成": "completed", "处理中": "processing"}


def test_the_void_dashboard_counts_imported_voids(shop):
    from datetime import date

    from lib.analytics.filters import AnalyticsFilters
    from lib.analytics.voids import pareto

    load(shop, "orders.csv", samples.utf8_csv())
    frame = pareto(shop.db, shop.users["analyst"], AnalyticsFilters(date(2026, 3, 1), date(2026, 3, 31)))
    assert list(zip(frame["reason_code"], frame["voids"])) == [("imported", 1)]


def test_a_line_amount_column_is_neither_the_order_total_nor_a_conflict(shop):
    data = samples.orders_csv(["A-1,CUS-1,2026-03-01,completed,SH,TOY-1,2,99.50,199.00",
                               "A-1,CUS-1,2026-03-01,completed,SH,PHN-1,1,2999,2999.00"],
                              samples.EN_HEADERS[:-1] + ["单价", "金额"])
    source = read_bytes("lines.csv", data)
    assert "total" not in propose("orders", source).columns
    result = run_import(shop.db, shop.users["admin"], source, propose("orders", source))
    assert result.ok, result.problems
    with shop.db.read() as cur:
        assert cur.execute("SELECT total FROM orders WHERE order_no = 'A-1'").fetchall() == [(D("3198.00"),)]
