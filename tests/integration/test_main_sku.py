"""orders.main_sku (migration 015, lib.queries.main_line): each order keeps the SKU of its main line, so Search and
Explain read one column instead of every order line. The migration fills it for orders written before, every write
of lines sets it (imports and the seed are proven by their tests' `check`), and `check` notices a wrong one."""
import pytest

from lib.db import apply_migrations, schema_version
from lib.queries.check import run_checks
from lib.queries.main_line import ALL_LINES, set_main_skus
from tests.integration.orders_fixture import insert_order
from tests.integration.void_helpers import make_order

# order_no -> (lines (sku, qty, price), its main SKU)
HAND = {
    "SO-TIE-1": ((("OLD-1", 650, "10"), ("PHN-2", 1, "6500")), "OLD-1"),    # 6500 = 6500: the first line
    "SO-TIE-2": ((("PHN-2", 1, "6500"), ("OLD-1", 650, "10")), "PHN-2"),
    "SO-TWICE": ((("TOY-1", 1, "99.5"), ("PHN-1", 1, "2999"), ("TOY-1", 50, "99.5")), "TOY-1"),   # the 4975 line
    "SO-ONE": ((("PHN-1", 2, "2999"),), "PHN-1"),
    "SO-NONE": ((), None),                                                    # no lines: NULL
}


def _main_skus(db) -> dict:
    with db.read() as cur:
        return dict(cur.execute("SELECT order_no, main_sku FROM orders").fetchall())


@pytest.mark.both_backends
def test_the_migration_gives_orders_written_before_it_their_main_sku(shop):
    for no, (lines, _) in HAND.items():
        insert_order(shop.db, no, lines=lines)
    with shop.db.transaction() as cur:   # back to the schema before 015 (016 only indexes the column)
        cur.execute("ALTER TABLE orders DROP COLUMN main_sku")
        cur.execute("DELETE FROM schema_migrations WHERE version >= 15")
    assert apply_migrations(shop.db) == 17 == schema_version(shop.db)
    assert _main_skus(shop.db) == {no: sku for no, (_, sku) in HAND.items()}
    assert run_checks(shop.db)["ok"]


def test_a_new_order_keeps_the_sku_of_its_largest_line(shop):
    order_no = make_order(shop, lines=(("PHN-1", 1), ("TOY-1", 40)))   # 2999 < 3980: the second line
    assert _main_skus(shop.db) == {order_no: "TOY-1"}
    assert run_checks(shop.db)["ok"]


@pytest.mark.parametrize("wrong", ["PHN-2", None])
def test_check_notices_a_main_sku_that_differs_from_the_lines(shop, wrong):
    make_order(shop, lines=(("PHN-1", 1),))
    lineless = insert_order(shop.db, "SO-NONE", lines=())
    with shop.db.transaction() as cur:
        cur.execute("UPDATE orders SET main_sku = ? WHERE main_sku IS NOT NULL", [wrong])
    problems = run_checks(shop.db)["problems"]
    assert [(p["check"], p["count"]) for p in problems] == [("main_skus_match_lines", 1)]
    with shop.db.transaction() as cur:
        set_main_skus(cur, ALL_LINES)
        cur.execute("UPDATE orders SET main_sku = 'PHN-1' WHERE id = ?", [lineless])   # an order without lines
    assert [p["examples"] for p in run_checks(shop.db)["problems"]] == \
        [["order SO-NONE: main SKU differs from its largest line"]]



@pytest.mark.both_backends
def test_lines_of_one_number_and_one_value_go_to_the_line_written_first(shop):
    # Imports before the fix could number a blank line like a numbered one; migration 017 settles those ties.
    order_id = insert_order(shop.db, "SO-DUP", lines=(("TOY-1", 1, "100"), ("PHN-1", 1, "100")))
    with shop.db.transaction() as cur:
        cur.execute("UPDATE order_lines SET line_no = 2 WHERE order_id = ?", [order_id])
        cur.execute("UPDATE orders SET main_sku = 'PHN-1' WHERE id = ?", [order_id])   # 015 could pick either
        cur.execute("DELETE FROM schema_migrations WHERE version >= 17")
    assert apply_migrations(shop.db) == 17 == schema_version(shop.db)
    assert _main_skus(shop.db)["SO-DUP"] == "TOY-1"
    assert run_checks(shop.db)["ok"]
