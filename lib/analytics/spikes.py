"""Spike alerts (SPEC §8): a reason whose weekly count is far above its own recent baseline.

Method (METHOD_KEY): for each reason and week, take the previous `baseline_weeks` weekly counts (weeks without
any are 0). The week is flagged when its count reaches max(⌊mean + 3·sd⌋ + 1, Poisson 99.9% quantile of the
mean + 1, 10) of those counts, and also that threshold with mean and sd scaled up by the week's volume over the
baseline's (the other reasons' total, unless a volume is given) — so a festival week that lifts every reason
flags none. Weeks are dated by the event (void applied, return note
created) whatever the dashboard's basis, and need a full baseline of history.

Spikes are judged per reason code in both label modes: renaming a reason changes no one's behaviour, and judged
per "as recorded" label the new name would start from an empty baseline and be flagged. With labels "recorded" a
spike carries the key of the labels most of that week's records were made with.
"""
import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd

from lib.analytics._base import prepare, snapshot
from lib.analytics._sql import (code_of_key_sql, period_sql, reason_sql, reasons_sql, returns_select, span, unscoped,
                                voids_select)
from lib.analytics.filters import AnalyticsFilters
from lib.db import Database
from lib.domain import User
from lib.errors import InvalidInput

METHOD_KEY = "analytics.spike_method"
BASELINE_WEEKS = 8
MIN_COUNT = 10
SD_FACTOR = 3.0
QUANTILE = 0.999
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Spike:
    reason_code: str
    week: date               # Monday
    count: int
    baseline_mean: float     # mean of the previous weeks' raw counts
    baseline_sd: float
    threshold: int           # the count at which the week is flagged (the higher of the raw and the scaled test)
    score: float             # (count - expected) / max(scaled sd, √expected, 1)
    expected: float | None = None   # the baseline mean scaled up to this week's volume (when it is higher)


def poisson_quantile(mean: float, q: float = QUANTILE) -> int:
    """The smallest k with P(X ≤ k) ≥ q for X ~ Poisson(mean)."""
    if mean <= 0:
        return 0
    k, term = 0, math.exp(-mean) if mean < 700 else 0.0
    if term == 0.0:   # far in the normal regime: its approximation is plenty
        return int(math.ceil(mean + 3.1 * math.sqrt(mean)))
    total = term
    while total < q:
        k += 1
        term *= mean / k
        total += term
    return k


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def windows(week: date, baseline_weeks: int = BASELINE_WEEKS) -> tuple[tuple[date, date], tuple[date, date]]:
    """(baseline weeks, the week): the two periods a spike of `week` is judged on, as (first, last) days."""
    start = monday(pd.Timestamp(week).date())
    return (start - WEEK * baseline_weeks, start - timedelta(days=1)), (start, start + timedelta(days=6))


def find_spikes(weekly: pd.DataFrame, as_of_week: date, baseline_weeks: int = BASELINE_WEEKS, *,
                volume: dict | None = None, first_week: date | None = None, min_count: int = MIN_COUNT,
                sd_factor: float = SD_FACTOR, quantile: float = QUANTILE) -> list[Spike]:
    """The reasons flagged in `as_of_week` from weekly [reason_code, week, count] rows (pure; no database).

    A reason must clear the threshold of its raw baseline and of that baseline scaled by the week's volume over
    the baseline weeks' mean volume: by default the other reasons' total (`volume` may give week -> volume). `first_week` is the
    first week with data (default: the earliest in `weekly`); with fewer than `baseline_weeks` weeks of history
    before `as_of_week` nothing is flagged.
    """
    if weekly.empty:
        return []
    return _find(_counts(weekly), as_of_week, baseline_weeks, volume, first_week, (min_count, sd_factor, quantile))


def _counts(weekly: pd.DataFrame) -> dict[tuple[str, date], int]:
    rows = weekly[["reason_code", "week", "count"]].itertuples(index=False)
    return {(r, pd.Timestamp(w).date()): int(c) for r, w, c in rows}


def _find(counts: dict, as_of_week: date, baseline_weeks: int, volume: dict | None, first_week: date | None,
          rule: tuple) -> list[Spike]:
    if not counts:
        return []
    as_of = monday(pd.Timestamp(as_of_week).date())
    start = monday(first_week) if first_week else min(w for _, w in counts)
    baseline = [as_of - WEEK * k for k in range(1, baseline_weeks + 1)]
    if baseline_weeks < 2 or baseline[-1] < start:
        return []
    reasons = sorted({r for r, _ in counts})
    weeks = [as_of] + baseline
    totals = {w: sum(counts.get((r, w), 0) for r in reasons) for w in weeks}
    found = []
    for reason in reasons:
        series = [counts.get((reason, w), 0) for w in weeks]
        scale = volume or {w: totals[w] - n for w, n in zip(weeks, series)}   # the other reasons' volume
        spike = _judge(reason, as_of, series[0], series[1:], _ratio(scale, as_of, baseline), *rule)
        if spike:
            found.append(spike)
    return sorted(found, key=lambda s: -s.score)


def _ratio(volume: dict, as_of: date, baseline: list[date]) -> float | None:
    """This week's volume over the baseline weeks' mean volume (None when unknown or zero)."""
    now, before = volume.get(as_of) or 0, [volume.get(w) or 0 for w in baseline]
    mean = sum(before) / len(before)
    return now / mean if now > 0 and mean > 0 else None


def _threshold(mean: float, sd: float, min_count, sd_factor, quantile) -> int:
    return max(math.floor(mean + sd_factor * sd) + 1, poisson_quantile(mean, quantile) + 1, min_count)


def _judge(reason, week, count, base: list[int], ratio: float | None, min_count, sd_factor,
           quantile) -> Spike | None:
    """Flag when the count clears the threshold of the raw baseline and of the baseline times the volume ratio."""
    mean = sum(base) / len(base)
    sd = math.sqrt(sum((b - mean) ** 2 for b in base) / (len(base) - 1))
    expected, spread = (mean * ratio, sd * ratio) if ratio and ratio > 1 else (mean, sd)
    threshold = max(_threshold(mean, sd, min_count, sd_factor, quantile),
                    _threshold(expected, spread, min_count, sd_factor, quantile))
    if count < threshold:
        return None
    score = (count - expected) / max(spread, math.sqrt(expected), 1.0)
    return Spike(reason, week, count, round(mean, 2), round(sd, 2), int(threshold), round(score, 2),
                 round(expected, 2))


# --- from the database ----------------------------------------------------------------------

def spikes(db: Database, user: User, f: AnalyticsFilters, kind: str = "void") -> list[Spike]:
    """Spikes in the weeks of the period (filters apply; newest week first, then by score)."""
    f = prepare(user, f)
    if kind not in ("void", "return"):
        raise InvalidInput("analytics.bad_kind", value=str(kind)[:40], allowed="void, return")
    with snapshot(db) as cur:
        return void_spikes(cur, f) if kind == "void" else return_spikes(cur, f)


def void_spikes(cur, f: AnalyticsFilters) -> list[Spike]:
    """Spikes of applied voids per reason (inside an open snapshot)."""
    wide = _widened(f)
    if unscoped(wide):   # no filter on orders: the voids table alone has the counts
        reasons, params = reasons_sql(wide, "v.reason_code")
        sql = f"""SELECT {reason_sql(wide, 'v')} AS reason_code, applied_at AS dated FROM voids v
                  WHERE status = 'applied' AND applied_at >= ? AND applied_at < ? AND {reasons}"""
        params = list(wide.bounds()) + params
    else:
        sql, params = voids_select(wide, span(cur, wide))
    return _scan(cur, f, sql, params)


def return_spikes(cur, f: AnalyticsFilters) -> list[Spike]:
    """Spikes of return notes per reason (inside an open snapshot)."""
    wide = _widened(f)
    if unscoped(wide):
        reasons, params = reasons_sql(wide, "n.reason_code")
        sql = f"""SELECT {reason_sql(wide, 'n')} AS reason_code, created_at AS dated FROM return_notes n
                  WHERE created_at >= ? AND created_at < ? AND {reasons}"""
        params = list(wide.bounds()) + params
    else:
        sql, params = returns_select(wide, span(cur, wide, "return"))
    return _scan(cur, f, sql, params)


def _widened(f: AnalyticsFilters) -> AnalyticsFilters:
    """Whole weeks from the baseline before the period's first week to its last week, dated by the event."""
    return replace(f, basis="event", date_from=monday(f.date_from) - WEEK * BASELINE_WEEKS,
                   date_to=monday(f.date_to) + timedelta(days=6))


def _scan(cur, f: AnalyticsFilters, events_sql: str, params: list) -> list[Spike]:
    """Weekly counts per reason of `events_sql` (reason_code, dated), judged week by week over the period."""
    weekly, keys = _weekly(cur, f, events_sql, params)
    counts = _counts(weekly)
    first = cur.execute("SELECT CAST(min(created_at) AS DATE) FROM orders").fetchall()[0][0]
    found, week = [], monday(f.date_to)
    while week >= monday(f.date_from):
        found += _find(counts, week, BASELINE_WEEKS, None, monday(first) if first else None,
                       (MIN_COUNT, SD_FACTOR, QUANTILE))
        week -= WEEK
    return [replace(s, reason_code=keys[(s.reason_code, s.week)]) for s in found] if keys else found


def _weekly(cur, f: AnalyticsFilters, events_sql: str, params: list) -> tuple[pd.DataFrame, dict]:
    """[reason_code, week, count] per code and week; with labels "recorded" also (code, week) -> the week's most
    used "as recorded" key (events_sql then yields keys as reason_code)."""
    week = period_sql("week", "dated")
    if f.labels != "recorded":
        sql = f"SELECT reason_code, {week} AS week, count(*) AS count FROM ({events_sql}) GROUP BY ALL"
        return cur.execute(sql, params).df(), {}
    weekly = cur.execute(f"""WITH k AS (SELECT reason_code AS key, {week} AS week, count(*) AS n FROM ({events_sql})
                                       GROUP BY ALL)
        SELECT {code_of_key_sql('key')} AS reason_code, week, sum(n) AS count, arg_max(key, n) AS key
        FROM k GROUP BY 1, 2""", params).df()
    rows = weekly[["reason_code", "week", "key"]].itertuples(index=False)
    keys = {(r, pd.Timestamp(w).date()): k for r, w, k in rows}
    return weekly, keys
