"""The counted, in-place guards of a void (no UPDATE … RETURNING): what they refuse, they name, and nothing stays."""
import pytest

from lib.errors import ConcurrentChange, RuleViolation
from lib.services import voids
from tests.conftest import balance
from tests.integration.void_helpers import bulk_orders, make_order, order_row, voids_of


def _set(db, sql, params):
    with db.transaction() as cur:
        cur.execute(sql, params)


@pytest.mark.parametrize("lines", [(("PHN-1", 2),), (("PHN-1", 2), ("TOY-1", 3))])
def test_void_refuses_to_release_stock_that_is_not_reserved_and_names_the_pair(shop, lines):
    order_no = make_order(shop, lines=lines)
    _set(shop.db, "UPDATE stock_balances SET reserved = 1 WHERE warehouse = 'SH' AND sku = 'PHN-1'", [])
    with pytest.raises(RuleViolation) as info:
        voids.void_order(shop.db, shop.users["ops"], order_no, "customer_cancelled")
    assert info.value.key == "stock.would_go_negative" and info.value.params["sku"] == "PHN-1"
    assert order_row(shop.db, order_no)["status"] == "pending" and voids_of(shop.db, order_no) == []
    assert balance(shop.db, "SH", "PHN-1")[1] == 1 and balance(shop.db, "SH", "TOY-1")[1] == (3 if len(lines) > 1 else 0)


def test_batch_names_the_order_whose_claim_failed_and_applies_nothing(shop, monkeypatch):
    numbers = bulk_orders(shop.db, 5)
    from lib.services import void_writes

    real = void_writes._claim_orders

    def claim_after_a_sneaky_change(cur, plans, now, changed_key):
        cur.execute("UPDATE orders SET version = version + 1 WHERE order_no = ?", [numbers[2]])
        return real(cur, plans, now, changed_key)

    monkeypatch.setattr(void_writes, "_claim_orders", claim_after_a_sneaky_change)
    with pytest.raises(ConcurrentChange) as info:
        voids.void_batch(shop.db, shop.users["ops"], numbers, "out_of_stock")
    assert info.value.key == "voids.batch_changed" and info.value.params["order_no"] == numbers[2]
    assert {order_row(shop.db, n)["status"] for n in numbers} == {"pending"}
    assert balance(shop.db, "SH", "BULK-1") == (15, 5, 0)
