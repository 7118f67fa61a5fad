"""Nightly loads (`--mode upsert`, issue #15, lib.imports.upsert), on a DuckDB file and on PostgreSQL: new records
are inserted, unchanged ones skipped, changed ones updated through the ledger and the app's own writes, conflicts
reported and left as they are; the same file again changes nothing; `check` stays ok."""
import json
from decimal import Decimal as D

import pytest

from lib.db import rows_as_dicts, scalar
from lib.errors import InvalidInput
from lib.imports import check_import, propose, read_bytes, run_import
from lib.queries.check import run_checks
from lib.services import voids
from tests.conftest import balance
from tests.integration import import_samples as samples
from tests.integration.cli_helpers import cli

pytestmark = pytest.mark.both_backends


def upsert(shop, kind: str, name: str, data: bytes, dry: bool = False):
    source = read_bytes(name, data)
    work = check_import if dry else run_import
    result = work(shop.db, shop.users["ops_lead"], source, propose(kind, source), mode="upsert")
    assert result.ok, result.problems
    return result


def writes(db) -> int:
    """Rows in the tables an import may write."""
    with db.read() as cur:
        return sum(scalar(cur, f"SELECT count(*) FROM {t}") for t in
                   ("customers", "products", "orders", "order_lines", "voids", "refunds", "stock_ledger",
                    "order_status_history"))


def test_customers_products_and_stock_are_inserted_updated_or_left_and_a_rerun_changes_nothing(shop):
    customers = "code,name,city,phone\nCUS-1,Acme Trading 艾克美,Shanghai,\nCUS-2,Beta Retail Ltd,Shenzhen,\n" \
                "CUS-9,Nine Stores,Wuhan,027-1234\n"
    result = upsert(shop, "customers", "c.csv", customers.encode())
    assert result.outcome == {"inserted": 1, "updated": 1, "unchanged": 1, "conflicts": 0, "rejected": 0}
    products = "sku,name,category,unit_price\nPHN-1,Phone One,phones,2899.00\nTOY-1,Robot 机器人,toys,99.50\n" \
               "NEW-1,New thing,toys,5\n"
    assert upsert(shop, "products", "p.csv", products.encode()).outcome["updated"] == 1
    # SH/TOY-1 gets 10 reserved first; then the ERP says 40 on hand (an adjustment of -60), SH/PHN-1 12 (+2),
    # GZ/PHN-1 as it is, SH/NEW-1 is new (received), and SH/TOY-1 at 5 would be below what is reserved.
    order = read_bytes("o.csv", samples.utf8_csv([samples.ORDERS[5][:8] + (10, 95.0)]))
    run_import(shop.db, shop.users["ops_lead"], order, propose("orders", order))
    stock = "warehouse,sku,qty\nSH,PHN-1,12\nGZ,PHN-1,3\nSH,NEW-1,7\nSH,PHN-2,40\n"
    result = upsert(shop, "stock", "s.csv", stock.encode())
    assert result.outcome == {"inserted": 1, "updated": 2, "unchanged": 1, "conflicts": 0, "rejected": 0}
    assert [balance(shop.db, "SH", s) for s in ("PHN-1", "PHN-2", "NEW-1")] == [(12, 0, 0), (40, 0, 0), (7, 0, 0)]
    low = upsert(shop, "stock", "s2.csv", b"warehouse,sku,qty\nSH,TOY-1,5\n")
    assert low.outcome["conflicts"] == 1 and balance(shop.db, "SH", "TOY-1") == (100, 10, 0)
    assert "10 reserved" in low.conflicts["reason"][0] and "SH / TOY-1" in low.conflicts["reason"][0]
    with shop.db.read() as cur:
        assert rows_as_dicts(cur, "SELECT code, name, city, phone FROM customers ORDER BY code") == [
            {"code": "CUS-1", "name": "Acme Trading 艾克美", "city": "Shanghai", "phone": None},
            {"code": "CUS-2", "name": "Beta Retail Ltd", "city": "Shenzhen", "phone": None},
            {"code": "CUS-9", "name": "Nine Stores", "city": "Wuhan", "phone": "027-1234"}]
        assert scalar(cur, "SELECT unit_price FROM products WHERE sku = 'PHN-1'") == D("2899.00")
        assert cur.execute("SELECT kind, d_on_hand FROM stock_ledger WHERE kind IN ('adjust', 'import')"
                           " ORDER BY sku").fetchall() == [("import", 7), ("adjust", 2), ("adjust", 35)]
        audited = cur.execute("SELECT action, count(*) FROM audit_log WHERE action IN ('customer.update',"
                              " 'product.update', 'stock.adjust') GROUP BY 1 ORDER BY 1").fetchall()
        assert audited == [("customer.update", 1), ("product.update", 1), ("stock.adjust", 2)]
        before = cur.execute("SELECT before, after FROM audit_log WHERE action = 'customer.update'").fetchall()
        assert "Beta Retail" in before[0][0] and "Shenzhen" in before[0][1]
    written = writes(shop.db)
    for kind, name, data in (("customers", "c.csv", customers), ("products", "p.csv", products),
                             ("stock", "s.csv", stock)):
        again = upsert(shop, kind, name, data.encode())
        assert again.outcome["unchanged"] == 3 + (kind == "stock") and again.outcome["updated"] == 0, kind
    assert writes(shop.db) == written
    assert run_checks(shop.db)["ok"]


def erp_orders(changes: dict[str, str], new: bool = False) -> bytes:
    """The sample orders as the ERP shows them a day later: {order number: status}, and an order it added."""
    rows = samples.ORDERS + ([("IMP-1006", "CUS-2", samples.ORDERS[0][2], "pending", "", "GZ", "", "PHN-1", 1,
                               2899.0)] if new else [])
    return samples.utf8_csv([r[:3] + (changes.get(r[0], r[3]),) + r[4:] for r in rows])


def test_orders_follow_the_erp_and_conflicts_are_reported_not_followed(shop):
    first = read_bytes("orders.csv", samples.utf8_csv())
    assert run_import(shop.db, shop.users["ops_lead"], first, propose("orders", first)).ok
    voids.void_order(shop.db, shop.users["ops_lead"], "IMP-1005", "customer_cancelled")   # voided here
    # The ERP: 1001 cancelled, 1005 shipped (but voided here), 1004 back at processing, 1003 as it was, 1006 new.
    later = erp_orders({"IMP-1001": "cancelled", "IMP-1005": "shipped", "IMP-1004": "processing"}, new=True)
    dry = upsert(shop, "orders", "later.csv", later, dry=True)
    expected = {"inserted": 1, "updated": 1, "unchanged": 2, "conflicts": 2, "rejected": 0}
    assert dry.outcome == expected
    assert balance(shop.db, "SH", "PHN-1")[1] == 2   # a dry run changes nothing
    result = upsert(shop, "orders", "later.csv", later)
    assert result.outcome == expected
    assert (result.counts["orders"], result.counts["voids"], result.counts["stock_ledger"]) == (2, 1, 3)
    reasons = " | ".join(result.conflicts["reason"])
    assert "IMP-1005 was voided here but is Shipped in the ERP; not reopened" in reasons
    assert "IMP-1004 is Processing in the ERP but already Completed here" in reasons
    with shop.db.read() as cur:
        status = dict(cur.execute("SELECT order_no, status FROM orders").fetchall())
        assert status == {"IMP-1001": "voided", "IMP-1002": "voided", "IMP-1003": "shipped",
                          "IMP-1004": "completed", "IMP-1005": "voided", "IMP-1006": "pending"}
        assert scalar(cur, "SELECT reason_code FROM voids WHERE order_no = 'IMP-1001'") == "imported"
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)    # 1001's reservation released
    assert balance(shop.db, "GZ", "PHN-1") == (3, 1, 0)     # 1006 reserves
    written = writes(shop.db)
    again = upsert(shop, "orders", "later.csv", later)
    assert again.outcome == {"inserted": 0, "updated": 0, "unchanged": 4, "conflicts": 2, "rejected": 0}
    assert writes(shop.db) == written
    # The ERP moves 1006 on to shipped: its stock is taken, its lines shipped.
    shipped = upsert(shop, "orders", "later2.csv", erp_orders({"IMP-1001": "cancelled", "IMP-1005": "shipped",
                                                                "IMP-1004": "processing", "IMP-1006": "shipped"},
                                                               new=True))
    assert shipped.outcome["updated"] == 1
    assert balance(shop.db, "GZ", "PHN-1") == (2, 0, 0)
    with shop.db.read() as cur:
        assert scalar(cur, "SELECT qty_shipped FROM order_lines l JOIN orders o ON o.id = l.order_id"
                           " WHERE o.order_no = 'IMP-1006'") == 1
    assert run_checks(shop.db)["ok"]


def test_an_order_with_other_lines_is_a_conflict_named_by_field(shop):
    first = read_bytes("orders.csv", samples.utf8_csv())
    assert run_import(shop.db, shop.users["ops_lead"], first, propose("orders", first)).ok
    rows = [r[:8] + ((r[8] + 1,) if r[0] == "IMP-1003" else (r[8],)) + r[9:] for r in samples.ORDERS]
    result = upsert(shop, "orders", "o.csv", samples.utf8_csv(rows))
    assert result.outcome["conflicts"] == 1
    assert list(result.conflicts["field"]) == ["SKU"] and "IMP-1003 differs" in result.conflicts["reason"][0]


def test_upsert_is_refused_where_it_has_no_meaning(shop, tmp_path):
    source = read_bytes("l.csv", b"order_no,sku,qty\nIMP-1,PHN-1,1\n")
    with pytest.raises(InvalidInput) as caught:
        run_import(shop.db, shop.users["ops_lead"], source, propose("lines", source), mode="upsert")
    assert caught.value.key == "import.upsert_kinds"
    with pytest.raises(InvalidInput):
        run_import(shop.db, shop.users["ops_lead"], source, propose("lines", source), mode="merge")


def test_the_cli_reports_the_outcome_and_writes_the_conflicts(shop, tmp_path):
    if shop.db.backend != "duckdb":
        pytest.skip("the command line on a DuckDB file; the import is tested on both")
    first = read_bytes("orders.csv", samples.utf8_csv())
    run_import(shop.db, shop.users["ops_lead"], first, propose("orders", first))
    voids.void_order(shop.db, shop.users["ops_lead"], "IMP-1005", "customer_cancelled")
    path = shop.db.path
    shop.db.close()
    later = tmp_path / "later.csv"
    later.write_bytes(erp_orders({"IMP-1005": "shipped", "IMP-1001": "processing"}))
    done = cli(path, "import", "orders", str(later), "--mode", "upsert", "--json", "--user", "ops_lead")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["outcome"] == {"inserted": 0, "updated": 1, "unchanged": 3, "conflicts": 1, "rejected": 0}
    assert data["seconds"] > 0
    assert "IMP-1005" in (tmp_path / "later.csv.conflicts.csv").read_text(encoding="utf-8-sig")
    text = cli(path, "import", "orders", str(later), "--mode", "upsert", "--user", "ops_lead")
    assert "0 updated, 4 unchanged, 1 conflicts (left as they are; see" in text.stdout, text.stdout
