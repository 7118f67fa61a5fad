"""Search by void and return history (the analytics drill-down lands on these filters)."""
from datetime import date, datetime

import pytest

from lib.errors import InvalidInput
from lib.queries.export import export_csv
from lib.queries.search import SearchFilters, search_orders
from lib.services.void_writes import mark_void_requests
from tests.integration.orders_fixture import add_orders


def _void(db, order_id, order_no, reason, status, applied):
    with db.transaction() as cur:
        cur.execute("INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh,"
                    " requested_at, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [order_id, order_no, status, reason, reason, reason, applied, applied])
        mark_void_requests(cur)   # as the services keep orders.void_requested


def _return(db, order_id, order_no, reason, created):
    with db.transaction() as cur:
        cur.execute("INSERT INTO return_notes (return_no, order_id, order_no, status, reason_code, reason_label_en,"
                    " reason_label_zh, warehouse, created_at) VALUES (?, ?, ?, 'requested', ?, ?, ?, 'SH', ?)",
                    [f"RN-{order_no}", order_id, order_no, reason, reason, reason, created])


@pytest.fixture
def world(shop):
    ids = add_orders(shop)
    nos = sorted(ids)
    shop.nos = nos
    _void(shop.db, ids[nos[0]], nos[0], "customer_cancelled", "applied", datetime(2024, 3, 1, 10))
    _void(shop.db, ids[nos[1]], nos[1], "out_of_stock", "applied", datetime(2024, 3, 5, 23, 59))
    _void(shop.db, ids[nos[2]], nos[2], "out_of_stock", "restored", datetime(2024, 3, 2))   # undone: not counted
    _void(shop.db, ids[nos[3]], nos[3], "out_of_stock", "pending_approval", datetime(2024, 3, 2))
    _return(shop.db, ids[nos[4]], nos[4], "damaged", datetime(2024, 4, 1, 9))
    _return(shop.db, ids[nos[0]], nos[0], "wrong_item", datetime(2024, 4, 3, 9))
    return shop


def found(world, user="ops", **filters) -> set[str]:
    return set(search_orders(world.db, world.users[user], SearchFilters(**filters)).rows["order_no"])


def test_void_reason_finds_orders_whose_void_is_in_effect(world):
    nos = world.nos
    assert found(world, void_reason=["out_of_stock"]) == {nos[1]}
    assert found(world, void_reason=["out_of_stock", "customer_cancelled"]) == {nos[0], nos[1]}


def test_void_dates_include_both_ends_and_combine_with_the_reason(world):
    nos = world.nos
    assert found(world, voided_from=date(2024, 3, 1), voided_to=date(2024, 3, 5)) == {nos[0], nos[1]}
    assert found(world, voided_from=date(2024, 3, 2)) == {nos[1]}
    assert found(world, voided_to=date(2024, 3, 1), void_reason=["out_of_stock"]) == set()


def test_return_reason_and_dates(world):
    nos = world.nos
    assert found(world, return_reason=["damaged"]) == {nos[4]}
    assert found(world, returned_from=date(2024, 4, 2)) == {nos[0]}
    assert found(world, return_reason=["wrong_item"], void_reason=["customer_cancelled"]) == {nos[0]}


def test_history_filters_round_trip_through_the_url():
    f = SearchFilters(void_reason=["out_of_stock"], voided_from=date(2024, 3, 1), returned_to=date(2024, 4, 30))
    params = f.to_params()
    assert params == {"void_reason": ["out_of_stock"], "voided_from": "2024-03-01", "returned_to": "2024-04-30"}
    assert SearchFilters.from_params(params) == f.cleaned()


def test_reversed_or_bad_history_dates_are_refused():
    with pytest.raises(InvalidInput):
        SearchFilters.from_params({"voided_from": "2024-03-02", "voided_to": "2024-03-01"})
    with pytest.raises(InvalidInput):
        SearchFilters.from_params({"returned_from": "yesterday"})


def test_export_and_sales_scope_apply_the_same_history_filters(world):
    text = export_csv(world.db, world.users["ops"], SearchFilters(void_reason=["out_of_stock"])).decode("utf-8-sig")
    assert world.nos[1] in text and world.nos[0] not in text
    with world.db.read() as cur:
        own = {no for (no,) in cur.execute("SELECT order_no FROM orders WHERE rep_id = ?",
                                           [world.users["sales"].id]).fetchall()}
    assert {world.nos[0], world.nos[1]} - own, "the fixture must hold another rep's voided order"
    mine = found(world, user="sales", void_reason=["out_of_stock", "customer_cancelled"])
    assert mine == {world.nos[0], world.nos[1]} & own


def test_returned_product_and_category_look_at_what_the_note_returned(world):
    nos = world.nos   # nos[4] returned a TOY-1 line; nos[0] returned nothing listed
    with world.db.transaction() as cur:
        cur.execute("INSERT INTO return_lines (return_id, order_line_id, sku, qty, unit_price)"
                    " SELECT id, 0, 'TOY-1', 1, 99.50 FROM return_notes WHERE order_no = ?", [nos[4]])
    assert found(world, returned_product="toy-1") == {nos[4]}
    assert found(world, returned_category=["toys"]) == {nos[4]}
    assert found(world, returned_category=["phones"]) == set()
    assert found(world, returned_product="TOY-1", return_reason=["wrong_item"]) == set()
    params = SearchFilters(returned_product="TOY-1", returned_category=["toys"]).to_params()
    assert params == {"returned_product": "TOY-1", "returned_category": ["toys"]}


def test_a_customer_code_or_an_exact_sku_finds_only_that_one(world):
    from tests.integration.orders_fixture import add_customer, insert_order

    add_customer(world.db, "CUS-9", "Acme Trading 艾克美")        # the same name as CUS-1
    insert_order(world.db, "SO-20240301-00001", customer="CUS-9")
    assert found(world, customer="cus-9") == {"SO-20240301-00001"}
    assert "SO-20240301-00001" in found(world, customer="Acme Trading")
    with world.db.transaction() as cur:
        cur.execute("INSERT INTO products VALUES ('PHN-10', 'Phone Ten', 'phones', 10.00, TRUE)")
    insert_order(world.db, "SO-20240301-00002", lines=(("PHN-10", 1, "10.00"),))
    assert "SO-20240301-00002" not in found(world, product="PHN-1")       # exact: PHN-1 is not PHN-10
    assert "SO-20240301-00002" in found(world, product="PHN")             # a prefix still finds both
