"""orders.category_mask (migration 004): the search's category filter reads one integer per order instead of
every order line. Every write of lines keeps it, `check` notices drift, and a category without a bit still works."""
from datetime import date

import pytest

from lib.db import Database, apply_migrations
from lib.imports import read_bytes, run_import
from lib.imports.mapping import propose
from lib.queries.category_mask import MAX_BITS, add_line_bits, give_bit, mask_of
from lib.queries.check import run_checks
from lib.queries.search import SearchFilters, search_orders
from lib.seed import seed
from tests.integration.void_helpers import make_order


def _semi_join_count(db, categories: list[str]) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM orders WHERE id IN (SELECT l.order_id FROM order_lines l"
                           " JOIN products p ON p.sku = l.sku WHERE p.category = ANY(?))",
                           [categories]).fetchall()[0][0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = Database(str(tmp_path_factory.mktemp("mask") / "demo.duckdb"))
    apply_migrations(db)
    seed(db, orders=3000, seed=3, today=date(2026, 3, 15))
    yield db
    db.close()


def test_seeded_masks_match_the_lines_and_search_counts_as_the_lines_do(demo):
    assert run_checks(demo)["ok"]
    analyst = _analyst(demo)
    with demo.read() as cur:
        codes = [c for (c,) in cur.execute("SELECT code FROM categories ORDER BY sort_order").fetchall()]
        assert mask_of(cur, codes[:2]) is not None      # every seeded category has a bit
    for chosen in ([codes[0]], codes[1:3], codes[:5]):
        result = search_orders(demo, analyst, SearchFilters(category=chosen))
        assert result.total == _semi_join_count(demo, chosen) > 0


def test_check_notices_a_mask_that_drifted_from_the_lines(demo):
    with demo.transaction() as cur:
        order_id = cur.execute("SELECT min(id) FROM orders").fetchall()[0][0]
        cur.execute("UPDATE orders SET category_mask = 0 WHERE id = ?", [order_id])
    try:
        problems = {p["check"] for p in run_checks(demo)["problems"]}
        assert problems == {"category_masks_match_lines"}
    finally:
        with demo.transaction() as cur:
            add_line_bits(cur, "SELECT order_id, sku FROM order_lines WHERE order_id = ?", [order_id])
    assert run_checks(demo)["ok"]


def test_a_new_order_carries_the_bits_of_its_lines_categories(shop):
    with shop.db.transaction() as cur:         # the shop fixture's categories have no bits yet
        give_bit(cur, "phones")
        give_bit(cur, "toys")
    order_no = make_order(shop, lines=(("PHN-1", 1), ("TOY-1", 2)))
    with shop.db.read() as cur:
        mask = cur.execute("SELECT category_mask FROM orders WHERE order_no = ?", [order_no]).fetchall()[0][0]
        assert mask == mask_of(cur, ["phones", "toys"]) == 0b11
    found = search_orders(shop.db, shop.users["ops"], SearchFilters(category=["toys"]))
    assert list(found.rows["order_no"]) == [order_no]
    assert run_checks(shop.db)["ok"]


def test_a_category_without_a_bit_is_searched_through_the_lines(shop):
    order_no = make_order(shop, lines=(("TOY-1", 1),))     # 'toys' has no bit in the shop fixture
    with shop.db.read() as cur:
        assert mask_of(cur, ["toys"]) is None
        assert cur.execute("SELECT category_mask FROM orders WHERE order_no = ?", [order_no]).fetchall() == [(0,)]
    found = search_orders(shop.db, shop.users["ops"], SearchFilters(category=["toys"]))
    assert list(found.rows["order_no"]) == [order_no]
    assert run_checks(shop.db)["ok"]


def test_the_65th_category_gets_no_bit(db):
    with db.transaction() as cur:
        for i in range(MAX_BITS + 1):
            cur.execute("INSERT INTO categories VALUES (?, ?, ?, ?)", [f"c{i}", f"C{i}", f"C{i}", i])
            give_bit(cur, f"c{i}")
        assert mask_of(cur, [f"c{MAX_BITS - 1}"]) == 1 << (MAX_BITS - 1)
        assert mask_of(cur, [f"c{MAX_BITS}"]) is None


def test_imported_orders_get_their_bits(demo):
    with demo.read() as cur:
        customer, = cur.execute("SELECT name FROM customers ORDER BY id LIMIT 1").fetchall()[0]
        sku, category = cur.execute("SELECT sku, category FROM products ORDER BY sku LIMIT 1").fetchall()[0]
    text = ("order_no,customer,created_at,status,warehouse,sku,qty,unit_price\n"
            f"IMP-MASK-1,{customer},2026-03-01 10:00,completed,SH,{sku},1,10.00\n")
    source = read_bytes("orders.csv", text.encode())
    result = run_import(demo, _admin(demo), source, propose("orders", source))
    assert result.ok, result.problems
    analyst = _analyst(demo)
    assert search_orders(demo, analyst, SearchFilters(number="IMP-MASK-1", category=[category])).total == 1
    with demo.read() as cur:
        other = cur.execute("SELECT code FROM categories WHERE code <> ? LIMIT 1", [category]).fetchall()[0][0]
    assert search_orders(demo, analyst, SearchFilters(number="IMP-MASK-1", category=[other])).total == 0
    assert run_checks(demo)["ok"]


def _user(db, role):
    from lib.db import rows_as_dicts
    from lib.services.auth import user_from_row
    with db.read() as cur:
        return user_from_row(rows_as_dicts(cur, "SELECT id, username, display_name, role, language,"
                                                " must_change_password FROM users WHERE role = ? LIMIT 1", [role])[0])


def _analyst(db):
    return _user(db, "analyst")


def _admin(db):
    return _user(db, "admin")
