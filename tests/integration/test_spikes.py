"""Spike alerts (SPEC §8): the pure detector on made-up weekly counts, and on seeded demo data with its planted spike."""
import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from lib.analytics import spikes
from lib.analytics.filters import AnalyticsFilters
from lib.analytics.spikes import find_spikes, poisson_quantile
from lib.db import Database, apply_migrations, rows_as_dicts
from lib.errors import InvalidInput
from lib.seed import seed
from lib.services.auth import user_from_row

MONDAY = date(2024, 1, 1)
WEEKS = [MONDAY + timedelta(weeks=k) for k in range(30)]


def frame(series: dict[str, list[int]], weeks=WEEKS) -> pd.DataFrame:
    return pd.DataFrame([(r, w, c) for r, counts in series.items() for w, c in zip(weeks, counts)],
                        columns=["reason_code", "week", "count"])


def noisy(rng, mean: float, n: int = 30) -> list[int]:
    """Poisson counts whose mean itself wobbles from week to week (as real counts do)."""
    return [int(c) for c in rng.poisson(mean * rng.gamma(20, 1 / 20, n))]


def test_an_injected_spike_is_found_with_the_numbers_behind_it():
    rng = np.random.default_rng(1)
    a, b = noisy(rng, 40), noisy(rng, 20)
    a[20] = 130
    [spike] = find_spikes(frame({"a": a, "b": b}), WEEKS[20])
    base = a[12:20]
    mean = sum(base) / 8
    sd = math.sqrt(sum((x - mean) ** 2 for x in base) / 7)
    assert (spike.reason_code, spike.week, spike.count) == ("a", WEEKS[20], 130)
    assert spike.baseline_mean == pytest.approx(mean, abs=0.01) and spike.baseline_sd == pytest.approx(sd, abs=0.01)
    assert spike.threshold >= max(math.floor(mean + 3 * sd) + 1, poisson_quantile(mean) + 1, 10)
    ratio = b[20] / (sum(b[12:20]) / 8)            # the other reason's volume went up: so does the expectation
    assert spike.expected == pytest.approx(mean * max(ratio, 1), abs=0.01)
    assert spike.count >= spike.threshold and spike.score > 3
    assert find_spikes(frame({"a": a, "b": b}), WEEKS[21] + timedelta(days=3)) == []   # the week after: calm


def test_a_steady_noisy_series_is_not_flagged():
    rng = np.random.default_rng(0)
    weekly = frame({"a": noisy(rng, 40), "b": noisy(rng, 12), "c": noisy(rng, 3)})
    assert [s for w in WEEKS[8:] for s in find_spikes(weekly, w)] == []


def test_false_alarms_on_steady_series_stay_rare():
    flags = tests = 0
    for seed_ in range(60):
        rng = np.random.default_rng(100 + seed_)
        weekly = frame({"a": noisy(rng, 40), "b": noisy(rng, 12), "c": noisy(rng, 3)})
        for w in WEEKS[8:]:
            tests += 3
            flags += len(find_spikes(weekly, w))
    assert flags / tests < 0.01


def test_too_short_a_history_flags_nothing():
    weekly = frame({"a": [5, 6, 5, 4, 6, 90]}, WEEKS[:6])
    assert find_spikes(weekly, WEEKS[5]) == []
    assert find_spikes(weekly, WEEKS[5], baseline_weeks=4)[0].reason_code == "a"
    longer = frame({"a": [5, 6, 5, 4, 6, 5, 4, 6, 90]}, WEEKS[:9])
    assert find_spikes(longer, WEEKS[8], first_week=WEEKS[3]) == []   # data only started in week 3


def test_weeks_without_rows_count_as_zero_and_small_counts_never_flag():
    weekly = frame({"new": [0] * 10 + [25], "rare": [0] * 10 + [6]}, WEEKS[:11])
    weekly = weekly[weekly["count"] > 0]                      # the database returns no row for an empty week
    weekly = pd.concat([weekly, frame({"steady": [30] * 11}, WEEKS[:11])])
    assert [s.reason_code for s in find_spikes(weekly, WEEKS[10])] == ["new"]


def test_a_busy_week_for_every_reason_flags_none_but_one_reason_alone_does():
    rng = np.random.default_rng(3)
    series = {r: [int(c) for c in rng.poisson(mean, 30)] for r, mean in (("a", 60), ("b", 40), ("c", 30))}
    festival = {r: c[:20] + [round(c[20] * 1.8)] + c[21:] for r, c in series.items()}
    assert find_spikes(frame(festival), WEEKS[20]) == []
    flat = {w: 1 for w in WEEKS}                       # judged on raw counts alone, every reason would be flagged
    assert len(find_spikes(frame(festival), WEEKS[20], volume=flat)) == 3
    alone = dict(series, a=festival["a"])
    assert [s.reason_code for s in find_spikes(frame(alone), WEEKS[20])] == ["a"]


@pytest.mark.parametrize("mean", [0.5, 3, 10, 42.5, 300])
def test_poisson_quantile_is_the_smallest_count_with_enough_probability(mean):
    k = poisson_quantile(mean, 0.999)
    cdf = lambda n: sum(math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1)) for i in range(n + 1))  # noqa: E731
    assert cdf(k) >= 0.999 > cdf(k - 1)


def test_poisson_quantile_of_a_huge_mean_uses_the_normal_approximation():
    assert abs(poisson_quantile(5000, 0.999) - (5000 + 3.09 * math.sqrt(5000))) < 3


# --- on seeded demo data -------------------------------------------------------------------------

TODAY = date(2025, 9, 7)                                       # a Sunday
SPIKE_WEEK = TODAY - timedelta(days=TODAY.weekday() + 21)      # where lib.seed plants the out-of-stock spike


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = Database(str(tmp_path_factory.mktemp("spikes") / "demo.duckdb"))
    apply_migrations(db)
    seed(db, orders=20_000, seed=7, today=TODAY)
    with db.read() as cur:
        analyst = user_from_row(rows_as_dicts(cur, "SELECT id, username, display_name, role, language,"
                                                   " must_change_password FROM users WHERE username = 'analyst'")[0])
    yield db, analyst
    db.close()


def test_the_planted_spike_is_the_only_flag_in_the_default_period(demo):
    db, analyst = demo
    found = spikes.spikes(db, analyst, AnalyticsFilters.default(TODAY))
    assert [(s.reason_code, s.week) for s in found] == [("out_of_stock", SPIKE_WEEK)]
    assert found[0].count >= found[0].threshold >= 10


def test_two_years_of_demo_data_flag_only_the_planted_spike(demo):
    db, analyst = demo
    found = spikes.spikes(db, analyst, AnalyticsFilters(TODAY - timedelta(days=700), TODAY))
    assert [(s.reason_code, s.week) for s in found] == [("out_of_stock", SPIKE_WEEK)]


def test_filters_narrow_the_counts_behind_the_alerts(demo):
    db, analyst = demo
    f = AnalyticsFilters.default(TODAY)
    assert [s.reason_code for s in spikes.spikes(db, analyst, replace(f, warehouses=("GZ",)))] == ["out_of_stock"]
    assert spikes.spikes(db, analyst, replace(f, reasons=("customer_cancelled", "order_error"))) == []
    assert spikes.spikes(db, analyst, f, kind="return") == []


def test_the_dashboard_carries_the_same_alerts(demo):
    from lib.analytics import voids

    db, analyst = demo
    f = AnalyticsFilters.default(TODAY)
    assert voids.dashboard(db, analyst, f).spikes == spikes.spikes(db, analyst, f)


def test_an_unknown_kind_is_refused(demo):
    db, analyst = demo
    with pytest.raises(InvalidInput):
        spikes.spikes(db, analyst, AnalyticsFilters.default(TODAY), kind="refunds")


def test_explore_splits_these_voids_by_category_without_upsetting_duckdb(demo):
    # Regression: joining every void to category_bits on its order's bits made DuckDB 2.0.0 fail with an internal
    # error on this data (20,000 orders, not on smaller books), which invalidated the database for the process.
    from lib.analytics.explore import pivot

    db, analyst = demo
    f = AnalyticsFilters.default(TODAY)
    for measure in ("voids", "void_rate", "orders"):
        frame = pivot(db, analyst, ["category"], measure, "month", f)
        assert len(frame) and frame[measure].notna().any(), measure
    by_month = pivot(db, analyst, ["category"], "voids", "month", f)
    alone = pivot(db, analyst, ["category"], "voids", None, f)
    assert by_month["voids"].sum() == alone["voids"].sum() > 0


def test_after_an_internal_error_of_duckdb_the_next_cursor_opens_the_file_afresh(demo):
    # The query Explore used to send (see above) still trips DuckDB 2.0.0 on this data: DuckDB then refuses every
    # statement of the process ("must be restarted"); lib.db reopens the file for the next unit of work.
    import duckdb

    db, analyst = demo
    tripping = """SELECT cb.code, count(*) FROM voids v JOIN orders o ON o.id = v.order_id
        JOIN category_bits cb ON (o.category_mask >> cb.bit) & 1 = 1
        WHERE v.status = 'applied' AND v.applied_at >= ? AND v.applied_at < ? GROUP BY ALL"""
    start, end = AnalyticsFilters.default(TODAY).bounds()
    with db.read() as cur:
        orders = cur.execute("SELECT count(*) FROM orders").fetchall()[0][0]
        with pytest.raises(duckdb.Error):
            cur.execute(tripping, [start, end]).fetchall()
        with pytest.raises(duckdb.FatalException):
            cur.execute("SELECT 1").fetchall()
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM orders").fetchall()[0][0] == orders
    assert spikes.spikes(db, analyst, AnalyticsFilters.default(TODAY))   # and analytics work again
