"""The void dashboard's numbers (SPEC §8) against answers computed in plain Python from the same hand-made rows."""
import statistics
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from lib.analytics import voids
from lib.analytics.filters import AnalyticsFilters
from lib.errors import InvalidInput, PermissionDenied
from tests.integration import analytics_data as ad

MARCH = AnalyticsFilters(date(2024, 3, 1), date(2024, 3, 31))
FEBRUARY = AnalyticsFilters(date(2024, 1, 30), date(2024, 2, 29))   # the 31 days before March
VARIANTS = {
    "plain": MARCH,
    "order_basis": replace(MARCH, basis="order"),
    "reasons": replace(MARCH, reasons=("customer_cancelled", "out_of_stock")),
    "category": replace(MARCH, categories=("toys",)),
    "warehouse": replace(MARCH, warehouses=("GZ",)),
    "rep": replace(MARCH, reps=("sales2",)),
    "everything": replace(MARCH, basis="order", categories=("phones",), warehouses=("SH",), reps=("sales",),
                          reasons=("customer_cancelled", "order_error", "payment_failed")),
    "quarter": AnalyticsFilters(date(2024, 1, 1), date(2024, 4, 30)),
}
LABELS = {"rep": {"sales": "Sales", "sales2": "Sales2"}, "customer": {"CUS-1": "Acme Trading 艾克美", "CUS-2": "Beta Retail"},
          "warehouse": {"SH": "Shanghai", "GZ": "Guangzhou"}, "category": {"phones": "Phones", "toys": "Toys"},
          "sku": {"PHN-1": "Phone One", "PHN-2": "Phone Two", "TOY-1": "Robot 机器人", "OLD-1": "Retired thing"}}


@pytest.fixture(scope="module")
def book():
    return ad.make_book()


@pytest.fixture(scope="module", params=["in_time_order", "shuffled_ids"])
def desk(tmp_path_factory, book, request):
    """The book in a database shared by the read-only tests; once with ids in creation order (as real data), once
    with ids shuffled (the queries may then not use the shortcuts of contiguous id ranges)."""
    desk = ad.build_desk(tmp_path_factory.mktemp("analytics") / "desk.duckdb")
    ad.insert_book(desk.db, book, shuffled=request.param == "shuffled_ids")
    yield desk
    desk.db.close()


@pytest.fixture
def own_desk(shop, book):
    """The book in this test's own database (for tests that change data)."""
    ad.insert_book(shop.db, book)
    return shop.db, shop.users["analyst"]


def test_the_book_covers_what_the_tests_need(book):
    statuses = {v.status for v in book.voids}
    assert statuses == {"applied", "restored", "rejected", "pending_approval"}
    assert {ad.bucket_of(ad.hours(v.order.created, v.requested)) for v in book.voids} == {b for b, _ in ad.BUCKETS}
    march = ad.counted_voids(book, MARCH)
    assert len(march) >= 15 and any(v.order.created.month == 2 for v in march)   # basis matters
    assert any(v.refund and v.refund[1] == "pending" for v in march)


def expected_kpis(book, f) -> dict:
    orders, counted = ad.period_orders(book, f), ad.counted_voids(book, f)
    return {"orders": len(orders), "voids": len(counted),
            "void_rate": len(counted) / len(orders) if orders else None,
            "voided_value": sum(v.order.total for v in counted),
            "refunds_owed": sum(v.refund[0] for v in counted if v.refund and v.refund[1] == "pending"),
            "stock_released": sum(q - s for v in counted for _, q, s in v.order.lines)}


def assert_kpis(got: dict, want: dict) -> None:
    assert list(got) == list(voids.KPI_KEYS)
    for key, value in want.items():
        assert got[key] == (None if value is None else pytest.approx(float(value))), key


@pytest.mark.parametrize("variant", VARIANTS)
def test_kpis_of_the_period_and_the_one_before(desk, book, variant):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]
    got = voids.kpis(db, analyst, f)
    assert_kpis(got["current"], expected_kpis(book, f))
    assert_kpis(got["previous"], expected_kpis(book, f.previous()))


def test_previous_period_is_the_equal_length_before(desk, book):
    db, analyst = desk.db, desk.analyst
    assert MARCH.previous() == FEBRUARY
    assert voids.kpis(db, analyst, MARCH)["previous"] == voids.kpis(db, analyst, FEBRUARY)["current"]


@pytest.mark.parametrize("grain", ["day", "week", "month"])
@pytest.mark.parametrize("variant", ["plain", "order_basis", "everything", "quarter"])
def test_trend_per_period_and_reason(desk, book, variant, grain):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]
    want: dict = {}
    for v in ad.counted_voids(book, f):
        key = (ad.period_start(ad.void_date(v, f), grain), v.reason)
        count, value = want.get(key, (0, 0))
        want[key] = (count + 1, value + v.order.total)
    got = voids.trend(db, analyst, f, grain)
    assert list(got.columns) == ["period", "reason_code", "voids", "value"]
    assert {(pd.Timestamp(p).date(), r): (n, pytest.approx(float(x))) for p, r, n, x in got.itertuples(index=False)} \
        == want
    assert list(got["period"]) == sorted(got["period"])


@pytest.mark.parametrize("variant", ["plain", "reasons", "quarter"])
def test_pareto_shares_add_up_in_order(desk, book, variant):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]
    counts: dict = {}
    for v in ad.counted_voids(book, f):
        counts[v.reason] = counts.get(v.reason, 0) + 1
    total = sum(counts.values())
    got = voids.pareto(db, analyst, f)
    assert list(got.columns) == ["reason_code", "voids", "share", "cumulative_share"]
    assert dict(zip(got["reason_code"], got["voids"])) == counts
    assert list(got["voids"]) == sorted(got["voids"], reverse=True)
    running = 0
    for reason, n, share, cumulative in got.itertuples(index=False):
        running += n
        assert share == pytest.approx(n / total) and cumulative == pytest.approx(running / total)
    assert got["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def dimension_keys(o: ad.Order, dimension: str) -> list[str]:
    return {"rep": [o.rep], "customer": [o.customer], "warehouse": [o.warehouse], "category": sorted(o.categories),
            "sku": [s for s, _, _ in o.lines]}[dimension]


def expected_rates(book, f, dimension: str) -> dict:
    orders: dict = {}
    counted: dict = {}
    for o in ad.period_orders(book, f):
        for k in dimension_keys(o, dimension):
            orders[k] = orders.get(k, 0) + 1
    for v in ad.counted_voids(book, f):
        for k in dimension_keys(v.order, dimension):
            counted[k] = counted.get(k, 0) + 1
    keys = set(orders) | set(counted)
    if f.categories and dimension in ("category", "sku"):
        keys = {k for k in keys if (k if dimension == "category" else ad.CATEGORY[k]) in f.categories}
    return {k: (LABELS[dimension][k], orders.get(k, 0), counted.get(k, 0),
                counted.get(k, 0) / orders[k] if orders.get(k) else None, ad.wilson(counted.get(k, 0), orders.get(k, 0)))
            for k in keys}


def approx_or_none(value):
    return None if value is None else pytest.approx(value)


@pytest.mark.parametrize("dimension", ["category", "sku", "rep", "customer", "warehouse"])
@pytest.mark.parametrize("variant", ["plain", "order_basis", "category", "everything", "quarter"])
def test_rates_by_dimension_ranked_by_the_wilson_lower_bound(desk, book, variant, dimension):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]
    got = voids.rates_by(db, analyst, f, dimension)
    assert list(got.columns) == ["key", "label", "orders", "voids", "rate", "score"]
    want = expected_rates(book, f, dimension)
    rows = {r.key: (r.label, r.orders, r.voids, None if pd.isna(r.rate) else r.rate, None if pd.isna(r.score) else r.score)
            for r in got.itertuples(index=False)}
    assert rows == {k: (label, n, v, approx_or_none(rate), approx_or_none(score))
                    for k, (label, n, v, rate, score) in want.items()}
    scores = [s for s in got["score"] if not pd.isna(s)]
    assert scores == sorted(scores, reverse=True) and got["score"].isna().sum() == len(got) - len(scores)


def test_rates_limit_keeps_the_best_scores(desk, book):
    db, analyst = desk.db, desk.analyst
    everything = voids.rates_by(db, analyst, MARCH, "sku")
    assert list(voids.rates_by(db, analyst, MARCH, "sku", limit=2)["key"]) == list(everything["key"][:2])


def test_a_tiny_base_does_not_outrank_a_large_one(shop):
    """One void out of one order (100 %) ranks below 30 out of 100 (30 %): the Wilson bound of 1/1 is 0.21."""
    from tests.integration.orders_fixture import add_customer

    add_customer(shop.db, "CUS-3", "Tiny")
    big = ad.Order("BIG", "CUS-1", "sales", "SH", ad.START, [["TOY-1", 1, 0]])
    book = ad.Book()
    for i in range(100):
        book.orders.append(replace(big, no=f"BIG-{i}", created=ad.START + timedelta(days=1, minutes=i)))
    book.orders.append(replace(big, no="TINY", customer="CUS-3", created=ad.START.replace(day=3)))
    for o in book.orders[70:]:
        book.voids.append(ad.Void(o, "applied", "other", o.created, False, None, o.created.replace(hour=5)))
    ad.insert_book(shop.db, book)
    got = voids.rates_by(shop.db, shop.users["analyst"], AnalyticsFilters(date(2024, 1, 1), date(2024, 1, 31)),
                         "customer")
    assert list(got["key"]) == ["CUS-1", "CUS-3"]
    assert list(got["rate"]) == [pytest.approx(0.30), 1.0]
    assert got["score"].iloc[1] == pytest.approx(ad.wilson(1, 1)) and ad.wilson(1, 1) < 0.25


@pytest.mark.parametrize("variant", ["plain", "order_basis", "category", "quarter"])
def test_heatmap_cells_by_category_and_month(desk, book, variant):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]
    want: dict = {}
    for o in ad.period_orders(book, f):
        for c in o.categories:
            key = (c, o.created.date().replace(day=1))
            want[key] = [want.get(key, [0, 0])[0] + 1, want.get(key, [0, 0])[1]]
    for v in ad.counted_voids(book, f):
        for c in v.order.categories:
            key = (c, ad.void_date(v, f).date().replace(day=1))
            want[key] = [want.get(key, [0, 0])[0], want.get(key, [0, 0])[1] + 1]
    want = {k: v for k, v in want.items() if not f.categories or k[0] in f.categories}
    got = voids.heatmap(db, analyst, f)
    assert list(got.columns) == ["category", "label", "month", "orders", "voids", "rate"]
    assert {(c, pd.Timestamp(m).date()): [n, v] for c, _, m, n, v, _ in got.itertuples(index=False)} == want
    for c, label, _, n, v, rate in got.itertuples(index=False):
        assert label == LABELS["category"][c]
        assert (pd.isna(rate) and n == 0) or rate == pytest.approx(v / n)


@pytest.mark.parametrize("count", [40, 130])
def test_heatmap_holds_with_many_categories(own_desk, count):
    """A catalogue wider than a 31-bit mask (BIGINT), or than any mask (distinct pairs), gives the same cells."""
    db, analyst = own_desk
    before = voids.heatmap(db, analyst, MARCH)
    with db.transaction() as cur:
        cur.execute("INSERT INTO categories SELECT 'c' || lpad(i::VARCHAR, 3, '0'), 'C', 'C', 0 FROM generate_series(0, ?::BIGINT - 1) r(i)",
                    [count])
    pd.testing.assert_frame_equal(voids.heatmap(db, analyst, MARCH), before)


@pytest.mark.parametrize("variant", ["plain", "order_basis", "rep"])
def test_time_from_order_to_void_request(desk, book, variant):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]
    spans = [ad.hours(v.order.created, v.requested) for v in ad.counted_voids(book, f)]
    got = voids.time_to_void(db, analyst, f)
    assert list(got["bucket"]) == list(voids.BUCKETS)
    assert dict(zip(got["bucket"], got["voids"])) == {b: sum(ad.bucket_of(h) == b for h in spans) for b in voids.BUCKETS}
    assert voids.time_to_void_median_hours(db, analyst, f) == pytest.approx(statistics.median(spans))


@pytest.mark.parametrize("variant", ["plain", "order_basis", "category", "everything", "quarter"])
def test_approval_turnaround(desk, book, variant):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]
    ok = lambda v: ad.in_scope(v.order, f) and (not f.reasons or v.reason in f.reasons)  # noqa: E731
    when = lambda v: v.decided if f.basis == "event" else v.order.created  # noqa: E731
    decided = [v for v in book.voids if v.needs_approval and v.decided and ok(v) and ad.in_days(when(v), f.date_from,
                                                                                                 f.date_to)]
    waits = [ad.hours(v.requested, v.decided) for v in decided]
    got = voids.approval_turnaround(db, analyst, f)
    assert got == {"decided": len(decided), "median_hours": approx_or_none(ad.quantile(waits, 0.5)),
                   "p90_hours": approx_or_none(ad.quantile(waits, 0.9)),
                   "approved": sum(v.status != "rejected" for v in decided),
                   "rejected": sum(v.status == "rejected" for v in decided),
                   "pending_now": sum(v.status == "pending_approval" and ok(v) for v in book.voids)}
    assert got["rejected"] > 0 or variant == "everything"


def test_an_empty_period_has_no_rates_and_no_division_by_zero(desk):
    db, analyst = desk.db, desk.analyst
    f = AnalyticsFilters(date(2030, 1, 1), date(2030, 1, 31))
    dash = voids.dashboard(db, analyst, f, "week")
    assert dash.kpis["current"] == {"orders": 0, "voids": 0, "void_rate": None, "voided_value": 0,
                                    "refunds_owed": 0, "stock_released": 0}
    assert dash.trend.empty and dash.pareto.empty and dash.heatmap.empty and not dash.spikes
    assert all(frame.empty for frame in dash.rates.values())
    assert list(dash.time_to_void["voids"]) == [0] * 5 and dash.time_to_void_median_hours is None
    assert dash.approval["decided"] == 0 and dash.approval["median_hours"] is None


def test_dashboard_bundles_the_single_queries(desk, book):
    db, analyst = desk.db, desk.analyst
    f = VARIANTS["everything"]
    dash = voids.dashboard(db, analyst, f, "month", lang="zh")
    assert dash.kpis == voids.kpis(db, analyst, f)
    pd.testing.assert_frame_equal(dash.trend, voids.trend(db, analyst, f, "month"))
    pd.testing.assert_frame_equal(dash.pareto, voids.pareto(db, analyst, f), check_dtype=False)
    pd.testing.assert_frame_equal(dash.heatmap, voids.heatmap(db, analyst, f, lang="zh"))
    for dimension, frame in dash.rates.items():
        pd.testing.assert_frame_equal(frame, voids.rates_by(db, analyst, f, dimension, lang="zh"), check_dtype=False)
    assert dash.approval == voids.approval_turnaround(db, analyst, f)
    assert set(dash.heatmap["label"]) <= {"手机", "玩具"}


def test_only_analysts_leads_and_admins_see_the_numbers(desk):
    db, users = desk.db, desk.users
    for role in ("ops_lead", "admin"):
        assert voids.kpis(db, users[role], MARCH)["current"]["orders"] > 0
    for role in ("sales", "ops", "finance", "warehouse"):
        with pytest.raises(PermissionDenied):
            voids.dashboard(db, users[role], MARCH)


@pytest.mark.parametrize("call", [lambda db, u: voids.trend(db, u, MARCH, "year"),
                                  lambda db, u: voids.rates_by(db, u, MARCH, "colour"),
                                  lambda db, u: voids.kpis(db, u, replace(MARCH, date_to=date(2024, 2, 1))),
                                  lambda db, u: voids.kpis(db, u, replace(MARCH, basis="shipping"))])
def test_bad_input_is_refused_with_a_message(desk, call):
    db, analyst = desk.db, desk.analyst
    with pytest.raises(InvalidInput) as info:
        call(db, analyst)
    assert info.value.message("zh") != info.value.key


def test_reason_labels_come_from_the_catalogue_or_the_latest_copy(own_desk):
    db, _ = own_desk
    with db.transaction() as cur:
        cur.execute("UPDATE reasons SET label_en = 'Customer changed plans' WHERE code = 'customer_cancelled'")
    labels = voids.reason_labels(db, "void")
    assert labels["customer_cancelled"] == ("Customer changed plans", "客户取消")
    assert labels["legacy_code"] == ("Old wording", "旧说法")      # no longer in the catalogue
    assert voids.reason_labels(db, "return")["quality"] == ("Quality problem", "质量问题")


@pytest.mark.parametrize("variant", ["plain", "order_basis", "reasons", "category", "warehouse", "rep"])
def test_drill_down_lists_the_orders_behind_each_number(desk, variant):
    """The Search page, given search_params, finds as many orders as the dashboard counted (one void per order)."""
    from lib.queries.search import SearchFilters, search_orders

    db, analyst = desk.db, desk.analyst
    f = VARIANTS[variant]

    def found(**narrow) -> int:
        return search_orders(db, analyst, SearchFilters.from_params(f.search_params("void", **narrow))).total

    assert found() == voids.kpis(db, analyst, f)["current"]["voids"]
    for period, reason, n, _ in voids.trend(db, analyst, f, "week").itertuples(index=False):
        week = pd.Timestamp(period).date()
        assert found(reason=reason, period_start=week, period_end=week + timedelta(days=6)) == n
    for dimension in ("rep", "warehouse", "sku", "category"):
        for key, n in voids.rates_by(db, analyst, f, dimension)[["key", "voids"]].itertuples(index=False):
            assert found(**{dimension: key}) == n, (dimension, key)
