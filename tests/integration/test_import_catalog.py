"""Importing customers, products and stock: new records only, names in either language, stock received through
the ledger (balances always equal the ledger, every movement audited)."""
from decimal import Decimal as D

from lib.db import rows_as_dicts
from lib.imports import propose, read_bytes, run_import
from lib.queries.check import run_checks
from tests.conftest import balance
from tests.integration.import_samples import orders_csv

ADD_HINT = "; add it under Control → Warehouses & categories"


def load(shop, kind: str, headers: list[str], lines: list[str], encoding: str = "utf-8"):
    data = orders_csv(lines, headers).decode().encode(encoding)
    source = read_bytes(f"{kind}.csv", data)
    return run_import(shop.db, shop.users["admin"], source, propose(kind, source))


def reasons(result) -> list[tuple]:
    return [(r.row, r.reason) for r in result.problems.itertuples(index=False)]


def test_customers_are_added_and_existing_codes_refused(shop):
    result = load(shop, "customers", ["客户编码", "客户名称", "城市", "联系电话"],
                  ["CUS-10,华东贸易,杭州,0571-1234", "CUS-11,Delta Foods,,"], "gbk")
    assert (result.ok, result.counts) == (True, {"customers": 2})
    with shop.db.read() as cur:
        rows = cur.execute("SELECT code, name, city, phone FROM customers WHERE code IN ('CUS-10', 'CUS-11') ORDER BY 1").fetchall()
    assert rows == [("CUS-10", "华东贸易", "杭州", "0571-1234"), ("CUS-11", "Delta Foods", None, None)]
    again = load(shop, "customers", ["code", "name"], ["CUS-1,Again", "CUS-12,New", "CUS-12,Twice"])
    assert reasons(again) == [(2, "customer CUS-1 is already in the database"),
                              (4, "customer code CUS-12 appears twice in the file (first in row 3)")]


def test_products_take_categories_by_code_or_name(shop):
    result = load(shop, "products", ["商品编码", "商品名称", "类别", "单价"],
                  ["phn-9,新手机,手机,1999", "TOY-9,Kite,Toys,\"1,299.50\"", "TOY-10,Ball,toys,¥5"])
    assert result.ok, result.problems
    with shop.db.read() as cur:
        rows = cur.execute("SELECT sku, name, category, unit_price, active FROM products WHERE sku IN"
                           " ('PHN-9', 'TOY-9', 'TOY-10') ORDER BY 1").fetchall()
    assert rows == [("PHN-9", "新手机", "phones", D("1999.00"), True), ("TOY-10", "Ball", "toys", D("5.00"), True),
                    ("TOY-9", "Kite", "toys", D("1299.50"), True)]
    bad = load(shop, "products", ["sku", "name", "category", "unit_price"],
               ["PHN-1,Dup,phones,1", "NEW-1,X,garden,1", "NEW-2,Y,toys,-1"])
    assert reasons(bad) == [(2, "product PHN-1 is already in the database"),
                            (3, "no category garden (categories: phones, toys)" + ADD_HINT), (4, "-1 is negative")]


def test_stock_is_received_through_the_ledger_and_audited(shop):
    result = load(shop, "stock", ["仓库", "商品编码", "库存数量", "隔离数量"],
                  ["上海仓,PHN-1,5,", "GZ,TOY-1,20,2", "SH,PHN-2,0,"])
    assert (result.ok, result.counts) == (True, {"stock_ledger": 2, "stock_balances": 2, "audit_log": 2})
    assert balance(shop.db, "SH", "PHN-1") == (15, 0, 0)
    assert balance(shop.db, "GZ", "TOY-1") == (20, 0, 2)
    with shop.db.read() as cur:
        ledger = rows_as_dicts(cur, "SELECT warehouse, sku, kind, d_on_hand, d_quarantine, actor_id FROM stock_ledger"
                                    " WHERE kind = 'import' ORDER BY 1, 2")
        audit = cur.execute("SELECT entity_id FROM audit_log WHERE action = 'stock.import' ORDER BY 1").fetchall()
    assert [(r["warehouse"], r["sku"], r["d_on_hand"], r["d_quarantine"]) for r in ledger] == [
        ("GZ", "TOY-1", 20, 2), ("SH", "PHN-1", 5, 0)]
    assert ledger[0]["actor_id"] == shop.users["admin"].id
    assert audit == [("GZ/TOY-1",), ("SH/PHN-1",)]
    assert run_checks(shop.db)["ok"]


def test_bad_stock_rows_change_nothing(shop):
    before = balance(shop.db, "SH", "PHN-1")
    result = load(shop, "stock", ["warehouse", "sku", "qty"],
                  ["SH,PHN-1,5", "SH,PHN-1,1", "XX,PHN-1,1", "SH,NOPE,1", "SH,TOY-1,-4"])
    assert reasons(result) == [(3, "PHN-1 appears twice for this warehouse (first in row 2)"),
                               (4, "no warehouse XX (warehouses: GZ, SH)" + ADD_HINT), (5, "no product NOPE"),
                               (6, "-4 is negative")]
    assert balance(shop.db, "SH", "PHN-1") == before
