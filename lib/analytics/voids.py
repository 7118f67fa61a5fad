"""The void dashboard's numbers (SPEC §8): KPIs against the previous period, trend, Pareto, rates, heat map,
time to void and approval turnaround. All aggregation runs in DuckDB; results are small DataFrames.

A void counts when it is in effect (status 'applied'): restored voids were undone, rejected and pending ones
never took effect. With basis "event" a void is dated by when it was applied, with "order" by its order's
creation. The orders behind a rate are the orders created in the period (same warehouse / rep / category filters).
With the filters' labels "recorded", the `reason_code` of trend and Pareto rows (and of spikes) is the reason's
"as recorded" key (see lib.analytics.filters) and `reason_labels` maps those keys.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from lib.analytics import _rates
from lib.analytics._base import language, prepare, reason_labels_in, snapshot
from lib.analytics._sql import Span, load_voids, orders_cte, period_sql, reasons_sql, scope_sql, span, voids_select
from lib.analytics.filters import DIMENSIONS, AnalyticsFilters, check_dimension, check_grain
from lib.db import Database, analytics_db
from lib.domain import User

RANKING_METHOD_KEY = "analytics.ranking_wilson"
BUCKETS = ("lt_1h", "1h_1d", "1d_3d", "3d_7d", "gt_7d")
BUCKET_HOURS = (1, 24, 72, 168)          # upper bounds of all buckets but the last
KPI_KEYS = ("orders", "voids", "void_rate", "voided_value", "refunds_owed", "stock_released")


@dataclass
class VoidDashboard:
    """Everything the void dashboard shows, read from one snapshot."""
    filters: AnalyticsFilters
    grain: str
    lang: str
    kpis: dict
    trend: pd.DataFrame
    pareto: pd.DataFrame
    rates: dict[str, pd.DataFrame]          # dimension -> rates_by frame
    heatmap: pd.DataFrame
    time_to_void: pd.DataFrame
    time_to_void_median_hours: float | None
    approval: dict
    reason_labels: dict[str, tuple[str, str]]   # reason code (or "as recorded" key) -> (label_en, label_zh)
    spikes: list = field(default_factory=list)


# --- public queries --------------------------------------------------------------------------

@contextmanager
def _voids_of(db: Database, f: AnalyticsFilters):
    """(cursor, span) in one snapshot, with the period's counting voids loaded as the temporary table `vs`."""
    with snapshot(db) as cur:
        s = span(cur, f)
        load_voids(cur, f, s)
        yield cur, s


def kpis(db: Database, user: User, f: AnalyticsFilters) -> dict:
    """{"current": {...}, "previous": {...}} with the KPI_KEYS of each period (void_rate None without orders)."""
    f = prepare(user, f)
    with _voids_of(db, f) as (cur, s):
        return _kpis_both(cur, f, s)


def trend(db: Database, user: User, f: AnalyticsFilters, grain: str) -> pd.DataFrame:
    """[period, reason_code, voids, value] per day / week (Monday) / month and reason."""
    f, grain = prepare(user, f), check_grain(grain)
    with _voids_of(db, f) as (cur, _):
        return _trend(cur, grain)


def orders_by_period(db: Database, user: User, f: AnalyticsFilters, grain: str) -> pd.DataFrame:
    """[period, orders]: orders created per day / week / month of the period (the base of a void rate trend)."""
    f, grain = prepare(user, f), check_grain(grain)
    with snapshot(db) as cur:
        po, params = orders_cte(f, span(cur, f))
        return cur.execute(f"""WITH {po} SELECT {period_sql(grain, 'created_at')} AS period, count(*) AS orders
                               FROM po GROUP BY 1 ORDER BY 1""", params).df()


def pareto(db: Database, user: User, f: AnalyticsFilters) -> pd.DataFrame:
    """[reason_code, voids, share, cumulative_share], most voids first."""
    f = prepare(user, f)
    with _voids_of(db, f) as (cur, _):
        return pareto_of(_trend(cur, "month"))


def rates_by(db: Database, user: User, f: AnalyticsFilters, dimension: str, limit: int = 15,
             lang: str | None = None) -> pd.DataFrame:
    """[key, label, orders, voids, rate, score] per dimension value, ranked by score (see RANKING_METHOD_KEY).

    category: an order counts in every category it has a line in; sku: the orders containing the SKU. With a
    category filter only those categories (and their SKUs) are listed.
    """
    f, dimension = prepare(user, f), check_dimension(dimension)
    with _voids_of(db, f) as (cur, s):
        if dimension == "category":
            return _rates.rates_category(_rates.heat_cells(cur, f, s, language(user, lang)), limit)
        return _rates_one(cur, f, s, dimension, language(user, lang), limit)


def heatmap(db: Database, user: User, f: AnalyticsFilters, lang: str | None = None) -> pd.DataFrame:
    """[category, label, month, orders, voids, rate] per category and month (orders by creation month)."""
    f = prepare(user, f)
    with _voids_of(db, f) as (cur, s):
        return _rates.heat_cells(cur, f, s, language(user, lang))


def time_to_void(db: Database, user: User, f: AnalyticsFilters) -> pd.DataFrame:
    """[bucket, voids] for the BUCKETS of time from the order's creation to the void request."""
    f = prepare(user, f)
    with _voids_of(db, f) as (cur, _):
        return _time_to_void(cur)[0]


def time_to_void_median_hours(db: Database, user: User, f: AnalyticsFilters) -> float | None:
    """Median hours from the order's creation to the void request (None without voids)."""
    f = prepare(user, f)
    with _voids_of(db, f) as (cur, _):
        return _time_to_void(cur)[1]


def approval_turnaround(db: Database, user: User, f: AnalyticsFilters) -> dict:
    """Requests needing approval decided in the period: decided, median_hours, p90_hours, approved, rejected;
    plus pending_now (waiting today, whatever the period)."""
    f = prepare(user, f)
    with snapshot(db) as cur:
        return _approval(cur, f, span(cur, f))


def reason_labels(db: Database, kind: str = "void", labels: str = "current") -> dict[str, tuple[str, str]]:
    """code -> (label_en, label_zh) from the catalogue; retired codes no longer in it keep their latest copied label.

    labels "recorded": "as recorded" key -> the labels as the records carry them.
    """
    with analytics_db(db).read() as cur:
        return reason_labels_in(cur, kind, labels)


def dashboard(db: Database, user: User, f: AnalyticsFilters, grain: str = "week",
              lang: str | None = None) -> VoidDashboard:
    """Every figure of the void dashboard from one snapshot (the app caches it: lib.ui.cached)."""
    from lib.analytics.spikes import void_spikes

    f, grain, lang = prepare(user, f), check_grain(grain), language(user, lang)
    with _voids_of(db, f) as (cur, s):
        cells = _rates.heat_cells(cur, f, s, lang)
        rates = {d: (_rates.rates_category(cells, 15) if d == "category" else _rates_one(cur, f, s, d, lang, 15))
                 for d in DIMENSIONS}
        trend_ = _trend(cur, grain)
        buckets, median = _time_to_void(cur)
        return VoidDashboard(
            filters=f, grain=grain, lang=lang, kpis=_kpis_both(cur, f, s), trend=trend_, pareto=pareto_of(trend_),
            rates=rates, heatmap=cells, time_to_void=buckets, time_to_void_median_hours=median,
            approval=_approval(cur, f, s), reason_labels=reason_labels_in(cur, "void", f.labels),
            spikes=void_spikes(cur, f))


def pareto_of(trend_frame: pd.DataFrame) -> pd.DataFrame:
    """The Pareto table from a trend frame (its periods summed per reason)."""
    r = trend_frame.groupby("reason_code", as_index=False)["voids"].sum()
    r = r.sort_values(["voids", "reason_code"], ascending=[False, True]).reset_index(drop=True)
    total = r["voids"].sum()
    r["voids"] = r["voids"].astype("int64")
    r["share"] = r["voids"] / total if total else 0.0
    r["cumulative_share"] = r["voids"].cumsum() / total if total else 0.0
    return r[["reason_code", "voids", "share", "cumulative_share"]]


# --- SQL (over the temporary table `vs` of the current period) -----------------------------------

def _rates_one(cur, f: AnalyticsFilters, s: Span, dimension: str, lang: str, limit: int) -> pd.DataFrame:
    if dimension == "sku":
        return _rates.rates_sku(cur, f, s, limit)
    return _rates.rates_simple(cur, f, s, dimension, lang, limit)


def _kpis_both(cur, f: AnalyticsFilters, s: Span) -> dict:
    """The current period from `vs`; the previous one computes its own voids."""
    before = f.previous()
    return {"current": _kpis(cur, f, s), "previous": _kpis(cur, before, span(cur, before), own_voids=True)}


def _kpis(cur, f: AnalyticsFilters, s: Span, own_voids: bool = False) -> dict:
    """One period's KPIs over `vs`, or (own_voids) over that period's voids selected here."""
    po, p1 = orders_cte(f, s)
    vs, p2 = voids_select(f, s) if own_voids else ("", [])
    ctes = f"{po}, vs AS MATERIALIZED ({vs})" if own_voids else po   # a CTE named vs hides the temporary table
    row = cur.execute(f"""WITH {ctes}
        SELECT (SELECT count(*) FROM po), (SELECT count(*) FROM vs), (SELECT sum(total) FROM vs),
               (SELECT sum(r.amount) FROM refunds r WHERE r.source = 'void' AND r.status = 'pending'
                  AND r.source_id IN (SELECT id FROM vs)),
               (SELECT sum(l.qty - l.qty_shipped) FROM order_lines l
                WHERE l.order_id BETWEEN ? AND ? AND l.order_id IN (SELECT order_id FROM vs))""",
                      p1 + p2 + [s.lo, s.hi]).fetchall()[0]
    orders, voids, value, owed, units = row
    return {"orders": int(orders), "voids": int(voids), "void_rate": voids / orders if orders else None,
            "voided_value": value or 0, "refunds_owed": owed or 0, "stock_released": int(units or 0)}


def _trend(cur, grain: str) -> pd.DataFrame:
    return cur.execute(f"""SELECT {period_sql(grain, 'dated')} AS period, reason_code, count(*) AS voids,
               sum(total) AS value
        FROM vs GROUP BY ALL ORDER BY period, reason_code""").df()


def _time_to_void(cur) -> tuple[pd.DataFrame, float | None]:
    bounds = (None,) + BUCKET_HOURS + (None,)
    counts = ", ".join(
        "count(*) FILTER (WHERE " + " AND ".join(
            ([f"h >= {lo}"] if lo is not None else []) + ([f"h < {hi}"] if hi is not None else []) or ["TRUE"]) + ")"
        for lo, hi in zip(bounds, bounds[1:]))
    row = cur.execute(f"""WITH d AS (SELECT date_diff('microsecond', ordered_at, requested_at) / 3.6e9 AS h FROM vs)
        SELECT median(h), {counts} FROM d""").fetchall()[0]
    frame = pd.DataFrame({"bucket": list(BUCKETS), "voids": [int(n) for n in row[1:]]})
    return frame, (float(row[0]) if row[0] is not None else None)


def _approval(cur, f: AnalyticsFilters, s: Span) -> dict:
    lo, hi = _decided_orders(cur, f, s)
    scope, p1 = scope_sql(f, lo, hi)
    reasons, p2 = reasons_sql(f, "v.reason_code")
    at = "v.decided_at" if f.basis == "event" else "o.created_at"
    row = cur.execute(f"""SELECT count(*), median(h), quantile_cont(h, 0.9),
               count(*) FILTER (WHERE status <> 'rejected'), count(*) FILTER (WHERE status = 'rejected')
        FROM (SELECT v.status, date_diff('microsecond', v.requested_at, v.decided_at) / 3.6e9 AS h
              FROM voids v JOIN orders o ON o.id = v.order_id
              WHERE v.needs_approval AND v.decided_at IS NOT NULL AND {at} >= ? AND {at} < ?
                AND o.id BETWEEN ? AND ? AND {reasons} AND {scope})""",
                      [s.start, s.end, lo, hi] + p2 + p1).fetchall()[0]
    decided, median, p90, approved, rejected = row
    return {"decided": int(decided), "median_hours": _float(median), "p90_hours": _float(p90),
            "approved": int(approved), "rejected": int(rejected), "pending_now": _pending_now(cur, f)}


def _decided_orders(cur, f: AnalyticsFilters, s: Span) -> tuple[int, int]:
    """The order-id range of the requests decided in the period (by order date: the period's own range)."""
    if f.basis != "event":
        return s.lo, s.hi
    lo, hi = cur.execute("SELECT min(order_id), max(order_id) FROM voids WHERE decided_at >= ? AND decided_at < ?",
                         [s.start, s.end]).fetchall()[0]
    return (0, -1) if lo is None else (lo, hi)


def _pending_now(cur, f: AnalyticsFilters) -> int:
    lo, hi = cur.execute("SELECT min(order_id), max(order_id) FROM voids WHERE status = 'pending_approval'").fetchall()[0]
    if lo is None:
        return 0
    scope, p1 = scope_sql(f, lo, hi)
    reasons, p2 = reasons_sql(f, "v.reason_code")
    return int(cur.execute(f"""SELECT count(*) FROM voids v JOIN orders o ON o.id = v.order_id
        WHERE v.status = 'pending_approval' AND {reasons} AND {scope}""", p2 + p1).fetchall()[0][0])


def _float(value) -> float | None:
    return None if value is None else float(value)
