"""An order's main line (issue #17, lib.queries.main_line): Search's "main product" / "main category" filters list
exactly the orders Explain counts under a product or category, so a bar's drill-down lists the orders of its count.

A hand-made book where a minor line often belongs elsewhere: the "has a line" filters find a superset."""
import csv
import io
from datetime import date, datetime, timedelta

import pytest

from lib.analytics import explain as ex
from lib.analytics.filters import AnalyticsFilters
from lib.queries.check import run_checks
from lib.queries.export import export_csv
from lib.queries.search import SearchFilters, search_orders
from tests.integration import analytics_data as ad

FEB, MARCH = (date(2024, 1, 30), date(2024, 2, 29)), (date(2024, 3, 1), date(2024, 3, 31))
# no -> (lines [sku, qty], voided). Prices: PHN-1 2999, PHN-2 6500, TOY-1 99.5, OLD-1 10 (analytics_data.PRICES).
# R1 and R2 are shipped and return their minor line.
HAND = {
    "M1": ([["PHN-1", 1], ["TOY-1", 1]], True),               # main PHN-1, a toy line besides
    "M2": ([["TOY-1", 40], ["PHN-1", 1]], True),              # 3980 > 2999: main TOY-1, a phone line besides
    "M3": ([["OLD-1", 650], ["PHN-2", 1]], True),             # 6500 = 6500: the first line, OLD-1
    "M4": ([["PHN-2", 1], ["OLD-1", 650]], True),             # the same tie the other way round: PHN-2
    "M5": ([["TOY-1", 1], ["PHN-1", 1], ["TOY-1", 50]], True),   # one SKU on two lines: the 4975 line wins
    "M6": ([["PHN-1", 2]], False),
    "M7": ([["TOY-1", 1], ["PHN-1", 1]], False),
    "F1": ([["PHN-1", 1]], True),                             # February: the period before
    "F2": ([["TOY-1", 3], ["PHN-2", 1]], True),
    "R1": ([["TOY-1", 1], ["PHN-1", 1]], False),
    "R2": ([["TOY-1", 40], ["PHN-1", 1]], False),
}
MAIN_SKU = {"M1": "PHN-1", "M2": "TOY-1", "M3": "OLD-1", "M4": "PHN-2", "M5": "TOY-1", "M6": "PHN-1", "M7": "PHN-1",
            "F1": "PHN-1", "F2": "PHN-2", "R1": "PHN-1", "R2": "TOY-1"}


def hand_book() -> ad.Book:
    book = ad.Book()
    for i, (no, (lines, voided)) in enumerate(HAND.items()):
        created = datetime(2024, 2 if no.startswith("F") else 3, 2 + 2 * i, 10)
        order = ad.Order(no, "CUS-1", "sales", "SH", created, [[s, q, 0] for s, q in lines])
        book.orders.append(order)
        if voided:
            at = created + timedelta(hours=1)
            book.voids.append(ad.Void(order, "applied", "customer_cancelled", at, False, None, at))
        if no.startswith("R"):
            order.shipped = created + timedelta(days=1)
            for line in order.lines:
                line[2] = line[1]
            minor = order.lines[1 if MAIN_SKU[no] == order.lines[0][0] else 0][0]
            book.returns.append(ad.Return(order, "quality", order.shipped + timedelta(days=1), [[minor, 1, None]]))
    return book


@pytest.fixture
def hand(shop):
    ad.insert_book(shop.db, hand_book())
    return shop


def found(world, **filters) -> set[str]:
    result = search_orders(world.db, world.users["analyst"], SearchFilters(**filters), limit=100)
    assert result.total == len(result.rows)
    return set(result.rows["order_no"])


def test_main_product_finds_the_orders_whose_largest_line_is_of_it(hand):
    assert found(hand, main_product="PHN-1") == {"M1", "M6", "M7", "F1", "R1"}
    assert found(hand, product="PHN-1") == {"M1", "M2", "M5", "M6", "M7", "F1", "R1", "R2"}   # has a line: more
    assert found(hand, main_product="toy-1") == {"M2", "M5", "R2"}
    assert found(hand, main_product="OLD-1") == {"M3"}   # a tie goes to the first line
    assert found(hand, main_product="PHN-2") == {"M4", "F2"}
    assert found(hand, main_product="PHN") == {"M1", "M4", "M6", "M7", "F1", "F2", "R1"}   # a prefix, as `product`


def test_main_category_finds_the_orders_whose_largest_line_is_in_it(hand):
    assert found(hand, main_category=["phones"]) == {"M1", "M4", "M6", "M7", "F1", "F2", "R1"}
    assert found(hand, main_category=["toys"]) == {"M2", "M3", "M5", "R2"}
    assert found(hand, category=["toys"]) == set(HAND) - {"M6", "F1"}   # has a line: a superset
    assert found(hand, main_category=["toys"], category=["phones"]) == {"M2", "M3", "M5", "R2"}
    assert found(hand, main_category=["toys"], main_product="PHN-1") == set()
    assert found(hand, main_category=["phones", "toys"], voided_from=MARCH[0]) == {"M1", "M2", "M3", "M4", "M5"}
    page = search_orders(hand.db, hand.users["analyst"], SearchFilters(main_category=["phones"]), limit=2, offset=2)
    assert page.total == 7 and len(page.rows) == 2   # a page counts every match
    exported = export_csv(hand.db, hand.users["analyst"], SearchFilters(main_category=["toys"]), "created_at:desc")
    assert sorted(row[0] for row in csv.reader(io.StringIO(exported.decode("utf-8-sig")))) == \
        ["M2", "M3", "M5", "R2", "order_no"]


def test_the_main_line_filters_round_trip_through_url_params():
    filters = SearchFilters(main_product="PHN-1", main_category=["toys", "phones"])
    assert filters.to_params() == {"main_product": "PHN-1", "main_category": ["toys", "phones"]}
    assert SearchFilters.from_params(filters.to_params()) == filters


@pytest.mark.parametrize("by", ["sku", "category"])
def test_a_product_or_category_bar_drills_to_exactly_the_orders_it_counts(hand, by):
    result = ex.explain(hand.db, hand.users["analyst"], "voids", FEB, MARCH, by=by)
    f = AnalyticsFilters(*MARCH)
    rows = [r for r in result["rows"] if r["key"]]
    assert len(rows) == (4 if by == "sku" else 2)
    for row in rows:
        params = ex.drill_params(result, f, ["row", row["key"], row["after"]["count"]])
        listed = found(hand, **vars(SearchFilters.from_params(params)))
        counted = {no for no, sku in MAIN_SKU.items() if HAND[no][1] and no.startswith("M")
                   and (sku if by == "sku" else ad.CATEGORY[sku]) == row["key"]}
        assert listed == counted and len(listed) == row["after"]["count"], row["key"]


def test_a_return_bar_drills_to_the_orders_whose_main_line_it_is_not_to_what_was_returned(hand):
    """Explain counts a return note under its order's main line; R1 returned a toy from a phone order."""
    result = ex.explain(hand.db, hand.users["analyst"], "returns", FEB, MARCH, by="sku", measure="count")
    rows = {r["key"]: r for r in result["rows"] if r["key"]}
    assert {key: r["after"]["count"] for key, r in rows.items()} == {"PHN-1": 1, "TOY-1": 1}
    for key, no in (("PHN-1", "R1"), ("TOY-1", "R2")):
        params = ex.drill_params(result, AnalyticsFilters(*MARCH), ["row", key, 1])
        assert found(hand, **vars(SearchFilters.from_params(params))) == {no}


def test_the_stored_main_sku_is_the_line_python_picks(hand):
    """Search and Explain read orders.main_sku, set by main_line.set_main_skus: the main line Python picks for every
    order of the hand-made book (ties, repeated SKUs) and of a random one; `check` finds it so (the book writes no
    audit trail, so only this invariant holds)."""
    book = ad.make_book(seed=17, n=150)
    ad.insert_book(hand.db, book)
    want = {**MAIN_SKU, **{o.no: max(enumerate(o.lines), key=lambda p: (p[1][1] * ad.PRICES[p[1][0]], -p[0]))[1][0]
                           for o in book.orders}}
    with hand.db.read() as cur:
        stored = dict(cur.execute("SELECT order_no, main_sku FROM orders").fetchall())
    assert stored == want
    assert "main_skus_match_lines" not in {p["check"] for p in run_checks(hand.db)["problems"]}
