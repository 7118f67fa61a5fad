"""Imports on a PostgreSQL server while other replicas work (issue #14, lib.imports.server): what the workspace read
may change before the import writes, and the import must then change nothing and say so. The other replica acts at
the moment the file has been checked and the load begins (the import's own progress report), so each race is met
every time, without timing."""
import threading

import pytest

from lib.db import scalar
from lib.errors import ConcurrentChange, RuleViolation
from lib.imports import propose, read_bytes
from lib.imports.run import run_import
from lib.queries.check import run_checks
from lib.services import orders
from lib.services.orders import LineInput
from tests.integration import import_samples as samples


@pytest.fixture
def backend() -> str:
    return "postgresql"




def counts(db) -> tuple:
    with db.read() as cur:
        # a failed import's own audit entry (import.fail) is all it writes
        return tuple(scalar(cur, f"SELECT count(*) FROM {t}") for t in
                     ("orders", "order_lines", "voids", "stock_ledger", "audit_log WHERE action <> 'import.fail'")) + (
            scalar(cur, "SELECT sum(reserved) FROM stock_balances"),)


def import_while(shop, meanwhile):
    """Import the sample orders; `meanwhile()` runs once, when the checks are done and the load starts."""
    source = read_bytes("orders.csv", samples.utf8_csv())

    def progress(fraction, key):
        if key == "import.progress.load":
            meanwhile()
    return run_import(shop.db, shop.users["admin"], source, propose("orders", source), progress=progress)


def test_an_import_on_a_server_loads_what_a_file_import_loads(shop):
    result = import_while(shop, lambda: None)
    assert result.ok and result.counts["orders"] == 5
    with shop.db.read() as cur:
        rows = cur.execute("SELECT order_no, status, total, category_mask FROM orders WHERE source = 'import'"
                           " ORDER BY order_no").fetchall()
        reserved = dict(cur.execute("SELECT sku, reserved FROM stock_balances WHERE warehouse = 'SH'").fetchall())
    assert [r[0] for r in rows] == [f"IMP-100{i}" for i in range(1, 6)]
    assert dict((r[0], r[1]) for r in rows)["IMP-1002"] == "voided"
    assert reserved == {"PHN-1": 2, "PHN-2": 0, "TOY-1": 8}
    assert run_checks(shop.db)["ok"]


def test_an_order_number_taken_on_another_replica_meanwhile_loads_nothing(shop, replica):
    def take_the_number():
        with replica.transaction() as cur:
            cur.execute("UPDATE orders SET order_no = 'IMP-1003' WHERE id = (SELECT min(id) FROM orders)")
    orders.create_order(shop.db, shop.users["ops"], "CUS-1", "SH", [LineInput("TOY-1", 1)], rep="sales")
    before = counts(shop.db)
    with pytest.raises(ConcurrentChange) as refused:
        import_while(shop, take_the_number)
    assert refused.value.key == "import.taken_meanwhile"
    assert counts(shop.db) == before


def test_stock_reserved_on_another_replica_meanwhile_is_not_reserved_twice(shop, replica):
    def reserve_the_phones():   # SH holds 10 PHN-1; the file reserves 2 of them
        orders.create_order(replica, shop.users["ops"], "CUS-2", "SH", [LineInput("PHN-1", 9)], rep="sales")
    before = counts(shop.db)
    with pytest.raises(RuleViolation):
        import_while(shop, reserve_the_phones)
    after = counts(shop.db)
    assert after[0] == before[0] + 1 and after[5] == before[5] + 9   # the other replica's order, nothing else
    assert run_checks(shop.db)["ok"]


def test_orders_created_on_another_replica_during_an_import_keep_their_own_ids(shop, replica):
    """The import's ids are a block reserved in the server's sequence: orders made meanwhile never take one."""
    made = []

    def keep_creating():
        for _ in range(3):
            made.append(orders.create_order(replica, shop.users["ops"], "CUS-2", "GZ", [LineInput("PHN-1", 1)],
                                            rep="sales")["order_no"])
    worker = threading.Thread(target=keep_creating)
    result = import_while(shop, worker.start)   # creating while the import draws its ids and writes
    worker.join(60)
    assert result.ok and len(made) == 3
    with shop.db.read() as cur:
        assert scalar(cur, "SELECT count(*) FROM orders") == scalar(cur, "SELECT count(DISTINCT id) FROM orders") == 8
    assert run_checks(shop.db)["ok"]


def test_checking_a_file_on_a_server_writes_nothing(shop):
    from lib.imports.run import check_import

    before = counts(shop.db)
    source = read_bytes("orders.csv", samples.utf8_csv())
    result = check_import(shop.db, shop.users["admin"], source, propose("orders", source))
    assert result.ok and len(result.preview) == 6
    assert counts(shop.db) == before
