"""The Explore pivot (SPEC §8) on a small world written row by row, where every expected number is known:
counting rules, both date bases, splits by line, filters, labels, the row cap, and names that never reach SQL."""
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from lib import clock, i18n
from lib.analytics import explore
from lib.analytics.explore import pivot
from lib.analytics.filters import AnalyticsFilters
from lib.errors import InvalidInput, PermissionDenied
from lib.queries.main_line import ALL_LINES, set_main_skus
from lib.services.void_writes import mark_void_requests
from tests.conftest import add_user

NOV = AnalyticsFilters(date(2026, 11, 1), date(2026, 11, 30))

# order: (no, warehouse, rep, customer, created, shipped, status, lines [(sku, qty, price)])
ORDERS = [
    (1, "SH", "rep1", 1, "2026-11-02", None, "voided", [("PHN-1", 1, 100), ("TOY-1", 2, 10)]),
    (2, "SH", "rep1", 1, "2026-11-03", "2026-11-04", "completed", [("PHN-1", 1, 100)]),
    (3, "GZ", "rep2", 2, "2026-11-05", None, "pending", [("TOY-1", 1, 10)]),
    (4, "GZ", None, 2, "2026-10-20", None, "voided", [("TOY-1", 2, 10)]),          # made before November
    (5, "GZ", "rep2", 2, "2026-11-20", "2026-11-21", "shipped", [("PHN-1", 2, 100), ("TOY-1", 2, 10)]),
    (6, "SH", "rep2", 1, "2026-11-15", None, "processing", [("TOY-1", 1, 10)]),
]
# void: (order, status, reason, applied)
VOIDS = [(1, "applied", "out_of_stock", "2026-11-03"), (3, "restored", "customer_cancelled", "2026-11-06"),
         (3, "pending_approval", "other", None), (4, "applied", "customer_cancelled", "2026-11-01"),
         (6, "rejected", "fraud_risk", None)]
# return note: (no, order, reason, created, refund, lines [(sku, qty, price)])
RETURNS = [(1, 2, "quality", "2026-11-10", 90, [("PHN-1", 1, 100)]),
           (2, 5, "damaged", "2026-11-25", 60, [("PHN-1", 1, 100), ("TOY-1", 2, 10)])]


@pytest.fixture
def world(db):
    users = {name: add_user(db, name, role) for name, role in
             (("rep1", "sales"), ("rep2", "sales"), ("analyst", "analyst"), ("ops", "ops"))}
    with db.transaction() as cur:
        cur.execute("INSERT INTO warehouses VALUES ('SH', 'Shanghai', '上海仓'), ('GZ', 'Guangzhou', '广州仓')")
        cur.execute("INSERT INTO categories VALUES ('phones', 'Phones', '手机', 1), ('toys', 'Toys', '玩具', 2)")
        cur.execute("INSERT INTO products VALUES ('PHN-1', 'Phone One', 'phones', 100, TRUE),"
                    " ('TOY-1', 'Robot', 'toys', 10, TRUE)")
        cur.execute("INSERT INTO customers (id, code, name) VALUES (1, 'CUS-1', 'Acme'), (2, 'CUS-2', 'Beta')")
        for no, house, rep, customer, created, shipped, status, lines in ORDERS:
            cur.execute("INSERT INTO orders (id, order_no, customer_id, rep_id, warehouse, status, payment_status,"
                        " total, created_at, updated_at, shipped_at) VALUES (?, ?, ?, (SELECT id FROM users WHERE"
                        " username = ?), ?, ?, 'paid', ?, ?::TIMESTAMP + INTERVAL '10 hours', now(), ?::TIMESTAMP)",
                        [no, f"SO-{no}", customer, rep, house, status, sum(q * p for _, q, p in lines), created,
                         shipped])
            for line_no, (sku, qty, price) in enumerate(lines, 1):
                cur.execute("INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price) VALUES (?, ?, ?, ?, ?)",
                            [no, line_no, sku, qty, price])
        set_main_skus(cur, ALL_LINES)
        for order, status, reason, applied in VOIDS:
            cur.execute("INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh,"
                        " requested_at, applied_at) VALUES (?, ?, ?, ?, 'x', 'x', '2026-10-01', ?::TIMESTAMP"
                        " + INTERVAL '12 hours')", [order, f"SO-{order}", status, reason, applied])
            mark_void_requests(cur)   # as the services keep orders.void_requested
        for no, order, reason, created, refund, lines in RETURNS:
            cur.execute("INSERT INTO return_notes (id, return_no, order_id, order_no, status, reason_code,"
                        " reason_label_en, reason_label_zh, warehouse, refund_amount, created_at)"
                        " VALUES (?, ?, ?, ?, 'requested', ?, 'x', 'x', 'SH', ?, ?)",
                        [no, f"RT-{no}", order, f"SO-{order}", reason, refund, created])
            for sku, qty, price in lines:
                cur.execute("INSERT INTO return_lines (return_id, order_line_id, sku, qty, unit_price)"
                            " VALUES (?, 0, ?, ?, ?)", [no, sku, qty, price])
    return users


def table(frame, *keys) -> dict:
    """{key (or tuple of keys): the row's value columns as a tuple}."""
    values = [c for c in frame.columns if c not in keys and not c.endswith("_label")]
    return {(row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)): tuple(row[v] for v in values)
            for _, row in frame.iterrows()}


def run(db, world, dims, measure, grain=None, f=NOV, **kw):
    return pivot(db, world["analyst"], dims, measure, grain, f, **kw)


def test_orders_and_revenue_count_orders_made_in_the_period(db, world):
    assert run(db, world, [], "orders")["orders"][0] == 5
    assert table(run(db, world, ["warehouse"], "orders"), "warehouse") == {"SH": (3,), "GZ": (2,)}
    assert float(run(db, world, [], "revenue")["revenue"][0]) == 460


def test_only_voids_in_effect_count_and_the_basis_picks_the_date(db, world):
    by_event = table(run(db, world, ["warehouse"], "void_rate"), "warehouse")
    assert by_event == {"SH": (1, 3, pytest.approx(1 / 3)), "GZ": (1, 2, 0.5)}
    by_order = table(run(db, world, ["warehouse"], "void_rate", f=replace(NOV, basis="order")),
                     "warehouse")
    assert by_order == {"SH": (1, 3, pytest.approx(1 / 3)), "GZ": (0, 2, 0.0)}
    assert float(run(db, world, [], "voided_value")["voided_value"][0]) == 140


def test_a_rate_by_reason_shares_the_orders_base(db, world):
    rates = table(run(db, world, ["reason"], "void_rate"), "reason")
    assert rates == {"out_of_stock": (1, 5, 0.2), "customer_cancelled": (1, 5, 0.2)}


def test_splitting_by_category_counts_an_order_in_each_of_its_categories(db, world):
    assert table(run(db, world, ["category"], "void_rate"), "category") == {
        "phones": (1, 3, pytest.approx(1 / 3)), "toys": (2, 4, 0.5)}
    values = table(run(db, world, ["category"], "voided_value"), "category")
    assert {k: float(v[0]) for k, v in values.items()} == {"phones": 100, "toys": 40}


def test_returns_split_by_category_share_the_refund_by_line_value(db, world):
    assert list(run(db, world, [], "return_rate").iloc[0]) == [2, 2, 1.0]      # returns, shipped orders, rate
    units = table(run(db, world, ["category"], "units_returned"), "category")
    assert units == {"phones": (2,), "toys": (2,)}
    refunds = table(run(db, world, ["category"], "refunded_value"), "category")
    assert {k: float(v[0]) for k, v in refunds.items()} == {"phones": 140, "toys": 10}
    assert float(run(db, world, [], "refunded_value")["refunded_value"][0]) == 150
    assert run(db, world, [], "units_returned")["units_returned"][0] == 4


def test_filters_narrow_by_reason_category_warehouse_and_rep(db, world):
    only = lambda **kw: replace(NOV, **kw)     # noqa: E731
    assert run(db, world, [], "voids", f=only(reasons=("out_of_stock",)))["voids"][0] == 1
    assert list(run(db, world, [], "void_rate", f=only(reasons=("out_of_stock",))).iloc[0]) == [1, 5, 0.2]
    toys = run(db, world, [], "voided_value", f=only(categories=("toys",)))
    assert float(toys["voided_value"][0]) == 40                # only the toy lines of orders with a toy line
    assert run(db, world, [], "orders", f=only(warehouses=("GZ",)))["orders"][0] == 2
    assert run(db, world, [], "orders", f=only(reps=("rep1",)))["orders"][0] == 2


def test_a_time_grain_adds_the_period_starting_monday(db, world):
    weekly = run(db, world, [], "voids", "week")
    assert [(p.date(), n) for p, n in zip(weekly["period"], weekly["voids"])] == [
        (date(2026, 10, 26), 1), (date(2026, 11, 2), 1)]


def test_labels_are_in_the_language_and_a_missing_rep_says_so(db, world):
    zh = run(db, world, ["warehouse", "reason"], "voids", lang="zh")
    assert set(zh["warehouse_label"]) == {"上海仓", "广州仓"}
    assert set(zh["reason_label"]) == {"缺货", "客户取消"}
    reps = run(db, world, ["rep"], "voids")
    assert dict(zip(reps["rep_label"], reps["voids"])) == {"Rep1": 1, "(none)": 1}
    statuses = run(db, world, ["status"], "orders")
    assert dict(zip(statuses["status"], statuses["status_label"]))["voided"] == i18n.label("status", "voided", "en")


def test_the_result_is_capped_and_says_so(db, world, monkeypatch):
    monkeypatch.setattr(explore, "ROW_CAP", 2)
    frame = run(db, world, ["category", "warehouse"], "orders")
    assert len(frame) == 2 and frame.attrs["capped"] is True
    assert run(db, world, ["warehouse"], "orders").attrs["capped"] is False


@pytest.mark.parametrize("dims, measure, grain, key", [
    (["warehouse; DROP TABLE orders"], "orders", None, "explore.bad_choice"),
    (["o.total"], "orders", None, "explore.bad_choice"),
    (["warehouse"], "count(*) FROM orders --", None, "explore.bad_choice"),
    (["warehouse"], "orders", "week') FROM orders; --", "explore.bad_choice"),
    (["warehouse", "rep", "sku"], "orders", None, "explore.too_many_dimensions"),
    (["warehouse", "warehouse"], "orders", None, "explore.too_many_dimensions"),
    (["reason"], "orders", None, "explore.reason_needs_event"),
])
def test_only_allowed_names_reach_sql(db, world, dims, measure, grain, key):
    with pytest.raises(InvalidInput) as info:
        run(db, world, dims, measure, grain)
    assert info.value.key == key
    assert run(db, world, [], "orders")["orders"][0] == 5


def test_filter_values_are_parameters(db, world):
    sneaky = replace(NOV, warehouses=("SH' OR '1'='1",), reps=("x') OR TRUE --",))
    assert run(db, world, [], "orders", f=sneaky)["orders"][0] == 0
    assert run(db, world, ["warehouse"], "orders", lang="zh'; DROP TABLE orders; --")["warehouse_label"].tolist() \
        == ["Shanghai", "Guangzhou"]


def test_bad_periods_are_refused(db, world):
    with pytest.raises(InvalidInput):
        run(db, world, [], "orders", f=AnalyticsFilters(date(2026, 12, 1), date(2026, 11, 1)))


def test_a_role_without_analytics_is_refused(db, world):
    with pytest.raises(PermissionDenied):
        pivot(db, world["ops"], [], "orders", None, NOV)


# On seeded demo data: the splits add up to the independent totals.

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from lib.db import Database, apply_migrations, rows_as_dicts
    from lib.seed import seed
    from lib.services.auth import user_from_row

    database = Database(str(tmp_path_factory.mktemp("explore") / "demo.duckdb"))
    apply_migrations(database)
    seed(database, orders=600, seed=11, today=clock.today())
    with database.read() as cur:
        analyst = user_from_row(rows_as_dicts(cur, "SELECT * FROM users WHERE username = 'analyst'")[0])
    yield database, analyst
    database.close()


def test_seeded_splits_add_up_to_independent_totals(demo):
    db, analyst = demo
    f = AnalyticsFilters.default(clock.today())
    start, end = f.bounds()
    with db.read() as cur:
        voids = cur.execute("SELECT count(*) FROM voids WHERE status = 'applied' AND applied_at >= ? AND applied_at < ?",
                            [start, end]).fetchall()[0][0]
        refunded = cur.execute("SELECT sum(refund_amount) FROM return_notes WHERE created_at >= ? AND created_at < ?",
                               [start, end]).fetchall()[0][0]
    assert voids > 0 and refunded > 0
    assert pivot(db, analyst, ["reason"], "voids", "week", f)["voids"].sum() == voids
    assert pivot(db, analyst, ["warehouse", "rep"], "voids", None, f)["voids"].sum() == voids
    by_category = pivot(db, analyst, ["category"], "refunded_value", None, f)["refunded_value"].sum()
    assert float(by_category) == pytest.approx(float(refunded), abs=0.05)     # shares rounded per category
    rates = pivot(db, analyst, ["warehouse"], "void_rate", None, f)
    assert (rates["void_rate"] - rates["voids"] / rates["orders"]).abs().max() < 1e-12


def test_the_wide_table_puts_periods_across_with_the_base_beside_each_rate(db, world):
    from lib.ui.explore_view import figure, wide

    frame = run(db, world, ["warehouse"], "void_rate", "month", f=replace(NOV, date_from=date(2026, 10, 1)))
    shown = wide(frame, ["warehouse"], "void_rate", "month", "en")
    assert list(shown.frame.columns) == ["Warehouse", "2026-10-01", "2026-10-01 · Orders", "2026-11-01",
                                         "2026-11-01 · Orders"]
    assert shown.percent == ["2026-10-01", "2026-11-01"]
    gz = shown.frame.set_index("Warehouse").loc["Guangzhou"]
    assert (gz["2026-10-01"], gz["2026-10-01 · Orders"], gz["2026-11-01"]) == (0, 1, 0.5)
    assert figure(frame, ["warehouse"], "void_rate", "month", "zh").layout.title.text == "作废率（按仓库、期间）"


def test_quiet_periods_are_filled_with_zero_for_the_chart_and_table(db, world):
    from lib.ui.explore_view import complete

    starts = explore.period_starts(NOV, "week")
    assert starts[0] == date(2026, 10, 26) and starts[-1] == date(2026, 11, 30) and len(starts) == 6
    full = complete(run(db, world, ["warehouse"], "voids", "week"), ["warehouse"], "voids", starts)
    assert len(full) == 12 and full["voids"].sum() == 2 and full["voids"].dtype == "int64"
    assert explore.period_starts(replace(NOV, date_from=date(2026, 1, 31), date_to=date(2026, 3, 1)), "month") == [
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


DRILLS = [(["reason"], "voids", None, NOV), (["reason"], "voids", "week", NOV),
          (["warehouse", "category"], "voids", None, NOV), (["sku"], "returns", "month", NOV),
          (["customer", "status"], "orders", None, NOV), (["payment_status", "source"], "orders", "week", NOV),
          (["category"], "void_rate", None, NOV), (["warehouse"], "return_rate", "week", NOV),
          (["rep"], "voids", None, replace(NOV, basis="order")), (["reason", "warehouse"], "returns", None, NOV)]


@pytest.mark.parametrize("dims, measure, grain, f", DRILLS)
def test_every_cell_opens_as_many_orders_in_search_as_it_counts(db, world, dims, measure, grain, f):
    from lib.queries.search import search_orders
    from lib.queries.search_filters import SearchFilters
    from lib.ui.explore_view import cells, long_table

    frame = run(db, world, dims, measure, grain, f=f)
    count = explore.RATES.get(measure, (measure,))[0]
    opened = 0
    for cell, expected in zip(cells(frame, dims, grain), frame[count]):
        if any(v is None for v in cell.values()):
            with pytest.raises(InvalidInput):
                explore.drill_params(f, measure, grain, cell)
            continue
        params = explore.drill_params(f, measure, grain, cell)
        found = search_orders(db, world["analyst"], SearchFilters.from_params(params)).total
        assert found == expected, (cell, params)
        opened += 1
    assert opened > 0
    assert long_table(frame, dims, measure, grain, "en").row_cells == cells(frame, dims, grain)


def test_a_wide_table_cell_stands_for_its_row_and_its_column(db, world):
    from lib.ui.explore_view import wide

    f = replace(NOV, date_from=date(2026, 10, 1))
    shown = wide(run(db, world, ["warehouse"], "void_rate", "month", f=f), ["warehouse"], "void_rate", "month", "en")
    gz = list(shown.frame["Warehouse"]).index("Guangzhou")
    assert shown.cell(gz, "2026-10-01 · Orders") == {"warehouse": "GZ", "period": pd.Timestamp("2026-10-01")}
    assert shown.cell(gz, "Warehouse") == {"warehouse": "GZ"}      # the row's label: the whole period
    params = explore.drill_params(f, "void_rate", "month", shown.cell(gz, "2026-11-01"))
    assert params == {"voided_from": "2026-11-01", "voided_to": "2026-11-30", "warehouse": ["GZ"]}
    by_reason = wide(run(db, world, ["warehouse", "reason"], "voids"), ["warehouse", "reason"], "voids", None, "zh")
    column = next(c for c in by_reason.frame.columns if c in by_reason.column_cells)
    assert set(by_reason.cell(0, column)) == {"warehouse", "reason"}


def test_a_combination_that_never_happened_counts_zero_in_the_wide_table(db, world):
    """Issue #16: an empty cell of a count read "None" in the grid; a count of nothing is 0."""
    from lib.ui.explore_view import wide

    shown = wide(run(db, world, ["warehouse", "reason"], "voids"), ["warehouse", "reason"], "voids", None, "en")
    counts = shown.frame[[c for c in shown.frame.columns if c in shown.column_cells]]
    assert (counts == 0).any().any() and not counts.isna().any().any()
    assert all(pd.api.types.is_integer_dtype(counts[c]) for c in counts.columns)


def test_a_missing_value_or_unknown_dimension_cannot_be_drilled(db, world):
    with pytest.raises(InvalidInput) as refused:
        explore.drill_params(NOV, "voids", None, {"rep": None})
    assert "Sales rep" in refused.value.message("en") and "销售" in refused.value.message("zh")
    orders = explore.drill_params(NOV, "orders", "day", {"period": pd.Timestamp("2026-11-03"), "source": "app"})
    assert orders == {"from": "2026-11-03", "to": "2026-11-03", "source": ["app"]}


def test_every_drawn_series_gets_its_own_colour():
    from lib.ui.explore_view import MAX_SERIES, SERIES_COLOURS

    assert len(set(SERIES_COLOURS)) == len(SERIES_COLOURS) >= MAX_SERIES


MASKED = [(["category"], "orders", None, {}), (["category"], "void_rate", "month", {}),
          (["category", "warehouse"], "voids", None, {"categories": ("phones", "toys")}),
          (["reason"], "voids", "week", {"categories": ("phones", "no-such-category")}),
          (["category"], "return_rate", None, {"basis": "order"}),
          (["warehouse"], "orders", None, {"categories": ("toys",)}),
          (["category"], "revenue", "month", {"categories": ("phones",)})]


@pytest.mark.parametrize("dims, measure, grain, narrow", MASKED)
def test_counts_by_category_from_the_order_masks_equal_those_from_the_lines(demo, monkeypatch, dims, measure, grain,
                                                                            narrow):
    db, analyst = demo
    f = replace(AnalyticsFilters(clock.today() - timedelta(days=729), clock.today()), **narrow)
    with db.read() as cur:
        assert explore._category_bits(cur, f) is not None      # the seeded catalogue has a bit per category
    by_mask = pivot(db, analyst, dims, measure, grain, f)
    monkeypatch.setattr(explore, "_category_bits", lambda cur, f: None)
    by_lines = pivot(db, analyst, dims, measure, grain, f)
    assert len(by_mask) > 0
    pd.testing.assert_frame_equal(by_mask, by_lines, check_dtype=False)


MOST_RETURNED = ("<the two categories with the most returned lines>",)


def _most_returned_categories(db, n: int) -> tuple[str, ...]:
    with db.read() as cur:
        rows = cur.execute("SELECT p.category FROM return_lines l JOIN products p ON p.sku = l.sku"
                           " GROUP BY p.category ORDER BY count(*) DESC, p.category LIMIT ?", [n]).fetchall()
    assert len(rows) == n, "the demo should have returns in at least two categories"
    return tuple(row[0] for row in rows)


@pytest.mark.parametrize("dims, measure, categories", [
    (["sku"], "returns", ()), (["category"], "returns", ()), (["customer"], "voids", ()), (["sku"], "voids", ()),
    (["customer"], "orders", ()), (["category"], "void_rate", ()), (["warehouse"], "returns", ("phones", "toys")),
    (["reason"], "voids", ("phones",)), (["category"], "returns", MOST_RETURNED)])
def test_on_seeded_data_every_cell_opens_as_many_orders_as_it_counts(demo, dims, measure, categories):
    """Returns split by what was returned, customers by code (two may share a name), SKUs exactly (PHN-1 is not
    PHN-10): each cell's Search lists its orders and no others."""
    from lib.queries.search import search_orders
    from lib.queries.search_filters import SearchFilters
    from lib.ui.explore_view import cells

    db, analyst = demo
    if categories == MOST_RETURNED:   # which categories saw returns depends on the day the demo was seeded for
        categories = _most_returned_categories(db, 2)
    f = AnalyticsFilters(clock.today() - timedelta(days=729), clock.today(), categories=categories)
    frame = pivot(db, analyst, dims, measure, None, f)
    count = explore.RATES.get(measure, (measure,))[0]
    checked = 0
    for cell, expected in zip(cells(frame, dims, None), frame[count]):
        if None in cell.values() or not expected:
            continue
        search = SearchFilters.from_params(explore.drill_params(f, measure, None, cell))
        assert search_orders(db, analyst, search).total == expected, cell
        checked += 1
    assert checked >= 2
