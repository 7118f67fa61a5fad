"""Dashboards by current reason names or "as recorded" (issue #7): a reason renamed between voids (returns) shows
once under its new name counting all, or twice under the names its records were made with; drill-downs keep the code."""
from argparse import Namespace
from dataclasses import replace
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from lib import charts, clock
from lib.analytics import returns, spikes, voids
from lib.analytics.filters import AnalyticsFilters, reason_code_of
from lib.cli import stats as cli_stats
from lib.errors import InvalidInput
from lib.queries.search import SearchFilters, search_orders
from lib.services import reasons
from lib.services import returns as return_service
from lib.services import voids as void_service
from lib.services.orders import LineInput
from tests.integration import analytics_data as ad
from tests.integration.returns_fixture import shipped_order
from tests.integration.void_helpers import make_order

OLD, NEW = ("Out of stock", "缺货"), ("Sold out", "售罄")
CANCELLED = ("Customer cancelled", "客户取消")
OLD_RETURN, NEW_RETURN = ("Quality problem", "质量问题"), ("Faulty", "有缺陷")
TOY = (("TOY-1", 1),)


def around_today(**changes) -> AnalyticsFilters:
    """This week and tomorrow (the records are made now; a run just before midnight still finds them)."""
    return AnalyticsFilters(clock.today() - timedelta(days=7), clock.today() + timedelta(days=1), **changes)


def void_now(shop, reason: str, n: int) -> list[str]:
    numbers = [make_order(shop, lines=TOY) for _ in range(n)]
    for order_no in numbers:
        assert void_service.void_order(shop.db, shop.users["ops"], order_no, reason)["outcome"] == "voided"
    return numbers


def rename(shop, kind: str, code: str, labels: tuple[str, str]) -> None:
    reasons.update_reason(shop.db, shop.users["admin"], kind, code, label_en=labels[0], label_zh=labels[1])


@pytest.fixture
def renamed(shop):
    """3 voids "Out of stock", 1 "Customer cancelled", then out_of_stock renamed "Sold out", then 2 more voids."""
    void_now(shop, "out_of_stock", 3)
    void_now(shop, "customer_cancelled", 1)
    rename(shop, "void", "out_of_stock", NEW)
    void_now(shop, "out_of_stock", 2)
    return shop.db, shop.users["analyst"]


def by_label(frame: pd.DataFrame, count: str, labels: dict) -> dict[tuple[str, str], int]:
    """(label_en, label_zh) -> count, summed over periods."""
    sums = frame.groupby("reason_code")[count].sum()
    return {labels[key]: int(n) for key, n in sums.items()}


def test_current_names_count_a_renamed_reason_once_under_its_new_name(renamed):
    db, analyst = renamed
    dash = voids.dashboard(db, analyst, around_today(), "month")
    assert by_label(dash.trend, "voids", dash.reason_labels) == {NEW: 5, CANCELLED: 1}
    assert dict(zip(dash.pareto["reason_code"], dash.pareto["voids"])) == {"out_of_stock": 5, "customer_cancelled": 1}


def test_as_recorded_a_renamed_reason_shows_its_old_and_new_names_apart(renamed):
    db, analyst = renamed
    f = around_today(labels="recorded")
    dash = voids.dashboard(db, analyst, f, "month")
    assert by_label(dash.trend, "voids", dash.reason_labels) == {OLD: 3, NEW: 2, CANCELLED: 1}
    pareto = {dash.reason_labels[k]: n for k, n in zip(dash.pareto["reason_code"], dash.pareto["voids"])}
    assert pareto == {OLD: 3, NEW: 2, CANCELLED: 1}
    assert list(dash.pareto["voids"]) == [3, 2, 1] and dash.pareto["cumulative_share"].iloc[-1] == pytest.approx(1)
    assert {reason_code_of(k) for k in dash.pareto["reason_code"]} == {"out_of_stock", "customer_cancelled"}
    assert dash.kpis == voids.dashboard(db, analyst, around_today(), "month").kpis   # KPIs do not group


@pytest.mark.parametrize("language, old, new", [("en", OLD[0], NEW[0]), ("zh", OLD[1], NEW[1])])
def test_the_charts_name_both_entries_in_either_language(renamed, language, old, new):
    db, analyst = renamed
    dash = voids.dashboard(db, analyst, around_today(labels="recorded"), "week", lang=language)
    names = {k: pair[1 if language == "zh" else 0] for k, pair in dash.reason_labels.items()}
    colours = charts.reason_colours(dash.reason_labels)
    bar = charts.pareto(dash.pareto, "voids", names, colours, language, title="t").data[0]
    bars = dict(zip(bar.x, bar.y))
    assert (bars[new], bars[old], len(bars)) == (2, 3, 3)
    trend = charts.stacked_trend(dash.trend, "voids", names, colours, "week", language, title="t")
    assert {t.name: sum(t.y) for t in trend.data} == {new: 2, old: 3, names[_key(dash, "customer_cancelled")]: 1}
    new_key, old_key = (k for k, pair in dash.reason_labels.items() if pair in (NEW, OLD))  # most recent first
    assert colours[new_key] == charts.reason_colours(["out_of_stock"])["out_of_stock"] != colours[old_key]


def _key(dash, code: str) -> str:
    [key] = [k for k in dash.reason_labels if reason_code_of(k) == code]
    return key


def test_a_drill_down_from_either_name_opens_search_with_the_reason_code(renamed):
    db, analyst = renamed
    f = around_today(labels="recorded")
    dash = voids.dashboard(db, analyst, f, "week")
    for key, n in zip(dash.pareto["reason_code"], dash.pareto["voids"]):
        params = f.search_params("void", reason=key)
        assert params["void_reason"] == [reason_code_of(key)]
        found = search_orders(db, analyst, SearchFilters.from_params(params)).total
        assert found == (5 if reason_code_of(key) == "out_of_stock" else 1)   # Search knows codes, not old names
    period, key = dash.trend[["period", "reason_code"]].iloc[0]
    start = pd.Timestamp(period).date()
    assert f.search_params("void", reason=key, period_start=start)["void_reason"] == [reason_code_of(key)]


def test_a_reason_filter_takes_the_code_and_keeps_both_names(renamed):
    db, analyst = renamed
    dash = voids.dashboard(db, analyst, around_today(labels="recorded", reasons=("out_of_stock",)), "week")
    assert by_label(dash.trend, "voids", dash.reason_labels) == {OLD: 3, NEW: 2}


def test_returns_as_recorded(shop):
    def return_now(n: int) -> None:
        for _ in range(n):
            order_no = shipped_order(shop, lines=[LineInput("TOY-1", 1)])
            return_service.create_return(shop.db, shop.users["ops"], order_no, {"TOY-1": 1}, "quality")

    return_now(2)
    rename(shop, "return", "quality", NEW_RETURN)
    return_now(1)
    analyst = shop.users["analyst"]
    current = returns.returns_dashboard(shop.db, analyst, around_today(), "week")
    assert by_label(current.trend, "returns", current.reason_labels) == {NEW_RETURN: 3}
    assert dict(zip(current.reasons["reason_code"], current.reasons["returns"])) == {"quality": 3}
    f = around_today(labels="recorded")
    dash = returns.returns_dashboard(shop.db, analyst, f, "week")
    assert by_label(dash.trend, "returns", dash.reason_labels) == {OLD_RETURN: 2, NEW_RETURN: 1}
    assert by_label(dash.reasons, "returns", dash.reason_labels) == {OLD_RETURN: 2, NEW_RETURN: 1}
    assert dash.reasons["share"].sum() == pytest.approx(1) and dash.kpis == current.kpis
    for key in dash.reasons["reason_code"]:
        assert f.search_params("return", reason=key)["return_reason"] == ["quality"]


def test_the_stats_command_lists_both_names_under_the_code(renamed):
    db, analyst = renamed
    args = Namespace(date_from=around_today().date_from.isoformat(), date_to=around_today().date_to.isoformat(),
                     basis="event", labels="recorded", reason=None, category=None, warehouse=None, rep=None)
    rows = cli_stats.stats_rows(db, analyst, cli_stats.filters_from_args(args), "voids", "reason", "month")
    got: dict = {}
    for r in rows:
        key = (r["key"], r["label_en"], r["label_zh"])
        got[key] = got.get(key, 0) + r["count"]
    assert got == {("out_of_stock", *OLD): 3, ("out_of_stock", *NEW): 2, ("customer_cancelled", *CANCELLED): 1}
    assert "out_of_stock (Sold out)" in cli_stats.format_rows(rows)
    current = cli_stats.filters_from_args(Namespace(**{**vars(args), "labels": "current"}))
    plain = cli_stats.stats_rows(db, analyst, current, "voids", "reason", "month")
    assert {r["key"] for r in plain} == {"out_of_stock", "customer_cancelled"} and "label_en" not in plain[0]
    with pytest.raises(InvalidInput) as info:
        cli_stats.filters_from_args(Namespace(**{**vars(args), "labels": "historic"}))
    assert info.value.key == "analytics.bad_labels"


def test_the_stats_command_takes_labels():
    from lib.cli import build_parser

    args = build_parser().parse_args(["stats", "voids", "--labels", "recorded", "--user", "analyst"])
    assert args.labels == "recorded"


# --- spikes ------------------------------------------------------------------------------------

SPIKE_START = datetime(2024, 1, 1)     # a Monday; ten weeks of voids of one reason


@pytest.fixture
def steady_then_renamed(tmp_path):
    """12 voids a week for nine weeks under the old name; in the tenth the reason reads "Sold out" (12 voids, or 40)."""
    desk = ad.build_desk(tmp_path / "spikes.duckdb")

    def load(last_week: int) -> None:
        book = ad.Book()
        for week in range(10):
            for i in range(12 if week < 9 else last_week):
                at = SPIKE_START + timedelta(weeks=week, hours=2 + i)
                order = ad.Order(f"SP-{week}-{i}", "CUS-1", "sales", "SH", at, [["TOY-1", 1, 0]])
                book.orders.append(order)
                book.voids.append(ad.Void(order, "applied", "out_of_stock", at, False, None, at))
        ad.insert_book(desk.db, book)
        with desk.db.transaction() as cur:
            cur.execute("UPDATE voids SET reason_label_en = 'Out of stock', reason_label_zh = '缺货'")
            cur.execute("UPDATE voids SET reason_label_en = ?, reason_label_zh = ? WHERE applied_at >= ?",
                        [*NEW, SPIKE_START + timedelta(weeks=9)])
    yield desk, load
    desk.db.close()


LAST_WEEK = AnalyticsFilters(date(2024, 3, 4), date(2024, 3, 10))


@pytest.mark.parametrize("scoped", [False, True])
def test_a_rename_alone_raises_no_spike_as_recorded(steady_then_renamed, scoped):
    desk, load = steady_then_renamed
    load(12)
    f = replace(LAST_WEEK, labels="recorded", warehouses=("SH",) if scoped else ())
    assert spikes.spikes(desk.db, desk.analyst, f) == []


@pytest.mark.parametrize("scoped", [False, True])
def test_a_real_spike_is_judged_by_code_and_named_as_recorded(steady_then_renamed, scoped):
    desk, load = steady_then_renamed
    load(40)
    f = replace(LAST_WEEK, warehouses=("SH",) if scoped else ())
    [current] = spikes.spikes(desk.db, desk.analyst, f)
    [recorded] = spikes.spikes(desk.db, desk.analyst, replace(f, labels="recorded"))
    assert current.reason_code == "out_of_stock" and reason_code_of(recorded.reason_code) == "out_of_stock"
    assert replace(recorded, reason_code="out_of_stock") == current
    assert voids.reason_labels(desk.db, "void", "recorded")[recorded.reason_code] == NEW


# --- validation ----------------------------------------------------------------------------------

def test_labels_round_trip_through_the_url():
    f = around_today(labels="recorded")
    assert f.to_params()["labels"] == "recorded"
    assert AnalyticsFilters.from_params(f.to_params(), clock.today()) == f
    assert "labels" not in around_today().to_params()


def test_a_bad_labels_value_is_refused_with_a_clear_message(shop):
    with pytest.raises(InvalidInput) as info:
        voids.dashboard(shop.db, shop.users["analyst"], around_today(labels="historic"))
    assert info.value.key == "analytics.bad_labels"
    assert "historic" in info.value.message("zh") and "recorded" in info.value.message("en")
    with pytest.raises(InvalidInput):
        AnalyticsFilters.from_params({"labels": "historic"}, clock.today())
    assert around_today(labels=" Recorded ").cleaned().labels == "recorded"
    assert AnalyticsFilters.from_params({"labels": ""}, clock.today()).labels == "current"
