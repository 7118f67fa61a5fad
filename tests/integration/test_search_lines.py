"""Line filters (SKU, product, category) go through lib.queries.search_lines: whichever plan it picks, the count
and every page equal the plain semi-join's."""
import pytest

from lib.queries import search_lines
from lib.queries.search import SearchFilters, count_matches, export_sql, search_orders, where_clause

N = 400


@pytest.fixture
def many(shop):
    """N orders over two warehouses, one to three lines each, from a catalogue of three SKUs in two categories."""
    with shop.db.transaction() as cur:
        cur.execute("""
            INSERT INTO orders (order_no, customer_id, rep_id, warehouse, status, payment_status, total, created_at,
                                updated_at)
            SELECT 'SO-T-' || lpad(i::VARCHAR, 4, '0'), (SELECT min(id) FROM customers),
                   (SELECT id FROM users WHERE username = CASE WHEN i % 3 = 0 THEN 'sales' ELSE 'ops' END),
                   CASE WHEN i % 2 = 0 THEN 'SH' ELSE 'GZ' END, 'pending', 'unpaid', (i * 37 % 1000)::DECIMAL(14, 2),
                   TIMESTAMP '2025-01-01' + (i * 7919 % 1000) * INTERVAL '1 minute', now()
            FROM generate_series(0, ?::BIGINT - 1) r(i)""", [N])
        cur.execute("""
            INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price)
            SELECT o.id, k, CASE WHEN (o.id * 13 + k * 7) % 11 < 1 THEN 'PHN-2'
                                 WHEN (o.id * 13 + k * 7) % 11 < 5 THEN 'PHN-1' ELSE 'TOY-1' END, 1, 1
            FROM orders o, generate_series(1, o.id % 3 + 1) r(k) WHERE starts_with(o.order_no, 'SO-T-')""")
    return shop


def _reference(db, user, filters, sort, limit, offset):
    with db.read() as cur:
        where, params = where_clause(cur, user, filters.cleaned())
        total = count_matches(cur, where, params)
        rows = cur.execute(export_sql(where, sort), params).fetchall()
    return total, [r[0] for r in rows][offset:offset + limit]


CASES = [SearchFilters(category=["phones"]), SearchFilters(category=["toys"], warehouse=["SH"]),
         SearchFilters(product="PHN-2"), SearchFilters(product="PHN", category=["phones"], min_total="300")]


@pytest.mark.parametrize("plan", ["few_skus", "dense", "sparse", "widening"])
@pytest.mark.parametrize("sort", ["created_at:desc", "total:asc", "customer:desc"])
def test_every_plan_gives_the_semi_joins_count_and_pages(many, monkeypatch, plan, sort):
    monkeypatch.setattr(search_lines, "FEW_SKUS", 2.0 if plan == "few_skus" else 0.0)
    monkeypatch.setattr(search_lines, "DENSE", 2.0 if plan == "sparse" else 0.0)
    if plan == "widening":   # a first window far too small, so it widens and then falls back
        monkeypatch.setattr(search_lines, "ROUNDS", 2)
        monkeypatch.setattr(search_lines, "MIN_WINDOW", 1)
        monkeypatch.setattr(search_lines, "OVERSHOOT", 0)
    for user in ("ops", "sales"):
        for filters in CASES:
            for limit, offset in ((7, 0), (7, 7), (50, 30), (10, 1000)):
                result = search_orders(many.db, many.users[user], filters, sort, limit, offset)
                total, page = _reference(many.db, many.users[user], filters, sort, limit, offset)
                assert (result.total, list(result.rows["order_no"])) == (total, page), (user, filters, limit, offset)
