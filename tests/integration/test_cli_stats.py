"""`python -m lib.cli stats voids|returns` (SPEC §11): its JSON rows carry the dashboard functions' numbers."""
import json
from datetime import date

import pandas as pd
import pytest

from lib.analytics import returns, voids
from lib.analytics.filters import AnalyticsFilters
from lib.db import connect
from tests.integration import analytics_data as ad
from tests.integration.cli_helpers import cli

MARCH = AnalyticsFilters(date(2024, 3, 1), date(2024, 3, 31))
PERIOD = ["--from", "2024-03-01", "--to", "2024-03-31"]


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """The hand-made book in a file, closed: the CLI and `expected` each open it with a handle of their own."""
    desk = ad.build_desk(tmp_path_factory.mktemp("stats") / "stats.duckdb")
    ad.insert_book(desk.db, ad.make_book())
    desk.db.close()
    return desk


def expected(desk, fn):
    db = connect(desk.db.path)   # the backend the desk is on
    try:
        return fn(db, desk.analyst)
    finally:
        db.close()


def stats(desk, *args):
    return cli(desk.db.path, "stats", *args)


def rows_of(run) -> list[dict]:
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_voids_by_reason_per_period(desk, grain):
    rows = rows_of(stats(desk, "voids", *PERIOD, "--grain", grain, "--user", "analyst", "--json"))
    trend = expected(desk, lambda db, u: voids.trend(db, u, MARCH, grain))
    bases = expected(desk, lambda db, u: voids.orders_by_period(db, u, MARCH, grain))
    base = {pd.Timestamp(p).date().isoformat(): n for p, n in bases.itertuples(index=False)}
    assert [list(r) for r in rows] == [["period", "key", "count", "value", "rate"]] * len(rows)
    assert [(r["period"], r["key"], r["count"]) for r in rows] == [
        (pd.Timestamp(p).date().isoformat(), c, n) for p, c, n, _ in trend.itertuples(index=False)]
    assert [r["value"] for r in rows] == [pytest.approx(float(v)) for v in trend["value"]]
    assert [r["rate"] for r in rows] == [pytest.approx(r["count"] / base[r["period"]]) if base.get(r["period"])
                                         else None for r in rows]
    assert sum(r["count"] for r in rows) == expected(desk, lambda db, u: voids.kpis(db, u, MARCH))["current"]["voids"]


@pytest.mark.parametrize("by", ["category", "sku", "rep", "customer", "warehouse"])
def test_voids_by_dimension(desk, by):
    rows = rows_of(stats(desk, "voids", *PERIOD, "--by", by, "--user", "analyst", "--json"))
    frame = expected(desk, lambda db, u: voids.rates_by(db, u, MARCH, by))
    assert [(r["period"], r["key"], r["count"], r["base"], r["label"]) for r in rows] == [
        ("2024-03-01/2024-03-31", k, n, b, label) for k, label, b, n in frame[["key", "label", "orders", "voids"]]
        .itertuples(index=False)]
    assert [r["rate"] for r in rows] == [None if pd.isna(x) else pytest.approx(x) for x in frame["rate"]]


def test_filters_and_basis_reach_the_numbers(desk):
    args = ["voids", *PERIOD, "--by", "warehouse", "--basis", "order", "--reason", "customer_cancelled",
            "--category", "toys", "--rep", "sales2", "--user", "analyst", "--json"]
    f = AnalyticsFilters(date(2024, 3, 1), date(2024, 3, 31), "order", ("customer_cancelled",), ("toys",), (),
                         ("sales2",))
    frame = expected(desk, lambda db, u: voids.rates_by(db, u, f, "warehouse"))
    assert [(r["key"], r["count"], r["base"]) for r in rows_of(stats(desk, *args))] == list(
        frame[["key", "voids", "orders"]].itertuples(index=False, name=None))


def test_returns_by_reason_and_by_category(desk):
    rows = rows_of(stats(desk, "returns", *PERIOD, "--grain", "month", "--user", "analyst", "--json"))
    trend = expected(desk, lambda db, u: returns.trend(db, u, MARCH, "month"))
    assert [(r["key"], r["count"], r["value"]) for r in rows] == [
        (c, n, pytest.approx(float(v))) for _, c, n, v in trend.itertuples(index=False)]
    shipped = expected(desk, lambda db, u: returns.kpis(db, u, MARCH))["current"]["shipped_orders"]
    assert sum(r["rate"] for r in rows) == pytest.approx(sum(r["count"] for r in rows) / shipped)
    rows = rows_of(stats(desk, "returns", *PERIOD, "--by", "category", "--user", "analyst", "--json"))
    frame = expected(desk, lambda db, u: returns.rates_by(db, u, MARCH, "category"))
    assert [(r["key"], r["count"], r["base"]) for r in rows] == list(
        frame[["key", "units_returned", "units_sold"]].itertuples(index=False, name=None))


def test_readable_text_without_json(desk):
    run = stats(desk, "voids", *PERIOD, "--grain", "month", "--user", "analyst")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].split() == ["period", "key", "count", "value", "rate"]
    assert "2024-03-01" in run.stdout and "%" in run.stdout


@pytest.mark.parametrize("args, words", [
    (["voids", "--user", "ops"], "dashboards"),
    (["voids", "--by", "colour", "--user", "analyst"], "colour"),
    (["returns", "--by", "rep", "--user", "analyst"], "rep"),
    (["voids", "--grain", "year", "--user", "analyst"], "year"),
    (["voids", "--from", "2024-04-01", "--to", "2024-03-01", "--user", "analyst"], "2024-04-01"),
    (["voids"], "--user"),
])
def test_refusals_exit_1_with_one_line(desk, args, words):
    run = stats(desk, *args)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("error: ") and len(run.stderr.strip().splitlines()) == 1 and words in run.stderr
