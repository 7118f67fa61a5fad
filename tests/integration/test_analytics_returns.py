"""The returns dashboard's numbers (SPEC §8) against answers computed in plain Python from the same hand-made rows."""
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from lib.analytics import returns
from lib.analytics.filters import AnalyticsFilters
from lib.errors import InvalidInput, PermissionDenied
from tests.integration import analytics_data as ad

MARCH = AnalyticsFilters(date(2024, 3, 1), date(2024, 3, 31))
VARIANTS = {
    "plain": MARCH,
    "order_basis": replace(MARCH, basis="order"),
    "reasons": replace(MARCH, reasons=("quality", "damaged")),
    "category": replace(MARCH, categories=("toys",)),
    "warehouse_rep": replace(MARCH, warehouses=("SH",), reps=("sales2",)),
    "quarter": AnalyticsFilters(date(2024, 1, 1), date(2024, 4, 30)),
}
LABELS = {"phones": "Phones", "toys": "Toys", "PHN-1": "Phone One", "PHN-2": "Phone Two", "TOY-1": "Robot 机器人",
          "OLD-1": "Retired thing"}


@pytest.fixture(scope="module")
def book():
    return ad.make_book()


@pytest.fixture(scope="module", params=["in_time_order", "shuffled_ids"])
def desk(tmp_path_factory, book, request):
    desk = ad.build_desk(tmp_path_factory.mktemp("returns") / "desk.duckdb")
    ad.insert_book(desk.db, book, shuffled=request.param == "shuffled_ids")
    yield desk
    desk.db.close()


def shipped(book, f) -> list[ad.Order]:
    when = (lambda o: o.shipped) if f.basis == "event" else (lambda o: o.created if o.shipped else None)
    return [o for o in book.orders if ad.in_days(when(o), f.date_from, f.date_to) and ad.in_scope(o, f)]


def counted(book, f) -> list[ad.Return]:
    when = (lambda r: r.created) if f.basis == "event" else (lambda r: r.order.created)
    return [r for r in book.returns if ad.in_days(when(r), f.date_from, f.date_to) and ad.in_scope(r.order, f)
            and (not f.reasons or r.reason in f.reasons)]


def refund(r: ad.Return) -> float:
    return r.refund[0] if r.refund and r.refund[1] != "cancelled" else 0


def expected_kpis(book, f) -> dict:
    ships, notes = shipped(book, f), counted(book, f)
    return {"shipped_orders": len(ships), "returns": len(notes),
            "return_rate": len(notes) / len(ships) if ships else None,
            "units_returned": sum(q for r in notes for _, q, _ in r.lines),
            "value_refunded": sum(refund(r) for r in notes)}


def test_the_book_has_returns_in_march(book):
    notes = counted(book, MARCH)
    assert len(notes) >= 8 and {d for r in notes for _, _, d in r.lines} == {"restock", "repair", "scrap", None}
    assert {r.refund[1] for r in notes if r.refund} == {"pending", "paid", "cancelled"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_returns_dashboard_numbers(desk, book, variant):
    f = VARIANTS[variant]
    dash = returns.returns_dashboard(desk.db, desk.analyst, f, "week")
    for period, want in (("current", expected_kpis(book, f)), ("previous", expected_kpis(book, f.previous()))):
        got = dash.kpis[period]
        assert list(got) == list(returns.KPI_KEYS)
        assert got == {k: (None if v is None else pytest.approx(float(v))) for k, v in want.items()}
    notes = counted(book, f)
    assert_trend(dash.trend, notes, f, "week")
    assert_reasons(dash.reasons, notes)
    units = {d: sum(q for r in notes for _, q, disp in r.lines if (disp or "pending") == d) for d in returns.DISPOSITIONS}
    assert dict(zip(dash.dispositions["disposition"], dash.dispositions["units"])) == units
    assert list(dash.dispositions["disposition"]) == list(returns.DISPOSITIONS)
    assert_rates(dash.rates_by_category, book, f, lambda sku: ad.CATEGORY[sku])
    assert_rates(dash.rates_by_sku, book, f, lambda sku: sku)


def assert_trend(got: pd.DataFrame, notes: list, f, grain: str) -> None:
    want: dict = {}
    for r in notes:
        key = (ad.period_start(r.created if f.basis == "event" else r.order.created, grain), r.reason)
        n, value = want.get(key, (0, 0))
        want[key] = (n + 1, value + refund(r))
    assert list(got.columns) == ["period", "reason_code", "returns", "value"]
    assert {(pd.Timestamp(p).date(), c): (n, pytest.approx(float(v))) for p, c, n, v in got.itertuples(index=False)} \
        == want


def assert_reasons(got: pd.DataFrame, notes: list) -> None:
    want: dict = {}
    for r in notes:
        n, units = want.get(r.reason, (0, 0))
        want[r.reason] = (n + 1, units + sum(q for _, q, _ in r.lines))
    assert list(got.columns) == ["reason_code", "returns", "units", "share"]
    assert {c: (n, u) for c, n, u, _ in got.itertuples(index=False)} == want
    assert list(got["share"]) == [pytest.approx(n / len(notes)) for n in got["returns"]]
    assert list(got["returns"]) == sorted(got["returns"], reverse=True)


def assert_rates(got: pd.DataFrame, book, f, key_of) -> None:
    sold: dict = {}
    back: dict = {}
    for o in shipped(book, f):
        for sku, _, qty in o.lines:
            sold[key_of(sku)] = sold.get(key_of(sku), 0) + qty
    for r in counted(book, f):
        for sku, qty, _ in r.lines:
            back[key_of(sku)] = back.get(key_of(sku), 0) + qty
    keys = {k for k in set(sold) | set(back) if not f.categories or (ad.CATEGORY.get(k) or k) in f.categories}
    assert list(got.columns) == ["key", "label", "units_sold", "units_returned", "rate", "score"]
    rows = {r.key: (r.label, r.units_sold, r.units_returned, None if pd.isna(r.rate) else r.rate,
                    None if pd.isna(r.score) else r.score) for r in got.itertuples(index=False)}
    assert rows == {k: (LABELS[k], sold.get(k, 0), back.get(k, 0),
                        pytest.approx(back.get(k, 0) / sold[k]) if sold.get(k) else None,
                        pytest.approx(ad.wilson(back.get(k, 0), sold[k])) if sold.get(k) else None) for k in keys}
    scores = [s for s in got["score"] if not pd.isna(s)]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("grain", ["day", "month"])
def test_single_queries_match_the_dashboard(desk, book, grain):
    f = VARIANTS["quarter"]
    dash = returns.returns_dashboard(desk.db, desk.analyst, f, grain, lang="zh")
    assert dash.kpis == returns.kpis(desk.db, desk.analyst, f)
    pd.testing.assert_frame_equal(dash.trend, returns.trend(desk.db, desk.analyst, f, grain))
    pd.testing.assert_frame_equal(dash.rates_by_category, returns.rates_by(desk.db, desk.analyst, f, "category",
                                                                          lang="zh"))
    assert set(dash.rates_by_category["label"]) == {"手机", "玩具"}
    assert_trend(dash.trend, counted(book, f), f, grain)
    base = returns.shipped_by_period(desk.db, desk.analyst, f, grain)
    want: dict = {}
    for o in shipped(book, f):
        day = ad.period_start(o.shipped, grain)
        want[day] = want.get(day, 0) + 1
    assert {pd.Timestamp(p).date(): n for p, n in base.itertuples(index=False)} == want


def test_an_empty_period_gives_no_rates(desk):
    f = AnalyticsFilters(date(2031, 1, 1), date(2031, 3, 31))
    dash = returns.returns_dashboard(desk.db, desk.analyst, f)
    assert dash.kpis["current"] == {"shipped_orders": 0, "returns": 0, "return_rate": None, "units_returned": 0,
                                    "value_refunded": 0}
    assert dash.trend.empty and dash.reasons.empty and dash.rates_by_sku.empty and not dash.spikes
    assert list(dash.dispositions["units"]) == [0, 0, 0, 0]


def test_returns_dashboard_needs_the_analytics_permission(desk):
    with pytest.raises(PermissionDenied):
        returns.returns_dashboard(desk.db, desk.users["warehouse"], MARCH)
    with pytest.raises(InvalidInput):
        returns.rates_by(desk.db, desk.analyst, MARCH, "rep")


def test_return_reason_labels_include_the_catalogue(desk):
    dash = returns.returns_dashboard(desk.db, desk.analyst, MARCH)
    assert dash.reason_labels["damaged"] == ("Damaged in transit", "运输损坏")


@pytest.mark.parametrize("variant", ["plain", "order_basis", "category", "warehouse_rep"])
def test_drill_down_finds_the_orders_behind_the_returns(desk, variant):
    from lib.queries.search import SearchFilters, search_orders

    f = VARIANTS[variant]
    dash = returns.returns_dashboard(desk.db, desk.analyst, f)
    for reason, n in dash.reasons[["reason_code", "returns"]].itertuples(index=False):
        search = SearchFilters.from_params(f.search_params("return", reason=reason))
        assert search_orders(desk.db, desk.analyst, search).total == n
